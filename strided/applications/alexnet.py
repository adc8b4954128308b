"""AlexNet (Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional Neural
Networks", 2012).

Variant: the single-stream form of the 2012 paper, as most Keras re-implementations write it:
227x227x3 input, convolutions 96 (11x11, stride 4) -> 256 (5x5) -> 384 -> 384 -> 256 (3x3), 3x3
stride-2 max pooling after the 1st, 2nd and 5th, then Dense 4096 -> 4096 -> classes with dropout
0.5. The two-GPU channel grouping and the local response normalization of the paper are left out
(``batch_norm=True`` puts BatchNormalization where LRN was). 62,378,344 parameters for 1000 classes.
Keras publishes no AlexNet weights; ``weights`` may name a weights file.
"""

import os

from strided.applications import imagenet_utils
from strided import layers


def build_alexnet(args):
    """AlexNet's layers, from the arguments of one call (see ``AlexNet``)."""
    if args.weights == "imagenet":
        raise ValueError(
            "AlexNet has no published ImageNet weights. Use weights=None or the path to a weights "
            "file. Received: weights='imagenet'"
        )
    if args.weights is not None and not os.path.exists(args.weights):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization) or the path to "
            f"the weights file to be loaded. Received: weights={args.weights}"
        )
    img_input = args.image_input(default_size=227, min_size=67)
    x = layers.Conv2D(96, (11, 11), strides=(4, 4), activation="relu", name="conv1")(img_input)
    if args.batch_norm:
        x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), name="pool1")(x)
    x = layers.Conv2D(256, (5, 5), padding="same", activation="relu", name="conv2")(x)
    if args.batch_norm:
        x = layers.BatchNormalization(name="conv2_bn")(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), name="pool2")(x)
    x = layers.Conv2D(384, (3, 3), padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(384, (3, 3), padding="same", activation="relu", name="conv4")(x)
    x = layers.Conv2D(256, (3, 3), padding="same", activation="relu", name="conv5")(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), name="pool5")(x)
    if args.include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc6")(x)
        x = layers.Dropout(args.dropout, name="drop6")(x)
        x = layers.Dense(4096, activation="relu", name="fc7")(x)
        x = layers.Dropout(args.dropout, name="drop7")(x)
        x = layers.Dense(args.classes, activation=args.classifier_activation, name="predictions")(x)
    else:
        x = args.global_pooling(x)
    return args.model(img_input, x)


_ARGS = (
    *imagenet_utils.common_args("include_top"),
    ("weights", None),
    *imagenet_utils.common_args("input_tensor", "input_shape", "pooling", "classes", "classifier_activation"),
    ("dropout", 0.5),
    ("batch_norm", False),
    ("name", "alexnet"),
)
_DOC = imagenet_utils.application_doc(
    "Instantiates AlexNet (single-stream 2012 variant, see the module docstring).",
    _ARGS,
    227,
    67,
    include_top="whether to include Flatten and the three Dense layers.",
    weights="``None`` (random initialization) or the path to a weights file.",
    classes="number of classes.",
    dropout="dropout rate after each of the two hidden Dense layers.",
    batch_norm="add BatchNormalization after the first two convolutions (in place of LRN).",
)
AlexNet = imagenet_utils.application(build_alexnet, "AlexNet", _ARGS, _DOC)
