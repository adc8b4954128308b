"""Confusion matrices: rows are true classes, columns predicted classes (sklearn's convention)."""

import numpy as np

from strided.utils.optional import optional_import
from strided.visualize._common import figure_doc, finish, pyplot, to_numpy


def _as_labels(y, name):
    y = to_numpy(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot targets or class probabilities
        return y.argmax(axis=1)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"Invalid shape for argument `{name}`: expected class labels (n,), (n, 1) or one-hot/"
            f"probabilities (n, classes). Received {name}.shape={y.shape}."
        )
    return y


def confusion_matrix(y_true, y_pred, labels=None, normalize=None):
    """Counts of (true class, predicted class) pairs.

    Args:
        y_true: true labels ``(n,)``, or one-hot ``(n, classes)``.
        y_pred: predicted labels ``(n,)``, or class probabilities ``(n, classes)`` (argmax taken).
            Binary sigmoid outputs must be thresholded first: ``(p > 0.5).astype(int)``, as seed 002 does.
        labels: the classes, in row/column order (default: sorted union of both label sets).
        normalize: None (counts), ``"true"`` (rows sum to 1), ``"pred"`` (columns sum to 1) or
            ``"all"``.

    Returns:
        NumPy array ``(len(labels), len(labels))``; entry ``[i, j]`` counts samples of class
        ``labels[i]`` predicted as ``labels[j]``.
    """
    t, p = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"`y_true` and `y_pred` must have the same length. Received {len(t)} and {len(p)}.")
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(
            "Invalid value for argument `normalize`. Expected None, 'true', 'pred' or 'all'. "
            f"Received normalize={normalize!r}."
        )
    labels = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"Invalid value for argument `labels`: expected a non-empty list. Received labels={labels!r}.")
    index = {v.item() if hasattr(v, "item") else v: i for i, v in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    rows = np.array([index.get(v.item() if hasattr(v, "item") else v, -1) for v in t], dtype=np.int64)
    cols = np.array([index.get(v.item() if hasattr(v, "item") else v, -1) for v in p], dtype=np.int64)
    keep = (rows >= 0) & (cols >= 0)  # samples of classes outside `labels` are ignored, as in sklearn
    np.add.at(cm, (rows[keep], cols[keep]), 1)
    if normalize is None:
        return cm
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            out = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            out = cm / cm.sum(axis=0, keepdims=True)
        else:
            out = cm / cm.sum()
    return np.nan_to_num(out)


def confusion_matrix_frame(y_true, y_pred, labels=None, display_labels=None, index=None, columns=None, normalize=None):
    """The confusion matrix as a pandas DataFrame, labelled as seed 002 prints it.

    Args:
        y_true, y_pred, labels, normalize: as in ``confusion_matrix``.
        display_labels: names for the classes (default the labels); rows read ``true:<name>``,
            columns ``pred:<name>``.
        index, columns: explicit row and column labels (override ``display_labels``), e.g.
            ``index=['true:yes', 'true:no'], columns=['pred:yes', 'pred:no']``.

    Returns:
        A ``pandas.DataFrame``.
    """
    pd = optional_import("pandas", "confusion_matrix_frame", alternative="Or use `confusion_matrix` for a NumPy array.")
    t, p = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    if labels is None:
        labels = np.unique(np.concatenate([t, p]))
    cm = confusion_matrix(t, p, labels=labels, normalize=normalize)
    names = list(labels) if display_labels is None else list(display_labels)
    if len(names) != len(cm):
        raise ValueError(
            f"`display_labels` must name each of the {len(cm)} classes. Received display_labels={display_labels!r}."
        )
    index = [f"true:{n}" for n in names] if index is None else list(index)
    columns = [f"pred:{n}" for n in names] if columns is None else list(columns)
    return pd.DataFrame(cm, index=index, columns=columns)


@figure_doc(axes=" (one axes, two with ``colorbar=True``)", title='axes title (default "Confusion matrix")')
def plot_confusion_matrix(
    y_true,
    y_pred,
    labels=None,
    display_labels=None,
    normalize=None,
    cmap="Blues",
    colorbar=False,
    figsize=None,
    title=None,
    save_path=None,
):
    """Draws the confusion matrix as an annotated heat map (rows true, columns predicted).

    Args:
        y_true, y_pred, labels, normalize: as in ``confusion_matrix``.
        display_labels: tick names for the classes (default the labels).
        cmap: matplotlib colour map.
        colorbar: add a colour bar (a second axes).
    {{figure}}
    """
    t, p = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    if labels is None:
        labels = np.unique(np.concatenate([t, p]))
    cm = confusion_matrix(t, p, labels=labels, normalize=normalize)
    names = [str(v) for v in (labels if display_labels is None else display_labels)]
    n = len(cm)
    plt = pyplot()
    size = max(3.5, 0.45 * n + 2)
    fig, ax = plt.subplots(figsize=figsize or (size + (0.8 if colorbar else 0), size))
    image = ax.imshow(cm, cmap=cmap, interpolation="nearest")
    threshold = (cm.max() + cm.min()) / 2
    for i in range(n):
        for j in range(n):
            text = f"{cm[i, j]:.2f}" if normalize else f"{cm[i, j]:d}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8 if n > 6 else 11,
                color="white" if cm[i, j] > threshold else "black",
            )
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "Confusion matrix")
    if colorbar:
        fig.colorbar(image, ax=ax)
    return finish(fig, save_path, tight_layout=True)
