"""Xception (Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions", 2017):
Keras layer names (``block1_conv1``... ``block14_sepconv2_act``, ``predictions``) and Keras's
ImageNet weights. Default input 299x299x3, minimum 71x71. Preprocess with ``preprocess_input``
('tf' mode: [-1, 1]).
"""

from strided import config
from strided.applications import imagenet_utils
from strided import layers

BASE_WEIGHTS_PATH = imagenet_utils.KERAS_APPLICATIONS_URL + "xception/"
TOP_FILE = ("xception_weights_tf_dim_ordering_tf_kernels.h5", "0a58e3b7378bc2990ea3b43d5981f1f6")
NOTOP_FILE = ("xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "b0042744bf5b25fce3cb969f33bebb97")


def build_xception(args):
    """Xception's layers, from the arguments of one call (see ``Xception``)."""
    img_input = args.image_input(default_size=299, min_size=71)
    axis = 1 if config.image_data_format() == "channels_first" else -1

    def sep_bn(x, filters, prefix, act_first=True, act_name=None):
        if act_first:
            x = layers.Activation("relu", name=act_name)(x)
        x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=prefix)(x)
        return layers.BatchNormalization(axis=axis, name=f"{prefix}_bn")(x)

    def shortcut(x, filters):
        # Keras leaves the shortcut convolutions unnamed (conv2d, batch_normalization...).
        r = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
        return layers.BatchNormalization(axis=axis)(r)

    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = layers.BatchNormalization(axis=axis, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=axis, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)

    # Entry flow: blocks 2-4, each halving the resolution with a strided 1x1 shortcut.
    for block, filters in ((2, 128), (3, 256), (4, 728)):
        residual = shortcut(x, filters)
        x = sep_bn(x, filters, f"block{block}_sepconv1", act_first=block != 2, act_name=f"block{block}_sepconv1_act")
        x = sep_bn(x, filters, f"block{block}_sepconv2", act_name=f"block{block}_sepconv2_act")
        x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
        x = layers.Add()([x, residual])

    # Middle flow: eight identity-shortcut blocks.
    for i in range(8):
        residual = x
        prefix = f"block{i + 5}"
        for j in (1, 2, 3):
            x = sep_bn(x, 728, f"{prefix}_sepconv{j}", act_name=f"{prefix}_sepconv{j}_act")
        x = layers.Add()([x, residual])

    # Exit flow.
    residual = shortcut(x, 1024)
    x = sep_bn(x, 728, "block13_sepconv1", act_name="block13_sepconv1_act")
    x = sep_bn(x, 1024, "block13_sepconv2", act_name="block13_sepconv2_act")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="block13_pool")(x)
    x = layers.Add()([x, residual])
    x = sep_bn(x, 1536, "block14_sepconv1", act_first=False)
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = sep_bn(x, 2048, "block14_sepconv2", act_first=False)
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)

    x = args.top(x, named_pooling=False)
    file_name, file_hash = TOP_FILE if args.include_top else NOTOP_FILE
    return args.model(img_input, x, file_name, file_hash, BASE_WEIGHTS_PATH)


_ARGS = imagenet_utils.COMMON_ARGS + (("name", "xception"),)
Xception = imagenet_utils.variant(build_xception, "Xception", _ARGS, "22,910,480", 299, 71)


preprocess_input = imagenet_utils.preprocess_input_for("Xception", "tf")
decode_predictions = imagenet_utils.decode_predictions
