"""Pooling layers: max and average pooling (1D/2D/3D) and their global versions."""
import torch

from strided.layers import _util
from strided.ops import kernels
from strided.utils import conv_utils, validation


class BasePooling(_util.SpecLayer):
    """Max or average pooling over windows of ``pool_size``.

    Args:
        pool_size: int or tuple of ``rank`` ints, the window size (tf.keras default ``2`` per axis).
        strides: int or tuple; ``None`` means ``pool_size`` (non-overlapping windows).
        padding: 'valid' or 'same' (any case). With 'same', padded pixels never win a max and are not
            counted in an average (TensorFlow).
        data_format: 'channels_last' (default) or 'channels_first'.

    Output size per spatial axis: 'valid' ``floor((n - k) / s) + 1``; 'same' ``ceil(n / s)``.
    """

    rank = None
    pool_mode = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        r = self.rank
        self.pool_size = conv_utils.normalize_tuple(2 if pool_size is None else pool_size, r, "pool_size")
        self.strides = self.pool_size if strides is None else conv_utils.normalize_tuple(strides, r, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self._spec_ndim = r + 2
        super().__init__(**kwargs)

    def call(self, inputs):
        fn = kernels.max_pool if self.pool_mode == "max" else kernels.average_pool
        return fn(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding, "strides": self.strides,
                       "data_format": self.data_format})
        return config


class MaxPooling1D(BasePooling):
    """Max pooling over the steps of ``(batch, steps, features)``. Args: as ``BasePooling``."""
    rank, pool_mode = 1, "max"


class MaxPooling2D(BasePooling):
    """Max pooling over ``(batch, rows, cols, channels)``, e.g. ``MaxPooling2D((2, 2))`` halves rows and cols.

    Args: as ``BasePooling`` (``pool_size`` default ``(2, 2)``).
    """
    rank, pool_mode = 2, "max"


class MaxPooling3D(BasePooling):
    """Max pooling over ``(batch, d1, d2, d3, channels)``. Args: as ``BasePooling``."""
    rank, pool_mode = 3, "max"


class AveragePooling1D(BasePooling):
    """Average pooling, 1D. Args: as ``BasePooling``."""
    rank, pool_mode = 1, "average"


class AveragePooling2D(BasePooling):
    """Average pooling, 2D (``AveragePooling2D()`` pools 2x2 windows). Args: as ``BasePooling``."""
    rank, pool_mode = 2, "average"


class AveragePooling3D(BasePooling):
    """Average pooling, 3D. Args: as ``BasePooling``."""
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

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Max over steps: ``(batch, steps, features) -> (batch, features)``. Args: as ``BaseGlobalPooling``."""
    rank, pool_mode = 1, "max"


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Max over rows and cols: ``(batch, rows, cols, channels) -> (batch, channels)``."""
    rank, pool_mode = 2, "max"


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Max over the three spatial axes. Args: as ``BaseGlobalPooling``."""
    rank, pool_mode = 3, "max"


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over steps. Args: as ``BaseGlobalPooling``.

    Call arguments: ``inputs``, optional ``mask`` ``(batch, steps)`` (by default the mask an upstream layer
    such as ``Embedding(mask_zero=True)`` attached): the mean is then taken over the unmasked steps only.
    The output carries no mask.
    """
    supports_masking = True
    rank, pool_mode = 1, "average"

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        if not inputs.is_floating_point():
            inputs = _util.cast_float(inputs, self.dtype)
        steps = 1 if self.data_format == "channels_last" else 2
        keep = torch.as_tensor(mask, device=inputs.device).to(torch.bool).unsqueeze(
            2 if self.data_format == "channels_last" else 1)
        total = torch.where(keep, inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device))
        return (total.sum(dim=steps, keepdim=self.keepdims)
                / keep.to(inputs.dtype).sum(dim=steps, keepdim=self.keepdims))

    def compute_mask(self, inputs, mask=None):
        """None: the steps are averaged away (Keras)."""
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over rows and cols: ``(batch, rows, cols, channels) -> (batch, channels)``."""
    rank, pool_mode = 2, "average"


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over the three spatial axes. Args: as ``BaseGlobalPooling``."""
    rank, pool_mode = 3, "average"


# Keras aliases.
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)
