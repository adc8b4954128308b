"""Kernel grids: what a convolution layer has learned, drawn as seed 002 draws ``W[:, :, c, f]``."""

import numpy as np

from strided.visualize._common import figure_doc, finish, grid_shape, pyplot, to_numpy


def filter_weights(layer_or_weights):
    """The kernel of a conv layer as a NumPy array ``(kh, kw, in_channels, filters)``.

    Args:
        layer_or_weights: a built convolution layer, its ``get_weights()`` list, or a kernel array of
            shape ``(kh, kw, in, out)``, ``(kh, kw, out)`` (one input channel) or ``(kh, kw)``.

    Returns:
        A float NumPy array of rank 4, Keras layout.
    """
    w = layer_or_weights
    if hasattr(w, "get_weights"):
        weights = w.get_weights()
        if not weights:
            raise ValueError(
                f"Layer '{getattr(w, 'name', w)}' has no weights to plot (is it built, and is it a convolution layer?)."
            )
        w = weights[0]
    elif isinstance(w, (list, tuple)) and w and np.ndim(w[0]) >= 2:
        w = w[0]  # a get_weights() list: [kernel, bias]
    w = to_numpy(w).astype(np.float64)
    if w.ndim == 2:
        w = w[:, :, None, None]
    elif w.ndim == 3:
        w = w[:, :, None, :]
    if w.ndim != 4:
        raise ValueError(
            "Invalid shape for argument `layer_or_weights`: expected a 2D conv kernel "
            f"(kh, kw, in, out). Received an array of shape {w.shape}."
        )
    return w


@figure_doc(axes=", one axes per drawn slice", figsize=" (default from the grid)")
def plot_filters(
    layer_or_weights,
    filters=None,
    channels=None,
    cols=8,
    cmap="gray",
    normalize="global",
    figsize=None,
    title=None,
    save_path=None,
):
    """Draws each kernel slice ``W[:, :, c, f]`` as a small grey image.

    With one input channel the kernels are laid out ``cols`` to a row; with several, each row is one
    filter and each column one input channel (seed 002's ``plt.subplot(1, 3, c + 1)`` for filter 0).

    Args:
        layer_or_weights: a conv layer, its ``get_weights()`` or a kernel array (see ``filter_weights``).
        filters: filter indices to draw (an int ``n`` means the first ``n``; default all).
        channels: input-channel indices to draw (an int ``n`` means the first ``n``; default all).
        cols: kernels per row when there is a single input channel.
        cmap: matplotlib colour map.
        normalize: ``"global"`` shares one colour scale over all slices (so weights compare),
            ``"each"`` scales each slice on its own.
    {{figure}}
    """
    if normalize not in ("global", "each"):
        raise ValueError(
            f"Invalid value for argument `normalize`. Expected 'global' or 'each'. Received normalize={normalize!r}."
        )
    w = filter_weights(layer_or_weights)
    f_idx = _indices(filters, w.shape[3], "filters")
    c_idx = _indices(channels, w.shape[2], "channels")
    plt = pyplot()
    if len(c_idx) == 1:
        rows, ncols = grid_shape(len(f_idx), cols)
        cells = [(f, c_idx[0]) for f in f_idx]
    else:
        rows, ncols = len(f_idx), len(c_idx)
        cells = [(f, c) for f in f_idx for c in c_idx]
    fig = plt.figure(figsize=figsize or (1.2 * ncols + 0.4, 1.2 * rows + (0.5 if title else 0.2)))
    vmin, vmax = float(w[:, :, c_idx][..., f_idx].min()), float(w[:, :, c_idx][..., f_idx].max())
    for i, (f, c) in enumerate(cells):
        ax = fig.add_subplot(rows, ncols, i + 1)
        kernel = w[:, :, c, f]
        kw = {"vmin": vmin, "vmax": vmax} if normalize == "global" else {}
        ax.imshow(kernel, cmap=cmap, interpolation="nearest", **kw)
        ax.set_xticks([])
        ax.set_yticks([])
        if len(c_idx) == 1:
            ax.set_title(f"filter {f}", fontsize=7)
        else:
            if f == f_idx[0]:
                ax.set_title(f"channel {c}", fontsize=7)
            if c == c_idx[0]:
                ax.set_ylabel(f"filter {f}", fontsize=7)
    return finish(fig, save_path, title)


def _indices(value, n, name):
    if value is None:
        return list(range(n))
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected a positive count or a list of "
                f"indices. Received {name}={value!r}."
            )
        return list(range(min(int(value), n)))
    out = [int(v) for v in value]
    bad = [v for v in out if not 0 <= v < n]
    if bad or not out:
        raise ValueError(
            f"Invalid value for argument `{name}`: indices must lie in [0, {n}). Received {name}={value!r}."
        )
    return out
