"""Adaptive pooling layers (``keras.layers.AdaptiveAveragePooling2D`` ...): a fixed output size
whatever the input size, as PyTorch's ``nn.AdaptiveAvgPool2d``.

Output cell ``i`` of an axis of length ``n`` pools the input range ``[floor(i*n/out), ceil((i+1)*n/out))``:
the windows cover the input exactly and may overlap by one pixel when ``out`` does not divide ``n``.
"""

from strided.layers import _util
from strided.ops import nn_ops
from strided.utils import conv_utils

# The text every adaptive pooling class shares, written once and filled in for each class by ``_documented``.
_ADAPTIVE_POOLING_DOC = """The windows are computed from the input size (PyTorch's adaptive pooling): output position ``i`` of an
axis of input size ``n`` and output size ``m`` takes the {{what}} over ``[floor(i * n / m), ceil((i + 1) * n / m))``.

Args:
    output_size: int or tuple of {{ints}}, the output's spatial size.
    data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.

Input shape:
    {{input_shape}}

Output shape:
    {{output_shape}}"""

# Each rank's example: an input shape, an ``output_size`` and the output's shape (the same for max and average).
_EXAMPLES = {
    1: ((2, 10, 3), "4", (2, 4, 3)),
    2: ((2, 13, 17, 3), "(4, 4)", (2, 4, 4, 3)),
    3: ((2, 5, 6, 7, 3), "2", (2, 2, 2, 2, 3)),
}


def _example(cls):
    shape, output_size, output_shape = _EXAMPLES[cls.rank]
    return (
        f'>>> x = np.random.rand{shape}.astype("float32")\n'
        f">>> tuple(keras.layers.{cls.__name__}({output_size})(x).shape)\n{output_shape}"
    )


_documented = _util.document_family(
    _ADAPTIVE_POOLING_DOC,
    example=_example,
    what=lambda cls: "maximum" if cls.pool_mode == "max" else "mean",
    output_shape=lambda cls: _util.spatial_shape_doc(cls.rank, axes="*output_size", note=", for any input size"),
)


class BaseAdaptivePooling(_util.SpecLayer):
    """Pools each spatial axis to ``output_size`` cells.

    Args:
        output_size: int (the same for every spatial axis) or tuple of ``rank`` ints.
        data_format: 'channels_last' (default) or 'channels_first'.
    """

    rank = None
    pool_mode = None

    _config_keys = ("output_size", "data_format")

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


@_documented
class AdaptiveAveragePooling1D(BaseAdaptivePooling):
    """Adaptive 1D average pooling to a fixed ``output_size``, whatever the input size."""

    rank, pool_mode = 1, "average"


@_documented
class AdaptiveAveragePooling2D(BaseAdaptivePooling):
    """Adaptive 2D average pooling to a fixed ``output_size``, whatever the input size."""

    rank, pool_mode = 2, "average"


@_documented
class AdaptiveAveragePooling3D(BaseAdaptivePooling):
    """Adaptive 3D average pooling to a fixed ``output_size``, whatever the input size."""

    rank, pool_mode = 3, "average"


@_documented
class AdaptiveMaxPooling1D(BaseAdaptivePooling):
    """Adaptive 1D max pooling to a fixed ``output_size``, whatever the input size."""

    rank, pool_mode = 1, "max"


@_documented
class AdaptiveMaxPooling2D(BaseAdaptivePooling):
    """Adaptive 2D max pooling to a fixed ``output_size``, whatever the input size."""

    rank, pool_mode = 2, "max"


@_documented
class AdaptiveMaxPooling3D(BaseAdaptivePooling):
    """Adaptive 3D max pooling to a fixed ``output_size``, whatever the input size."""

    rank, pool_mode = 3, "max"
