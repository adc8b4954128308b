"""Deferred in-place updates of non-trainable state, applied together in a few multi-tensor kernels.

A training step of a network with many BatchNormalization layers would otherwise pay a few small kernels
per layer to keep the moving variance as Keras defines it (from the biased batch variance, where torch's
fused kernel folds in the unbiased one). While the trainer runs a forward pass inside ``deferred()``,
layers register such fix-ups with ``state.pending.add(...)`` and the whole set runs as three ``torch._foreach_*``
kernels per distinct pair of factors when the forward pass ends.

The updates write through ``.data``: the values are not read by the backward pass (a training-mode batch
norm saves its own batch statistics), and writing through ``.data`` leaves the autograd version counters of
the tensors, which the graph of the step holds, untouched (torch's batch norm updates its running statistics
the same way). Outside ``deferred()`` (a user calling a layer directly, a custom ``train_step``),
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
    """The updates ``variable = variable * scale + accumulator * accumulator_scale`` of one forward pass, each
    accumulator zeroed after, grouped by their two factors (layers of one shape share them): three
    multi-tensor kernels per group."""

    __slots__ = ("groups", "marked")

    def __init__(self):
        self.groups, self.marked = {}, []

    def settle(self, variable):
        """Applies the pending updates now if ``variable`` has one: a layer called twice in one step reads its
        state as the first call left it."""
        if variable.__dict__.get("_deferred_update") is self:
            self.flush()

    def add(self, variable, scale, accumulator, accumulator_scale):
        """Schedules ``variable = variable * scale + accumulator * accumulator_scale``, then ``accumulator = 0``.

        ``accumulator`` is the caller's own tensor, zero before the step, that a kernel wrote this step's
        statistic into (BatchNormalization hands it to torch as the running variance), given as a view autograd
        does not track (its ``.data``, made once), as the graph of the step may hold the tensor itself."""
        variable.__dict__["_deferred_update"] = self
        self.marked.append(variable)
        group = self.groups.get((scale, accumulator_scale))
        if group is None:
            group = self.groups[(scale, accumulator_scale)] = ([], [])
        group[0].append(_untracked(variable))
        group[1].append(accumulator)

    def flush(self):
        if not self.marked:
            return
        with torch.no_grad():
            for (scale, accumulator_scale), (variables, accumulators) in self.groups.items():
                torch._foreach_mul_(variables, foreach.scalar(scale, variables[0]))
                torch._foreach_add_(variables, accumulators, alpha=accumulator_scale)
                torch._foreach_zero_(accumulators)
        for variable in self.marked:
            del variable.__dict__["_deferred_update"]
        self.__init__()


def _untracked(variable):
    """``variable.data`` (a view that autograd's version checks do not see), made once and kept while it still
    views the variable's storage (``Module.to`` swaps the storage of a parameter under the same object)."""
    view = variable.__dict__.get("_untracked_view")
    if view is None or view.data_ptr() != variable.data_ptr() or view.dtype != variable.dtype:
        view = variable.__dict__["_untracked_view"] = variable.data
    return view


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
