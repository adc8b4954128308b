"""Shared helpers: lazy matplotlib import, the plots' shared arguments and their doc, figure saving, array
conversion, layer lookup."""

import functools

import numpy as np
from strided.models.receptive_field import model_inputs  # noqa: F401  (shared by the plots)
from strided.utils.docstrings import fill_doc
from strided.utils.optional import optional_import

# The arguments every plot ends with and what it returns, written once. A plot's docstring writes ``{{figure}}``
# after its own arguments, at the indentation of the section headings (``Args:``), and is decorated with
# ``figure_doc``; each plot states only its default size, its title's meaning and what its axes are.
_FIGURE_DOC = """    figsize: figure size in inches{{figsize}}.
    title: {{title}}.
    save_path: when given, the figure is also written there as a PNG.

Returns:
    The matplotlib Figure{{axes}}."""


def figure_doc(axes="", figsize="", title="optional figure title"):
    """Function decorator: fills the ``{{figure}}`` field of a plot's docstring (see ``_FIGURE_DOC``)."""

    def document(plot):
        plot.__doc__ = fill_doc(plot.__doc__, figure=fill_doc(_FIGURE_DOC, axes=axes, figsize=figsize, title=title))
        return plot

    return document


def pyplot():
    """Imports ``matplotlib.pyplot`` on first use; matplotlib is the optional ``plot`` extra."""
    return optional_import("matplotlib.pyplot", "Plotting with strided.visualize")


def finish(fig, save_path, title=None, tight_layout=False, dpi=100):
    """Titles ``fig`` (when ``title`` is given), lays it out tightly (when asked, after the title so that it makes
    room for it), writes it as a PNG when ``save_path`` is given (creating the folder) and returns it."""
    if title:
        fig.suptitle(title)
    if tight_layout:
        fig.tight_layout()
    if save_path is not None:
        import os

        folder = os.path.dirname(os.fspath(save_path))
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(save_path, dpi=dpi, bbox_inches="tight")
    # In a notebook the figure would otherwise show twice: once as the cell's value, once more when the inline
    # backend draws pyplot's open figures at the end of the cell. IPython asks `_ipython_display_` first.
    fig._ipython_display_ = functools.partial(_display_once, fig)
    return fig


def _display_once(fig):
    """IPython display of the figures above: draws it, then takes it off pyplot's list when the inline backend
    would draw it again at the end of the cell (every display, the cell's value or the backend's own, comes here)."""
    import matplotlib
    from IPython.display import display
    from matplotlib import _pylab_helpers

    hook = fig.__dict__.pop("_ipython_display_", None)  # display the plain Figure, without coming back here
    try:
        display(fig)
    finally:
        if hook is not None:
            fig._ipython_display_ = hook
    if "inline" in matplotlib.get_backend():
        for manager in _pylab_helpers.Gcf.get_all_fig_managers():
            if manager.canvas.figure is fig:
                _pylab_helpers.Gcf.destroy(manager)


def to_numpy(x):
    """NumPy view of an array, a torch tensor (any device, with or without grad) or a list."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def grid_shape(n, cols):
    cols = max(1, min(int(cols), n))
    return -(-n // cols), cols


def check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly positive integer. Received {name}={value!r}."
        )
    return int(value)


def resolve_layer(model, layer):
    """A layer of ``model`` given as a Layer, a name or an index into ``model.layers``."""
    if isinstance(layer, str):
        return model.get_layer(layer)
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        layers = list(model.layers)
        if not -len(layers) <= layer < len(layers):
            raise ValueError(
                f"Invalid value for argument `layer`: model '{model.name}' has {len(layers)} layers. "
                f"Received layer={layer}."
            )
        return layers[layer]
    if hasattr(layer, "get_weights") and hasattr(layer, "name"):
        if not any(l is layer for l in model.layers):
            raise ValueError(
                f"Invalid value for argument `layer`: layer '{layer.name}' is not a layer of model "
                f"'{model.name}'. Its layers are {[l.name for l in model.layers]}."
            )
        return layer
    raise TypeError(
        "Invalid type for argument `layer`. Expected a layer, a layer name or an index. "
        f"Received layer={layer!r} of type {type(layer).__name__}."
    )


def as_batch(x, model):
    """Adds the batch axis to a single sample when the model's input rank asks for it."""
    x = to_numpy(x) if not hasattr(x, "detach") else x
    rank = len(model_inputs(model)[0].shape)
    if len(x.shape) == rank - 1:
        x = x[None]
    if len(x.shape) != rank:
        raise ValueError(
            f"Invalid shape for argument `x`: model '{model.name}' expects inputs of shape "
            f"{tuple(model_inputs(model)[0].shape)} (a batch) or one sample without the batch axis. "
            f"Received x.shape={tuple(x.shape)}."
        )
    return x
