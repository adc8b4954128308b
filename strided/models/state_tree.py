"""Keras 3's ``Model.get_state_tree`` / ``set_state_tree`` and ``stateless_compute_loss``.

A state tree nests every variable of a model by its Keras path (``'seq/dense/kernel'``), in four
groups: trainable, non-trainable, optimizer (``'adam/seq_dense_kernel_momentum'``) and metrics
(``'loss/total'``) variables. Values are in Keras layout.
"""

import numpy as np
import torch
from strided.layers.layer_api import _check_lengths, _losses_with, _substitute
from strided import metrics as metrics_module
from strided.backend.variable import keras_view, stored_view
from strided.utils import validation

GROUPS = ("trainable_variables", "non_trainable_variables", "optimizer_variables", "metrics_variables")


def _metric_scope(metric):
    """The name Keras's metric variables live under: the name the metric was made with (a compiled
    ``'mae'`` becomes ``MeanAbsoluteError()``, whose variables are ``mean_absolute_error/total``...)."""
    name = metric.name
    if name in ("accuracy", "acc"):
        return name
    try:
        default = metrics_module.get(name)
    except (ValueError, TypeError, KeyError):
        return name
    return default.name if type(default) is type(metric) else name


def metric_entries(model):
    """``[(path, tensor)]`` of the model's metric variables."""
    out = []
    for metric in model.metrics:
        variables = list(metric.variables)
        names = list(getattr(metric, "_variable_names", None) or [])
        if not names and len(variables) == 2:
            names = ["total", "count"]  # the loss trackers
        names += [f"variable_{i}" for i in range(len(names), len(variables))]
        scope = _metric_scope(metric)
        out.extend((f"{scope}/{n}", v) for n, v in zip(names, variables))
    return out


def optimizer_entries(optimizer):
    """``[(path, value, the weight whose layout it has, or None)]`` of the optimizer's variables, named as
    Keras names them (slots are stored like their variable, a conv kernel's momentum ``(out, in, kh, kw)``)."""
    if optimizer is None:
        return []
    variables = optimizer.variables
    paths = (
        optimizer._variable_paths()
        if hasattr(optimizer, "_variable_paths")
        else [f"{optimizer.name}/variable_{i}" for i in range(len(variables))]
    )
    references = [None] * len(variables)
    slot_order, params = getattr(optimizer, "_slot_order", None), getattr(optimizer, "_params", None)
    if slot_order and params is not None:
        start = 2 if isinstance(getattr(optimizer, "_lr", None), float) else 1
        for k, (_, i) in enumerate(slot_order):
            references[start + k] = params[i]
    return list(zip(paths, variables, references))


def _value(tensor, value_format, reference=None):
    """``tensor`` in the Keras layout of ``reference`` (the variable itself, or the weight an optimizer slot
    follows); as stored when ``reference`` is None."""
    if value_format == "backend_tensor":
        return tensor if reference is None else keras_view(reference, tensor.detach())
    if value_format == "numpy_array":
        return keras_view(reference, tensor.detach()).cpu().numpy().copy()
    raise ValueError(
        "Invalid `value_format` argument. Expected one of {'numpy_array', 'backend_tensor'}. "
        f"Received: value_format={value_format}"
    )


def _nest(entries, value_format):
    flat = {}
    for path, tensor, reference in entries:
        if path in flat:
            raise ValueError(
                f"The following variable path is found twice in the model: '{path}'. "
                "`get_state_tree()` can only be called when all variable paths are unique. Make sure "
                "to give unique names to your layers (and other objects)."
            )
        flat[path] = _value(tensor, value_format, reference)
    nested = {}
    for path, value in flat.items():
        parts = path.split("/")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return nested


def get_state_tree(model, value_format):
    def weights(ws):
        return [(w.path, w, w) for w in ws]

    return {
        "trainable_variables": _nest(weights(model.trainable_variables), value_format),
        "non_trainable_variables": _nest(weights(model.non_trainable_variables), value_format),
        "optimizer_variables": _nest(optimizer_entries(getattr(model, "optimizer", None)), value_format),
        "metrics_variables": _nest([(p, v, None) for p, v in metric_entries(model)], value_format),
    }


def _flatten(tree, prefix=""):
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}/"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def set_state_tree(model, state_tree):
    if not isinstance(state_tree, dict):
        raise TypeError(f"`state_tree` must be a dict (as `get_state_tree()` returns). Received: {type(state_tree)}")
    for group, subtree in state_tree.items():
        values = _flatten(subtree)
        if group in ("trainable_variables", "non_trainable_variables"):
            for w in getattr(model, group):
                if w.path in values:
                    w.assign(values[w.path])
        elif group == "optimizer_variables":
            optimizer = getattr(model, "optimizer", None)
            if optimizer is None or not values:
                continue
            entries = optimizer_entries(optimizer)
            arrays = optimizer.get_weights()
            for i, (path, _, reference) in enumerate(entries):
                if path in values:
                    value = values[path]
                    value = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
                    arrays[i] = value if reference is None else stored_view(reference, value)
            optimizer.set_weights(arrays)
        elif group == "metrics_variables":
            for path, tensor in metric_entries(model):
                if path in values:
                    with torch.no_grad():
                        tensor.copy_(
                            torch.as_tensor(
                                np.asarray(values[path])
                                if not isinstance(values[path], torch.Tensor)
                                else values[path],
                                dtype=tensor.dtype,
                            )
                        )
        else:
            raise ValueError(f"Unknown variable name: {group}")


def stateless_compute_loss(
    model, trainable_variables, non_trainable_variables, metrics_variables, x, y, y_pred, sample_weight, training
):
    """``compute_loss`` with the given variable values (for the regularization losses), model state untouched.

    Returns ``(loss, (trainable_variables, non_trainable_variables, metrics_variables))``.
    """
    _check_lengths(model, trainable_variables, non_trainable_variables)
    validation.one_per_variable(
        metrics_variables, model.metrics_variables, "metrics_variables", model, "metrics_variables"
    )
    pairs = [(ref, _substitute(ref, v, True)) for ref, v in zip(model.trainable_variables, trainable_variables)]
    pairs += [
        (ref, _substitute(ref, v, True)) for ref, v in zip(model.non_trainable_variables, non_trainable_variables)
    ]
    total = None
    if model.compiled_loss is not None and y is not None:
        total = model.compiled_loss(y, y_pred, sample_weight)
    extra = [loss for loss in _losses_with(model, {id(ref): value for ref, value in pairs}) if loss is not None]
    if extra:
        reg = torch.stack([torch.as_tensor(loss).float().reshape(()) for loss in extra]).sum()
        total = reg if total is None else total + reg
    if total is None:
        total = torch.zeros(())
    return total, (list(trainable_variables), list(non_trainable_variables), list(metrics_variables))
