"""Symbolic tensors: shapes without compute (DESIGN.md decision 3).

A ``KerasTensor`` is what ``Input(shape=(28, 28, 1))`` returns and what a layer returns when called on
one: a shape (batch dimension ``None``), a dtype and the history that produced it (layer, node,
index). Functional models are graphs of ``Node`` objects joining these tensors.

Output shapes are found by running the layer's own ``call`` on torch's ``meta`` device, where tensors
have shapes but no storage, so every layer (including ``Lambda`` and user layers) gets shape inference
for free and nothing is computed. Unknown dimensions (``None``) are resolved by running twice with
two different placeholder sizes: an output dimension that changes with them is unknown too.
"""

import contextlib
import itertools

import torch
from torch.overrides import TorchFunctionMode
from torch.utils import _pytree as pytree

from strided import config

# Placeholder sizes for unknown dimensions in the two shape-inference passes.
_BATCH_FILLS = (2, 3)
_DIM_FILLS = (64, 96)

_uid = itertools.count()

# Recording an operation on symbolic tensors makes a graph node, and a node is a layer call: the layers
# package registers its recorders here when it is imported (``register_recorder``), so that this module
# needs nothing above it in the package.
_RECORDERS = {}


def register_recorder(name, fn):
    """Registers ``fn`` as the recorder ``name``: 'operation' (``x + y``), 'get_item' (``x[0]``), 'ops' (the
    ``strided.ops`` module whose functions record themselves), 'ops_call' (a ``strided.ops`` function called
    on symbolic tensors)."""
    _RECORDERS[name] = fn


def recorder(name):
    if name not in _RECORDERS:
        raise RuntimeError(
            f"Symbolic tensors need `strided.layers` to record operations ({name}); import strided.layers first."
        )
    return _RECORDERS[name]


def _operation_operator(fn, name, reflected=False):
    """A binary operator of KerasTensor that records an operation layer ``name`` running the torch function
    ``fn`` on ``(self, other)``, or on ``(other, self)`` for a ``reflected`` one (``3 - x``: the constant comes
    first, as in Keras's recorded arguments)."""

    def operator(self, other):
        return recorder("operation")(fn, name, *((other, self) if reflected else (self, other)))

    return operator


def _recorded_operator(op, reflected=False):
    """A binary operator of KerasTensor that records the strided.ops function ``op`` on ``(self, other)``, or on
    ``(other, self)`` for a ``reflected`` one (``2 ** x``)."""

    def operator(self, other):
        return self._ops(op, other, self) if reflected else self._ops(op, self, other)

    return operator


class KerasTensor:
    """A symbolic tensor: shape and dtype, no values.

    Attributes:
        shape: tuple with ``None`` for unknown dimensions (the batch dimension is usually ``None``).
        dtype: Keras dtype name, e.g. ``'float32'``.
        name: a readable name for error messages and summaries.
    """

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype
        self.name = name or f"keras_tensor_{next(_uid)}"
        self._keras_history = history  # (layer, node_index, tensor_index)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def numpy(self):
        raise ValueError(
            f"{self.name} is a symbolic tensor: it has a shape {self.shape} but no values. Call the layer or "
            "model on real data (a NumPy array or torch tensor) to get values, or use `model.predict(x)`."
        )

    def __array__(self, *args, **kwargs):
        self.numpy()

    def __len__(self):
        raise TypeError(f"A symbolic tensor has no length (shape {self.shape}); use `.shape[0]` instead.")

    def __bool__(self):
        raise TypeError("A symbolic tensor cannot be used as a Python bool.")

    def __hash__(self):
        return id(self)

    # Arithmetic on symbolic tensors builds small operation layers, as Keras 3 does (x + y, x * 2...).
    __add__ = _operation_operator(torch.add, "add")
    __radd__ = _operation_operator(torch.add, "add", reflected=True)
    __sub__ = _operation_operator(torch.sub, "subtract")
    __rsub__ = _operation_operator(torch.sub, "subtract", reflected=True)
    __mul__ = _operation_operator(torch.mul, "multiply")
    __rmul__ = _operation_operator(torch.mul, "multiply", reflected=True)
    __truediv__ = _operation_operator(torch.true_divide, "divide")

    def __neg__(self):
        return recorder("operation")(torch.neg, "negative", self)

    def __getitem__(self, key):
        return recorder("operation")(recorder("get_item"), "get_item", self, key)

    # The other operators and methods of Keras's KerasTensor record the strided.ops function Keras records.
    def _ops(self, name, *args, **kwargs):
        return getattr(recorder("ops"), name)(*args, **kwargs)

    __rtruediv__ = _recorded_operator("true_divide", reflected=True)
    __matmul__ = _recorded_operator("matmul")
    __rmatmul__ = _recorded_operator("matmul", reflected=True)
    __pow__ = _recorded_operator("power")
    __rpow__ = _recorded_operator("power", reflected=True)
    __floordiv__ = _recorded_operator("floor_divide")
    __rfloordiv__ = _recorded_operator("floor_divide", reflected=True)
    __mod__ = _recorded_operator("mod")
    __rmod__ = _recorded_operator("mod", reflected=True)
    __lt__ = _recorded_operator("less")
    __le__ = _recorded_operator("less_equal")
    __gt__ = _recorded_operator("greater")
    __ge__ = _recorded_operator("greater_equal")
    # `==` stays identity (tensors are dict keys); `!=` is elementwise, as in Keras
    __ne__ = _recorded_operator("not_equal")
    __and__ = _recorded_operator("logical_and")
    __rand__ = _recorded_operator("logical_and", reflected=True)
    __or__ = _recorded_operator("logical_or")
    __ror__ = _recorded_operator("logical_or", reflected=True)
    __xor__ = _recorded_operator("logical_xor")
    __rxor__ = _recorded_operator("logical_xor", reflected=True)

    def __abs__(self):
        return self._ops("absolute", self)

    def __invert__(self):
        return self._ops("logical_not", self)

    def __round__(self, ndigits=None):
        return self._ops("round", self, decimals=ndigits or 0)

    def reshape(self, newshape):
        return self._ops("reshape", self, newshape)

    def squeeze(self, axis=None):
        return self._ops("squeeze", self, axis=axis)


class Node:
    """One call of a layer inside a graph: which tensors went in, which came out."""

    def __init__(self, layer, call_args, call_kwargs, outputs):
        self.layer = layer
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.input_tensors = [t for t in pytree.tree_leaves((call_args, call_kwargs)) if isinstance(t, KerasTensor)]
        self.outputs = outputs
        self.output_tensors = [t for t in pytree.tree_leaves(outputs) if isinstance(t, KerasTensor)]

    @property
    def parent_nodes(self):
        parents = []
        for t in self.input_tensors:
            layer, node_index, _ = t._keras_history
            parents.append(layer._inbound_nodes[node_index])
        return parents


def is_symbolic(structure):
    return any(isinstance(t, KerasTensor) for t in pytree.tree_leaves(structure))


class _MetaMode(TorchFunctionMode):
    """Moves every real tensor an op meets to the meta device when a meta tensor is among its inputs.

    This lets a layer's real weights (and constants made inside ``call``) meet meta activations.
    """

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        leaves = pytree.tree_leaves((args, kwargs))
        if any(isinstance(t, torch.Tensor) and t.is_meta for t in leaves):
            if getattr(func, "__name__", "") != "__get__" and any(is_string_placeholder(t) for t in leaves):
                raise TypeError(
                    f"A string tensor (dtype='string') cannot go through the numeric operation "
                    f"`{getattr(func, '__name__', func)}`. Only layers that take strings accept it "
                    "(TextVectorization, StringLookup, Hashing...): put one of them first."
                )

            def to_meta(t):
                if isinstance(t, torch.Tensor) and not t.is_meta:
                    return t.detach().to("meta")
                return t

            args, kwargs = pytree.tree_map(to_meta, (args, kwargs))
        return func(*args, **kwargs)


def _meta_tensor(spec, fill):
    batch_fill, dim_fill = fill
    shape = [(batch_fill if i == 0 else dim_fill) if d is None else d for i, d in enumerate(spec.shape)]
    if spec.dtype == "string":
        # torch has no string dtype: a byte placeholder, flagged so that only layers which take strings
        # (they read its shape and nothing else) accept it; see _MetaMode.
        t = torch.empty(shape, dtype=torch.uint8, device="meta")
        t._strided_string = True
        return t
    t = torch.empty(shape, dtype=config.torch_dtype(spec.dtype), device="meta")
    mask_shape = getattr(spec, "_mask_shape", None)
    if mask_shape is not None and _PASS["masks"]:
        # The mask a symbolic tensor carries (Embedding(mask_zero=True)...), so that a layer's `call(inputs,
        # mask=None)` sees a mask while the model is built, as in Keras.
        t._keras_mask = torch.empty(
            [(batch_fill if i == 0 else dim_fill) if d is None else d for i, d in enumerate(mask_shape)],
            dtype=torch.bool,
            device="meta",
        )
    return t


def is_string_placeholder(x):
    """True for the meta stand-in of a ``dtype="string"`` symbolic tensor during shape inference."""
    return getattr(x, "_strided_string", False)


# The placeholder size of the current shape-inference pass for data-dependent lengths (see unknown_dim).
_PASS = {"fill": _DIM_FILLS[0], "used": False, "masks": True, "output_masks": None}


def unknown_dim():
    """A size for an output dimension known only from the values (the tokens of a split string): it
    differs between the two shape-inference passes, so the dimension comes out as ``None``."""
    _PASS["used"] = True
    return _PASS["fill"]


def _dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def infer_outputs(fn, args, kwargs):
    """Runs ``fn`` on meta stand-ins of the KerasTensors in (args, kwargs); returns the output structure of
    ``(shape, dtype)`` pairs, with ``None`` where a dimension follows an unknown input dimension."""
    results = []
    _PASS["used"] = False
    _PASS["output_masks"] = None
    for fill in zip(_BATCH_FILLS, _DIM_FILLS):
        _PASS["fill"] = fill[1]

        def materialize(t, fill=fill):
            return _meta_tensor(t, fill) if isinstance(t, KerasTensor) else t

        margs, mkwargs = pytree.tree_map(materialize, (args, kwargs), is_leaf=lambda t: isinstance(t, KerasTensor))
        with torch.no_grad(), _MetaMode():
            results.append(fn(*margs, **mkwargs))
        if not _PASS["used"] and not any(
            None in t.shape for t in pytree.tree_leaves((args, kwargs)) if isinstance(t, KerasTensor)
        ):
            results.append(results[0])
            break

    def merge(a, b):
        if not isinstance(a, torch.Tensor):
            return a
        shape = tuple(da if da == db else None for da, db in zip(a.shape, b.shape))
        return (shape, _dtype_name(a.dtype))

    def mask_shape(a, b):
        ma, mb = getattr(a, "_keras_mask", None), getattr(b, "_keras_mask", None)
        if not (isinstance(ma, torch.Tensor) and isinstance(mb, torch.Tensor) and ma.ndim == mb.ndim):
            return None
        return tuple(da if da == db else None for da, db in zip(ma.shape, mb.shape))

    _PASS["output_masks"] = [
        mask_shape(a, b) for a, b in zip(pytree.tree_leaves(results[0]), pytree.tree_leaves(results[1]))
    ]
    return pytree.tree_map(merge, results[0], results[1])


def output_mask_shapes():
    """The mask shapes (or None) of the outputs of the latest :func:`infer_outputs`, in leaf order."""
    return _PASS["output_masks"]


@contextlib.contextmanager
def without_masks():
    """Shape inference with no masks on the symbolic inputs (for a ``call`` that cannot take a meta mask)."""
    _PASS["masks"] = False
    try:
        yield
    finally:
        _PASS["masks"] = True


def is_keras_tensor(x):
    """True for a symbolic tensor (from ``Input`` or a layer called on one), as ``keras.utils.is_keras_tensor``."""
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor):
    """The ``Input`` tensors that ``tensor`` was computed from, in first-seen order
    (``keras.utils.get_source_inputs``)."""
    found, seen, stack = [], set(), [tensor]
    while stack:
        t = stack.pop()
        layer, node_index, _ = t._keras_history
        if getattr(layer, "_is_input_layer", False):
            if id(t) not in seen:
                seen.add(id(t))
                found.append(t)
            continue
        node = layer._inbound_nodes[node_index]
        stack.extend(reversed(node.input_tensors))
    return found
