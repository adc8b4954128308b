"""What a filter responds to: the input that maximizes its mean activation (gradient ascent).

Chollet's "visualizing convnet filters" recipe: start from a grey image with a little noise, and
repeatedly move the image along the gradient of the filter's mean activation (the gradient is
normalized, so the step size is the same at every layer). Early filters come out as edges and
colours, deeper ones as textures.
"""

import numpy as np
import torch

from strided.visualize._common import (
    check_positive_int,
    figure_doc,
    finish,
    grid_shape,
    model_inputs,
    pyplot,
    resolve_layer,
)
from strided.visualize.feature_maps import feature_model


def filter_pattern(model, layer, filter_index, size=None, steps=30, step_size=10.0, seed=0):
    """The input image that most excites one filter of ``layer`` (gradient ascent on its mean activation).

    Args:
        model: a Sequential or functional model (its input shape gives the image shape).
        layer: the layer, its name or its index.
        filter_index: the channel of the layer's output to maximize.
        size: optional ``(height, width)`` for models with unknown spatial input size.
        steps: gradient-ascent steps (default 30).
        step_size: size of each step on the normalized gradient (default 10.0, for inputs in [0, 1]
            scaled up to about [0, 255] as in the recipe; use ~0.05 for models trained on [0, 1]).
        seed: seed of the starting noise.

    Returns:
        ``(image, activations)``: the image as a NumPy array (one sample, no batch axis) and the mean
        activation of the filter before the first and after every step (it should grow).
    """
    steps = check_positive_int(steps, "steps")
    layer = resolve_layer(model, layer)
    sub = feature_model(model, layer)
    shape = list(model_inputs(model)[0].shape[1:])
    if size is not None:
        shape[0], shape[1] = int(size[0]), int(size[1])
    if any(s is None for s in shape):
        raise ValueError(
            f"Model '{model.name}' has an unknown input size {tuple(model_inputs(model)[0].shape)}: "
            "pass size=(height, width)."
        )
    channels = sub.output.shape[-1]
    if not isinstance(filter_index, (int, np.integer)) or not 0 <= filter_index < channels:
        raise ValueError(
            f"Invalid value for argument `filter_index`: layer '{layer.name}' has {channels} filters. "
            f"Received filter_index={filter_index!r}."
        )
    generator = torch.Generator().manual_seed(int(seed))
    device = next((w.device for w in model.weights), torch.device("cpu"))
    image = (0.5 + 0.1 * (torch.rand([1] + shape, generator=generator) - 0.5)).to(device).requires_grad_(True)
    activations = []
    for _ in range(steps):
        activation = sub(image, training=False)[..., int(filter_index)].mean()
        (gradient,) = torch.autograd.grad(activation, image)
        activations.append(float(activation.detach()))
        with torch.no_grad():
            image += step_size * gradient / (gradient.norm() + 1e-8)
    with torch.no_grad():
        activations.append(float(sub(image, training=False)[..., int(filter_index)].mean()))
    return image.detach().cpu().numpy()[0], activations


def _displayable(image):
    """Centres and scales a pattern into [0, 1] for imshow (the recipe's deprocessing)."""
    image = image - image.mean()
    image = image / (image.std() + 1e-5) * 0.15 + 0.5
    image = np.clip(image, 0, 1)
    return image[..., 0] if image.shape[-1] == 1 else image


@figure_doc(axes=", one axes per filter", title="figure title (default: what the filters of the layer respond to)")
def plot_filter_patterns(
    model, layer, filters=None, cols=8, size=None, steps=30, step_size=10.0, figsize=None, title=None, save_path=None
):
    """Draws the patterns of several filters of ``layer`` in a grid (one panel per filter).

    Args:
        model, layer, size, steps, step_size: as :func:`filter_pattern`.
        filters: filter indices to draw (default: the first 16, or all if fewer).
        cols: panels per row.
    {{figure}}
    """
    cols = check_positive_int(cols, "cols")
    layer = resolve_layer(model, layer)
    if filters is None:
        filters = list(range(min(16, int(feature_model(model, layer).output.shape[-1]))))
    filters = list(filters)
    rows, cols = grid_shape(len(filters), cols)
    plt = pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=figsize or (1.6 * cols, 1.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, index in zip(axes.flat, filters):
        image, _ = filter_pattern(model, layer, index, size=size, steps=steps, step_size=step_size)
        shown = _displayable(image)
        ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None)
        ax.set_title(str(index), fontsize=8)
    return finish(fig, save_path, title or f"What the filters of '{layer.name}' respond to")
