"""Layer and model configs in Keras's JSON layout: serialize, deserialize, to/from JSON, clone.

Configs are written in the Keras 3 layout (``{'module', 'class_name', 'config', 'registered_name',
'build_config'}``; functional ``inbound_nodes`` as ``{'args': [...], 'kwargs': {...}}`` with
``__keras_tensor__`` entries) so real Keras reads them, and read in both the Keras 3 and the
tf.keras 2 layouts (``inbound_nodes`` as ``[[['layer', node, tensor, {}], ...]]``). Layers are
found by their Keras class name in ``strided.layers``. Nothing from a file is executed: a
serialized Python function (a ``Lambda``'s bytecode) is refused unless ``safe_mode=False``.
"""
import base64
import inspect
import json
import marshal
import types
import warnings

import numpy as np

from strided.layers.base import Layer
from strided.utils import object_registration
from strided.backend.keras_tensor import KerasTensor

# Keras 3 config keys that strided layers need not accept when they hold their default meaning.
_IGNORABLE_KEYS = {"quantization_config", "synchronized", "renorm", "renorm_clipping", "renorm_momentum",
                   "optional", "ragged", "lora_rank", "lora_alpha", "sparse", "seed_generator"}
_MODEL_CLASSES = ("Sequential", "Functional", "Model")


# ---------------------------------------------------------------------------- JSON conversion
def to_jsonable(value):
    """Tuples -> lists, NumPy scalars/arrays -> Python, objects with ``get_config`` -> Keras dicts."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(), "dtype": str(value.dtype)}}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, slice):  # indexing keys of GetItem operations, written as Keras writes them
        return {"class_name": "__slice__",
                "config": {"start": value.start, "stop": value.stop, "step": value.step}}
    if value is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(value, types.FunctionType) or inspect.isbuiltin(value):
        return {"module": "builtins", "class_name": "function", "config": value.__name__,
                "registered_name": "function"}
    if hasattr(value, "get_config"):
        cls = type(value)
        return {"module": _keras_module(value), "class_name": cls.__name__, "config": to_jsonable(value.get_config()),
                "registered_name": None}
    if hasattr(value, "name") and isinstance(getattr(value, "name"), str):  # dtypes, policies
        return value.name
    raise TypeError(f"Cannot serialize {value!r} of type {type(value).__name__} to JSON.")


def _keras_module(obj):
    module = type(obj).__module__
    for part, keras_name in (("initializers", "keras.initializers"), ("regularizers", "keras.regularizers"),
                             ("constraints", "keras.constraints"), ("optimizers", "keras.optimizers"),
                             ("losses", "keras.losses"), ("metrics", "keras.metrics"), ("layers", "keras.layers")):
        if f"strided.{part}" in module:
            return keras_name
    return module


def _shape_json(shape):
    return to_jsonable(shape)


# ---------------------------------------------------------------------------- layers
def serialize_layer(layer):
    """A layer's Keras 3 config dict (``module``, ``class_name``, ``config``, ``build_config``)."""
    if isinstance(layer, Layer) and type(layer).__name__ in ("Sequential", "Functional"):
        return serialize_model(layer)
    config = to_jsonable(layer.get_config())
    keras_op = getattr(layer, "keras_class", None)
    if keras_op is not None:  # x + 3 or ops.mean(x) on symbolic tensors: a keras.ops operation, as Keras writes it
        module = getattr(layer, "keras_module", None) or "keras.src.ops.numpy"
        return {"module": module, "class_name": keras_op, "config": config, "registered_name": keras_op}
    class_name = getattr(type(layer), "_keras_class_name", None) or type(layer).__name__
    out = {"module": "keras.layers", "class_name": class_name, "config": config, "registered_name": None}
    if type(layer).__module__.split(".")[0] != "strided":
        out["module"] = type(layer).__module__
        out["registered_name"] = object_registration.get_registered_name(type(layer))
    elif getattr(type(layer), "_keras_module", None):  # a Keras class outside keras.layers (ConvNeXt's LayerScale)
        out["module"], out["registered_name"] = type(layer)._keras_module, type(layer).__name__
    keras_build_config = getattr(layer, "_keras_build_config", None)  # layers built from several inputs
    keras_build_config = keras_build_config() if keras_build_config is not None else None
    shape = None if keras_build_config is not None else _build_input_shape(layer)
    if keras_build_config is not None:
        out["build_config"] = keras_build_config
    elif shape is not None and type(layer).__name__ != "InputLayer":
        out["build_config"] = {"input_shape": _shape_json(shape)}
    return out


def _build_input_shape(layer):
    if layer._inbound_nodes and type(layer).__name__ != "InputLayer":
        try:
            node = layer._inbound_nodes[0]
            args = node.call_args[0] if node.call_args else None
            if isinstance(args, KerasTensor):
                return args.shape
            if isinstance(args, (list, tuple)):
                return [t.shape for t in args if isinstance(t, KerasTensor)]
        except (IndexError, AttributeError):
            return None
    return getattr(layer, "_build_input_shape", None)


def _layer_class(class_name, custom_objects, module=None):
    custom = object_registration.lookup(class_name, custom_objects)
    if custom is not None:
        return custom
    if class_name in _MODEL_CLASSES:
        from strided import models
        return {"Sequential": models.Sequential}.get(class_name, models.Model)
    from strided import layers
    cls = getattr(layers, class_name, None)
    if inspect.isclass(cls) and issubclass(cls, Layer):
        return cls
    if module == "keras.utils":  # a Keras utility saved as a layer (FeatureSpace)
        from strided import utils
        cls = getattr(utils, class_name, None)
        if inspect.isclass(cls) and issubclass(cls, Layer):
            return cls
    if str(module).startswith("keras.src.applications."):  # e.g. LayerScale of keras.src.applications.convnext
        import importlib
        try:
            cls = getattr(importlib.import_module("strided.applications." + module.rsplit(".", 1)[-1]), class_name, None)
        except ImportError:
            cls = None
        if inspect.isclass(cls) and issubclass(cls, Layer):
            return cls
    raise ValueError(f"Unknown layer: '{class_name}'"
                     + (f" (module {module!r})" if module else "")
                     + ". strided has no layer of that name. If it is a custom layer, pass it in "
                     "`custom_objects={'" + class_name + "': " + class_name + "}`.")


def _accepted_keys(cls):
    keys, open_kwargs = set(), False
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind == p.VAR_KEYWORD:
                open_kwargs = True
            elif p.name != "self":
                keys.add(p.name)
        if klass is Layer:
            break
    from strided.layers.base import _BASE_KWARGS
    return keys | set(_BASE_KWARGS), open_kwargs


def _clean_value(value, safe_mode):
    """Keras 3 dicts that strided constructors take as plain values (dtype policies, numpy arrays)."""
    if isinstance(value, dict):
        cn = value.get("class_name")
        if cn in ("DTypePolicy", "FloatDTypePolicy", "Policy"):
            cfg = value.get("config", {})
            return cfg.get("name", "float32") if isinstance(cfg, dict) else cfg
        if cn == "__numpy__":
            return np.asarray(value["config"]["value"], dtype=value["config"].get("dtype"))
        if cn == "__tuple__":
            return tuple(_clean_value(v, safe_mode) for v in value["config"]["value"])
        if cn == "__slice__":
            cfg = value["config"]
            return slice(cfg.get("start"), cfg.get("stop"), cfg.get("step"))
        if cn == "__ellipsis__":
            return Ellipsis
        if cn == "__lambda__":
            return _load_lambda(value, safe_mode)
        return {k: _clean_value(v, safe_mode) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_value(v, safe_mode) for v in value]
    return value


def _load_lambda(value, safe_mode):
    if safe_mode:
        raise ValueError(
            "Requested the deserialization of a Python lambda (the bytecode of a `Lambda` layer's function). "
            "This carries a potential risk of arbitrary code execution and is disallowed by default. If you "
            "trust the source of the file, pass `safe_mode=False` to the loading function.")
    cfg = value.get("config", {})
    raw = base64.b64decode(cfg["code"].encode("ascii") if isinstance(cfg, dict) else cfg)
    code = marshal.loads(raw)  # noqa: S302 -- explicitly allowed by safe_mode=False
    return types.FunctionType(code, globals())


def deserialize_layer(config, custom_objects=None, safe_mode=True):
    """A new layer (or model) from its Keras config dict (Keras 3 or tf.keras 2 layout)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config must be a dict with a 'class_name' key. Received: config={config!r}")
    class_name = config["class_name"]
    if class_name in _MODEL_CLASSES:
        return model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)
    cls = _layer_class(config.get("registered_name") or class_name, custom_objects, config.get("module"))
    cfg = _clean_value(dict(config.get("config") or {}), safe_mode)
    if class_name == "InputLayer":
        cfg.pop("ragged", None)
        cfg.pop("optional", None)
        if "batch_input_shape" in cfg and "batch_shape" not in cfg:
            cfg["batch_shape"] = cfg.pop("batch_input_shape")
        if isinstance(cfg.get("batch_shape"), list):
            cfg["batch_shape"] = tuple(cfg["batch_shape"])
    if "batch_input_shape" in cfg and isinstance(cfg["batch_input_shape"], list):
        cfg["batch_input_shape"] = tuple(cfg["batch_input_shape"])
    if cls.from_config.__func__ is Layer.from_config.__func__:
        keys, open_kwargs = _accepted_keys(cls)
        for k in list(cfg):
            if k not in keys and (k in _IGNORABLE_KEYS or (not open_kwargs and (cfg[k] is None or cfg[k] is False))):
                cfg.pop(k)
    layer = cls.from_config(cfg)
    return layer


def _build_from_config(layer, build_config):
    if not build_config or layer.built:
        return
    shape = build_config.get("input_shape")
    if shape is None:
        return
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        shape = [tuple(s) for s in shape]
    else:
        shape = tuple(shape)
    layer._maybe_build(shape)


# ---------------------------------------------------------------------------- models
def sequential_config(model):
    """``Sequential.get_config()`` in Keras 3's layout (the InputLayer first, when known)."""
    layers = []
    if model._input_layer is not None:
        layers.append(serialize_layer(model._input_layer))
    layers.extend(serialize_layer(layer) for layer in model.layers)
    config = {"name": model.name, "trainable": model.trainable, "dtype": model.dtype, "layers": layers}
    if model._input_layer is not None:
        config["build_input_shape"] = _shape_json(model._input_layer.batch_shape)
    return config


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
        return {"class_name": "__keras_tensor__",
                "config": {"shape": _shape_json(t.shape), "dtype": t.dtype,
                           "keras_history": [layer.name, reindex.get((id(layer), node_index), node_index),
                                             tensor_index]}}

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
    return {"name": model.name, "trainable": model.trainable, "layers": layer_configs,
            "input_layers": inputs[0] if single_in else inputs,
            "output_layers": outputs[0] if single_out else outputs}


def serialize_model(model):
    """The Keras 3 dict for a Sequential or functional model (``class_name`` + ``config``)."""
    from strided.models.functional import Functional
    name = type(model).__name__
    if name not in ("Sequential", "Functional") and not isinstance(model, Functional):
        raise NotImplementedError(
            f"Model '{model.name}' is a subclassed model ({name}); its architecture is Python code and cannot be "
            "written as a config. Save its weights with `save_weights` and rebuild it in code, or build it with "
            "the functional API.")
    module = "keras" if name == "Sequential" else "keras.src.models.functional"
    registered = None
    if name not in ("Sequential", "Functional"):
        # A Model subclass built as CustomModel(inputs, outputs) (custom train_step...): its graph is a
        # functional config; loading it again needs the class, as in Keras (custom_objects).
        module, registered = type(model).__module__, object_registration.get_registered_name(type(model))
    out = {"module": module, "class_name": name, "config": model.get_config(), "registered_name": registered}
    if model.inputs:
        shape = model.inputs[0].shape if len(model.inputs) == 1 else [t.shape for t in model.inputs]
        out["build_config"] = {"input_shape": _shape_json(shape)}
    return out


def model_from_config(config, custom_objects=None, safe_mode=True):
    """A new Sequential or functional model from its config dict (``{'class_name', 'config'}``)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("`model_from_config` expects a dict with 'class_name' and 'config' keys. "
                         f"Received: config={str(config)[:200]}")
    class_name = config["class_name"]
    inner = config.get("config") or {}
    if class_name == "Sequential":
        return sequential_from_config(inner, custom_objects, safe_mode)
    if class_name in ("Functional", "Model"):
        return functional_from_config(inner, custom_objects, safe_mode)
    if "layers" in inner and "input_layers" in inner and "output_layers" in inner:
        return _functional_subclass_from_config(config.get("registered_name") or class_name, inner,
                                                custom_objects, safe_mode)
    layer = deserialize_layer(config, custom_objects, safe_mode)
    if hasattr(layer, "build_from_config") and config.get("build_config") is not None:
        layer.build_from_config(config["build_config"])  # e.g. FeatureSpace: its preprocessors, before loading
    return layer


def _functional_subclass_from_config(class_name, config, custom_objects, safe_mode):
    """A ``CustomModel(inputs, outputs)`` model: the graph from its config, the class from custom_objects."""
    from strided.models import Model
    graph = functional_from_config(config, custom_objects, safe_mode)
    cls = object_registration.lookup(class_name, custom_objects)
    class_name = class_name.split(">", 1)[-1]
    if cls is None:
        warnings.warn(f"The saved model is an instance of the Model subclass '{class_name}', which was not given "
                      f"in `custom_objects`: it is loaded as a plain functional model with the same layers and "
                      f"weights, without the subclass's own methods (such as a custom train_step). Pass "
                      f"`custom_objects={{'{class_name}': {class_name}}}` to restore them.", stacklevel=3)
        return graph
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise TypeError(f"custom_objects['{class_name}'] must be a keras.Model subclass. Received: {cls!r}")
    return cls(graph.input, graph.output, name=graph.name)


def sequential_from_config(config, custom_objects=None, safe_mode=True, make_layer=None):
    from strided.models import Sequential
    layer_configs = config["layers"] if isinstance(config, dict) else config
    make = make_layer or (lambda c: deserialize_layer(c, custom_objects, safe_mode))
    model = Sequential(name=config.get("name") if isinstance(config, dict) else None)
    for lc in layer_configs:
        layer = make(lc)
        model.add(layer)
    if not model.built and isinstance(config, dict) and config.get("build_input_shape"):
        model.build(tuple(config["build_input_shape"]))
    if isinstance(config, dict) and config.get("trainable") is False:
        model.trainable = False
    return model


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
    from strided.layers.operation import KERAS_OP_CLASSES
    from strided.layers.ops_call import replay_for
    if not str(layer_config.get("module", "")).startswith("keras.src.ops"):
        return None
    if layer_config.get("class_name") in KERAS_OP_CLASSES:
        return _OpReplay(*KERAS_OP_CLASSES[layer_config["class_name"]])
    replay = replay_for(layer_config)
    if replay is None:
        raise ValueError(f"The saved model uses the Keras operation {layer_config.get('class_name')!r} "
                         f"({layer_config.get('module')}), which strided cannot rebuild.")
    return replay


def functional_from_config(config, custom_objects=None, safe_mode=True, make_layer=None):
    """Rebuilds a functional model by replaying each layer's inbound nodes in dependency order."""
    from strided.models import Model
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
            from strided.layers.operation import apply_operation
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
            raise ValueError(f"Cannot rebuild the functional model '{config.get('name')}': the inputs of layers "
                             f"{missing} are never computed (the config's graph is disconnected or corrupted).")
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
                raise ValueError(f"The model config names {ref[0]!r} node {ref[1]} as an input or output, but that "
                                 "layer call is not in the config.")
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


# ---------------------------------------------------------------------------- JSON and cloning
def model_to_json(model, **kwargs):
    """The model's architecture as a JSON string (Keras 3 layout); ``kwargs`` go to ``json.dumps``."""
    return json.dumps(serialize_model(model), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) from ``model_to_json`` output, strided's or Keras's."""
    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as e:
        raise ValueError(f"`model_from_json` expects a JSON string from `model.to_json()`. It could not be parsed: "
                         f"{e}") from None
    return model_from_config(config, custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None, **kwargs):
    """A new model with the same architecture and freshly initialized weights (Keras ``clone_model``).

    Args:
        model: a Sequential or functional model.
        input_tensors: optional symbolic tensor(s) to build the clone on (functional models).
        clone_function: optional ``layer -> new layer``; default rebuilds each layer from its config.

    Returns:
        The new model (weights are not copied; use ``set_weights(model.get_weights())``).
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments passed to clone_model: {kwargs}")
    name = type(model).__name__
    if name not in ("Sequential", "Functional"):
        raise ValueError("Arguments `clone_function` and `input_tensors` are only supported for Sequential "
                         f"models or Functional models. Received model of type '{name}'; subclassed models "
                         "cannot be cloned.")
    by_name = {layer.name: layer for layer in model.layers}
    if model.inputs:
        for t in model.inputs:
            by_name[t._keras_history[0].name] = t._keras_history[0]

    def make(lc):
        lname = lc.get("name") or (lc.get("config") or {}).get("name")
        original = by_name.get(lname)
        if original is None or type(original).__name__ == "InputLayer" or clone_function is None:
            return deserialize_layer(lc)
        return clone_function(original)

    config = model.get_config()
    if name == "Sequential":
        clone = sequential_from_config(config, make_layer=make)
        if input_tensors is not None:
            from strided.models import Sequential
            clone = Sequential([input_tensors] + clone.layers, name=clone.name)
        return clone
    clone = functional_from_config(config, make_layer=make)
    if input_tensors is not None:
        from strided.models import Model
        inputs = input_tensors if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(inputs) != len(clone.inputs):
            raise ValueError(f"`input_tensors` must have {len(clone.inputs)} tensor(s) for model '{model.name}'. "
                             f"Received {len(inputs)}.")
        out = clone(inputs if len(inputs) > 1 else inputs[0])
        clone = Model(inputs if len(inputs) > 1 else inputs[0], out, name=clone.name)
    return clone
