"""Prints the coverage table of docs/keras_compat.md: Keras 3 public names per module present in strided.

Dev tool, needs real Keras: ``KERAS_BACKEND=torch .venv/bin/python tools/keras_coverage.py``.
Module entries (``keras.ops.image``...) are not counted; paste the output over the table.
"""

import importlib
import types

import keras

MODULES = [
    "layers",
    "callbacks",
    "metrics",
    "losses",
    "optimizers",
    "applications",
    "ops",
    "activations",
    "initializers",
    "regularizers",
    "constraints",
    "random",
    "saving",
    "utils",
]


def public_names(module):
    return {n for n in dir(module) if not n.startswith("_") and not isinstance(getattr(module, n), types.ModuleType)}


def main():
    print("| module | present | not in strided |")
    print("| --- | --- | --- |")
    for name in MODULES:
        theirs = public_names(getattr(keras, name))
        ours_module = importlib.import_module(f"strided.{name}")
        missing = sorted(n for n in theirs if not hasattr(ours_module, n))
        print(f"| `{name}` | {len(theirs) - len(missing)} of {len(theirs)} | {', '.join(missing) or '-'} |")


if __name__ == "__main__":
    main()
