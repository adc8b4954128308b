"""EfficientNetB0 ... B7 (Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks", 2019).

Built from public layers with Keras's layer names (``stem_conv``, ``block1a_dwconv``...,
``block2b_se_excite``, ``top_conv``, ``predictions``), so Keras's published ImageNet weight files
load. As in Keras, the input preprocessing is part of the model: a ``Rescaling(1/255)`` and a
``Normalization`` layer (whose mean and variance come with the weights) lead the network, so the
models take pixels in [0, 255] and ``preprocess_input`` is a pass-through.
"""

import copy
import math

from strided import config
from strided.applications import imagenet_utils
from strided.applications.mobilenet_v2 import _make_divisible
from strided import layers

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
WEIGHTS_HASHES = {  # (with the top, without it), as Keras checks them
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}


def _stage(kernel_size, repeats, filters_in, filters_out, expand_ratio, strides):
    return {
        "kernel_size": kernel_size,
        "repeats": repeats,
        "filters_in": filters_in,
        "filters_out": filters_out,
        "expand_ratio": expand_ratio,
        "id_skip": True,
        "strides": strides,
        "se_ratio": 0.25,
    }


# The seven MBConv stages of EfficientNet-B0; the other variants scale widths and repeats.
DEFAULT_BLOCKS_ARGS = [
    _stage(3, 1, 32, 16, 1, 1),
    _stage(3, 2, 16, 24, 6, 2),
    _stage(5, 2, 24, 40, 6, 2),
    _stage(3, 3, 40, 80, 6, 2),
    _stage(5, 3, 80, 112, 6, 1),
    _stage(5, 4, 112, 192, 6, 2),
    _stage(3, 1, 192, 320, 6, 1),
]

# The paper's initializers (He-normal on fan_out for convolutions, a small uniform for the classifier).
CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}

IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def _bn_axis():
    return 3 if config.image_data_format() == "channels_last" else 1


def EfficientNet(
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    activation="swish",
    blocks_args="default",
    name="efficientnet",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    weights_name=None,
):
    """Builds an EfficientNet from its scaling coefficients.

    Args:
        width_coefficient: multiplier of every layer's channel count.
        depth_coefficient: multiplier of every stage's number of blocks (rounded up).
        default_size: the input size used when ``input_shape`` is not given.
        dropout_rate: dropout rate before the classifier.
        drop_connect_rate: largest stochastic-depth rate, reached by the last block (it grows
            linearly from 0 with the block index).
        depth_divisor: channel counts are rounded to multiples of this.
        activation: activation of the network (``'swish'``).
        blocks_args: ``'default'`` (``DEFAULT_BLOCKS_ARGS``) or a list of stage dicts with the keys
            ``kernel_size``, ``repeats``, ``filters_in``, ``filters_out``, ``expand_ratio``,
            ``id_skip``, ``strides`` and ``se_ratio``.
        name: the model name.
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation: as
            in ``EfficientNetB0``.
        weights_name: key of the published ImageNet weights (``'b0'`` ... ``'b7'``).

    Returns:
        A functional ``Model``.
    """
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        default_size=default_size,
        min_size=32,
        data_format=config.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    bn_axis = _bn_axis()

    def round_filters(filters):
        return int(_make_divisible(filters * width_coefficient, depth_divisor))

    def round_repeats(repeats):
        return int(math.ceil(depth_coefficient * repeats))

    # Preprocessing inside the model: [0, 255] -> [0, 1] -> per-channel standardization.
    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=bn_axis)(x)
    if weights == "imagenet":
        # The published Normalization holds variance = std**2 but the original network divided by
        # the variance, not the std, so Keras divides once more by sqrt(std) for these weights
        # (https://github.com/tensorflow/tensorflow/issues/49930).
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)

    x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(
        round_filters(32),
        3,
        strides=2,
        padding="valid",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name="stem_conv",
    )(x)
    x = layers.BatchNormalization(axis=bn_axis, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    total_blocks = float(sum(round_repeats(args["repeats"]) for args in blocks_args))
    b = 0
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError(
                f"The number of repeats in `EfficientNet` must be > 0. Received: repeats={args['repeats']}"
            )
        args["filters_in"] = round_filters(args["filters_in"])
        args["filters_out"] = round_filters(args["filters_out"])
        for j in range(round_repeats(args.pop("repeats"))):
            if j > 0:  # only a stage's first block changes the stride and the width
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / total_blocks, name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1

    x = layers.Conv2D(
        round_filters(1280),
        1,
        padding="same",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name="top_conv",
    )(x)
    x = layers.BatchNormalization(axis=bn_axis, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(
            classes, activation=classifier_activation, kernel_initializer=DENSE_KERNEL_INITIALIZER, name="predictions"
        )(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = imagenet_utils.build_model(img_input, input_tensor, x, name)
    file_name = file_hash = None
    if weights == "imagenet" and weights_name in WEIGHTS_HASHES:
        # Keras derives the file name from `name`; the default names are these files' names.
        file_name = f"efficientnet{weights_name}{'.h5' if include_top else '_notop.h5'}"
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
    return imagenet_utils.load_pretrained(
        model, weights, file_name, file_hash, BASE_WEIGHTS_PATH + file_name if file_name else None
    )


def block(
    inputs,
    activation="swish",
    drop_rate=0.0,
    name="",
    filters_in=32,
    filters_out=16,
    kernel_size=3,
    strides=1,
    expand_ratio=1,
    se_ratio=0.0,
    id_skip=True,
):
    """One MBConv block: 1x1 expansion, depthwise convolution, squeeze-and-excitation, 1x1 projection.

    Args:
        inputs: input tensor.
        activation: activation after the expansion, the depthwise convolution and in the SE branch.
        drop_rate: stochastic-depth rate: the fraction of samples whose residual branch is dropped
            during training (whole samples: ``noise_shape=(None, 1, 1, 1)``).
        name: prefix of the layer names, e.g. ``'block2a_'``.
        filters_in, filters_out: input and output channels.
        kernel_size: depthwise kernel size.
        strides: depthwise stride (1 or 2).
        expand_ratio: expansion factor of the 1x1 expansion (1: no expansion layer).
        se_ratio: squeezed channels of the SE branch, as a fraction of ``filters_in`` (0: no SE).
        id_skip: whether to add the identity shortcut when the shapes allow it.

    Returns:
        The block's output tensor.
    """
    bn_axis = _bn_axis()
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(
            filters,
            1,
            padding="same",
            use_bias=False,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            name=f"{name}expand_conv",
        )(inputs)
        x = layers.BatchNormalization(axis=bn_axis, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    else:
        x = inputs

    if strides == 2:
        # Explicit padding as the original TF model pads (Keras's 'same' would put the extra pixel last).
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size), name=f"{name}dwconv_pad")(x)
        conv_pad = "valid"
    else:
        conv_pad = "same"
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=strides,
        padding=conv_pad,
        use_bias=False,
        depthwise_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}dwconv",
    )(x)
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)

    if 0 < se_ratio <= 1:
        # Squeeze-and-excitation: per-channel gates from the globally pooled features.
        filters_se = max(1, int(filters_in * se_ratio))
        se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
        se_shape = (filters, 1, 1) if bn_axis == 1 else (1, 1, filters)
        se = layers.Reshape(se_shape, name=f"{name}se_reshape")(se)
        se = layers.Conv2D(
            filters_se,
            1,
            padding="same",
            activation=activation,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            name=f"{name}se_reduce",
        )(se)
        se = layers.Conv2D(
            filters,
            1,
            padding="same",
            activation="sigmoid",
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            name=f"{name}se_expand",
        )(se)
        x = layers.multiply([x, se], name=f"{name}se_excite")

    x = layers.Conv2D(
        filters_out,
        1,
        padding="same",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}project_conv",
    )(x)
    x = layers.BatchNormalization(axis=bn_axis, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


# (width, depth, default size, dropout) of each variant, from the paper's compound scaling.
_VARIANTS = {
    "b0": (1.0, 1.0, 224, 0.2),
    "b1": (1.0, 1.1, 240, 0.2),
    "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4),
    "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5),
    "b7": (2.0, 3.1, 600, 0.5),
}

_DOC = """Instantiates the {name} architecture ({params} parameters with the top; default input {size}x{size}x3).

    The model includes its input preprocessing (``Rescaling`` and ``Normalization``): feed float
    pixels in [0, 255]; ``preprocess_input`` is a pass-through.

    Args:
        include_top: whether to include the global pooling, dropout and ``predictions`` layers.
        weights: ``None`` (random initialization), ``'imagenet'`` (Keras's published weights, read
            from ``~/.keras/models`` or ``$STRIDED_HOME/models``, downloaded if the network allows),
            or the path to a weights file (``.h5`` Keras 2 layout or ``.weights.h5``).
        input_tensor: optional symbolic tensor (from ``strided.Input``) to use as the image input.
        input_shape: optional ``(h, w, 3)``; only with ``include_top=False`` may it differ from the
            default; height and width at least 32.
        pooling: with ``include_top=False``: ``None`` (4D feature map), ``'avg'`` or ``'max'``.
        classes: number of classes (1000 with ImageNet weights and ``include_top=True``).
        classifier_activation: activation of the top layer (``'softmax'``; ``None`` for logits).
        name: the model name.

    Returns:
        A functional ``Model``.
    """

_PARAMS = {
    "b0": "5,330,571",
    "b1": "7,856,239",
    "b2": "9,177,569",
    "b3": "12,320,535",
    "b4": "19,466,823",
    "b5": "30,562,527",
    "b6": "43,265,143",
    "b7": "66,658,687",
}


def _variant(key):
    width, depth, size, dropout = _VARIANTS[key]
    doc_name = f"EfficientNet{key.upper()}"

    def builder(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        name=f"efficientnet{key}",
    ):
        return EfficientNet(
            width,
            depth,
            size,
            dropout,
            name=name,
            include_top=include_top,
            weights=weights,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            weights_name=key,
        )

    builder.__name__ = builder.__qualname__ = doc_name
    builder.__doc__ = _DOC.format(name=doc_name, params=_PARAMS[key], size=size)
    return builder


EfficientNetB0 = _variant("b0")
EfficientNetB1 = _variant("b1")
EfficientNetB2 = _variant("b2")
EfficientNetB3 = _variant("b3")
EfficientNetB4 = _variant("b4")
EfficientNetB5 = _variant("b5")
EfficientNetB6 = _variant("b6")
EfficientNetB7 = _variant("b7")


preprocess_input = imagenet_utils.passthrough_preprocess_input  # the model rescales its input itself


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: ``[(class_id, class_name, score), ...]`` per sample, best first."""
    return imagenet_utils.decode_predictions(preds, top=top)
