"""Data: the one home of input pipelines.

``Dataset`` has the ``tf.data`` methods Keras programs chain (``from strided import data as tf_data``;
``tf_data.AUTOTUNE``). What ``fit``/``evaluate``/``predict`` accept (``data_adapter``: arrays, datasets,
generators, ``PyDataset``), batched datasets (``dataset``), the directory datasets for images, audio and text
on one listing base (``directory``, ``image_dataset``, ``audio_dataset``, ``text_dataset``), time series windows
(``timeseries``), image files (``image_utils``), downloads (``files``) and batched on-device augmentation
(``augmentation``).
Submodules load on first use.
"""

import importlib
import types

from strided.utils.lazy_module import lazy_attributes

_LAZY = {
    "Dataset": "strided.data.dataset",
    "AUTOTUNE": "strided.data.dataset",
    "INFINITE_CARDINALITY": "strided.data.dataset",
    "UNKNOWN_CARDINALITY": "strided.data.dataset",
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
_SUBMODULES = (
    "audio_dataset",
    "augmentation",
    "data_adapter",
    "dataset",
    "directory",
    "files",
    "image_dataset",
    "image_utils",
    "py_dataset",
    "text_dataset",
    "timeseries",
    "utils",
)


_lazy_getattr, __dir__ = lazy_attributes(__name__, _LAZY, _SUBMODULES)


def __getattr__(name):
    if name == "experimental":  # `tf.data.experimental.AUTOTUNE` / `.cardinality(ds)` in older programs
        return _experimental()
    return _lazy_getattr(name)


def _experimental():
    dataset = importlib.import_module("strided.data.dataset")
    return types.SimpleNamespace(
        AUTOTUNE=dataset.AUTOTUNE,
        INFINITE_CARDINALITY=dataset.INFINITE_CARDINALITY,
        UNKNOWN_CARDINALITY=dataset.UNKNOWN_CARDINALITY,
        cardinality=lambda ds: ds.cardinality(),
    )


__all__ = sorted(_LAZY)
