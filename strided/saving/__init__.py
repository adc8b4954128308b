"""Saving and loading: ``.keras`` (Keras 3), ``.weights.h5``, Keras 2 ``.h5``, JSON configs.

Public functions: ``save_model``, ``load_model``, ``save_weights``, ``load_weights``,
``serialize_keras_object``, ``deserialize_keras_object``, ``model_to_json``, ``model_from_json``,
``clone_model``; ``KerasFileEditor`` inspects and edits weight files.

``saving/serialization_lib.py`` sits low in the package (layers import it to write and read their
sublayers' configs), so this package's own names from the modules above the models are resolved on
first use, through the table below, and importing ``strided.saving.serialization_lib`` imports no model.
"""

from strided.saving.serialization_lib import deserialize_keras_object, serialize_keras_object
from strided.utils.lazy_module import lazy_attributes
from strided.utils.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

# name -> the module above the models that defines it
_LAZY = {
    "KerasFileEditor": "strided.saving.file_editor",
    "load_model": "strided.saving.saving_api",
    "load_weights": "strided.saving.saving_api",
    "save_model": "strided.saving.saving_api",
    "save_weights": "strided.saving.saving_api",
    "clone_model": "strided.saving.serialization",
    "model_from_json": "strided.saving.serialization",
    "model_to_json": "strided.saving.serialization",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "model_to_json",
    "model_from_json",
    "clone_model",
    "serialize_keras_object",
    "deserialize_keras_object",
    "register_keras_serializable",
    "get_custom_objects",
    "custom_object_scope",
    "CustomObjectScope",
    "get_registered_name",
    "get_registered_object",
    "KerasFileEditor",
]
