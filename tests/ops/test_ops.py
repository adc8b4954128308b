"""strided.ops torch kernels == the NumPy reference (float64, 1e-10) over a sweep; gradients; errors."""

import itertools
import random

import numpy as np
import pytest
import torch

from strided import ops
from strided.ops import _kernels
from strided.ops import reference as R

TOL = 1e-10
KERNELS, STRIDES, DILATIONS, PADDINGS = (1, 2, 3, 4, 5), (1, 2, 3), (1, 2, 3), ("valid", "same")
FORMATS = ("channels_last", "channels_first")


def rng():
    return np.random.default_rng(7)


def cf(a):
    """channels_last array -> channels_first."""
    return np.moveaxis(a, -1, 1)


def check(actual, expected, label):
    actual = actual.detach().cpu().numpy() if isinstance(actual, torch.Tensor) else actual
    assert actual.shape == expected.shape, f"{label}: shape {actual.shape} != {expected.shape}"
    err = np.max(np.abs(actual - expected)) if expected.size else 0.0
    assert err <= TOL, f"{label}: max abs err {err}"


def sweep(rank):
    """Full grid for rank 1 and 2, a random quarter for rank 3 (each case is costlier)."""
    grid = list(itertools.product(KERNELS, STRIDES, DILATIONS, PADDINGS, FORMATS))
    if rank == 3:
        grid = random.Random(rank).sample(grid, len(grid) // 8)
    return grid


def input_sizes(rank, case_index):
    """Odd and even spatial sizes, alternating per case and per axis."""
    base = {1: (13, 14), 2: (11, 12), 3: (9, 10)}[rank]
    return tuple(base[(case_index + axis) % 2] for axis in range(rank))


def fits(sizes, k, d):
    return all((k - 1) * d + 1 <= n for n in sizes)


# ------------------------------------------------------------------ value sweeps vs reference


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_sweep_matches_reference(rank):
    g = rng()
    for i, (k, s, d, pad, fmt) in enumerate(sweep(rank)):
        sizes = input_sizes(rank, i)
        if pad == "valid" and not fits(sizes, k, d):
            continue
        x = g.normal(size=(2, *sizes, 3))
        kernel = g.normal(size=(*(k,) * rank, 3, 2))
        expected = R.conv(x, kernel, s, pad, d)
        xin, exp = (cf(x), cf(expected)) if fmt == "channels_first" else (x, expected)
        label = f"conv rank={rank} k={k} s={s} d={d} {pad} {fmt} n={sizes}"
        check(ops.conv(xin, kernel, s, pad, fmt, d), exp, label)
        # The layer-facing kernel with a torch-layout weight and a bias.
        bias = g.normal(size=2)
        weight = torch.tensor(kernel).permute(rank + 1, rank, *range(rank))
        check(
            _kernels.conv(torch.tensor(xin), weight, torch.tensor(bias), s, pad, fmt, d),
            exp
            + (bias[:, None] if fmt == "channels_first" else bias).reshape(
                (1, 2) + (1,) * rank if fmt == "channels_first" else (1,) * (rank + 1) + (2,)
            ),
            label + " +bias",
        )


def test_conv_causal_and_groups_match_reference():
    g = rng()
    for k, d, n in itertools.product((1, 2, 3), (1, 2), (5, 6)):
        x, kernel = g.normal(size=(2, n, 3)), g.normal(size=(k, 3, 4))
        check(ops.conv(x, kernel, 1, "causal", None, d), R.conv(x, kernel, 1, "causal", d), f"causal k={k} d={d}")
        # causal == left zero padding then 'valid'
        xp = np.pad(x, [(0, 0), ((k - 1) * d, 0), (0, 0)])
        check(ops.conv(x, kernel, 1, "causal", None, d), R.conv(xp, kernel, 1, "valid", d), "causal def")
    for pad, s in itertools.product(PADDINGS, (1, 2)):
        x, kernel = g.normal(size=(2, 7, 6, 4)), g.normal(size=(3, 3, 2, 6))  # groups = 2
        expected = np.concatenate(
            [R.conv(x[..., :2], kernel[..., :3], s, pad), R.conv(x[..., 2:], kernel[..., 3:], s, pad)], axis=-1
        )
        check(ops.conv(x, kernel, s, pad), expected, f"groups {pad} s={s}")
        check(R.conv(x, kernel, s, pad), expected, "reference groups")


@pytest.mark.parametrize("rank", [1, 2])
def test_depthwise_and_separable_sweep(rank):
    g = rng()
    for i, (k, s, d, pad, fmt) in enumerate(sweep(rank)):
        sizes = input_sizes(rank, i)
        if pad == "valid" and not fits(sizes, k, d):
            continue
        x = g.normal(size=(2, *sizes, 3))
        dk = g.normal(size=(*(k,) * rank, 3, 2))
        pk = g.normal(size=(*(1,) * rank, 6, 4))
        label = f"rank={rank} k={k} s={s} d={d} {pad} {fmt}"
        expected = R.depthwise_conv(x, dk, s, pad, d)
        # Depthwise == a grouped conv with the channels' filters in TF order (c * mult + m).
        grouped = dk.reshape(*dk.shape[:-2], 1, 6)
        check(R.conv(x, grouped, s, pad, d), expected, "reference depthwise == grouped " + label)
        sep = R.separable_conv(x, dk, pk, s, pad, d)
        xin = cf(x) if fmt == "channels_first" else x
        conv_out = (lambda a: cf(a)) if fmt == "channels_first" else (lambda a: a)
        check(ops.depthwise_conv(xin, dk, s, pad, fmt, d), conv_out(expected), "depthwise " + label)
        check(ops.separable_conv(xin, dk, pk, s, pad, fmt, d), conv_out(sep), "separable " + label)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_transpose_sweep_matches_reference(rank):
    g = rng()
    grid = sweep(rank)
    for i, (k, s, d, pad, fmt) in enumerate(grid):
        sizes = tuple(n // 3 for n in input_sizes(rank, i))  # transposed conv grows its input
        output_paddings = [None] + [p for p in range(max(s, d)) if p < s] if i % 3 == 0 else [None]
        for op in output_paddings:
            x = g.normal(size=(2, *sizes, 3))
            kernel = g.normal(size=(*(k,) * rank, 2, 3))
            expected = R.conv_transpose(x, kernel, s, pad, op, d)
            xin, exp = (cf(x), cf(expected)) if fmt == "channels_first" else (x, expected)
            check(
                ops.conv_transpose(xin, kernel, s, pad, op, fmt, d),
                exp,
                f"conv_transpose rank={rank} k={k} s={s} d={d} {pad} op={op} {fmt} n={sizes}",
            )


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_pooling_sweep_matches_reference(rank):
    g = rng()
    grid = list(itertools.product(KERNELS, STRIDES + (None,), PADDINGS, FORMATS))
    if rank == 3:
        grid = random.Random(3).sample(grid, len(grid) // 4)
    for i, (k, s, pad, fmt) in enumerate(grid):
        sizes = input_sizes(rank, i)
        if pad == "valid" and not fits(sizes, k, 1):
            continue
        x = g.normal(size=(2, *sizes, 3))
        xin = cf(x) if fmt == "channels_first" else x
        for name in ("max_pool", "average_pool"):
            expected = getattr(R, name)(x, k, s, pad)
            exp = cf(expected) if fmt == "channels_first" else expected
            check(getattr(ops, name)(xin, k, s, pad, fmt), exp, f"{name} rank={rank} k={k} s={s} {pad} {fmt}")


def test_float32_inputs_and_numpy_and_lists():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    y = ops.conv(x, np.ones((2, 2, 1, 1), np.float32), padding="same")
    assert y.dtype == torch.float32
    np.testing.assert_array_equal(y[0, :, :, 0].cpu().numpy(), [[12, 16, 9], [24, 28, 15], [15, 17, 9]])
    # integer inputs become floatx; lists work
    y = ops.max_pool(x.astype(int).tolist(), 2, padding="same")
    assert y.dtype == torch.float32
    np.testing.assert_array_equal(y[0, :, :, 0].cpu().numpy(), [[5, 6], [8, 9]])


def test_stride_two_7x7_gives_3x3():
    out = ops.conv(np.ones((1, 7, 7, 1)), np.ones((3, 3, 1, 1)), strides=2)
    assert tuple(out.shape) == (1, 3, 3, 1)
    np.testing.assert_array_equal(out.cpu().numpy(), np.full((1, 3, 3, 1), 9.0))


def test_channels_last_stays_zero_copy_layout():
    x = torch.randn(2, 8, 9, 3)
    weight = torch.randn(4, 3, 3, 3)
    for pad, s in [("same", 1), ("same", 2), ("valid", 1)]:
        y = _kernels.conv(x, weight, None, s, pad)
        assert y.is_contiguous(), (pad, s)  # NHWC contiguous == NCHW channels_last, no copy back


def test_layout_round_trip():
    g = rng()
    k = torch.tensor(g.normal(size=(3, 2, 4, 5)))
    for kind in ("conv", "conv_transpose"):
        assert torch.equal(_kernels.to_keras_layout(_kernels.to_torch_layout(k, kind), kind), k)
    w = _kernels.to_torch_layout(k, "depthwise")
    assert tuple(w.shape) == (20, 1, 3, 2)
    assert torch.equal(w[2 * 5 + 3, 0], k[..., 2, 3])  # channel c * mult + m
    assert torch.equal(_kernels.to_keras_layout(w, "depthwise", depth_multiplier=5), k)


# ------------------------------------------------------------------ gradients


def _t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("pad, s, d", [("valid", 1, 1), ("same", 2, 1), ("same", 1, 2), ("same", 2, 2)])
def test_gradcheck_convolutions(pad, s, d):
    g = rng()
    x = _t(g.normal(size=(1, 5, 4, 2)))
    k = _t(g.normal(size=(2, 3, 2, 2)))
    dk, pk = _t(g.normal(size=(2, 2, 2, 2))), _t(g.normal(size=(1, 1, 4, 3)))
    assert torch.autograd.gradcheck(lambda a, b: ops.conv(a, b, s, pad, None, d), (x, k))
    assert torch.autograd.gradcheck(lambda a, b: ops.depthwise_conv(a, b, s, pad, None, d), (x, dk))
    assert torch.autograd.gradcheck(lambda a, b, c: ops.separable_conv(a, b, c, s, pad, None, d), (x, dk, pk))
    assert torch.autograd.gradcheck(lambda a, b: ops.conv_transpose(a, b, s, pad, None, None, d), (x, k))
    x1 = _t(g.normal(size=(1, 6, 2)))
    k1 = _t(g.normal(size=(3, 2, 2)))
    assert torch.autograd.gradcheck(
        lambda a, b: ops.conv(a, b, s, "causal" if pad == "same" else pad, None, d), (x1, k1)
    )


@pytest.mark.parametrize("pool, s, pad", [(2, None, "valid"), (3, 2, "same"), (2, 2, "same"), (2, 1, "same")])
def test_gradcheck_pooling_and_reference_backward(pool, s, pad):
    g = rng()
    xn = g.normal(size=(1, 5, 4, 2))
    x = _t(xn)
    assert torch.autograd.gradcheck(lambda a: ops.max_pool(a, pool, s, pad), (x,))
    assert torch.autograd.gradcheck(lambda a: ops.average_pool(a, pool, s, pad), (x,))
    for name, backward in (("max_pool", R.max_pool2d_backward), ("average_pool", R.average_pool2d_backward)):
        x = _t(xn)
        y = getattr(ops, name)(x, pool, s, pad)
        dy = g.normal(size=tuple(y.shape))
        y.backward(torch.tensor(dy))
        np.testing.assert_allclose(x.grad.numpy(), backward(xn, dy, pool, s, pad), rtol=0, atol=TOL)


@pytest.mark.parametrize("pad, s, d", [("valid", 1, 1), ("same", 2, 1), ("same", 1, 2), ("valid", 3, 1)])
def test_conv_autograd_matches_reference_backward(pad, s, d):
    g = rng()
    xn, kn = g.normal(size=(2, 7, 6, 3)), g.normal(size=(3, 2, 3, 4))
    x, k = _t(xn), _t(kn)
    y = ops.conv(x, k, s, pad, None, d)
    dy = g.normal(size=tuple(y.shape))
    y.backward(torch.tensor(dy))
    dx, dk = R.conv2d_backward(xn, kn, dy, s, pad, d)
    np.testing.assert_allclose(x.grad.numpy(), dx, rtol=0, atol=TOL)
    np.testing.assert_allclose(k.grad.numpy(), dk, rtol=0, atol=TOL)


# ------------------------------------------------------------------ errors


def test_bad_padding_names_argument_and_hints():
    x, k = np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1))
    with pytest.raises(ValueError, match=r"`padding`.*'equal'.*Did you mean padding='same'\?"):
        ops.conv(x, k, padding="equal")
    with pytest.raises(ValueError, match="padding"):
        ops.max_pool(x, 2, padding="full")
    with pytest.raises(ValueError, match="padding"):
        ops.conv(x, k, padding="causal")  # causal is 1D only


def test_negative_or_zero_strides_and_dilation():
    x, k = np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1))
    with pytest.raises(ValueError, match=r"`strides`.*-1"):
        ops.conv(x, k, strides=-1)
    with pytest.raises(ValueError, match="strides"):
        ops.max_pool(x, 2, strides=(0, 1))
    with pytest.raises(ValueError, match="dilation_rate"):
        ops.conv(x, k, dilation_rate=0)
    with pytest.raises(ValueError, match="strides"):
        ops.conv(x, k, strides=(1, 2, 3))


def test_kernel_larger_than_valid_input():
    with pytest.raises(ValueError, match=r"kernel.*larger than the input.*padding='valid'.*\(1, 3, 3, 1\)"):
        ops.conv(np.ones((1, 3, 3, 1)), np.ones((5, 5, 1, 1)))
    with pytest.raises(ValueError, match="pool_size"):
        ops.max_pool(np.ones((1, 3, 3, 1)), 4)
    # 'same' is fine
    assert tuple(ops.conv(np.ones((1, 3, 3, 1)), np.ones((5, 5, 1, 1)), padding="same").shape) == (1, 3, 3, 1)


def test_wrong_rank():
    with pytest.raises(ValueError, match=r"inputs.*rank.*\(5, 5\)"):
        ops.conv(np.ones((5, 5)), np.ones((3, 3, 1, 1)))
    with pytest.raises(ValueError, match="kernel"):
        ops.conv(np.ones((1, 5, 5, 1)), np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"inputs.*\(5, 5, 1, 1, 1, 1\)"):
        ops.max_pool(np.ones((5, 5, 1, 1, 1, 1)), 2)
    with pytest.raises(ValueError, match=r"inputs.*rank 4"):
        _kernels.conv(torch.ones(1, 5, 5), torch.ones(2, 1, 3, 3))


def test_channel_mismatch_echoes_shapes():
    with pytest.raises(ValueError, match=r"channels.*inputs.shape=\(1, 5, 5, 3\).*kernel.shape=\(3, 3, 2, 4\)"):
        ops.conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 2, 4)))
    with pytest.raises(ValueError, match=r"inputs.shape=\(1, 5, 5, 3\).*weight.shape=\(4, 2, 3, 3\)"):
        _kernels.conv(torch.ones(1, 5, 5, 3), torch.ones(4, 2, 3, 3))
    with pytest.raises(ValueError, match="kernel.shape"):
        ops.depthwise_conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 2, 1)))
    with pytest.raises(ValueError, match="kernel.shape"):
        ops.conv_transpose(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 2)))
    with pytest.raises(ValueError, match="pointwise_kernel"):
        ops.separable_conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 1)), np.ones((1, 1, 4, 2)))
    with pytest.raises(ValueError, match="output_padding"):
        ops.conv_transpose(np.ones((1, 5, 5, 3)), np.ones((3, 3, 2, 3)), strides=2, output_padding=2)
    with pytest.raises(ValueError, match="data_format"):
        ops.conv(np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1)), data_format="NHWC")


# ------------------------------------------------------------------ NumPy-like subset and conversion


def test_numpy_like_ops_match_numpy():
    g = rng()
    a, b = g.normal(size=(3, 4)), g.normal(size=(4, 2))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.matmul(a, b)), a @ b, rtol=1e-12)
    for name in ("sum", "mean", "max", "min", "std", "var", "prod"):
        for axis, keep in [(None, False), (0, True), ((0, 1), False), (-1, False)]:
            got = ops.convert_to_numpy(getattr(ops, name)(a, axis=axis, keepdims=keep))
            np.testing.assert_allclose(
                got, getattr(np, name)(a, axis=axis, keepdims=keep), rtol=1e-10, err_msg=f"{name} axis={axis}"
            )
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.argmax(a, axis=1)), np.argmax(a, axis=1))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.where(a > 0, a, 0.0)), np.where(a > 0, a, 0.0))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.clip(a, -0.5, 0.5)), np.clip(a, -0.5, 0.5))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.concatenate([a, a], axis=1)), np.concatenate([a, a], 1))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.pad(a, [(1, 0), (0, 2)])), np.pad(a, [(1, 0), (0, 2)]))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.take(a, [2, 0], axis=1)), np.take(a, [2, 0], axis=1))
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.one_hot(np.array([0, 2]), 3)), np.eye(3)[[0, 2]])
    assert ops.one_hot(np.array([1]), 2).dtype == torch.float32


def test_convert_to_tensor_dtypes():
    assert ops.convert_to_tensor(np.zeros(2)).dtype == torch.float64  # NumPy keeps its dtype
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == torch.float32  # Python floats -> floatx
    assert ops.convert_to_tensor(3).dtype == torch.int32
    assert ops.convert_to_tensor([1, 2], dtype="float32").dtype == torch.float32
    t = torch.ones(2)
    assert ops.convert_to_tensor(t) is t
    assert ops.convert_to_numpy(torch.ones(2, requires_grad=True)).tolist() == [1.0, 1.0]
