"""MobileNetV2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", 2018):
Keras layer names (``Conv1``, ``block_1_expand``... ``Conv_1``, ``predictions``) and Keras's
ImageNet weights for alpha in {0.35, 0.5, 0.75, 1.0, 1.3, 1.4} and sizes 96-224. Preprocess with
``preprocess_input`` ('tf' mode: [-1, 1]).
"""

from strided import config
from strided.applications import imagenet_utils
from strided import layers
from strided.applications import mobilenet
from strided.applications.mobilenet import sized_input

BASE_WEIGHT_PATH = imagenet_utils.KERAS_APPLICATIONS_URL + "mobilenet_v2/"
_SIZES = (96, 128, 160, 192, 224)


def _make_divisible(v, divisor, min_value=None):
    """Rounds channel counts to a multiple of ``divisor``, never more than 10% down (Keras's rule)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    channels_last = config.image_data_format() != "channels_first"
    axis = -1 if channels_last else 1
    in_channels = inputs.shape[axis]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(
            expansion * in_channels,
            kernel_size=1,
            padding="same",
            use_bias=False,
            activation=None,
            name=f"{prefix}expand",
        )(x)
        x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size=3,
        strides=stride,
        activation=None,
        use_bias=False,
        padding="same" if stride == 1 else "valid",
        name=f"{prefix}depthwise",
    )(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(
        pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None, name=f"{prefix}project"
    )(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


# (filters, stride, expansion) of blocks 0..16
_BLOCKS = (
    (16, 1, 1),
    (24, 2, 6),
    (24, 1, 6),
    (32, 2, 6),
    (32, 1, 6),
    (32, 1, 6),
    (64, 2, 6),
    (64, 1, 6),
    (64, 1, 6),
    (64, 1, 6),
    (96, 1, 6),
    (96, 1, 6),
    (96, 1, 6),
    (160, 2, 6),
    (160, 1, 6),
    (160, 1, 6),
    (320, 1, 6),
)


def build_mobilenet_v2(args):
    """MobileNetV2's layers, from the arguments of one call (see ``MobileNetV2``)."""
    alpha = args.alpha
    if args.weights == "imagenet" and alpha not in (0.35, 0.50, 0.75, 1.0, 1.3, 1.4):
        raise ValueError(
            "If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, `0.75`, "
            f"`1.0`, `1.3` or `1.4` only; Received `alpha={alpha}`"
        )
    if args.input_shape is None and args.input_tensor is not None:
        args.input_shape = tuple(args.input_tensor.shape[1:])
    img_input, rows = sized_input(args, _SIZES)
    axis = -1 if config.image_data_format() != "channels_first" else 1
    x = layers.Conv2D(
        _make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same", use_bias=False, name="Conv1"
    )(img_input)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride, expansion=expansion, block_id=block_id)
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    x = args.top(x, named_pooling=False, pool_name=None)
    if args.name is None:
        args.name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    suffix = "" if args.include_top else "_no_top"
    file_name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}{suffix}.h5"
    # Keras publishes no hashes for these files.
    return args.model(img_input, x, file_name, None, BASE_WEIGHT_PATH)


# MobileNet's arguments but for `depth_multiplier` and `dropout`, in the same order.
_ARGS = tuple(arg for arg in mobilenet._ARGS if arg[0] not in ("depth_multiplier", "dropout"))
_DOC = imagenet_utils.application_doc(
    "Instantiates the MobileNetV2 architecture (3,538,984 parameters with alpha=1.0 and the top).",
    _ARGS,
    input_shape="optional ``(h, w, 3)``; default ``(224, 224, 3)``; at least 32x32.",
    alpha="width multiplier: ``< 1`` thins every layer, ``> 1`` widens it (ImageNet weights exist for 0.35, 0.5, "
    "0.75, 1.0, 1.3 and 1.4).",
    name="model name (default ``mobilenetv2_{alpha:.2f}_{rows}``).",
)
MobileNetV2 = imagenet_utils.application(build_mobilenet_v2, "MobileNetV2", _ARGS, _DOC)


preprocess_input = imagenet_utils.preprocess_input_for("MobileNetV2", "tf")
decode_predictions = imagenet_utils.decode_predictions
