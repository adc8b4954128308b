"""strided.nn (tf.nn-style) vs the NumPy reference and the seeds' code."""

import numpy as np
import pytest
import torch

import strided
from strided import nn
from strided.ops import reference as R

RNG = np.random.default_rng(11)


def to_np(t):
    return t.detach().cpu().numpy()


def test_seed002_tf_nn_conv2d_on_numpy():
    # Seed 002: a float64 grayscale image (imread(...).mean(axis=2)) and an int filter W.
    ny = RNG.uniform(0, 255, size=(12, 15))
    W = np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]])
    ny4D = np.array([ny.reshape(ny.shape[0], ny.shape[1], 1)])
    W4d = W.reshape(W.shape[0], W.shape[0], 1, 1)
    ny_convolved = nn.conv2d(ny4D, W4d, strides=1, padding="SAME")
    assert tuple(ny_convolved.shape) == (1, 12, 15, 1)
    assert not ny_convolved.requires_grad and ny_convolved.device.type == "cpu"
    img = ny_convolved[0, :, :, 0]
    np.testing.assert_allclose(
        np.asarray(img), R.conv(ny4D, W4d.astype(float), padding="same")[0, :, :, 0], rtol=0, atol=1e-9
    )
    assert ny_convolved.numpy().dtype == np.float64


def test_seed003_constant_and_swapaxes():
    image = strided.constant([[[[1], [2], [3]], [[4], [5], [6]], [[7], [8], [9]]]], dtype=np.float32)
    assert tuple(image.shape) == (1, 3, 3, 1) and image.dtype == torch.float32
    np.testing.assert_array_equal(image.numpy().reshape(3, 3), np.arange(1, 10).reshape(3, 3))
    weight = np.array([[[[1.0, 10.0, -1.0]], [[1.0, 10.0, -1.0]]], [[[1.0, 10.0, -1.0]], [[1.0, 10.0, -1.0]]]])
    out = nn.conv2d(image, weight, strides=[1, 1, 1, 1], padding="SAME")
    feature_maps = np.swapaxes(out, 0, 3)
    base = np.array([[12, 16, 9], [24, 28, 15], [15, 17, 9]], dtype=float)
    for scale, fm in zip([1, 10, -1], feature_maps):
        np.testing.assert_array_equal(np.asarray(fm.reshape(3, 3)), scale * base)
    valid = nn.conv2d(image, weight[..., :1], strides=1, padding="VALID")
    np.testing.assert_array_equal(valid.numpy().reshape(2, 2), [[12, 16], [24, 28]])


def test_constant_dtypes_follow_tensorflow():
    assert strided.constant(1.5).dtype == torch.float32
    assert strided.constant([1, 2]).dtype == torch.int32
    assert strided.constant(np.zeros(2)).dtype == torch.float64
    assert strided.constant([1, 2], dtype="float32").dtype == torch.float32
    np.testing.assert_array_equal(strided.constant(0.0, shape=[2, 3]).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(strided.constant([1, 2, 3, 4], shape=(2, 2)).numpy(), [[1, 2], [3, 4]])


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("padding, s, d", [("SAME", 2, 1), ("valid", 1, 2), ("Same", 3, 1)])
def test_convolution_matches_reference(rank, padding, s, d):
    x = RNG.normal(size=(2, *(7,) * rank, 3))
    w = RNG.normal(size=(*(3,) * rank, 3, 2))
    fn = {1: nn.conv1d, 2: nn.conv2d, 3: nn.conv3d}[rank]
    strides = [1, *(s,) * rank, 1]  # TF's N+2 form
    out = fn(x, w, strides, padding, dilations=d)
    np.testing.assert_allclose(to_np(out), R.conv(x, w, s, padding.lower(), d), rtol=0, atol=1e-10)
    # channels-first format
    fmt = {1: "NCW", 2: "NCHW", 3: "NCDHW"}[rank]
    out_cf = fn(np.moveaxis(x, -1, 1), w, s, padding, data_format=fmt, dilations=d)
    np.testing.assert_allclose(to_np(out_cf), np.moveaxis(R.conv(x, w, s, padding.lower(), d), -1, 1), atol=1e-10)


def test_explicit_padding_pairs():
    x, w = RNG.normal(size=(1, 6, 5, 2)), RNG.normal(size=(3, 3, 2, 4))
    pairs = [[0, 0], [2, 1], [0, 3], [0, 0]]
    expected = R.conv(np.pad(x, pairs), w)
    np.testing.assert_allclose(to_np(nn.conv2d(x, w, 1, pairs)), expected, atol=1e-10)
    np.testing.assert_allclose(to_np(nn.conv2d(x, w, 1, pairs[1:3])), expected, atol=1e-10)


@pytest.mark.parametrize(
    "ksize, strides, padding", [(2, 2, "VALID"), ([1, 3, 3, 1], [1, 2, 2, 1], "SAME"), ([2, 3], 1, "same")]
)
def test_pools_match_reference(ksize, strides, padding):
    x = RNG.normal(size=(2, 7, 8, 3))
    k = ksize if isinstance(ksize, int) else tuple(ksize[1:3] if len(ksize) == 4 else ksize)
    s = strides if isinstance(strides, int) else tuple(strides[1:3])
    np.testing.assert_allclose(
        to_np(nn.max_pool2d(x, ksize, strides, padding)), R.max_pool(x, k, s, padding.lower()), atol=1e-12
    )
    np.testing.assert_allclose(
        to_np(nn.avg_pool2d(x, ksize, strides, padding)), R.average_pool(x, k, s, padding.lower()), atol=1e-12
    )
    np.testing.assert_allclose(
        to_np(nn.max_pool(x, ksize, strides, padding)), R.max_pool(x, k, s, padding.lower()), atol=1e-12
    )


def test_conv2d_transpose_and_depthwise_match_reference():
    x = RNG.normal(size=(2, 4, 5, 3))
    w = RNG.normal(size=(3, 3, 2, 3))  # (kh, kw, out, in)
    out = nn.conv2d_transpose(x, w, output_shape=[2, 8, 10, 2], strides=2, padding="SAME")
    np.testing.assert_allclose(to_np(out), R.conv_transpose(x, w, 2, "same"), atol=1e-10)
    out = nn.conv2d_transpose(x, w, output_shape=[2, 7, 9, 2], strides=2, padding="SAME")
    np.testing.assert_allclose(to_np(out), R.conv_transpose(x, w, 2, "same", output_padding=0), atol=1e-10)
    with pytest.raises(ValueError, match="output_shape"):
        nn.conv2d_transpose(x, w, output_shape=[2, 12, 10, 2], strides=2, padding="SAME")
    dw = RNG.normal(size=(3, 3, 3, 2))
    np.testing.assert_allclose(
        to_np(nn.depthwise_conv2d(x, dw, [1, 1, 1, 1], "SAME")), R.depthwise_conv(x, dw, 1, "same"), atol=1e-10
    )


def test_elementwise_and_bias_add():
    x = RNG.normal(size=(2, 3, 4))
    np.testing.assert_allclose(to_np(nn.relu(x)), np.maximum(x, 0))
    np.testing.assert_allclose(to_np(nn.sigmoid(x)), 1 / (1 + np.exp(-x)), rtol=1e-12)
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(to_np(nn.softmax(x)), e / e.sum(-1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(to_np(nn.leaky_relu(x)), np.where(x > 0, x, 0.2 * x), rtol=1e-12)
    b = RNG.normal(size=4)
    np.testing.assert_allclose(to_np(nn.bias_add(x, b)), x + b)
    b3 = RNG.normal(size=3)
    np.testing.assert_allclose(to_np(nn.bias_add(x, b3, data_format="NCHW")), x + b3[None, :, None])
    with pytest.raises(ValueError, match="bias"):
        nn.bias_add(x, b3)


def test_autograd_kept_for_tensors_that_require_grad():
    x = torch.tensor(RNG.normal(size=(1, 5, 5, 1)), requires_grad=True)
    y = nn.conv2d(x, np.ones((2, 2, 1, 1)), 1, "SAME")
    assert y.requires_grad
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert torch.autograd.gradcheck(lambda a: nn.max_pool2d(a, 2, 2, "SAME"), (x,))


def test_errors_name_the_argument():
    x, w = np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1))
    with pytest.raises(ValueError, match="Did you mean padding='same'"):
        nn.conv2d(x, w, 1, "equal")
    with pytest.raises(ValueError, match="strides"):
        nn.conv2d(x, w, [2, 1, 1, 1], "SAME")
    with pytest.raises(ValueError, match="strides"):
        nn.conv2d(x, w, -1, "SAME")
    with pytest.raises(ValueError, match="data_format"):
        nn.conv2d(x, w, 1, "SAME", data_format="HWNC")
    with pytest.raises(ValueError, match=r"input.*rank 4"):
        nn.conv2d(np.ones((5, 5)), w, 1, "SAME")
    with pytest.raises(ValueError, match="kernel"):
        nn.conv2d(np.ones((1, 2, 2, 1)), w, 1, "VALID")
