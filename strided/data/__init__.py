"""Data: the one home of input pipelines.

What ``fit``/``evaluate``/``predict`` accept (``data_adapter``: arrays, datasets, generators, ``PyDataset``),
batched datasets (``dataset``), the directory datasets for images, audio and text on one listing base
(``directory``, ``image_dataset``, ``audio_dataset``, ``text_dataset``), time series windows (``timeseries``),
image files (``image_utils``), downloads (``files``) and batched on-device augmentation (``augmentation``).
Submodules load on first use.
"""
import importlib

_LAZY = {
    "ArrayDataset": "strided.data.dataset",
    "BatchDataset": "strided.data.dataset",
    "PyDataset": "strided.data.py_dataset",
    "Sequence": "strided.data.py_dataset",
    "image_dataset_from_directory": "strided.data.image_dataset",
    "audio_dataset_from_directory": "strided.data.audio_dataset",
    "text_dataset_from_directory": "strided.data.text_dataset",
    "timeseries_dataset_from_array": "strided.data.timeseries",
    "pack_x_y_sample_weight": "strided.utils.batch",
    "unpack_x_y_sample_weight": "strided.utils.batch",
    "split_dataset": "strided.data.utils",
    "get_file": "strided.data.files",
    "load_img": "strided.data.image_utils",
    "img_to_array": "strided.data.image_utils",
    "array_to_img": "strided.data.image_utils",
    "save_img": "strided.data.image_utils",
}
_SUBMODULES = ("audio_dataset", "augmentation", "data_adapter", "dataset", "directory", "files", "image_dataset",
               "image_utils", "py_dataset", "text_dataset", "timeseries", "utils")


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"strided.data.{name}")
    raise AttributeError(f"module 'strided.data' has no attribute {name!r}")


__all__ = sorted(_LAZY)
