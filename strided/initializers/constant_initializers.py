"""Constant initializers: zeros, ones, a constant value or array, the identity matrix."""

import numpy as np
import torch

from strided import config
from strided.initializers.initializer import Initializer, _dtype, _finish, _shape


class Zeros(Initializer):
    """Initializer that generates tensors initialized to 0."""

    def __call__(self, shape, dtype=None):
        return torch.zeros(_shape(shape), dtype=_dtype(dtype), device=config.get_device())


class Ones(Initializer):
    """Initializer that generates tensors initialized to 1."""

    def __call__(self, shape, dtype=None):
        return torch.ones(_shape(shape), dtype=_dtype(dtype), device=config.get_device())


class Constant(Initializer):
    """Initializer that generates tensors with constant values.

    Args:
        value: a Python scalar, or an array (list, NumPy array, tensor). A scalar or an array that
            broadcasts to the requested shape is broadcast; an array with as many elements as the
            shape is reshaped to it (as ``tf.constant_initializer`` does).
    """

    def __init__(self, value=0.0):
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        elif isinstance(value, (list, tuple)):
            value = np.asarray(value)
        elif isinstance(value, np.generic):
            value = value.item()
        self.value = value

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if isinstance(self.value, np.ndarray) and self.value.ndim > 0:
            arr = self.value
            try:
                arr = np.broadcast_to(arr, shape)
            except ValueError:
                if arr.size != int(np.prod(shape)):
                    raise ValueError(
                        f"Constant initializer: the value of shape {arr.shape} ({arr.size} elements) cannot "
                        f"be broadcast or reshaped to the requested weight shape {shape} "
                        f"({int(np.prod(shape))} elements). Received: shape={shape}"
                    ) from None
                arr = arr.reshape(shape)
            return _finish(torch.tensor(np.array(arr)), dtype)
        return torch.full(
            shape,
            float(self.value) if not isinstance(self.value, bool) else self.value,
            dtype=_dtype(dtype),
            device=config.get_device(),
        )

    def get_config(self):
        value = self.value
        if isinstance(value, np.ndarray):
            value = value.tolist()
        return {"value": value}

    @classmethod
    def from_config(cls, config):
        value = config.get("value", 0.0)
        if isinstance(value, dict) and value.get("class_name") == "__numpy__":  # Keras 3 array layout
            value = np.asarray(value["config"]["value"], dtype=value["config"].get("dtype"))
        return cls(value)


class Identity(Initializer):
    """Initializer that generates the identity matrix (2D shapes only), times ``gain``."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return self.gain * torch.eye(*shape, dtype=_dtype(dtype), device=config.get_device())

    def get_config(self):
        return {"gain": self.gain}
