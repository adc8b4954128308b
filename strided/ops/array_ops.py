"""The rest of ``keras.ops`` on torch: segment reductions, scatter/slice updates, ``unique``,
NaN-aware statistics, signal helpers (``correlate``, ``histogram``, ``trapezoid``), complex views,
``saturate_cast``, ``unfold``/``fold`` (im2col/col2im) and ``rearrange`` (einops notation).

Inputs may be tensors, NumPy arrays or Python numbers (``convert_to_tensor``); results are torch
tensors. Where Keras's torch backend departs from NumPy (``nextafter`` rounds through float64 and
returns ``x1`` for float32, ``argpartition`` truncates floats to int32), these follow NumPy.
"""

import builtins
import math
import re

import torch
import torch.nn.functional as F

from strided import config
from strided.ops.core import convert_to_tensor, dtype_name
from strided.ops.numpy_ops import _axis, _float, prod

__all__ = [
    "segment_sum",
    "segment_max",
    "segment_min",
    "segment_prod",
    "scatter",
    "scatter_update",
    "slice",
    "slice_update",
    "unique",
    "unravel_index",
    "argpartition",
    "angle",
    "polar",
    "cdist",
    "corrcoef",
    "correlate",
    "histogram",
    "i0",
    "isreal",
    "nanargmax",
    "nanargmin",
    "nancumprod",
    "nancumsum",
    "nanmedian",
    "nanpercentile",
    "nanprod",
    "nanquantile",
    "nextafter",
    "trapezoid",
    "vander",
    "dsplit",
    "view_as_complex",
    "view_as_real",
    "saturate_cast",
    "unfold",
    "fold",
    "rearrange",
    "dtype",
    "view",
    "get_item",
]

_t = convert_to_tensor


def _torch_dtype(name):
    """Keras dtype names, including the unsigned and complex ones ``config.torch_dtype`` lacks."""
    if isinstance(name, torch.dtype):
        return name
    name = str(getattr(name, "name", name))
    extra = {
        "uint16": torch.uint16,
        "uint32": torch.uint32,
        "uint64": torch.uint64,
        "complex64": torch.complex64,
        "complex128": torch.complex128,
    }
    return extra[name] if name in extra else config.torch_dtype(name)


# ------------------------------------------------------------------ segment reductions
def _segment(data, segment_ids, num_segments, reduce):
    data = _t(data)
    ids = _t(segment_ids).to(data.device)
    if ids.ndim != 1:
        raise ValueError(
            f"Argument `segment_ids` should be an 1-D vector, got shape: {tuple(ids.shape)}. Consider "
            "flattening `data` and `segment_ids` first."
        )
    if ids.shape[0] != data.shape[0]:
        raise ValueError(
            f"Argument `segment_ids` and `data` should have same leading dimension. Got "
            f"{tuple(ids.shape)} v.s. {tuple(data.shape)}."
        )
    ids = ids.long()
    n = (int(ids.max()) + 1 if ids.numel() else 0) if num_segments is None else int(num_segments)
    # Rows whose id is negative or >= n go to one extra bucket, dropped at the end.
    ids = torch.where((ids >= 0) & (ids < n), ids, torch.full_like(ids, n))
    if data.is_floating_point():
        empty = {"sum": 0.0, "prod": 1.0, "amax": -float("inf"), "amin": float("inf")}[reduce]
    else:
        info = torch.iinfo(data.dtype) if data.dtype != torch.bool else None
        empty = {"sum": 0, "prod": 1, "amax": info.min if info else 0, "amin": info.max if info else 1}[reduce]
    out = torch.full((n + 1, *data.shape[1:]), empty, dtype=data.dtype, device=data.device)
    index = ids.reshape(-1, *([1] * (data.ndim - 1))).expand_as(data)
    return out.scatter_reduce(0, index, data, reduce, include_self=True)[:n]


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums of the rows of ``data`` that share a segment id.

    Args:
        data: tensor of shape ``(N, ...)``.
        segment_ids: 1D integer tensor of length ``N``; ids outside ``[0, num_segments)`` are dropped.
        num_segments: number of segments; defaults to ``max(segment_ids) + 1``.
        sorted: whether the ids are sorted (a hint; the result is the same).

    Returns:
        A tensor of shape ``(num_segments, ...)`` (0 for empty segments).
    """
    return _segment(data, segment_ids, num_segments, "sum")


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maxima of the rows of ``data`` that share a segment id (-inf, or the dtype's minimum, for empty
    segments). Arguments as ``segment_sum``."""
    return _segment(data, segment_ids, num_segments, "amax")


def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Minima of the rows of ``data`` that share a segment id (+inf, or the dtype's maximum, for empty
    segments). Arguments as ``segment_sum``."""
    return _segment(data, segment_ids, num_segments, "amin")


def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Products of the rows of ``data`` that share a segment id (1 for empty segments). Arguments as
    ``segment_sum``."""
    return _segment(data, segment_ids, num_segments, "prod")


# ------------------------------------------------------------------ scatter and slices
def _index_rows(indices, ndim, name="indices"):
    indices = _t(indices).long()
    if indices.ndim < 1 or indices.shape[-1] > ndim:
        raise ValueError(
            f"`{name}` must have shape (..., k) with k <= {ndim} (the rank of the target). "
            f"Received: {name}.shape={tuple(indices.shape)}"
        )
    return indices.reshape(-1, indices.shape[-1])


def scatter(indices, values, shape):
    """A tensor of shape ``shape``, zeros except ``values`` added at ``indices``.

    Args:
        indices: integer tensor of shape ``(..., k)``: each row indexes the first ``k`` axes of the
            output.
        values: tensor of shape ``(..., *shape[k:])``, one value (or slice) per index row.
            Repeated indices add up.
        shape: the output shape.

    Returns:
        A tensor of shape ``shape`` and the dtype of ``values``.
    """
    values = _t(values)
    shape = tuple(int(s) for s in shape)
    rows = _index_rows(indices, len(shape)).to(values.device)
    out = torch.zeros(shape, dtype=values.dtype, device=values.device)
    values = values.reshape(rows.shape[0], *shape[rows.shape[1] :])
    return out.index_put_(tuple(rows.t()), values, accumulate=True)


def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with the entries (or slices) at ``indices`` replaced by, or combined with, ``updates``.

    Args:
        inputs: the tensor to update (not modified; a copy is returned).
        indices: integer tensor of shape ``(n, k)``: each row indexes the first ``k`` axes.
        updates: tensor of shape ``(n, *inputs.shape[k:])``.
        reduction: ``None`` (replace), ``"add"``, ``"max"``, ``"min"`` or ``"mul"``: how an update
            combines with the current value (repeated indices combine in turn).

    Returns:
        The updated tensor.
    """
    inputs = _t(inputs)
    rows = _index_rows(indices, inputs.ndim).to(inputs.device)
    updates = _t(updates).to(device=inputs.device, dtype=inputs.dtype)
    out = inputs.clone()
    k = rows.shape[1]
    if reduction is None:
        return out.index_put_(tuple(rows.t()), updates.reshape(rows.shape[0], *inputs.shape[k:]))
    if reduction == "add":
        return out.index_put_(tuple(rows.t()), updates.reshape(rows.shape[0], *inputs.shape[k:]), accumulate=True)
    kinds = {"max": "amax", "min": "amin", "mul": "prod"}
    if reduction not in kinds:
        raise ValueError(
            f"Unsupported reduction. Expected one of None, 'add', 'max', 'min', 'mul'. "
            f"Received: reduction={reduction!r}"
        )
    # Flatten the k indexed axes into one, then reduce the update rows into it.
    lead = inputs.shape[:k]
    strides = torch.tensor([math.prod(lead[i + 1 :]) for i in range(k)], device=inputs.device)
    flat = out.reshape(math.prod(lead), *inputs.shape[k:])
    flat.index_reduce_(
        0,
        (rows * strides).sum(1),
        updates.reshape(rows.shape[0], *inputs.shape[k:]),
        kinds[reduction],
        include_self=True,
    )
    return flat.reshape(inputs.shape)


def _int_list(values, name):
    if isinstance(values, torch.Tensor) or hasattr(values, "__array__"):
        values = _t(values).reshape(-1).tolist()
    return [int(v) for v in values]


def slice(inputs, start_indices, shape):
    """The block of ``inputs`` of size ``shape`` starting at ``start_indices``.

    Args:
        inputs: tensor.
        start_indices: one start per axis (list, tuple or integer tensor).
        shape: the size of the block along each axis.

    Returns:
        A tensor of shape ``shape``.
    """
    inputs = _t(inputs)
    starts, sizes = _int_list(start_indices, "start_indices"), _int_list(shape, "shape")
    if len(starts) != inputs.ndim or len(sizes) != inputs.ndim:
        raise ValueError(
            f"`start_indices` and `shape` need one entry per axis of `inputs` ({inputs.ndim}). "
            f"Received: start_indices={starts}, shape={sizes}, inputs.shape={tuple(inputs.shape)}"
        )
    return inputs[tuple(builtins.slice(s, s + n) for s, n in zip(starts, sizes))]


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block starting at ``start_indices`` replaced by ``updates``.

    Args:
        inputs: tensor (not modified; a copy is returned).
        start_indices: one start per axis (list, tuple or integer tensor).
        updates: the new block, of the same rank as ``inputs``.

    Returns:
        The updated tensor.
    """
    inputs = _t(inputs)
    updates = _t(updates).to(device=inputs.device, dtype=inputs.dtype)
    starts = _int_list(start_indices, "start_indices")
    if len(starts) != inputs.ndim or updates.ndim != inputs.ndim:
        raise ValueError(
            f"`start_indices` and `updates` need one entry/axis per axis of `inputs` ({inputs.ndim}). "
            f"Received: start_indices={starts}, updates.shape={tuple(updates.shape)}"
        )
    out = inputs.clone()
    out[tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))] = updates
    return out


def get_item(x, key):
    """``x[key]`` (NumPy indexing)."""
    return _t(x)[key]


# ------------------------------------------------------------------ unique, indices, partitions
def unique(
    x, sorted=True, return_index=False, return_inverse=False, return_counts=False, axis=None, size=None, fill_value=None
):
    """The unique elements of ``x`` (of the flattened ``x``, or the unique slices along ``axis``).

    Args:
        x: tensor.
        sorted: return the values sorted (torch always sorts on CPU).
        return_index: also return the index of the first occurrence of each unique value.
        return_inverse: also return, for each element of ``x``, the index of its unique value.
        return_counts: also return how often each unique value occurs.
        axis: axis along which unique slices are taken; ``None`` flattens.
        size: if given, pad (with ``fill_value``, default 0) or truncate the outputs to ``size``
            unique values, for a static shape.
        fill_value: padding value for ``size``.

    Returns:
        The unique values, or a tuple ``(values[, index][, inverse][, counts])`` in NumPy's order.
    """
    x = _t(x)
    dim = None if axis is None else int(axis) % builtins.max(x.ndim, 1)
    values, inverse, counts = torch.unique(x, sorted=sorted, return_inverse=True, return_counts=True, dim=dim)
    n_unique = values.shape[0 if dim is None else dim]
    extras = []
    if return_index:
        # first occurrence: the smallest position mapped to each unique value
        positions = torch.arange(inverse.numel(), device=x.device).reshape(inverse.shape)
        first = torch.full((n_unique,), inverse.numel(), dtype=torch.long, device=x.device)
        extras.append(("index", first.scatter_reduce(0, inverse.reshape(-1), positions.reshape(-1), "amin")))
    if return_inverse:
        extras.append(("inverse", inverse))
    if return_counts:
        extras.append(("counts", counts))
    if size is not None:
        axis_v = 0 if dim is None else dim
        if n_unique >= size:
            values = values.narrow(axis_v, 0, size)
            extras = [(k, v[:size]) if k != "inverse" else (k, v) for k, v in extras]
        else:
            pad = [0, 0] * values.ndim
            pad[2 * (values.ndim - 1 - axis_v) + 1] = size - n_unique
            values = F.pad(values, pad, value=0 if fill_value is None else fill_value)
            extras = [(k, F.pad(v, (0, size - n_unique))) if k != "inverse" else (k, v) for k, v in extras]
    if not extras:
        return values
    return (values, *[v for _, v in extras])


def unravel_index(indices, shape):
    """Converts flat indices into a tuple of coordinate arrays for an array of shape ``shape``.

    Args:
        indices: integer tensor of flat indices.
        shape: the array shape.

    Returns:
        A tuple of ``len(shape)`` tensors, shaped like ``indices``, with its dtype.
    """
    indices = _t(indices)
    if indices.is_floating_point():
        raise TypeError(f"`indices` must be integers. Received: indices.dtype={dtype_name(indices.dtype)}")
    return tuple(c.to(indices.dtype) for c in torch.unravel_index(indices.long(), tuple(int(s) for s in shape)))


def argpartition(x, kth, axis=-1):
    """Indices that partition ``x`` along ``axis`` around its ``kth`` smallest element.

    Position ``kth`` of the result holds the index of the ``kth`` smallest value; positions before it
    index values no larger, positions after it values no smaller. (This returns a full stable
    ordering, which is one valid partition.)

    Args:
        x: tensor.
        kth: the element index to partition by.
        axis: axis to partition along; ``None`` flattens.

    Returns:
        An int32 tensor shaped like ``x`` (flattened when ``axis`` is None).
    """
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    length = x.shape[axis]
    if not -length <= int(kth) < length:
        raise ValueError(f"`kth` is out of bounds for an axis of length {length}. Received: kth={kth}")
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


# ------------------------------------------------------------------ complex numbers
def angle(x):
    """The angle (argument) of complex numbers, in radians (0 or pi for real numbers)."""
    x = _t(x)
    return torch.angle(x if x.is_floating_point() or x.is_complex() else _float(x))


def polar(abs_, angle):
    """The complex numbers ``abs_ * (cos(angle) + 1j sin(angle))``.

    Args:
        abs_: magnitudes (float tensor).
        angle: angles in radians, broadcastable against ``abs_``.

    Returns:
        A complex tensor.
    """
    a, t = _float(abs_), _float(angle)
    a, t = torch.broadcast_tensors(a, t.to(device=a.device, dtype=a.dtype))
    return torch.polar(a, t)


def isreal(x):
    """True where the imaginary part is zero (everywhere for real tensors)."""
    return torch.isreal(_t(x))


def view_as_complex(x):
    """A complex tensor from a real one whose last axis (of size 2) holds the real and imaginary parts.

    Args:
        x: real tensor of shape ``(..., 2)``.

    Returns:
        A complex tensor of shape ``x.shape[:-1]`` (complex128 for float64 input, else complex64).
    """
    x = _float(x)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(
            f"Last dimension of input must be size 2 (real and imaginary). Received shape: {tuple(x.shape)}"
        )
    if x.dtype != torch.float64:
        x = x.to(torch.float32)
    return torch.complex(x[..., 0], x[..., 1])


def view_as_real(x):
    """A real tensor of shape ``(..., 2)`` holding the real and imaginary parts of ``x``."""
    x = _t(x)
    if not x.is_complex():
        return torch.stack([x, torch.zeros_like(x)], dim=-1)
    return torch.stack([x.real, x.imag], dim=-1)


# ------------------------------------------------------------------ statistics and signals
def cdist(x, y):
    """Euclidean distances between every row vector of ``x`` and of ``y``.

    Args:
        x: tensor of shape ``(..., m, d)``.
        y: tensor of shape ``(..., n, d)``; the batch axes broadcast.

    Returns:
        A tensor of shape ``(..., m, n)``.
    """
    x, y = _float(x), _float(y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(
            f"`cdist` inputs must have rank >= 2. Received: x.shape={tuple(x.shape)}, y.shape={tuple(y.shape)}"
        )
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(
            f"Last dimension of inputs to `cdist` must match. Received: x.shape={tuple(x.shape)}, "
            f"y.shape={tuple(y.shape)}"
        )
    y = y.to(device=x.device, dtype=torch.promote_types(x.dtype, y.dtype))
    x = x.to(y.dtype)
    batch = torch.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    x, y = x.expand(*batch, *x.shape[-2:]), y.expand(*batch, *y.shape[-2:])
    return torch.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist")


def corrcoef(x):
    """Pearson correlation coefficients of the rows of ``x`` (variables in rows, observations in columns)."""
    x = _t(x)
    if not x.is_floating_point():
        x = x.to(torch.float64 if x.dtype == torch.int64 else config.torch_dtype(None))
    return torch.corrcoef(x)


def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1D sequences, ``c[k] = sum_n x1[n + k] * x2[n]`` (NumPy's ``correlate``).

    Args:
        x1: 1D tensor (leading axes, if any, are batch axes that broadcast).
        x2: 1D tensor.
        mode: ``"valid"`` (only full overlaps), ``"same"`` (the length of ``x1``) or ``"full"``.

    Returns:
        The correlation, a float tensor.
    """
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"`mode` must be one of 'valid', 'same', 'full'. Received: mode={mode!r}")
    a, b = _t(x1), _t(x2)
    dtype = torch.promote_types(a.dtype, b.dtype)
    dtype = (
        dtype
        if dtype in (torch.float16, torch.bfloat16, torch.float64)
        else (torch.float64 if dtype == torch.int64 else torch.float32)
    )
    a, b = a.to(dtype), b.to(device=a.device, dtype=dtype)
    if a.ndim < 1 or b.ndim < 1:
        raise ValueError(
            f"`correlate` needs inputs of rank >= 1. Received: x1.shape={tuple(a.shape)}, x2.shape={tuple(b.shape)}"
        )
    n1, n2 = a.shape[-1], b.shape[-1]
    batch = torch.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    a = a.expand(*batch, n1).reshape(-1, n1)
    b = b.expand(*batch, n2).reshape(-1, n2)
    full = F.conv1d(a[None], b[:, None], groups=a.shape[0], padding=n2 - 1)[0]  # (signals, n1 + n2 - 1)
    if mode == "valid":
        keep = builtins.max(n1, n2) - builtins.min(n1, n2) + 1
    elif mode == "same":
        keep = n1
    else:
        keep = n1 + n2 - 1
    start = (full.shape[-1] - keep) // 2
    return full[:, start : start + keep].reshape(*batch, keep)


def histogram(x, bins=10, range=None):
    """Counts of the values of ``x`` in ``bins`` equal-width bins (the last bin includes its right edge).

    Args:
        x: 1D tensor.
        bins: number of bins.
        range: ``(lower, upper)`` bounds of the bins; defaults to ``(x.min(), x.max())``.

    Returns:
        Tuple ``(counts, bin_edges)``: float tensors of length ``bins`` and ``bins + 1``.
    """
    if isinstance(bins, bool) or not isinstance(bins, int):
        raise TypeError(f"Argument `bins` must be of type `int`. Received: bins={bins!r}")
    if bins < 0:
        raise ValueError(f"Argument `bins` should be a non-negative integer. Received: bins={bins}")
    if range is not None:
        if not isinstance(range, (tuple, list)) or len(range) != 2:
            raise ValueError(f"Argument `range` must be a tuple of two elements. Received: range={range!r}")
        if range[1] < range[0]:
            raise ValueError(f"The second element of `range` must be greater than the first. Received: range={range}")
    x = _float(x)
    if x.ndim != 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={tuple(x.shape)}")
    rng = None if range is None else (float(range[0]), float(range[1]))
    if x.device.type == "cpu":
        out = torch.histogram(x, bins=bins, range=rng)
        return out.hist, out.bin_edges
    lo, hi = rng if rng is not None else (float(x.min()), float(x.max()))
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return torch.histc(x, bins=bins, min=lo, max=hi), torch.linspace(lo, hi, bins + 1, dtype=x.dtype, device=x.device)


def i0(x):
    """The modified Bessel function of the first kind, order 0, elementwise."""
    x = _t(x)
    if not x.is_floating_point():
        x = x.to(torch.float64 if x.dtype == torch.int64 else config.torch_dtype(None))
    return torch.i0(x)


def nextafter(x1, x2):
    """The next representable float after ``x1`` towards ``x2``, elementwise (NumPy's ``nextafter``)."""
    a, b = _float(x1), _float(x2)
    dtype = torch.promote_types(a.dtype, b.dtype)
    return torch.nextafter(a.to(dtype), b.to(device=a.device, dtype=dtype))


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of ``y`` along ``axis`` by the trapezoidal rule.

    Args:
        y: samples.
        x: sample points (same length along ``axis``); if None, the points are ``dx`` apart.
        dx: spacing when ``x`` is None.
        axis: axis to integrate along.

    Returns:
        ``y`` integrated along ``axis`` (that axis removed).
    """
    y = _float(y)
    if x is not None:
        return torch.trapezoid(y, _float(x).to(device=y.device, dtype=y.dtype), dim=axis)
    return torch.trapezoid(y, dx=float(dx), dim=axis)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1D ``x``: columns ``x**(N-1), ..., x, 1`` (reversed if ``increasing``).

    Args:
        x: 1D tensor.
        N: number of columns (default ``len(x)``).
        increasing: powers increase left to right.

    Returns:
        A tensor of shape ``(len(x), N)`` and the dtype of ``x``.
    """
    x = _t(x)
    if x.ndim != 1:
        raise ValueError(f"Input tensor must be 1-dimensional. Received: input.shape={tuple(x.shape)}")
    if N is not None:
        if isinstance(N, bool) or not isinstance(N, int):
            raise TypeError(f"Argument `N` must be of type `int`. Received: N={N!r} of type {type(N)}")
        if N < 0:
            raise ValueError(f"Argument 'N' must be nonnegative. Received: N={N}")
    return torch.vander(x, N=N, increasing=increasing).to(x.dtype)


def dsplit(x, indices_or_sections):
    """Splits along axis 2 (``x`` of rank >= 3) into equal sections or at the given indices."""
    x = _t(x)
    if x.ndim < 3:
        raise ValueError(f"`dsplit` needs a tensor of rank >= 3. Received: x.shape={tuple(x.shape)}")
    if not isinstance(indices_or_sections, int):
        indices_or_sections = _int_list(indices_or_sections, "indices_or_sections")
    return list(torch.dsplit(x, indices_or_sections))


# ------------------------------------------------------------------ NaN-aware reductions
def nanargmax(x, axis=None, keepdims=False):
    """Index of the maximum along ``axis`` ignoring NaNs (-1 where a slice is all NaN; int32)."""
    return _nan_arg(x, axis, keepdims, torch.argmax, -float("inf"))


def nanargmin(x, axis=None, keepdims=False):
    """Index of the minimum along ``axis`` ignoring NaNs (-1 where a slice is all NaN; int32)."""
    return _nan_arg(x, axis, keepdims, torch.argmin, float("inf"))


def _nan_arg(x, axis, keepdims, fn, fill):
    x = _t(x)
    if axis is None:
        flat = x.reshape(-1)
        out = _nan_arg(flat, 0, False, fn, fill)
        return out.reshape([1] * x.ndim) if keepdims else out
    axis = int(axis)
    if not x.is_floating_point():
        return fn(x, dim=axis, keepdim=keepdims).to(torch.int32)
    nan = torch.isnan(x)
    best = fn(torch.where(nan, torch.full_like(x, fill), x), dim=axis, keepdim=keepdims).to(torch.int32)
    return torch.where(nan.all(dim=axis, keepdim=keepdims), torch.full_like(best, -1), best)


def _cumulative(fn, x, axis, dtype):
    x = _t(x)
    target = _torch_dtype(dtype) if dtype is not None else (torch.int32 if x.dtype == torch.bool else x.dtype)
    return fn(x.reshape(-1), 0, dtype=target) if axis is None else fn(x, int(axis), dtype=target)


def nancumsum(x, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (of the flattened tensor when None), NaNs counted as 0."""
    x = _t(x)
    if x.is_floating_point():
        x = torch.where(torch.isnan(x), torch.zeros_like(x), x)
    return _cumulative(torch.cumsum, x, axis, dtype)


def nancumprod(x, axis=None, dtype=None):
    """Cumulative product along ``axis`` (of the flattened tensor when None), NaNs counted as 1."""
    x = _t(x)
    if x.is_floating_point():
        x = torch.where(torch.isnan(x), torch.ones_like(x), x)
    return _cumulative(torch.cumprod, x, axis, dtype)


def nanprod(x, axis=None, keepdims=False):
    """Product along ``axis`` ignoring NaNs (they count as 1)."""
    x = _t(x)
    if x.is_floating_point():
        x = torch.where(torch.isnan(x), torch.ones_like(x), x)
    if isinstance(axis, (list, tuple)) and len(axis) == 0:
        return x
    return prod(x, axis=axis, keepdims=keepdims)


def _check_method(method):
    if method not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(
            f"`method` must be one of 'linear', 'lower', 'higher', 'midpoint', 'nearest'. Received: method={method!r}"
        )


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantile(s) along ``axis`` ignoring NaNs (``q`` in [0, 1]).

    Args:
        x: tensor.
        q: a probability or a sequence of probabilities.
        axis: axis or axes to reduce; ``None`` flattens.
        method: ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"`` or ``"nearest"``.
        keepdims: keep the reduced axes with size 1.

    Returns:
        The quantiles; a leading axis of ``len(q)`` when ``q`` is a sequence.
    """
    _check_method(method)
    x = _float(x)
    q = _t(q).to(device=x.device, dtype=x.dtype)
    axis = _axis(axis)
    reduced = (
        list(range(x.ndim)) if axis is None else [a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,))]
    )
    kept = [d for d in range(x.ndim) if d not in reduced]
    moved = x.permute(*kept, *reduced).reshape(*[x.shape[d] for d in kept], -1)
    out = torch.nanquantile(moved, q, dim=-1, interpolation=method)
    if keepdims:
        for a in sorted(reduced):
            out = out.unsqueeze(a + (1 if q.ndim else 0))
    return out


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentile(s) (``q`` in [0, 100]) along ``axis`` ignoring NaNs. Arguments as
    ``nanquantile``."""
    q = _t(q, dtype="float64") / 100.0
    return nanquantile(x, q, axis=axis, method=method, keepdims=keepdims)


def nanmedian(x, axis=None, keepdims=False):
    """The median along ``axis`` ignoring NaNs (NaN where a slice is all NaN)."""
    if isinstance(axis, (list, tuple)) and len(axis) == 0:
        return _t(x)
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


# ------------------------------------------------------------------ dtypes
def dtype(x):
    """The dtype of ``x`` as a Keras string, e.g. ``'float32'``."""
    value = getattr(x, "dtype", None)
    if value is None:
        return dtype_name(_t(x).dtype)
    if isinstance(value, torch.dtype):
        return dtype_name(value)
    return str(getattr(value, "name", value))


def _limits(dt):
    if dt == torch.bool:
        return 0, 1
    info = torch.finfo(dt) if dt.is_floating_point else torch.iinfo(dt)
    return info.min, info.max


def saturate_cast(x, dtype):
    """Casts to ``dtype``, clamping values to its range first (no wrap-around or undefined overflow).

    Args:
        x: tensor.
        dtype: target dtype (a Keras name, e.g. ``"uint8"``, or a torch dtype).

    Returns:
        ``x`` clamped to the range of ``dtype`` and cast to it.
    """
    x = _t(x)
    target = _torch_dtype(dtype)
    in_min, in_max = _limits(x.dtype)
    out_min, out_max = _limits(target)
    lo = torch.tensor(builtins.max(in_min, out_min)).to(x.dtype)
    hi = torch.tensor(builtins.min(in_max, out_max)).to(x.dtype)
    # A bound may round, in x's dtype, beyond the target's range (float32(2**31 - 1) == 2**31):
    # step it back towards zero so the clamped values always fit.
    if x.is_floating_point():
        if float(lo) < out_min:
            lo = torch.nextafter(lo, torch.zeros_like(lo))
        if float(hi) > out_max:
            hi = torch.nextafter(hi, torch.zeros_like(hi))
    if x.dtype == torch.bool:
        return x.to(target)
    return torch.clamp(x, lo.to(x.device), hi.to(x.device)).to(target)


def view(x, dtype=None):
    """The bits of ``x`` reinterpreted as ``dtype`` (the last axis scales with the item sizes)."""
    x = _t(x)
    return x if dtype is None else x.view(_torch_dtype(dtype))


# ------------------------------------------------------------------ im2col and rearrange
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a batched image (im2col).

    Args:
        x: tensor of shape ``(N, C, H, W)``.
        kernel_size: int or ``(kh, kw)``.
        dilation: int or pair, spacing of kernel taps.
        padding: int or pair, zero padding on both sides.
        stride: int or pair.

    Returns:
        A tensor of shape ``(N, C * kh * kw, L)``, one column per block position.
    """
    x = _t(x)
    if x.ndim != 4:
        raise ValueError(f"Input must be a 4D tensor. Received: input.shape={tuple(x.shape)}")
    return F.unfold(x, kernel_size, dilation=dilation, padding=padding, stride=stride)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding local blocks back into a batched image (col2im), the adjoint of ``unfold``.

    Args:
        x: tensor of shape ``(N, C * kh * kw, L)``.
        output_size: int or ``(H, W)`` of the image.
        kernel_size, dilation, padding, stride: as in ``unfold``.

    Returns:
        A tensor of shape ``(N, C, H, W)``; overlapping values add up.
    """
    x = _t(x)
    if x.ndim != 3:
        raise ValueError(f"Input must be a 3D tensor. Received: input.shape={tuple(x.shape)}")
    return F.fold(x, output_size, kernel_size, dilation=dilation, padding=padding, stride=stride)


_GROUP = re.compile(r"\(([^()]*)\)|([A-Za-z_]\w*)|(\S)")


def _parse_side(side, pattern):
    groups = []
    for match in _GROUP.finditer(side):
        inner, name, other = match.groups()
        if other is not None:
            raise ValueError(f"Invalid character {other!r} in `pattern`. Received: pattern={pattern!r}")
        names = inner.split() if inner is not None else [name]
        if any(not re.fullmatch(r"[A-Za-z_]\w*", n) for n in names):
            raise ValueError(f"Invalid axis name in `pattern`. Received: pattern={pattern!r}")
        groups.append(names)
    return groups


def rearrange(tensor, pattern, **axes_lengths):
    """Reorders, merges and splits axes with einops notation.

    ``"b h w c -> b c h w"`` transposes, ``"b h w c -> b (h w) c"`` merges axes, and
    ``"b (h p1) (w p2) c -> b h w (p1 p2 c)"`` with ``p1=2, p2=2`` splits them (space to depth).

    Args:
        tensor: input tensor.
        pattern: ``"<input axes> -> <output axes>"``; names are identifiers, parentheses group axes.
        **axes_lengths: lengths of split axes (one unknown length per group is inferred).

    Returns:
        The rearranged tensor.
    """
    x = _t(tensor)
    if not isinstance(pattern, str) or pattern.count("->") != 1:
        raise ValueError(f"`pattern` must have the form '<input axes> -> <output axes>'. Received: pattern={pattern!r}")
    left, right = pattern.split("->")
    inputs, outputs = _parse_side(left, pattern), _parse_side(right, pattern)
    if len(inputs) != x.ndim:
        raise ValueError(
            f"`pattern` names {len(inputs)} input axes but the tensor has rank {x.ndim}. "
            f"Received: pattern={pattern!r}, tensor.shape={tuple(x.shape)}"
        )
    flat_in = [n for g in inputs for n in g]
    flat_out = [n for g in outputs for n in g]
    if sorted(flat_in) != sorted(flat_out) or len(set(flat_in)) != len(flat_in):
        raise ValueError(
            f"Each axis must appear exactly once on both sides of `pattern`. Received: pattern={pattern!r}"
        )
    sizes = {}
    for group, dim in zip(inputs, x.shape):
        unknown = [n for n in group if n not in axes_lengths]
        known = math.prod(int(axes_lengths[n]) for n in group if n in axes_lengths)
        if len(unknown) > 1:
            raise ValueError(
                f"Could not infer the lengths of {unknown} in `pattern`: pass them as keyword "
                f"arguments. Received: pattern={pattern!r}"
            )
        for n in group:
            sizes[n] = int(axes_lengths[n]) if n in axes_lengths else dim // builtins.max(known, 1)
        if math.prod(sizes[n] for n in group) != dim:
            raise ValueError(
                f"Axis lengths {dict((n, sizes[n]) for n in group)} do not multiply to {dim}. "
                f"Received: pattern={pattern!r}, tensor.shape={tuple(x.shape)}"
            )
    x = x.reshape([sizes[n] for n in flat_in])
    x = x.permute([flat_in.index(n) for n in flat_out])
    return x.reshape([math.prod(sizes[n] for n in g) for g in outputs])
