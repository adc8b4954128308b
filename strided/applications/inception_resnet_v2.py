"""InceptionResNetV2 (Szegedy et al., "Inception-v4, Inception-ResNet and the Impact of Residual
Connections on Learning", AAAI 2017).

Built from public layers in Keras's order and with Keras's names (``mixed_5b``,
``block35_1_mixed``, ``block35_1_conv``, ``block17_20_ac``, ``conv_7b``, ``predictions``; the
stem's and the branches' convolutions keep Keras's automatic names), so Keras's published ImageNet
weight files load. Each residual block adds its scaled branch with a ``CustomScaleLayer``, saved
under Keras's name (``keras.src.applications.inception_resnet_v2``) so ``.keras`` files interchange.

The model expects inputs scaled to [-1, 1]: use ``preprocess_input`` (mode ``'tf'``).
"""

import numbers

from strided import config
from strided.applications import imagenet_utils
from strided.layers.base import Layer
from strided import layers

BASE_WEIGHT_URL = imagenet_utils.KERAS_APPLICATIONS_URL + "inception_resnet_v2/"
WEIGHTS_FILES = {  # include_top -> (file, md5 hash as Keras checks it)
    True: ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5", "e693bd0210a403b3192acc6073ad2e96"),
    False: ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "d19885ff4a710c122648d3b5c3b684e4"),
}


def _channel_axis():
    return 1 if config.image_data_format() == "channels_first" else 3


class CustomScaleLayer(Layer):
    """Adds a scaled residual branch to a shortcut: ``inputs[0] + inputs[1] * scale``.

    Args:
        scale: float, the factor of the residual branch (0.17, 0.1 and 0.2 in InceptionResNetV2).

    Input shape: a list of two tensors of the same shape ``[shortcut, residual]``.
    Output shape: that shape.
    """

    _keras_module = "keras.src.applications.inception_resnet_v2"  # saved as Keras saves its own class

    _config_keys = ("scale",)

    def __init__(self, scale, **kwargs):
        if not isinstance(scale, numbers.Real) or isinstance(scale, bool):
            raise TypeError(f"Invalid type for argument `scale`. Expected a float. Received: scale={scale!r}")
        self.scale = scale
        super().__init__(**kwargs)

    def check_input(self, shape):
        if not isinstance(shape, (list, tuple)) or len(shape) != 2 or not all(isinstance(s, tuple) for s in shape):
            raise ValueError(
                f"Layer '{self.name}' (CustomScaleLayer) expects a list of two tensors "
                f"[shortcut, residual]. Received inputs of shape {shape}"
            )

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale


def conv2d_bn(x, filters, kernel_size, strides=1, padding="same", activation="relu", use_bias=False, name=None):
    """``Conv2D`` then (without a bias) ``BatchNormalization(scale=False)`` and an activation.

    Args:
        x: input tensor.
        filters, kernel_size, strides, padding, use_bias: as in ``Conv2D``.
        activation: activation after the normalization (``None``: none).
        name: the convolution's name; the normalization and the activation get ``name + '_bn'`` and
            ``name + '_ac'`` (automatic names when ``None``).

    Returns:
        The output tensor.
    """
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=_channel_axis(), scale=False, name=None if name is None else f"{name}_bn")(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """One Inception-ResNet block: ``x + scale * conv1x1(concat(branches(x)))``, then ``activation``.

    Args:
        x: input tensor.
        scale: factor of the residual branch.
        block_type: ``'block35'`` (Inception-ResNet-A), ``'block17'`` (B) or ``'block8'`` (C).
        block_idx: number of the block, used in the layer names (``block35_1_mixed``...).
        activation: activation at the end of the block (``None``: none).

    Returns:
        The block's output tensor.
    """
    if block_type == "block35":
        branches = [
            conv2d_bn(x, 32, 1),
            conv2d_bn(conv2d_bn(x, 32, 1), 32, 3),
            conv2d_bn(conv2d_bn(conv2d_bn(x, 32, 1), 48, 3), 64, 3),
        ]
    elif block_type == "block17":
        branches = [conv2d_bn(x, 192, 1), conv2d_bn(conv2d_bn(conv2d_bn(x, 128, 1), 160, [1, 7]), 192, [7, 1])]
    elif block_type == "block8":
        branches = [conv2d_bn(x, 192, 1), conv2d_bn(conv2d_bn(conv2d_bn(x, 192, 1), 224, [1, 3]), 256, [3, 1])]
    else:
        raise ValueError(
            f'Unknown Inception-ResNet block type. Expects "block35", "block17" or "block8", but got: {block_type}'
        )
    block_name = f"{block_type}_{block_idx}"
    axis = _channel_axis()
    mixed = layers.Concatenate(axis=axis, name=f"{block_name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[axis], 1, activation=None, use_bias=True, name=f"{block_name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{block_name}_ac")(x)
    return x


def build_inception_resnet_v2(args):
    """InceptionResNetV2's layers, from the arguments of one call (see ``InceptionResNetV2``)."""
    img_input = args.image_input(default_size=299, min_size=75)
    axis = _channel_axis()

    # Stem: 35 x 35 x 192 at the default size.
    x = conv2d_bn(img_input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)

    # Mixed 5b (Inception-A): 35 x 35 x 320.
    branches = [
        conv2d_bn(x, 96, 1),
        conv2d_bn(conv2d_bn(x, 48, 1), 64, 5),
        conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1), 96, 3), 96, 3),
        conv2d_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1),
    ]
    x = layers.Concatenate(axis=axis, name="mixed_5b")(branches)
    for block_idx in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=block_idx)

    # Mixed 6a (Reduction-A): 17 x 17 x 1088.
    branches = [
        conv2d_bn(x, 384, 3, strides=2, padding="valid"),
        conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 256, 3), 384, 3, strides=2, padding="valid"),
        layers.MaxPooling2D(3, strides=2, padding="valid")(x),
    ]
    x = layers.Concatenate(axis=axis, name="mixed_6a")(branches)
    for block_idx in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=block_idx)

    # Mixed 7a (Reduction-B): 8 x 8 x 2080.
    branches = [
        conv2d_bn(conv2d_bn(x, 256, 1), 384, 3, strides=2, padding="valid"),
        conv2d_bn(conv2d_bn(x, 256, 1), 288, 3, strides=2, padding="valid"),
        conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 288, 3), 320, 3, strides=2, padding="valid"),
        layers.MaxPooling2D(3, strides=2, padding="valid")(x),
    ]
    x = layers.Concatenate(axis=axis, name="mixed_7a")(branches)
    for block_idx in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=block_idx)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8", block_idx=10)

    x = conv2d_bn(x, 1536, 1, name="conv_7b")  # 8 x 8 x 1536
    x = args.top(x, named_pooling=False)
    file_name, file_hash = WEIGHTS_FILES[bool(args.include_top)] if args.weights == "imagenet" else (None, None)
    return args.model(img_input, x, file_name, file_hash, BASE_WEIGHT_URL)


_ARGS = imagenet_utils.COMMON_ARGS + (("name", "inception_resnet_v2"),)
_NOTE = """

    The model expects inputs scaled to [-1, 1]: call
    ``strided.applications.inception_resnet_v2.preprocess_input`` on pixels in [0, 255]."""
InceptionResNetV2 = imagenet_utils.variant(
    build_inception_resnet_v2, "InceptionResNetV2", _ARGS, "55,873,736", 299, 75, note=_NOTE
)


preprocess_input = imagenet_utils.preprocess_input_for("InceptionResNetV2", "tf")
decode_predictions = imagenet_utils.decode_predictions
