"""Pooling layers: max and average pooling (1D/2D/3D) and their global versions."""

import torch

from strided.layers import _util
from strided.ops import _kernels
from strided.utils import conv_utils, validation

# The text every pooling class shares, written once and filled in for each class by its decorator.
_POOLING_DOC = """Slides a ``pool_size`` window over the spatial axes with step ``strides`` and keeps the {{what}} of each
window, for each channel separately. No weights.
{{same_padding}}

Args:
    pool_size: int or tuple of {{ints}}, the window size (default 2).
    strides: int or tuple of {{ints}} or ``None`` (default: ``pool_size``, windows that do not overlap).
    padding: ``"valid"`` (windows that do not fit are dropped) or ``"same"`` (the input is padded so that
        the output size is ``ceil(n / strides)``). Case-insensitive.
    data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.

Input shape:
    {{input_shape}}

Output shape:
    {{output_shape}}

    Each spatial size ``n`` becomes, with pool size ``p`` and stride ``s``:

    - ``padding="valid"``: ``floor((n - p) / s) + 1``;
    - ``padding="same"``: ``ceil(n / s)``."""

_GLOBAL_POOLING_DOC = """Often used instead of ``Flatten`` before the classifier of a CNN: each feature map becomes one number.
No weights.

Args:
    data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
    keepdims: bool; ``True`` keeps the spatial axes with size 1 (default ``False``).

Input shape:
    {{input_shape}}

Output shape:
    2D tensor ``(batch, channels)``; with ``keepdims=True``, ``(batch, {{ones}}, channels)``
    (``channels_last``) or ``(batch, channels, {{ones}})`` (``channels_first``)."""

_pooling_doc = _util.document_family(
    _POOLING_DOC,
    what=lambda cls: "maximum" if cls.pool_mode == "max" else "mean",
    same_padding=lambda cls: (
        'With ``padding="same"`` the zero padding is never picked (it counts as minus infinity).'
        if cls.pool_mode == "max"
        else 'With ``padding="same"`` the padded positions are not counted in the mean.'
    ),
    output_shape=lambda cls: _util.spatial_shape_doc(cls.rank, axes=_util.spatial_axes_doc(cls.rank, new=True)),
)
# Each rank's example input: the global poolings reduce it to ``(batch, channels)``.
_GLOBAL_EXAMPLE_INPUTS = {1: (4, 10, 8), 2: (4, 7, 7, 8), 3: (2, 4, 4, 4, 8)}


def _global_example(cls):
    shape = _GLOBAL_EXAMPLE_INPUTS[cls.rank]
    layer, spatial = f"keras.layers.{cls.__name__}", tuple(range(1, cls.rank + 1))
    reduce = "max" if cls.pool_mode == "max" else "mean"
    return (
        f'>>> x = np.random.rand{shape}.astype("float32")\n'
        f">>> tuple({layer}()(x).shape)\n{(shape[0], shape[-1])}\n"
        f">>> tuple({layer}(keepdims=True)(x).shape)\n{(shape[0], *[1] * cls.rank, shape[-1])}\n"
        f">>> np.allclose({layer}()(x), x.{reduce}(axis={spatial}), atol=1e-6)\nTrue"
    )


_global_pooling_doc = _util.document_family(
    _GLOBAL_POOLING_DOC, example=_global_example, ones=lambda cls: ", ".join(["1"] * cls.rank)
)


class BasePooling(_util.SpecLayer):
    """Max or average pooling over windows of ``pool_size``.

    Args:
        pool_size: int or tuple of ``rank`` ints, the window size (tf.keras default ``2`` per axis).
        strides: int or tuple; ``None`` means ``pool_size`` (non-overlapping windows).
        padding: 'valid' or 'same' (any case). With 'same', padded pixels never win a max and are not
            counted in an average (TensorFlow).
        data_format: 'channels_last' (default) or 'channels_first'.
        name: the layer's name (Keras's fifth positional argument).

    Output size per spatial axis: 'valid' ``floor((n - k) / s) + 1``; 'same' ``ceil(n / s)``.
    """

    rank = None
    pool_mode = None

    _config_keys = ("pool_size", "padding", "strides", "data_format")

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        r = self.rank
        self.pool_size = conv_utils.normalize_tuple(2 if pool_size is None else pool_size, r, "pool_size")
        self.strides = self.pool_size if strides is None else conv_utils.normalize_tuple(strides, r, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self._spec_ndim = r + 2
        super().__init__(name=name, **kwargs)

    def call(self, inputs):
        return self._pool(inputs, self.data_format)

    def _pool(self, x, data_format):
        fn = _kernels.max_pool if self.pool_mode == "max" else _kernels.average_pool
        return fn(x, self.pool_size, self.strides, self.padding, data_format)

    def _channels_first_call(self):
        """Pooling works on the channels-first view of channels_last data like a convolution, so a Sequential
        chain of Conv and pooling layers keeps one view (see ``BaseConv._channels_first_call``)."""
        if self.data_format != "channels_last" or type(self).call is not BasePooling.call:
            return None
        return self._call_channels_first, False

    def _call_channels_first(self, xt):
        return self._pool(xt, "channels_first")


@_pooling_doc
class MaxPooling1D(BasePooling):
    """1D max pooling: the maximum of each window, channel by channel.

    Example:

    >>> x = np.array([1, 5, 2, 8, 3], dtype="float32").reshape(1, 5, 1)
    >>> keras.layers.MaxPooling1D(2)(x)[0, :, 0].tolist()
    [5.0, 8.0]
    >>> keras.layers.MaxPooling1D(2, padding="same")(x)[0, :, 0].tolist()
    [5.0, 8.0, 3.0]
    """

    rank, pool_mode = 1, "max"


@_pooling_doc
class MaxPooling2D(BasePooling):
    """2D max pooling: the maximum of each window, channel by channel.

    Example:

    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> keras.layers.MaxPooling2D(2)(x)[0, :, :, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    >>> tuple(keras.layers.MaxPooling2D(2)(np.zeros((4, 26, 26, 32), "float32")).shape)
    (4, 13, 13, 32)
    >>> tuple(keras.layers.MaxPooling2D(3, strides=2, padding="same")(np.zeros((4, 26, 26, 32), "float32")).shape)
    (4, 13, 13, 32)
    """

    rank, pool_mode = 2, "max"


@_pooling_doc
class MaxPooling3D(BasePooling):
    """3D max pooling: the maximum of each window, channel by channel.

    Example:

    >>> x = np.random.rand(2, 8, 8, 8, 3).astype("float32")
    >>> tuple(keras.layers.MaxPooling3D(2)(x).shape)
    (2, 4, 4, 4, 3)
    """

    rank, pool_mode = 3, "max"


@_pooling_doc
class AveragePooling1D(BasePooling):
    """1D average pooling: the mean of each window, channel by channel.

    Example:

    >>> x = np.array([1, 5, 2, 8, 3], dtype="float32").reshape(1, 5, 1)
    >>> keras.layers.AveragePooling1D(2)(x)[0, :, 0].tolist()
    [3.0, 5.0]
    >>> keras.layers.AveragePooling1D(2, padding="same")(x)[0, :, 0].tolist()
    [3.0, 5.0, 3.0]
    """

    rank, pool_mode = 1, "average"


@_pooling_doc
class AveragePooling2D(BasePooling):
    """2D average pooling: the mean of each window, channel by channel.

    Example:

    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> keras.layers.AveragePooling2D(2)(x)[0, :, :, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    >>> tuple(keras.layers.AveragePooling2D(2)(np.zeros((4, 27, 27, 6), "float32")).shape)
    (4, 13, 13, 6)
    """

    rank, pool_mode = 2, "average"


@_pooling_doc
class AveragePooling3D(BasePooling):
    """3D average pooling: the mean of each window, channel by channel.

    Example:

    >>> x = np.random.rand(2, 8, 8, 8, 3).astype("float32")
    >>> tuple(keras.layers.AveragePooling3D(2)(x).shape)
    (2, 4, 4, 4, 3)
    """

    rank, pool_mode = 3, "average"


class BaseGlobalPooling(_util.SpecLayer):
    """Max or mean over all spatial positions.

    Args:
        data_format: 'channels_last' (default) or 'channels_first'.
        keepdims: keep the spatial axes with length 1 (``(batch, 1, 1, channels)``) instead of
            returning ``(batch, channels)``.
    """

    rank = None
    pool_mode = None

    _config_keys = ("data_format", "keepdims")

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.keepdims = validation.boolean(keepdims, "keepdims")
        self._spec_ndim = self.rank + 2
        super().__init__(**kwargs)

    def call(self, inputs):
        start = 1 if self.data_format == "channels_last" else 2
        axes = tuple(range(start, start + self.rank))
        if self.pool_mode == "max":
            return inputs.amax(dim=axes, keepdim=self.keepdims)
        if not inputs.is_floating_point():
            inputs = _util.cast_float(inputs, self.dtype)
        return inputs.mean(dim=axes, keepdim=self.keepdims)


@_global_pooling_doc
class GlobalMaxPooling1D(BaseGlobalPooling):
    """Global max pooling over the 1 spatial axes: one maximum per channel."""

    rank, pool_mode = 1, "max"


@_global_pooling_doc
class GlobalMaxPooling2D(BaseGlobalPooling):
    """Global max pooling over the 2 spatial axes: one maximum per channel."""

    rank, pool_mode = 2, "max"


@_global_pooling_doc
class GlobalMaxPooling3D(BaseGlobalPooling):
    """Global max pooling over the 3 spatial axes: one maximum per channel."""

    rank, pool_mode = 3, "max"


@_global_pooling_doc
class GlobalAveragePooling1D(BaseGlobalPooling):
    """Global average pooling over the 1 spatial axes: one mean per channel.

    Call arguments:
        inputs: a 3D tensor.
        mask: optional boolean ``(batch, steps)`` mask; masked steps are left out of the mean.
    """

    supports_masking = True
    rank, pool_mode = 1, "average"

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        if not inputs.is_floating_point():
            inputs = _util.cast_float(inputs, self.dtype)
        steps = 1 if self.data_format == "channels_last" else 2
        keep = (
            torch.as_tensor(mask, device=inputs.device)
            .to(torch.bool)
            .unsqueeze(2 if self.data_format == "channels_last" else 1)
        )
        total = torch.where(keep, inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device))
        return total.sum(dim=steps, keepdim=self.keepdims) / keep.to(inputs.dtype).sum(dim=steps, keepdim=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        """None: the steps are averaged away (Keras)."""
        return None


@_global_pooling_doc
class GlobalAveragePooling2D(BaseGlobalPooling):
    """Global average pooling over the 2 spatial axes: one mean per channel."""

    rank, pool_mode = 2, "average"


@_global_pooling_doc
class GlobalAveragePooling3D(BaseGlobalPooling):
    """Global average pooling over the 3 spatial axes: one mean per channel."""

    rank, pool_mode = 3, "average"


# Keras aliases.
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
)
