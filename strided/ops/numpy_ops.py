"""A small NumPy-like subset of ``keras.ops`` on torch: same names, ``axis``/``keepdims`` semantics.

Each function accepts tensors, NumPy arrays or Python numbers (converted by ``convert_to_tensor``).
"""

import sys

import torch
import torch.nn.functional as F

from strided import config
from strided.ops.core import convert_to_tensor

__all__ = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "matmul",
    "dot",
    "maximum",
    "minimum",
    "power",
    "sum",
    "mean",
    "max",
    "min",
    "prod",
    "std",
    "var",
    "argmax",
    "argmin",
    "abs",
    "exp",
    "log",
    "sqrt",
    "square",
    "sign",
    "clip",
    "where",
    "reshape",
    "transpose",
    "expand_dims",
    "squeeze",
    "concatenate",
    "stack",
    "flatten",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    "full",
    "arange",
    "one_hot",
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_or",
    "logical_not",
    "pad",
    "tile",
    "repeat",
    "split",
    "take",
    "round",
    "floor",
    "ceil",
    "cumsum",
    "sort",
    "argsort",
    "top_k",
    "norm",
    "einsum",
    "moveaxis",
    "swapaxes",
    "size",
    "ndim",
    "tensordot",
    "logsumexp",
]

_t = convert_to_tensor


def _pair(a, b):
    """Two operands with torch's type promotion (Python scalars do not upcast tensors)."""
    a = a if isinstance(a, (int, float, bool)) else _t(a)
    b = b if isinstance(b, (int, float, bool)) else _t(b)
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.device != b.device:
        b = b.to(a.device)
    return a, b


def _axis(axis):
    if axis is None:
        return None
    return tuple(axis) if isinstance(axis, (list, tuple)) else int(axis)


def _float(x):
    x = _t(x)
    return x if x.is_floating_point() else x.to(config.torch_dtype(None))


# The elementwise functions that only apply one torch function (here and in math_ops) are made by these.
def _finish(op, doc):
    """``op`` with its docstring, belonging to the module that called the factory (as ``collections.namedtuple``
    sets it): math_ops's ``__all__`` lists the functions whose module is math_ops."""
    op.__doc__ = doc
    op.__module__ = sys._getframe(2).f_globals["__name__"]
    return op


def _unary(fn, doc):
    def op(x):
        return fn(_t(x))

    return _finish(op, doc)


def _unary_float(fn, doc):
    def op(x):
        return fn(_float(x))

    return _finish(op, doc)


def _arithmetic(fn, doc):
    """``fn(x1, x2)`` with torch's type promotion (a Python number does not upcast a tensor)."""

    def op(x1, x2):
        a, b = _pair(x1, x2)
        return fn(_t(a), b)

    return _finish(op, doc)


add = _arithmetic(torch.add, "``x1 + x2``, elementwise.")
subtract = _arithmetic(torch.sub, "``x1 - x2``, elementwise.")
multiply = _arithmetic(torch.mul, "``x1 * x2``, elementwise.")
divide = _arithmetic(torch.true_divide, "``x1 / x2``, elementwise.")
power = _arithmetic(torch.pow, "``x1 ** x2``, elementwise.")


def _extremum(fn, doc):
    """``fn(x1, x2)`` for torch functions that take two tensors: a Python number takes ``x1``'s dtype."""

    def op(x1, x2):
        a, b = _pair(x1, x2)
        a = _t(a)
        return fn(a, b if isinstance(b, torch.Tensor) else torch.tensor(b, dtype=a.dtype, device=a.device))

    return _finish(op, doc)


maximum = _extremum(torch.maximum, "Elementwise maximum (NaN if either is NaN).")
minimum = _extremum(torch.minimum, "Elementwise minimum (NaN if either is NaN).")


def matmul(x1, x2):
    a, b = _pair(x1, x2)
    return torch.matmul(a, b)


def dot(x1, x2):
    a, b = _pair(x1, x2)
    if a.ndim <= 2 and b.ndim <= 2:
        return torch.matmul(a, b) if a.ndim and b.ndim else a * b
    return torch.tensordot(a, b, dims=([-1], [-2 if b.ndim > 1 else -1]))


def tensordot(x1, x2, axes=2):
    a, b = _pair(x1, x2)
    return torch.tensordot(a, b, dims=axes)


def einsum(subscripts, *operands):
    return torch.einsum(subscripts, *[_t(o) for o in operands])


def _reduce(fn, x, axis, keepdims):
    x = _t(x)
    axis = _axis(axis)
    if axis is None:
        out = fn(x.reshape(-1), 0)
        return out.reshape([1] * x.ndim) if keepdims else out
    return fn(x, axis, keepdims)


def sum(x, axis=None, keepdims=False):
    return _reduce(lambda t, a, k=False: torch.sum(t, dim=a, keepdim=k), x, axis, keepdims)


def mean(x, axis=None, keepdims=False):
    return _reduce(lambda t, a, k=False: torch.mean(t, dim=a, keepdim=k), _float(x), axis, keepdims)


def var(x, axis=None, keepdims=False):
    return _reduce(lambda t, a, k=False: torch.var(t, dim=a, keepdim=k, correction=0), _float(x), axis, keepdims)


def std(x, axis=None, keepdims=False):
    return _reduce(lambda t, a, k=False: torch.std(t, dim=a, keepdim=k, correction=0), _float(x), axis, keepdims)


def prod(x, axis=None, keepdims=False):
    x = _t(x)
    axis = _axis(axis)
    if axis is None:
        out = torch.prod(x)
        return out.reshape([1] * x.ndim) if keepdims else out
    for a in sorted([axis] if isinstance(axis, int) else [a % x.ndim for a in axis], reverse=True):
        x = torch.prod(x, dim=a, keepdim=keepdims)
    return x


def max(x, axis=None, keepdims=False):
    return _reduce(lambda t, a, k=False: torch.amax(t, dim=a, keepdim=k), x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    return _reduce(lambda t, a, k=False: torch.amin(t, dim=a, keepdim=k), x, axis, keepdims)


def logsumexp(x, axis=None, keepdims=False):
    return _reduce(lambda t, a, k=False: torch.logsumexp(t, dim=a, keepdim=k), _float(x), axis, keepdims)


def argmax(x, axis=None, keepdims=False):
    x = _t(x)
    return torch.argmax(x, dim=axis, keepdim=keepdims if axis is not None else False).to(torch.int32)


def argmin(x, axis=None, keepdims=False):
    x = _t(x)
    return torch.argmin(x, dim=axis, keepdim=keepdims if axis is not None else False).to(torch.int32)


abs = _unary(torch.abs, "Absolute value, elementwise.")
exp = _unary_float(torch.exp, "``e ** x``, elementwise.")
log = _unary_float(torch.log, "Natural logarithm, elementwise.")
sqrt = _unary_float(torch.sqrt, "Square root, elementwise.")
square = _unary(torch.square, "``x * x``, elementwise.")
sign = _unary(torch.sign, "-1, 0 or 1: the sign of ``x``, elementwise.")


def round(x, decimals=0):
    return torch.round(_t(x), decimals=decimals)


floor = _unary(torch.floor, "Rounds down, elementwise.")
ceil = _unary(torch.ceil, "Rounds up, elementwise.")


def clip(x, x_min, x_max):
    x = _t(x)
    if isinstance(x_min, torch.Tensor) or isinstance(x_max, torch.Tensor):  # torch.clamp takes both or neither
        x_min, x_max = (
            None if b is None else torch.as_tensor(b, dtype=x.dtype, device=x.device) for b in (x_min, x_max)
        )
    return torch.clamp(x, x_min, x_max)


def where(condition, x1=None, x2=None):
    condition = _t(condition).bool()
    if x1 is None and x2 is None:
        return torch.where(condition)
    a = x1 if isinstance(x1, torch.Tensor) else _t(x1, device=condition.device)
    b = x2 if isinstance(x2, torch.Tensor) else _t(x2, device=condition.device)
    return torch.where(condition, a, b)


equal = _arithmetic(torch.eq, "``x1 == x2``, elementwise.")
not_equal = _arithmetic(torch.ne, "``x1 != x2``, elementwise.")
greater = _arithmetic(torch.gt, "``x1 > x2``, elementwise.")
greater_equal = _arithmetic(torch.ge, "``x1 >= x2``, elementwise.")
less = _arithmetic(torch.lt, "``x1 < x2``, elementwise.")
less_equal = _arithmetic(torch.le, "``x1 <= x2``, elementwise.")


def logical_and(x1, x2):
    return torch.logical_and(_t(x1), _t(x2))


def logical_or(x1, x2):
    return torch.logical_or(_t(x1), _t(x2))


def logical_not(x):
    return torch.logical_not(_t(x))


def reshape(x, newshape):
    return torch.reshape(_t(x), tuple(newshape) if isinstance(newshape, (list, tuple)) else (newshape,))


def transpose(x, axes=None):
    x = _t(x)
    return x.permute(*(axes if axes is not None else reversed(range(x.ndim))))


def moveaxis(x, source, destination):
    return torch.movedim(_t(x), source, destination)


def swapaxes(x, axis1, axis2):
    return torch.swapaxes(_t(x), axis1, axis2)


def expand_dims(x, axis):
    return torch.unsqueeze(_t(x), axis)


def squeeze(x, axis=None):
    x = _t(x)
    return torch.squeeze(x) if axis is None else torch.squeeze(x, axis)


def flatten(x):
    return torch.flatten(_t(x))


def concatenate(xs, axis=0):
    return torch.cat([_t(x) for x in xs], dim=axis)


def stack(xs, axis=0):
    return torch.stack([_t(x) for x in xs], dim=axis)


def split(x, indices_or_sections, axis=0):
    x = _t(x)
    if isinstance(indices_or_sections, int):
        return list(torch.tensor_split(x, indices_or_sections, dim=axis))
    return list(torch.tensor_split(x, list(indices_or_sections), dim=axis))


def tile(x, repeats):
    return torch.tile(_t(x), tuple(repeats) if isinstance(repeats, (list, tuple)) else (repeats,))


def repeat(x, repeats, axis=None):
    x = _t(x)
    if axis is None:
        return torch.repeat_interleave(x.reshape(-1), repeats)
    return torch.repeat_interleave(x, repeats, dim=axis)


def take(x, indices, axis=None):
    x = _t(x)
    indices = _t(indices, device=x.device).long()
    if axis is None:
        return x.reshape(-1)[indices]
    return torch.index_select(x, axis, indices.reshape(-1)).reshape(
        *x.shape[: axis % x.ndim], *indices.shape, *x.shape[axis % x.ndim + 1 :]
    )


def pad(x, pad_width, mode="constant", constant_values=0):
    """NumPy-style ``pad_width`` ``[(before, after), ...]`` for every axis."""
    x = _t(x)
    flat = []
    for before, after in reversed([tuple(p) for p in pad_width]):
        flat += [int(before), int(after)]
    if mode == "constant":
        return F.pad(x, flat, value=constant_values)
    return F.pad(x, flat, mode={"reflect": "reflect", "symmetric": "replicate", "edge": "replicate"}.get(mode, mode))


def cumsum(x, axis=None):
    x = _t(x)
    return torch.cumsum(x.reshape(-1), 0) if axis is None else torch.cumsum(x, axis)


def sort(x, axis=-1):
    return torch.sort(_t(x), dim=axis).values


def argsort(x, axis=-1):
    return torch.argsort(_t(x), dim=axis, stable=True).to(torch.int32)


def top_k(x, k, sorted=True):
    values, indices = torch.topk(_t(x), k, sorted=sorted)
    return values, indices.to(torch.int32)


def norm(x, ord=None, axis=None, keepdims=False):
    return torch.linalg.norm(_float(x), ord=ord, dim=_axis(axis), keepdim=keepdims)


def zeros(shape, dtype=None):
    return torch.zeros(shape, dtype=config.torch_dtype(dtype), device=config.get_device())


def ones(shape, dtype=None):
    return torch.ones(shape, dtype=config.torch_dtype(dtype), device=config.get_device())


def full(shape, fill_value, dtype=None):
    return torch.full(shape, fill_value, dtype=config.torch_dtype(dtype), device=config.get_device())


def zeros_like(x, dtype=None):
    x = _t(x)
    return torch.zeros_like(x, dtype=None if dtype is None else config.torch_dtype(dtype))


def ones_like(x, dtype=None):
    x = _t(x)
    return torch.ones_like(x, dtype=None if dtype is None else config.torch_dtype(dtype))


def arange(start, stop=None, step=1, dtype=None):
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = "float32" if any(isinstance(v, float) for v in (start, stop, step)) else "int32"
    return torch.arange(start, stop, step, dtype=config.torch_dtype(dtype), device=config.get_device())


def one_hot(x, num_classes, axis=-1, dtype=None):
    """Integer labels -> one-hot vectors of ``floatx()`` (Keras's default dtype)."""
    x = _t(x).long()
    out = F.one_hot(x, int(num_classes)).to(config.torch_dtype(dtype))
    return out if axis == -1 else torch.movedim(out, -1, axis)


def size(x):
    return _t(x).numel()


def ndim(x):
    return _t(x).ndim
