"""A grid of sample images with their labels and, optionally, the model's predictions."""

import numpy as np

from strided.visualize._common import check_positive_int, figure_doc, finish, grid_shape, pyplot, to_numpy


def _label_text(value, class_names):
    v = to_numpy(value)
    if v.ndim >= 1 and v.size > 1:  # one-hot or probabilities
        v = v.argmax()
    v = v.item() if hasattr(v, "item") else v
    if class_names is not None and isinstance(v, (int, np.integer)) and 0 <= v < len(class_names):
        return str(class_names[v]), v
    return str(v), v


@figure_doc(axes=", one axes per image")
def plot_images(
    x,
    labels=None,
    predictions=None,
    class_names=None,
    cols=5,
    max_images=25,
    cmap="gray",
    figsize=None,
    title=None,
    save_path=None,
):
    """Draws images in a grid, titled by label, or "pred (true)" in red when a prediction is wrong.

    Args:
        x: images ``(N, H, W)``, ``(N, H, W, 1)`` or ``(N, H, W, 3)``; floats in [0, 1] or 0-255 values.
        labels: true labels (ints, or one-hot rows).
        predictions: predicted labels, or class probabilities (argmax taken).
        class_names: names indexed by class number.
        cols: images per row.
        max_images: draw at most this many.
        cmap: colour map for single-channel images.
    {{figure}}
    """
    images = to_numpy(x)
    if images.ndim == 2:  # one image
        images = images[None]
    if images.ndim not in (3, 4):
        raise ValueError(
            f"Invalid shape for argument `x`: expected a batch of images (N, H, W) or (N, H, W, C). "
            f"Received x.shape={images.shape}."
        )
    n = min(len(images), check_positive_int(max_images, "max_images"))
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) < n:
            raise ValueError(f"`{name}` must have one entry per image drawn ({n}). Received {len(values)}.")
    rows, cols = grid_shape(n, check_positive_int(cols, "cols"))
    plt = pyplot()
    fig = plt.figure(figsize=figsize or (1.8 * cols, 1.9 * rows + (0.4 if title else 0)))
    for i in range(n):
        img = images[i].astype(np.float32)
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        if img.ndim == 3 and img.max() > 1.0:
            img = img / 255.0  # imshow wants RGB floats in [0, 1]
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(np.clip(img, 0, 1) if img.ndim == 3 else img, cmap=cmap if img.ndim == 2 else None)
        ax.set_xticks([])
        ax.set_yticks([])
        true_text = _label_text(labels[i], class_names) if labels is not None else None
        if predictions is not None:
            pred_text = _label_text(predictions[i], class_names)
            wrong = true_text is not None and pred_text[1] != true_text[1]
            text = pred_text[0] + (f" ({true_text[0]})" if wrong else "")
            ax.set_title(text, fontsize=9, color="red" if wrong else "black")
        elif true_text is not None:
            ax.set_title(true_text[0], fontsize=9)
    return finish(fig, save_path, title)
