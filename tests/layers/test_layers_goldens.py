"""Hand-computable goldens per layer family (the seeds' small examples) and Keras-specific semantics."""

import numpy as np
import pytest
import torch

from strided import layers as L
from strided import initializers


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def test_seed000_conv1d_edge_detector():
    array = np.array([0, 0, 1, 1, 0, 0, 1, 1, 0, 0], dtype="float32")
    kernel = np.array([-1, 1], dtype="float32")
    conv = L.Conv1D(1, 2, use_bias=False, kernel_initializer=initializers.Constant(kernel.reshape(2, 1, 1)))
    out = _np(conv(array.reshape(1, 10, 1))).ravel()
    np.testing.assert_array_equal(out, [0, 1, 0, -1, 0, 1, 0, -1, 0])


X = np.array([[0, 1, 0, 1, 0], [0, 1, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 1], [0, 1, 1, 1, 0]], "float32")


@pytest.mark.parametrize(
    "W, Z",
    [
        (
            [[0, 1, 0], [0, 1, 0], [0, 1, 0]],
            [[0, 2, 0, 2, 0], [0, 2, 0, 2, 0], [1, 1, 0, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]],
        ),
        (
            [[0, 0, 0], [0, 0, 0], [1, 1, 1]],
            [[1, 1, 2, 1, 1], [0, 0, 0, 0, 0], [1, 1, 0, 1, 1], [1, 2, 3, 2, 1], [0, 0, 0, 0, 0]],
        ),
    ],
)
def test_seed002_filters_same_padding(W, Z):
    W = np.array(W, "float32").reshape(3, 3, 1, 1)
    conv = L.Conv2D(1, 3, padding="same", kernel_initializer=initializers.Constant(W))
    out = _np(conv(X.reshape(1, 5, 5, 1)))[0, :, :, 0]
    np.testing.assert_array_equal(out, Z)


def test_seed002_max_pool_golden():
    Z = np.array([[1, 1, 2, 1, 1], [0, 0, 0, 0, 0], [1, 1, 0, 1, 1], [1, 2, 3, 2, 1], [0, 0, 0, 0, 0]], "float32")
    out = _np(L.MaxPooling2D(pool_size=2, strides=2, padding="VALID")(Z.reshape(1, 5, 5, 1)))[0, :, :, 0]
    np.testing.assert_array_equal(out, [[1, 2], [2, 3]])


def test_same_padding_puts_odd_pixel_after():
    # n=4, k=2, s=1: total padding 1, all after (TensorFlow). A symmetric split would shift the output.
    x = np.arange(4, dtype="float32").reshape(1, 4, 1)
    conv = L.Conv1D(
        1,
        2,
        padding="same",
        use_bias=False,
        kernel_initializer=initializers.Constant(np.array([1.0, 10.0]).reshape(2, 1, 1)),
    )
    np.testing.assert_array_equal(_np(conv(x)).ravel(), [0 + 10, 1 + 20, 2 + 30, 3 + 0])
    avg = L.AveragePooling1D(2, 1, padding="same")(x)
    np.testing.assert_array_equal(_np(avg).ravel(), [0.5, 1.5, 2.5, 3.0])  # padding not counted
    mx = L.MaxPooling1D(2, 1, padding="same")(-x - 1)
    np.testing.assert_array_equal(_np(mx).ravel(), [-1, -2, -3, -4])  # padding never wins


def test_conv_transpose_is_adjoint_of_conv():
    rng = np.random.default_rng(0)
    conv = L.Conv2D(3, 3, strides=2, padding="same", use_bias=False)
    x = rng.standard_normal((1, 7, 6, 2)).astype("float32")
    y = _np(conv(x))
    tconv = L.Conv2DTranspose(2, 3, strides=2, padding="same", use_bias=False, output_padding=(0, 1))
    tconv(y)
    tconv.set_weights(conv.get_weights())  # (kh, kw, in=2, out=3) read as (kh, kw, filters=2, in=3)
    g = rng.standard_normal(y.shape).astype("float32")
    # <conv(x), g> == <x, conv_transpose(g)> when the shapes line up
    xt = _np(tconv(g))
    assert xt.shape == x.shape
    np.testing.assert_allclose((y * g).sum(), (x * xt).sum(), rtol=1e-4)


def test_depthwise_channel_order_and_layout():
    x = np.ones((1, 3, 3, 2), "float32")
    x[..., 1] = 2
    layer = L.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False)
    layer(x)
    k = np.zeros((3, 3, 2, 2), "float32")
    k[..., 0, 0], k[..., 0, 1], k[..., 1, 0], k[..., 1, 1] = 1, 10, 100, 1000
    layer.set_weights([k])
    # output channel c * mult + m = input channel c with its m-th filter (TensorFlow order)
    np.testing.assert_array_equal(_np(layer(x)).ravel(), [9, 90, 1800, 18000])
    np.testing.assert_array_equal(layer.get_weights()[0], k)


def test_batch_norm_inference_training_and_frozen():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4)).astype("float32") * 2 + 3
    bn = L.BatchNormalization()
    bn(x)
    gamma, beta = np.array([1, 2, 3, 4.0], "float32"), np.array([0, 1, 0, -1.0], "float32")
    mm, mv = np.array([1, 2, 3, 4.0], "float32"), np.array([1, 2, 0.5, 4.0], "float32")
    bn.set_weights([gamma, beta, mm, mv])
    np.testing.assert_allclose(_np(bn(x)), (x - mm) / np.sqrt(mv + 1e-3) * gamma + beta, rtol=1e-5, atol=1e-5)
    y = _np(bn(x, training=True))
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3) * gamma + beta, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bn.get_weights()[2], 0.99 * mm + 0.01 * x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(bn.get_weights()[3], 0.99 * mv + 0.01 * x.var(0), rtol=1e-6)
    assert [w._keras_name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    bn.trainable = False  # Keras: a frozen BN runs in inference mode, even with training=True
    before = bn.get_weights()
    np.testing.assert_allclose(
        _np(bn(x, training=True)), (x - before[2]) / np.sqrt(before[3] + 1e-3) * gamma + beta, rtol=1e-5, atol=1e-5
    )
    for a, b in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_batch_norm_channels_first_keeps_layout_and_grads():
    x = torch.randn(4, 3, 5, 5, requires_grad=True)
    bn = L.BatchNormalization(axis=1)
    y = bn(x, training=True)
    assert y.shape == x.shape
    (y * torch.arange(y.numel()).reshape(y.shape)).sum().backward()
    assert x.grad is not None and bn.gamma.grad is not None and bn.beta.grad is not None


def test_dense_on_3d_input_and_activity_regularizer():
    layer = L.Dense(2, activity_regularizer="l2", kernel_initializer="ones", bias_initializer="zeros")
    x = np.ones((2, 3, 4), "float32")
    y = _np(layer(x))
    np.testing.assert_array_equal(y, np.full((2, 3, 2), 4.0))
    assert len(layer.losses) == 1  # one activity loss from the latest call


def test_reshaping_values():
    x = np.arange(12, dtype="float32").reshape(1, 2, 3, 2)
    np.testing.assert_array_equal(
        _np(L.ZeroPadding2D(((1, 0), (0, 2)))(x))[0, :, :, 0], [[0, 0, 0, 0, 0], [0, 2, 4, 0, 0], [6, 8, 10, 0, 0]]
    )
    np.testing.assert_array_equal(_np(L.Cropping2D(((1, 0), (1, 1)))(x))[0, :, :, 1], [[9]])
    np.testing.assert_array_equal(_np(L.UpSampling2D((1, 2))(x))[0, 0, :, 0], [0, 0, 2, 2, 4, 4])
    np.testing.assert_array_equal(_np(L.Permute((3, 1, 2))(x)), x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(_np(L.RepeatVector(2)(np.array([[1, 2]], "float32"))), [[[1, 2], [1, 2]]])
    with pytest.raises(ValueError, match="cannot reshape.*target_shape=\\(5,\\)"):
        L.Reshape((5,))(x)


def test_merging_values_and_errors():
    a, b = np.array([[1, 5.0]], "float32"), np.array([[3, 2.0]], "float32")
    np.testing.assert_array_equal(_np(L.add([a, b])), [[4, 7]])
    np.testing.assert_array_equal(_np(L.subtract([a, b])), [[-2, 3]])
    np.testing.assert_array_equal(_np(L.multiply([a, b])), [[3, 10]])
    np.testing.assert_array_equal(_np(L.average([a, b])), [[2, 3.5]])
    np.testing.assert_array_equal(_np(L.maximum([a, b])), [[3, 5]])
    np.testing.assert_array_equal(_np(L.minimum([a, b])), [[1, 2]])
    np.testing.assert_array_equal(_np(L.concatenate([a, b])), [[1, 5, 3, 2]])
    np.testing.assert_array_equal(_np(L.dot([a, b], axes=1)), [[13]])
    with pytest.raises(ValueError, match="list of inputs"):
        L.Add()(a)
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        L.Concatenate(axis=1)([np.zeros((2, 3, 4)), np.zeros((2, 3, 5))])


def test_activation_layers_values():
    x = np.array([[-2.0, -0.5, 0.5, 3.0]], "float32")
    np.testing.assert_allclose(
        _np(L.ReLU(max_value=2.0, negative_slope=0.1, threshold=1.0)(x)), [[-0.3, -0.15, -0.05, 2.0]], rtol=1e-6
    )
    np.testing.assert_allclose(_np(L.LeakyReLU()(x)), [[-0.6, -0.15, 0.5, 3.0]], rtol=1e-6)
    np.testing.assert_allclose(_np(L.ELU(2.0)(x)), [[2 * np.expm1(-2), 2 * np.expm1(-0.5), 0.5, 3]], rtol=1e-6)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(_np(L.Softmax()(x)), e / e.sum(), rtol=1e-6)
    masked = _np(L.Softmax()(x, mask=np.array([[True, True, False, True]])))
    assert masked[0, 2] < 1e-6 and abs(masked.sum() - 1) < 1e-6


def test_rescaling_and_dropout_inference_identity():
    x = np.array([[0, 255]], "uint8")
    np.testing.assert_allclose(_np(L.Rescaling(1 / 255.0)(x)), [[0, 1]], rtol=1e-6)
    for layer in (L.Dropout(0.5), L.SpatialDropout1D(0.5), L.GaussianNoise(1.0), L.GaussianDropout(0.5)):
        y = np.ones((2, 3, 4), "float32")
        np.testing.assert_array_equal(_np(layer(y)), y)


def test_spatial_dropout_drops_whole_channels():
    x = torch.ones(8, 5, 5, 16)
    y = L.SpatialDropout2D(0.5, seed=3)(x, training=True).numpy()
    per_channel = y.reshape(8, 25, 16)
    assert np.all(per_channel.min(axis=1) == per_channel.max(axis=1))  # each map all-kept or all-dropped
    assert set(np.unique(y)) == {0.0, 2.0}


def test_seeded_random_layers_repeat():
    x = torch.ones(3, 50)
    a = L.Dropout(0.5, seed=7)(x, training=True)
    b = L.Dropout(0.5, seed=7)(x, training=True)
    np.testing.assert_array_equal(_np(a), _np(b))
    g = L.GaussianNoise(0.5, seed=1)(torch.zeros(200, 50), training=True).numpy()
    assert abs(g.std() - 0.5) < 0.02 and abs(g.mean()) < 0.02
