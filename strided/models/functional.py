"""Functional models: a graph of layer calls between symbolic inputs and outputs.

``Model(inputs, outputs)`` walks back from the outputs to the inputs, orders the layer calls
(nodes) topologically once, and replays them on real tensors in ``call``.
"""
from torch.utils import _pytree as pytree

import torch

from strided.layers.base import Layer, unique_name
from strided.layers.input_layer import InputLayer
from strided.backend.keras_tensor import KerasTensor
from strided.models.model import Model
from strided.training.trainer import Trainer


def _is_kt(t):
    return isinstance(t, KerasTensor)


def _flat(structure):
    return [t for t in pytree.tree_leaves(structure, is_leaf=_is_kt)]


def _flatten_like(structure, values, model_name):
    """``values`` flattened in the order of the model's nested input ``structure`` (dicts by key)."""
    if _is_kt(structure):
        return [values]
    if isinstance(structure, dict):
        if not isinstance(values, dict) or any(k not in values for k in structure):
            raise ValueError(f"Model '{model_name}' expects a dict of inputs with keys {sorted(structure)}. "
                             f"Received: {sorted(values) if isinstance(values, dict) else type(values).__name__}")
        return [v for k in structure for v in _flatten_like(structure[k], values[k], model_name)]
    if not isinstance(values, (list, tuple)) or len(values) != len(structure):
        raise ValueError(f"Model '{model_name}' expects {len(structure)} inputs in a list. Received: "
                         f"{len(values) if isinstance(values, (list, tuple)) else type(values).__name__}")
    return [v for s, x in zip(structure, values) for v in _flatten_like(s, x, model_name)]


def order_nodes(inputs, outputs):
    """Nodes needed to compute ``outputs`` from ``inputs``, in execution order.

    A depth-first post-order walk from the outputs, kept on an explicit stack rather than Python's
    call stack: deep graphs (EfficientNetB7's longest path has about 800 layers) would otherwise
    exceed the interpreter's recursion limit, which Keras builds them within.

    Raises a ValueError naming the tensor and layer when an output does not depend only on the inputs
    (Keras's "Graph disconnected" error).
    """
    input_ids = {id(t) for t in inputs}
    ordered, state = [], {}  # state: id(node) -> 1 visiting, 2 done

    def producer(t, consumer):
        """The node that computes ``t``, or None for a model input."""
        if id(t) in input_ids:
            return None
        layer, node_index, _ = t._keras_history
        if isinstance(layer, InputLayer):
            raise ValueError(
                f"Graph disconnected: cannot find the value of tensor {t.name} (shape {t.shape}) needed by layer "
                f"'{consumer}'. It comes from input '{layer.name}', which is not among the model's `inputs` "
                f"({[i.name for i in inputs]}).")
        return layer._inbound_nodes[node_index]

    for output in outputs:
        root = producer(output, "(model output)")
        if root is None or state.get(id(root)) == 2:
            continue
        state[id(root)] = 1
        stack = [(root, iter(root.input_tensors))]
        while stack:
            node, pending = stack[-1]
            for t in pending:
                child = producer(t, node.layer.name)
                if child is None or state.get(id(child)) == 2:
                    continue
                if state.get(id(child)) == 1:
                    raise ValueError(f"The graph has a cycle through layer '{child.layer.name}'.")
                state[id(child)] = 1
                stack.append((child, iter(child.input_tensors)))
                break
            else:  # every input is computed: the node can run
                stack.pop()
                state[id(node)] = 2
                ordered.append(node)
    return ordered


class Functional(Model):
    """A model defined by ``Model(inputs, outputs)``.

    Args:
        inputs: a KerasTensor from ``Input``, or a list/dict of them.
        outputs: a KerasTensor or a list/dict of them, computed from ``inputs``.
        name: model name (default ``functional``, ``functional_1``...).
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name or unique_name(self._default_name()), trainable=trainable, **kwargs)
        Trainer.__init__(self)
        for what, structure in (("inputs", inputs), ("outputs", outputs)):
            for t in pytree.tree_leaves(structure, is_leaf=_is_kt):
                if not _is_kt(t):
                    raise TypeError(f"All `{what}` of a functional Model must be symbolic tensors (from `Input` or "
                                    f"from calling layers on them). Received {what} containing {type(t).__name__}.")
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        self._input_structure = inputs
        self._output_structure = outputs
        self._flat_inputs = _flat(inputs)
        self._flat_outputs = _flat(outputs)
        self._nodes = order_nodes(self._flat_inputs, self._flat_outputs)
        layers = []
        for t in self._flat_inputs:
            layers.append(t._keras_history[0])
        for node in self._nodes:
            if node.layer not in layers:
                layers.append(node.layer)
        self._graph_layers = torch.nn.ModuleList(layers)
        # List layers (and so weights and summary rows) in Keras's graph order, so get_weights and
        # weight files line up with Keras models of the same architecture.
        from strided.saving.keras_format import keras_layer_order
        self._graph_layers = torch.nn.ModuleList(keras_layer_order(self))
        self._plan = [self._node_plan(node) for node in self._nodes]
        self.built = True

    @staticmethod
    def _node_plan(node):
        """How to feed one node in ``call`` without walking its argument structure every step.

        'one': a single tensor argument; 'many': a flat list/tuple of tensors (merge layers);
        anything else (constants, dicts, keyword tensors) takes the general pytree path.
        """
        (arg,) = node.call_args
        kwargs = {k: v for k, v in node.call_kwargs.items() if k != "training"}
        single_out = _is_kt(node.outputs)
        if not kwargs and _is_kt(arg):
            return node.layer, "one", id(arg), single_out, node
        if not kwargs and isinstance(arg, (list, tuple)) and all(_is_kt(t) for t in arg):
            return node.layer, "many", [id(t) for t in arg], single_out, node
        return node.layer, "tree", None, single_out, node

    @classmethod
    def _default_name(cls):
        return "functional" if cls is Functional else super()._default_name()

    @property
    def layers(self):
        return list(self._graph_layers)

    @property
    def inputs(self):
        return list(self._flat_inputs)

    @property
    def outputs(self):
        return list(self._flat_outputs)

    @property
    def input(self):
        return self._input_structure

    @property
    def output(self):
        return self._output_structure

    @property
    def input_shape(self):
        return pytree.tree_map(lambda t: t.shape, self._input_structure, is_leaf=_is_kt)

    @property
    def output_shape(self):
        return pytree.tree_map(lambda t: t.shape, self._output_structure, is_leaf=_is_kt)

    def check_input(self, shapes):
        structure = self._input_structure
        if isinstance(structure, dict) or (isinstance(structure, (list, tuple))
                                           and not all(_is_kt(s) for s in structure)):
            flat = _flatten_like(structure, shapes, self.name)  # dict inputs by key, as call() takes them
        else:
            flat = [s for s in pytree.tree_leaves(shapes, is_leaf=lambda s: isinstance(s, tuple))]
        if len(flat) != len(self._flat_inputs):
            raise ValueError(f"Model '{self.name}' expects {len(self._flat_inputs)} input(s), but it received "
                             f"{len(flat)} input tensors.")
        for i, (shape, spec) in enumerate(zip(flat, self._flat_inputs)):
            expected = spec.shape
            ok = len(shape) == len(expected) and all(e is None or e == d for e, d in zip(expected[1:], shape[1:]))
            if not ok:
                raise ValueError(f"Input {i} of layer \"{self.name}\" is incompatible with the layer: expected "
                                 f"shape={expected}, found shape={tuple(shape)}")

    def _flatten_call_inputs(self, inputs):
        if isinstance(self._input_structure, dict):
            if not isinstance(inputs, dict):
                raise ValueError(f"Model '{self.name}' expects a dict of inputs with keys "
                                 f"{sorted(self._input_structure)}.")
            return _flatten_like(self._input_structure, inputs, self.name)
        if isinstance(self._input_structure, (list, tuple)) and not all(_is_kt(s) for s in self._input_structure):
            return _flatten_like(self._input_structure, inputs, self.name)  # nested lists/dicts of inputs
        if isinstance(inputs, (list, tuple)):
            return list(inputs)
        return [inputs]

    def call(self, inputs, training=False):
        values = {}
        for spec, value in zip(self._flat_inputs, self._flatten_call_inputs(inputs)):
            values[id(spec)] = value

        def lookup(t):
            return values[id(t)] if _is_kt(t) else t

        for layer, kind, refs, single_out, node in self._plan:
            if kind == "one":
                out = layer._invoke(values[refs], training, {})
            elif kind == "many":
                out = layer._invoke([values[r] for r in refs], training, {})
            else:
                args = pytree.tree_map(lookup, node.call_args, is_leaf=_is_kt)
                kwargs = pytree.tree_map(lookup, node.call_kwargs, is_leaf=_is_kt)
                kwargs.pop("training", None)
                out = layer._invoke(args[0], training, kwargs)
            if single_out:
                values[id(node.outputs)] = out
            else:
                for t, v in zip(node.output_tensors, pytree.tree_leaves(out)):
                    values[id(t)] = v
        return pytree.tree_map(lookup, self._output_structure, is_leaf=_is_kt)

    def get_config(self):
        from strided.saving import serialization
        return serialization.functional_config(self)
