"""``python -m strided`` runs the ``strided`` command."""

import sys

from strided.cli import main

if __name__ == "__main__":  # importing the module (e.g. the API site's inspection) runs nothing
    sys.exit(main())
