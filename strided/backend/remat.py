"""Rematerialization (gradient checkpointing) as Keras 3: ``keras.RematScope`` and ``keras.remat``.

A layer made inside a ``RematScope`` recomputes (per the scope's mode) its activations in the backward
pass instead of keeping them, through ``torch.utils.checkpoint``: less memory, more compute.
"""

import collections
import functools
import math
import threading

import torch
from torch.utils import _pytree as pytree

_STATE = threading.local()

RematMode = collections.namedtuple("RematMode", ["mode", "output_size_threshold", "layer_names"])

_MODES = ("full", "activations", "larger_than", "list_of_layers", None)


class RematScope:
    """A scope in which new layers rematerialize their calls.

    Args:
        mode: ``"full"`` (every layer made in the scope), ``"activations"`` (only the ``activation`` of
            layers that have one, e.g. ``Dense(..., activation="relu")``), ``"larger_than"`` (layers whose
            output has more than ``output_size_threshold`` elements per batch), ``"list_of_layers"``
            (the layers named in ``layer_names``) or None (none).
        output_size_threshold: the size for ``"larger_than"`` (default 1024).
        layer_names: the layer names for ``"list_of_layers"``.

    Example:

    ```python
    with strided.RematScope(mode="full"):
        block = strided.layers.Dense(512, activation="relu")
    ```
    """

    def __init__(self, mode="full", output_size_threshold=1024, layer_names=None):
        if mode not in _MODES:
            raise ValueError(
                f"Invalid mode '{mode}'. Supported modes are: 'full', 'activations', 'larger_than', "
                "'list_of_layers', or  None."
            )
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = layer_names or []
        self._pop_on_exit = False

    def __enter__(self):
        _STATE.__dict__.setdefault("stack", []).append(self)
        self._pop_on_exit = True
        return self

    def __exit__(self, *args):
        if self._pop_on_exit:
            _STATE.stack.pop()
            self._pop_on_exit = False


def get_current_remat_mode():
    """The innermost active ``RematScope`` as a ``RematMode`` tuple, or None."""
    stack = getattr(_STATE, "stack", None)
    if not stack:
        return None
    scope = stack[-1]
    return RematMode(scope.mode, scope.output_size_threshold, scope.layer_names)


def remat(f):
    """``f`` rematerialized: its intermediate results are recomputed in the backward pass
    (``torch.utils.checkpoint.checkpoint`` without reentrancy)."""

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        return torch.utils.checkpoint.checkpoint(f, *args, use_reentrant=False, **kwargs)

    return wrapped


def rematerialized_call(layer, layer_call, args, kwargs):
    """``Layer.rematerialized_call``: ``layer_call`` wrapped for the layer's remat mode (Keras's rules)."""
    mode = layer.__dict__.get("_remat_mode")
    if mode is None or mode.mode is None:
        return layer_call
    if mode.mode == "full":
        return remat(layer_call)
    if mode.mode == "activations":
        if getattr(layer, "activation", None) is None:
            return layer_call

        @functools.wraps(layer_call)
        def with_remat_activation(*a, **k):
            original = layer.activation
            layer.__dict__["activation"] = remat(original)
            try:
                return layer_call(*a, **k)
            finally:
                layer.__dict__["activation"] = original

        return with_remat_activation
    if mode.mode == "list_of_layers":
        return remat(layer_call) if layer.name in mode.layer_names else layer_call
    # larger_than: the output's size per sample (None dimensions count as 1), from a shape-only run
    spec = layer.compute_output_spec(*args, **kwargs)
    size = sum(math.prod(d or 1 for d in t.shape[1:]) for t in pytree.tree_leaves(spec) if hasattr(t, "shape"))
    return remat(layer_call) if size > mode.output_size_threshold else layer_call


def attach(layer):
    """Called when a layer is made: inside a RematScope its ``call`` goes through ``rematerialized_call``."""
    mode = get_current_remat_mode()
    layer.__dict__["_remat_mode"] = mode
    if mode is None or mode.mode is None:
        return
    call = layer.call

    @functools.wraps(call)
    def remat_call(*args, **kwargs):
        if not torch.is_grad_enabled() or any(getattr(t, "is_meta", False) for t in pytree.tree_leaves(args)):
            return call(*args, **kwargs)  # inference and shape-only runs keep nothing to recompute
        return layer.rematerialized_call(call, *args, **kwargs)(*args, **kwargs)

    layer.__dict__["call"] = remat_call
