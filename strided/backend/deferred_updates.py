"""Deferred in-place updates of non-trainable state, applied together in a few multi-tensor kernels.

A training step of a network with many BatchNormalization layers would otherwise pay a few small kernels
per layer to keep the moving variance as Keras defines it (from the biased batch variance, where torch's
fused kernel folds in the unbiased one). While the trainer runs a forward pass inside ``deferred()``,
layers register such fix-ups with ``state.pending.add(...)`` and the whole set runs as three ``torch._foreach_*``
kernels when the forward pass ends.

The updates write through ``variable.data``: the values are not read by the backward pass (a training-mode
batch norm saves its own batch statistics), and writing through ``.data`` leaves the autograd version counter
of the variable, which the graph of the step holds, untouched (torch's batch norm updates its running
statistics the same way). Outside ``deferred()`` (a user calling a layer directly, a custom ``train_step``),
``state.pending`` is None and layers update their state at once.
"""
import contextlib
import threading

import torch

_local = threading.local()


class _State(threading.local):
    pending = None  # the _Pending of the forward pass run under deferred() in this thread


state = _State()


class _Pending:
    """The updates ``variable = variable * scale + other * other_scale`` of one forward pass."""

    __slots__ = ("variables", "scales", "others", "other_scales", "marked")

    def __init__(self):
        self.variables, self.scales, self.others, self.other_scales, self.marked = [], [], [], [], []

    def prepare(self, variable):
        """A copy of ``variable`` as a layer is about to update it, after applying its pending update if it has
        one (a layer called twice in one step reads its state as the first call left it)."""
        if variable.__dict__.get("_deferred_update") is self:
            self.flush()
        return variable.clone()

    def add(self, variable, scale, other, other_scale):
        """Schedules ``variable = variable * scale + other * other_scale`` (``other`` is the caller's own
        tensor: it is scaled in place)."""
        variable.__dict__["_deferred_update"] = self
        self.marked.append(variable)
        self.variables.append(variable.data)
        self.scales.append(scale)
        self.others.append(other)
        self.other_scales.append(other_scale)

    def flush(self):
        if not self.variables:
            return
        with torch.no_grad():
            torch._foreach_mul_(self.variables, self.scales)
            torch._foreach_mul_(self.others, self.other_scales)
            torch._foreach_add_(self.variables, self.others)
        for variable in self.marked:
            del variable.__dict__["_deferred_update"]
        self.__init__()


def current():
    """The pending updates of the forward pass being run under ``deferred()``, or None."""
    return state.pending


@contextlib.contextmanager
def deferred():
    """Collects the state updates of the layers called inside and applies them together on exit."""
    outer = state.pending
    pending = state.pending = _Pending()
    try:
        yield pending
    finally:
        state.pending = outer
        pending.flush()
