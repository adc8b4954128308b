"""strided.ops vs keras.ops (real Keras 3, torch backend) for linear algebra, FFT/STFT and windows,
segment reductions, scatter/slice updates, NaN statistics, complex helpers, im2col, rearrange and
control flow: values, dtypes and shapes; gradients by gradcheck; one bad argument per family.

Where Keras's torch backend departs from NumPy/TensorFlow, strided follows them and is checked
against NumPy or by hand: ``nextafter`` (Keras-torch rounds through float64 and returns ``x1`` for
float32 inputs), ``argpartition`` (Keras-torch casts the input to int32; any valid partition is
accepted), ``saturate_cast`` float32 -> int32 (Keras-torch wraps large values to -2**31) and the
``dtype`` argument of ``nancumsum``/``nancumprod`` (ignored by Keras-torch).
"""

import warnings

import numpy as np
import pytest
import torch

from strided import ops

RNG = np.random.default_rng(7)


def f32(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, shape).astype("float32")


def to_np(t):
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu()
        return t.numpy()
    return np.asarray(t)


def leaves(out):
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in leaves(item)]
    if isinstance(out, dict):
        return [leaf for key in sorted(out) for leaf in leaves(out[key])]
    return [out]


def assert_same(ours, theirs, label, rtol=1e-5, atol=1e-5):
    a, b = leaves(ours), leaves(theirs)
    assert len(a) == len(b), (label, len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        x, y = to_np(x), to_np(y)
        assert x.shape == y.shape, (label, i, x.shape, y.shape)
        assert x.dtype == y.dtype, (label, i, x.dtype, y.dtype)
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"{label} output {i}")


_M = f32(4, 4)
_SPD = (_M @ _M.T + 4 * np.eye(4)).astype("float32")
_SPD_B = np.stack([_SPD, _SPD + np.eye(4, dtype="float32")])
_TALL = f32(6, 3)
_WIDE = f32(3, 5)
_LOW = np.tril(_M + 3 * np.eye(4, dtype="float32"))
_RANK2 = (f32(5, 2) @ f32(2, 4)).astype("float32")
_SYM = (_M + _M.T).astype("float32")

LINALG_CASES = [
    ("cholesky", (_SPD,), {}),
    ("cholesky", (_SPD_B,), {"upper": True}),
    ("cholesky_inverse", (np.linalg.cholesky(_SPD).astype("float32"),), {}),
    ("cholesky_inverse", (np.linalg.cholesky(_SPD).T.copy(),), {"upper": True}),
    ("eig", (_SPD,), {}),
    ("eigh", (_SYM,), {}),
    ("eigh", (_SPD_B,), {}),
    ("logdet", (_SPD,), {}),
    ("logdet", (_SPD_B,), {}),
    ("lstsq", (_TALL, f32(6, 2)), {}),
    ("lstsq", (_TALL, f32(6)), {}),
    ("lstsq", (_TALL, f32(6, 2)), {"rcond": 1e-3}),
    ("lu_factor", (_M,), {}),
    ("lu_factor", (_TALL,), {}),
    ("lu_factor", (_SPD_B,), {}),
    ("matrix_rank", (_RANK2,), {}),
    ("matrix_rank", (_SPD,), {}),
    ("matrix_rank", (_RANK2,), {"tol": 0.5}),
    ("pinv", (_TALL,), {}),
    ("pinv", (_RANK2,), {"rcond": 1e-4}),
    ("qr", (_TALL,), {}),
    ("qr", (_TALL,), {"mode": "complete"}),
    ("qr", (_WIDE,), {}),
    ("solve_triangular", (_LOW, f32(4, 2)), {"lower": True}),
    ("solve_triangular", (_LOW.T.copy(), f32(4)), {}),
    ("svd", (_TALL,), {}),
    ("svd", (_TALL,), {"full_matrices": False}),
    ("svd", (_WIDE,), {"compute_uv": False}),
    ("det", (_SPD_B,), {}),
    ("inv", (_SPD,), {}),
    ("solve", (_SPD, f32(4, 3)), {}),
    ("norm", (_TALL,), {}),
    ("norm", (_TALL,), {"ord": "fro", "axis": (0, 1)}),
]

_SIG = f32(2, 40)
_RE, _IM = f32(3, 8), f32(3, 8)
_SPEC_RE, _SPEC_IM = f32(2, 6, 9), f32(2, 6, 9)
SIGNAL_CASES = [
    ("fft", ((_RE, _IM),), {}),
    ("fft2", ((_RE, _IM),), {}),
    ("ifft2", ((_RE, _IM),), {}),
    ("rfft", (_SIG,), {}),
    ("rfft", (_SIG,), {"fft_length": 16}),
    ("rfft", (_SIG[0],), {"fft_length": 64}),
    ("irfft", ((_RE[:, :5], _IM[:, :5]),), {}),
    ("irfft", ((_RE, _IM),), {"fft_length": 10}),
    ("stft", (_SIG, 16, 4, 16), {}),
    ("stft", (_SIG, 12, 5, 16), {"window": "hamming", "center": False}),
    ("stft", (_SIG[0], 8, 3, 8), {"window": None}),
    ("stft", (f32(2, 2, 30), 10, 5, 16), {"window": f32(10, low=0)}),
    ("stft", (_SIG.astype("float64"), 16, 8, 32), {}),
    ("istft", ((_SPEC_RE, _SPEC_IM), 16, 4, 16), {}),
    ("istft", ((_SPEC_RE, _SPEC_IM), 16, 4, 16), {"length": 20}),
    ("istft", ((_SPEC_RE, _SPEC_IM), 12, 4, 16), {}),
    ("istft", ((_SPEC_RE, _SPEC_IM), 16, 5, 16), {"center": False, "window": "hamming"}),
    ("istft", ((_SPEC_RE, _SPEC_IM), 10, 4, 16), {"window": None, "length": 25}),
    *[(name, (n,), {}) for name in ("bartlett", "blackman", "hamming", "hanning") for n in (1, 7, 12)],
    ("kaiser", (9, 5.0), {}),
    ("kaiser", (4, 0.0), {}),
    ("extract_sequences", (_SIG, 8, 3), {}),
    ("extract_sequences", (f32(2, 3, 10), 4, 4), {}),
]

_DATA = f32(7, 3)
_IDS = np.array([0, 0, 2, 1, 1, 1, 2], "int32")
_NAN = f32(4, 5)
_NAN[0, 1] = _NAN[2, 3] = _NAN[3, 0] = np.nan
_NAN[1] = np.nan
_INT = RNG.integers(-5, 9, (3, 4)).astype("int32")
_CPLX = (f32(3, 4) + 1j * f32(3, 4)).astype("complex64")
_IMG = f32(2, 3, 6, 5)
ARRAY_CASES = [
    *[
        (f"segment_{kind}", (_DATA, _IDS), kw)
        for kind in ("sum", "max", "min", "prod")
        for kw in ({}, {"num_segments": 3}, {"num_segments": 3, "sorted": True})
    ],
    ("segment_sum", (_DATA, np.array([0, 1, 5, 1, 0, 2, 2])), {"num_segments": 3}),  # id 5 dropped
    ("segment_sum", (_INT[0], np.array([1, 0, 1, 1])), {}),
    ("segment_max", (f32(6), np.array([0, 0, 1, 1, 2, 2])), {}),
    ("scatter", (np.array([[0, 1], [2, 3], [0, 1]]), np.array([1.0, 2.0, 3.0], "float32"), (3, 4)), {}),
    ("scatter", (np.array([[1], [0]]), f32(2, 4), (3, 4)), {}),
    ("scatter_update", (_DATA, np.array([[0, 1], [3, 2]]), np.array([9.0, -9.0], "float32")), {}),
    ("scatter_update", (_DATA, np.array([[5], [1]]), f32(2, 3)), {}),
    *[
        (
            "scatter_update",
            (_DATA, np.array([[0, 1], [3, 2], [0, 1]]), np.array([0.5, -2.0, 0.7], "float32")),
            {"reduction": r},
        )
        for r in ("add", "max", "min", "mul")
    ],
    ("scatter_update", (_DATA, np.array([[2], [2]]), f32(2, 3)), {"reduction": "max"}),
    ("slice", (_DATA, (1, 0), (3, 2)), {}),
    ("slice", (_IMG, np.array([1, 0, 2, 1]), (1, 3, 2, 4)), {}),
    ("slice_update", (_DATA, (2, 1), f32(3, 2)), {}),
    ("slice_update", (_INT, np.array([1, 2]), _INT[:2, :2]), {}),
    ("unique", (np.array([3, 1, 3, 2, 1, 1]),), {}),
    ("unique", (np.array([3, 1, 3, 2, 1, 1]),), {"return_index": True, "return_inverse": True, "return_counts": True}),
    ("unique", (np.array([[1, 2], [3, 4], [1, 2]]),), {"axis": 0, "return_counts": True}),
    ("unique", (np.array([5, 1, 5, 0]),), {"size": 5, "fill_value": -1}),
    ("unique", (np.array([5, 1, 5, 0, 7, 8]),), {"size": 3, "return_counts": True}),
    ("unravel_index", (np.array([0, 5, 11, 7], "int32"), (3, 4)), {}),
    ("unravel_index", (np.array([[3, 20]], "int32"), (2, 3, 4)), {}),
    ("angle", (_CPLX,), {}),
    ("angle", (f32(3, 4),), {}),
    ("angle", (_INT,), {}),
    ("polar", (f32(3, 4, low=0), f32(3, 4, low=-3, high=3)), {}),
    ("cdist", (f32(5, 3), f32(4, 3)), {}),
    ("cdist", (f32(2, 5, 3), f32(2, 4, 3)), {}),
    ("corrcoef", (f32(3, 10),), {}),
    ("corrcoef", (_INT,), {}),
    *[
        ("correlate", (a, b), {"mode": m})
        for m in ("valid", "same", "full")
        for a, b in ((f32(9), f32(4)), (f32(4), f32(7)))
    ],
    ("correlate", (_INT[0], _INT[1, :3]), {}),
    ("histogram", (f32(50),), {}),
    ("histogram", (f32(50),), {"bins": 4, "range": (-0.5, 0.5)}),
    ("i0", (f32(3, 4, low=-3, high=3),), {}),
    ("i0", (_INT,), {}),
    ("isreal", (_CPLX * np.array([1, 0, 1, 0], "float32"),), {}),
    ("isreal", (f32(3),), {}),
    *[
        (name, (_NAN,), kw)
        for name in ("nanargmax", "nanargmin", "nanmedian", "nanprod")
        for kw in ({}, {"axis": 1}, {"axis": 0, "keepdims": True})
    ],
    ("nanargmax", (_INT,), {"axis": 0}),
    ("nanprod", (_NAN,), {"axis": (0, 1)}),
    ("nanmedian", (_NAN,), {"axis": (0, 1), "keepdims": True}),
    *[(name, (_NAN,), kw) for name in ("nancumsum", "nancumprod") for kw in ({}, {"axis": 1}, {"axis": 0})],
    ("nancumsum", (_INT,), {"axis": 1}),
    ("nancumprod", (_NAN,), {"axis": 1, "dtype": "float32"}),
    ("nanquantile", (_NAN, 0.3), {}),
    ("nanquantile", (_NAN, [0.1, 0.8]), {"axis": 1}),
    ("nanquantile", (_NAN, 0.5), {"axis": 0, "method": "nearest", "keepdims": True}),
    ("nanquantile", (_NAN, [0.25]), {"axis": (0, 1), "method": "midpoint"}),
    ("nanpercentile", (_NAN, 40), {"axis": 1}),
    ("nanpercentile", (_NAN, [10, 90]), {"method": "lower"}),
    ("trapezoid", (f32(3, 6),), {}),
    ("trapezoid", (f32(3, 6),), {"dx": 0.5, "axis": 0}),
    ("trapezoid", (f32(3, 6), np.cumsum(f32(6, low=0.1))), {}),
    ("vander", (f32(4),), {}),
    ("vander", (f32(4),), {"N": 6, "increasing": True}),
    ("vander", (_INT[0],), {}),
    ("dsplit", (f32(2, 3, 6),), {"indices_or_sections": 3}),
    ("dsplit", (f32(2, 3, 6), [1, 4]), {}),
    ("view_as_complex", (f32(3, 4, 2),), {}),
    ("view_as_real", (_CPLX,), {}),
    ("saturate_cast", (np.array([-300.5, -1.5, 0.4, 200.7, 1e10], "float32"), "uint8"), {}),
    ("saturate_cast", (np.array([-3e9, 3e9, 5.5, -7.9], "float32"), "int64"), {}),
    ("saturate_cast", (np.array([-70000, 5, 40000], "int32"), "int16"), {}),
    ("saturate_cast", (np.array([1e39, -1e39, 2.0]), "float32"), {}),
    ("unfold", (torch.from_numpy(_IMG), 2), {}),  # Keras's unfold/fold take tensors only
    ("unfold", (torch.from_numpy(_IMG), (3, 2)), {"dilation": (1, 2), "padding": 1, "stride": 2}),
    ("fold", (torch.from_numpy(f32(2, 12, 20)), (5, 6), 2), {}),
    ("fold", (torch.from_numpy(f32(1, 18, 9)), (6, 5), 3), {"padding": 1, "stride": 2}),
    ("rearrange", (_IMG, "b c h w -> b h w c"), {}),
    ("rearrange", (_IMG, "b c h w -> (b c) (h w)"), {}),
    ("rearrange", (f32(2, 4, 6, 3), "b (h p1) (w p2) c -> b h w (p1 p2 c)"), {"p1": 2, "p2": 2}),
    ("rearrange", (f32(6, 4), "(a b) c -> b c a"), {"a": 2}),
]


@pytest.mark.parametrize(
    "name, args, kwargs",
    LINALG_CASES + SIGNAL_CASES + ARRAY_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(LINALG_CASES + SIGNAL_CASES + ARRAY_CASES)],
)
def test_ops_match_keras(real_keras, name, args, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(real_keras.ops, name)(*args, **kwargs)
        ours = getattr(ops, name)(*args, **kwargs)
    assert_same(ours, theirs, name, rtol=1e-4 if name in ("pinv", "lstsq", "istft", "i0") else 1e-5)


def test_linalg_namespace_is_keras_ops_linalg(real_keras):
    keras_names = {n for n in dir(real_keras.ops.linalg) if not n.startswith("_")}
    assert keras_names <= set(dir(ops.linalg)), keras_names - set(dir(ops.linalg))
    assert_same(ops.linalg.qr(_TALL), real_keras.ops.linalg.qr(_TALL), "linalg.qr")


def test_dtype_view_get_item_match_keras(real_keras):
    for x in (_DATA, _INT, torch.zeros(2, dtype=torch.float64), np.zeros(2, "bool")):
        assert ops.dtype(x) == real_keras.ops.dtype(x)
    assert_same(ops.view(_DATA, "int32"), real_keras.ops.view(_DATA, "int32"), "view")
    assert_same(ops.get_item(_DATA, 2), real_keras.ops.get_item(_DATA, 2), "get_item")


def test_saturate_cast_and_nancumsum_dtype_follow_tensorflow_and_numpy():
    # Keras-torch clips float32 -> int32 with a bound that rounds to 2**31 and wraps to -2**31;
    # strided saturates as TensorFlow does (to the largest float32 below 2**31).
    out = ops.saturate_cast(np.array([-3e9, 3e9, 5.7, np.inf, -np.inf], "float32"), "int32")
    assert out.dtype == torch.int32
    np.testing.assert_array_equal(to_np(out), [-(2**31), 2**31 - 128, 5, 2**31 - 128, -(2**31)])
    np.testing.assert_array_equal(to_np(ops.saturate_cast(np.array([-1.0, 2.5, 300.0]), "uint8")), [0, 2, 255])
    # dtype= is honoured (NumPy); Keras-torch returns float32 here
    out = ops.nancumsum(_NAN, axis=1, dtype="float64")
    assert out.dtype == torch.float64
    np.testing.assert_allclose(to_np(out), np.nancumsum(_NAN.astype("float64"), axis=1), rtol=1e-12)
    np.testing.assert_allclose(to_np(ops.nancumprod(_NAN)), np.nancumprod(_NAN), rtol=1e-5)


def test_nextafter_and_argpartition_follow_numpy():
    a, b = f32(10), f32(10)
    out = ops.nextafter(a, b)
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(to_np(out), np.nextafter(a, b))
    a64 = a.astype("float64")
    np.testing.assert_array_equal(to_np(ops.nextafter(a64, 2.0)), np.nextafter(a64, 2.0))
    x = f32(4, 9)
    for kth, axis in ((3, -1), (0, 1), (2, 0), (5, None)):
        idx = to_np(ops.argpartition(x, kth, axis=axis)).astype(np.int64)
        assert idx.dtype == np.int64 and to_np(ops.argpartition(x, kth)).dtype == np.int32
        vals = np.take_along_axis(x, idx, axis=axis) if axis is not None else x.reshape(-1)[idx]
        ref = np.partition(x, kth, axis=axis)
        ax = -1 if axis is None else axis
        pivot = np.take(ref, [kth], axis=ax)
        np.testing.assert_array_equal(np.take(vals, [kth], axis=ax), pivot)
        assert np.all(np.take(vals, range(kth), axis=ax) <= pivot)
        assert np.all(np.take(vals, range(kth + 1, vals.shape[ax]), axis=ax) >= pivot)


def test_stft_istft_round_trip():
    x = torch.from_numpy(f32(2, 64)).double()
    for length, stride, fft_length, window in ((16, 4, 16, "hann"), (12, 3, 16, "hamming"), (16, 8, 32, "hann")):
        spec = ops.stft(x, length, stride, fft_length, window=window)
        back = ops.istft(spec, length, stride, fft_length, length=64, window=window)
        np.testing.assert_allclose(to_np(back)[:, 8:-8], to_np(x)[:, 8:-8], atol=1e-9)


# ----------------------------------------------------------------------------- control flow
def test_control_flow_matches_keras(real_keras):
    k = real_keras.ops
    x = torch.from_numpy(f32(5, 3))
    assert_same(ops.cond(True, lambda: x * 2, lambda: x), k.cond(True, lambda: x * 2, lambda: x), "cond")
    assert_same(
        ops.cond(torch.tensor(False), lambda: x * 2, lambda: x - 1),
        k.cond(torch.tensor(False), lambda: x * 2, lambda: x - 1),
        "cond tensor",
    )
    branches = [lambda a: a + 1, lambda a: a * 3, lambda a: -a]
    for i in (-4, 0, 1, 2, 7):
        assert_same(ops.switch(i, branches, x), k.switch(i, branches, x), f"switch {i}")
    assert_same(
        ops.fori_loop(0, 5, lambda i, v: v * 1.5 + i, x), k.fori_loop(0, 5, lambda i, v: v * 1.5 + i, x), "fori_loop"
    )

    def body(i, v):
        return i + 1, v * 2

    def cond_fn(i, v):
        return i < 4

    assert_same(ops.while_loop(cond_fn, body, (0, x)), k.while_loop(cond_fn, body, (0, x)), "while_loop")
    assert_same(
        ops.while_loop(cond_fn, body, (0, x), maximum_iterations=2),
        k.while_loop(cond_fn, body, (0, x), maximum_iterations=2),
        "while_loop max",
    )
    assert_same(
        ops.while_loop(lambda v: v.sum() < 100, lambda v: v + 1, torch.ones(3)),
        k.while_loop(lambda v: v.sum() < 100, lambda v: v + 1, torch.ones(3)),
        "while_loop single",
    )

    def step(carry, xi):
        return carry + xi, carry * xi

    for kw in ({}, {"reverse": True}):
        assert_same(ops.scan(step, torch.zeros(3), x, **kw), k.scan(step, torch.zeros(3), x, **kw), f"scan {kw}")
    nested = {"a": x, "b": x[:, :2]}
    step2 = lambda c, e: ((c[0] + e["a"].sum(), c[1] * 2), {"s": e["a"] - e["b"].mean()})
    assert_same(
        ops.scan(step2, (torch.tensor(0.0), torch.tensor(1.0)), nested),
        k.scan(step2, (torch.tensor(0.0), torch.tensor(1.0)), nested),
        "scan nested",
    )
    assert_same(
        ops.scan(lambda c, _: (c + 1, c * c), torch.tensor(2.0), length=4),
        k.scan(lambda c, _: (c + 1, c * c), torch.tensor(2.0), length=4),
        "scan length",
    )
    for n in (1, 2, 5, 8, 13):
        e = torch.from_numpy(f32(n, 2))
        for kw in ({}, {"reverse": True}):
            assert_same(
                ops.associative_scan(torch.add, e, **kw),
                k.associative_scan(torch.add, e, **kw),
                f"associative_scan {n} {kw}",
            )
    e = torch.from_numpy(f32(3, 6, low=0.5, high=1.5))
    assert_same(
        ops.associative_scan(torch.mul, e, axis=1), k.associative_scan(torch.mul, e, axis=1), "associative_scan axis=1"
    )
    pair = (torch.from_numpy(f32(7)), torch.from_numpy(f32(7)))
    affine = lambda p, q: (p[0] * q[0], p[1] * q[0] + q[1])  # composition of affine maps: associative
    assert_same(ops.associative_scan(affine, pair), k.associative_scan(affine, pair), "associative_scan tuple")
    assert_same(ops.map(lambda r: r.sum() * r, x), k.map(lambda r: r.sum() * r, x), "map")
    assert_same(ops.vectorized_map(lambda r: r @ r, x), k.vectorized_map(lambda r: r @ r, x), "vectorized_map")
    assert_same(
        ops.vectorized_map(lambda t: t[0] * t[1], (x, x + 1)),
        k.vectorized_map(lambda t: t[0] * t[1], (x, x + 1)),
        "vectorized_map tuple",
    )


def test_vectorize_matches_keras(real_keras):
    k = real_keras.ops
    a, b = torch.from_numpy(f32(4, 3)), torch.from_numpy(f32(3))
    assert_same(ops.vectorize(lambda u, v: u * v + 1)(a, b), k.vectorize(lambda u, v: u * v + 1)(a, b), "vectorize")
    mat, vec = torch.from_numpy(f32(2, 4, 3)), torch.from_numpy(f32(5, 1, 3))
    ours = ops.vectorize(torch.matmul, signature="(m,n),(n)->(m)")(mat, vec)
    theirs = k.vectorize(torch.matmul, signature="(m,n),(n)->(m)")(mat, vec)
    assert_same(ours, theirs, "vectorize signature")
    assert tuple(ours.shape) == (5, 2, 4)
    assert_same(ops.vectorize(lambda u, p: u**p, excluded={1})(a, 2), np.asarray(a) ** 2, "vectorize excluded")


def test_custom_gradient_matches_keras(real_keras):
    def log1pexp(x):
        e = torch.exp(x)

        def grad(*args, upstream=None):
            return upstream * (1 - 1 / (1 + e))

        return torch.log(1 + e), grad

    x = torch.tensor([0.0, 100.0, -3.0], requires_grad=True)
    ops.custom_gradient(log1pexp)(x).sum().backward()
    ours = x.grad.clone()
    x.grad = None
    real_keras.ops.custom_gradient(log1pexp)(x).sum().backward()
    assert_same(ours, x.grad, "custom_gradient")
    np.testing.assert_allclose(to_np(ours), [0.5, 1.0, 1 / (1 + np.exp(3))], rtol=1e-6)


def test_jvp_matches_keras(real_keras):
    f = lambda a, b: torch.sin(a) * b
    p = (torch.from_numpy(f32(4)), torch.from_numpy(f32(4)))
    t = (torch.ones(4), torch.zeros(4))
    assert_same(ops.jvp(f, p, t), real_keras.ops.jvp(f, p, t), "jvp")
    np.testing.assert_allclose(to_np(ops.jvp(f, p, t)[1]), np.cos(to_np(p[0])) * to_np(p[1]), rtol=1e-6)


# ----------------------------------------------------------------------------- gradients
def _d(*shape, low=-1.0, high=1.0):
    return torch.from_numpy(RNG.uniform(low, high, shape)).requires_grad_(True)


def test_gradients_by_gradcheck():
    spd = torch.from_numpy(_SPD.astype("float64"))
    checks = {
        "cholesky": (lambda m: ops.cholesky(m @ m.mT + 4 * torch.eye(4, dtype=m.dtype)), (_d(4, 4),)),
        "solve_triangular": (
            lambda a, b: ops.solve_triangular(torch.tril(a) + 3 * torch.eye(3, dtype=a.dtype), b, lower=True),
            (_d(3, 3), _d(3, 2)),
        ),
        "logdet": (lambda m: ops.logdet(m @ m.mT + spd), (_d(4, 4),)),
        "pinv": (ops.pinv, (_d(5, 3),)),
        "segment_sum": (lambda d: ops.segment_sum(d, _IDS, num_segments=3), (_d(7, 3),)),
        "segment_max": (lambda d: ops.segment_max(d, _IDS, num_segments=3), (_d(7, 3),)),
        "cdist": (ops.cdist, (_d(4, 3), _d(5, 3))),
        "correlate": (lambda a, b: ops.correlate(a, b, mode="full"), (_d(6), _d(3))),
        "rfft": (lambda s: ops.rfft(s, fft_length=10), (_d(2, 8),)),
        "stft": (lambda s: ops.stft(s, 8, 4, 8), (_d(1, 24),)),
        "istft": (lambda r, i: ops.istft((r, i), 8, 2, 8), (_d(6, 5), _d(6, 5))),
        "polar": (lambda r, t: torch.view_as_real(ops.polar(r, t)), (_d(4, low=0.5), _d(4))),
        "scatter_update": (lambda a, u: ops.scatter_update(a, [[0], [2]], u, reduction="add"), (_d(3, 2), _d(2, 2))),
        "rearrange": (lambda a: ops.rearrange(a, "(a b) c -> c (b a)", a=2), (_d(4, 3),)),
        "trapezoid": (lambda y, x: ops.trapezoid(y, x), (_d(3, 5), _d(5))),
        "nanquantile": (lambda a: ops.nanquantile(a, [0.2, 0.7], axis=1), (_d(3, 6),)),
        "fold": (lambda c: ops.fold(c, (4, 4), 2, stride=1), (_d(1, 8, 9),)),
        "scan": (lambda a: ops.scan(lambda c, r: (c * r, c + r), torch.ones(3, dtype=a.dtype), a)[1], (_d(4, 3),)),
        "associative_scan": (lambda a: ops.associative_scan(torch.mul, a), (_d(7, 2),)),
    }
    for name, (fn, inputs) in checks.items():
        assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5), name


# ----------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda: ops.cholesky(_TALL), ValueError, "(6, 3)"),
        (lambda: ops.cholesky(-_SPD), ValueError, "positive-definite"),
        (lambda: ops.svd(f32(3)), ValueError, "(3,)"),
        (lambda: ops.qr(_TALL, mode="full"), ValueError, "mode='full'"),
        (lambda: ops.lstsq(_TALL, f32(5)), ValueError, "b.shape=(5,)"),
        (lambda: ops.solve_triangular(_LOW, f32(3, 2)), ValueError, "b.shape=(3, 2)"),
        (lambda: ops.fft(_RE), ValueError, "tuple of two tensors"),
        (lambda: ops.fft((_RE, _IM[:2])), ValueError, "x[1].shape = (2, 8)"),
        (lambda: ops.stft(_SIG, 16, 4, 16, window="boxcar"), ValueError, "window='boxcar'"),
        (lambda: ops.stft(_SIG, 16, 4, 8), ValueError, "fft_length=8"),
        (lambda: ops.stft(_INT, 2, 1, 2), TypeError, "int32"),
        (lambda: ops.extract_sequences(_SIG, 8, 0), ValueError, "sequence_stride=0"),
        (lambda: ops.segment_sum(_DATA, _IDS[:, None]), ValueError, "(7, 1)"),
        (lambda: ops.segment_max(_DATA, _IDS[:5]), ValueError, "(5,)"),
        (lambda: ops.scatter_update(_DATA, [[0, 1]], [1.0], reduction="avg"), ValueError, "reduction='avg'"),
        (lambda: ops.slice(_DATA, (0,), (1, 1)), ValueError, "start_indices=[0]"),
        (lambda: ops.histogram(f32(5), bins=2.5), TypeError, "bins=2.5"),
        (lambda: ops.histogram(f32(5), range=(1, 0)), ValueError, "range=(1, 0)"),
        (lambda: ops.nanquantile(_NAN, 0.5, method="cubic"), ValueError, "method='cubic'"),
        (lambda: ops.correlate(f32(4), f32(2), mode="circular"), ValueError, "mode='circular'"),
        (lambda: ops.vander(_DATA), ValueError, "(7, 3)"),
        (lambda: ops.cdist(f32(3, 2), f32(3, 4)), ValueError, "y.shape=(3, 4)"),
        (lambda: ops.view_as_complex(f32(3, 3)), ValueError, "(3, 3)"),
        (lambda: ops.unfold(f32(3, 4, 4), 2), ValueError, "(3, 4, 4)"),
        (lambda: ops.fold(_IMG, 4, 2), ValueError, "(2, 3, 6, 5)"),
        (lambda: ops.rearrange(_IMG, "b c h -> b h c"), ValueError, "(2, 3, 6, 5)"),
        (lambda: ops.rearrange(_IMG, "b c h w -> b h c"), ValueError, "exactly once"),
        (lambda: ops.rearrange(f32(6, 4), "(a b) c -> a b c", a=4), ValueError, "(6, 4)"),
        (lambda: ops.cond(True, 1, lambda: 0), TypeError, "true_fn=1"),
        (lambda: ops.scan(lambda c, x: (c, x), 0.0), ValueError, "length"),
        (lambda: ops.switch(0, []), ValueError, "branches=[]"),
        (lambda: ops.vectorize(3), ValueError, "pyfunc=3"),
        (lambda: ops.vectorize(torch.matmul, signature="m,n->m")(_M, _M[0]), ValueError, "signature='m,n->m'"),
    ],
)
def test_bad_arguments_raise_keras_style_errors(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value), str(info.value)


def test_symbolic_shapes_on_meta_device():
    meta = lambda *s: torch.empty(*s, device="meta")
    assert tuple(ops.rearrange(meta(2, 4, 6, 3), "b (h p) w c -> b h (w p c)", p=2).shape) == (2, 2, 36)
    assert tuple(ops.extract_sequences(meta(2, 40), 8, 4).shape) == (2, 9, 8)
    assert tuple(ops.cdist(meta(2, 5, 3), meta(4, 3)).shape) == (2, 5, 4)
    assert tuple(ops.unfold(meta(2, 3, 6, 5), 2).shape) == (2, 12, 20)
    assert tuple(ops.qr(meta(6, 3))[1].shape) == (3, 3)
    assert tuple(ops.cond(meta(()).bool(), lambda: meta(2), lambda: meta(3)).shape) == (2,)
