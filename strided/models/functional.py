"""Functional models: a graph of layer calls between symbolic inputs and outputs.

``Model(inputs, outputs)`` walks back from the outputs to the inputs, orders the layer calls
(nodes) topologically once, and replays them on real tensors in ``call``.
"""

from torch.utils import _pytree as pytree

import torch

from strided.layers.base import Layer, unique_name
from strided.layers.input_layer import InputLayer
from strided.backend.keras_tensor import KerasTensor
from strided.layers.operation import KERAS_OP_CLASSES, apply_operation
from strided.layers.ops_call import replay_for
from strided.models.model import Model
from strided.saving.serialization_lib import _clean_value, _shape_json, deserialize_layer, serialize_layer, to_jsonable
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
            raise ValueError(
                f"Model '{model_name}' expects a dict of inputs with keys {sorted(structure)}. "
                f"Received: {sorted(values) if isinstance(values, dict) else type(values).__name__}"
            )
        return [v for k in structure for v in _flatten_like(structure[k], values[k], model_name)]
    if not isinstance(values, (list, tuple)) or len(values) != len(structure):
        raise ValueError(
            f"Model '{model_name}' expects {len(structure)} inputs in a list. Received: "
            f"{len(values) if isinstance(values, (list, tuple)) else type(values).__name__}"
        )
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
                f"({[i.name for i in inputs]})."
            )
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
                    raise TypeError(
                        f"All `{what}` of a functional Model must be symbolic tensors (from `Input` or "
                        f"from calling layers on them). Received {what} containing {type(t).__name__}."
                    )
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
        seen = {}
        for layer in layers:
            seen[layer.name] = seen.get(layer.name, 0) + 1
        duplicated = [n for n, count in seen.items() if count > 1]
        if duplicated:
            # Keras's rule: the saved file keys weights by layer name, so a duplicate would not load back.
            raise ValueError(
                f"The name '{duplicated[0]}' is used {seen[duplicated[0]]} times in the model. All "
                "layer names should be unique. Pass a distinct `name=` to each layer."
            )
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
        if isinstance(structure, dict) or (
            isinstance(structure, (list, tuple)) and not all(_is_kt(s) for s in structure)
        ):
            flat = _flatten_like(structure, shapes, self.name)  # dict inputs by key, as call() takes them
        else:
            flat = [s for s in pytree.tree_leaves(shapes, is_leaf=lambda s: isinstance(s, tuple))]
        if len(flat) != len(self._flat_inputs):
            raise ValueError(
                f"Model '{self.name}' expects {len(self._flat_inputs)} input(s), but it received "
                f"{len(flat)} input tensors."
            )
        for i, (shape, spec) in enumerate(zip(flat, self._flat_inputs)):
            expected = spec.shape
            ok = len(shape) == len(expected) and all(e is None or e == d for e, d in zip(expected[1:], shape[1:]))
            if not ok:
                raise ValueError(
                    f'Input {i} of layer "{self.name}" is incompatible with the layer: expected '
                    f"shape={expected}, found shape={tuple(shape)}"
                )

    def __call__(self, *args, **kwargs):
        if args and isinstance(args[0], dict):
            args = (self._inputs_from_names(args[0]),) + args[1:]
        elif not args and isinstance(kwargs.get("inputs"), dict):
            kwargs["inputs"] = self._inputs_from_names(kwargs["inputs"])
        return super().__call__(*args, **kwargs)

    def _inputs_from_names(self, inputs):
        """A dict keyed by the names of the model's ``Input``s, for a model built on a list of inputs (or
        one input), becomes that list (or tensor), as in Keras: ``model.fit({"image": x, "meta": m}, y)``."""
        structure = self._input_structure
        if isinstance(structure, dict):
            return inputs
        flat = [structure] if _is_kt(structure) else structure
        if not isinstance(flat, (list, tuple)) or not all(_is_kt(t) for t in flat):
            return inputs
        names = [t.name for t in flat]
        missing = [n for n in names if n not in inputs]
        if missing:
            raise ValueError(
                f"Model '{self.name}' was called with a dict of inputs keyed {sorted(map(str, inputs))}, but "
                f"its inputs are named {names}: missing {missing}. Key the dict by the names of "
                "the `Input`s (their `name=` argument), or pass a list in the order of the inputs."
            )
        values = [inputs[n] for n in names]
        return values[0] if _is_kt(structure) else values

    def _flatten_call_inputs(self, inputs):
        if isinstance(self._input_structure, dict):
            if not isinstance(inputs, dict):
                raise ValueError(
                    f"Model '{self.name}' expects a dict of inputs with keys {sorted(self._input_structure)}."
                )
            return _flatten_like(self._input_structure, inputs, self.name)
        if isinstance(self._input_structure, (list, tuple)) and not all(_is_kt(s) for s in self._input_structure):
            return _flatten_like(self._input_structure, inputs, self.name)  # nested lists/dicts of inputs
        expected = len(self._flat_inputs)
        if isinstance(inputs, dict):  # Keras matches a dict to the inputs by the names of their Input layers
            values = self._inputs_from_names(inputs)
            return [values] if _is_kt(self._input_structure) else values
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != expected:
            raise ValueError(
                f"Model '{self.name}' expects {expected} input(s), but it received {len(flat)} input "
                f"tensors. Pass {'one array' if expected == 1 else f'a list of {expected} arrays'}."
            )
        return flat

    def call(self, inputs, training=False):
        values = {}
        for spec, value in zip(self._flat_inputs, self._flatten_call_inputs(inputs)):
            values[id(spec)] = value

        def lookup(t):
            return values[id(t)] if _is_kt(t) else t

        direct = self.__dict__.get("_plan_direct")
        if direct is None:
            # No mask can appear in the graph (no layer, at any depth, makes one): single-tensor and list
            # arguments go straight to each layer's `call`, as `_invoke` would pass them.
            direct = self.__dict__["_plan_direct"] = not any(
                sub._own_compute_mask for layer in self._graph_layers for sub in layer._flatten_layers()
            )
        if direct and any([getattr(v, "_keras_mask", None) is not None for v in values.values()]):
            direct = False
        for layer, kind, refs, single_out, node in self._plan:
            if kind == "one":
                if direct and layer.activity_regularizer is None:
                    out = (
                        layer.call(values[refs], training=training)
                        if layer._call_takes_training
                        else layer.call(values[refs])
                    )
                else:
                    out = layer._invoke(values[refs], training, {})
            elif kind == "many":
                if direct and layer.activity_regularizer is None:
                    args = [values[r] for r in refs]
                    out = layer.call(args, training=training) if layer._call_takes_training else layer.call(args)
                else:
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
        return functional_config(self)

    @classmethod
    def from_keras_config(cls, config, custom_objects=None, safe_mode=True):
        """A new functional model from ``get_config()`` output (Keras 3 or tf.keras 2 layout)."""
        return functional_from_config(config, custom_objects, safe_mode)


def functional_config(model):
    """``Functional.get_config()`` in Keras 3's layout: layers with ``inbound_nodes``, inputs, outputs."""
    model_nodes = {id(n) for n in model._nodes}
    for t in model.inputs:
        model_nodes.add(id(t._keras_history[0]._inbound_nodes[t._keras_history[1]]))
    # Node indices are renumbered to count only the nodes that belong to this model (as Keras does).
    reindex = {}
    for layer in model.layers:
        kept = 0
        for i, node in enumerate(layer._inbound_nodes):
            if id(node) in model_nodes:
                reindex[(id(layer), i)] = kept
                kept += 1

    def tensor_ref(t):
        layer, node_index, tensor_index = t._keras_history
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": _shape_json(t.shape),
                "dtype": t.dtype,
                "keras_history": [layer.name, reindex.get((id(layer), node_index), node_index), tensor_index],
            },
        }

    def encode(value):
        if isinstance(value, KerasTensor):
            return tensor_ref(value)
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        return to_jsonable(value)

    layer_configs = []
    for layer in model.layers:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        nodes = []
        if type(layer).__name__ != "InputLayer":
            for node in layer._inbound_nodes:
                if id(node) in model_nodes:
                    kwargs = {k: v for k, v in node.call_kwargs.items() if k != "training"}
                    args = list(node.call_args)
                    if getattr(layer, "keras_class", None) is not None:
                        if hasattr(layer, "full_kwargs"):  # an ops function's keyword call arguments
                            kwargs = layer.full_kwargs(args[0])
                        args = layer.full_args(args[0])  # tensors and constants, in the op's argument order
                    nodes.append({"args": encode(args), "kwargs": encode(kwargs)})
        entry["inbound_nodes"] = nodes
        layer_configs.append(entry)

    def refs(tensors):
        out = []
        for t in tensors:
            layer, node_index, tensor_index = t._keras_history
            out.append([layer.name, reindex.get((id(layer), node_index), node_index), tensor_index])
        return out

    inputs, outputs = refs(model.inputs), refs(model.outputs)
    single_in = not isinstance(model._input_structure, (list, dict))
    single_out = not isinstance(model._output_structure, (list, dict))
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layer_configs,
        "input_layers": inputs[0] if single_in else inputs,
        "output_layers": outputs[0] if single_out else outputs,
    }


def _history_of(value):
    """(layer_name, node_index, tensor_index) of a serialized tensor reference, else None."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        h = value["config"]["keras_history"]
        return h[0], int(h[1]), int(h[2])
    return None


class _OpReplay:
    """A ``keras.src.ops`` entry of a saved config: the torch function to apply to its node's arguments."""

    def __init__(self, op_name, fn):
        self.op_name, self.fn = op_name, fn


def _keras_op(layer_config):
    """The replay of a ``keras.src.ops`` entry (``x + 3``, ``x[:, 0]``, ``ops.mean(x)``...), else None."""
    if not str(layer_config.get("module", "")).startswith("keras.src.ops"):
        return None
    if layer_config.get("class_name") in KERAS_OP_CLASSES:
        return _OpReplay(*KERAS_OP_CLASSES[layer_config["class_name"]])
    replay = replay_for(layer_config)
    if replay is None:
        raise ValueError(
            f"The saved model uses the Keras operation {layer_config.get('class_name')!r} "
            f"({layer_config.get('module')}), which strided cannot rebuild."
        )
    return replay


def functional_from_config(config, custom_objects=None, safe_mode=True, make_layer=None):
    """Rebuilds a functional model by replaying each layer's inbound nodes in dependency order."""
    make = make_layer or (lambda c: deserialize_layer(c, custom_objects, safe_mode))
    created = {}  # layer name -> layer
    outputs = {}  # (layer name, node index) -> output structure
    pending = []
    for lc in config["layers"]:
        name = lc.get("name") or (lc.get("config") or {}).get("name")
        layer = _keras_op(lc) or make(lc)
        created[name] = layer
        if type(layer).__name__ == "InputLayer":
            outputs[(name, 0)] = layer.output
        for node_data in lc.get("inbound_nodes", []):
            pending.append((name, lc, node_data))
    counters = {}

    def resolve(value):
        """Tensor references -> tensors; raises LookupError while an input is not computed yet."""
        ref = _history_of(value)
        if ref is not None:
            key = (ref[0], ref[1])
            if key not in outputs:
                raise LookupError(key)
            out = outputs[key]
            leaves = out if isinstance(out, (list, tuple)) else [out]
            return leaves[ref[2]]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    def call(name, node_data):
        layer = created[name]
        if hasattr(layer, "replay"):  # a keras.ops function call (ops.mean(x, axis=1)...): replay it
            index = counters.get(name, 0)
            counters[name] = index + 1
            args = [_clean_value(a, safe_mode) for a in resolve(node_data.get("args", []))]
            kwargs = _clean_value(resolve(node_data.get("kwargs", {})), safe_mode)
            outputs[(name, index)] = layer.replay(args, name, kwargs)
            return
        if isinstance(layer, _OpReplay):  # a keras.ops operation: replay it on the resolved arguments
            args = [_clean_value(a, safe_mode) for a in resolve(node_data.get("args", []))]
            index = counters.get(name, 0)
            counters[name] = index + 1
            outputs[(name, index)] = apply_operation(layer.fn, layer.op_name, *args, layer_name=name)
            return
        if isinstance(node_data, dict):  # Keras 3 layout
            args = resolve(node_data.get("args", []))
            kwargs = _clean_value(resolve(node_data.get("kwargs", {})), safe_mode)
            inputs = args[0] if args else kwargs.pop("inputs")
        else:  # tf.keras 2 layout: [[name, node, tensor, kwargs], ...]
            tensors, kwargs = [], {}
            for entry in node_data:
                key = (entry[0], int(entry[1]))
                if key not in outputs:
                    raise LookupError(key)
                out = outputs[key]
                leaves = out if isinstance(out, (list, tuple)) else [out]
                tensors.append(leaves[int(entry[2])])
                if len(entry) > 3 and entry[3]:
                    kwargs.update(entry[3])
            inputs = tensors[0] if len(tensors) == 1 else tensors
        extra = args[1:] if isinstance(node_data, dict) and args else []  # layer(query, value) calls
        result = layer(inputs, *extra, **kwargs)
        index = counters.get(name, 0)
        counters[name] = index + 1
        outputs[(name, index)] = result

    # Keras's order: process nodes in file order, deferring any whose inputs do not exist yet.
    while pending:
        progressed, remaining = False, []
        for item in pending:
            name = item[0]
            earlier = [p for p in remaining if p[0] == name]
            if earlier:
                remaining.append(item)
                continue
            try:
                call(name, item[2])
                progressed = True
            except LookupError:
                remaining.append(item)
        if not progressed:
            missing = sorted({p[0] for p in remaining})
            raise ValueError(
                f"Cannot rebuild the functional model '{config.get('name')}': the inputs of layers "
                f"{missing} are never computed (the config's graph is disconnected or corrupted)."
            )
        pending = remaining

    def refs_to_tensors(refs):
        if refs and not isinstance(refs[0], (list, tuple)):
            refs, single = [refs], True
        else:
            single = False
        tensors = []
        for ref in refs:
            key = (ref[0], int(ref[1]))
            if key not in outputs:
                raise ValueError(
                    f"The model config names {ref[0]!r} node {ref[1]} as an input or output, but that "
                    "layer call is not in the config."
                )
            out = outputs[key]
            leaves = out if isinstance(out, (list, tuple)) else [out]
            tensors.append(leaves[int(ref[2])])
        return tensors[0] if single else tensors

    inputs = refs_to_tensors(config["input_layers"])
    outs = refs_to_tensors(config["output_layers"])
    model = Model(inputs, outs, name=config.get("name"))
    if config.get("trainable") is False:
        model.trainable = False
    return model
