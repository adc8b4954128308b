"""``python -m strided`` runs the ``strided`` command."""
import sys

from strided.cli import main

sys.exit(main())
