"""Adaptive pooling layers (``keras.layers.AdaptiveAveragePooling2D`` ...): a fixed output size
whatever the input size, as PyTorch's ``nn.AdaptiveAvgPool2d``.

Output cell ``i`` of an axis of length ``n`` pools the input range ``[floor(i*n/out), ceil((i+1)*n/out))``:
the windows cover the input exactly and may overlap by one pixel when ``out`` does not divide ``n``.
"""
from strided.layers import _util
from strided.ops import nn_ops
from strided.utils import conv_utils


class BaseAdaptivePooling(_util.SpecLayer):
    """Pools each spatial axis to ``output_size`` cells.

    Args:
        output_size: int (the same for every spatial axis) or tuple of ``rank`` ints.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    rank = None
    pool_mode = None

    def __init__(self, output_size, data_format=None, **kwargs):
        if not isinstance(output_size, int) and not (isinstance(output_size, (tuple, list))
                                                     and len(output_size) == self.rank):
            names = {1: "an integer or (length,) tuple", 2: "an integer or (height, width) tuple",
                     3: "an integer or (depth, height, width) tuple"}
            raise TypeError(f"`output_size` must be {names[self.rank]}. Received: {output_size} of type "
                            f"{type(output_size)}")
        self.output_size = conv_utils.normalize_tuple(output_size, self.rank, "output_size")
        self.data_format = conv_utils.normalize_data_format(data_format)
        self._spec_ndim = self.rank + 2
        super().__init__(**kwargs)

    def call(self, inputs):
        pool = nn_ops.adaptive_average_pool if self.pool_mode == "average" else nn_ops.adaptive_max_pool
        return pool(_util.cast_float(inputs, self.dtype), self.output_size, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update({"output_size": self.output_size, "data_format": self.data_format})
        return config


class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    """Averages ``(batch, steps, features)`` to ``output_size`` steps."""
    rank, pool_mode = 1, "average"


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Averages ``(batch, rows, cols, channels)`` to ``output_size`` rows and cols."""
    rank, pool_mode = 2, "average"


class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Averages the three spatial axes to ``output_size``."""
    rank, pool_mode = 3, "average"


class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    """Max over ``(batch, steps, features)`` to ``output_size`` steps."""
    rank, pool_mode = 1, "max"


class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    """Max over ``(batch, rows, cols, channels)`` to ``output_size`` rows and cols."""
    rank, pool_mode = 2, "max"


class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    """Max over the three spatial axes to ``output_size``."""
    rank, pool_mode = 3, "max"
