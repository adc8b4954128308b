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


def ResNet(
    stack_fn,
    preact,
    use_bias,
    name="resnet",
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    weights_name=None,
):
    """Builds a ResNet (v1 or v2) from ``stack_fn``, the function that adds the residual stages.

    Args:
        stack_fn: function ``x -> x`` adding the stacked residual blocks.
        preact: ``True`` for ResNetV2 (pre-activation), ``False`` for ResNet v1.
        use_bias: whether the stem convolution has a bias.
        include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation: as in
            ``ResNet50``.
        weights_name: key of the published ImageNet weights (``'resnet50'``...).

    Returns:
        A functional ``Model``.
    """
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        default_size=224,
        min_size=32,
        data_format=config.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    bn_axis = _bn_axis()
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if preact:
        x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = imagenet_utils.build_model(img_input, input_tensor, x, name)
    file_name = file_hash = None
    if weights == "imagenet" and weights_name in WEIGHTS_HASHES:
        suffix = "" if include_top else "_notop"
        file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
    return imagenet_utils.load_pretrained(
        model, weights, file_name, file_hash, BASE_WEIGHTS_PATH + file_name if file_name else None
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


def _v1(depths, default_name, doc_name):
    def builder(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        name=default_name,
    ):
        def stack_fn(x):
            x = stack_residual_blocks_v1(x, 64, depths[0], stride1=1, name="conv2")
            x = stack_residual_blocks_v1(x, 128, depths[1], name="conv3")
            x = stack_residual_blocks_v1(x, 256, depths[2], name="conv4")
            return stack_residual_blocks_v1(x, 512, depths[3], name="conv5")

        return ResNet(
            stack_fn,
            preact=False,
            use_bias=True,
            name=name,
            include_top=include_top,
            weights=weights,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            weights_name=default_name,
        )

    builder.__name__ = builder.__qualname__ = doc_name
    builder.__doc__ = _DOC.format(name=doc_name)
    return builder


_DOC = """Instantiates the {name} architecture (Keras layer names, Keras ImageNet weights).

    Args:
        include_top: whether to include the global pooling and the ``predictions`` Dense layer.
        weights: ``None`` (random initialization), ``'imagenet'`` (Keras's published weights, read
            from ``~/.keras/models`` or ``$STRIDED_HOME/models``, downloaded if the network allows),
            or the path to a weights file (``.h5`` Keras 2 layout or ``.weights.h5``).
        input_tensor: optional symbolic tensor (from ``strided.Input``) to use as the image input.
        input_shape: optional shape tuple, e.g. ``(224, 224, 3)``; only with ``include_top=False``
            may it differ from the default. Width and height must be at least the minimum (32).
        pooling: with ``include_top=False``: ``None`` (4D feature map), ``'avg'`` or ``'max'``.
        classes: number of classes (1000 with ImageNet weights and ``include_top=True``).
        classifier_activation: activation of the top layer (``'softmax'``; ``None`` for logits).
        name: the model name.

    Returns:
        A functional ``Model``.
    """

ResNet50 = _v1((3, 4, 6, 3), "resnet50", "ResNet50")
ResNet101 = _v1((3, 4, 23, 3), "resnet101", "ResNet101")
ResNet152 = _v1((3, 8, 36, 3), "resnet152", "ResNet152")


def preprocess_input(x, data_format=None):
    """Preprocesses images for ResNet: RGB -> BGR and ImageNet mean subtraction ('caffe' mode).

    Args:
        x: images, values in [0, 255], 3D or 4D, NumPy or torch.
        data_format: optional data format (default the global setting).

    Returns:
        The preprocessed float array.
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: ``[(class_id, class_name, score), ...]`` per sample, best first."""
    return imagenet_utils.decode_predictions(preds, top=top)
