"""The parts of Keras 3's Layer API that sit beside the call path: dtype policies, output specs, build
configs, per-layer variable stores and stateless calls.

``Layer`` (layers/base.py) exposes each as a method or property and delegates here, so none of this
adds work to ``Layer.__call__``.
"""

import collections

import numpy as np
import torch
from torch.utils import _pytree as pytree

from strided import config
from strided.backend import keras_tensor as symbolic
from strided.backend.dtype_policy import DTypePolicy
from strided.saving import serialization_lib
from strided.backend.keras_tensor import KerasTensor
from strided.backend.variable import Variable
from strided.backend.variable import keras_view
from strided.utils import validation

_MIXED = ("mixed_float16", "mixed_bfloat16")


def _is_shape(s):
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer)) for d in s)


# ---------------------------------------------------------------------------- dtype policies
def dtype_policy(layer):
    """A float32 layer under a global mixed policy reports that policy (the trainer computes under it)."""
    name = layer.dtype
    if name == "float32" and config.dtype_policy() in _MIXED:
        name = config.dtype_policy()
    try:
        return DTypePolicy(name)
    except ValueError:  # an integer layer (a lookup): its dtype is both compute and variable dtype
        policy = DTypePolicy("float32")
        policy.name = name
        return policy


def set_dtype_policy(layer, value):
    name = getattr(value, "name", value)
    if name in _MIXED:
        raise ValueError(
            f"Layer '{layer.name}': strided applies mixed precision to whole models, through the "
            f"global policy: call `strided.mixed_precision.set_global_policy('{name}')` before "
            f"building the model. Received: dtype_policy={value!r}"
        )
    DTypePolicy(name)  # Keras's error for an unknown name
    if layer.built and name != layer.dtype:
        raise ValueError(
            f"Layer '{layer.name}' is already built with dtype {layer.dtype!r}; set its dtype policy "
            f"before it is built (or pass `dtype=` to its constructor). Received: dtype_policy={value!r}"
        )
    layer.dtype = name


# ---------------------------------------------------------------------------- symbolic outputs
def compute_output_spec(layer, args, kwargs):
    kwargs = dict(kwargs)
    inputs = layer._call_inputs(args, kwargs, ": `compute_output_spec` needs the call's inputs.")

    def as_spec(x):
        if isinstance(x, torch.Tensor):
            return KerasTensor(tuple(x.shape), symbolic._dtype_name(x.dtype))
        return x

    inputs = pytree.tree_map(as_spec, inputs)
    kwargs = pytree.tree_map(as_spec, kwargs)
    shapes = pytree.tree_map(
        lambda t: t.shape if isinstance(t, KerasTensor) else np.shape(t),
        inputs,
        is_leaf=lambda t: isinstance(t, KerasTensor),
    )
    if not layer.built:
        layer._maybe_build(shapes)
    kwargs.pop("training", None)
    specs = symbolic.infer_outputs(lambda x, **kw: layer._invoke(x, False, kw), (inputs,), kwargs)
    return pytree.tree_map(
        lambda pair: KerasTensor(pair[0], pair[1]),
        specs,
        is_leaf=lambda p: isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], str),
    )


# ---------------------------------------------------------------------------- build configs
def _plain_shape(shape):
    if isinstance(shape, dict):
        return {k: _plain_shape(v) for k, v in shape.items()}
    if _is_shape(shape):
        return tuple(None if d is None else int(d) for d in shape)
    if isinstance(shape, (list, tuple)):
        return [_plain_shape(s) for s in shape]
    return shape


def get_build_config(layer):
    if not layer.built:
        return None
    shape = layer.__dict__.get("_keras_build_shape")
    if shape is None:
        shape = getattr(layer, "_build_input_shape", None)
    if shape is None:
        shape = serialization_lib._build_input_shape(layer)
    if shape is None:
        try:
            inputs = getattr(layer, "inputs", None)
        except AttributeError:
            inputs = None
        if inputs:
            shape = inputs[0].shape if len(inputs) == 1 else [t.shape for t in inputs]
    if shape is None:
        return None
    return {"input_shape": _plain_shape(shape)}


def build_from_config(layer, build_config):
    if not build_config:
        return
    if "input_shape" in build_config:
        if layer.built:
            return
        shape = build_config["input_shape"]
        if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):
            shape = [tuple(s) for s in shape]
        elif isinstance(shape, list):
            shape = tuple(shape)
        layer._maybe_build(shape)
    elif "shapes_dict" in build_config:
        if layer.built:
            return
        layer.build(**{k: tuple(v) if isinstance(v, list) else v for k, v in build_config["shapes_dict"].items()})
        layer.built = True
    else:
        raise ValueError(
            f"Layer '{layer.name}': a build config holds 'input_shape' or 'shapes_dict'. "
            f"Received: config={build_config!r}"
        )


# ---------------------------------------------------------------------------- per-layer variable stores
def _own_variables(layer):
    own = layer._all_own_weights()
    return [w for w in own if w._keras_trainable] + [w for w in own if not w._keras_trainable]


def _own_arrays(layer):
    saved = getattr(layer, "_saved_arrays", None)  # a TorchModuleWrapper stores its module's state_dict
    if saved is not None:
        return list(saved())
    if not layer._sublayers():
        return layer.get_weights()  # a leaf: its get_weights is the saved form (LoRA's merged kernel...)
    return [w.numpy() for w in _own_variables(layer)]


def save_own_variables(layer, store):
    for i, value in enumerate(_own_arrays(layer)):
        store[f"{i}"] = value


def load_own_variables(layer, store):
    expected = _own_arrays(layer)
    if len(store.keys()) != len(expected):
        if not expected and not layer.built:
            raise ValueError(
                f"Layer '{layer.name}' was never built and thus it doesn't have any variables. However the weights "
                f"file lists {len(store.keys())} variables for this layer. Build it (call it on data or "
                "`build(input_shape)`) before loading, or give it a `build_from_config` method."
            )
        names = [w.name for w in _own_variables(layer)]
        raise ValueError(
            f"Layer '{layer.name}' expected {len(expected)} variables, but received "
            f"{len(store.keys())} variables during loading. Expected: {names}"
        )
    values = [np.asarray(store[f"{i}"]) for i in range(len(expected))]
    for i, (value, ref) in enumerate(zip(values, expected)):
        if tuple(value.shape) != tuple(np.shape(ref)):
            raise ValueError(
                f"Layer '{layer.name}' variable {i} has shape {tuple(np.shape(ref))}, but the store "
                f"holds shape {tuple(value.shape)}."
            )
    load = getattr(layer, "_load_saved_arrays", None)
    if load is not None:
        load(values)
    elif not layer._sublayers():
        layer.set_weights(values)
    else:
        for w, value in zip(_own_variables(layer), values):
            w.assign(value)


# ---------------------------------------------------------------------------- stateless calls
def _check_lengths(layer, trainable_variables, non_trainable_variables):
    name = type(layer).__name__
    if not layer.built:
        raise ValueError(
            f"To call stateless_call, {name} must be built (i.e. its variables must have been already "
            "created). You can build it by calling it on some data."
        )
    for arg, given, expected in (
        ("trainable_variables", trainable_variables, layer.trainable_variables),
        ("non_trainable_variables", non_trainable_variables, layer.non_trainable_variables),
    ):
        if not isinstance(given, (list, tuple)):
            raise TypeError(f"Argument `{arg}` must be a list of tensors. Received: {type(given).__name__}")
        validation.one_per_variable(given, expected, arg, layer, arg)


def _substitute(ref, value, trainable):
    """The tensor standing in for ``ref``: a trainable value as given (gradients reach it), a non-trainable
    one as a copy that ``assign``/in-place updates may change (returned as the new state)."""
    if trainable and isinstance(value, torch.Tensor) and tuple(value.shape) == tuple(ref.shape):
        return value.to(ref.device) if value.device != ref.device else value
    stored = ref._stored(value).clone()
    if tuple(stored.shape) != tuple(ref.shape):
        raise ValueError(
            f"Variable '{ref.path}' has shape {ref._keras_shape()}; the value given for it has shape "
            f"{tuple(np.shape(value))}."
        )
    if trainable:
        return stored
    standin = Variable(stored, requires_grad=False)
    standin.__dict__.update({k: v for k, v in ref.__dict__.items() if k.startswith("_keras")})
    return standin


def state_mapping(layer, pairs):
    """``{attribute path: tensor}`` for torch.func.functional_call, every name a variable is registered under."""
    names = collections.defaultdict(list)
    for name, param in layer.named_parameters(remove_duplicate=False):
        names[id(param)].append(name)
    mapping = {}
    for ref, value in pairs:
        if not names[id(ref)]:
            raise ValueError(
                f"Variable '{ref.path}' of layer '{layer.name}' is not registered on the layer (it is "
                "held outside of a layer attribute), so it cannot be replaced in a stateless call."
            )
        for name in names[id(ref)]:
            mapping[name] = value
    return mapping


def _losses_with(layer, values_by_id):
    out = []
    for sub in layer._flatten_layers():
        out.extend(sub._losses)
        for w in sub._all_own_weights():
            if w._keras_regularizer is not None and w.requires_grad:
                value = values_by_id.get(id(w), w)
                out.append(w._keras_regularizer(keras_view(w, value)))
    return out


def stateless_call(layer, trainable_variables, non_trainable_variables, args, kwargs, return_losses):
    _check_lengths(layer, trainable_variables, non_trainable_variables)
    pairs = [(ref, _substitute(ref, v, True)) for ref, v in zip(layer.trainable_variables, trainable_variables)]
    pairs += [
        (ref, _substitute(ref, v, False)) for ref, v in zip(layer.non_trainable_variables, non_trainable_variables)
    ]
    mapping = state_mapping(layer, pairs)
    outputs = torch.func.functional_call(layer, mapping, args, kwargs, tie_weights=True, strict=False)
    new_state = [value.detach() for _, value in pairs[len(trainable_variables) :]]
    if return_losses:
        return outputs, new_state, _losses_with(layer, {id(ref): value for ref, value in pairs})
    return outputs, new_state
