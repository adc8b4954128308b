"""VGG16 and VGG19 (Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", 2014): Keras layer names (``block1_conv1``... ``fc1``, ``fc2``, ``predictions``) and
Keras's ImageNet weights. Inputs are preprocessed with ``preprocess_input`` ('caffe' mode).
"""

from strided import config
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


def build_vgg(
    convs_per_block,
    family,
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
):
    """A VGG network with ``convs_per_block`` 3x3 convolutions in each of its five blocks."""
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
    x = img_input
    for block, (filters, n) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), start=1):
        for i in range(1, n + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    model = imagenet_utils.build_model(img_input, input_tensor, x, name or family)
    file_name, file_hash = _FILES[family][0 if include_top else 1]
    return imagenet_utils.load_pretrained(
        model, weights, file_name, file_hash, f"{imagenet_utils.KERAS_APPLICATIONS_URL}{family}/{file_name}"
    )


def VGG16(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg16",
):
    """Instantiates the VGG16 model (138,357,544 parameters with the top).

    Args:
        include_top: whether to include the three fully-connected layers at the top.
        weights: ``None``, ``'imagenet'`` (Keras's published weights) or the path to a weights file.
        input_tensor: optional symbolic tensor to use as the image input.
        input_shape: optional ``(h, w, 3)``; only with ``include_top=False`` may it differ from
            ``(224, 224, 3)``; height and width at least 32.
        pooling: with ``include_top=False``: ``None``, ``'avg'`` or ``'max'``.
        classes: number of classes (1000 with ImageNet weights and the top).
        classifier_activation: activation of the ``predictions`` layer.
        name: the model name.

    Returns:
        A functional ``Model``.
    """
    return build_vgg(
        (2, 2, 3, 3, 3),
        "vgg16",
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )


def preprocess_input(x, data_format=None):
    """Preprocesses images for VGG: RGB -> BGR and ImageNet mean subtraction ('caffe' mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: ``[(class_id, class_name, score), ...]`` per sample, best first."""
    return imagenet_utils.decode_predictions(preds, top=top)
