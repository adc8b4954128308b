"""InceptionV3 (Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", 2016).

Built from public layers as Keras builds it, so Keras's published ImageNet weight files load: every
convolution is a bias-free ``Conv2D`` + ``BatchNormalization(scale=False)`` + ReLU, with Keras's
automatic names (``conv2d``, ``batch_normalization``, ``activation``...); the module outputs are
named ``mixed0`` ... ``mixed10`` (and ``mixed9_0``, ``mixed9_1`` inside the last two modules), the
top ``avg_pool`` and ``predictions``. Default input 299x299x3, minimum 75x75. Preprocess with
``preprocess_input`` ('tf' mode: [-1, 1]).
"""

from strided import config
from strided.applications import imagenet_utils
from strided import layers

BASE_WEIGHTS_PATH = imagenet_utils.KERAS_APPLICATIONS_URL + "inception_v3/"
TOP_FILE = ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5", "9a0d58056eeedaa3f26cb7ebd46da564")
NOTOP_FILE = ("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "bcbd6486424b2319ff4ef7d526e38f63")


def _channel_axis():
    return 1 if config.image_data_format() == "channels_first" else 3


def conv2d_bn(x, filters, num_row, num_col, padding="same", strides=(1, 1), name=None):
    """``Conv2D`` (no bias) -> ``BatchNormalization(scale=False)`` -> ReLU, the unit InceptionV3 is made of.

    Args:
        x: input tensor.
        filters: number of convolution filters.
        num_row, num_col: kernel height and width (the factorized 1x7 / 7x1 kernels are not square).
        padding: ``'same'`` (default) or ``'valid'``.
        strides: convolution strides.
        name: optional prefix: the layers are then ``{name}_conv``, ``{name}_bn`` and ``{name}``.
            Keras's InceptionV3 names none of them.

    Returns:
        The activated output tensor.
    """
    conv_name, bn_name = (f"{name}_conv", f"{name}_bn") if name is not None else (None, None)
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False, name=conv_name)(x)
    # The ReLU that follows makes a BN scale redundant, so the original model (and Keras) drops gamma.
    x = layers.BatchNormalization(axis=_channel_axis(), scale=False, name=bn_name)(x)
    return layers.Activation("relu", name=name)(x)


def _avg_pool_branch(x, filters):
    branch = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(branch, filters, 1, 1)


def _module_a(x, pool_filters, name):
    """35x35 module (mixed0-2): 1x1, 5x5, double 3x3 and pooled branches."""
    branch1x1 = conv2d_bn(x, 64, 1, 1)
    branch5x5 = conv2d_bn(x, 48, 1, 1)
    branch5x5 = conv2d_bn(branch5x5, 64, 5, 5)
    branch3x3dbl = conv2d_bn(x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch_pool = _avg_pool_branch(x, pool_filters)
    return layers.concatenate([branch1x1, branch5x5, branch3x3dbl, branch_pool], axis=_channel_axis(), name=name)


def _reduction_a(x):
    """35x35 -> 17x17 (mixed3): strided 3x3, strided double 3x3 and max-pooled branches."""
    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    branch3x3dbl = conv2d_bn(x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return layers.concatenate([branch3x3, branch3x3dbl, branch_pool], axis=_channel_axis(), name="mixed3")


def _module_c(x, width, name):
    """17x17 module (mixed4-7): 7x7 convolutions factorized into 1x7 and 7x1, ``width`` inner filters."""
    branch1x1 = conv2d_bn(x, 192, 1, 1)
    branch7x7 = conv2d_bn(x, width, 1, 1)
    branch7x7 = conv2d_bn(branch7x7, width, 1, 7)
    branch7x7 = conv2d_bn(branch7x7, 192, 7, 1)
    branch7x7dbl = conv2d_bn(x, width, 1, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, width, 7, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, width, 1, 7)
    branch7x7dbl = conv2d_bn(branch7x7dbl, width, 7, 1)
    branch7x7dbl = conv2d_bn(branch7x7dbl, 192, 1, 7)
    branch_pool = _avg_pool_branch(x, 192)
    return layers.concatenate([branch1x1, branch7x7, branch7x7dbl, branch_pool], axis=_channel_axis(), name=name)


def _reduction_b(x):
    """17x17 -> 8x8 (mixed8)."""
    branch3x3 = conv2d_bn(x, 192, 1, 1)
    branch3x3 = conv2d_bn(branch3x3, 320, 3, 3, strides=(2, 2), padding="valid")
    branch7x7x3 = conv2d_bn(x, 192, 1, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 1, 7)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 7, 1)
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return layers.concatenate([branch3x3, branch7x7x3, branch_pool], axis=_channel_axis(), name="mixed8")


def _module_e(x, index):
    """8x8 module (mixed9, mixed10): the 3x3 branches end in parallel 1x3 and 3x1 convolutions."""
    axis = _channel_axis()
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3 = layers.concatenate(
        [conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)], axis=axis, name=f"mixed9_{index}"
    )
    branch3x3dbl = conv2d_bn(x, 448, 1, 1)
    branch3x3dbl = conv2d_bn(branch3x3dbl, 384, 3, 3)
    # Keras leaves this inner concatenation unnamed.
    branch3x3dbl = layers.concatenate(
        [conv2d_bn(branch3x3dbl, 384, 1, 3), conv2d_bn(branch3x3dbl, 384, 3, 1)], axis=axis
    )
    branch_pool = _avg_pool_branch(x, 192)
    return layers.concatenate([branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=axis, name=f"mixed{9 + index}")


def build_inception_v3(args):
    """InceptionV3's layers, from the arguments of one call (see ``InceptionV3``)."""
    img_input = args.image_input(default_size=299, min_size=75)

    # Stem: 299 -> 35 (three 3x3 convolutions, pool, 1x1 and 3x3 convolutions, pool).
    x = conv2d_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)

    for i, pool_filters in enumerate((32, 64, 64)):  # 35 x 35 x 256 / 288 / 288
        x = _module_a(x, pool_filters, name=f"mixed{i}")
    x = _reduction_a(x)  # 17 x 17 x 768
    for i, width in enumerate((128, 160, 160, 192)):  # 17 x 17 x 768
        x = _module_c(x, width, name=f"mixed{4 + i}")
    x = _reduction_b(x)  # 8 x 8 x 1280
    for i in range(2):  # 8 x 8 x 2048
        x = _module_e(x, i)

    x = args.top(x, named_pooling=False)
    file_name, file_hash = TOP_FILE if args.include_top else NOTOP_FILE
    return args.model(img_input, x, file_name, file_hash, BASE_WEIGHTS_PATH)


_ARGS = imagenet_utils.COMMON_ARGS + (("name", "inception_v3"),)
InceptionV3 = imagenet_utils.variant(build_inception_v3, "InceptionV3", _ARGS, "23,851,784", 299, 75)


preprocess_input = imagenet_utils.preprocess_input_for("InceptionV3", "tf")
decode_predictions = imagenet_utils.decode_predictions
