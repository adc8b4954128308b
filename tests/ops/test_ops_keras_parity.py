"""strided.ops vs keras.ops (real Keras 3, torch backend) on random configurations, to 1e-5.

Two known deviations of Keras's *torch backend* from TensorFlow (which strided follows, and which
``tests/ops/test_reference.py`` pins with goldens and the adjoint identity) are excluded:
- average_pool 'same' with asymmetric padding: Keras-torch pads by replicating edge pixels and
  then counts them, TF averages only the real pixels; the two agree only for pool size <= 2.
- conv_transpose where Keras-torch warns "inconsistencies across backends" or clamps the output
  padding (torch padding and output padding both > 0).
"""

import random
import warnings

import numpy as np
import pytest
import torch

from strided import ops
from strided.utils import conv_utils

N_CONFIGS = 40
ATOL = RTOL = 1e-5


def to_np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def close(a, b, label):
    np.testing.assert_allclose(to_np(a), to_np(b), rtol=RTOL, atol=ATOL, err_msg=label)


def configs(seed, ranks=(1, 2, 3)):
    r = random.Random(seed)
    for _ in range(N_CONFIGS):
        rank = r.choice(ranks)
        k = r.randint(1, 4 if rank < 3 else 3)
        s = r.randint(1, 3)
        d = r.randint(1, 2) if s == 1 else 1  # Keras refuses strides > 1 with dilation > 1
        pad = r.choice(["valid", "same"])
        fmt = r.choice(["channels_last", "channels_first"])
        sizes = tuple(r.randint(max(5, (k - 1) * d + 1), 9 if rank < 3 else 6) for _ in range(rank))
        yield rank, k, s, d, pad, fmt, sizes


def data(shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, size=shape).astype(np.float32)


def spatial_first(shape, fmt, channels):
    return (shape[0], channels, *shape[1:]) if fmt == "channels_first" else (*shape, channels)


def test_conv_parity(real_keras):
    for i, (rank, k, s, d, pad, fmt, sizes) in enumerate(configs(1)):
        x = data(spatial_first((2, *sizes), fmt, 4), i)
        groups = 2 if i % 4 == 0 else 1
        kernel = data((*(k,) * rank, 4 // groups, 6), 100 + i)
        label = f"conv rank={rank} k={k} s={s} d={d} {pad} {fmt} groups={groups}"
        close(ops.conv(x, kernel, s, pad, fmt, d), real_keras.ops.conv(x, kernel, s, pad, fmt, d), label)


def test_depthwise_and_separable_parity(real_keras):
    for i, (rank, k, s, d, pad, fmt, sizes) in enumerate(configs(2, ranks=(1, 2))):
        x = data(spatial_first((2, *sizes), fmt, 3), i)
        dk = data((*(k,) * rank, 3, 2), 100 + i)
        pk = data((*(1,) * rank, 6, 5), 200 + i)
        label = f"rank={rank} k={k} s={s} d={d} {pad} {fmt}"
        close(
            ops.depthwise_conv(x, dk, s, pad, fmt, d),
            real_keras.ops.depthwise_conv(x, dk, s, pad, fmt, d),
            "depthwise " + label,
        )
        close(
            ops.separable_conv(x, dk, pk, s, pad, fmt, d),
            real_keras.ops.separable_conv(x, dk, pk, s, pad, fmt, d),
            "separable " + label,
        )


def test_conv_transpose_parity(real_keras):
    compared = 0
    for i, (rank, k, s, d, pad, fmt, sizes) in enumerate(configs(3)):
        sizes = tuple(max(2, n // 2) for n in sizes)
        x = data(spatial_first((2, *sizes), fmt, 3), i)
        kernel = data((*(k,) * rank, 4, 3), 100 + i)
        op = None if i % 3 else random.Random(i).randrange(s)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            expected = real_keras.ops.conv_transpose(x, kernel, s, pad, op, fmt, d)
        if any("inconsisten" in str(w.message) or "Clamping" in str(w.message) for w in caught):
            continue
        compared += 1
        close(
            ops.conv_transpose(x, kernel, s, pad, op, fmt, d),
            expected,
            f"conv_transpose rank={rank} k={k} s={s} d={d} {pad} op={op} {fmt}",
        )
    assert compared >= N_CONFIGS // 2


def test_pool_parity(real_keras):
    compared = 0
    for i, (rank, k, s, _, pad, fmt, sizes) in enumerate(configs(4)):
        x = data(spatial_first((2, *sizes), fmt, 3), i)
        strides = None if i % 5 == 0 else s
        label = f"pool rank={rank} k={k} s={strides} {pad} {fmt}"
        close(ops.max_pool(x, k, strides, pad, fmt), real_keras.ops.max_pool(x, k, strides, pad, fmt), "max " + label)
        st = k if strides is None else strides
        asymmetric = pad == "same" and any(b != a for b, a in (conv_utils.same_padding(n, k, st) for n in sizes))
        if asymmetric and k > 2:
            continue
        compared += 1
        close(
            ops.average_pool(x, k, strides, pad, fmt),
            real_keras.ops.average_pool(x, k, strides, pad, fmt),
            "average " + label,
        )
    assert compared >= N_CONFIGS // 2


@pytest.mark.parametrize(
    "name",
    [
        "relu",
        "relu6",
        "sigmoid",
        "tanh",
        "softplus",
        "softsign",
        "silu",
        "gelu",
        "elu",
        "selu",
        "leaky_relu",
        "hard_sigmoid",
        "hard_silu",
        "log_sigmoid",
        "softmax",
        "log_softmax",
        "celu",
        "glu",
    ],
)
def test_activation_ops_parity(real_keras, name):
    x = data((3, 4, 6), 0) * 4
    close(getattr(ops, name)(x), getattr(real_keras.ops, name)(x), name)


# ----------------------------------------------------------------------------- the NumPy-like ops
_RNG = np.random.default_rng(21)
_A = _RNG.uniform(-0.9, 0.9, (3, 4)).astype("float32")
_B = _RNG.uniform(0.1, 2.0, (3, 4)).astype("float32")
_I = _RNG.integers(1, 20, (3, 4)).astype("int32")
_J = _RNG.integers(1, 5, (3, 4)).astype("int32")
_SQ = _RNG.uniform(-1, 1, (4, 4)).astype("float32")
_V3 = _RNG.uniform(-1, 1, (2, 3)).astype("float32")

MATH_CASES = [
    *[
        (name, (_A,), {})
        for name in (
            "sin",
            "cos",
            "tan",
            "arcsin",
            "arccos",
            "arctan",
            "sinh",
            "cosh",
            "arcsinh",
            "arctanh",
            "expm1",
            "exp2",
            "log1p",
            "erf",
            "erfinv",
            "cbrt",
            "deg2rad",
            "rad2deg",
            "absolute",
            "fabs",
            "negative",
            "trunc",
            "isnan",
            "isinf",
            "isfinite",
            "signbit",
            "conjugate",
            "copy",
            "ravel",
            "flipud",
            "fliplr",
        )
    ],
    *[(name, (_B,), {}) for name in ("log2", "log10", "rsqrt", "reciprocal")],
    ("arccosh", (_B + 1,), {}),
    ("cos", (_I,), {}),
    ("log1p", (_I,), {}),  # integers become floatx
    *[
        (name, (_A, _B), {})
        for name in (
            "arctan2",
            "hypot",
            "logaddexp",
            "true_divide",
            "fmax",
            "fmin",
            "mod",
            "fmod",
            "floor_divide",
            "logical_xor",
            "isclose",
            "allclose",
            "append",
            "outer",
            "inner",
            "divide_no_nan",
        )
    ],
    *[
        (name, (_I, _J), {})
        for name in (
            "bitwise_and",
            "bitwise_or",
            "bitwise_xor",
            "left_shift",
            "right_shift",
            "gcd",
            "lcm",
            "floor_divide",
            "mod",
        )
    ],
    ("bitwise_invert", (_I,), {}),
    ("divide_no_nan", (_A, np.where(_B > 1, _B, 0).astype("float32")), {}),
    *[
        (name, (_A,), kw)
        for name in ("all", "any", "amax", "amin", "ptp")
        for kw in ({}, {"axis": 1}, {"axis": 0, "keepdims": True})
    ],
    ("count_nonzero", (np.where(_A > 0, _A, 0),), {"axis": 1}),
    ("count_nonzero", (np.where(_A > 0, _A, 0),), {}),
    ("cumprod", (_A,), {"axis": 1}),
    ("cumprod", (_A,), {}),
    ("median", (_A,), {}),
    ("median", (_A,), {"axis": 1, "keepdims": True}),
    ("median", (_A,), {"axis": 0}),
    ("quantile", (_A, 0.3), {"axis": 1}),
    ("quantile", (_A, [0.1, 0.9]), {}),
    ("quantile", (_A, 0.25), {"axis": (0, 1)}),
    ("average", (_A,), {"axis": 1}),
    ("average", (_A,), {"axis": 1, "weights": _B[0]}),
    ("diff", (_A,), {}),
    ("diff", (_A,), {"n": 2, "axis": 0}),
    ("trace", (_SQ,), {}),
    ("trace", (_SQ,), {"offset": 1}),
    ("flip", (_A,), {}),
    ("flip", (_A,), {"axis": 1}),
    ("roll", (_A, 2), {}),
    ("roll", (_A, -1), {"axis": 1}),
    ("rot90", (_A,), {}),
    ("rot90", (_A,), {"k": 3}),
    ("tril", (_SQ,), {"k": -1}),
    ("triu", (_SQ,), {}),
    ("diag", (_SQ,), {}),
    ("diag", (_V3[0],), {"k": 1}),
    ("diagonal", (_SQ,), {"offset": -1}),
    ("broadcast_to", (_A[0], (3, 4)), {}),
    ("full_like", (_A, 2.5), {}),
    ("kron", (_A[:2, :2], _B[:2, :2]), {}),
    ("cross", (_V3, _V3[::-1]), {}),
    ("vdot", (_A[0], _B[0]), {}),
    ("hstack", ([_A, _B],), {}),
    ("vstack", ([_A, _B],), {}),
    ("dstack", ([_A, _B],), {}),
    ("take_along_axis", (_A, np.argsort(_A, axis=1)), {"axis": 1}),
    ("searchsorted", (np.sort(_A[0]), _B[0]), {}),
    ("searchsorted", (np.sort(_A[0]), _A[1]), {"side": "right"}),
    ("digitize", (_A[0], np.array([-0.5, 0.0, 0.5], "float32")), {}),
    ("nan_to_num", (np.array([np.nan, np.inf, -np.inf, 1.0], "float32"),), {"nan": 2.0, "posinf": 9.0}),
    ("eye", (3,), {"k": 1}),
    ("eye", (2, 4), {}),
    ("identity", (3,), {}),
    ("tri", (3, 4), {"k": 1}),
    ("linspace", (0, 1, 7), {}),
    ("linspace", (0, 1, 5), {"endpoint": False}),
    ("select", ([_A > 0.3, _A < -0.3], [_A, _B]), {}),
]


@pytest.mark.parametrize("name, args, kwargs", MATH_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(MATH_CASES)])
def test_numpy_like_ops_match_keras(real_keras, name, args, kwargs):
    ours = getattr(ops, name)(*args, **kwargs)
    theirs = getattr(real_keras.ops, name)(*args, **kwargs)
    ours_np, theirs_np = to_np(ours), to_np(theirs)
    assert ours_np.shape == theirs_np.shape, (name, ours_np.shape, theirs_np.shape)
    assert ours_np.dtype == theirs_np.dtype, (name, ours_np.dtype, theirs_np.dtype)
    np.testing.assert_allclose(ours_np, theirs_np, rtol=1e-5, atol=1e-6, err_msg=name)


def test_list_valued_ops_match_keras(real_keras):
    for name, args in (
        ("meshgrid", (_A[0], _B[0, :3])),
        ("unstack", (torch.from_numpy(_A),)),
        ("nonzero", (np.where(_A > 0, _A, 0),)),
    ):
        ours, theirs = getattr(ops, name)(*args), getattr(real_keras.ops, name)(*args)
        assert len(ours) == len(theirs), name
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(to_np(a), to_np(b), err_msg=name)


def test_ops_follow_numpy_where_keras_torch_does_not():
    # Keras's torch backend divides by the weights' last-axis sums here; NumPy (and TF/JAX) give one number.
    np.testing.assert_allclose(to_np(ops.average(_A, weights=_B)), np.average(_A, weights=_B), rtol=1e-5)
    np.testing.assert_allclose(to_np(ops.vdot(_A, _B)), np.vdot(_A, _B), rtol=1e-5)  # flattens, as NumPy
    np.testing.assert_array_equal(to_np(ops.imag(_A)), np.imag(_A))  # zeros for real input (Keras-torch raises)


_X4 = _RNG.uniform(-1, 1, (2, 4, 6, 8)).astype("float32")
_P = _RNG.uniform(0.05, 1, (5, 4)).astype("float32")
_T = np.eye(4, dtype="float32")[_RNG.integers(0, 4, 5)]
NN_CASES = [
    ("normalize", (_A,), {}),
    ("normalize", (_A,), {"axis": 0, "order": 1}),
    (
        "batch_normalization",
        (_X4, _B[0, :1].repeat(8), _B[1, :1].repeat(8) + 1, -1),
        {"offset": _A[0, :1].repeat(8), "scale": _B[2, :1].repeat(8)},
    ),
    ("batch_normalization", (_X4, np.linspace(0, 1, 4, dtype="float32"), np.linspace(1, 2, 4, dtype="float32"), 1), {}),
    ("layer_normalization", (_X4,), {}),
    ("layer_normalization", (_X4,), {"gamma": _B[0, :1].repeat(8), "beta": _A[0, :1].repeat(8)}),
    ("rms_normalization", (_X4,), {}),
    ("rms_normalization", (_X4,), {"scale": np.full(8, 2.0, "float32")}),
    ("binary_crossentropy", (_T, _P), {}),
    ("binary_crossentropy", (_T, _A[:, :4].repeat(2, 0)[:5]), {"from_logits": True}),
    ("categorical_crossentropy", (_T, _P), {}),
    ("categorical_crossentropy", (_T, _P), {"from_logits": True}),
    ("sparse_categorical_crossentropy", (_T.argmax(1), _P), {}),
    ("sparse_categorical_crossentropy", (_T.argmax(1)[:, None], _P), {"from_logits": True}),
    ("multi_hot", (np.array([[0, 2], [1, 1]]),), {"num_classes": 4}),
    ("multi_hot", (np.array([3, 0]),), {"num_classes": 5}),
    ("in_top_k", (_T.argmax(1), _P, 2), {}),
    ("psnr", (_B, _B * 0.9, 2.0), {}),
    ("depth_to_space", (_X4, 2), {}),
    ("space_to_depth", (_X4, 2), {}),
    ("adaptive_average_pool", (_X4, (3, 5)), {}),
    ("adaptive_max_pool", (_X4, 2), {"data_format": "channels_first"}),
]


@pytest.mark.parametrize("name, args, kwargs", NN_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(NN_CASES)])
def test_nn_ops_match_keras(real_keras, name, args, kwargs):
    ours = getattr(ops, name)(*args, **kwargs)
    theirs = getattr(real_keras.ops, name)(*args, **kwargs)
    assert to_np(ours).shape == to_np(theirs).shape, name
    assert to_np(ours).dtype == to_np(theirs).dtype, (name, to_np(ours).dtype, to_np(theirs).dtype)
    np.testing.assert_allclose(to_np(ours), to_np(theirs), rtol=1e-5, atol=1e-5, err_msg=name)


def test_moments_match_keras(real_keras):
    for axes, keepdims in (([0, 1, 2], False), (-1, True), ([1], False)):
        for a, b in zip(ops.moments(_X4, axes, keepdims), real_keras.ops.moments(_X4, axes, keepdims)):
            np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-5, atol=1e-6)


def test_depth_to_space_formats_agree():
    # channels_first is the channels_last result transposed (TensorFlow's semantics for both formats)
    nchw = _X4.transpose(0, 3, 1, 2)
    for fn in (ops.depth_to_space, ops.space_to_depth):
        np.testing.assert_array_equal(
            to_np(fn(nchw, 2, data_format="channels_first")), to_np(fn(_X4, 2)).transpose(0, 3, 1, 2)
        )
    np.testing.assert_array_equal(to_np(ops.space_to_depth(ops.depth_to_space(_X4, 2), 2)), _X4)


_IMG = _RNG.uniform(0, 1, (2, 7, 9, 3)).astype("float32")
IMAGE_CASES = [
    ("resize", (_IMG, (4, 5)), {}),
    ("resize", (_IMG, (11, 6)), {"interpolation": "nearest"}),
    ("resize", (_IMG, (3, 3)), {"interpolation": "bicubic", "antialias": True}),
    ("resize", (_IMG, (5, 5)), {"crop_to_aspect_ratio": True}),
    ("resize", (_IMG, (5, 5)), {"pad_to_aspect_ratio": True, "fill_value": 0.5}),
    ("resize", (_IMG.transpose(0, 3, 1, 2), (4, 4)), {"data_format": "channels_first"}),
    ("rgb_to_grayscale", (_IMG,), {}),
    ("rgb_to_grayscale", (_IMG[0],), {}),
    ("rgb_to_hsv", (_IMG,), {}),
    ("hsv_to_rgb", (_IMG,), {}),
    ("extract_patches", (_IMG, 3), {}),
    ("extract_patches", (_IMG, (2, 3)), {"strides": 1}),
    ("extract_patches", (_IMG, 3), {"strides": 2, "padding": "same"}),
    ("extract_patches", (_IMG, 2), {"strides": 1, "dilation_rate": 2}),
]


@pytest.mark.parametrize("name, args, kwargs", IMAGE_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(IMAGE_CASES)])
def test_image_ops_match_keras(real_keras, name, args, kwargs):
    ours = getattr(ops.image, name)(*args, **kwargs)
    theirs = getattr(real_keras.ops.image, name)(*args, **kwargs)
    assert to_np(ours).shape == to_np(theirs).shape, (name, to_np(ours).shape, to_np(theirs).shape)
    np.testing.assert_allclose(to_np(ours), to_np(theirs), rtol=1e-5, atol=1e-5, err_msg=name)
    if name == "rgb_to_hsv":  # and back
        np.testing.assert_allclose(to_np(ops.image.hsv_to_rgb(ours)), args[0], atol=1e-5)


_N = _A.copy()
_N[0, 1], _N[2, 3] = np.nan, np.nan
_N[1] = np.nan  # an all-NaN row
MORE_CASES = [
    *[
        (name, (_N,), kw)
        for name in ("nansum", "nanmean", "nanmax", "nanmin", "nanvar", "nanstd")
        for kw in ({}, {"axis": 0}, {"axis": 1, "keepdims": True})
    ],
    ("percentile", (_A, 30), {"axis": 1}),
    ("percentile", (_A, [10, 90]), {}),
    ("logspace", (0, 2, 5), {}),
    ("logspace", (1, 3, 4), {"base": 2, "endpoint": False}),
    ("geomspace", (1, 1000, 4), {}),
    ("erfc", (_A,), {}),
    ("sinc", (_A,), {}),
    ("logaddexp2", (_A, _B), {}),
    ("heaviside", (_A, _B), {}),
    ("isneginf", (np.array([-np.inf, np.inf, 1.0], "float32"),), {}),
    ("isposinf", (np.array([-np.inf, np.inf, 1.0], "float32"),), {}),
    ("real", (_A,), {}),
    ("isin", (_I, _J), {}),
    ("bincount", (np.array([0, 1, 1, 3, 3, 3]),), {}),
    ("bincount", (np.array([0, 2, 2]),), {"minlength": 5}),
    ("bincount", (np.array([0, 1, 1]), np.array([0.5, 1.0, 2.0], "float32")), {}),
    ("diagflat", (_A[0],), {}),
    ("diagflat", (_A[0, :2],), {"k": -1}),
    ("ldexp", (_A, _J), {}),
    ("det", (_SQ,), {}),
    ("inv", (_SQ + 4 * np.eye(4, dtype="float32"),), {}),
    ("solve", (_SQ + 4 * np.eye(4, dtype="float32"), _A.T[:, :2].copy()), {}),
]


@pytest.mark.parametrize("name, args, kwargs", MORE_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(MORE_CASES)])
def test_more_ops_match_keras(real_keras, name, args, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(ops, name)(*args, **kwargs)
        theirs = getattr(real_keras.ops, name)(*args, **kwargs)
    assert to_np(ours).shape == to_np(theirs).shape, (name, to_np(ours).shape, to_np(theirs).shape)
    assert to_np(ours).dtype == to_np(theirs).dtype, (name, to_np(ours).dtype, to_np(theirs).dtype)
    np.testing.assert_allclose(to_np(ours), to_np(theirs), rtol=1e-5, atol=1e-5, err_msg=name)


def test_split_family_and_slogdet_match_keras(real_keras):
    for name, args in (
        ("array_split", (_A, 3)),
        ("array_split", (_A[0], 3)),
        ("hsplit", (_A, 2)),
        ("vsplit", (_A, 3)),
        ("slogdet", (_SQ,)),
    ):
        ours, theirs = getattr(ops, name)(*args), getattr(real_keras.ops, name)(*args)
        assert len(ours) == len(theirs), name
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-5, atol=1e-6, err_msg=name)
