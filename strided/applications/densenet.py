"""DenseNet121, DenseNet169 and DenseNet201 (Huang et al., "Densely Connected Convolutional Networks",
CVPR 2017).

Built from public layers with Keras's layer names (``conv1_conv``, ``conv2_block1_0_bn``...,
``pool2_conv``..., ``bn``, ``predictions``), so Keras's published ImageNet weight files load and
summaries line up. Each dense block appends ``growth_rate`` (32) channels per building block by
concatenation; transition blocks halve the channels and the resolution. Inputs are preprocessed with
``preprocess_input`` ('torch' mode: [0, 1], then the ImageNet mean and standard deviation).
DenseNet is ``channels_last`` only, as in Keras.
"""

from strided.applications import imagenet_utils
from strided import layers

BASE_WEIGHTS_PATH = imagenet_utils.KERAS_APPLICATIONS_URL + "densenet/"
# Building blocks per dense block -> (weights name, md5 with top, md5 without top), as Keras publishes.
WEIGHTS = {
    (6, 12, 24, 16): ("densenet121", "9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    (6, 12, 32, 32): ("densenet169", "d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    (6, 12, 48, 32): ("densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}
_GROWTH_RATE = 32
_EPSILON = 1.001e-5  # Keras's DenseNet batch norms (close to the original Caffe/Torch 1e-5)


def conv_block(x, growth_rate, name):
    """One building block: BN-ReLU-1x1 conv (4x growth) - BN-ReLU-3x3 conv, concatenated to its input.

    Args:
        x: input tensor.
        growth_rate: number of channels the block adds.
        name: block label, e.g. ``'conv2_block1'``.

    Returns:
        The input with ``growth_rate`` new channels appended.
    """
    y = layers.BatchNormalization(axis=3, epsilon=_EPSILON, name=f"{name}_0_bn")(x)
    y = layers.Activation("relu", name=f"{name}_0_relu")(y)
    # The 1x1 bottleneck caps the 3x3 convolution's input at 4 * growth_rate channels.
    y = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(y)
    y = layers.BatchNormalization(axis=3, epsilon=_EPSILON, name=f"{name}_1_bn")(y)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    return layers.Concatenate(axis=3, name=f"{name}_concat")([x, y])


def dense_block(x, blocks, name):
    """``blocks`` building blocks in a row, named ``{name}_block1``, ``{name}_block2``..."""
    for i in range(blocks):
        x = conv_block(x, _GROWTH_RATE, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """BN-ReLU-1x1 conv keeping ``reduction`` of the channels, then 2x2 average pooling (stride 2)."""
    x = layers.BatchNormalization(axis=3, epsilon=_EPSILON, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[3] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def build_densenet(args):
    """Builds a DenseNet with ``args.blocks`` building blocks in each of its four dense blocks."""
    imagenet_utils.require_channels_last("DenseNet")
    blocks = tuple(int(b) for b in args.blocks)
    if len(blocks) != 4 or min(blocks) < 1:
        raise ValueError(
            f"Invalid value for argument `blocks`. Expected four strictly positive integers. Received: blocks={blocks}"
        )
    img_input = args.image_input(default_size=224, min_size=32)

    # Stem: 7x7/2 convolution and 3x3/2 max pooling, explicitly padded as the original Torch model.
    # Keras leaves the two paddings unnamed (zero_padding2d, zero_padding2d_1).
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)

    for stage, n in enumerate(blocks, start=2):
        x = dense_block(x, n, name=f"conv{stage}")
        if stage < 5:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    x = layers.BatchNormalization(axis=3, epsilon=_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = args.top(x)

    file_name = file_hash = None
    if args.weights == "imagenet" and blocks in WEIGHTS:
        weights_name, top_hash, notop_hash = WEIGHTS[blocks]
        suffix = "" if args.include_top else "_notop"
        file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
        file_hash = top_hash if args.include_top else notop_hash
    return args.model(img_input, x, file_name, file_hash, BASE_WEIGHTS_PATH)


_INPUT_SHAPE = (
    "optional shape tuple; only with ``include_top=False`` may it differ from ``(224, 224, 3)``. Exactly 3 "
    "channels with ImageNet weights; width and height at least 32."
)
_ARGS = (("blocks", imagenet_utils.REQUIRED), *imagenet_utils.COMMON_ARGS, ("name", "densenet"))
_DOC = imagenet_utils.application_doc(
    """Builds a DenseNet with ``blocks`` building blocks in each of its four dense blocks.

    DenseNet refuses the ``channels_first`` image data format (a ``ValueError``), as Keras's does.""",
    _ARGS,
    input_shape=_INPUT_SHAPE,
    blocks="four integers, e.g. ``(6, 12, 24, 16)`` for DenseNet121. ImageNet weights exist only for the three "
    "published configurations (121, 169, 201).",
)
DenseNet = imagenet_utils.application(build_densenet, "DenseNet", _ARGS, _DOC)


def _variant(blocks, default_name, api_name, params):
    args = imagenet_utils.COMMON_ARGS + (("name", default_name),)
    arg_docs = dict(input_shape=_INPUT_SHAPE)
    return imagenet_utils.variant(DenseNet, api_name, args, params, arg_docs=arg_docs, blocks=blocks)


DenseNet121 = _variant((6, 12, 24, 16), "densenet121", "DenseNet121", "8,062,504")
DenseNet169 = _variant((6, 12, 32, 32), "densenet169", "DenseNet169", "14,307,880")
DenseNet201 = _variant((6, 12, 48, 32), "densenet201", "DenseNet201", "20,242,984")


preprocess_input = imagenet_utils.preprocess_input_for("DenseNet", "torch")
decode_predictions = imagenet_utils.decode_predictions
