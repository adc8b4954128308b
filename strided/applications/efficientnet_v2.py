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

import copy
import math

from strided import config
from strided.applications import imagenet_utils
from strided import layers

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


# Stages as (kernel, repeats, filters in, filters out, expansion, SE ratio, stride, conv type);
# conv type 1 is a fused MBConv block, 0 an MBConv block. B1-B3 scale the B0 table.
_B_STAGES = [
    _stage(3, 1, 32, 16, 1, 0, 1, 1),
    _stage(3, 2, 16, 32, 4, 0, 2, 1),
    _stage(3, 2, 32, 48, 4, 0, 2, 1),
    _stage(3, 3, 48, 96, 4, 0.25, 2, 0),
    _stage(3, 5, 96, 112, 6, 0.25, 1, 0),
    _stage(3, 8, 112, 192, 6, 0.25, 2, 0),
]
DEFAULT_BLOCKS_ARGS = {
    "efficientnetv2-s": [
        _stage(3, 2, 24, 24, 1, 0.0, 1, 1),
        _stage(3, 4, 24, 48, 4, 0.0, 2, 1),
        _stage(3, 4, 48, 64, 4, 0, 2, 1),
        _stage(3, 6, 64, 128, 4, 0.25, 2, 0),
        _stage(3, 9, 128, 160, 6, 0.25, 1, 0),
        _stage(3, 15, 160, 256, 6, 0.25, 2, 0),
    ],
    "efficientnetv2-m": [
        _stage(3, 3, 24, 24, 1, 0, 1, 1),
        _stage(3, 5, 24, 48, 4, 0, 2, 1),
        _stage(3, 5, 48, 80, 4, 0, 2, 1),
        _stage(3, 7, 80, 160, 4, 0.25, 2, 0),
        _stage(3, 14, 160, 176, 6, 0.25, 1, 0),
        _stage(3, 18, 176, 304, 6, 0.25, 2, 0),
        _stage(3, 5, 304, 512, 6, 0.25, 1, 0),
    ],
    "efficientnetv2-l": [
        _stage(3, 4, 32, 32, 1, 0, 1, 1),
        _stage(3, 7, 32, 64, 4, 0, 2, 1),
        _stage(3, 7, 64, 96, 4, 0, 2, 1),
        _stage(3, 10, 96, 192, 4, 0.25, 2, 0),
        _stage(3, 19, 192, 224, 6, 0.25, 1, 0),
        _stage(3, 25, 224, 384, 6, 0.25, 2, 0),
        _stage(3, 7, 384, 640, 6, 0.25, 1, 0),
    ],
    **{f"efficientnetv2-b{i}": _B_STAGES for i in range(4)},
}

# The paper's initializers (He-normal on fan_out for convolutions, a small uniform for the classifier).
CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}


def _bn_axis():
    return 3 if config.image_data_format() == "channels_last" else 1


def round_filters(filters, width_coefficient, min_depth, depth_divisor):
    """Channels scaled by ``width_coefficient``, rounded to the nearest multiple of ``depth_divisor``
    (at least ``min_depth``, or ``depth_divisor`` when ``min_depth`` is 0/None)."""
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    return int(max(minimum_depth, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats, depth_coefficient):
    """Blocks of a stage scaled by ``depth_coefficient``, rounded up."""
    return int(math.ceil(depth_coefficient * repeats))


def _se(x, input_filters, filters, se_ratio, activation, bn_axis, name):
    """Squeeze-and-excitation: per-channel sigmoid gates from the globally pooled features."""
    filters_se = max(1, int(input_filters * se_ratio))
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((filters, 1, 1) if bn_axis == 1 else (1, 1, filters), name=f"{name}se_reshape")(se)
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
    return layers.multiply([x, se], name=f"{name}se_excite")


def _residual(x, inputs, strides, input_filters, output_filters, survival_probability, name):
    if strides == 1 and input_filters == output_filters:
        if survival_probability:
            # Despite Keras's argument name this is a drop rate: whole samples lose the branch.
            x = layers.Dropout(survival_probability, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


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
):
    """MBConv block: 1x1 expansion, depthwise convolution, squeeze-and-excitation, 1x1 projection.

    Args:
        input_filters, output_filters: the block's input and output channels.
        expand_ratio: expansion factor of the 1x1 expansion (1: no expansion layer).
        kernel_size: depthwise kernel size.
        strides: depthwise stride.
        se_ratio: squeezed channels of the SE branch, as a fraction of ``input_filters`` (0: no SE).
        bn_momentum: momentum of the BatchNormalization layers.
        activation: activation of the block.
        survival_probability: despite its name (Keras's), the stochastic-depth drop rate of the
            residual branch (0: no ``Dropout`` layer).
        name: prefix of the layer names, e.g. ``'block4a_'``.

    Returns:
        A function from the block's input tensor to its output tensor.
    """
    bn_axis = _bn_axis()
    if name is None:
        name = _unique_prefix("block0")

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = layers.Conv2D(
                filters,
                kernel_size=1,
                strides=1,
                kernel_initializer=CONV_KERNEL_INITIALIZER,
                padding="same",
                use_bias=False,
                name=f"{name}expand_conv",
            )(x)
            x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}expand_bn")(x)
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        x = layers.DepthwiseConv2D(
            kernel_size,
            strides=strides,
            depthwise_initializer=CONV_KERNEL_INITIALIZER,
            padding="same",
            use_bias=False,
            name=f"{name}dwconv2",
        )(x)
        x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}bn")(x)
        x = layers.Activation(activation, name=f"{name}activation")(x)
        if 0 < se_ratio <= 1:
            x = _se(x, input_filters, filters, se_ratio, activation, bn_axis, name)
        x = layers.Conv2D(
            output_filters,
            kernel_size=1,
            strides=1,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            padding="same",
            use_bias=False,
            name=f"{name}project_conv",
        )(x)
        x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}project_bn")(x)
        return _residual(x, inputs, strides, input_filters, output_filters, survival_probability, name)

    return apply


def FusedMBConvBlock(
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
):
    """Fused MBConv block: one ``kernel_size`` convolution in place of the expansion and the depthwise
    convolution, then (when expanding) a 1x1 projection. Arguments as ``MBConvBlock``.

    Returns:
        A function from the block's input tensor to its output tensor.
    """
    bn_axis = _bn_axis()
    if name is None:
        name = _unique_prefix("block0")

    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = layers.Conv2D(
                filters,
                kernel_size=kernel_size,
                strides=strides,
                kernel_initializer=CONV_KERNEL_INITIALIZER,
                padding="same",
                use_bias=False,
                name=f"{name}expand_conv",
            )(x)
            x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}expand_bn")(x)
            x = layers.Activation(activation, name=f"{name}expand_activation")(x)
        if 0 < se_ratio <= 1:
            x = _se(x, input_filters, filters, se_ratio, activation, bn_axis, name)
        # Without expansion the projection is the block's only (strided, full-size) convolution.
        x = layers.Conv2D(
            output_filters,
            kernel_size=1 if expand_ratio != 1 else kernel_size,
            strides=1 if expand_ratio != 1 else strides,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            padding="same",
            use_bias=False,
            name=f"{name}project_conv",
        )(x)
        x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name=f"{name}project_bn")(x)
        if expand_ratio == 1:
            x = layers.Activation(activation, name=f"{name}project_activation")(x)
        return _residual(x, inputs, strides, input_filters, output_filters, survival_probability, name)

    return apply


_UIDS = {}


def _unique_prefix(prefix):
    _UIDS[prefix] = _UIDS.get(prefix, 0) + 1
    return f"{prefix}{_UIDS[prefix]}"


def EfficientNetV2(
    width_coefficient,
    depth_coefficient,
    default_size,
    dropout_rate=0.2,
    drop_connect_rate=0.2,
    depth_divisor=8,
    min_depth=8,
    bn_momentum=0.9,
    activation="swish",
    blocks_args="default",
    name="efficientnetv2",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    include_preprocessing=True,
    weights_name=None,
):
    """Builds an EfficientNetV2 from its scaling coefficients; see ``EfficientNetV2B0``.

    Args:
        width_coefficient: multiplier of every layer's channel count.
        depth_coefficient: multiplier of every stage's number of blocks (rounded up).
        default_size: the input size used when ``input_shape`` is not given and the top is included.
        dropout_rate: dropout rate before the classifier.
        drop_connect_rate: stochastic-depth rate scale: block ``b`` drops its residual branch with
            rate ``drop_connect_rate * b / number_of_blocks`` (counted before depth scaling).
        depth_divisor: channel counts are rounded to multiples of this.
        min_depth: the smallest channel count.
        bn_momentum: momentum of the BatchNormalization layers.
        activation: activation of the network (``'swish'``).
        blocks_args: ``'default'`` (the table of the variant ``name``, or of ``weights_name``) or a
            list of stage dicts with the keys ``kernel_size``, ``num_repeat``, ``input_filters``,
            ``output_filters``, ``expand_ratio``, ``se_ratio``, ``strides`` and ``conv_type``
            (0: MBConv, 1: fused MBConv).
        name: the model name.
        weights_name: key of the published ImageNet weights (``'b0'`` ... ``'b3'``, ``'-s'``,
            ``'-m'``, ``'-l'``).
        The other arguments are those of ``EfficientNetV2B0``.

    Returns:
        A functional ``Model``.
    """
    # Keras looks the table up by the model name; the variant's own name also works for renamed models.
    variant = f"efficientnetv2-{str(weights_name).lstrip('-')}"
    if blocks_args == "default":
        if name not in DEFAULT_BLOCKS_ARGS and variant not in DEFAULT_BLOCKS_ARGS:
            raise ValueError(
                f"No default blocks for an EfficientNetV2 named {name!r}: pass `blocks_args` or use one "
                f"of the names {sorted(DEFAULT_BLOCKS_ARGS)}. Received: name={name!r}"
            )
        blocks_args = DEFAULT_BLOCKS_ARGS[name if name in DEFAULT_BLOCKS_ARGS else variant]
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

    def filters_of(n):
        return round_filters(n, width_coefficient, min_depth, depth_divisor)

    x = img_input
    if include_preprocessing:
        kind = (name if name in DEFAULT_BLOCKS_ARGS else variant).split("-")[-1]
        if kind.startswith("b") and input_shape[bn_axis - 1] == 3:
            # The B variants keep EfficientNet (V1)'s preprocessing: [0, 1], then ImageNet standardization.
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.229**2, 0.224**2, 0.225**2], axis=bn_axis)(
                x
            )
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)

    x = layers.Conv2D(
        filters_of(blocks_args[0]["input_filters"]),
        kernel_size=3,
        strides=2,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        padding="same",
        use_bias=False,
        name="stem_conv",
    )(x)
    x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    total_blocks = float(sum(args["num_repeat"] for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["num_repeat"] <= 0:
            raise ValueError(
                f"The number of repeats in `EfficientNetV2` must be > 0. Received: num_repeat={args['num_repeat']}"
            )
        args["input_filters"] = filters_of(args["input_filters"])
        args["output_filters"] = filters_of(args["output_filters"])
        conv_type = args.pop("conv_type")
        if conv_type not in (0, 1):
            raise ValueError(f"`conv_type` must be 0 (MBConv) or 1 (fused MBConv). Received: conv_type={conv_type!r}")
        block = FusedMBConvBlock if conv_type == 1 else MBConvBlock
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:  # only a stage's first block changes the stride and the width
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = block(
                activation=activation,
                bn_momentum=bn_momentum,
                survival_probability=drop_connect_rate * b / total_blocks,
                name=f"block{i + 1}{chr(j + 97)}_",
                **args,
            )(x)
            b += 1

    x = layers.Conv2D(
        filters_of(1280),
        kernel_size=1,
        strides=1,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        padding="same",
        use_bias=False,
        name="top_conv",
    )(x)
    x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(
            classes,
            activation=classifier_activation,
            kernel_initializer=DENSE_KERNEL_INITIALIZER,
            bias_initializer="zeros",
            name="predictions",
        )(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = imagenet_utils.build_model(img_input, input_tensor, x, name)

    file_name = file_hash = None
    if weights == "imagenet" and weights_name in WEIGHTS_HASHES:
        # Keras derives the file name from `name`; the default names are these files' names.
        file_name = f"efficientnetv2{weights_name if weights_name.startswith('-') else '-' + weights_name}"
        file_name += ".h5" if include_top else "_notop.h5"
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
    return imagenet_utils.load_pretrained(
        model, weights, file_name, file_hash, BASE_WEIGHTS_PATH + file_name if file_name else None
    )


_DOC = """Instantiates the {name} architecture ({params} parameters with the top; default input {size}x{size}x3).

    The model includes its input preprocessing: feed float pixels in [0, 255]
    (``preprocess_input`` is a pass-through), or pass ``include_preprocessing=False`` and feed
    values in [-1, 1].

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
        include_preprocessing: whether the model starts with its preprocessing layers
            ({preprocessing}).
        name: the model name.

    Returns:
        A functional ``Model``.
    """

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
    suffix = key.lstrip("-").upper()
    doc_name = f"EfficientNetV2{suffix}"
    preprocessing = (
        "``Rescaling(1/255)`` and a ``Normalization`` with the ImageNet statistics"
        if key.startswith("b")
        else "a ``Rescaling`` from [0, 255] to [-1, 1]"
    )

    def builder(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        include_preprocessing=True,
        name=f"efficientnetv2-{key.lstrip('-')}",
    ):
        return EfficientNetV2(
            width,
            depth,
            size,
            name=name,
            include_top=include_top,
            weights=weights,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            include_preprocessing=include_preprocessing,
            weights_name=key,
        )

    builder.__name__ = builder.__qualname__ = doc_name
    builder.__doc__ = _DOC.format(name=doc_name, params=params, size=size, preprocessing=preprocessing)
    return builder


EfficientNetV2B0 = _variant("b0")
EfficientNetV2B1 = _variant("b1")
EfficientNetV2B2 = _variant("b2")
EfficientNetV2B3 = _variant("b3")
EfficientNetV2S = _variant("-s")
EfficientNetV2M = _variant("-m")
EfficientNetV2L = _variant("-l")


preprocess_input = imagenet_utils.passthrough_preprocess_input  # the model rescales its input itself


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: ``[(class_id, class_name, score), ...]`` per sample, best first."""
    return imagenet_utils.decode_predictions(preds, top=top)
