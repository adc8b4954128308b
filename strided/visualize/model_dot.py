"""``model_to_dot``: a model's graph in Graphviz's DOT language, written without pydot or Graphviz."""

from strided.layers.input_layer import InputLayer
from strided.models.summary import _connections, _shape_text


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class DotGraph:
    """A DOT graph as text: what ``model_to_dot`` returns in place of a ``pydot.Dot``.

    ``to_string()`` gives the DOT source (render it with ``dot -Tpng`` or any Graphviz viewer),
    ``write(path)`` saves it, ``get_nodes()`` / ``get_edges()`` list ``(name, attributes)`` and
    ``(source, target)`` pairs.
    """

    def __init__(self, name, graph_attributes):
        self.name = name
        self.graph_attributes = dict(graph_attributes)
        self._nodes = []
        self._edges = []

    def add_node(self, name, **attributes):
        self._nodes.append((str(name), attributes))

    def add_edge(self, source, target):
        self._edges.append((str(source), str(target)))

    def get_nodes(self):
        return list(self._nodes)

    def get_edges(self):
        return list(self._edges)

    def to_string(self):
        lines = [f"digraph {_quote(self.name)} {{"]
        lines += [f"  {key}={_quote(value)};" for key, value in self.graph_attributes.items()]
        lines.append('  node [shape="record"];')
        for name, attributes in self._nodes:
            attrs = ", ".join(f"{k}={_quote(v)}" for k, v in attributes.items())
            lines.append(f"  {_quote(name)} [{attrs}];")
        lines += [f"  {_quote(a)} -> {_quote(b)};" for a, b in self._edges]
        lines.append("}")
        return "\n".join(lines) + "\n"

    def write(self, path, format="raw"):
        """Writes the DOT source to ``path`` (only the ``"raw"``/``"dot"`` formats: rendering an image
        needs Graphviz)."""
        if format not in ("raw", "dot"):
            raise ValueError(
                f"Invalid value for argument `format`: strided writes DOT text only ('raw' or 'dot'); "
                f"render it with Graphviz (`dot -Tpng`). Received: format={format!r}"
            )
        with open(path, "w") as f:
            f.write(self.to_string())
        return True

    def __str__(self):
        return self.to_string()


def model_to_dot(
    model,
    show_shapes=False,
    show_dtype=False,
    show_layer_names=True,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    subgraph=False,
    show_layer_activations=False,
    show_trainable=False,
    **kwargs,
):
    """Converts a Keras model to dot format.

    Keras returns a ``pydot.Dot``; strided returns a ``DotGraph`` with the same content as DOT text
    (``.to_string()``), so no pydot or Graphviz is needed to build it. One node per layer (named by the
    layer's id, as Keras does), labelled with the layer name, class and the requested details, and one
    edge per connection.

    Args:
        model: a built Sequential or functional model.
        show_shapes: whether to display shape information.
        show_dtype: whether to display layer dtypes.
        show_layer_names: whether to display layer names.
        rankdir: ``"TB"`` (vertical) or ``"LR"`` (horizontal), the DOT ``rankdir``.
        expand_nested: accepted for Keras compatibility (nested models are one node).
        dpi: image resolution in dots per inch (a graph attribute).
        subgraph: accepted for Keras compatibility.
        show_layer_activations: display the activation of layers that have one.
        show_trainable: display whether each layer is trainable.

    Returns:
        A ``DotGraph``.
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"Invalid value for argument `rankdir`. Expected 'TB' or 'LR'. Received: rankdir={rankdir!r}")
    if not getattr(model, "built", False):
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or by calling "
            "the model on a batch of data."
        )
    dot = DotGraph(model.name, {"rankdir": rankdir, "concentrate": True, "dpi": dpi})
    layers = list(model.layers)
    input_layer = getattr(model, "_input_layer", None)
    if input_layer is not None and input_layer not in layers:
        layers.insert(0, input_layer)
    by_name = {layer.name: layer for layer in layers}
    previous = None
    for layer in layers:
        class_name = getattr(layer, "keras_class", None) or type(layer).__name__
        parts = [f"{layer.name} ({class_name})" if show_layer_names else class_name]
        activation = getattr(layer, "activation", None)
        if show_layer_activations and activation is not None:
            parts.append(f"Activation: {getattr(activation, '__name__', activation)}")
        if show_dtype:
            parts.append(f"Output dtype: {layer.dtype}")
        if show_shapes:
            try:
                parts.append(f"Output shape: {_shape_text(layer)}")
            except (AttributeError, ValueError):
                parts.append("Output shape: ?")
        if show_trainable:
            parts.append(f"Trainable: {'T' if layer.trainable else 'F'}")
        dot.add_node(id(layer), label="\n".join(parts))
        sources = [c.split("[")[0] for c in _connections(layer, model)] if not isinstance(layer, InputLayer) else []
        if not sources and previous is not None and not isinstance(layer, InputLayer) and not hasattr(model, "_nodes"):
            sources = [previous.name]  # Sequential: each layer feeds the next
        for source in sources:
            if source in by_name:
                dot.add_edge(id(by_name[source]), id(layer))
        previous = layer
    return dot
