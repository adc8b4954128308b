"""Training curves from ``model.fit``'s History: each metric with its ``val_`` twin."""

from strided.visualize._common import figure_doc, finish, pyplot, to_numpy


def history_dict(history):
    """``{name: list of floats}`` from a History object or its ``.history`` dict."""
    data = getattr(history, "history", history)
    if not isinstance(data, dict):
        raise TypeError(
            "Invalid type for argument `history`. Expected the History returned by `model.fit` or its "
            f"`.history` dict. Received history of type {type(history).__name__}."
        )
    if not data:
        raise ValueError("The history is empty: `model.fit` recorded no epoch.")
    return {k: [float(to_numpy(v)) for v in vals] for k, vals in data.items()}


@figure_doc(axes=", one axes per metric")
def plot_history(history, metrics=None, figsize=None, title=None, save_path=None):
    """Plots loss and metric curves per epoch, one panel per metric, validation dashed.

    Args:
        history: the History returned by ``model.fit`` or its ``history`` dict.
        metrics: names to plot (e.g. ``["loss", "accuracy"]``); default every recorded metric
            except ``val_*`` (drawn in the same panel as their training twin) and ``learning_rate``.
    {{figure}}
    """
    data = history_dict(history)
    if metrics is None:
        metrics = [k for k in data if not k.startswith("val_") and k not in ("lr", "learning_rate")]
        metrics += [k[4:] for k in data if k.startswith("val_") and k[4:] not in data]  # val-only metrics
    elif isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in data and "val_" + m not in data]
    if unknown:
        raise ValueError(
            f"Invalid value for argument `metrics`: {unknown} not recorded. The history has {sorted(data)}."
        )
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, len(metrics), figsize=figsize or (5 * len(metrics), 3.6), squeeze=False)
    for ax, name in zip(axes[0], metrics):
        for key, style, label in ((name, "-o", "train"), ("val_" + name, "--s", "validation")):
            if key in data:
                values = data[key]
                ax.plot(range(1, len(values) + 1), values, style, markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend()
    return finish(fig, save_path, title, tight_layout=True)
