"""Feature maps: a layer's output for one input, drawn one channel per panel (seed 002's 8x4 grid)."""

import numpy as np
import torch

from strided.visualize._common import (
    as_batch,
    check_positive_int,
    figure_doc,
    finish,
    grid_shape,
    model_inputs,
    pyplot,
    resolve_layer,
    to_numpy,
)
from strided.models import Model
from strided import config


def feature_model(model, layer):
    """The sub-model ``Model(inputs=model.inputs, outputs=layer.output)`` (seed 002's recipe).

    Args:
        model: a Sequential or functional model whose input shape is known.
        layer: a layer of ``model``, its name, or its index in ``model.layers``.

    Returns:
        A functional Model that maps the model's input to ``layer``'s output.
    """
    layer = resolve_layer(model, layer)
    return Model(inputs=model_inputs(model), outputs=layer.output)


def feature_maps(model, layer, x):
    """The output of ``layer`` when ``model`` sees ``x``, as a NumPy array (batch axis included).

    Args:
        model: a Sequential or functional model.
        layer: a layer, its name or its index.
        x: one sample (no batch axis) or a batch.

    Returns:
        NumPy array, e.g. ``(1, 100, 100, 32)`` for seed 002's first conv layer and one cell image.
    """
    sub = feature_model(model, layer)
    with torch.no_grad():
        out = sub(as_batch(x, model))
    return to_numpy(out)


@figure_doc(axes=", one axes per channel drawn", figsize=" (default 10 wide, as the seed)")
def plot_feature_maps(model, layer, x, cols=8, max_maps=None, cmap="gray", figsize=None, title=None, save_path=None):
    """Draws every channel of ``layer``'s output for the first sample of ``x`` in a grid.

    Args:
        model: a Sequential or functional model.
        layer: a layer, its name or its index in ``model.layers``.
        x: one sample or a batch (the first sample is drawn).
        cols: panels per row (seed 002 uses 8 across, 4 down for 32 maps).
        max_maps: draw at most this many channels (default all).
        cmap: matplotlib colour map.
    {{figure}}
    """
    cols = check_positive_int(cols, "cols")
    maps = feature_maps(model, layer, x)[0]
    if maps.ndim == 2:  # a 1D conv output (steps, channels): draw each channel as a row image
        maps = maps[None]
    if maps.ndim != 3:
        raise ValueError(
            f"plot_feature_maps draws spatial outputs; layer output has shape (None, "
            f"{', '.join(map(str, maps.shape))}), which has no spatial axes."
        )
    if config.image_data_format() == "channels_first":
        maps = np.moveaxis(maps, 0, -1)
    n = maps.shape[-1] if max_maps is None else min(check_positive_int(max_maps, "max_maps"), maps.shape[-1])
    rows, cols = grid_shape(n, cols)
    plt = pyplot()
    fig = plt.figure(figsize=figsize or (10, 10 * rows / cols + (0.4 if title else 0)))
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.imshow(maps[:, :, i], cmap=cmap)
    return finish(fig, save_path, title)
