"""The Initializer base class and the shape/dtype/device handling every initializer shares.

Values are drawn on the CPU and moved to ``config.get_device()``: a model built after
``strided.utils.set_random_seed(s)`` gets the same weights on CPU and GPU.
"""

from strided import config
from strided.utils import validation
from strided.utils.registry import Configurable


def _shape(shape):
    return validation.shape(shape, "shape")


def _dtype(dtype):
    return config.torch_dtype(dtype)


def _finish(t, dtype):
    return t.to(device=config.get_device(), dtype=_dtype(dtype))


class Initializer(Configurable):
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def clone(self):
        return self.__class__.from_config(self.get_config())
