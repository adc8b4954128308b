"""The Initializer base class and the shape/dtype/device handling every initializer shares.

Values are drawn on the CPU and moved to ``config.get_device()``: a model built after
``strided.utils.set_random_seed(s)`` gets the same weights on CPU and GPU.
"""

import numbers

from strided import config
from strided.utils.registry import Configurable


def _shape(shape):
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"Invalid value for argument `shape`. Expected a tuple of non-negative integers. Received: shape={shape!r}"
        ) from None
    if any(d < 0 for d in shape):
        raise ValueError(
            f"Invalid value for argument `shape`. Expected non-negative dimensions. Received: shape={shape}"
        )
    return shape


def _dtype(dtype):
    return config.torch_dtype(dtype)


def _finish(t, dtype):
    return t.to(device=config.get_device(), dtype=_dtype(dtype))


class Initializer(Configurable):
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self):
        return {}

    def clone(self):
        return self.__class__.from_config(self.get_config())
