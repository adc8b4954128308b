"""``keras.ops`` functions called on symbolic tensors: one graph node per call, saved as Keras saves it.

Keras records ``ops.mean(x, axis=1)`` on a symbolic tensor as an operation object: its constructor
arguments (``axis``, ``keepdims``) are the saved ``config`` and its call arguments (``x``) are the
node's ``args``. ``keras_ops_table.json`` (written from Keras's source by
``tools/keras_ops_table.py``) says, for each function, which parameter goes where; an
:class:`OpsCall` uses it to write such entries, and :func:`replay` to read them back.
"""

import inspect
import json
import pathlib

import torch

from strided import ops
from strided.backend import keras_tensor
from strided.backend.name_scope import unique_name
from strided.layers.base import Layer
from strided.backend.keras_tensor import KerasTensor

TABLE = json.loads(pathlib.Path(__file__).with_name("keras_ops_table.json").read_text())
_BY_CLASS = {}
for _fn_name, _entry in TABLE.items():
    _BY_CLASS.setdefault((_entry["module"], _entry["class_name"]), _fn_name)


class _Slot:
    """Where the i-th graph input goes in a stored argument structure."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _to_slots(structure, tensors):
    if isinstance(structure, KerasTensor):
        tensors.append(structure)
        return _Slot(len(tensors) - 1)
    if isinstance(structure, (list, tuple)):
        return type(structure)(_to_slots(s, tensors) for s in structure)
    if isinstance(structure, dict):
        return {k: _to_slots(v, tensors) for k, v in structure.items()}
    return structure


def _fill(structure, values):
    if isinstance(structure, _Slot):
        return values[structure.index]
    if isinstance(structure, (list, tuple)):
        return type(structure)(_fill(s, values) for s in structure)
    if isinstance(structure, dict):
        return {k: _fill(v, values) for k, v in structure.items()}
    return structure


def _has_slot(structure):
    if isinstance(structure, _Slot):
        return True
    if isinstance(structure, (list, tuple)):
        return any(_has_slot(s) for s in structure)
    if isinstance(structure, dict):
        return any(_has_slot(s) for s in structure.values())
    return False


def _plain(value):
    """Constants as a config holds them: torch tensors become NumPy arrays (or Python numbers)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
        return value.item() if value.ndim == 0 else value
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _our_name(keras_name, ours, entry):
    """strided's name for a Keras parameter: the same name, else the one at the same position, else None."""
    if keras_name in ours:
        return keras_name
    i = entry["params"].index(keras_name)
    if i < len(ours) and ours[i] not in entry["params"]:
        return ours[i]  # named differently (``xs`` for ``x``), same place in the signature
    return None


def _to_keras_names(arguments, entry):
    """A strided call's bound arguments under Keras's parameter names, Keras's defaults for the rest."""
    ours = list(arguments)
    values = {k: arguments[n] for k in entry["params"] if (n := _our_name(k, ours, entry)) is not None}
    for name, default in entry["defaults"].items():
        values.setdefault(name, default)
    return values


class OpsCall(Layer):
    """A ``strided.ops`` function applied to symbolic tensors; its constants are kept with the node."""

    def __init__(self, fn, op_name, args, kwargs, **kwargs_layer):
        super().__init__(**kwargs_layer)
        self.fn, self.op_name = fn, op_name
        self._args, self._kwargs = args, kwargs  # the call's arguments, _Slot where graph inputs go
        self._record = self._keras_record()
        self.keras_class = self._record[0] if self._record else None
        self.keras_module = self._record[1] if self._record else None

    @classmethod
    def _default_name(cls):
        return "operation"

    def call(self, inputs):
        values = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        return self.fn(*_fill(self._args, values), **_fill(self._kwargs, values))

    def _keras_record(self):
        """(class, module, config, call arguments) as Keras writes this call, or None if it cannot."""
        entry = TABLE.get(self.op_name)
        if entry is None:
            return None
        try:
            bound = inspect.signature(self.fn).bind(*self._args, **self._kwargs)
        except TypeError:
            return None
        bound.apply_defaults()
        values = _to_keras_names(bound.arguments, entry)
        needed = list(entry["config"].values()) + entry["call"] + list(entry["call_kwargs"].values())
        if any(p not in values for p in needed):
            return None  # strided's signature lacks a parameter Keras records: no faithful record
        config = {ctor: _plain(values[p]) for ctor, p in entry["config"].items()}
        if _has_slot(config):
            return None  # a symbolic tensor where Keras keeps a constant
        call_kwargs = {k: values[p] for k, p in entry["call_kwargs"].items()}
        return entry["class_name"], entry["module"], config, [values[p] for p in entry["call"]], call_kwargs

    def full_args(self, inputs):
        """The node's arguments in Keras's order, graph inputs in place (for the saved config)."""
        values = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        return [_plain(_fill(a, values)) for a in self._record[3]]

    def full_kwargs(self, inputs):
        """The node's keyword arguments as Keras records them (``bias=``, ``mask=``...), graph inputs in place."""
        values = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        return {k: _plain(_fill(v, values)) for k, v in self._record[4].items()}

    def get_config(self):
        if self._record is None:
            raise NotImplementedError(
                f"The call of ops.{self.op_name} on symbolic tensors cannot be saved in a Keras file (Keras records it "
                "differently or not at all); wrap it in a layer (e.g. a Lambda or a Layer subclass) in models you save."
            )
        return {"name": self.name, **self._record[2]}


def call_symbolically(fn, op_name, args, kwargs, layer_name=None):
    """Builds the graph node of ``fn(*args, **kwargs)`` where some arguments are symbolic tensors."""
    tensors = []
    args, kwargs = _to_slots(tuple(args), tensors), _to_slots(dict(kwargs), tensors)
    layer = OpsCall(fn, op_name, args, kwargs, name=layer_name or unique_name(op_name))
    return layer(tensors if len(tensors) > 1 else tensors[0])


keras_tensor.register_recorder("ops_call", call_symbolically)
keras_tensor.register_recorder("ops", ops)


class OpReplay:
    """A ``keras.src.ops`` entry of a saved config, replayed through the strided.ops function it records."""

    def __init__(self, fn_name, config):
        self.fn_name = fn_name
        self.fn = getattr(ops, fn_name, None)
        self.fn = getattr(self.fn, "__wrapped_op__", self.fn)
        if self.fn is None:
            raise ValueError(f"The saved model uses keras.ops.{fn_name}, which strided does not have.")
        self.config = {k: v for k, v in config.items() if k != "name"}

    def replay(self, args, layer_name, kwargs=None):
        entry = TABLE[self.fn_name]
        by_keras_name = {
            entry["config"][k]: (tuple(v) if isinstance(v, list) else v)
            for k, v in self.config.items()
            if k in entry["config"]
        }
        by_keras_name.update(zip(entry["call"], args))
        by_keras_name.update(
            {entry["call_kwargs"][k]: v for k, v in (kwargs or {}).items() if k in entry["call_kwargs"]}
        )
        ours = list(inspect.signature(self.fn).parameters)
        kwargs = {}
        for keras_name, value in by_keras_name.items():
            name = _our_name(keras_name, ours, entry)
            if name is not None:
                kwargs[name] = value
            elif value != entry["defaults"].get(keras_name, object()):
                raise ValueError(
                    f"The saved ops.{self.fn_name} call sets `{keras_name}={value!r}`, which strided's "
                    f"ops.{self.fn_name} does not support."
                )
        return call_symbolically(self.fn, self.fn_name, (), kwargs, layer_name=layer_name)


def replay_for(layer_config):
    """An :class:`OpReplay` for a saved ``keras.src.ops`` entry that the table knows, else None."""
    key = (layer_config.get("module"), layer_config.get("class_name"))
    if key not in _BY_CLASS:
        return None
    return OpReplay(_BY_CLASS[key], layer_config.get("config") or {})
