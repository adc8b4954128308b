"""``model.summary()`` in the tf.keras layout the seeds print.

Columns are cut at fixed positions exactly as tf.keras did (a long name such as
``max_pooling2d_1 (MaxPooling2D)`` is truncated at the column edge), so a student's output matches the
page in front of them. Optional extra columns: multiply-accumulates and receptive field.
"""

import math

from torch.utils import _pytree as pytree

from strided.layers.input_layer import InputLayer
from strided.backend.keras_tensor import KerasTensor
from strided.models.receptive_field import receptive_fields


def _shape_text(layer):
    try:
        shapes = [t.shape for t in pytree.tree_leaves(layer.output, is_leaf=lambda t: isinstance(t, KerasTensor))]
    except AttributeError:
        return "multiple" if layer.built else "(unbuilt)"
    if len(layer._inbound_nodes) > 1 and not isinstance(layer, InputLayer):
        return "multiple"
    text = [f"({s[0]},)" if len(s) == 1 else str(tuple(s)) for s in shapes]
    return text[0] if len(text) == 1 else "[" + ", ".join(text) + "]"


def _param_count(layer):
    return int(sum(w.numel() for w in layer.weights)) if layer.built else 0


def _is_sequential_like(model):
    from strided.models.sequential import Sequential

    if isinstance(model, Sequential):
        return True
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        return True
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return False
    previous = model.inputs[0]
    for node in nodes:
        if len(node.input_tensors) != 1 or node.input_tensors[0] is not previous or len(node.output_tensors) != 1:
            return False
        previous = node.output_tensors[0]
    return True


def _connections(layer, model):
    parts = []
    for node in layer._inbound_nodes:
        if node not in getattr(model, "_nodes", []):
            continue
        for t in node.input_tensors:
            source, node_index, tensor_index = t._keras_history
            parts.append(f"{source.name}[{node_index}][{tensor_index}]")
    return parts


def layer_macs(layer):
    """Multiply-accumulates of one call of ``layer`` on one sample (0 for layers without weights)."""
    try:
        out_shape = layer.output.shape
    except (AttributeError, ValueError):
        return 0
    weights = [w for w in layer.weights if w.ndim >= 2]
    if not weights or not isinstance(out_shape, tuple):
        return 0
    kernel = weights[0]
    out_positions = math.prod(d for d in out_shape[1:-1] if d) if len(out_shape) > 2 else 1
    per_position = kernel.numel()
    if len(out_shape) > 2 and kernel.ndim > 2:
        return out_positions * per_position
    return per_position * (math.prod(d for d in out_shape[1:-1] if d) if len(out_shape) > 2 else 1)


def _nested_rows(model, depth):
    """Rows for the layers inside a nested model, names indented with '| ' per level (expand_nested)."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, InputLayer):
            continue
        rows.append([f"{'| ' * depth}{layer.name} ({_type_name(layer)})", _shape_text(layer), _param_count(layer)])
        if hasattr(layer, "layers"):
            rows.extend(_nested_rows(layer, depth + 1))
    return rows


def print_summary(
    self,
    line_length=None,
    positions=None,
    print_fn=None,
    expand_nested=False,
    show_trainable=False,
    layer_range=None,
    show_flops=False,
    show_receptive_field=False,
):
    """Prints a table of layers, output shapes and parameter counts (tf.keras layout).

    This is ``Model.summary`` (``self``: the model, which must be built).

    Args:
        line_length: the width of the table (default 65 for a chain of layers, 98 for a graph).
        positions: where each column ends, as fractions of ``line_length`` or as character positions.
        print_fn: called with each line (default ``print``); pass one to capture the summary.
        expand_nested: also list the layers of nested models, indented.
        show_trainable: add a column saying whether each layer is trainable.
        layer_range: ``[first, last]`` layer names: only the layers from ``first`` to ``last`` (both included).
        show_flops: add a column of multiply-accumulates per sample, and their total.
        show_receptive_field: add a column of each layer's receptive field and stride on the input.

    Raises:
        ValueError: if the model is not built, or ``layer_range`` does not name two of its layers.
    """
    if not self.built:
        raise ValueError(
            f"Model '{self.name}' has not yet been built. Build the model first by calling `build()` or by calling "
            "the model on a batch of data, or give the first layer an `input_shape` argument."
        )
    print_fn = print_fn or print
    layers = list(self.layers)
    sequential_like = _is_sequential_like(self)
    if sequential_like:
        layers = [l for l in layers if not isinstance(l, InputLayer)]
    if layer_range is not None:
        names = [l.name for l in layers]
        if len(layer_range) != 2 or layer_range[0] not in names or layer_range[1] not in names:
            raise ValueError(f"`layer_range` must be two existing layer names. Received layer_range={layer_range!r}.")
        layers = layers[names.index(layer_range[0]) : names.index(layer_range[1]) + 1]

    headers = ["Layer (type)", "Output Shape", "Param #"]
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        headers.append("Connected to")
    extra = []
    if show_flops:
        extra.append("MACs")
    if show_receptive_field:
        extra.append("Receptive field")
    if show_trainable:
        extra.append("Trainable")
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    for _ in extra:
        positions.append(positions[-1] + 16)
        line_length += 16
    headers += extra

    def row(fields):
        line = ""
        for i, field in enumerate(fields):
            if i > 0:
                line = line[:-1] + " "
            line += str(field)
            line = line[: positions[i]]
            line += " " * (positions[i] - len(line))
        print_fn(line)

    receptive = {}
    if show_receptive_field:
        receptive = receptive_fields(self)

    print_fn(f'Model: "{self.name}"')
    print_fn("_" * line_length)
    row(headers)
    print_fn("=" * line_length)
    for i, layer in enumerate(layers):
        fields = [f"{layer.name} ({_type_name(layer)})", _shape_text(layer), _param_count(layer)]
        connections = _connections(layer, self) if not sequential_like else []
        if not sequential_like:
            fields.append(connections[0] if connections else "")
        if show_flops:
            fields.append(f"{layer_macs(layer):,}")
        if show_receptive_field:
            rf = receptive.get(layer.name)
            fields.append(f"{rf[0]} / stride {rf[1]}" if rf else "-")
        if show_trainable:
            fields.append("Y" if layer.trainable else "N")
        row(fields)
        for extra_connection in connections[1:]:
            row(["", "", "", extra_connection])
        if expand_nested and hasattr(layer, "layers") and layer is not self:
            for inner_row in _nested_rows(layer, depth=1):
                row(inner_row + [""] * (len(headers) - len(inner_row)))
        print_fn(("=" if i == len(layers) - 1 else "_") * line_length)
    trainable = sum(int(w.numel()) for w in self.trainable_weights)
    total = sum(int(w.numel()) for w in self.weights)
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    if show_flops:
        print_fn(f"Total MACs per sample: {sum(layer_macs(l) for l in layers):,}")
    print_fn("_" * line_length)


def _type_name(layer):
    """The class shown in the summary; graph operations show Keras's operation class (``mean (Mean)``)."""
    return getattr(layer, "keras_class", None) or type(layer).__name__
