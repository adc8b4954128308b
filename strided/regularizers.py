"""Weight regularizers with the Keras API: ``reg(weight) -> scalar tensor`` added to the loss.

Keras 3 defaults: ``L1(l1=0.01)``, ``L2(l2=0.01)``, ``L1L2(l1=0.0, l2=0.0)``. The penalty is a sum
over all elements (not a mean), as in Keras.
"""

import math
import numbers

import torch

from strided.ops.core import convert_to_tensor
from strided.utils.registry import Configurable, Registry, public_classes

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "get", "serialize", "deserialize"]


def _validate(value, name):
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool)
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. Received: {name}={value!r}"
        )
    return float(value)


class Regularizer(Configurable):
    """Base class: subclasses implement ``__call__(x)`` and ``get_config()`` (or list the constructor arguments
    they keep as attributes in ``_config_keys``)."""

    def __call__(self, x):
        return 0.0

    def get_config(self):
        if not self._config_keys:
            # the class name, not {self}: the repr reads the config
            raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")
        return self._keys_config()


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``.

    Args:
        l1: L1 factor (0.0). l2: L2 factor (0.0).
    """

    _config_keys = ("l1", "l2")

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _validate(0.0 if l1 is None else l1, "l1")
        self.l2 = _validate(0.0 if l2 is None else l2, "l2")

    def __call__(self, x):
        x = convert_to_tensor(x)
        reg = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1:
            reg = reg + self.l1 * x.abs().sum()
        if self.l2:
            reg = reg + self.l2 * x.square().sum()
        return reg


class L1(Regularizer):
    """``l1 * sum(|x|)``, l1 defaults to 0.01."""

    _config_keys = ("l1",)

    def __init__(self, l1=0.01):
        self.l1 = _validate(0.01 if l1 is None else l1, "l1")

    def __call__(self, x):
        return self.l1 * convert_to_tensor(x).abs().sum()


class L2(Regularizer):
    """``l2 * sum(x**2)``, l2 defaults to 0.01 (Keras 3; tf.keras used 0.01 too). No factor 1/2."""

    _config_keys = ("l2",)

    def __init__(self, l2=0.01):
        self.l2 = _validate(0.01 if l2 is None else l2, "l2")

    def __call__(self, x):
        return self.l2 * convert_to_tensor(x).square().sum()


class OrthogonalRegularizer(Regularizer):
    """Penalises non-orthogonal rows (or columns) of a rank-2 weight.

    ``factor * 0.5 * sum(|offdiag(N N^T)|) / (n (n - 1) / 2)`` with N the L2-normalised rows
    (``mode='rows'``) or columns (``mode='columns'``).
    """

    _config_keys = ("factor", "mode")

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _validate(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(
                f"Invalid value for argument `mode`. Expected one of {{'rows', 'columns'}}. Received: mode={mode!r}"
            )
        self.mode = mode

    def __call__(self, inputs):
        x = convert_to_tensor(inputs)
        if x.dim() != 2:
            raise ValueError(
                f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={tuple(x.shape)}"
            )
        if self.mode == "rows":
            n = torch.nn.functional.normalize(x, dim=1, eps=1e-12)
            product = n @ n.T
        else:
            n = torch.nn.functional.normalize(x, dim=0, eps=1e-12)
            product = n.T @ n
        size = product.shape[0]
        off = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * off.abs().sum() / pairs


l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

_REGISTRY = Registry("regularizer", "keras.regularizers", objects=public_classes(globals()), aliases={"l1_l2": L1L2})


# Keras's `serialize(obj)` (the Keras 3 config dict) and `deserialize(config, custom_objects=None)`.
serialize = _REGISTRY.serialize
deserialize = _REGISTRY.deserialize


def get(identifier, arg_name="identifier"):
    """Retrieves a regularizer from None, a name ('l1', 'l2', 'L1L2'...), a dict, a class, an instance or a callable."""
    return _REGISTRY.get(identifier, arg_name)
