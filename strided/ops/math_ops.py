"""More of ``keras.ops`` on torch: elementwise math, logic, reductions and array building.

Keras's dtype rules, as in ``numpy_ops``: functions that only make sense on real numbers (``sin``,
``log1p``, ``arctan2``...) turn integer inputs into the float type (``config.floatx()``); the others
keep the input dtype. ``axis``/``keepdims`` follow NumPy. Every function is checked against
``keras.ops`` in ``tests/test_ops_keras_parity.py``.
"""

import builtins

import torch

from strided import config
from strided.ops.core import convert_to_tensor
from strided.ops.numpy_ops import _axis, _float, _pair, _reduce, _unary, _unary_float

_t = convert_to_tensor


def _binary_float(fn, doc):
    def op(x1, x2):
        a, b = _pair(x1, x2)
        a, b = _float(a), (_float(b) if isinstance(b, torch.Tensor) else float(b))
        return fn(a, b if isinstance(b, torch.Tensor) else torch.as_tensor(b, dtype=a.dtype, device=a.device))

    op.__doc__ = doc
    return op


def _binary(fn, doc):
    def op(x1, x2):
        a, b = _pair(x1, x2)
        a = _t(a)
        return fn(
            a, b if isinstance(b, torch.Tensor) else torch.as_tensor(b, device=a.device).to(torch.result_type(a, b))
        )

    op.__doc__ = doc
    return op


# ------------------------------------------------------------------ elementwise, float results
sin = _unary_float(torch.sin, "Sine, elementwise.")
cos = _unary_float(torch.cos, "Cosine, elementwise.")
tan = _unary_float(torch.tan, "Tangent, elementwise.")
arcsin = _unary_float(torch.asin, "Inverse sine, elementwise.")
arccos = _unary_float(torch.acos, "Inverse cosine, elementwise.")
arctan = _unary_float(torch.atan, "Inverse tangent, elementwise.")
sinh = _unary_float(torch.sinh, "Hyperbolic sine, elementwise.")
cosh = _unary_float(torch.cosh, "Hyperbolic cosine, elementwise.")
arcsinh = _unary_float(torch.asinh, "Inverse hyperbolic sine, elementwise.")
arccosh = _unary_float(torch.acosh, "Inverse hyperbolic cosine, elementwise.")
arctanh = _unary_float(torch.atanh, "Inverse hyperbolic tangent, elementwise.")
expm1 = _unary_float(torch.expm1, "``exp(x) - 1``, accurate near 0.")
exp2 = _unary_float(torch.exp2, "``2 ** x``, elementwise.")
log1p = _unary_float(torch.log1p, "``log(1 + x)``, accurate near 0.")
log2 = _unary_float(torch.log2, "Base-2 logarithm, elementwise.")
log10 = _unary_float(torch.log10, "Base-10 logarithm, elementwise.")
erf = _unary_float(torch.erf, "The error function, elementwise.")
erfinv = _unary_float(torch.erfinv, "The inverse error function, elementwise.")
rsqrt = _unary_float(torch.rsqrt, "``1 / sqrt(x)``, elementwise.")
reciprocal = _unary_float(torch.reciprocal, "``1 / x``, elementwise.")
cbrt = _unary_float(lambda x: torch.sign(x) * torch.abs(x).pow(1.0 / 3.0), "Cube root, elementwise.")
deg2rad = _unary_float(torch.deg2rad, "Degrees to radians.")
rad2deg = _unary_float(torch.rad2deg, "Radians to degrees.")
arctan2 = _binary_float(torch.atan2, "``arctan(x1 / x2)`` in the right quadrant, elementwise.")
hypot = _binary_float(torch.hypot, "``sqrt(x1**2 + x2**2)``, elementwise.")
logaddexp = _binary_float(torch.logaddexp, "``log(exp(x1) + exp(x2))`` without overflow.")
true_divide = _binary_float(torch.true_divide, "``x1 / x2`` as floats.")

# ------------------------------------------------------------------ elementwise, dtype kept
absolute = _unary(torch.abs, "Absolute value, elementwise.")
fabs = _unary_float(torch.abs, "Absolute value as floats.")
negative = _unary(torch.neg, "``-x``, elementwise.")
trunc = _unary(torch.trunc, "Rounds towards zero, elementwise.")
isnan = _unary(torch.isnan, "True where ``x`` is NaN.")
isinf = _unary(torch.isinf, "True where ``x`` is +-inf.")
isfinite = _unary(torch.isfinite, "True where ``x`` is neither NaN nor infinite.")
signbit = _unary(torch.signbit, "True where the sign bit is set (negative numbers, -0.0).")
conjugate = conj = _unary(torch.conj_physical, "Complex conjugate (the identity on real tensors).")
floor_divide = _binary(torch.floor_divide, "``floor(x1 / x2)``, elementwise.")
mod = _binary(torch.remainder, "``x1 mod x2`` with the sign of ``x2`` (NumPy's ``mod``).")
fmod = _binary(torch.fmod, "Remainder with the sign of ``x1`` (C's ``fmod``).")
fmax = _binary(torch.fmax, "Elementwise maximum that ignores NaNs.")
fmin = _binary(torch.fmin, "Elementwise minimum that ignores NaNs.")
logical_xor = _binary(torch.logical_xor, "Elementwise exclusive or.")
bitwise_and = _binary(torch.bitwise_and, "Bitwise AND of integers.")
bitwise_or = _binary(torch.bitwise_or, "Bitwise OR of integers.")
bitwise_xor = _binary(torch.bitwise_xor, "Bitwise XOR of integers.")
bitwise_invert = bitwise_not = _unary(torch.bitwise_not, "Bitwise NOT of integers.")
bitwise_left_shift = left_shift = _binary(torch.bitwise_left_shift, "``x1 << x2``.")
bitwise_right_shift = right_shift = _binary(torch.bitwise_right_shift, "``x1 >> x2``.")
gcd = _binary(torch.gcd, "Greatest common divisor of integers.")
lcm = _binary(torch.lcm, "Least common multiple of integers.")


def divide_no_nan(x1, x2):
    """``x1 / x2``, with 0 where ``x2`` is 0."""
    a, b = _pair(x1, x2)
    a = _float(a)
    b = _float(b) if isinstance(b, torch.Tensor) else torch.as_tensor(float(b), dtype=a.dtype, device=a.device)
    safe = torch.where(b == 0, torch.ones_like(b), b)
    return torch.where(b == 0, torch.zeros_like(a / safe), a / safe)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN by ``nan`` and infinities by ``posinf``/``neginf`` (default: the dtype's extremes)."""
    return torch.nan_to_num(_t(x), nan=nan, posinf=posinf, neginf=neginf)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """True where ``|x1 - x2| <= atol + rtol * |x2|``."""
    a, b = _pair(x1, x2)
    a = _float(a)
    b = _float(b) if isinstance(b, torch.Tensor) else torch.as_tensor(float(b), dtype=a.dtype, device=a.device)
    return torch.isclose(a, b.to(a.dtype), rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """True when every element is close (``isclose``)."""
    return torch.all(isclose(x1, x2, rtol, atol, equal_nan))


# ------------------------------------------------------------------ reductions
def all(x, axis=None, keepdims=False):
    """True where every element along ``axis`` is non-zero."""
    return _reduce(lambda t, a, k=False: torch.all(t.bool(), dim=a, keepdim=k), x, axis, keepdims)


def any(x, axis=None, keepdims=False):
    """True where some element along ``axis`` is non-zero."""
    return _reduce(lambda t, a, k=False: torch.any(t.bool(), dim=a, keepdim=k), x, axis, keepdims)


def amax(x, axis=None, keepdims=False):
    """Maximum along ``axis`` (``max``)."""
    return _reduce(lambda t, a, k=False: torch.amax(t, dim=a, keepdim=k), x, axis, keepdims)


def amin(x, axis=None, keepdims=False):
    """Minimum along ``axis`` (``min``)."""
    return _reduce(lambda t, a, k=False: torch.amin(t, dim=a, keepdim=k), x, axis, keepdims)


def count_nonzero(x, axis=None):
    """Number of non-zero elements along ``axis`` (int32)."""
    x = _t(x)
    axis = _axis(axis)
    return torch.count_nonzero(x, dim=axis).to(torch.int32)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along ``axis`` (of the flattened tensor when None)."""
    x = _t(x)
    out = torch.cumprod(x.reshape(-1), 0) if axis is None else torch.cumprod(x, int(axis))
    return out.to(config.torch_dtype(dtype)) if dtype else out


def median(x, axis=None, keepdims=False):
    """Median along ``axis`` (the mean of the two middle values for even lengths, as NumPy)."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantile(s) along ``axis`` (``q`` in [0, 1])."""
    x = _float(x)
    q_t = torch.as_tensor(q, dtype=x.dtype, device=x.device)
    axis = _axis(axis)
    if isinstance(axis, tuple):  # several axes: move them last and flatten them
        keep = [d for d in range(x.ndim) if d not in [a % x.ndim for a in axis]]
        moved = x.permute(*keep, *[a % x.ndim for a in axis]).reshape(*[x.shape[d] for d in keep], -1)
        out = torch.quantile(moved, q_t, dim=-1, interpolation=method)
        if keepdims:
            for a in sorted(a % x.ndim for a in axis):
                out = out.unsqueeze(a + (1 if q_t.ndim else 0))
        return out
    if axis is None:
        out = torch.quantile(x.reshape(-1), q_t, dim=0, interpolation=method)
        return out.reshape(tuple(q_t.shape) + (1,) * x.ndim) if keepdims else out
    return torch.quantile(x, q_t, dim=axis, keepdim=keepdims, interpolation=method)


def average(x, axis=None, weights=None):
    """Weighted mean along ``axis`` (``weights`` shaped like ``x`` or like that axis)."""
    x = _float(x)
    if weights is None:
        return _reduce(lambda t, a, k=False: torch.mean(t, dim=a, keepdim=k), x, axis, False)
    w = _float(weights).to(x.device)
    if axis is not None and w.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[int(axis)] = -1
        w = w.reshape(shape)
    axis = _axis(axis)
    total = torch.sum(x * w) if axis is None else torch.sum(x * w, dim=axis)
    norm = (
        torch.sum(torch.broadcast_to(w, x.shape))
        if axis is None
        else torch.sum(torch.broadcast_to(w, x.shape), dim=axis)
    )
    return total / norm


def ptp(x, axis=None, keepdims=False):
    """Range (max - min) along ``axis``."""
    return amax(x, axis, keepdims) - amin(x, axis, keepdims)


def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis``."""
    return torch.diff(_t(a), n=n, dim=axis)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along a diagonal of the ``axis1``/``axis2`` plane."""
    return torch.sum(torch.diagonal(_t(x), offset=offset, dim1=axis1, dim2=axis2), dim=-1)


# ------------------------------------------------------------------ building and rearranging arrays
def array(x, dtype=None):
    """A tensor from array-like data."""
    return _t(x, dtype=dtype)


def copy(x):
    """A copy of ``x``."""
    return _t(x).clone()


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (a view)."""
    return torch.broadcast_to(_t(x), tuple(shape))


def append(x1, x2, axis=None):
    """``x2`` appended to ``x1`` (both flattened when ``axis`` is None)."""
    a, b = _t(x1), _t(x2)
    if axis is None:
        return torch.cat([a.reshape(-1), b.reshape(-1).to(a.device)])
    return torch.cat([a, b.to(a.device)], dim=int(axis))


def flip(x, axis=None):
    """Reverses the order of elements along ``axis`` (all axes when None)."""
    x = _t(x)
    axes = tuple(range(x.ndim)) if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
    return torch.flip(x, axes)


def fliplr(x):
    """Reverses the columns (axis 1)."""
    return torch.flip(_t(x), (1,))


def flipud(x):
    """Reverses the rows (axis 0)."""
    return torch.flip(_t(x), (0,))


def roll(x, shift, axis=None):
    """Shifts elements along ``axis`` with wrap-around (of the flattened tensor when None)."""
    x = _t(x)
    if axis is None:
        return torch.roll(x.reshape(-1), shift).reshape(x.shape)
    return torch.roll(x, shift, dims=axis)


def rot90(array, k=1, axes=(0, 1)):
    """Rotates by 90 degrees ``k`` times in the plane of ``axes``."""
    return torch.rot90(_t(array), k, tuple(axes))


def tril(x, k=0):
    """The lower triangle (below diagonal ``k``), zeros elsewhere."""
    return torch.tril(_t(x), k)


def triu(x, k=0):
    """The upper triangle (above diagonal ``k``), zeros elsewhere."""
    return torch.triu(_t(x), k)


def diag(x, k=0):
    """The ``k``-th diagonal of a matrix, or a matrix with ``x`` on its ``k``-th diagonal."""
    return torch.diag(_t(x), k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of the ``axis1``/``axis2`` plane (last axis of the result)."""
    return torch.diagonal(_t(x), offset=offset, dim1=axis1, dim2=axis2)


def eye(N, M=None, k=0, dtype=None):
    """A 2D tensor with ones on the ``k``-th diagonal."""
    M = N if M is None else M
    out = torch.zeros((N, M), dtype=config.torch_dtype(dtype), device=config.get_device())
    out.diagonal(k).fill_(1)  # a view: fills the matrix in place (nothing when k is off the matrix)
    return out


def identity(n, dtype=None):
    """The ``n x n`` identity matrix."""
    return torch.eye(n, dtype=config.torch_dtype(dtype), device=config.get_device())


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced numbers from ``start`` to ``stop`` (scalars)."""
    start, stop = float(start), float(stop)
    count = num if endpoint else num + 1
    values = torch.linspace(start, stop, count, dtype=torch.float64, device=config.get_device())
    values = values if endpoint else values[:-1]
    values = values.to(config.torch_dtype(dtype))
    if retstep:
        return values, (stop - start) / builtins.max((num - 1) if endpoint else num, 1)
    return values


def full_like(x, fill_value, dtype=None):
    """A tensor shaped like ``x`` filled with ``fill_value``."""
    x = _t(x)
    return torch.full_like(x, fill_value, dtype=config.torch_dtype(dtype) if dtype else x.dtype)


def empty(shape, dtype=None):
    """An uninitialized tensor (zeros here, so results never depend on memory contents)."""
    return torch.zeros(tuple(shape), dtype=config.torch_dtype(dtype), device=config.get_device())


def empty_like(x, dtype=None):
    """An uninitialized tensor shaped like ``x`` (zeros)."""
    x = _t(x)
    return torch.zeros_like(x, dtype=config.torch_dtype(dtype) if dtype else x.dtype)


def hstack(xs):
    """Stacks along axis 1 (axis 0 for 1D tensors)."""
    return torch.hstack([_t(x) for x in xs])


def vstack(xs):
    """Stacks along axis 0 (1D tensors become rows)."""
    return torch.vstack([_t(x) for x in xs])


def dstack(xs):
    """Stacks along axis 2."""
    return torch.dstack([_t(x) for x in xs])


def outer(x1, x2):
    """Outer product of the flattened inputs."""
    a, b = _t(x1), _t(x2)
    return torch.outer(a.reshape(-1), b.reshape(-1).to(a.device))


def inner(x1, x2):
    """Inner product over the last axes."""
    a, b = _t(x1), _t(x2)
    return torch.inner(a, b.to(a.device))


def kron(x1, x2):
    """Kronecker product."""
    a, b = _t(x1), _t(x2)
    return torch.kron(a, b.to(a.device))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors along the last axis (``axis`` overrides it)."""
    a, b = _t(x1), _t(x2).to(_t(x1).device)
    dim = axis if axis is not None else axisa
    return torch.linalg.cross(a, b, dim=dim)


def vdot(x1, x2):
    """Dot product of the flattened inputs."""
    a, b = _t(x1), _t(x2)
    return torch.dot(a.reshape(-1), b.reshape(-1).to(a.device))


def take_along_axis(x, indices, axis=None):
    """Picks ``x`` values at ``indices`` along ``axis`` (NumPy's ``take_along_axis``)."""
    x, indices = _t(x), _t(indices).long()
    if axis is None:
        return torch.gather(x.reshape(-1), 0, indices.reshape(-1).to(x.device))
    return torch.gather(x, axis, indices.to(x.device))


def meshgrid(*xs, indexing="xy"):
    """Coordinate grids from 1D coordinate vectors."""
    return list(torch.meshgrid(*[_t(x) for x in xs], indexing=indexing))


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below diagonal ``k``, zeros above."""
    M = N if M is None else M
    return torch.tril(torch.ones((N, M), dtype=config.torch_dtype(dtype), device=config.get_device()), k)


def searchsorted(sorted_sequence, values, side="left"):
    """Indices where ``values`` would be inserted to keep ``sorted_sequence`` sorted (int32)."""
    seq, vals = _t(sorted_sequence), _t(values)
    return torch.searchsorted(seq, vals.to(seq.device), right=side == "right").to(torch.int32)


def digitize(x, bins):
    """The index of the bin each value falls in (``bins`` increasing; int32)."""
    x, bins = _t(x), _t(bins)
    return torch.bucketize(x, bins.to(x.device), right=True).to(torch.int32)


def nonzero(x):
    """The indices of non-zero elements, one tensor per axis."""
    return tuple(torch.nonzero(_t(x), as_tuple=True))


def ravel(x):
    """The flattened tensor."""
    return _t(x).reshape(-1)


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list."""
    return list(torch.unbind(_t(x), dim=axis))


def stop_gradient(variable):
    """The same values, with no gradient flowing back."""
    return _t(variable).detach()


def select(condlist, choicelist, default=0):
    """Elementwise: the choice of the first true condition, else ``default``."""
    out = torch.as_tensor(default)
    choices = [_t(c) for c in choicelist]
    out = torch.broadcast_to(out.to(choices[0].dtype).to(choices[0].device), choices[0].shape)
    for cond, choice in reversed(list(zip(condlist, choices))):
        out = torch.where(_t(cond).to(choice.device).bool(), choice, out)
    return out


# ------------------------------------------------------------------ NaN-aware reductions and more
def _nan_reduce(fn, x, axis, keepdims, fill):
    x = _float(x)
    mask = torch.isnan(x)
    return fn(torch.where(mask, torch.full_like(x, fill), x), mask, axis, keepdims)


def nansum(x, axis=None, keepdims=False):
    """Sum along ``axis`` ignoring NaNs."""
    return _reduce(lambda t, a, k=False: torch.nansum(t, dim=a, keepdim=k), _float(x), axis, keepdims)


def nanmean(x, axis=None, keepdims=False):
    """Mean along ``axis`` ignoring NaNs."""
    return _reduce(lambda t, a, k=False: torch.nanmean(t, dim=a, keepdim=k), _float(x), axis, keepdims)


def nanmax(x, axis=None, keepdims=False):
    """Maximum along ``axis`` ignoring NaNs (NaN where a slice is all NaN)."""
    x = _float(x)
    out = amax(torch.where(torch.isnan(x), torch.full_like(x, -float("inf")), x), axis, keepdims)
    return torch.where(all(torch.isnan(x), axis, keepdims), torch.full_like(out, float("nan")), out)


def nanmin(x, axis=None, keepdims=False):
    """Minimum along ``axis`` ignoring NaNs (NaN where a slice is all NaN)."""
    x = _float(x)
    out = amin(torch.where(torch.isnan(x), torch.full_like(x, float("inf")), x), axis, keepdims)
    return torch.where(all(torch.isnan(x), axis, keepdims), torch.full_like(out, float("nan")), out)


def nanvar(x, axis=None, keepdims=False):
    """Variance along ``axis`` ignoring NaNs."""
    x = _float(x)
    mean = nanmean(x, axis, keepdims=True)
    return nanmean(torch.square(x - mean), axis, keepdims)


def nanstd(x, axis=None, keepdims=False):
    """Standard deviation along ``axis`` ignoring NaNs."""
    return torch.sqrt(nanvar(x, axis, keepdims))


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentile(s) (``q`` in [0, 100]) along ``axis``."""
    return quantile(x, torch.as_tensor(q, dtype=torch.float64) / 100.0, axis=axis, method=method, keepdims=keepdims)


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``."""
    exponents = linspace(start, stop, num, endpoint=endpoint, dtype="float64")
    return torch.pow(torch.as_tensor(float(base), dtype=torch.float64), exponents).to(config.torch_dtype(dtype))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` numbers spaced evenly on a log scale from ``start`` to ``stop``."""
    import math

    values = logspace(math.log10(float(start)), math.log10(float(stop)), num, endpoint, 10, "float64")
    return values.to(config.torch_dtype(dtype))


erfc = _unary_float(torch.erfc, "The complementary error function, ``1 - erf(x)``.")
sinc = _unary_float(torch.sinc, "Normalized sinc, ``sin(pi x) / (pi x)``.")
isneginf = _unary(torch.isneginf, "True where ``x`` is -inf.")
isposinf = _unary(torch.isposinf, "True where ``x`` is +inf.")
logaddexp2 = _binary_float(torch.logaddexp2, "``log2(2**x1 + 2**x2)`` without overflow.")
heaviside = _binary_float(torch.heaviside, "0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0``.")


def real(x):
    """The real part (the tensor itself when real)."""
    x = _t(x)
    return torch.real(x) if x.is_complex() else x


def imag(x):
    """The imaginary part (zeros when real)."""
    x = _t(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(x)


def isin(x1, x2, assume_unique=False, invert=False):
    """True where an element of ``x1`` occurs in ``x2``."""
    a, b = _t(x1), _t(x2)
    return torch.isin(a, b.to(a.device), assume_unique=assume_unique, invert=invert)


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts (or weight sums) of each non-negative integer value in ``x`` (1D, or per row of 2D)."""
    x = _t(x).long()
    w = None if weights is None else _t(weights).to(x.device)
    length = builtins.max(int(x.max()) + 1 if x.numel() else 0, int(minlength))
    if x.ndim == 2:
        counts = torch.stack(
            [torch.bincount(r, weights=None if w is None else w[i], minlength=length) for i, r in enumerate(x)]
        )
    else:
        counts = torch.bincount(x, weights=w, minlength=length)
    return counts.to(torch.int32) if w is None else counts.to(w.dtype)  # Keras: int32 counts


def array_split(x, indices_or_sections, axis=0):
    """Splits into ``indices_or_sections`` parts of (almost) equal size, or at the given indices."""
    return list(torch.tensor_split(_t(x), indices_or_sections, dim=axis))


def hsplit(x, indices_or_sections):
    """``split`` along axis 1 (axis 0 for 1D)."""
    return list(torch.hsplit(_t(x), indices_or_sections))


def vsplit(x, indices_or_sections):
    """``split`` along axis 0."""
    return list(torch.vsplit(_t(x), indices_or_sections))


def diagflat(x, k=0):
    """A 2D tensor with the flattened ``x`` on its ``k``-th diagonal."""
    return torch.diagflat(_t(x), offset=k)


def ldexp(x1, x2):
    """``x1 * 2 ** x2``."""
    a, b = _float(x1), _t(x2)
    return torch.ldexp(a, b.to(a.device))


def det(x):
    """Determinant of square matrices (batched)."""
    return torch.linalg.det(_float(x))


def inv(x):
    """Inverse of square matrices (batched)."""
    return torch.linalg.inv(_float(x))


def solve(a, b):
    """The ``x`` with ``a @ x = b``."""
    a, b = _float(a), _float(b)
    return torch.linalg.solve(a, b.to(a.device))


def slogdet(x):
    """``(sign, log|det|)`` of square matrices."""
    sign, logabsdet = torch.linalg.slogdet(_float(x))
    return sign, logabsdet


__all__ = [
    name
    for name, value in list(globals().items())
    if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == __name__
]
