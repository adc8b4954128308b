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


def build_efficientnet(args):
    """Builds an EfficientNet from its scaling coefficients (``EfficientNet``'s arguments)."""
    width_coefficient, depth_coefficient, activation = args.width_coefficient, args.depth_coefficient, args.activation
    blocks_args = DEFAULT_BLOCKS_ARGS if args.blocks_args == "default" else args.blocks_args
    img_input = args.image_input(default_size=args.default_size, min_size=32)
    bn_axis = _bn_axis()

    def round_filters(filters):
        return int(_make_divisible(filters * width_coefficient, args.depth_divisor))

    def round_repeats(repeats):
        return int(math.ceil(depth_coefficient * repeats))

    # Preprocessing inside the model: [0, 255] -> [0, 1] -> per-channel standardization.
    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=bn_axis)(x)
    if args.weights == "imagenet":
        # The published Normalization holds variance = std**2 but the original network divided by
        # the variance, not the std, so Keras divides once more by sqrt(std) for these weights
        # (https://github.com/tensorflow/tensorflow/issues/49930).
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)

    x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = conv_bn(x, round_filters(32), 3, "stem_", activation, strides=2, padding="valid")

    total_blocks = float(sum(round_repeats(stage["repeats"]) for stage in blocks_args))
    stages = stage_blocks(
        blocks_args, round_filters, round_repeats, ("repeats", "filters_in", "filters_out"), "EfficientNet"
    )
    for prefix, kwargs, b in stages:
        x = block(x, activation, args.drop_connect_rate * b / total_blocks, name=prefix, **kwargs)

    x = conv_bn(x, round_filters(1280), 1, "top_", activation)
    x = args.top(x, dropout_rate=args.dropout_rate, kernel_initializer=DENSE_KERNEL_INITIALIZER)
    file_name = file_hash = None
    if args.weights == "imagenet" and args.weights_name in WEIGHTS_HASHES:
        # Keras derives the file name from `name`; the default names are these files' names.
        file_name = f"efficientnet{args.weights_name}{'.h5' if args.include_top else '_notop.h5'}"
        file_hash = WEIGHTS_HASHES[args.weights_name][0 if args.include_top else 1]
    return args.model(img_input, x, file_name, file_hash, BASE_WEIGHTS_PATH)


_EFFICIENTNET_ARGS = (
    ("width_coefficient", imagenet_utils.REQUIRED),
    ("depth_coefficient", imagenet_utils.REQUIRED),
    ("default_size", imagenet_utils.REQUIRED),
    ("dropout_rate", 0.2),
    ("drop_connect_rate", 0.2),
    ("depth_divisor", 8),
    ("activation", "swish"),
    ("blocks_args", "default"),
    ("name", "efficientnet"),
    *imagenet_utils.COMMON_ARGS,
    ("weights_name", None),
)
_FAMILY_DOCS = dict(
    width_coefficient="multiplier of every layer's channel count.",
    depth_coefficient="multiplier of every stage's number of blocks (rounded up).",
    default_size="the input size used when ``input_shape`` is not given.",
    dropout_rate="dropout rate before the classifier.",
    drop_connect_rate="largest stochastic-depth rate, reached by the last block (it grows linearly from 0 with "
    "the block index).",
    depth_divisor="channel counts are rounded to multiples of this.",
    activation="activation of the network (``'swish'``).",
    blocks_args="``'default'`` (``DEFAULT_BLOCKS_ARGS``) or a list of stage dicts with the keys ``kernel_size``, "
    "``repeats``, ``filters_in``, ``filters_out``, ``expand_ratio``, ``id_skip``, ``strides`` and ``se_ratio``.",
    weights_name="key of the published ImageNet weights (``'b0'`` ... ``'b7'``).",
    input_shape="optional ``(h, w, 3)``; only with ``include_top=False`` may it differ from "
    "``(default_size, default_size, 3)``; height and width at least 32.",
)
_DOC = imagenet_utils.application_doc(
    "Builds an EfficientNet from its scaling coefficients.", _EFFICIENTNET_ARGS, **_FAMILY_DOCS
)
EfficientNet = imagenet_utils.application(build_efficientnet, "EfficientNet", _EFFICIENTNET_ARGS, _DOC)


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
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = conv_bn(x, filters, 1, f"{name}expand_", activation)
    if strides == 2:
        # Explicit padding as the original TF model pads (Keras's 'same' would put the extra pixel last).
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size), name=f"{name}dwconv_pad")(x)
    x = conv_bn(x, None, kernel_size, name, activation, strides, "same" if strides == 1 else "valid", conv="dwconv")
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters_in, filters, se_ratio, activation, name)
    x = conv_bn(x, filters_out, 1, f"{name}project_")
    if id_skip and strides == 1 and filters_in == filters_out:
        x = residual(x, inputs, drop_rate, name)
    return x


def stage_blocks(blocks_args, filters_of, repeats_of, keys, family):
    """The blocks of a table of stages, in order: ``(name prefix, block arguments, block index)``.

    ``keys`` names a stage's repeats and its input and output channels (``('repeats', 'filters_in',
    'filters_out')``); ``filters_of`` and ``repeats_of`` scale them. Only a stage's first block
    changes the stride and the width.
    """
    repeats_key, in_key, out_key = keys
    b = 0
    for i, stage in enumerate(copy.deepcopy(blocks_args)):
        if stage[repeats_key] <= 0:
            raise ValueError(
                f"The number of repeats in `{family}` must be > 0. Received: {repeats_key}={stage[repeats_key]}"
            )
        stage[in_key], stage[out_key] = filters_of(stage[in_key]), filters_of(stage[out_key])
        for j in range(repeats_of(stage.pop(repeats_key))):
            if j > 0:
                stage["strides"], stage[in_key] = 1, stage[out_key]
            yield f"block{i + 1}{chr(j + 97)}_", dict(stage), b
            b += 1


def conv_bn(x, filters, kernel_size, prefix, activation=None, strides=1, padding="same", momentum=0.99, conv="conv"):
    """A convolution ``{prefix}{conv}`` (no bias, the paper's initializer; depthwise when ``filters`` is
    ``None``), batch normalization ``{prefix}bn``, then ``activation`` (if any) ``{prefix}activation``."""
    kwargs = dict(strides=strides, padding=padding, use_bias=False, name=f"{prefix}{conv}")
    if filters is None:
        x = layers.DepthwiseConv2D(kernel_size, depthwise_initializer=CONV_KERNEL_INITIALIZER, **kwargs)(x)
    else:
        x = layers.Conv2D(filters, kernel_size, kernel_initializer=CONV_KERNEL_INITIALIZER, **kwargs)(x)
    x = layers.BatchNormalization(axis=_bn_axis(), momentum=momentum, name=f"{prefix}bn")(x)
    return x if activation is None else layers.Activation(activation, name=f"{prefix}activation")(x)


def squeeze_excite(x, filters_in, filters, se_ratio, activation, prefix):
    """Squeeze-and-excitation: per-channel sigmoid gates from the globally pooled features, through
    ``filters_in * se_ratio`` squeezed channels (at least one)."""
    se = layers.GlobalAveragePooling2D(name=f"{prefix}se_squeeze")(x)
    se = layers.Reshape((filters, 1, 1) if _bn_axis() == 1 else (1, 1, filters), name=f"{prefix}se_reshape")(se)
    squeezed = max(1, int(filters_in * se_ratio))
    for units, act, role in ((squeezed, activation, "reduce"), (filters, "sigmoid", "expand")):
        se = layers.Conv2D(
            units,
            1,
            padding="same",
            activation=act,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            name=f"{prefix}se_{role}",
        )(se)
    return layers.multiply([x, se], name=f"{prefix}se_excite")


def residual(x, inputs, drop_rate, prefix):
    """The identity shortcut ``{prefix}add``, after dropping the residual branch of whole samples at
    ``drop_rate`` (stochastic depth: ``noise_shape=(None, 1, 1, 1)``) when it is above 0."""
    if drop_rate > 0:
        x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{prefix}drop")(x)
    return layers.add([x, inputs], name=f"{prefix}add")


# (width, depth, default size, dropout) of each variant, from the paper's compound scaling, and its
# parameter count with the top (Keras's).
_VARIANTS = {
    "b0": (1.0, 1.0, 224, 0.2, "5,330,571"),
    "b1": (1.0, 1.1, 240, 0.2, "7,856,239"),
    "b2": (1.1, 1.2, 260, 0.3, "9,177,569"),
    "b3": (1.2, 1.4, 300, 0.3, "12,320,535"),
    "b4": (1.4, 1.8, 380, 0.4, "19,466,823"),
    "b5": (1.6, 2.2, 456, 0.4, "30,562,527"),
    "b6": (1.8, 2.6, 528, 0.5, "43,265,143"),
    "b7": (2.0, 3.1, 600, 0.5, "66,658,687"),
}

_ARG_DOCS = dict(include_top="whether to include the global pooling, dropout and ``predictions`` layers.")
_NOTE = """

    The model includes its input preprocessing (``Rescaling`` and ``Normalization``): feed float
    pixels in [0, 255]; ``preprocess_input`` is a pass-through."""


def _variant(key):
    width, depth, size, dropout, params = _VARIANTS[key]
    args = imagenet_utils.COMMON_ARGS + (("name", f"efficientnet{key}"),)
    fixed = dict(width_coefficient=width, depth_coefficient=depth, default_size=size, dropout_rate=dropout)
    return imagenet_utils.variant(
        EfficientNet,
        f"EfficientNet{key.upper()}",
        args,
        params,
        size,
        note=_NOTE,
        arg_docs=_ARG_DOCS,
        weights_name=key,
        **fixed,
    )


EfficientNetB0 = _variant("b0")
EfficientNetB1 = _variant("b1")
EfficientNetB2 = _variant("b2")
EfficientNetB3 = _variant("b3")
EfficientNetB4 = _variant("b4")
EfficientNetB5 = _variant("b5")
EfficientNetB6 = _variant("b6")
EfficientNetB7 = _variant("b7")


preprocess_input = imagenet_utils.passthrough_preprocess_input  # the model rescales its input itself
decode_predictions = imagenet_utils.decode_predictions
