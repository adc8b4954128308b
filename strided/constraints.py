"""Weight constraints with the Keras API: ``c(w) -> w'`` applied after each optimizer step.

``w`` is in Keras layout (a conv kernel ``(kh, kw, in, out)``), so ``axis=0`` etc. mean what they mean
in Keras: for a Dense kernel ``(in, out)``, ``MaxNorm(axis=0)`` bounds each unit's incoming weight vector;
for a Conv2D kernel use ``axis=[0, 1, 2]``.
"""

import torch

from strided import config
from strided.ops.core import convert_to_tensor
from strided.utils.registry import Configurable, Registry, public_classes

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "get", "serialize", "deserialize"]


def _axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w, axis):
    return torch.sqrt(torch.sum(w.square(), dim=_axis(axis), keepdim=True))


class Constraint(Configurable):
    """Base class: ``__call__(w)`` returns the projected weight."""

    def __call__(self, w):
        return w


class MaxNorm(Constraint):
    """Rescales slices whose L2 norm along ``axis`` exceeds ``max_value`` (2) down to it.

    ``w * clip(norm, 0, max_value) / (epsilon + norm)``.
    """

    _config_keys = ("max_value", "axis")

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (config.epsilon() + norms))


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w):
        return torch.clamp(convert_to_tensor(w), min=0)


class UnitNorm(Constraint):
    """Scales slices along ``axis`` (0) to unit L2 norm: ``w / (epsilon + norm)``."""

    _config_keys = ("axis",)

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        return w / (config.epsilon() + _norms(w, self.axis))


class MinMaxNorm(Constraint):
    """Keeps slice norms along ``axis`` in [min_value, max_value], moving a fraction ``rate`` of the way.

    ``desired = rate * clip(norm, min, max) + (1 - rate) * norm``; ``w * desired / (epsilon + norm)``.
    """

    _config_keys = ("min_value", "max_value", "rate", "axis")

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = self.rate * torch.clamp(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (config.epsilon() + norms))


max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm

_REGISTRY = Registry(
    "constraint",
    "keras.constraints",
    objects=public_classes(globals()),
    aliases={"maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm},  # tf.keras 2 lowercase names
)


# Keras's `serialize(obj)` (the Keras 3 config dict) and `deserialize(config, custom_objects=None)`.
serialize = _REGISTRY.serialize
deserialize = _REGISTRY.deserialize


def get(identifier, arg_name="identifier"):
    """Retrieves a constraint from None, a name ('max_norm', 'NonNeg'...), a dict, a class, an instance or a callable."""
    return _REGISTRY.get(identifier, arg_name)
