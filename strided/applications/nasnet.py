"""NASNetMobile and NASNetLarge (Zoph et al., "Learning Transferable Architectures for Scalable
Image Recognition", CVPR 2018).

Built from public layers in Keras's order and with Keras's names (``stem_conv1``, ``stem_bn1``,
``reduction_conv_1_stem_1``, ``separable_conv_1_normal_left1_0``, ``adjust_conv_projection_1``,
``normal_concat_11``, ``reduction_concat_reduce_4``, ``predictions``; the activations, the shifted
paddings and croppings of the adjust blocks and a few merges keep Keras's automatic names), so
Keras's published ImageNet weight files load.

As in Keras, the network is built from the static input size: the paddings of the strided
separable convolutions and the choice between the "reduction" and the "projection" adjust block
depend on it, so a model with an unknown spatial size (``input_shape=(None, None, 3)``) has a
slightly different structure (and parameter count) than one with a fixed size. NASNet supports only
the ``channels_last`` image data format and expects inputs scaled to [-1, 1]: use
``preprocess_input`` (mode ``'tf'``).
"""

from strided.applications import imagenet_utils
from strided import layers
from strided.utils.docstrings import fill_doc

BASE_WEIGHTS_PATH = imagenet_utils.KERAS_APPLICATIONS_URL + "nasnet/"
NASNET_MOBILE_WEIGHT_PATH = BASE_WEIGHTS_PATH + "NASNet-mobile.h5"
NASNET_MOBILE_WEIGHT_PATH_NO_TOP = BASE_WEIGHTS_PATH + "NASNet-mobile-no-top.h5"
NASNET_LARGE_WEIGHT_PATH = BASE_WEIGHTS_PATH + "NASNet-large.h5"
NASNET_LARGE_WEIGHT_PATH_NO_TOP = BASE_WEIGHTS_PATH + "NASNet-large-no-top.h5"
WEIGHTS_FILES = {  # (default_size, include_top) -> (local file name, URL, md5 hash as Keras checks it)
    (224, True): ("nasnet_mobile.h5", NASNET_MOBILE_WEIGHT_PATH, "020fb642bf7360b370c678b08e0adf61"),
    (224, False): ("nasnet_mobile_no_top.h5", NASNET_MOBILE_WEIGHT_PATH_NO_TOP, "1ed92395b5b598bdda52abe5c0dbfd63"),
    (331, True): ("nasnet_large.h5", NASNET_LARGE_WEIGHT_PATH, "11577c9a518f0070763c2b964a382f17"),
    (331, False): ("nasnet_large_no_top.h5", NASNET_LARGE_WEIGHT_PATH_NO_TOP, "d81d89dc07e6e56530c4e77faddd61b5"),
}

# Every BatchNormalization of NASNet uses these (the TF-slim training settings).
_BN = dict(axis=-1, momentum=0.9997, epsilon=1e-3)


def _separable_conv_block(ip, filters, kernel_size=(3, 3), strides=(1, 1), block_id=None):
    """Two [ReLU, SeparableConv2D, BatchNormalization] blocks; the first one may be strided.

    Args:
        ip: input tensor.
        filters: output channels of both separable convolutions.
        kernel_size: kernel size of both separable convolutions.
        strides: strides of the first one; ``(2, 2)`` pads the input first as Keras does
            (``separable_conv_1_pad_<block_id>``) and convolves with ``'valid'`` padding.
        block_id: suffix of the layer names.

    Returns:
        The output tensor.
    """
    x = layers.Activation("relu")(ip)
    if tuple(strides) == (2, 2):
        x = layers.ZeroPadding2D(
            padding=imagenet_utils.correct_pad(x, kernel_size), name=f"separable_conv_1_pad_{block_id}"
        )(x)
        conv_pad = "valid"
    else:
        conv_pad = "same"
    x = layers.SeparableConv2D(
        filters, kernel_size, strides=strides, name=f"separable_conv_1_{block_id}", padding=conv_pad, use_bias=False
    )(x)
    x = layers.BatchNormalization(name=f"separable_conv_1_bn_{block_id}", **_BN)(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(
        filters, kernel_size, name=f"separable_conv_2_{block_id}", padding="same", use_bias=False
    )(x)
    return layers.BatchNormalization(name=f"separable_conv_2_bn_{block_id}", **_BN)(x)


def _adjust_block(p, ip, filters, block_id=None):
    """Makes the previous cell's output ``p`` match ``ip``'s spatial size and ``filters`` channels.

    When the spatial sizes differ (known and unequal), ``p`` is halved by two 1x1 average poolings of
    stride 2 (the second one on ``p`` shifted by one pixel) each followed by a 1x1 convolution of
    ``filters // 2`` channels; otherwise, when the channels differ, a 1x1 projection is used.

    Returns:
        The adjusted tensor (``ip`` itself when ``p`` is ``None``).
    """
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = _conv_1x1(filters // 2, f"adjust_conv_1_{block_id}")(p1)
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = _conv_1x1(filters // 2, f"adjust_conv_2_{block_id}")(p2)
        p = layers.concatenate([p1, p2], axis=-1)
        p = layers.BatchNormalization(name=f"adjust_bn_{block_id}", **_BN)(p)
    elif p.shape[-1] != filters:
        p = _relu_conv_bn(p, filters, f"adjust_conv_projection_{block_id}", f"adjust_bn_{block_id}")
    return p


def _conv_1x1(filters, name):
    """The 1x1 convolution (no bias, He-normal) that adjusts a cell's inputs."""
    return layers.Conv2D(
        filters, (1, 1), strides=(1, 1), padding="same", use_bias=False, name=name, kernel_initializer="he_normal"
    )


def _relu_conv_bn(x, filters, conv_name, bn_name):
    """ReLU, ``_conv_1x1`` and batch normalization: a cell's main input, or the projection of ``p``."""
    x = layers.Activation("relu")(x)
    x = _conv_1x1(filters, conv_name)(x)
    return layers.BatchNormalization(name=bn_name, **_BN)(x)


def _normal_a_cell(ip, p, filters, block_id=None):
    p = _adjust_block(p, ip, filters, block_id)
    h = _relu_conv_bn(ip, filters, f"normal_conv_1_{block_id}", f"normal_bn_1_{block_id}")
    x1_1 = _separable_conv_block(h, filters, kernel_size=(5, 5), block_id=f"normal_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"normal_add_1_{block_id}")
    x2_1 = _separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}")
    x2_2 = _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"normal_add_2_{block_id}")
    x3 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"normal_left3_{block_id}")(h)
    x3 = layers.add([x3, p], name=f"normal_add_3_{block_id}")
    x4_1 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"normal_left4_{block_id}")(p)
    x4_2 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"normal_right4_{block_id}")(p)
    x4 = layers.add([x4_1, x4_2], name=f"normal_add_4_{block_id}")
    x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
    x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")
    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip, p, filters, block_id=None):
    p = _adjust_block(p, ip, filters, block_id)
    h = _relu_conv_bn(ip, filters, f"reduction_conv_1_{block_id}", f"reduction_bn_1_{block_id}")
    h3 = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3), name=f"reduction_pad_1_{block_id}")(h)
    x1_1 = _separable_conv_block(h, filters, (5, 5), strides=(2, 2), block_id=f"reduction_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2), block_id=f"reduction_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"reduction_add_1_{block_id}")
    x2_1 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_left2_{block_id}")(h3)
    x2_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2), block_id=f"reduction_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"reduction_add_2_{block_id}")
    x3_1 = layers.AveragePooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_left3_{block_id}")(h3)
    x3_2 = _separable_conv_block(p, filters, (5, 5), strides=(2, 2), block_id=f"reduction_right3_{block_id}")
    x3 = layers.add([x3_1, x3_2], name=f"reduction_add3_{block_id}")
    x4 = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=f"reduction_left4_{block_id}")(x1)
    x4 = layers.add([x2, x4])  # unnamed in Keras
    # Keras names this separable block "reduction_left4" too (its layers' names do not clash).
    x5_1 = _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}")
    x5_2 = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid", name=f"reduction_right5_{block_id}")(h3)
    x5 = layers.add([x5_1, x5_2], name=f"reduction_add4_{block_id}")
    x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip


_CELL_DOC = """A NASNet-A {{kind}} cell (Fig. 4 of the paper): {{shape}}.

    Args:
        ip: the previous cell's output.
        p: the output of the cell before it (``None`` for the first cell).
        filters: channels of each of the cell's branches.
        block_id: suffix of the layer names.

    Returns:
        ``(output, ip)``: the cell's output and its input, the next cell's ``p``.
    """
_normal_a_cell.__doc__ = fill_doc(_CELL_DOC, kind="normal", shape="same spatial size, ``6 * filters`` channels")
_reduction_a_cell.__doc__ = fill_doc(
    _CELL_DOC, kind="reduction", shape="half the spatial size, ``4 * filters`` channels"
)


def build_nasnet(args):
    """Builds a NASNet-A model from the arguments of one call (see ``NASNet``)."""
    imagenet_utils.require_channels_last("NASNet")
    imagenet_utils.check_weights_argument(args.weights, args.include_top, args.classes)
    if isinstance(args.input_shape, tuple) and None in args.input_shape and args.weights == "imagenet":
        raise ValueError(
            "When specifying the input shape of a NASNet and loading `ImageNet` weights, the "
            f"input_shape argument must be static (no None entries). Got: `input_shape={args.input_shape}`."
        )
    default_size = 331 if args.default_size is None else args.default_size
    img_input = args.image_input(default_size=default_size, min_size=32)
    for arg in ("penultimate_filters", "num_blocks", "stem_block_filters", "filter_multiplier"):
        value = getattr(args, arg)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(
                f"Invalid value for argument `{arg}`. Expected a strictly positive integer. Received: {arg}={value!r}"
            )
    num_blocks, multiplier = args.num_blocks, args.filter_multiplier
    if args.penultimate_filters % (24 * (multiplier**2)) != 0:
        raise ValueError(
            "For NASNet-A models, the `penultimate_filters` must be a multiple of "
            f"24 * (`filter_multiplier` ** 2). Current value: {args.penultimate_filters}"
        )
    filters = args.penultimate_filters // 24

    x = layers.Conv2D(
        args.stem_block_filters,
        (3, 3),
        strides=(2, 2),
        padding="valid",
        use_bias=False,
        name="stem_conv1",
        kernel_initializer="he_normal",
    )(img_input)
    x = layers.BatchNormalization(name="stem_bn1", **_BN)(x)
    p = None
    x, p = _reduction_a_cell(x, p, filters // (multiplier**2), block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // multiplier, block_id="stem_2")
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters, block_id=f"{i}")
    x, p0 = _reduction_a_cell(x, p, filters * multiplier, block_id=f"reduce_{num_blocks}")
    p = p if args.skip_reduction else p0
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters * multiplier, block_id=f"{num_blocks + i + 1}")
    x, p0 = _reduction_a_cell(x, p, filters * multiplier**2, block_id=f"reduce_{2 * num_blocks}")
    p = p if args.skip_reduction else p0
    for i in range(num_blocks):
        x, p = _normal_a_cell(x, p, filters * multiplier**2, block_id=f"{2 * num_blocks + i + 1}")
    x = layers.Activation("relu")(x)
    x = args.top(x, named_pooling=False, pool_name=None)
    if args.weights != "imagenet":
        return args.model(img_input, x)
    if default_size not in (224, 331):
        raise ValueError("ImageNet weights can only be loaded with NASNetLarge or NASNetMobile")
    file_name, origin, file_hash = WEIGHTS_FILES[(default_size, bool(args.include_top))]
    return args.model(img_input, x, file_name, file_hash, origin=origin)


_ARGS = (
    ("input_shape", None),
    *imagenet_utils.common_args("include_top", "weights", "input_tensor", "pooling", "classes"),
)
_CELLS = dict(
    penultimate_filters="channels of the last cells' outputs; a multiple of ``24 * filter_multiplier ** 2``.",
    num_blocks="number of normal cells between the reduction cells.",
    stem_block_filters="channels of the first convolution.",
    skip_reduction="whether the cells after a reduction cell take the reduction cell's input (``True``, "
    "NASNetLarge) or its output (``False``, NASNetMobile) as their ``p``.",
    filter_multiplier="growth of the width at each reduction.",
)
_FAMILY_ARGS = (
    _ARGS[0],
    ("penultimate_filters", 4032),
    ("num_blocks", 6),
    ("stem_block_filters", 96),
    ("skip_reduction", True),
    ("filter_multiplier", 2),
    *_ARGS[1:],
    ("default_size", None),
    *imagenet_utils.common_args("classifier_activation"),
    ("name", "NASNet"),
)
NASNet = imagenet_utils.application(
    build_nasnet,
    "NASNet",
    _FAMILY_ARGS,
    imagenet_utils.application_doc(
        """Instantiates a NASNet-A model ``NASNet (num_blocks @ penultimate_filters)``.

    ``NASNetMobile`` is ``NASNet (4 @ 1056)`` and ``NASNetLarge`` is ``NASNet (6 @ 4032)``.""",
        _FAMILY_ARGS,
        input_shape="optional ``(h, w, 3)``; only with ``include_top=False`` may it differ from "
        "``(default_size, default_size, 3)``; height and width at least 32.",
        weights="``None`` (random initialization), ``'imagenet'`` (Keras's published weights, only for "
        "``default_size`` 224 (mobile) and 331 (large)), or the path to a weights file.",
        default_size="the default image size (331 when ``None``).",
        **_CELLS,
    ),
)


def _nasnet_mobile(args):
    if not args.include_top and args.input_shape is None:
        args.input_shape = (224, 224, 3)  # as Keras's NASNetMobile (NASNetLarge leaves it unknown)
    return build_nasnet(args)


def _variant(build, api_name, default_name, size, summary, input_shape, **cells):
    args = _ARGS + (*imagenet_utils.common_args("classifier_activation"), ("name", default_name))
    weights = (
        "``None`` (random initialization), ``'imagenet'`` (Keras's published weights, read from ``~/.keras/models`` "
        "or ``$STRIDED_HOME/models``, downloaded if the network allows; the input must then be "
        f"{size}x{size}x3), or the path to a weights file."
    )
    doc = imagenet_utils.application_doc(summary, args, input_shape=input_shape, weights=weights)
    return imagenet_utils.application(build, api_name, args, doc, default_size=size, filter_multiplier=2, **cells)


NASNetMobile = _variant(
    _nasnet_mobile,
    "NASNetMobile",
    "nasnet_mobile",
    224,
    """Instantiates the NASNet-A Mobile architecture, ``NASNet (4 @ 1056)`` (5,326,716 parameters with
    the top; input 224x224x3).

    The model expects inputs scaled to [-1, 1]: call ``strided.applications.nasnet.preprocess_input``
    on pixels in [0, 255]. (Keras 3.15 refuses to build this model on its torch backend; strided
    builds it, with the layers and weights of Keras's other backends.)""",
    "optional ``(h, w, 3)``; only with ``include_top=False`` may it differ from ``(224, 224, 3)`` (also its "
    "default then); height and width at least 32.",
    penultimate_filters=1056,
    num_blocks=4,
    stem_block_filters=32,
    skip_reduction=False,
)
NASNetLarge = _variant(
    build_nasnet,
    "NASNetLarge",
    "nasnet_large",
    331,
    """Instantiates the NASNet-A Large architecture, ``NASNet (6 @ 4032)`` (88,949,818 parameters with
    the top; input 331x331x3).

    The model expects inputs scaled to [-1, 1]: call ``strided.applications.nasnet.preprocess_input``
    on pixels in [0, 255].""",
    "optional ``(h, w, 3)``; only with ``include_top=False`` may it differ from ``(331, 331, 3)``; height and "
    "width at least 32. Without the top and without ``input_shape`` the spatial size is unknown "
    "(``(None, None, 3)``), as in Keras.",
    penultimate_filters=4032,
    num_blocks=6,
    stem_block_filters=96,
    skip_reduction=True,
)


preprocess_input = imagenet_utils.preprocess_input_for("NASNet", "tf")
decode_predictions = imagenet_utils.decode_predictions
