"""LeNet-5 (LeCun et al., "Gradient-Based Learning Applied to Document Recognition", 1998).

The default is the version of the course notes (seed 002): two 3x3 ReLU convolutions (6 and 16
filters), each followed by 2x2 average pooling, then Dense 120 -> 84 -> classes on 32x32x1 images
(81,194 parameters for 10 classes). ``original=True`` uses the paper's 5x5 kernels (61,706
parameters). No pretrained weights exist; ``weights`` may name a weights file.
"""

from strided import layers
from strided.models import Sequential
from strided.saving import saving_api


def LeNet5(
    input_shape=(32, 32, 1),
    classes=10,
    original=False,
    activation="relu",
    include_top=True,
    weights=None,
    classifier_activation="softmax",
    name="lenet5",
):
    """Instantiates LeNet-5 as a ``Sequential`` model.

    Args:
        input_shape: shape of one image, default ``(32, 32, 1)``.
        classes: number of output classes (default 10, the digits).
        original: ``True`` for the paper's 5x5 kernels; ``False`` (default) for 3x3 kernels as in the
            course notes.
        activation: hidden activation (``'relu'``; the paper used a scaled ``'tanh'``).
        include_top: whether to include Flatten and the three Dense layers.
        weights: ``None`` (random initialization) or the path to a weights file.
        classifier_activation: activation of the last Dense layer (``None`` for logits).
        name: the model name.

    Returns:
        A ``Sequential`` model.
    """
    import os

    if weights is not None and not os.path.exists(weights):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization) or the path to "
            f"the weights file to be loaded (LeNet5 has no published weights). Received: "
            f"weights={weights}"
        )
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 1:
        raise ValueError(
            f"Invalid value for argument `classes`. Expected a strictly positive integer. Received: classes={classes!r}"
        )
    kernel = (5, 5) if original else (3, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            f"`input_shape` must be a tuple of three integers (height, width, channels). "
            f"Received: input_shape={input_shape}"
        )
    minimum = 16 if original else 10  # two valid convolutions and two 2x2 poolings leave >= 1 pixel
    if any(d is not None and d < minimum for d in input_shape[:2]):
        raise ValueError(f"Input size must be at least {minimum}x{minimum}; Received: input_shape={input_shape}")
    model = Sequential(name=name)
    model.add(layers.Input(shape=input_shape))
    model.add(layers.Conv2D(filters=6, kernel_size=kernel, activation=activation))
    model.add(layers.AveragePooling2D())
    model.add(layers.Conv2D(16, kernel_size=kernel, activation=activation))
    model.add(layers.AveragePooling2D())
    if include_top:
        model.add(layers.Flatten())
        model.add(layers.Dense(120, activation=activation))
        model.add(layers.Dense(84, activation=activation))
        model.add(layers.Dense(classes, activation=classifier_activation))
    if weights is not None:
        saving_api.load_weights(model, weights)
    return model
