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


def MobileNet(
    input_shape=None,
    alpha=1.0,
    depth_multiplier=1,
    dropout=1e-3,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """Instantiates the MobileNet architecture (4,253,864 parameters with alpha=1.0 and the top).

    Args:
        input_shape: optional ``(h, w, 3)``; only with ``include_top=False`` may it differ from
            ``(224, 224, 3)``; at least 32x32. A square 128, 160 or 192 input selects the matching
            ImageNet weights.
        alpha: width multiplier: ``< 1`` thins every layer, ``> 1`` widens it (ImageNet weights
            exist for 0.25, 0.5, 0.75 and 1.0).
        depth_multiplier: depthwise output channels per input channel (the paper's resolution
            multiplier; 1 with ImageNet weights).
        dropout: dropout rate before the classifier.
        include_top: whether to include the pooling, dropout and ``conv_preds`` classifier.
        weights: ``None``, ``'imagenet'`` (Keras's published weights) or the path to a weights file.
        input_tensor: optional symbolic tensor to use as the image input.
        pooling: with ``include_top=False``: ``None``, ``'avg'`` or ``'max'``.
        classes: number of classes (1000 with ImageNet weights and the top).
        classifier_activation: activation of the ``predictions`` layer (``None`` for logits).
        name: model name (default ``mobilenet_{alpha:.2f}_{rows}``).

    Returns:
        A functional ``Model``.

    Raises:
        ValueError: with ImageNet weights, ``depth_multiplier != 1`` or ``alpha`` not in
            {0.25, 0.5, 0.75, 1.0}; or another invalid argument.
    """
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    channels_last = config.image_data_format() != "channels_first"
    # Keras picks the default size from `input_shape` only (not from `input_tensor`).
    if input_shape is None:
        default_size = 224
    else:
        rows, cols = (input_shape[0], input_shape[1]) if channels_last else (input_shape[1], input_shape[2])
        default_size = rows if rows == cols and rows in _SIZES else 224
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        default_size=default_size,
        min_size=32,
        data_format=config.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    rows, cols = (input_shape[0], input_shape[1]) if channels_last else (input_shape[1], input_shape[2])
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError(
                "If imagenet weights are being loaded, depth multiplier must be 1.  "
                f"Received depth_multiplier={depth_multiplier}"
            )
        if alpha not in _ALPHAS:
            raise ValueError(
                "If imagenet weights are being loaded, alpha can be one of`0.25`, `0.50`, `0.75` or "
                f"`1.0` only.  Received alpha={alpha}"
            )
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn(
                "`input_shape` is undefined or non-square, or `rows` is not in [128, 160, 192, 224]. "
                "Weights for input shape (224, 224) will be loaded as the default.",
                stacklevel=2,
            )
    img_input = imagenet_utils.image_input(input_tensor, input_shape)

    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    for block_id, (filters, stride) in enumerate(_BLOCKS, start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, strides=(stride, stride), block_id=block_id)

    if include_top:
        # The classifier is a 1x1 convolution on the pooled 1x1 map (the original TF-Slim model),
        # hence keepdims and the Reshape Keras names `reshape_2`.
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    model = imagenet_utils.build_model(img_input, input_tensor, x, name)

    file_name = origin = None
    if weights == "imagenet":
        suffix = "" if include_top else "_no_top"
        file_name = f"mobilenet_{_ALPHA_TEXT[alpha]}_{rows}_tf{suffix}.h5"
        origin = BASE_WEIGHT_PATH + file_name
    # Keras publishes no hashes for these files.
    return imagenet_utils.load_pretrained(model, weights, file_name, None, origin)


def preprocess_input(x, data_format=None):
    """Preprocesses images for MobileNet: scales [0, 255] to [-1, 1] ('tf' mode).

    Args:
        x: images, values in [0, 255], 3D or 4D, NumPy or torch.
        data_format: optional data format (default the global setting).

    Returns:
        The preprocessed float array.
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: ``[(class_id, class_name, score), ...]`` per sample, best first."""
    return imagenet_utils.decode_predictions(preds, top=top)
