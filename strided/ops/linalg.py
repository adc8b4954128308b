"""``keras.ops.linalg`` on torch: decompositions, solvers, ranks and pseudo-inverses.

``strided.ops.linalg`` is this module (Keras's ``keras.ops.linalg`` namespace: ``cholesky``, ``det``,
``eig``, ``qr``, ``svd``...); every name is also in ``strided.ops``. Functions take batches of
matrices ``(..., M, N)``; integer inputs become the float type. Like Keras, the matrix functions
check their input first and raise a ``ValueError`` that echoes the shape (a vector where a matrix is
needed, a non-square matrix where a square one is), instead of a raw torch error.
"""

import torch

from strided.ops.core import convert_to_tensor
from strided.ops.math_ops import det, inv, solve  # noqa: F401  (part of keras.ops.linalg)
from strided.ops.numpy_ops import _float, norm  # noqa: F401

__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "eig",
    "eigh",
    "inv",
    "jvp",
    "logdet",
    "lstsq",
    "lu_factor",
    "matrix_rank",
    "norm",
    "pinv",
    "qr",
    "solve",
    "solve_triangular",
    "svd",
]


def _matrix(x, name="x", square=False):
    """``x`` as a float tensor of rank >= 2 (and square when asked), with Keras's messages."""
    x = _float(x)
    if x.ndim < 2:
        raise ValueError(f"Expected input `{name}` to have rank >= 2. Received input with shape {tuple(x.shape)}.")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(
            f"Expected a square matrix for `{name}`. Received non-square input with shape {tuple(x.shape)}"
        )
    return x


def cholesky(x, upper=False):
    """Cholesky factor of symmetric positive-definite matrices.

    Args:
        x: tensor of shape ``(..., M, M)``, symmetric positive-definite.
        upper: if True, return the upper factor ``U`` (``x = U^H U``); by default the lower
            factor ``L`` (``x = L L^H``).

    Returns:
        A tensor shaped like ``x``.

    Raises:
        ValueError: when ``x`` is not a (batch of) square matrix, or not positive-definite.
    """
    x = _matrix(x, square=True)
    factor, info = torch.linalg.cholesky_ex(x, upper=upper)
    if x.device.type != "meta" and bool(torch.any(info != 0)):
        raise ValueError(
            f"Cholesky decomposition failed: the input is not positive-definite (the leading minor of "
            f"order {int(info.max())} is not positive). Received x with shape {tuple(x.shape)}"
        )
    return factor


def cholesky_inverse(x, upper=False):
    """Inverse of ``A`` given its Cholesky factor.

    Args:
        x: the Cholesky factor of ``A``, shape ``(..., M, M)``: lower triangular (``A = L L^H``), or
            upper triangular when ``upper=True`` (``A = U^H U``).
        upper: whether ``x`` is the upper factor.

    Returns:
        ``A^{-1}``, shaped like ``x``.
    """
    x = _matrix(x, square=True)
    return torch.cholesky_inverse(x, upper=upper)


def eig(x):
    """Eigenvalues and right eigenvectors of general square matrices.

    Args:
        x: tensor of shape ``(..., M, M)``.

    Returns:
        ``(eigenvalues (..., M), eigenvectors (..., M, M))``, complex tensors; column ``i`` of the
        eigenvectors belongs to eigenvalue ``i``.
    """
    return torch.linalg.eig(_matrix(x, square=True))


def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of symmetric (Hermitian) matrices.

    Args:
        x: tensor of shape ``(..., M, M)``; only the lower triangle is read.

    Returns:
        ``(eigenvalues (..., M), eigenvectors (..., M, M))``, real for real input.
    """
    return torch.linalg.eigh(_matrix(x, square=True))


def logdet(x):
    """Natural log of the determinant of Hermitian positive-definite matrices.

    Args:
        x: tensor of shape ``(..., M, M)``.

    Returns:
        A tensor of shape ``(...)``: ``log(det(x))`` (NaN where the determinant is negative).
    """
    return torch.logdet(_matrix(x, square=True))


def lstsq(a, b, rcond=None):
    """Least-squares solution of ``a @ x = b``.

    The smallest-norm ``x`` minimizing ``||b - a @ x||``; for a square full-rank ``a`` the exact
    solution. Only the solution is returned (NumPy's ``lstsq`` also returns residuals, rank and
    singular values).

    Args:
        a: coefficient matrix of shape ``(M, N)``.
        b: right-hand side of shape ``(M,)`` or ``(M, K)``.
        rcond: cut-off ratio: singular values below ``rcond * largest`` count as zero. ``None``
            uses the LAPACK default.

    Returns:
        The solution, of shape ``(N,)`` or ``(N, K)``.
    """
    a, b = _float(a), _float(b)
    b = b.to(device=a.device, dtype=torch.promote_types(a.dtype, b.dtype))
    a = a.to(b.dtype)
    if a.ndim != 2:
        raise ValueError(f"Expected `a` to have rank 2. Received: a.shape={tuple(a.shape)}")
    if b.ndim not in (1, 2):
        raise ValueError(f"Expected `b` to have rank 1 or 2. Received: b.shape={tuple(b.shape)}")
    if b.shape[0] != a.shape[0]:
        raise ValueError(
            f"Expected b.shape[0] to be equal to a.shape[0]. Received: a.shape={tuple(a.shape)}, "
            f"b.shape={tuple(b.shape)}"
        )
    vector = b.ndim == 1
    rhs = b[:, None] if vector else b
    if rcond is None:
        out = torch.linalg.lstsq(a, rhs).solution
    elif a.device.type == "cpu":  # the SVD driver reads rcond as NumPy does
        out = torch.linalg.lstsq(a, rhs, rcond=rcond, driver="gelsd").solution
    else:  # CUDA has no SVD driver: the pseudo-inverse with the same cut-off
        out = torch.linalg.pinv(a, rtol=rcond) @ rhs
    return out[:, 0] if vector else out


def lu_factor(x):
    """LU factorization with partial pivoting, ``P x = L U``.

    Args:
        x: tensor of shape ``(..., M, N)``.

    Returns:
        ``(lu, pivots)``: ``L`` (unit diagonal, not stored) and ``U`` packed in one ``(..., M, N)``
        tensor, and the 0-based pivot row of each step (``(..., min(M, N))``, int32): row ``i`` was
        swapped with row ``pivots[i]``.
    """
    lu, pivots = torch.linalg.lu_factor(_matrix(x))
    return lu, pivots - 1  # LAPACK counts rows from 1


def matrix_rank(x, tol=None):
    """The rank of matrices: the number of singular values above a threshold.

    Args:
        x: tensor of shape ``(..., M, N)``.
        tol: absolute threshold; ``None`` uses ``max(M, N) * eps * largest singular value``.

    Returns:
        An int32 tensor of shape ``(...)``.
    """
    return torch.linalg.matrix_rank(_matrix(x), atol=tol).to(torch.int32)


def pinv(x, rcond=None):
    """Moore-Penrose pseudo-inverse, through the SVD.

    Args:
        x: tensor of shape ``(..., M, N)``.
        rcond: relative cut-off: singular values below ``rcond * largest`` count as zero. ``None``
            uses ``max(M, N) * eps``.

    Returns:
        A tensor of shape ``(..., N, M)``.
    """
    return torch.linalg.pinv(_matrix(x), rtol=rcond)


def qr(x, mode="reduced"):
    """QR decomposition, ``x = Q R`` with orthonormal ``Q`` and upper-triangular ``R``.

    Args:
        x: tensor of shape ``(..., M, N)``.
        mode: ``"reduced"`` (``Q`` is ``(..., M, K)``, ``R`` is ``(..., K, N)``, ``K = min(M, N)``)
            or ``"complete"`` (``Q`` is ``(..., M, M)``, ``R`` is ``(..., M, N)``).

    Returns:
        ``(q, r)``.
    """
    if mode not in ("reduced", "complete"):
        raise ValueError(
            f"`mode` argument value not supported. Expected one of {{'reduced', 'complete'}}. Received: mode={mode!r}"
        )
    return torch.linalg.qr(_matrix(x), mode=mode)


def solve_triangular(a, b, lower=False):
    """Solves ``a @ x = b`` for triangular ``a``.

    Args:
        a: triangular matrices of shape ``(..., M, M)``; only the triangle named by ``lower`` is read.
        b: right-hand sides, ``(..., M, K)``, or ``(..., M)`` (one vector per matrix).
        lower: whether ``a`` is lower triangular (default: upper).

    Returns:
        ``x``, shaped like ``b``.
    """
    a = _matrix(a, "a", square=True)
    b = _float(b)
    if b.ndim < 1:
        raise ValueError(f"Expected `b` to have rank >= 1. Received scalar input b={b}.")
    dtype = torch.promote_types(a.dtype, b.dtype)
    a, b = a.to(dtype), b.to(device=a.device, dtype=dtype)
    vector = b.ndim == a.ndim - 1
    rows = b.shape[-1] if vector else b.shape[-2]
    if rows != a.shape[-1]:
        raise ValueError(
            f"Incompatible shapes between `a` and `b`: b must have {a.shape[-1]} rows. "
            f"Received: a.shape={tuple(a.shape)}, b.shape={tuple(b.shape)}"
        )
    rhs = b.unsqueeze(-1) if vector else b
    out = torch.linalg.solve_triangular(a, rhs, upper=not lower)
    return out.squeeze(-1) if vector else out


def svd(x, full_matrices=True, compute_uv=True):
    """Singular value decomposition, ``x = U diag(S) V^H``.

    Args:
        x: tensor of shape ``(..., M, N)``.
        full_matrices: if True, ``U`` is ``(..., M, M)`` and ``V^H`` ``(..., N, N)``; otherwise
            ``(..., M, K)`` and ``(..., K, N)`` with ``K = min(M, N)``.
        compute_uv: if False, return only the singular values.

    Returns:
        ``(u, s, vh)``, or ``s`` (descending, shape ``(..., K)``) when ``compute_uv=False``.
    """
    x = _matrix(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return torch.linalg.svd(x, full_matrices=full_matrices)


def jvp(fun, primals, tangents, has_aux=False):
    """Jacobian-vector product of ``fun`` at ``primals`` along ``tangents`` (forward mode).

    Args:
        fun: the function; takes as many tensors as ``primals`` holds.
        primals: tuple or list of inputs at which to differentiate.
        tangents: tuple or list of tangent vectors, shaped like ``primals``.
        has_aux: whether ``fun`` returns ``(output, aux)``; ``aux`` is passed through.

    Returns:
        ``(fun(*primals), jvp)``, or ``(fun(*primals), jvp, aux)`` when ``has_aux``.
    """
    if not callable(fun):
        raise TypeError(f"`fun` should be a callable. Received: fun={fun!r}")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            f"`primals` and `tangents` must be tuples or lists. Received: primals={type(primals)}, "
            f"tangents={type(tangents)}"
        )
    primals = tuple(convert_to_tensor(p) for p in primals)
    tangents = tuple(convert_to_tensor(t).to(device=p.device, dtype=p.dtype) for p, t in zip(primals, tangents))
    return torch.func.jvp(fun, primals, tangents, has_aux=has_aux)
