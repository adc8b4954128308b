"""The NumPy reference: seed goldens, loop versions == vectorised, backward passes == torch autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from strided.ops import reference as R

RNG = np.random.default_rng(1234)

# Seed 002: the 5x5 "smiley" X, two 3x3 filters W and the Z maps the slides print ('same').
SMILEY = np.array([[0, 1, 0, 1, 0], [0, 1, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 1], [0, 1, 1, 1, 0]], dtype=float)
W_VERTICAL = np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]], dtype=float)
Z_VERTICAL = np.array(
    [[0, 2, 0, 2, 0], [0, 2, 0, 2, 0], [1, 1, 0, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]], dtype=float
)
W_BOTTOM = np.array([[0, 0, 0], [0, 0, 0], [1, 1, 1]], dtype=float)
Z_BOTTOM = np.array([[1, 1, 2, 1, 1], [0, 0, 0, 0, 0], [1, 1, 0, 1, 1], [1, 2, 3, 2, 1], [0, 0, 0, 0, 0]], dtype=float)


def as_image(a):
    return np.asarray(a, dtype=float)[None, :, :, None]


def as_kernel(w):
    return np.asarray(w, dtype=float)[:, :, None, None]


# ------------------------------------------------------------------ goldens


@pytest.mark.parametrize(
    "signal, expected",
    [
        ([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], [0, 0, 0, 0, 1, 0, 0, 0, 0]),
        ([0, 0, 1, 1, 0, 0, 1, 1, 0, 0], [0, 1, 0, -1, 0, 1, 0, -1, 0]),
    ],
)
def test_edge_detector_1d_golden(signal, expected):
    kernel = [-1, 1]
    np.testing.assert_array_equal(R.conv1d_loop(signal, kernel), expected)
    vectorised = R.conv(np.array(signal, float)[None, :, None], np.array(kernel, float)[:, None, None])
    np.testing.assert_array_equal(vectorised[0, :, 0], expected)


def test_toy_image_golden_valid_and_same():
    image = np.arange(1, 10, dtype=float).reshape(3, 3)
    np.testing.assert_array_equal(R.conv2d_loop(image, np.ones((2, 2))), [[12, 16], [24, 28]])
    valid = R.conv(as_image(image), as_kernel(np.ones((2, 2))), padding="valid")[0, :, :, 0]
    same = R.conv(as_image(image), as_kernel(np.ones((2, 2))), padding="same")[0, :, :, 0]
    np.testing.assert_array_equal(valid, [[12, 16], [24, 28]])
    np.testing.assert_array_equal(same, [[12, 16, 9], [24, 28, 15], [15, 17, 9]])


@pytest.mark.parametrize("w, z", [(W_VERTICAL, Z_VERTICAL), (W_BOTTOM, Z_BOTTOM)])
def test_smiley_golden_same(w, z):
    out = R.conv(as_image(SMILEY), as_kernel(w), padding="same")
    np.testing.assert_array_equal(out[0, :, :, 0], z)


def test_seed002_pooled_golden():
    # The slides' Z2 = [[1, 2], [2, 3]]: 2x2 max pooling, stride 2, 'valid', of Z_BOTTOM.
    np.testing.assert_array_equal(R.max_pool(as_image(Z_BOTTOM), 2)[0, :, :, 0], [[1, 2], [2, 3]])
    np.testing.assert_array_equal(R.max_pool2d_loop(Z_BOTTOM, 2), [[1, 2], [2, 3]])


def test_stride_two_output_size():
    x = RNG.normal(size=(1, 7, 7, 1))
    assert R.conv(x, RNG.normal(size=(3, 3, 1, 1)), strides=2).shape == (1, 3, 3, 1)


# ------------------------------------------------------------------ loops == vectorised


def test_loop_versions_equal_vectorised():
    for n, k in [(10, 2), (9, 3), (5, 5)]:
        a, w = RNG.normal(size=n), RNG.normal(size=k)
        np.testing.assert_allclose(
            R.conv1d_loop(a, w), R.conv(a[None, :, None], w[:, None, None])[0, :, 0], rtol=0, atol=1e-12
        )
    for shape, ks in [((28, 28), (2, 2)), ((6, 7), (3, 2))]:
        im, w = RNG.normal(size=shape), RNG.normal(size=ks)
        np.testing.assert_allclose(
            R.conv2d_loop(im, w), R.conv(as_image(im), as_kernel(w))[0, :, :, 0], rtol=0, atol=1e-12
        )
    for shape in [(6, 6), (7, 9)]:
        im = RNG.normal(size=shape)
        np.testing.assert_array_equal(R.max_pool2d_loop(im, 2), R.max_pool(as_image(im), 2)[0, :, :, 0])


def test_sliding_windows_is_a_view_with_the_right_pixels():
    x = RNG.normal(size=(2, 9, 8, 3))
    w = R.sliding_windows(x, (3, 2), strides=(2, 3), dilation=(2, 1))
    assert w.shape == (2, 3, 3, 3, 2, 3)
    assert np.shares_memory(w, x) and not w.flags.writeable
    assert w[1, 2, 1, 2, 1, 0] == x[1, 2 * 2 + 2 * 2, 1 * 3 + 1 * 1, 0]
    with pytest.raises(ValueError, match="window"):
        R.sliding_windows(x, (10, 1))


# ------------------------------------------------------------------ vs torch (independent oracle)


def _torch_conv2d(x, k, s, pad, d):
    xt = torch.tensor(x).permute(0, 3, 1, 2)
    pads = R.padding_amounts(x.shape[1:3], k.shape[:2], (s, s), (d, d), pad)
    xt = F.pad(xt, [pads[1][0], pads[1][1], pads[0][0], pads[0][1]])
    return F.conv2d(xt, torch.tensor(k).permute(3, 2, 0, 1), stride=s, dilation=d).permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("pad", ["valid", "same"])
@pytest.mark.parametrize("s, d", [(1, 1), (2, 1), (1, 2), (3, 2)])
def test_reference_conv_matches_torch(pad, s, d):
    x, k = RNG.normal(size=(2, 8, 7, 3)), RNG.normal(size=(3, 2, 3, 4))
    np.testing.assert_allclose(R.conv(x, k, s, pad, d), _torch_conv2d(x, k, s, pad, d), rtol=0, atol=1e-10)


def test_reference_pools_match_torch_valid():
    x = RNG.normal(size=(2, 7, 6, 3))
    xt = torch.tensor(x).permute(0, 3, 1, 2)
    np.testing.assert_allclose(
        R.max_pool(x, (3, 2), (2, 1)), F.max_pool2d(xt, (3, 2), (2, 1)).permute(0, 2, 3, 1).numpy(), atol=1e-12
    )
    np.testing.assert_allclose(
        R.average_pool(x, (3, 2), (2, 1)), F.avg_pool2d(xt, (3, 2), (2, 1)).permute(0, 2, 3, 1).numpy(), atol=1e-12
    )


def test_average_pool_same_excludes_padding_golden():
    # 3x3 image 1..9, pool 2, stride 2, 'same': windows {1,2,4,5}, {3,6}, {7,8}, {9}.
    x = as_image(np.arange(1, 10, dtype=float).reshape(3, 3))
    np.testing.assert_array_equal(R.average_pool(x, 2, padding="same")[0, :, :, 0], [[3, 4.5], [7.5, 9]])
    np.testing.assert_array_equal(R.max_pool(-x, 2, padding="same")[0, :, :, 0], [[-1, -3], [-7, -9]])


def test_conv_transpose_is_adjoint_of_conv():
    # <conv(y), x> == <y, conv_transpose(x)> for every y of the transposed output's shape: the
    # TensorFlow definition of conv_transpose (gradient of conv with respect to its input).
    for pad, s, k, d, op, n in [
        ("valid", 2, 3, 1, None, 4),
        ("same", 2, 3, 1, None, 5),
        ("same", 3, 2, 1, None, 3),
        ("same", 2, 4, 1, 1, 4),
        ("valid", 1, 3, 2, None, 4),
        ("same", 2, 3, 1, 0, 3),
        ("valid", 3, 2, 1, 2, 3),
    ]:
        kernel = RNG.normal(size=(k, k, 2, 3))  # (*k, filters=2, in=3)
        x = RNG.normal(size=(1, n, n, 3))
        up = R.conv_transpose(x, kernel, s, pad, op, d)
        y = RNG.normal(size=up.shape)
        # The same array read as a conv kernel (*k, in=2, out=3) maps the output back to x.
        forward = R.conv(y, kernel, s, pad, d)
        assert forward.shape == x.shape, (pad, s, k, op)
        np.testing.assert_allclose(np.sum(forward * x), np.sum(y * up), rtol=1e-10)
        # the crop start is the forward conv's 'same' split
        if pad == "same":
            from strided.utils import conv_utils

            before = conv_utils.same_padding(up.shape[1], k, s, d)[0]
            canvas = R.conv_transpose(x, kernel, s, "valid", None, d)  # uncropped when s <= dk
            if s <= (k - 1) * d + 1:
                np.testing.assert_allclose(
                    up, canvas[:, before : before + up.shape[1], before : before + up.shape[2]], atol=1e-12
                )


# ------------------------------------------------------------------ backward passes vs autograd


@pytest.mark.parametrize("pad, s, d", [("valid", 1, 1), ("same", 2, 1), ("same", 1, 2), ("valid", 2, 2)])
def test_conv2d_backward_matches_autograd(pad, s, d):
    x, k = RNG.normal(size=(2, 6, 7, 2)), RNG.normal(size=(3, 2, 2, 3))
    xt = torch.tensor(x, requires_grad=True)
    kt = torch.tensor(k, requires_grad=True)
    pads = R.padding_amounts(x.shape[1:3], k.shape[:2], (s, s), (d, d), pad)
    xp = F.pad(xt.permute(0, 3, 1, 2), [pads[1][0], pads[1][1], pads[0][0], pads[0][1]])
    y = F.conv2d(xp, kt.permute(3, 2, 0, 1), stride=s, dilation=d).permute(0, 2, 3, 1)
    dy = RNG.normal(size=tuple(y.shape))
    y.backward(torch.tensor(dy))
    dx, dk = R.conv2d_backward(x, k, dy, s, pad, d)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dk, kt.grad.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    "pool, s, pad", [(2, None, "valid"), (3, 2, "valid"), (2, 1, "valid"), (3, 2, "same"), (2, 2, "same")]
)
def test_pool2d_backward_matches_autograd(pool, s, pad):
    x = RNG.normal(size=(2, 7, 6, 3))
    stride = pool if s is None else s
    pads = R.padding_amounts(x.shape[1:3], (pool, pool), (stride, stride), (1, 1), pad)
    for kind in ("max", "average"):
        xt = torch.tensor(x, requires_grad=True)
        xp = xt.permute(0, 3, 1, 2)
        torch_pads = [pads[1][0], pads[1][1], pads[0][0], pads[0][1]]
        if kind == "max":
            y = F.max_pool2d(F.pad(xp, torch_pads, value=-np.inf), pool, stride)
        else:
            ones = torch.ones(1, 1, *x.shape[1:3], dtype=torch.float64)
            y = F.avg_pool2d(F.pad(xp, torch_pads), pool, stride) / F.avg_pool2d(F.pad(ones, torch_pads), pool, stride)
        y = y.permute(0, 2, 3, 1)
        reference_forward = (R.max_pool if kind == "max" else R.average_pool)(x, pool, s, pad)
        np.testing.assert_allclose(y.detach().numpy(), reference_forward, atol=1e-12)
        dy = RNG.normal(size=tuple(y.shape))
        y.backward(torch.tensor(dy))
        backward = R.max_pool2d_backward if kind == "max" else R.average_pool2d_backward
        np.testing.assert_allclose(backward(x, dy, pool, s, pad), xt.grad.numpy(), rtol=0, atol=1e-10)
