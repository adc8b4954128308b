"""MobileNet (Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
Applications", 2017): a 3x3 convolution followed by 13 depthwise-separable blocks (3x3 depthwise,
then 1x1 pointwise, each with batch normalization and ReLU6).

Keras layer names (``conv1``, ``conv_dw_1``, ``conv_pw_1``... ``conv_preds``, ``predictions``) and
Keras's ImageNet weights for alpha in {0.25, 0.5, 0.75, 1.0} and sizes 128, 160, 192, 224.
Preprocess with ``preprocess_input`` ('tf' mode: [-1, 1]).
"""

import warnings

from strided import config
from strided.applications import imagenet_utils
from strided import layers

BASE_WEIGHT_PATH = imagenet_utils.KERAS_APPLICATIONS_URL + "mobilenet/"
_SIZES = (128, 160, 192, 224)
_ALPHAS = (0.25, 0.50, 0.75, 1.0)
# How the published file names spell alpha: mobilenet_{alpha}_{rows}_tf[_no_top].h5
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0", 0.25: "2_5"}

# (pointwise filters, stride) of depthwise-separable blocks 1..13
_BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)


def _conv_block(inputs, filters, alpha, kernel=(3, 3), strides=(1, 1)):
    """The stem: a full convolution with ``int(filters * alpha)`` filters, batch norm and ReLU6."""
    axis = 1 if config.image_data_format() == "channels_first" else -1
    x = layers.Conv2D(int(filters * alpha), kernel, padding="same", use_bias=False, strides=strides, name="conv1")(
        inputs
    )
    x = layers.BatchNormalization(axis=axis, name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, pointwise_filters, alpha, depth_multiplier=1, strides=(1, 1), block_id=1):
    """Depthwise 3x3 (BN, ReLU6) then pointwise 1x1 with ``int(pointwise_filters * alpha)`` filters (BN, ReLU6)."""
    axis = 1 if config.image_data_format() == "channels_first" else -1
    x = inputs
    if strides != (1, 1):
        # Keras pads one row and column at the end, then convolves 'valid': the same windows as
        # TF's 'same' on even sizes, and the layout the published weights were trained with.
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(
        (3, 3),
        padding="same" if strides == (1, 1) else "valid",
        depth_multiplier=depth_multiplier,
        strides=strides,
        use_bias=False,
        name=f"conv_dw_{block_id}",
    )(x)
    x = layers.BatchNormalization(axis=axis, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(
        int(pointwise_filters * alpha),
        (1, 1),
        padding="same",
        use_bias=False,
        strides=(1, 1),
        name=f"conv_pw_{block_id}",
    )(x)
    x = layers.BatchNormalization(axis=axis, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def sized_input(args, sizes, stacklevel=4):
    """The image input of a MobileNet (V1 or V2) and the input size whose ImageNet weights it loads.

    As in Keras, the default size is the size of a square ``input_shape`` when weights exist for it
    (one of ``sizes``), else 224; with ImageNet weights, an input of another size (or none) loads
    the 224x224 weights, with a warning.

    Returns:
        ``(img_input, rows)``.
    """
    channels_last = config.image_data_format() != "channels_first"

    def rows_cols(shape):
        return (shape[0], shape[1]) if channels_last else (shape[1], shape[2])

    default_size = 224
    if args.input_shape is not None:
        rows, cols = rows_cols(args.input_shape)
        default_size = rows if rows == cols and rows in sizes else 224
    img_input = args.image_input(default_size=default_size, min_size=32)
    rows, cols = rows_cols(args.input_shape)
    if args.weights == "imagenet" and (rows != cols or rows not in sizes):
        rows = 224
        warnings.warn(
            f"`input_shape` is undefined or non-square, or `rows` is not in {list(sizes)}. "
            "Weights for input shape (224, 224) will be loaded as the default.",
            stacklevel=stacklevel,
        )
    return img_input, rows


def build_mobilenet(args):
    """MobileNet's layers, from the arguments of one call (see ``MobileNet``)."""
    if args.weights == "imagenet":
        if args.depth_multiplier != 1:
            raise ValueError(
                "If imagenet weights are being loaded, depth multiplier must be 1.  "
                f"Received depth_multiplier={args.depth_multiplier}"
            )
        if args.alpha not in _ALPHAS:
            raise ValueError(
                "If imagenet weights are being loaded, alpha can be one of`0.25`, `0.50`, `0.75` or "
                f"`1.0` only.  Received alpha={args.alpha}"
            )
    # Keras picks the default size from `input_shape` only (not from `input_tensor`).
    img_input, rows = sized_input(args, _SIZES)
    alpha = args.alpha
    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    for block_id, (filters, stride) in enumerate(_BLOCKS, start=1):
        x = _depthwise_conv_block(x, filters, alpha, args.depth_multiplier, strides=(stride, stride), block_id=block_id)

    if args.include_top:
        # The classifier is a 1x1 convolution on the pooled 1x1 map (the original TF-Slim model),
        # hence keepdims and the Reshape Keras names `reshape_2`.
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(args.dropout, name="dropout")(x)
        x = layers.Conv2D(args.classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((args.classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(args.classifier_activation, args.weights)
        x = layers.Activation(args.classifier_activation, name="predictions")(x)
    else:
        x = args.global_pooling(x, named=False)
    if args.name is None:
        args.name = f"mobilenet_{alpha:0.2f}_{rows}"
    file_name = None
    if args.weights == "imagenet":
        suffix = "" if args.include_top else "_no_top"
        file_name = f"mobilenet_{_ALPHA_TEXT[alpha]}_{rows}_tf{suffix}.h5"
    # Keras publishes no hashes for these files.
    return args.model(img_input, x, file_name, None, BASE_WEIGHT_PATH)


_ARGS = (
    ("input_shape", None),
    ("alpha", 1.0),
    ("depth_multiplier", 1),
    ("dropout", 1e-3),
    *imagenet_utils.common_args(
        "include_top", "weights", "input_tensor", "pooling", "classes", "classifier_activation"
    ),
    ("name", None),
)
_DOC = imagenet_utils.application_doc(
    """Instantiates the MobileNet architecture (4,253,864 parameters with alpha=1.0 and the top).

    Raises ``ValueError`` with ImageNet weights and ``depth_multiplier != 1`` or ``alpha`` not in
    {0.25, 0.5, 0.75, 1.0}.""",
    _ARGS,
    input_shape="optional ``(h, w, 3)``; only with ``include_top=False`` may it differ from ``(224, 224, 3)``; "
    "at least 32x32. A square 128, 160 or 192 input selects the matching ImageNet weights.",
    alpha="width multiplier: ``< 1`` thins every layer, ``> 1`` widens it (ImageNet weights exist for 0.25, 0.5, "
    "0.75 and 1.0).",
    depth_multiplier="depthwise output channels per input channel (the paper's resolution multiplier; 1 with "
    "ImageNet weights).",
    dropout="dropout rate before the classifier.",
    include_top="whether to include the pooling, dropout and ``conv_preds`` classifier.",
    name="model name (default ``mobilenet_{alpha:.2f}_{rows}``).",
)
MobileNet = imagenet_utils.application(build_mobilenet, "MobileNet", _ARGS, _DOC)


preprocess_input = imagenet_utils.preprocess_input_for("MobileNet", "tf")
decode_predictions = imagenet_utils.decode_predictions
