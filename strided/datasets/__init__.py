"""``keras.datasets``: mnist, fashion_mnist, cifar10, cifar100, plus malaria (seed 002's TFDS data set).

Each module has ``load_data()`` returning Keras's NumPy tuples. Files are found locally first
(``$STRIDED_DATA_DIR/<name>/``, Keras's cache ``~/.keras/datasets``, the repository's ``data/``) and only
downloaded when absent; see ``strided.datasets._files``.
"""

import importlib

_MODULES = ("mnist", "fashion_mnist", "cifar10", "cifar100", "malaria")


def __getattr__(name):
    if name in _MODULES:
        module = importlib.import_module(f"strided.datasets.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'strided.datasets' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_MODULES))


__all__ = list(_MODULES)
