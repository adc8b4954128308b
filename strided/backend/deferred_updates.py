"""Deferred in-place updates of non-trainable state, applied together in a few multi-tensor kernels.

A training step of a network with many BatchNormalization layers would otherwise pay a few small kernels
per layer to keep the moving variance as Keras defines it (from the biased batch variance, where torch's
fused kernel folds in the unbiased one). While the trainer runs a forward pass inside ``deferred()``,
layers register such fix-ups with ``state.pending.add(...)`` and the whole set runs as two ``torch._foreach_*``
kernels per distinct pair of factors when the forward pass ends.

The updates write through ``variable.data``: the values are not read by the backward pass (a training-mode
batch norm saves its own batch statistics), and writing through ``.data`` leaves the autograd version counter
of the variable, which the graph of the step holds, untouched (torch's batch norm updates its running
statistics the same way). Outside ``deferred()`` (a user calling a layer directly, a custom ``train_step``),
``state.pending`` is None and layers update their state at once.
"""

import contextlib
import threading

import torch

from strided.backend import foreach

_local = threading.local()


class _State(threading.local):
    pending = None  # the _Pending of the forward pass run under deferred() in this thread


state = _State()


class _Pending:
    """The updates ``variable = variable * scale + other * other_scale`` of one forward pass, grouped by their
    two factors (layers of one shape share them): two multi-tensor kernels per group."""

    __slots__ = ("groups", "marked")

    def __init__(self):
        self.groups, self.marked = {}, []

    def prepare(self, variable):
        """A copy of ``variable`` as a layer is about to update it, after applying its pending update if it has
        one (a layer called twice in one step reads its state as the first call left it)."""
        if variable.__dict__.get("_deferred_update") is self:
            self.flush()
        return variable.clone()

    def add(self, variable, scale, other, other_scale):
        """Schedules ``variable = variable * scale + other * other_scale``."""
        variable.__dict__["_deferred_update"] = self
        self.marked.append(variable)
        group = self.groups.get((scale, other_scale))
        if group is None:
            group = self.groups[(scale, other_scale)] = ([], [])
        group[0].append(variable.data)
        group[1].append(other)

    def flush(self):
        if not self.marked:
            return
        with torch.no_grad():
            for (scale, other_scale), (variables, others) in self.groups.items():
                torch._foreach_mul_(variables, foreach.scalar(scale, variables[0]))
                torch._foreach_add_(variables, others, alpha=other_scale)
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
