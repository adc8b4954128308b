"""ResNet50, ResNet101 and ResNet152 (He et al., "Deep Residual Learning for Image Recognition", 2015).

Built from public layers with Keras's layer names (``conv1_conv``, ``conv2_block1_1_conv``...,
``predictions``), so Keras's published ImageNet weight files load and summaries line up.
Inputs are preprocessed with ``preprocess_input`` ('caffe' mode: RGB -> BGR, mean subtraction).
"""

from strided import config
from strided.applications import imagenet_utils
from strided import layers

WEIGHTS_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}
BASE_WEIGHTS_PATH = imagenet_utils.KERAS_APPLICATIONS_URL + "resnet/"


def _bn_axis():
    return 3 if config.image_data_format() == "channels_last" else 1


def build_resnet(args):
    """Builds a ResNet (v1 or v2) from ``args.stack_fn``, the function that adds the residual stages."""
    img_input = args.image_input(default_size=224, min_size=32)
    bn_axis = _bn_axis()
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=args.use_bias, name="conv1_conv")(x)
    if not args.preact:
        x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = args.stack_fn(x)
    if args.preact:
        x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = args.top(x)
    file_name = file_hash = None
    if args.weights == "imagenet" and args.weights_name in WEIGHTS_HASHES:
        suffix = "" if args.include_top else "_notop"
        file_name = f"{args.weights_name}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        file_hash = WEIGHTS_HASHES[args.weights_name][0 if args.include_top else 1]
    return args.model(img_input, x, file_name, file_hash, BASE_WEIGHTS_PATH)


_RESNET_ARGS = (
    ("stack_fn", imagenet_utils.REQUIRED),
    ("preact", imagenet_utils.REQUIRED),
    ("use_bias", imagenet_utils.REQUIRED),
    ("name", "resnet"),
    *imagenet_utils.COMMON_ARGS,
    ("weights_name", None),
)
ResNet = imagenet_utils.application(
    build_resnet,
    "ResNet",
    _RESNET_ARGS,
    imagenet_utils.application_doc(
        "Builds a ResNet (v1 or v2) from ``stack_fn``, the function that adds the residual stages.",
        _RESNET_ARGS,
        stack_fn="function ``x -> x`` adding the stacked residual blocks.",
        preact="``True`` for ResNetV2 (pre-activation), ``False`` for ResNet v1.",
        use_bias="whether the stem convolution has a bias.",
        weights_name="key of the published ImageNet weights (``'resnet50'``...).",
    ),
)


def residual_block_v1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """Bottleneck block of ResNet v1: 1x1 -> kxk -> 1x1 (4x filters), plus the shortcut, then ReLU."""
    bn_axis = _bn_axis()
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="SAME", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x, filters, blocks, stride1=2, name=None):
    """``blocks`` v1 blocks; the first has a projection shortcut and stride ``stride1``."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def residual_block_v2(x, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
    """Pre-activation bottleneck block of ResNetV2 (BN-ReLU before each convolution)."""
    bn_axis = _bn_axis()
    preact = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_preact_bn")(x)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters, blocks, stride1=2, name=None):
    """``blocks`` v2 blocks; the last one downsamples with stride ``stride1`` (Keras's layout)."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def variant(preact, depths, default_name, api_name, params, module=__name__):
    """The public builder ``api_name`` (ResNet50, ResNet50V2...): four stages of v1 or v2 (``preact``)
    residual blocks, ``depths`` blocks each, in a model named ``default_name`` by default."""
    stack = stack_residual_blocks_v2 if preact else stack_residual_blocks_v1

    def stack_fn(x):
        for stage, (filters, blocks) in enumerate(zip((64, 128, 256, 512), depths), start=2):
            # v1 downsamples in the first block of stages 3-5, v2 in the last block of stages 2-4 (as Keras).
            downsample = stage < 5 if preact else stage > 2
            x = stack(x, filters, blocks, stride1=2 if downsample else 1, name=f"conv{stage}")
        return x

    args = imagenet_utils.COMMON_ARGS + (("name", default_name),)
    fixed = dict(stack_fn=stack_fn, preact=preact, use_bias=True, weights_name=default_name)
    builder = imagenet_utils.variant(build_resnet, api_name, args, params, **fixed)
    builder.__module__ = module
    return builder


ResNet50 = variant(False, (3, 4, 6, 3), "resnet50", "ResNet50", "25,636,712")
ResNet101 = variant(False, (3, 4, 23, 3), "resnet101", "ResNet101", "44,707,176")
ResNet152 = variant(False, (3, 8, 36, 3), "resnet152", "ResNet152", "60,419,944")


preprocess_input = imagenet_utils.preprocess_input_for("ResNet", "caffe")
decode_predictions = imagenet_utils.decode_predictions
