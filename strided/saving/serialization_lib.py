"""Layer configs in Keras's JSON layout: serialize and deserialize objects by their registered class names.

Configs are written in the Keras 3 layout (``{'module', 'class_name', 'config', 'registered_name',
'build_config'}``; functional ``inbound_nodes`` as ``{'args': [...], 'kwargs': {...}}`` with
``__keras_tensor__`` entries) so real Keras reads them, and read in both the Keras 3 and the
tf.keras 2 layouts (``inbound_nodes`` as ``[[['layer', node, tensor, {}], ...]]``). Layer classes
are found by name in a registry that every strided ``Layer`` subclass joins when it is defined
(``register_layer_class``), so this module imports no layer; models register how they are written
and read (``register_model_codec``). Nothing from a file is executed: a serialized Python function
(a ``Lambda``'s bytecode) is refused unless ``safe_mode=False``.
"""

import base64
import builtins
import importlib
import inspect
import marshal
import types
import warnings

import numpy as np

from strided.backend.keras_tensor import KerasTensor
from strided.utils import object_registration

# Keras 3 config keys that strided layers need not accept when they hold their default meaning.
_IGNORABLE_KEYS = {
    "quantization_config",
    "synchronized",
    "renorm",
    "renorm_clipping",
    "renorm_momentum",
    "optional",
    "ragged",
    "lora_rank",
    "lora_alpha",
    "sparse",
    "seed_generator",
}
_MODEL_CLASSES = ("Sequential", "Functional", "Model")

# Keyword arguments every Keras layer accepts besides its own.
BASE_LAYER_KWARGS = (
    "input_shape",
    "batch_input_shape",
    "batch_size",
    "input_dim",
    "weights",
    "autocast",
    "input_length",
)

# Keras class name -> strided's class, for every Layer subclass defined in strided (Layer.__init_subclass__).
_LAYER_CLASSES = {}


# Keras modules whose layer classes strided defines above the layers package: the module that defines them.
_DEFINED_ABOVE_LAYERS = {"keras.utils": "strided.layers.feature_space"}


def register_layer_class(cls, name=None):
    """Makes a strided layer class findable by its class name, its Keras class name, and ``name`` (a public
    alias such as ``Convolution2D``) when a config is read."""
    if cls.__module__.split(".")[0] != "strided":
        return
    for key in (name, cls.__name__, getattr(cls, "_keras_class_name", None)):
        if key and not key.startswith("_"):
            _LAYER_CLASSES.setdefault(key, cls)


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
        return {"class_name": "__slice__", "config": {"start": value.start, "stop": value.stop, "step": value.step}}
    if value is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(value, types.FunctionType) and value.__name__ == "<lambda>":
        return _lambda_config(value)
    if isinstance(value, types.FunctionType) or inspect.isbuiltin(value):
        return {"module": "builtins", "class_name": "function", "config": value.__name__, "registered_name": "function"}
    if hasattr(value, "get_config"):
        cls = type(value)
        return {
            "module": _keras_module(value),
            "class_name": cls.__name__,
            "config": to_jsonable(value.get_config()),
            "registered_name": None,
        }
    if hasattr(value, "name") and isinstance(getattr(value, "name"), str):  # dtypes, policies
        return value.name
    raise TypeError(f"Cannot serialize {value!r} of type {type(value).__name__} to JSON.")


def _keras_module(obj):
    module = type(obj).__module__
    for part, keras_name in (
        ("initializers", "keras.initializers"),
        ("regularizers", "keras.regularizers"),
        ("constraints", "keras.constraints"),
        ("optimizers", "keras.optimizers"),
        ("losses", "keras.losses"),
        ("metrics", "keras.metrics"),
        ("layers", "keras.layers"),
    ):
        if f"strided.{part}" in module:
            return keras_name
    return module


def _shape_json(shape):
    return to_jsonable(shape)


# ---------------------------------------------------------------------------- layers
def serialize_layer(layer):
    """A layer's Keras 3 config dict (``module``, ``class_name``, ``config``, ``build_config``)."""
    if type(layer).__name__ in ("Sequential", "Functional"):
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
    if class_name == "Model":
        class_name = "Functional"
    cls = _LAYER_CLASSES.get(class_name)
    if cls is None and module in _DEFINED_ABOVE_LAYERS or str(module).startswith("keras.src.applications."):
        # A class defined above the layers package registers itself when its module is imported; a file may
        # name one before that module was imported (a ConvNeXt or FeatureSpace file loaded first thing).
        importlib.import_module(
            _DEFINED_ABOVE_LAYERS.get(module) or "strided.applications." + str(module).rsplit(".", 1)[-1]
        )
        cls = _LAYER_CLASSES.get(class_name)
    if cls is not None:
        return cls
    raise ValueError(
        f"Unknown layer: '{class_name}'"
        + (f" (module {module!r})" if module else "")
        + ". strided has no layer of that name. If it is a custom layer, pass it in "
        "`custom_objects={'" + class_name + "': " + class_name + "}`."
    )


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
        if klass.__name__ == "Layer" and klass.__module__ == "strided.layers.base":
            break
    return keys | set(BASE_LAYER_KWARGS), open_kwargs


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


def _lambda_config(fn):
    """A Python lambda as Keras's ``Lambda`` layer writes it: its marshalled bytecode (base64), defaults and
    closure values. Loading it runs that bytecode, so it is refused unless ``safe_mode=False``."""
    code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return {
        "class_name": "__lambda__",
        "config": {"code": code, "defaults": to_jsonable(fn.__defaults__), "closure": to_jsonable(closure)},
    }


def _load_lambda(value, safe_mode):
    if safe_mode:
        raise ValueError(
            "Requested the deserialization of a Python lambda (the bytecode of a `Lambda` layer's function). "
            "This carries a potential risk of arbitrary code execution and is disallowed by default. If you "
            "trust the source of the file, pass `safe_mode=False` to the loading function."
        )
    cfg = value.get("config", {})
    defaults = closure = None
    if isinstance(cfg, dict) and "value" in cfg:  # keras.saving.serialize_keras_object's layout
        code_text, defaults, closure = (list(cfg["value"]) + [None, None])[:3]
    elif isinstance(cfg, dict):  # the Lambda layer's layout
        code_text, defaults, closure = cfg.get("code"), cfg.get("defaults"), cfg.get("closure")
    else:
        code_text = cfg
    if not isinstance(code_text, str):
        raise ValueError(f"Invalid `__lambda__` entry in the file: expected base64 bytecode. Received {cfg!r}.")
    raw = base64.b64decode(code_text.encode("ascii"))
    code = marshal.loads(raw)  # noqa: S302 -- explicitly allowed by safe_mode=False
    if closure is not None:
        closure = tuple(types.CellType(_clean_value(v, safe_mode)) for v in closure)
    defaults = tuple(_clean_value(v, safe_mode) for v in defaults) if defaults else None
    # Keras gives a loaded lambda its own module's globals; NumPy is the name such functions use most.
    return types.FunctionType(code, {"__builtins__": builtins, "np": np, "numpy": np}, None, defaults, closure)


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
    if getattr(cls.from_config, "__func__", None) is _LAYER_CLASSES["Layer"].from_config.__func__:
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
def serialize_model(model):
    """The Keras 3 dict for a Sequential or functional model (``class_name`` + ``config``)."""
    name = type(model).__name__
    if name not in ("Sequential", "Functional") and not isinstance(model, _LAYER_CLASSES["Functional"]):
        raise NotImplementedError(
            f"Model '{model.name}' is a subclassed model ({name}); its architecture is Python code and cannot be "
            "written as a config. Save its weights with `save_weights` and rebuild it in code, or build it with "
            "the functional API."
        )
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
        raise ValueError(
            "`model_from_config` expects a dict with 'class_name' and 'config' keys. "
            f"Received: config={str(config)[:200]}"
        )
    class_name = config["class_name"]
    inner = config.get("config") or {}
    if class_name == "Sequential":
        return _LAYER_CLASSES["Sequential"].from_keras_config(inner, custom_objects, safe_mode)
    if class_name in ("Functional", "Model"):
        return _LAYER_CLASSES["Functional"].from_keras_config(inner, custom_objects, safe_mode)
    if "layers" in inner and "input_layers" in inner and "output_layers" in inner:
        return _functional_subclass_from_config(
            config.get("registered_name") or class_name, inner, custom_objects, safe_mode
        )
    layer = deserialize_layer(config, custom_objects, safe_mode)
    if hasattr(layer, "build_from_config") and config.get("build_config") is not None:
        layer.build_from_config(config["build_config"])  # e.g. FeatureSpace: its preprocessors, before loading
    return layer


def _functional_subclass_from_config(class_name, config, custom_objects, safe_mode):
    """A ``CustomModel(inputs, outputs)`` model: the graph from its config, the class from custom_objects."""
    model_class = _LAYER_CLASSES["Model"]
    graph = _LAYER_CLASSES["Functional"].from_keras_config(config, custom_objects, safe_mode)
    cls = object_registration.lookup(class_name, custom_objects)
    class_name = class_name.split(">", 1)[-1]
    if cls is None:
        warnings.warn(
            f"The saved model is an instance of the Model subclass '{class_name}', which was not given "
            f"in `custom_objects`: it is loaded as a plain functional model with the same layers and "
            f"weights, without the subclass's own methods (such as a custom train_step). Pass "
            f"`custom_objects={{'{class_name}': {class_name}}}` to restore them.",
            stacklevel=3,
        )
        return graph
    if not (isinstance(cls, type) and issubclass(cls, model_class)):
        raise TypeError(f"custom_objects['{class_name}'] must be a keras.Model subclass. Received: {cls!r}")
    return cls(graph.input, graph.output, name=graph.name)


def serialize_keras_object(obj):
    """The Keras 3 config dict of a layer or model."""
    return serialize_layer(obj)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """A layer or model from its Keras config dict."""
    return deserialize_layer(config, custom_objects=custom_objects, safe_mode=safe_mode)
