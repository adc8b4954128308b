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
        if not isinstance(output_size, int) and not (
            isinstance(output_size, (tuple, list)) and len(output_size) == self.rank
        ):
            names = {
                1: "an integer or (length,) tuple",
                2: "an integer or (height, width) tuple",
                3: "an integer or (depth, height, width) tuple",
            }
            raise TypeError(
                f"`output_size` must be {names[self.rank]}. Received: {output_size} of type {type(output_size)}"
            )
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
    """Adaptive 1D average pooling to a fixed ``output_size``, whatever the input size.

    The windows are computed from the input size (PyTorch's adaptive pooling): output position ``i`` of an
    axis of input size ``n`` and output size ``m`` takes the mean over ``[floor(i * n / m), ceil((i + 1) * n / m))``.

    Args:
        output_size: int or tuple of 1 int, the output's spatial size.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.

    Input shape:
        3D tensor ``(batch, steps, channels)`` (``channels_last``) or ``(batch, channels, steps)``
        (``channels_first``).

    Output shape:
        3D tensor ``(batch, *output_size, channels)`` (``channels_last``) or
        ``(batch, channels, *output_size)`` (``channels_first``), for any input size.

    Example:

    >>> x = np.random.rand(2, 10, 3).astype("float32")
    >>> tuple(keras.layers.AdaptiveAveragePooling1D(4)(x).shape)
    (2, 4, 3)
    """

    rank, pool_mode = 1, "average"


class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Adaptive 2D average pooling to a fixed ``output_size``, whatever the input size.

    The windows are computed from the input size (PyTorch's adaptive pooling): output position ``i`` of an
    axis of input size ``n`` and output size ``m`` takes the mean over ``[floor(i * n / m), ceil((i + 1) * n / m))``.

    Args:
        output_size: int or tuple of 2 ints, the output's spatial size.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.

    Input shape:
        4D tensor ``(batch, height, width, channels)`` (``channels_last``) or ``(batch, channels, height, width)``
        (``channels_first``).

    Output shape:
        4D tensor ``(batch, *output_size, channels)`` (``channels_last``) or
        ``(batch, channels, *output_size)`` (``channels_first``), for any input size.

    Example:

    >>> x = np.random.rand(2, 13, 17, 3).astype("float32")
    >>> tuple(keras.layers.AdaptiveAveragePooling2D((4, 4))(x).shape)
    (2, 4, 4, 3)
    """

    rank, pool_mode = 2, "average"


class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Adaptive 3D average pooling to a fixed ``output_size``, whatever the input size.

    The windows are computed from the input size (PyTorch's adaptive pooling): output position ``i`` of an
    axis of input size ``n`` and output size ``m`` takes the mean over ``[floor(i * n / m), ceil((i + 1) * n / m))``.

    Args:
        output_size: int or tuple of 3 ints, the output's spatial size.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.

    Input shape:
        5D tensor ``(batch, dim1, dim2, dim3, channels)`` (``channels_last``) or ``(batch, channels, dim1, dim2, dim3)``
        (``channels_first``).

    Output shape:
        5D tensor ``(batch, *output_size, channels)`` (``channels_last``) or
        ``(batch, channels, *output_size)`` (``channels_first``), for any input size.

    Example:

    >>> x = np.random.rand(2, 5, 6, 7, 3).astype("float32")
    >>> tuple(keras.layers.AdaptiveAveragePooling3D(2)(x).shape)
    (2, 2, 2, 2, 3)
    """

    rank, pool_mode = 3, "average"


class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    """Adaptive 1D max pooling to a fixed ``output_size``, whatever the input size.

    The windows are computed from the input size (PyTorch's adaptive pooling): output position ``i`` of an
    axis of input size ``n`` and output size ``m`` takes the maximum over ``[floor(i * n / m), ceil((i + 1) * n / m))``.

    Args:
        output_size: int or tuple of 1 int, the output's spatial size.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.

    Input shape:
        3D tensor ``(batch, steps, channels)`` (``channels_last``) or ``(batch, channels, steps)``
        (``channels_first``).

    Output shape:
        3D tensor ``(batch, *output_size, channels)`` (``channels_last``) or
        ``(batch, channels, *output_size)`` (``channels_first``), for any input size.

    Example:

    >>> x = np.random.rand(2, 10, 3).astype("float32")
    >>> tuple(keras.layers.AdaptiveMaxPooling1D(4)(x).shape)
    (2, 4, 3)
    """

    rank, pool_mode = 1, "max"


class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    """Adaptive 2D max pooling to a fixed ``output_size``, whatever the input size.

    The windows are computed from the input size (PyTorch's adaptive pooling): output position ``i`` of an
    axis of input size ``n`` and output size ``m`` takes the maximum over ``[floor(i * n / m), ceil((i + 1) * n / m))``.

    Args:
        output_size: int or tuple of 2 ints, the output's spatial size.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.

    Input shape:
        4D tensor ``(batch, height, width, channels)`` (``channels_last``) or ``(batch, channels, height, width)``
        (``channels_first``).

    Output shape:
        4D tensor ``(batch, *output_size, channels)`` (``channels_last``) or
        ``(batch, channels, *output_size)`` (``channels_first``), for any input size.

    Example:

    >>> x = np.random.rand(2, 13, 17, 3).astype("float32")
    >>> tuple(keras.layers.AdaptiveMaxPooling2D((4, 4))(x).shape)
    (2, 4, 4, 3)
    """

    rank, pool_mode = 2, "max"


class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    """Adaptive 3D max pooling to a fixed ``output_size``, whatever the input size.

    The windows are computed from the input size (PyTorch's adaptive pooling): output position ``i`` of an
    axis of input size ``n`` and output size ``m`` takes the maximum over ``[floor(i * n / m), ceil((i + 1) * n / m))``.

    Args:
        output_size: int or tuple of 3 ints, the output's spatial size.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.

    Input shape:
        5D tensor ``(batch, dim1, dim2, dim3, channels)`` (``channels_last``) or ``(batch, channels, dim1, dim2, dim3)``
        (``channels_first``).

    Output shape:
        5D tensor ``(batch, *output_size, channels)`` (``channels_last``) or
        ``(batch, channels, *output_size)`` (``channels_first``), for any input size.

    Example:

    >>> x = np.random.rand(2, 5, 6, 7, 3).astype("float32")
    >>> tuple(keras.layers.AdaptiveMaxPooling3D(2)(x).shape)
    (2, 2, 2, 2, 3)
    """

    rank, pool_mode = 3, "max"
