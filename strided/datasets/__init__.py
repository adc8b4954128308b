"""``keras.datasets``: mnist, fashion_mnist, cifar10, cifar100, plus malaria (seed 002's TFDS data set).

Each module has ``load_data()`` returning Keras's NumPy tuples. Files are found locally first
(``$STRIDED_DATA_DIR/<name>/``, Keras's cache ``~/.keras/datasets``, the repository's ``data/``) and only
downloaded when absent; see ``strided.datasets._files``.
"""

from strided.utils.lazy_module import lazy_attributes

_MODULES = ("mnist", "fashion_mnist", "cifar10", "cifar100", "malaria")

__getattr__, __dir__ = lazy_attributes(__name__, submodules=_MODULES)


__all__ = list(_MODULES)
