"""VGG19: VGG16 with four convolutions in blocks 3-5 (Keras names ``block3_conv4``...)."""

from strided.applications.vgg16 import build_vgg, decode_predictions, preprocess_input  # noqa: F401


def VGG19(
    include_top=True,
    weights="imagenet",
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name="vgg19",
):
    """Instantiates the VGG19 model (143,667,240 parameters with the top).

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
        (2, 2, 4, 4, 4),
        "vgg19",
        include_top,
        weights,
        input_tensor,
        input_shape,
        pooling,
        classes,
        classifier_activation,
        name,
    )
