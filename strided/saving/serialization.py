"""Models to and from JSON, and ``clone_model``."""

import json

from strided.models import Model, Sequential
from strided.models.functional import functional_from_config
from strided.models.sequential import sequential_from_config
from strided.saving.serialization_lib import deserialize_layer, model_from_config, serialize_model


# ---------------------------------------------------------------------------- JSON and cloning
def model_to_json(model, **kwargs):
    """The model's architecture as a JSON string (Keras 3 layout); ``kwargs`` go to ``json.dumps``."""
    return json.dumps(serialize_model(model), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) from ``model_to_json`` output, strided's or Keras's."""
    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as e:
        raise ValueError(
            f"`model_from_json` expects a JSON string from `model.to_json()`. It could not be parsed: {e}"
        ) from None
    return model_from_config(config, custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, **kwargs):
    """A new model with the same architecture and freshly initialized weights (Keras ``clone_model``).

    Args:
        model: a Sequential or functional model.
        input_tensors: optional symbolic tensor(s) to build the clone on (functional models).
        clone_function: optional ``layer -> new layer``; default rebuilds each layer from its config.

    Returns:
        The new model (weights are not copied; use ``set_weights(model.get_weights())``).
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments passed to clone_model: {kwargs}")
    name = type(model).__name__
    if name not in ("Sequential", "Functional"):
        raise ValueError(
            "Arguments `clone_function` and `input_tensors` are only supported for Sequential "
            f"models or Functional models. Received model of type '{name}'; subclassed models "
            "cannot be cloned."
        )
    by_name = {layer.name: layer for layer in model.layers}
    if model.inputs:
        for t in model.inputs:
            by_name[t._keras_history[0].name] = t._keras_history[0]

    def make(lc):
        lname = lc.get("name") or (lc.get("config") or {}).get("name")
        original = by_name.get(lname)
        if original is None or type(original).__name__ == "InputLayer" or clone_function is None:
            return deserialize_layer(lc)
        return clone_function(original)

    config = model.get_config()
    if name == "Sequential":
        clone = sequential_from_config(config, make_layer=make)
        if input_tensors is not None:
            clone = Sequential([input_tensors] + clone.layers, name=clone.name)
        return clone
    clone = functional_from_config(config, make_layer=make)
    if input_tensors is not None:
        inputs = input_tensors if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(inputs) != len(clone.inputs):
            raise ValueError(
                f"`input_tensors` must have {len(clone.inputs)} tensor(s) for model '{model.name}'. "
                f"Received {len(inputs)}."
            )
        out = clone(inputs if len(inputs) > 1 else inputs[0])
        clone = Model(inputs if len(inputs) > 1 else inputs[0], out, name=clone.name)
    return clone
