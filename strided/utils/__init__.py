"""Utilities: argument validation, shape arithmetic, seeds, and Keras's `keras.utils` functions.

Names from higher layers of the package (image and data helpers) are loaded on first use, so
``strided.utils`` stays importable from the bottom of the package.
"""
import importlib

from strided.config import set_random_seed
from strided.utils import conv_utils, validation

# name -> module that defines it; resolved lazily by __getattr__ below.
_LAZY = {
    "to_categorical": "strided.utils.numerical",
    "normalize": "strided.utils.numerical",
    "Progbar": "strided.utils.progbar",
    "split_dataset": "strided.data.utils",
    "load_img": "strided.data.image_utils",
    "img_to_array": "strided.data.image_utils",
    "array_to_img": "strided.data.image_utils",
    "save_img": "strided.data.image_utils",
    "image_dataset_from_directory": "strided.data.directory",
    "plot_model": "strided.models.plot",
    "Sequence": "strided.data.adapters",
    "PyDataset": "strided.data.adapters",
    "get_file": "strided.data.files",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'strided.utils' has no attribute {name!r}")


__all__ = ["set_random_seed", "conv_utils", "validation", *_LAZY]
