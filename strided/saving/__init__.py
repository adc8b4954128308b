"""Saving and loading: ``.keras`` (Keras 3), ``.weights.h5``, Keras 2 ``.h5``, JSON configs.

Public functions: ``save_model``, ``load_model``, ``save_weights``, ``load_weights``,
``serialize_keras_object``, ``deserialize_keras_object``, ``model_to_json``, ``model_from_json``,
``clone_model``; ``KerasFileEditor`` inspects and edits weight files.
"""
from strided.saving.file_editor import KerasFileEditor
from strided.saving.saving_api import load_model, load_weights, save_model, save_weights
from strided.saving.serialization import clone_model, model_from_json, model_to_json
from strided.utils.object_registration import (
    CustomObjectScope, custom_object_scope, get_custom_objects, get_registered_name, get_registered_object,
    register_keras_serializable,
)


def serialize_keras_object(obj):
    """The Keras 3 config dict of a layer or model."""
    from strided.saving import serialization
    return serialization.serialize_layer(obj)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """A layer or model from its Keras config dict."""
    from strided.saving import serialization
    return serialization.deserialize_layer(config, custom_objects=custom_objects, safe_mode=safe_mode)


__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_to_json", "model_from_json",
           "clone_model", "serialize_keras_object", "deserialize_keras_object", "register_keras_serializable",
           "get_custom_objects", "custom_object_scope", "CustomObjectScope", "get_registered_name",
           "get_registered_object", "KerasFileEditor"]
