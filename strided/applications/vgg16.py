"""VGG16 and VGG19 (Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", 2014): Keras layer names (``block1_conv1``... ``fc1``, ``fc2``, ``predictions``) and
Keras's ImageNet weights. Inputs are preprocessed with ``preprocess_input`` ('caffe' mode).
"""

from strided.applications import imagenet_utils
from strided import layers

_FILES = {
    "vgg16": (
        ("vgg16_weights_tf_dim_ordering_tf_kernels.h5", "64373286793e3c8b2b4e3219cbf3544b"),
        ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "6d6bbae143d832006294945121d1f1fc"),
    ),
    "vgg19": (
        ("vgg19_weights_tf_dim_ordering_tf_kernels.h5", "cbe5617147190e668d6c5d5026f83318"),
        ("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "253f8cb515780f3b799900260a226db6"),
    ),
}


def build_vgg(args):
    """A VGG network with ``args.convs_per_block`` 3x3 convolutions in each of its five blocks."""
    img_input = args.image_input(default_size=224, min_size=32)
    x = img_input
    for block, (filters, n) in enumerate(zip((64, 128, 256, 512, 512), args.convs_per_block), start=1):
        for i in range(1, n + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if args.include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(args.classifier_activation, args.weights)
        x = layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
    else:
        x = args.global_pooling(x, named=False)
    file_name, file_hash = _FILES[args.family][0 if args.include_top else 1]
    return args.model(img_input, x, file_name, file_hash, f"{imagenet_utils.KERAS_APPLICATIONS_URL}{args.family}/")


def vgg(depths, family, params):
    """The public builder ``VGG16`` / ``VGG19`` (``depths``: convolutions per block)."""
    include_top = "whether to include the three fully-connected layers at the top."
    args = imagenet_utils.COMMON_ARGS + (("name", family),)
    builder = imagenet_utils.variant(
        build_vgg,
        family.upper(),
        args,
        params,
        arg_docs=dict(include_top=include_top),
        convs_per_block=depths,
        family=family,
    )
    builder.__module__ = f"strided.applications.{family}"
    return builder


VGG16 = vgg((2, 2, 3, 3, 3), "vgg16", "138,357,544")


preprocess_input = imagenet_utils.preprocess_input_for("VGG", "caffe")
decode_predictions = imagenet_utils.decode_predictions
