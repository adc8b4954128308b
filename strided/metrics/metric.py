"""The Metric base class and the helpers every metric family shares.

State lives in device tensors updated in place; ``update_state`` never syncs with the host (no
``.item()``), so a trainer can update metrics every step and read ``result()`` only at log time.
"""

import functools

import numpy as np
import torch

from strided import config
from strided.backend.variable import Variable
from strided.losses.loss import _as_tensor
from strided.utils import validation
from strided.utils.registry import FromConfig, to_snake_case

_EPSILON = 1e-7  # Keras's backend.epsilon()


def _tensor(x, dtype=None, device=None):
    """``x`` as a tensor cut from autograd (metric state never carries gradients)."""
    return _as_tensor(x, dtype=dtype, device=device).detach()


def _divide_no_nan(a, b):
    return torch.where(b == 0, torch.zeros_like(a), a / torch.where(b == 0, torch.ones_like(b), b))


def _skipped_while_building(update_state):
    """``update_state`` that does nothing on the shape-only tensors of a symbolic call (a layer updating a
    metric in ``call`` while a functional model is built, as the endpoint-layer pattern does)."""

    @functools.wraps(update_state)
    def wrapper(self, *args, **kwargs):
        if any(getattr(a, "is_meta", False) is True for a in args) or any(
            getattr(v, "is_meta", False) is True for v in kwargs.values()
        ):
            return None
        return update_state(self, *args, **kwargs)

    return wrapper


class Metric(FromConfig):
    """Base class of stateful metrics.

    Subclasses create state with :meth:`add_variable` and implement ``update_state`` and ``result``.

    Args:
        name: the metric name (as logged). dtype: the state dtype (floatx).
    """

    _keras_metric = True  # layers and models track metrics assigned as their attributes

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "update_state" in cls.__dict__:
            cls.update_state = _skipped_while_building(cls.__dict__["update_state"])

    def __init__(self, dtype=None, name=None):
        self.name = name or to_snake_case(self.__class__.__name__)
        self._dtype = dtype
        self._variables = []
        self._variable_names = []

    @property
    def dtype(self):
        d = self._dtype or config.floatx()
        return getattr(d, "name", d) if not isinstance(d, torch.dtype) else str(d).replace("torch.", "")

    @property
    def _torch_dtype(self):
        return config.torch_dtype(self.dtype)

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """Creates a state variable on the current device and tracks it in ``variables``.

        As in Keras, the state is a non-trainable ``keras.Variable``: update it with ``assign``,
        ``assign_add`` or ``assign_sub`` (in-place torch updates work too).

        Args:
            shape: the state shape (``()`` for a scalar).
            initializer: an initializer (name, instance or callable) or a number to fill it with.
            dtype: the state dtype (default: the metric's dtype).
            aggregation: accepted for Keras compatibility (how replicas combine this state).
            name: the state name.
        """
        dtype = dtype or self.dtype
        shape = tuple(int(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
        name = name or f"variable_{len(self._variables) + 1}"
        if initializer is None or isinstance(initializer, (int, float, np.number)):
            value = torch.full(
                shape, 0.0 if initializer is None else float(initializer), dtype=config.torch_dtype(dtype)
            )
            variable = Variable(value, dtype=dtype, trainable=False, name=name)
        else:
            variable = Variable(initializer, shape=shape, dtype=dtype, trainable=False, name=name)
        self._variables.append(variable)
        self._variable_names.append(name)
        return variable

    add_weight = add_variable

    @property
    def variables(self):
        return list(self._variables)

    def _follow(self, device):
        """Moves the state to ``device`` the first time inputs arrive from another device."""
        if not self._variables or self._variables[0].device == device:
            return
        # In place (the data of each variable moves), so the metric's attributes and any other
        # reference to a state variable keep pointing at the live state.
        for v in self._variables:
            v.data = v.data.to(device)

    def reset_state(self):
        """Resets all state to zero."""
        for v in self._variables:
            v.zero_()

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    # ---------------------------------------------------------------- stateless API (Keras 3)
    def _check_state_list(self, metric_variables):
        validation.one_per_variable(metric_variables, self._variables, "metric_variables", self, "variables")

    def _with_state(self, metric_variables, fn):
        """Runs ``fn()`` with the state set to ``metric_variables``; returns (its result, the state after),
        leaving the metric's own state as it was."""
        self._check_state_list(metric_variables)
        saved = [v.clone() for v in self._variables]
        try:
            for v, value in zip(self._variables, metric_variables):
                v.copy_(_tensor(value, dtype=v.dtype, device=v.device))
            out = fn()
            state = [v.clone() for v in self._variables]
        finally:
            for v, value in zip(self._variables, saved):
                v.copy_(value)
        return out, state

    def stateless_update_state(self, metric_variables, *args, **kwargs):
        """``update_state(*args, **kwargs)`` applied to the state ``metric_variables`` (1:1 with ``variables``);
        returns the new state, leaving the metric unchanged."""
        return self._with_state(metric_variables, lambda: self.update_state(*args, **kwargs))[1]

    def stateless_result(self, metric_variables):
        """``result()`` for the state ``metric_variables``, leaving the metric unchanged."""
        return self._with_state(metric_variables, self.result)[0]

    def stateless_reset_state(self):
        """The state ``reset_state()`` would give, as new tensors (the metric is unchanged)."""
        return self._with_state([v.clone() for v in self._variables], self.reset_state)[1]

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self._keys_config()}

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}>"
