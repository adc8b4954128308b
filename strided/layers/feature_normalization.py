"""``Normalization``: standardizes inputs with a mean and variance learned by ``adapt(data)`` (Keras layer)."""

import itertools
import math

import numpy as np
import torch

from strided import config
from strided.layers import _util
from strided.layers.base import Layer

_EPSILON = 1e-7  # Keras's backend.epsilon(): the smallest standard deviation divided by


def _first_x(batch):
    """The inputs of a batch that may be ``(x, y)`` or ``(x, y, sample_weight)``."""
    return batch[0] if isinstance(batch, (tuple, list)) else batch


class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and variance 1: ``(x - mean) / sqrt(var)``.

    ``mean`` and ``variance`` are given, or computed from data by ``adapt``: one value per position of
    the ``axis`` axes, over all the other axes (for images, ``axis=-1`` gives one mean per channel).

    Args:
        axis: axis or axes that keep their own statistics (default -1); None for a single mean and
            variance over everything.
        mean: fixed mean (give ``variance`` too); otherwise call ``adapt``.
        variance: fixed variance (give ``mean`` too); otherwise call ``adapt``.
        invert: apply the inverse, ``x * sqrt(var) + mean`` (to map predictions back).

    In a model: ``norm.adapt(x_train)`` (per-channel statistics of the training images), then
    ``keras.Sequential([keras.Input((32, 32, 3)), norm, keras.layers.Conv2D(16, 3), ...])``.

    Input shape:
        Any shape whose ``axis`` sizes match the statistics.

    Output shape:
        Same shape as the input.

    Example:

    >>> data = np.array([[0.0, 10.0], [2.0, 20.0], [4.0, 30.0]], dtype="float32")
    >>> norm = keras.layers.Normalization()
    >>> norm.adapt(data)
    >>> print(norm(data).numpy().round(4))
    [[-1.2247 -1.2247]
     [ 0.      0.    ]
     [ 1.2247  1.2247]]
    >>> print(keras.layers.Normalization(mean=2.0, variance=4.0)(np.array([[4.0]])).numpy())
    [[1.]]
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (list, tuple)):
            axis = tuple(_util.axis_arg(list(axis)))
        else:
            axis = (_util.axis_arg(axis),)
        self.axis = axis
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        for arg, value in (("mean", mean), ("variance", variance)):
            if value is None:
                continue
            try:
                ok = not isinstance(value, (str, dict)) and np.asarray(value, dtype="float64") is not None
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise TypeError(
                    f"Invalid type for argument `{arg}`. Expected a number or an array of numbers. "
                    f"Received {arg}={value!r}."
                )
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same shape. "
                    f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    f"The rank of `mean` must be less than or equal to the number of axes "
                    f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}"
                )

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f"All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                f"ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for a in self._keep_axis:
            if input_shape[a] is None:
                raise ValueError(
                    f"All `axis` values to be kept must have a known shape. Received axis={self.axis}, "
                    f"inputs.shape={tuple(input_shape)}, with unknown axis at index {a}"
                )
        self._reduce_axis = tuple(a for a in range(ndim) if a not in self._keep_axis)
        self._broadcast_shape = [input_shape[a] if a in self._keep_axis else 1 for a in range(ndim)]
        self._stats_shape = tuple(input_shape[a] for a in self._keep_axis)
        self._build_input_shape = tuple(input_shape)
        if self.input_mean is None:
            # Keras's weights: mean, variance and a sample count (non-trainable), set by adapt().
            self.adapt_mean = self.add_weight(
                shape=self._stats_shape, initializer="zeros", trainable=False, name="mean"
            )
            self.adapt_variance = self.add_weight(
                shape=self._stats_shape, initializer="ones", trainable=False, name="variance"
            )
            # (Keras creates `count` but never updates it; kept, at 0, so weight files line up with Keras's.)
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count", dtype="int32")
        else:
            device = config.get_device()
            self._fixed = [
                self._to_broadcast(torch.as_tensor(np.asarray(v, dtype="float32"), device=device), ndim)
                for v in (self.input_mean, self.input_variance)
            ]
        super().build(input_shape)

    def _to_broadcast(self, value, ndim):
        """A given mean/variance (scalar, or the trailing kept axes) -> the broadcast shape."""
        if value.ndim:
            shape = [1] * ndim
            for i in range(1, value.ndim + 1):
                shape[self._keep_axis[-i]] = value.shape[-i]
            value = value.reshape(shape)
        return value.expand(self._broadcast_shape).clone()

    # ------------------------------------------------------------------ adapt
    def adapt(self, data):
        """Computes the mean and variance of ``data`` (an array, a tensor, a PyDataset or an iterable of
        batches) over every axis except ``axis``; batches are combined exactly, as one array would be."""
        if isinstance(data, (np.ndarray, torch.Tensor)):
            batches, shape = [data], tuple(data.shape)
        elif hasattr(data, "__getitem__") and hasattr(data, "__len__") and not isinstance(data, (list, tuple)):
            batches, shape = (data[i] for i in range(len(data))), tuple(np.shape(_first_x(data[0])))
        elif hasattr(data, "__iter__"):
            iterator = iter(data)
            first = next(iterator, None)
            if first is None:
                raise ValueError("adapt() received an empty iterable (no batches). Expected at least one batch.")
            batches, shape = itertools.chain([first], iterator), tuple(np.shape(_first_x(first)))
        else:
            raise TypeError(
                f"Unsupported data type: {type(data)}. `adapt` supports NumPy arrays, tensors, "
                "PyDatasets and iterables of batches."
            )
        if self.input_mean is not None:
            raise ValueError(
                f"Layer '{self.name}' was given a fixed `mean` and `variance`: adapt() cannot change them."
            )
        if not self.built:
            self._maybe_build(shape)
        total_mean = total_var = None
        total_count = 0
        for batch in batches:
            x = _first_x(batch)
            x = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype="float64")
            for a in self._keep_axis:
                if x.shape[a] != self._build_input_shape[a]:
                    raise ValueError(
                        f"The layer was built with input_shape={self._build_input_shape}, but adapt() "
                        f"is being called with data with an incompatible shape, data.shape={x.shape}"
                    )
            mean, var = x.mean(axis=self._reduce_axis), x.var(axis=self._reduce_axis)
            count = math.prod(x.shape[a] for a in self._reduce_axis) if self._reduce_axis else 1
            if total_mean is None:
                total_mean, total_var, total_count = mean, var, count
                continue
            # Merge with the statistics so far (Chan et al.): exact, in any batch order.
            total_count += count
            w_new = count / total_count
            new_mean = total_mean * (1 - w_new) + mean * w_new
            total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - w_new) + (
                var + (mean - new_mean) ** 2
            ) * w_new
            total_mean = new_mean
        with torch.no_grad():
            self.adapt_mean.copy_(torch.as_tensor(total_mean, dtype=self.adapt_mean.dtype))
            self.adapt_variance.copy_(torch.as_tensor(total_var, dtype=self.adapt_variance.dtype))

    # ------------------------------------------------------------------ call
    def call(self, inputs):
        x = _util.cast_float(inputs, self.dtype)
        if self.input_mean is None:
            mean = self.adapt_mean.reshape(self._broadcast_shape)
            variance = self.adapt_variance.reshape(self._broadcast_shape)
        else:
            mean, variance = self._fixed
        mean, variance = _util.meta_weights(x, mean, variance)
        std = torch.clamp(torch.sqrt(variance), min=_EPSILON)
        return mean + x * std if self.invert else (x - mean) / std

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "axis": list(self.axis),
                "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(),
                "variance": np.array(self.input_variance).tolist(),
            }
        )
        return config
