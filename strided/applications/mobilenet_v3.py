"""MobileNetV3Small and MobileNetV3Large (Howard et al., "Searching for MobileNetV3", ICCV 2019).

Built from public layers with Keras's layer names (``conv``, ``expanded_conv_depthwise``...,
``expanded_conv_3_squeeze_excite_mul``, ``conv_1``, ``conv_2``, ``logits``, ``predictions``), so
Keras's published ImageNet weight files load (alpha 0.75 or 1.0; minimalistic with alpha 1.0).

As in Keras, the input preprocessing is part of the model: a ``Rescaling`` layer maps pixels in
[0, 255] to [-1, 1], so ``preprocess_input`` is a pass-through. With
``include_preprocessing=False`` the model expects inputs already in [-1, 1].
"""

import warnings

from strided import config
from strided.applications import imagenet_utils
from strided.applications.mobilenet_v2 import _make_divisible
from strided import layers

BASE_WEIGHT_PATH = imagenet_utils.KERAS_APPLICATIONS_URL + "mobilenet_v3/"
WEIGHTS_HASHES = {  # (with the top, without it), as Keras checks them
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"),
}

# Blocks as (expansion, filters, kernel, stride, squeeze-excite, activation). Kernel "k", SE "se" and
# activation "act" follow the model's flavour: 5x5 / SE 0.25 / hard-swish normally, 3x3 / none / ReLU
# when minimalistic; the fixed entries are the same in both flavours (as in the paper's tables).
_SMALL = (
    (1, 16, 3, 2, "se", "relu"),
    (72.0 / 16, 24, 3, 2, None, "relu"),
    (88.0 / 24, 24, 3, 1, None, "relu"),
    (4, 40, "k", 2, "se", "act"),
    (6, 40, "k", 1, "se", "act"),
    (6, 40, "k", 1, "se", "act"),
    (3, 48, "k", 1, "se", "act"),
    (3, 48, "k", 1, "se", "act"),
    (6, 96, "k", 2, "se", "act"),
    (6, 96, "k", 1, "se", "act"),
    (6, 96, "k", 1, "se", "act"),
)
_LARGE = (
    (1, 16, 3, 1, None, "relu"),
    (4, 24, 3, 2, None, "relu"),
    (3, 24, 3, 1, None, "relu"),
    (3, 40, "k", 2, "se", "relu"),
    (3, 40, "k", 1, "se", "relu"),
    (3, 40, "k", 1, "se", "relu"),
    (6, 80, 3, 2, None, "act"),
    (2.5, 80, 3, 1, None, "act"),
    (2.3, 80, 3, 1, None, "act"),
    (2.3, 80, 3, 1, None, "act"),
    (6, 112, 3, 1, "se", "act"),
    (6, 112, 3, 1, "se", "act"),
    (6, 160, "k", 2, "se", "act"),
    (6, 160, "k", 1, "se", "act"),
    (6, 160, "k", 1, "se", "act"),
)


def _depth(v):
    """Channel counts rounded to a multiple of 8 (never more than 10% down), as the TF original."""
    return _make_divisible(v, 8)


def _channel_axis():
    return 1 if config.image_data_format() == "channels_first" else -1


def _relu(x):
    return layers.ReLU()(x)


def _hard_swish(x):
    return layers.Activation("hard_swish")(x)


def _hard_sigmoid(x):
    # relu6(x + 3) / 6 written with tensor arithmetic, as Keras does: the additions are graph
    # operations, not layers, so the layer list (and the weight file layout) stays Keras's.
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _se_block(inputs, filters, se_ratio, prefix):
    """Squeeze-and-excitation: channel gates from the pooled features, through a hard sigmoid."""
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    x = _hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x, expansion, filters, kernel_size, stride, se_ratio, activation, block_id):
    """1x1 expansion (not in block 0), depthwise convolution, optional SE, linear 1x1 projection."""
    axis = _channel_axis()
    shortcut = x
    in_filters = x.shape[axis]
    prefix = "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(
            _depth(in_filters * expansion), kernel_size=1, padding="same", use_bias=False, name=f"{prefix}expand"
        )(x)
        x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}expand_bn")(x)
        x = activation(x)
    if stride == 2:
        # Explicit TF-style padding (the extra pixel goes first), then a 'valid' convolution.
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size), name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(
        kernel_size,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        use_bias=False,
        name=f"{prefix}depthwise",
    )(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}depthwise_bn")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, _depth(in_filters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}project_bn")(x)
    if stride == 1 and in_filters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def _input_shape(input_shape, input_tensor):
    """Keras's MobileNetV3 input-shape rules: any size of at least 32x32, (None, None, 3) by default."""
    channels_last = config.image_data_format() != "channels_first"
    if input_shape is not None and input_tensor is not None:
        # Keras compares one spatial size of the two (the width, in its order).
        if channels_last and input_tensor.shape[2] != input_shape[1]:
            raise ValueError(
                f"input_shape[1] must equal input_tensor.shape[2].  Received input_shape={input_shape}, "
                f"input_tensor.shape={input_tensor.shape}"
            )
        if not channels_last and input_tensor.shape[1] != input_shape[1]:
            raise ValueError(
                "When backend.image_data_format()=channels_first, input_shape[1] must equal "
                f"input_tensor.shape[1].  Received input_shape={input_shape}, "
                f"input_tensor.shape={input_tensor.shape}"
            )
    if input_shape is None and input_tensor is not None:
        rows, cols = input_tensor.shape[1:3] if channels_last else input_tensor.shape[2:4]
        input_shape = (cols, rows, 3) if channels_last else (3, cols, rows)
    if input_shape is None:
        input_shape = (None, None, 3) if channels_last else (3, None, None)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape}")
    rows, cols = input_shape[:2] if channels_last else input_shape[1:]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32; Received `input_shape={input_shape}`")
    return input_shape, rows, cols


def build_mobilenet_v3(args):
    """Builds a MobileNetV3 from its block table (``MobileNetV3``'s arguments)."""
    alpha, minimalistic, weights = args.alpha, args.minimalistic, args.weights
    imagenet_utils.check_weights_argument(weights, args.include_top, args.classes)
    input_shape, rows, cols = _input_shape(args.input_shape, args.input_tensor)
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError(
                "If imagenet weights are being loaded, alpha can be one of `0.75`, `1.0` for non "
                "minimalistic or `1.0` for minimalistic only."
            )
        if rows != cols or rows != 224:
            warnings.warn(
                "`input_shape` is undefined or non-square, or `rows` is not 224. Weights for input "
                "shape (224, 224) will be loaded as the default.",
                stacklevel=4,
            )
    img_input = imagenet_utils.image_input(args.input_tensor, input_shape)
    axis = _channel_axis()
    if minimalistic:  # no SE, no hard-swish, no 5x5 kernels: faster on GPUs and DSPs
        kernel, activation, se_ratio = 3, _relu, None
    else:
        kernel, activation, se_ratio = 5, _hard_swish, 0.25

    x = img_input
    if args.include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)  # [0, 255] -> [-1, 1]
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False, name="conv")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name="conv_bn")(x)
    x = activation(x)
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(args.blocks):
        x = _inverted_res_block(
            x,
            expansion,
            _depth(filters * alpha),
            kernel if k == "k" else k,
            stride,
            se_ratio if se else None,
            activation if act == "act" else _relu,
            block_id,
        )

    last_conv_ch, last_point_ch = _depth(x.shape[axis] * 6), args.last_point_ch
    if alpha > 1.0:  # only a wider network widens the top
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False, name="conv_1")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name="conv_1_bn")(x)
    x = activation(x)
    if args.include_top:
        # The classifier is made of 1x1 convolutions on the pooled 1x1 map, as in the TF original.
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True, name="conv_2")(x)
        x = activation(x)
        if args.dropout_rate > 0:
            x = layers.Dropout(args.dropout_rate)(x)
        x = layers.Conv2D(args.classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        imagenet_utils.validate_activation(args.classifier_activation, weights)
        x = layers.Activation(activation=args.classifier_activation, name="predictions")(x)
    else:
        x = args.global_pooling(x)

    file_name = file_hash = None
    if weights == "imagenet":
        model_name = f"{args.model_type}{'_minimalistic' if minimalistic else ''}_224_{float(alpha)}_float"
        suffix = "" if args.include_top else "_no_top_v2"
        file_name = f"weights_mobilenet_v3_{model_name}{suffix}.h5"
        file_hash = WEIGHTS_HASHES[model_name][0 if args.include_top else 1]
    return args.model(img_input, x, file_name, file_hash, BASE_WEIGHT_PATH)


# The arguments of MobileNetV3Small and MobileNetV3Large, in Keras's order.
_ARGS = (
    ("input_shape", None),
    ("alpha", 1.0),
    ("minimalistic", False),
    *imagenet_utils.common_args("include_top", "weights", "input_tensor", "classes", "pooling"),
    ("dropout_rate", 0.2),
    *imagenet_utils.common_args("classifier_activation"),
    ("include_preprocessing", True),
)
_ARG_DOCS = dict(
    input_shape="optional ``(h, w, 3)``; any size of at least 32x32 (default ``(None, None, 3)``, or the shape of "
    "``input_tensor``). ImageNet weights were trained at 224x224.",
    alpha="width multiplier of every block (ImageNet weights: 0.75 or 1.0; 1.0 when minimalistic). Above 1.0 it "
    "also widens the top's ``conv_2``.",
    minimalistic="without squeeze-and-excitation, hard-swish and 5x5 kernels (same widths).",
    include_top="whether to include the classifier (pooling, ``conv_2``, dropout, ``logits``).",
    dropout_rate="dropout rate before the ``logits`` layer.",
    include_preprocessing="whether the model starts with its ``Rescaling`` to [-1, 1].",
)
_FAMILY_ARGS = (
    ("blocks", imagenet_utils.REQUIRED),
    ("last_point_ch", imagenet_utils.REQUIRED),
    *_ARGS[:2],
    ("model_type", "large"),
    *_ARGS[2:],
    ("name", None),
)
MobileNetV3 = imagenet_utils.application(
    build_mobilenet_v3,
    "MobileNetV3",
    _FAMILY_ARGS,
    imagenet_utils.application_doc(
        "Builds a MobileNetV3 from its block table (``_SMALL`` or ``_LARGE``); see ``MobileNetV3Small``.",
        _FAMILY_ARGS,
        blocks="tuples ``(expansion, filters, kernel, stride, se, activation)``, one per block.",
        last_point_ch="channels of the ``conv_2`` layer of the top (1024 small, 1280 large).",
        model_type="``'small'`` or ``'large'`` (names the ImageNet weight file).",
        **_ARG_DOCS,
    ),
)

_NOTE = """

    The model includes its input preprocessing (a ``Rescaling`` layer): feed float pixels in
    [0, 255] (``preprocess_input`` is a pass-through), or pass ``include_preprocessing=False`` and
    feed values in [-1, 1]."""


def _variant(model_type, blocks, last_point_ch, params):
    api_name = f"MobileNetV3{model_type.capitalize()}"
    args = _ARGS + (("name", api_name),)
    summary = f"Instantiates the {api_name} architecture ({params} parameters with alpha=1.0 and the top).{_NOTE}"
    doc = imagenet_utils.application_doc(summary, args, **_ARG_DOCS)
    fixed = dict(blocks=blocks, last_point_ch=last_point_ch, model_type=model_type)
    return imagenet_utils.application(MobileNetV3, api_name, args, doc, **fixed)


MobileNetV3Small = _variant("small", _SMALL, 1024, "2,554,968")
MobileNetV3Large = _variant("large", _LARGE, 1280, "5,507,432")


preprocess_input = imagenet_utils.passthrough_preprocess_input  # the model rescales its input itself
decode_predictions = imagenet_utils.decode_predictions
