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

from strided import config
from strided.applications import imagenet_utils
from strided import layers


def AlexNet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    dropout=0.5,
    batch_norm=False,
    name="alexnet",
):
    """Instantiates AlexNet (single-stream 2012 variant, see the module docstring).

    Args:
        include_top: whether to include Flatten and the three Dense layers.
        weights: ``None`` (random initialization) or the path to a weights file.
        input_tensor: optional symbolic tensor to use as the image input.
        input_shape: optional ``(h, w, c)``; default ``(227, 227, 3)``; at least 67x67; only with
            ``include_top=False`` may it differ from the default.
        pooling: with ``include_top=False``: ``None``, ``'avg'`` or ``'max'``.
        classes: number of classes.
        classifier_activation: activation of the ``predictions`` layer.
        dropout: dropout rate before each of the two hidden Dense layers' successors.
        batch_norm: add BatchNormalization after the first two convolutions (in place of LRN).
        name: the model name.

    Returns:
        A functional ``Model``.
    """
    if weights == "imagenet":
        raise ValueError(
            "AlexNet has no published ImageNet weights. Use weights=None or the path to a weights "
            "file. Received: weights='imagenet'"
        )
    if weights is not None and not os.path.exists(weights):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization) or the path to "
            f"the weights file to be loaded. Received: weights={weights}"
        )
    imagenet_utils.check_weights_argument(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape,
        default_size=227,
        min_size=67,
        data_format=config.image_data_format(),
        require_flatten=include_top,
        weights=weights,
    )
    img_input = imagenet_utils.image_input(input_tensor, input_shape)
    x = layers.Conv2D(96, (11, 11), strides=(4, 4), activation="relu", name="conv1")(img_input)
    if batch_norm:
        x = layers.BatchNormalization(name="conv1_bn")(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), name="pool1")(x)
    x = layers.Conv2D(256, (5, 5), padding="same", activation="relu", name="conv2")(x)
    if batch_norm:
        x = layers.BatchNormalization(name="conv2_bn")(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), name="pool2")(x)
    x = layers.Conv2D(384, (3, 3), padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(384, (3, 3), padding="same", activation="relu", name="conv4")(x)
    x = layers.Conv2D(256, (3, 3), padding="same", activation="relu", name="conv5")(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), name="pool5")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc6")(x)
        x = layers.Dropout(dropout, name="drop6")(x)
        x = layers.Dense(4096, activation="relu", name="fc7")(x)
        x = layers.Dropout(dropout, name="drop7")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = imagenet_utils.build_model(img_input, input_tensor, x, name)
    return imagenet_utils.load_pretrained(model, weights)
