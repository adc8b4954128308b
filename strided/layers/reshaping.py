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

    Input shape:
        Any tensor of rank 2 or more, ``(batch, d1, d2, ...)``.

    Output shape:
        2D tensor ``(batch, d1 * d2 * ...)``; a rank-1 input ``(batch,)`` becomes ``(batch, 1)``.

    Example:

    >>> x = np.zeros((4, 5, 5, 64), dtype="float32")
    >>> tuple(keras.layers.Flatten()(x).shape)
    (4, 1600)
    >>> keras.layers.Flatten()(keras.Input((3, 3, 64))).shape
    (None, 576)
    """

    _config_keys = ("data_format",)

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.reshape(inputs.shape[0], math.prod(inputs.shape[1:]))


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (batch axis kept); one entry may be -1 (inferred).

    Args:
        target_shape: tuple of ints, the sample shape after reshaping, e.g. ``(28, 28, 1)``.

    Input shape:
        Any tensor ``(batch, ...)`` whose sample size matches ``target_shape``.

    Output shape:
        ``(batch, *target_shape)``.

    Example:

    >>> x = np.zeros((4, 784), dtype="float32")
    >>> tuple(keras.layers.Reshape((28, 28, 1))(x).shape)
    (4, 28, 28, 1)
    >>> tuple(keras.layers.Reshape((-1, 7))(x).shape)
    (4, 112, 7)
    """

    _config_keys = ("target_shape",)

    def __init__(self, target_shape, **kwargs):
        if isinstance(target_shape, numbers.Integral):
            target_shape = (target_shape,)
        if (
            not isinstance(target_shape, (tuple, list))
            or not all(
                isinstance(d, numbers.Integral) and not isinstance(d, bool) and (d > 0 or d == -1) for d in target_shape
            )
            or list(target_shape).count(-1) > 1
        ):
            raise ValueError(
                "Invalid value for argument `target_shape`. Expected a tuple of positive integers "
                f"with at most one -1. Received: target_shape={target_shape!r}"
            )
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
        return (
            f"Layer '{self.name}' cannot reshape a sample of shape {tuple(input_shape[1:])} "
            f"({math.prod(input_shape[1:])} values) into target_shape={self.target_shape}. Total size of "
            f"the new shape must be unchanged."
        )

    def check_input(self, shape):
        if isinstance(shape, tuple) and all(d is not None for d in shape[1:]):
            self._resolve(shape)

    def call(self, inputs):
        return inputs.reshape((inputs.shape[0],) + self._resolve(tuple(inputs.shape)))


class Permute(Layer):
    """Permutes the non-batch axes, e.g. ``Permute((2, 1))`` swaps the two axes of ``(batch, a, b)``.

    Args:
        dims: tuple of the 1-indexed axes in their new order (the batch axis 0 is not included).

    Input shape:
        Any tensor ``(batch, d1, ..., dn)`` with ``n == len(dims)``.

    Output shape:
        ``(batch, d_dims[0], ..., d_dims[n-1])``: the non-batch axes reordered.

    Example:

    >>> x = np.zeros((2, 10, 64), dtype="float32")
    >>> tuple(keras.layers.Permute((2, 1))(x).shape)
    (2, 64, 10)
    """

    _config_keys = ("dims",)

    def __init__(self, dims, **kwargs):
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                f"must be consecutive and start from 1. Received dims={dims}"
            )
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)

    def check_input(self, shape):
        _util.check_spec(self, shape, ndim=len(self.dims) + 1)

    def call(self, inputs):
        return inputs.permute(0, *self.dims)


class RepeatVector(Layer):
    """Repeats a vector input ``n`` times: ``(batch, features) -> (batch, n, features)``.

    Args:
        n: positive integer, the repetition factor.

    Input shape:
        2D tensor ``(batch, features)``.

    Output shape:
        3D tensor ``(batch, n, features)``.

    Example:

    >>> x = np.array([[1.0, 2.0]], dtype="float32")
    >>> keras.layers.RepeatVector(3)(x).numpy().tolist()
    [[[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]]
    """

    _config_keys = ("n",)

    def __init__(self, n, **kwargs):
        self.n = validation.positive_int(n, "n")
        super().__init__(**kwargs)

    def check_input(self, shape):
        _util.check_spec(self, shape, ndim=2)

    def call(self, inputs):
        return inputs.unsqueeze(1).expand(-1, self.n, -1)


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
    raise ValueError(
        f"`{name}` should be an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints. "
        f"Received: {name}={value!r}"
    )


# The text ZeroPadding, Cropping and UpSampling 1D/2D/3D share, written once and filled per class by ``_spatial_doc``
# (each class its own first argument, ``extra`` ones and its summary and example).
_SPATIAL_DOC = """Args:
    {{args}}

Input shape:
    {{input_shape}}

Output shape:
    {{output_shape}}"""


def _spatial_doc(arg, extra=None):
    args = [arg, 'data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.']
    return _util.document_family(
        _SPATIAL_DOC,
        args="\n".join(_util.wrap_doc(line) for line in args + ([extra] if extra else [])),
        output_shape=lambda cls: _util.spatial_shape_doc(
            cls.rank,
            axes=", ".join(
                axis + change
                for axis, change in zip(_util.spatial_axes_doc(cls.rank).split(", "), cls._doc_change[cls.rank])
            ),
        ),
    )


class _SpatialLayer(Layer):
    """Shared by the padding/cropping/upsampling layers: rank check, spatial axes of the data format."""

    rank = None

    def _init_format(self, data_format):
        self.data_format = (
            conv_utils.normalize_data_format(data_format) if self.rank > 1 or data_format else "channels_last"
        )

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
    _doc_change = {1: [" + before + after"], 2: [" + top + bottom", " + left + right"]}
    _doc_change[3] = [f" + before{i} + after{i}" for i in (1, 2, 3)]

    _config_keys = ("padding",)

    def __init__(self, padding=1, data_format=None, **kwargs):
        self.padding = _pairs(padding, self.rank, "padding")
        super().__init__(**kwargs)
        self._init_format(data_format)

    def call(self, inputs):
        pad = [0, 0] * inputs.ndim
        for axis, (before, after) in zip(self._spatial_axes(), self.padding):
            i = inputs.ndim - 1 - axis  # F.pad lists the last axis first
            pad[2 * i], pad[2 * i + 1] = before, after
        return F.pad(inputs, pad)


@_spatial_doc("padding: int (both ends) or tuple ``(before, after)`` (default 1).")
class ZeroPadding1D(_ZeroPadding):
    """Adds zeros at the start and end of the time axis of a sequence.

    Example:

    >>> x = np.ones((1, 2, 1), dtype="float32")
    >>> keras.layers.ZeroPadding1D((1, 2))(x).numpy()[0, :, 0].tolist()
    [0.0, 1.0, 1.0, 0.0, 0.0]
    """

    rank = 1


@_spatial_doc(
    "padding: int (the same on all four sides), tuple ``(rows, cols)`` (symmetric), or "
    "``((top, bottom), (left, right))``; default 1."
)
class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around an image (what ``padding="same"`` does inside a convolution).

    Example:

    >>> x = np.ones((1, 2, 2, 1), dtype="float32")
    >>> keras.layers.ZeroPadding2D(1)(x).numpy()[0, :, :, 0].tolist()
    [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    >>> tuple(keras.layers.ZeroPadding2D(((1, 0), (2, 3)))(np.zeros((4, 28, 28, 3))).shape)
    (4, 29, 33, 3)
    """

    rank = 2


@_spatial_doc(
    "padding: int (the same everywhere), tuple of 3 ints (symmetric per axis), or 3 pairs "
    "``((before1, after1), (before2, after2), (before3, after3))``; default 1."
)
class ZeroPadding3D(_ZeroPadding):
    """Adds zeros around the three spatial axes of a volume.

    Example:

    >>> x = np.ones((1, 2, 2, 2, 3), dtype="float32")
    >>> tuple(keras.layers.ZeroPadding3D(1)(x).shape)
    (1, 4, 4, 4, 3)
    """

    rank = 3


class _Cropping(_SpatialLayer):
    _doc_change = {1: [" - start - end"], 2: [" - top - bottom", " - left - right"]}
    _doc_change[3] = [f" - start{i} - end{i}" for i in (1, 2, 3)]

    _config_keys = ("cropping",)

    def __init__(self, cropping=1, data_format=None, **kwargs):
        self.cropping = _pairs(cropping, self.rank, "cropping")
        super().__init__(**kwargs)
        self._init_format(data_format)

    def _check_sizes(self, shape):
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping):
            n = shape[axis]
            if n is not None and before + after >= n:
                raise ValueError(
                    f"Layer '{self.name}': cropping {(before, after)} removes all of spatial axis {axis} "
                    f"(length {n}); it must leave at least one element. Received: input_shape={shape}, "
                    f"cropping={self.cropping}"
                )

    def check_input(self, shape):
        super().check_input(shape)
        if isinstance(shape, tuple):
            self._check_sizes(shape)

    def call(self, inputs):
        index = [slice(None)] * inputs.ndim
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return inputs[tuple(index)]


@_spatial_doc("cropping: int, or tuple ``(start, end)``: how many steps to remove at each end (default ``(1, 1)``).")
class Cropping1D(_Cropping):
    """Crops (removes) steps at the start and end of a sequence.

    Example:

    >>> x = np.arange(12, dtype="float32").reshape(1, 6, 2)
    >>> keras.layers.Cropping1D((1, 2))(x).numpy().tolist()
    [[[2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]]
    """

    rank = 1


@_spatial_doc(
    "cropping: int (the same on all four sides), tuple ``(rows, cols)`` (symmetric), or "
    "``((top, bottom), (left, right))``; default no cropping."
)
class Cropping2D(_Cropping):
    """Crops (removes) rows and columns at the borders of an image.

    Example:

    >>> x = np.zeros((2, 28, 28, 3), dtype="float32")
    >>> tuple(keras.layers.Cropping2D(((2, 2), (4, 4)))(x).shape)
    (2, 24, 20, 3)
    >>> tuple(keras.layers.Cropping2D(1)(x).shape)
    (2, 26, 26, 3)
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):  # Keras's default: no cropping
        super().__init__(cropping, data_format, **kwargs)


@_spatial_doc(
    "cropping: int (the same everywhere), tuple of 3 ints (symmetric per axis), or 3 pairs "
    "``((start1, end1), (start2, end2), (start3, end3))``; default ``((1, 1), (1, 1), (1, 1))``."
)
class Cropping3D(_Cropping):
    """Crops (removes) slices at the borders of the three spatial axes of a volume.

    Example:

    >>> x = np.zeros((1, 8, 8, 8, 2), dtype="float32")
    >>> tuple(keras.layers.Cropping3D(((1, 1), (2, 2), (0, 3)))(x).shape)
    (1, 6, 4, 5, 2)
    """

    rank = 3


class _UpSampling(_SpatialLayer):
    _doc_change = {1: [" * size"], 2: [" * rows", " * cols"], 3: [f" * size{i}" for i in (1, 2, 3)]}
    interpolation = "nearest"  # only UpSampling2D takes another

    def __init__(self, size=2, data_format=None, **kwargs):
        self.size = conv_utils.normalize_tuple(size, self.rank, "size")
        super().__init__(**kwargs)
        self._init_format(data_format)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size[0] if self.rank == 1 else self.size  # an int in Keras's UpSampling1D config
        return config

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


@_spatial_doc("size: positive int, the upsampling factor (default 2).")
class UpSampling1D(_UpSampling):
    """Repeats each step ``size`` times along the time axis.

    Example:

    >>> x = np.array([[[1.0], [2.0]]], dtype="float32")
    >>> keras.layers.UpSampling1D(3)(x).numpy()[0, :, 0].tolist()
    [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    """

    rank = 1


@_spatial_doc(
    "size: int or tuple ``(rows, cols)``, the upsampling factors (default ``(2, 2)``).",
    extra='interpolation: ``"nearest"`` (repeats, the default), ``"bilinear"`` or ``"bicubic"``.',
)
class UpSampling2D(_UpSampling):
    """Upsamples an image: repeats rows and columns (``"nearest"``) or resizes with interpolation.

    Example:

    >>> x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32").reshape(1, 2, 2, 1)
    >>> keras.layers.UpSampling2D(2)(x).numpy()[0, :, :, 0].tolist()
    [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0], [3.0, 3.0, 4.0, 4.0]]
    >>> tuple(keras.layers.UpSampling2D((2, 3), interpolation="bilinear")(x).shape)
    (1, 4, 6, 1)
    """

    rank = 2

    _config_keys = ("interpolation",)

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        self.interpolation = validation.one_of(interpolation, "interpolation", ("nearest", "bilinear", "bicubic"))
        super().__init__(size, data_format, **kwargs)


@_spatial_doc("size: int or tuple of 3 ints, the upsampling factors (default ``(2, 2, 2)``).")
class UpSampling3D(_UpSampling):
    """Upsamples a volume by repeating each of the three spatial axes.

    Example:

    >>> x = np.zeros((1, 2, 3, 4, 5), dtype="float32")
    >>> tuple(keras.layers.UpSampling3D(2)(x).shape)
    (1, 4, 6, 8, 5)
    """

    rank = 3
