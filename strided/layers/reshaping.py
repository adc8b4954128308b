"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, ZeroPadding, Cropping, UpSampling."""
import math
import numbers

import torch.nn.functional as F

from strided.layers import _util
from strided.layers.base import Layer
from strided.utils import conv_utils, validation


class Flatten(Layer):
    """Flattens each sample to a vector: ``(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)``.

    The order is channels_last (row, column, channel), as in Keras, so Dense weights ported from Keras
    line up. With ``data_format='channels_first'`` the input is first moved to channels_last order.

    Args:
        data_format: layout of the input ('channels_last' default or 'channels_first').
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.reshape(inputs.shape[0], math.prod(inputs.shape[1:]))

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (batch axis kept); one entry may be -1 (inferred).

    Args:
        target_shape: tuple of ints, the sample shape after reshaping, e.g. ``(28, 28, 1)``.
    """

    def __init__(self, target_shape, **kwargs):
        if isinstance(target_shape, numbers.Integral):
            target_shape = (target_shape,)
        if not isinstance(target_shape, (tuple, list)) or not all(
                isinstance(d, numbers.Integral) and not isinstance(d, bool) and (d > 0 or d == -1)
                for d in target_shape) or list(target_shape).count(-1) > 1:
            raise ValueError("Invalid value for argument `target_shape`. Expected a tuple of positive integers "
                             f"with at most one -1. Received: target_shape={target_shape!r}")
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def _resolve(self, input_shape):
        known = math.prod(d for d in self.target_shape if d != -1)
        size = math.prod(input_shape[1:])
        if -1 in self.target_shape:
            if known == 0 or size % known:
                raise ValueError(self._message(input_shape))
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if size != known:
            raise ValueError(self._message(input_shape))
        return self.target_shape

    def _message(self, input_shape):
        return (f"Layer '{self.name}' cannot reshape a sample of shape {tuple(input_shape[1:])} "
                f"({math.prod(input_shape[1:])} values) into target_shape={self.target_shape}. Total size of "
                f"the new shape must be unchanged.")

    def check_input(self, shape):
        if isinstance(shape, tuple) and all(d is not None for d in shape[1:]):
            self._resolve(shape)

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self._resolve(tuple(inputs.shape)))

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Permute(Layer):
    """Permutes the non-batch axes, e.g. ``Permute((2, 1))`` swaps the two axes of ``(batch, a, b)``.

    Args:
        dims: tuple of the 1-indexed axes in their new order (the batch axis 0 is not included).
    """

    def __init__(self, dims, **kwargs):
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={dims}")
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)

    def check_input(self, shape):
        _util.check_spec(self, shape, ndim=len(self.dims) + 1)

    def call(self, inputs):
        return inputs.permute(0, *self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """Repeats a vector input ``n`` times: ``(batch, features) -> (batch, n, features)``.

    Args:
        n: positive integer, the repetition factor.
    """

    def __init__(self, n, **kwargs):
        self.n = validation.positive_int(n, "n")
        super().__init__(**kwargs)

    def check_input(self, shape):
        _util.check_spec(self, shape, ndim=2)

    def call(self, inputs):
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


def _pairs(value, rank, name):
    """Keras padding/cropping spec -> ((before, after),) * rank.

    1D: int or (before, after). 2D/3D: int, a tuple of ``rank`` ints (symmetric per axis) or a tuple of
    ``rank`` pairs.
    """
    def nonneg(v):
        return validation.positive_int(v, name, allow_zero=True)

    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return ((nonneg(value),) * 2,) * rank
    if rank == 1 and isinstance(value, (tuple, list)) and len(value) == 2:
        return ((nonneg(value[0]), nonneg(value[1])),)
    if isinstance(value, (tuple, list)) and len(value) == rank:
        out = []
        for v in value:
            if isinstance(v, (tuple, list)) and len(v) == 2:
                out.append((nonneg(v[0]), nonneg(v[1])))
            elif isinstance(v, numbers.Integral) and not isinstance(v, bool):
                out.append((nonneg(v),) * 2)
            else:
                break
        else:
            return tuple(out)
    raise ValueError(f"`{name}` should be an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints. "
                     f"Received: {name}={value!r}")


class _SpatialLayer(Layer):
    """Shared by the padding/cropping/upsampling layers: rank check, spatial axes of the data format."""

    rank = None

    def _init_format(self, data_format):
        self.data_format = conv_utils.normalize_data_format(data_format) if self.rank > 1 or data_format \
            else "channels_last"

    def _spatial_axes(self):
        start = 1 if self.data_format == "channels_last" else 2
        return list(range(start, start + self.rank))

    def check_input(self, shape):
        _util.check_spec(self, shape, ndim=self.rank + 2)

    def _check_build_shape(self, input_shape):
        _util.check_spec(self, tuple(input_shape), ndim=self.rank + 2)

    def get_config(self):
        config = super().get_config()
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class _ZeroPadding(_SpatialLayer):
    def __init__(self, padding, data_format=None, **kwargs):
        self.padding = _pairs(padding, self.rank, "padding")
        super().__init__(**kwargs)
        self._init_format(data_format)

    def call(self, inputs):
        pad = [0, 0] * inputs.ndim
        for axis, (before, after) in zip(self._spatial_axes(), self.padding):
            i = inputs.ndim - 1 - axis  # F.pad lists the last axis first
            pad[2 * i], pad[2 * i + 1] = before, after
        return F.pad(inputs, pad)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding
        return config


class ZeroPadding1D(_ZeroPadding):
    """Adds zeros at the start and end of the steps axis of ``(batch, steps, features)``.

    Args:
        padding: int (both ends) or ``(before, after)``; default 1.
    """
    rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around an image.

    Args:
        padding: int (all sides), ``(rows, cols)`` (symmetric) or ``((top, bottom), (left, right))``; default 1.
        data_format: 'channels_last' (default) or 'channels_first'.
    """
    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Zero padding of the three spatial axes. Args: padding (int, 3 ints or 3 pairs; default 1), data_format."""
    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(_SpatialLayer):
    def __init__(self, cropping, data_format=None, **kwargs):
        self.cropping = _pairs(cropping, self.rank, "cropping")
        super().__init__(**kwargs)
        self._init_format(data_format)

    def _check_sizes(self, shape):
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping):
            n = shape[axis]
            if n is not None and before + after >= n:
                raise ValueError(f"Layer '{self.name}': cropping {(before, after)} removes all of spatial axis {axis} "
                                 f"(length {n}); it must leave at least one element. Received: input_shape={shape}, "
                                 f"cropping={self.cropping}")

    def check_input(self, shape):
        super().check_input(shape)
        if isinstance(shape, tuple):
            self._check_sizes(shape)

    def call(self, inputs):
        index = [slice(None)] * inputs.ndim
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config


class Cropping1D(_Cropping):
    """Crops the steps axis. Args: cropping (int or ``(start, end)``; default ``(1, 1)``)."""
    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
    """Crops rows and columns of an image.

    Args:
        cropping: int, ``(rows, cols)`` (symmetric) or ``((top, bottom), (left, right))``; default no cropping.
        data_format: 'channels_last' (default) or 'channels_first'.
    """
    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the three spatial axes. Args: cropping (default ``((1, 1),) * 3``), data_format."""
    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class _UpSampling(_SpatialLayer):
    def __init__(self, size, data_format=None, interpolation="nearest", **kwargs):
        self.size = conv_utils.normalize_tuple(size, self.rank, "size")
        self.interpolation = validation.one_of(interpolation, "interpolation", ("nearest", "bilinear", "bicubic"))
        super().__init__(**kwargs)
        self._init_format(data_format)

    def call(self, inputs):
        if self.interpolation == "nearest":
            for axis, s in zip(self._spatial_axes(), self.size):
                if s != 1:
                    inputs = inputs.repeat_interleave(s, dim=axis)
            return inputs
        x = inputs.movedim(-1, 1) if self.data_format == "channels_last" else inputs
        out = tuple(n * s for n, s in zip(x.shape[2:], self.size))
        y = F.interpolate(x, size=out, mode=self.interpolation, align_corners=False)
        return y.movedim(1, -1) if self.data_format == "channels_last" else y


class UpSampling1D(_UpSampling):
    """Repeats each step ``size`` times: ``(batch, steps, features) -> (batch, steps * size, features)``.

    Args:
        size: positive int, the upsampling factor (default 2).
    """
    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Repeats rows and columns (``'nearest'``) or resizes bilinearly.

    Args:
        size: int or ``(rows, cols)`` factors (default ``(2, 2)``).
        data_format: 'channels_last' (default) or 'channels_first'.
        interpolation: 'nearest' (default), 'bilinear' or 'bicubic'.
    """
    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "interpolation": self.interpolation})
        return config


class UpSampling3D(_UpSampling):
    """Repeats each of the three spatial axes. Args: size (default ``(2, 2, 2)``), data_format."""
    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config
