"""Data: batched datasets, directory datasets, image files, downloads and batched on-device augmentation.

Submodules load on first use (``strided.data.augmentation``, ``strided.data.directory``...).
"""
import importlib

_LAZY = {
    "ArrayDataset": "strided.data.dataset",
    "BatchDataset": "strided.data.dataset",
    "PyDataset": "strided.data.adapters",
    "Sequence": "strided.data.adapters",
    "image_dataset_from_directory": "strided.data.directory",
    "split_dataset": "strided.data.utils",
    "get_file": "strided.data.files",
    "load_img": "strided.data.image_utils",
    "img_to_array": "strided.data.image_utils",
    "array_to_img": "strided.data.image_utils",
    "save_img": "strided.data.image_utils",
}
_SUBMODULES = ("adapters", "augmentation", "dataset", "directory", "files", "image_utils", "utils")


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"strided.data.{name}")
    raise AttributeError(f"module 'strided.data' has no attribute {name!r}")


__all__ = sorted(_LAZY)
