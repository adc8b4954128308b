"""EfficientNetV2B0 ... B3, S, M and L (Tan & Le, "EfficientNetV2: Smaller Models and Faster
Training", ICML 2021).

Built from public layers with Keras's layer names (``stem_conv``, ``block1a_project_conv``...,
``block4a_se_excite``, ``top_conv``, ``predictions``), so Keras's published ImageNet weight files
load. The first stages use fused MBConv blocks (one full convolution in place of the 1x1
expansion and the depthwise convolution), the later ones MBConv blocks with squeeze-and-excitation.

As in Keras, the input preprocessing is part of the model: the B variants start with
``Rescaling(1/255)`` and a ``Normalization`` with the ImageNet statistics, S/M/L with a
``Rescaling`` to [-1, 1]; so the models take pixels in [0, 255] and ``preprocess_input`` is a
pass-through. With ``include_preprocessing=False`` they expect inputs already in [-1, 1].
"""

import functools
import math

from strided.applications import imagenet_utils
from strided.applications.efficientnet import (  # noqa: F401  (the initializers: Keras has them here too)
    CONV_KERNEL_INITIALIZER,
    DENSE_KERNEL_INITIALIZER,
    _bn_axis,
    conv_bn,
    _ARG_DOCS,
    _EFFICIENTNET_ARGS,
    _FAMILY_DOCS,
    residual,
    squeeze_excite,
    stage_blocks,
)
from strided import layers
from strided.backend.name_scope import get_uid

BASE_WEIGHTS_PATH = imagenet_utils.KERAS_APPLICATIONS_URL + "efficientnet_v2/"
WEIGHTS_HASHES = {  # (with the top, without it), as Keras checks them
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}


def _stage(kernel_size, num_repeat, input_filters, output_filters, expand_ratio, se_ratio, strides, conv_type):
    return {
        "kernel_size": kernel_size,
        "num_repeat": num_repeat,
        "input_filters": input_filters,
        "output_filters": output_filters,
        "expand_ratio": expand_ratio,
        "se_ratio": se_ratio,
        "strides": strides,
        "conv_type": conv_type,
    }


# Every variant has the same six or seven stages but for their repeats and widths: kernel 3, then per
# stage the expansion, the SE ratio, the stride and the conv type (1: fused MBConv, 0: MBConv).
_EXPANSIONS = (1, 4, 4, 4, 6, 6, 6)
_SE_RATIOS = (0, 0, 0, 0.25, 0.25, 0.25, 0.25)
_STRIDES = (1, 2, 2, 2, 1, 2, 1)
_CONV_TYPES = (1, 1, 1, 0, 0, 0, 0)


def _stages(repeats, widths):
    """The stage dicts of a variant: ``repeats`` blocks per stage, ``widths`` the channels between stages."""
    return [
        _stage(3, n, widths[i], widths[i + 1], _EXPANSIONS[i], _SE_RATIOS[i], _STRIDES[i], _CONV_TYPES[i])
        for i, n in enumerate(repeats)
    ]


_B_STAGES = _stages((1, 2, 2, 3, 5, 8), (32, 16, 32, 48, 96, 112, 192))  # B1-B3 scale the B0 table
DEFAULT_BLOCKS_ARGS = {
    "efficientnetv2-s": _stages((2, 4, 4, 6, 9, 15), (24, 24, 48, 64, 128, 160, 256)),
    "efficientnetv2-m": _stages((3, 5, 5, 7, 14, 18, 5), (24, 24, 48, 80, 160, 176, 304, 512)),
    "efficientnetv2-l": _stages((4, 7, 7, 10, 19, 25, 7), (32, 32, 64, 96, 192, 224, 384, 640)),
    **{f"efficientnetv2-b{i}": _B_STAGES for i in range(4)},
}


def round_filters(filters, width_coefficient, min_depth, depth_divisor):
    """Channels scaled by ``width_coefficient``, rounded to the nearest multiple of ``depth_divisor``
    (at least ``min_depth``, or ``depth_divisor`` when ``min_depth`` is 0/None)."""
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    return int(max(minimum_depth, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats, depth_coefficient):
    """Blocks of a stage scaled by ``depth_coefficient``, rounded up."""
    return int(math.ceil(depth_coefficient * repeats))


def MBConvBlock(
    input_filters,
    output_filters,
    expand_ratio=1,
    kernel_size=3,
    strides=1,
    se_ratio=0.0,
    bn_momentum=0.9,
    activation="swish",
    survival_probability=0.8,
    name=None,
    fused=False,
):
    """MBConv block: 1x1 expansion, depthwise convolution, squeeze-and-excitation, 1x1 projection; ``fused``: one
    ``kernel_size`` convolution in place of the expansion and the depthwise convolution (``FusedMBConvBlock``).

    Args:
        input_filters, output_filters: the block's input and output channels.
        expand_ratio: expansion factor of the expansion (1: no expansion layer).
        kernel_size: depthwise (fused: expansion) kernel size.
        strides: depthwise (fused: expansion) stride.
        se_ratio: squeezed channels of the SE branch, as a fraction of ``input_filters`` (0: no SE).
        bn_momentum: momentum of the BatchNormalization layers.
        activation: activation of the block.
        survival_probability: despite its name (Keras's), the stochastic-depth drop rate of the
            residual branch (0: no ``Dropout`` layer).
        name: prefix of the layer names, e.g. ``'block4a_'``.
        fused: a fused MBConv block.

    Returns:
        A function from the block's input tensor to its output tensor.
    """
    if name is None:
        name = f"block0{get_uid('block0')}"

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        expanded = expand_ratio != 1
        if expanded:
            size, stride = (kernel_size, strides) if fused else (1, 1)
            x = conv_bn(x, filters, size, f"{name}expand_", activation, stride, momentum=bn_momentum)
        if not fused:
            x = conv_bn(x, None, kernel_size, name, activation, strides, momentum=bn_momentum, conv="dwconv2")
        if 0 < se_ratio <= 1:
            x = squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        if fused and not expanded:
            # The block's only (strided, full-size, activated) convolution.
            x = conv_bn(x, output_filters, kernel_size, f"{name}project_", activation, strides, momentum=bn_momentum)
        else:
            x = conv_bn(x, output_filters, 1, f"{name}project_", momentum=bn_momentum)
        # Despite Keras's argument name `survival_probability` is a drop rate: whole samples lose the branch.
        if strides == 1 and input_filters == output_filters:
            return residual(x, inputs, survival_probability, name)
        return x

    return apply


FusedMBConvBlock = functools.partial(MBConvBlock, fused=True)


def build_efficientnet_v2(args):
    """Builds an EfficientNetV2 from its scaling coefficients (``EfficientNetV2``'s arguments)."""
    # Keras looks the table up by the model name; the variant's own name also works for renamed models.
    name, variant = args.name, f"efficientnetv2-{str(args.weights_name).lstrip('-')}"
    blocks_args = args.blocks_args
    if blocks_args == "default":
        if name not in DEFAULT_BLOCKS_ARGS and variant not in DEFAULT_BLOCKS_ARGS:
            raise ValueError(
                f"No default blocks for an EfficientNetV2 named {name!r}: pass `blocks_args` or use one "
                f"of the names {sorted(DEFAULT_BLOCKS_ARGS)}. Received: name={name!r}"
            )
        blocks_args = DEFAULT_BLOCKS_ARGS[name if name in DEFAULT_BLOCKS_ARGS else variant]
    img_input = args.image_input(default_size=args.default_size, min_size=32)
    bn_axis, momentum, activation = _bn_axis(), args.bn_momentum, args.activation

    def filters_of(n):
        return round_filters(n, args.width_coefficient, args.min_depth, args.depth_divisor)

    def repeats_of(n):
        return round_repeats(n, args.depth_coefficient)

    x = img_input
    if args.include_preprocessing:
        kind = (name if name in DEFAULT_BLOCKS_ARGS else variant).split("-")[-1]
        if kind.startswith("b") and args.input_shape[bn_axis - 1] == 3:
            # The B variants keep EfficientNet (V1)'s preprocessing: [0, 1], then ImageNet standardization.
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.229**2, 0.224**2, 0.225**2], axis=bn_axis)(
                x
            )
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)
    x = conv_bn(x, filters_of(blocks_args[0]["input_filters"]), 3, "stem_", activation, 2, momentum=momentum)

    total_blocks = float(sum(stage["num_repeat"] for stage in blocks_args))
    keys = ("num_repeat", "input_filters", "output_filters")
    for prefix, kwargs, b in stage_blocks(blocks_args, filters_of, repeats_of, keys, "EfficientNetV2"):
        conv_type = kwargs.pop("conv_type")
        if conv_type not in (0, 1):
            raise ValueError(f"`conv_type` must be 0 (MBConv) or 1 (fused MBConv). Received: conv_type={conv_type!r}")
        rate = args.drop_connect_rate * b / total_blocks
        x = MBConvBlock(
            activation=activation,
            bn_momentum=momentum,
            survival_probability=rate,
            name=prefix,
            fused=conv_type == 1,
            **kwargs,
        )(x)

    x = conv_bn(x, filters_of(1280), 1, "top_", activation, momentum=momentum)
    x = args.top(
        x, dropout_rate=args.dropout_rate, kernel_initializer=DENSE_KERNEL_INITIALIZER, bias_initializer="zeros"
    )
    file_name = file_hash = None
    if args.weights == "imagenet" and args.weights_name in WEIGHTS_HASHES:
        # Keras derives the file name from `name`; the default names are these files' names.
        key = args.weights_name
        file_name = f"efficientnetv2{key if key.startswith('-') else '-' + key}"
        file_name += ".h5" if args.include_top else "_notop.h5"
        file_hash = WEIGHTS_HASHES[key][0 if args.include_top else 1]
    return args.model(img_input, x, file_name, file_hash, BASE_WEIGHTS_PATH)


# EfficientNet's arguments, with a smallest width, the batch norm momentum and the preprocessing switch.
_EFFICIENTNET_V2_ARGS = (
    *_EFFICIENTNET_ARGS[:6],  # width_coefficient ... depth_divisor
    ("min_depth", 8),
    ("bn_momentum", 0.9),
    *_EFFICIENTNET_ARGS[6:8],  # activation, blocks_args
    ("name", "efficientnetv2"),
    *imagenet_utils.COMMON_ARGS,
    ("include_preprocessing", True),
    ("weights_name", None),
)
_INCLUDE_PREPROCESSING = "whether the model starts with its preprocessing layers ({})."
_DOC = imagenet_utils.application_doc(
    "Builds an EfficientNetV2 from its scaling coefficients; see ``EfficientNetV2B0``.",
    _EFFICIENTNET_V2_ARGS,
    **dict(
        _FAMILY_DOCS,
        default_size="the input size used when ``input_shape`` is not given and the top is included.",
        drop_connect_rate="stochastic-depth rate scale: block ``b`` drops its residual branch with rate "
        "``drop_connect_rate * b / number_of_blocks`` (counted before depth scaling).",
        min_depth="the smallest channel count.",
        bn_momentum="momentum of the BatchNormalization layers.",
        blocks_args="``'default'`` (the table of the variant ``name``, or of ``weights_name``) or a list of "
        "stage dicts with the keys ``kernel_size``, ``num_repeat``, ``input_filters``, ``output_filters``, "
        "``expand_ratio``, ``se_ratio``, ``strides`` and ``conv_type`` (0: MBConv, 1: fused MBConv).",
        include_preprocessing=_INCLUDE_PREPROCESSING.format("see ``EfficientNetV2B0``"),
        weights_name="key of the published ImageNet weights (``'b0'`` ... ``'b3'``, ``'-s'``, ``'-m'``, ``'-l'``).",
    ),
)
EfficientNetV2 = imagenet_utils.application(build_efficientnet_v2, "EfficientNetV2", _EFFICIENTNET_V2_ARGS, _DOC)


_NOTE = """

    The model includes its input preprocessing: feed float pixels in [0, 255]
    (``preprocess_input`` is a pass-through), or pass ``include_preprocessing=False`` and feed
    values in [-1, 1]."""

# (width, depth, default size) of each variant and its parameter count with the top (Keras's).
_VARIANTS = {
    "b0": (1.0, 1.0, 224, "7,200,312"),
    "b1": (1.0, 1.1, 240, "8,212,124"),
    "b2": (1.1, 1.2, 260, "10,178,374"),
    "b3": (1.2, 1.4, 300, "14,467,622"),
    "-s": (1.0, 1.0, 384, "21,612,360"),
    "-m": (1.0, 1.0, 480, "54,431,388"),
    "-l": (1.0, 1.0, 480, "119,027,848"),
}


def _variant(key):
    width, depth, size, params = _VARIANTS[key]
    preprocessing = (
        "``Rescaling(1/255)`` and a ``Normalization`` with the ImageNet statistics"
        if key.startswith("b")
        else "a ``Rescaling`` from [0, 255] to [-1, 1]"
    )
    args = (*imagenet_utils.COMMON_ARGS, ("include_preprocessing", True), ("name", f"efficientnetv2-{key.lstrip('-')}"))
    arg_docs = dict(_ARG_DOCS, include_preprocessing=_INCLUDE_PREPROCESSING.format(preprocessing))
    fixed = dict(width_coefficient=width, depth_coefficient=depth, default_size=size)
    api_name = f"EfficientNetV2{key.lstrip('-').upper()}"
    return imagenet_utils.variant(
        EfficientNetV2, api_name, args, params, size, note=_NOTE, arg_docs=arg_docs, weights_name=key, **fixed
    )


EfficientNetV2B0 = _variant("b0")
EfficientNetV2B1 = _variant("b1")
EfficientNetV2B2 = _variant("b2")
EfficientNetV2B3 = _variant("b3")
EfficientNetV2S = _variant("-s")
EfficientNetV2M = _variant("-m")
EfficientNetV2L = _variant("-l")


preprocess_input = imagenet_utils.passthrough_preprocess_input  # the model rescales its input itself
decode_predictions = imagenet_utils.decode_predictions
