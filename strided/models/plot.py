"""``plot_model`` as text: the graph of a model, one line per layer, with what feeds it."""

from strided.layers.input_layer import InputLayer
from strided.models.summary import _connections, _shape_text


def plot_model(model, to_file=None, show_shapes=True, show_layer_names=True, print_fn=None, **kwargs):
    """Renders the model's graph as text (no Graphviz needed) and returns it.

    Each line is ``name (Type) shape <- inputs``. Keras writes an image with pydot; strided writes
    the same information as text, to ``to_file`` when given (an image extension gets a ``.txt``).

    Args:
        model: a built Sequential or functional model.
        to_file: optional path for the text.
        show_shapes: include output shapes.
        show_layer_names: include layer names (the class name is always shown).
        print_fn: optional callable receiving each line (e.g. ``print``).
    """
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet: give it an input shape or call it on data first.")
    lines = [f'Model "{model.name}"']
    previous = None
    for layer in model.layers:
        type_name = getattr(layer, "keras_class", None) or type(layer).__name__  # mean (Mean) for graph operations
        label = f"{layer.name} ({type_name})" if show_layer_names else type_name
        if show_shapes:
            label += f" {_shape_text(layer)}"
        sources = [c.split("[")[0] for c in _connections(layer, model)]
        if not sources and previous is not None and not isinstance(layer, InputLayer) and not hasattr(model, "_nodes"):
            sources = [previous]  # Sequential: each layer feeds the next
        lines.append(f"  {label}" + (f"  <- {', '.join(sources)}" if sources else ""))
        previous = layer.name
    text = "\n".join(lines)
    if to_file:
        path = str(to_file)
        if path.lower().endswith((".png", ".svg", ".pdf", ".jpg")):
            path = path.rsplit(".", 1)[0] + ".txt"
        with open(path + ".tmp", "w") as f:
            f.write(text + "\n")
        import os

        os.replace(path + ".tmp", path)
    if print_fn is not None:
        for line in lines:
            print_fn(line)
    return text
