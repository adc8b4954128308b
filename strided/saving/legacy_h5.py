"""Keras 2 HDF5 files: weight files (Keras's published ImageNet weights) and full-model ``.h5``.

Layout: the root (or the ``model_weights`` group of a full-model file) has the attribute
``layer_names``; each layer's group has ``weight_names`` listing its datasets in Keras order
(kernels ``(kh, kw, in, out)``). Long attribute lists may be split as ``layer_names0``,
``layer_names1``... A full-model file also has ``model_config`` (JSON) and ``training_config``.
"""

import json
import re

import numpy as np

from strided.saving import keras_format, serialization_lib
from strided.config import __version__
from strided.backend.variable import keras_view

HDF5_OBJECT_HEADER_LIMIT = 64512


def _decode(value):
    return value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else str(value)


def load_attributes(group, name):
    """A list attribute, joined from ``name0``, ``name1``... chunks when it was split."""
    if name in group.attrs:
        return [_decode(v) for v in np.atleast_1d(group.attrs[name])]
    out, i = [], 0
    while f"{name}{i}" in group.attrs:
        out.extend(_decode(v) for v in np.atleast_1d(group.attrs[f"{name}{i}"]))
        i += 1
    return out


def save_attributes(group, name, data):
    data = np.asarray(data) if data else np.asarray([], dtype="S1")
    chunks = 1
    parts = np.array_split(data, chunks)
    while any(p.nbytes > HDF5_OBJECT_HEADER_LIMIT for p in parts):
        chunks += 1
        parts = np.array_split(data, chunks)
    if chunks > 1:
        for i, part in enumerate(parts):
            group.attrs[f"{name}{i}"] = part
    else:
        group.attrs[name] = data


def is_legacy_weights_group(group):
    return "layer_names" in group.attrs or "layer_names0" in group.attrs


def _legacy_weights(layer):
    """The layer's weights in Keras 2 order: trainable first, then non-trainable."""
    trainable = [w for w in layer.weights if getattr(w, "_keras_trainable", True)]
    frozen = [w for w in layer.weights if not getattr(w, "_keras_trainable", True)]
    return trainable + frozen


def _keras_arrays(layer, weights):
    out = []
    for w in weights:
        out.append(keras_view(w, w.detach()).cpu().numpy())
    return out


def _set_legacy(layer, values):
    """Assigns Keras-2-ordered ``values`` (validated already) to ``layer``."""
    weights = _legacy_weights(layer)
    order = {id(w): i for i, w in enumerate(weights)}
    ordered = [values[order[id(w)]] for w in layer.weights]
    layer.set_weights(ordered)


def plan_legacy(group, model, source, by_name=False, skip_mismatch=False):
    """Pairs the file's layers with the model's and checks every shape; returns ``[(layer, arrays)]``.

    Layers with names of their own are paired by name first; the others, and every layer whose name
    is an automatic one (``conv2d_7``: per-process counters, so the file's ``conv2d_7`` may be another
    layer than the model's), are paired in order, as Keras's topological loading does. Nothing is
    assigned here.
    """
    layer_names = load_attributes(group, "layer_names")
    file_layers = []
    for name in layer_names:
        if name not in group:
            raise ValueError(
                f"The weights file {source} lists layer '{name}' but has no group for it (truncated "
                "or corrupted file?)."
            )
        weight_names = load_attributes(group[name], "weight_names")
        if weight_names:
            try:
                values = [np.asarray(group[name][wn]) for wn in weight_names]
            except KeyError as e:
                raise ValueError(f"The weights file {source} is missing the dataset {e} of layer '{name}'.") from None
            file_layers.append((name, values))
    model_layers = [layer for layer in _flat_layers(model) if layer.weights]
    pairs = []
    if by_name:
        by = {layer.name: layer for layer in model_layers}
        pairs = [(by[name], name, values) for name, values in file_layers if name in by]
    else:
        if len(file_layers) != len(model_layers):
            raise ValueError(
                f"Layer count mismatch when loading weights from file {source}. Model '{model.name}' expected "
                f"{len(model_layers)} layers with weights, found {len(file_layers)} saved layers. The file was "
                "probably saved from a different architecture (or with/without the top). The model was not changed."
            )
        model_by_name = {layer.name: layer for layer in model_layers if not _auto_named(layer)}
        used = set()
        matched = {}
        for i, (name, _) in enumerate(file_layers):
            layer = model_by_name.get(name)
            if layer is not None and id(layer) not in used:
                matched[i] = layer
                used.add(id(layer))
        rest = iter(layer for layer in model_layers if id(layer) not in used)
        for i, (name, values) in enumerate(file_layers):
            layer = matched.get(i) or next(rest)
            pairs.append((layer, name, values))
    plan, problems = [], []
    for layer, name, values in pairs:
        expected = [tuple(_keras_shape(w)) for w in _legacy_weights(layer)]
        got = [tuple(v.shape) for v in values]
        if len(expected) != len(got):
            problems.append(f"layer '{layer.name}' expects {len(expected)} weights, file layer '{name}' has {len(got)}")
        elif expected != got:
            if skip_mismatch:
                continue
            problems.append(f"layer '{layer.name}' expects shapes {expected}, file layer '{name}' has {got}")
        else:
            plan.append((layer, values))
    keras_format.check_weight_problems(problems, source, model)
    return plan


def _auto_named(layer):
    """Whether ``layer.name`` has the form of an automatic name (``conv2d``, ``conv2d_3``)."""
    base = layer._default_name() if hasattr(layer, "_default_name") else None
    return bool(base) and re.fullmatch(re.escape(base) + r"(_\d+)?", layer.name) is not None


def _keras_shape(w):
    layout = getattr(w, "_keras_layout", None)
    return tuple(w.shape[i] for i in layout) if layout else tuple(w.shape)


def _flat_layers(model):
    """Layers of ``model`` in Keras's order; nested models count as one layer, as in Keras 2 files."""
    return keras_format.keras_layer_order(model)


def apply_plan(plan):
    for layer, values in plan:
        _set_legacy(layer, values)


def save_weights_to_group(group, model):
    """Writes ``model``'s weights into ``group`` in the Keras 2 layout."""
    save_attributes(group, "layer_names", [layer.name.encode("utf8") for layer in _flat_layers(model)])
    group.attrs["backend"] = b"torch"
    group.attrs["keras_version"] = f"strided-{__version__}".encode("utf8")
    for layer in sorted(model.layers, key=lambda layer: layer.name):
        g = group.create_group(layer.name)
        weights = _legacy_weights(layer)
        names = [
            f"{layer.name}/{getattr(w, '_keras_name', f'variable_{i}')}".encode("utf8") for i, w in enumerate(weights)
        ]
        save_attributes(g, "weight_names", names)
        for name, value in zip(names, _keras_arrays(layer, weights)):
            g.create_dataset(name.decode("utf8"), data=value)


def save_model_to_h5(h5file, model, include_optimizer=True):
    """A Keras 2 full-model file: ``model_config`` + ``model_weights`` (+ ``training_config``)."""
    h5file.attrs["keras_version"] = b"2.15.0"
    h5file.attrs["backend"] = b"torch"
    h5file.attrs["model_config"] = json.dumps(serialization_lib.serialize_model(model)).encode("utf8")
    cc = keras_format.compile_config(model) if include_optimizer else None
    if cc is not None:
        h5file.attrs["training_config"] = json.dumps(cc).encode("utf8")
    save_weights_to_group(h5file.create_group("model_weights"), model)


def load_model_from_h5(h5file, source, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds a model from a Keras 2 full-model ``.h5`` file."""
    raw = h5file.attrs.get("model_config")
    if raw is None:
        raise ValueError(
            f"No model config found in the file at {source}: it holds weights only. Build the model in "
            "code and call `model.load_weights(...)` instead."
        )
    config = json.loads(_decode(raw))
    model = serialization_lib.model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)
    if "model_weights" not in h5file:
        raise ValueError(f"The file {source} has a model config but no 'model_weights' group (truncated file?).")
    apply_plan(plan_legacy(h5file["model_weights"], model, source))
    training = h5file.attrs.get("training_config")
    if compile and training is not None:
        from strided.saving.saving_api import compile_from_config

        compile_from_config(model, json.loads(_decode(training)))
    return model
