"""Values match real Keras 3 (torch backend) with identical weights, over random layer configurations.

Each case builds the same layer in Keras and in strided, gives the Keras layer random weights, copies
them with get_weights/set_weights (Keras layout on both sides) and compares outputs on one random input.
"""

import numpy as np
import pytest
import torch

from strided import layers as L
from strided.ops import reference

RTOL = ATOL = 1e-5


def _np(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _randomize(keras_layer, rng):
    weights = []
    for w in keras_layer.get_weights():
        r = rng.standard_normal(w.shape).astype(w.dtype)
        weights.append(np.abs(r) + 0.5 if "variance" in str(w.shape) else r)
    names = [v.path for v in keras_layer.weights]
    weights = [np.abs(w) + 0.5 if "variance" in n else w for w, n in zip(weights, names)]
    keras_layer.set_weights(weights)


def compare(keras, cls_name, kwargs, shape, rng, training=False, inputs=None):
    """Builds ``cls_name(**kwargs)`` in both libraries, copies weights, returns (keras_out, strided_out, layers)."""
    kl = getattr(keras.layers, cls_name)(**kwargs)
    sl = getattr(L, cls_name)(**kwargs)
    if inputs is None:
        inputs = (
            [rng.standard_normal(s).astype("float32") for s in shape]
            if isinstance(shape, list)
            else rng.standard_normal(shape).astype("float32")
        )
    kl(inputs)
    sl(inputs)
    _randomize(kl, rng)
    sl.set_weights(kl.get_weights())
    ky = _np(kl(inputs, training=training))
    sy = _np(sl(inputs, training=training))
    assert ky.shape == sy.shape, (cls_name, kwargs, shape, ky.shape, sy.shape)
    np.testing.assert_allclose(sy, ky, rtol=RTOL, atol=ATOL, err_msg=f"{cls_name}({kwargs}) on {shape}")
    return kl, sl


def _conv_configs(rank, n, seed, transpose=False):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = tuple(int(v) for v in rng.integers(1, 5, rank))
        if rng.random() < 0.3 and not transpose:
            s, d = (1,) * rank, tuple(int(v) for v in rng.integers(1, 4, rank))
        else:
            s, d = tuple(int(v) for v in rng.integers(1, 4, rank)), (1,) * rank
        paddings = ["valid", "same"] + (["causal"] if rank == 1 and not transpose else [])
        padding = str(rng.choice(paddings))
        fmt = str(rng.choice(["channels_last", "channels_first"]))
        size = tuple(int((kk - 1) * dd + 1 + rng.integers(0, 5)) for kk, dd in zip(k, d))
        cfg = dict(kernel_size=k, strides=s, padding=padding, data_format=fmt)
        if not transpose:
            cfg["dilation_rate"] = d
        elif rng.random() < 0.4:
            cfg["output_padding"] = tuple(int(rng.integers(0, ss)) for ss in s)
        out.append((cfg, size))
    return out


def _input_shape(size, channels, fmt, batch=2):
    return (batch,) + size + (channels,) if fmt == "channels_last" else (batch, channels) + size


@pytest.mark.parametrize("rank, n, seed", [(1, 10, 1), (2, 16, 2), (3, 4, 3)])
def test_conv_matches_keras(real_keras, rank, n, seed):
    rng = np.random.default_rng(seed)
    name = f"Conv{rank}D"
    for cfg, size in _conv_configs(rank, n, seed):
        groups = int(rng.choice([1, 2])) if cfg["padding"] != "causal" else 1
        channels = 2 * int(rng.integers(1, 3))
        filters = groups * int(rng.integers(1, 4))
        if cfg["padding"] == "causal" and cfg["data_format"] == "channels_first":
            cfg["data_format"] = "channels_last"
        compare(
            real_keras,
            name,
            dict(cfg, filters=filters, groups=groups, activation="tanh"),
            _input_shape(size, channels, cfg["data_format"]),
            rng,
        )


@pytest.mark.parametrize("rank, n, seed", [(1, 8, 11), (2, 12, 12), (3, 3, 13)])
def test_conv_transpose_matches_keras(real_keras, rank, n, seed):
    rng = np.random.default_rng(seed)
    for cfg, size in _conv_configs(rank, n, seed, transpose=True):
        compare(
            real_keras,
            f"Conv{rank}DTranspose",
            dict(cfg, filters=int(rng.integers(1, 4))),
            _input_shape(size, int(rng.integers(1, 4)), cfg["data_format"]),
            rng,
        )


@pytest.mark.parametrize("rank", [1, 2])
def test_depthwise_and_separable_match_keras(real_keras, rank):
    rng = np.random.default_rng(20 + rank)
    for cfg, size in _conv_configs(rank, 6, 30 + rank):
        if cfg["padding"] == "causal":
            cfg["padding"] = "same"
        mult = int(rng.integers(1, 3))
        shape = _input_shape(size, int(rng.integers(1, 4)), cfg["data_format"])
        compare(real_keras, f"DepthwiseConv{rank}D", dict(cfg, depth_multiplier=mult), shape, rng)
        compare(real_keras, f"SeparableConv{rank}D", dict(cfg, depth_multiplier=mult, filters=3), shape, rng)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_pooling_matches_keras(real_keras, rank):
    rng = np.random.default_rng(40 + rank)
    for i in range(8 if rank < 3 else 3):
        pool = tuple(int(v) for v in rng.integers(1, 4, rank))
        strides = None if i % 3 == 0 else tuple(int(v) for v in rng.integers(1, 4, rank))
        padding = ["valid", "same"][i % 2]
        fmt = str(rng.choice(["channels_last", "channels_first"]))
        size = tuple(int(p + rng.integers(0, 5)) for p in pool)
        shape = _input_shape(size, 3, fmt)
        kwargs = dict(pool_size=pool, strides=strides, padding=padding, data_format=fmt)
        compare(real_keras, f"MaxPooling{rank}D", kwargs, shape, rng)
        if padding == "valid":
            compare(real_keras, f"AveragePooling{rank}D", kwargs, shape, rng)
        else:
            # Keras 3.15's torch backend counts the padding in 'same' average pooling when it is
            # asymmetric (it disagrees with TensorFlow and with Keras's own NumPy backend); the
            # oracle here is the float64 NumPy reference, which follows TensorFlow.
            x = rng.standard_normal(shape)
            got = _np(getattr(L, f"AveragePooling{rank}D")(**kwargs)(x.astype("float32")))
            want = reference.average_pool(x, pool, strides, "same", data_format=fmt)
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
        for kind in ("Max", "Average"):
            compare(real_keras, f"Global{kind}Pooling{rank}D", dict(data_format=fmt, keepdims=bool(i % 2)), shape, rng)


@pytest.mark.parametrize(
    "cls, kwargs, shape",
    [
        ("AdaptiveAveragePooling1D", {"output_size": 4}, (2, 9, 3)),
        ("AdaptiveAveragePooling2D", {"output_size": (3, 5)}, (2, 7, 11, 2)),
        ("AdaptiveAveragePooling2D", {"output_size": 2, "data_format": "channels_first"}, (2, 3, 5, 5)),
        ("AdaptiveMaxPooling2D", {"output_size": (4, 3)}, (2, 9, 7, 3)),
        ("AdaptiveMaxPooling3D", {"output_size": 2}, (1, 5, 4, 3, 2)),
        ("AdaptiveAveragePooling3D", {"output_size": (1, 2, 3)}, (1, 4, 5, 6, 2)),
    ],
)
def test_adaptive_pooling_matches_keras(real_keras, cls, kwargs, shape):
    compare(real_keras, cls, kwargs, shape, np.random.default_rng(45))


def test_dense_and_activations_match_keras(real_keras):
    rng = np.random.default_rng(50)
    compare(real_keras, "Dense", dict(units=4, activation="relu"), (3, 5), rng)
    compare(real_keras, "Dense", dict(units=3, activation="softmax", use_bias=False), (2, 4, 5), rng)
    for kwargs in (
        {},
        {"max_value": 1.0},
        {"negative_slope": 0.1, "threshold": 0.3},
        {"max_value": 2.0, "negative_slope": 0.2, "threshold": 0.5},
    ):
        compare(real_keras, "ReLU", kwargs, (4, 6), rng)
    compare(real_keras, "LeakyReLU", {}, (4, 6), rng)
    compare(real_keras, "LeakyReLU", {"negative_slope": 0.05}, (4, 6), rng)
    compare(real_keras, "ELU", {"alpha": 0.7}, (4, 6), rng)
    compare(real_keras, "PReLU", {}, (2, 3, 4), rng)
    compare(real_keras, "PReLU", {"shared_axes": [1, 2]}, (2, 3, 3, 4), rng)
    compare(real_keras, "Softmax", {}, (2, 3, 4), rng)
    compare(real_keras, "Softmax", {"axis": 1}, (2, 3, 4), rng)
    compare(real_keras, "Activation", {"activation": "sigmoid"}, (2, 5), rng)


def test_batch_normalization_matches_keras_in_training_and_inference(real_keras):
    rng = np.random.default_rng(60)
    for kwargs, shape in (
        ({}, (8, 4, 5, 3)),
        ({"axis": 1, "momentum": 0.9}, (6, 3, 4, 4)),
        ({"center": False, "epsilon": 1e-2}, (5, 7)),
        ({"scale": False}, (1, 1, 1, 3)),
    ):
        kl, sl = compare(real_keras, "BatchNormalization", kwargs, shape, rng, training=False)
        x = rng.standard_normal(shape).astype("float32") * 3 + 1
        for _ in range(2):  # two steps: the second starts from updated moving statistics
            ky, sy = _np(kl(x, training=True)), _np(sl(x, training=True))
            np.testing.assert_allclose(sy, ky, rtol=RTOL, atol=ATOL)
            for kw, sw in zip(kl.get_weights(), sl.get_weights()):
                np.testing.assert_allclose(sw, kw, rtol=RTOL, atol=ATOL, err_msg=f"moving stats {kwargs}")
        np.testing.assert_allclose(_np(sl(x)), _np(kl(x)), rtol=RTOL, atol=ATOL)


def test_layer_normalization_matches_keras(real_keras):
    rng = np.random.default_rng(70)
    compare(real_keras, "LayerNormalization", {}, (3, 4, 5), rng)
    compare(real_keras, "LayerNormalization", {"axis": [1, 2], "epsilon": 1e-5}, (3, 4, 5), rng)
    compare(real_keras, "LayerNormalization", {"axis": -1, "center": False}, (3, 4, 5), rng)
    compare(real_keras, "LayerNormalization", {"rms_scaling": True}, (3, 4, 5), rng)


def test_group_and_unit_normalization_match_keras(real_keras):
    rng = np.random.default_rng(75)
    compare(real_keras, "GroupNormalization", {"groups": 2}, (3, 4, 5, 6), rng)
    compare(real_keras, "GroupNormalization", {"groups": 6, "epsilon": 1e-5}, (3, 4, 6), rng)  # instance norm
    compare(real_keras, "GroupNormalization", {"groups": 1, "axis": 1, "center": False}, (2, 4, 3, 3), rng)
    compare(real_keras, "GroupNormalization", {"groups": 3, "scale": False}, (2, 5, 6), rng)
    compare(real_keras, "RMSNormalization", {}, (3, 4, 5), rng)
    compare(real_keras, "RMSNormalization", {"axis": [1, 2], "epsilon": 1e-3}, (3, 4, 5), rng)
    compare(real_keras, "UnitNormalization", {}, (3, 7), rng)
    compare(real_keras, "UnitNormalization", {"axis": [1, 2]}, (3, 4, 5), rng)
    kl, sl = real_keras.layers.GroupNormalization(groups=4), L.GroupNormalization(groups=4)
    x = rng.standard_normal((2, 3, 3, 8)).astype("float32")
    kl(x), sl(x)
    assert [w.shape for w in kl.get_weights()] == [w.shape for w in sl.get_weights()]
    with pytest.raises(ValueError, match=r"Number of groups \(4\) must be a multiple of the number of channels \(6\)"):
        L.GroupNormalization(groups=4)(x[..., :6])
    with pytest.raises(ValueError, match=r"cannot be more than the number of channels \(3\)"):
        L.GroupNormalization(groups=4)(x[..., :3])


@pytest.mark.parametrize("kwargs", [{}, {"axis": None}, {"axis": (1, 3)}, {"invert": True}])
def test_normalization_adapt_matches_keras(real_keras, kwargs):
    rng = np.random.default_rng(77)
    data = (rng.standard_normal((40, 4, 5, 3)) * [1.0, 5.0, 0.2] + [3.0, -2.0, 0.5]).astype("float32")
    kl, sl = real_keras.layers.Normalization(**kwargs), L.Normalization(**kwargs)
    kl.adapt(data)
    sl.adapt(data)
    for kw, sw in zip(kl.get_weights(), sl.get_weights()):
        np.testing.assert_allclose(sw, kw, rtol=1e-5, atol=1e-6)
    x = rng.standard_normal((2, 4, 5, 3)).astype("float32")
    np.testing.assert_allclose(_np(sl(x)), _np(kl(x)), rtol=RTOL, atol=ATOL)
    # batches streamed through adapt give the statistics of the whole array (Keras's merge rule)
    streamed = L.Normalization(**kwargs)
    streamed.adapt([data[:7], data[7:30], data[30:]])
    for a, b in zip(streamed.get_weights()[:2], sl.get_weights()[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_normalization_with_given_statistics_matches_keras(real_keras):
    rng = np.random.default_rng(78)
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    for kwargs in (
        {"mean": [1.0, 2.0, 3.0], "variance": [4.0, 1.0, 0.25]},
        {"axis": None, "mean": 2.0, "variance": 9.0},
        {"mean": [1.0, 2.0, 3.0], "variance": [4.0, 1.0, 0.25], "invert": True},
    ):
        kl, sl = real_keras.layers.Normalization(**kwargs), L.Normalization(**kwargs)
        np.testing.assert_allclose(_np(sl(x)), _np(kl(x)), rtol=RTOL, atol=ATOL, err_msg=str(kwargs))
        assert sl.count_params() == 0 and not sl.weights
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        L.Normalization(mean=1.0)
    norm = L.Normalization()
    norm.adapt(x)
    with pytest.raises(ValueError, match="incompatible shape"):
        norm.adapt(rng.standard_normal((2, 4, 5)).astype("float32"))


def test_reshaping_layers_match_keras(real_keras):
    rng = np.random.default_rng(80)
    cases = [
        ("Flatten", {}, (2, 3, 4, 5)),
        ("Flatten", {"data_format": "channels_first"}, (2, 3, 4, 5)),
        ("Reshape", {"target_shape": (5, -1)}, (2, 3, 4, 5)),
        ("Permute", {"dims": (3, 1, 2)}, (2, 3, 4, 5)),
        ("RepeatVector", {"n": 3}, (2, 4)),
        ("ZeroPadding1D", {"padding": (2, 1)}, (2, 5, 3)),
        ("ZeroPadding2D", {"padding": ((1, 2), (3, 0))}, (2, 4, 5, 3)),
        ("ZeroPadding2D", {"padding": (1, 2), "data_format": "channels_first"}, (2, 3, 4, 5)),
        ("ZeroPadding3D", {"padding": 1}, (1, 2, 3, 2, 2)),
        ("Cropping1D", {"cropping": (1, 2)}, (2, 6, 3)),
        ("Cropping2D", {"cropping": ((1, 0), (2, 1))}, (2, 5, 6, 3)),
        ("Cropping2D", {"cropping": 1, "data_format": "channels_first"}, (2, 3, 5, 6)),
        ("Cropping3D", {"cropping": ((1, 0), (0, 1), (1, 1))}, (1, 3, 3, 4, 2)),
        ("UpSampling1D", {"size": 3}, (2, 4, 3)),
        ("UpSampling2D", {"size": (2, 3)}, (2, 3, 4, 2)),
        ("UpSampling2D", {"size": 2, "interpolation": "bilinear"}, (2, 3, 4, 2)),
        ("UpSampling2D", {"data_format": "channels_first"}, (2, 2, 3, 4)),
        ("UpSampling3D", {"size": (1, 2, 3)}, (1, 2, 2, 2, 2)),
    ]
    for name, kwargs, shape in cases:
        compare(real_keras, name, kwargs, shape, rng)


def test_merging_layers_match_keras(real_keras):
    rng = np.random.default_rng(90)
    for name in ("Add", "Multiply", "Average", "Maximum", "Minimum"):
        compare(real_keras, name, {}, [(2, 3, 4)] * 3, rng)
    compare(real_keras, "Subtract", {}, [(2, 3, 4)] * 2, rng)
    compare(real_keras, "Concatenate", {"axis": 1}, [(2, 3, 4), (2, 5, 4)], rng)
    compare(real_keras, "Dot", {"axes": 1}, [(3, 5), (3, 5)], rng)
    compare(real_keras, "Dot", {"axes": (2, 1), "normalize": True}, [(3, 4, 5), (3, 5, 2)], rng)


def test_preprocessing_layers_match_keras(real_keras):
    rng = np.random.default_rng(100)
    image = (rng.random((2, 9, 12, 3)) * 255).astype("float32")
    compare(real_keras, "Rescaling", {"scale": 1 / 127.5, "offset": -1}, None, rng, inputs=image)
    for kwargs in (
        {"height": 5, "width": 7},
        {"height": 12, "width": 10, "interpolation": "nearest"},
        {"height": 4, "width": 4, "crop_to_aspect_ratio": True},
        {"height": 6, "width": 6, "interpolation": "bicubic"},
    ):
        compare(real_keras, "Resizing", kwargs, None, rng, inputs=image)
    compare(real_keras, "CenterCrop", {"height": 5, "width": 6}, None, rng, inputs=image)
    compare(real_keras, "CenterCrop", {"height": 10, "width": 10}, None, rng, inputs=image)


def _numpy_norm(x, reduce_axes, gamma, beta, eps):
    mean = x.mean(axis=reduce_axes, keepdims=True)
    var = x.var(axis=reduce_axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def test_multi_axis_normalization_matches_numpy():
    # Keras 3 accepts only an int axis for BatchNormalization and fails on a non-last LayerNormalization
    # axis on the torch backend; strided supports both, checked against NumPy (float64).
    rng = np.random.default_rng(110)
    x = torch.from_numpy(rng.standard_normal((4, 2, 3, 5)))
    bn = L.BatchNormalization(axis=[1, 3], momentum=0.8, dtype="float64")
    bn(x)
    gamma, beta = rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    bn.set_weights([gamma, beta, np.zeros((2, 5)), np.ones((2, 5))])
    got = _np(bn(x, training=True))
    x = x.numpy()
    want = _numpy_norm(x, (0, 2), gamma[None, :, None, :], beta[None, :, None, :], 1e-3)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(bn.get_weights()[2], 0.2 * x.mean(axis=(0, 2)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.get_weights()[3], 0.8 + 0.2 * x.var(axis=(0, 2)), rtol=1e-10)
    ln = L.LayerNormalization(axis=1, dtype="float64")
    x = torch.from_numpy(x)
    ln(x)
    g, b = rng.standard_normal(2), rng.standard_normal(2)
    ln.set_weights([g, b])
    want = _numpy_norm(x.numpy(), (1,), g[None, :, None, None], b[None, :, None, None], 1e-3)
    np.testing.assert_allclose(_np(ln(x)), want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "name, kwargs, shape",
    [
        ("Dense", {"units": 3, "activation": "tanh"}, (4, 5)),
        ("Conv2D", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 6, 5, 2)),
        ("Conv1D", {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "padding": "causal"}, (2, 7, 3)),
        ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 3, 4, 2)),
        ("DepthwiseConv2D", {"kernel_size": 2, "depth_multiplier": 2}, (2, 4, 4, 3)),
        ("SeparableConv2D", {"filters": 2, "kernel_size": 3, "padding": "same"}, (2, 4, 5, 3)),
        ("BatchNormalization", {}, (6, 3, 3, 2)),
        ("LayerNormalization", {}, (3, 4)),
        ("PReLU", {}, (3, 4)),
    ],
)
def test_gradients_match_keras(real_keras, name, kwargs, shape):
    """Input and weight gradients of a random-weighted sum of the output (training mode), vs Keras."""
    rng = np.random.default_rng(120)
    x = rng.standard_normal(shape).astype("float32")
    kl, sl = compare(real_keras, name, kwargs, shape, rng, inputs=x)
    xk = torch.tensor(x, requires_grad=True)
    xs = torch.tensor(x, requires_grad=True)
    yk, ys = kl(xk, training=True), sl(xs, training=True)
    r = torch.from_numpy(rng.standard_normal(tuple(ys.shape)).astype("float32"))
    (yk * r).sum().backward()
    (ys * r).sum().backward()
    np.testing.assert_allclose(_np(xs.grad), _np(xk.grad), rtol=1e-4, atol=1e-5)
    k_grads = [_np(v.value.grad) for v in kl.trainable_weights]
    s_grads = [_np(p.grad.permute(*p._keras_layout) if p._keras_layout else p.grad) for p in sl.trainable_weights]
    assert len(k_grads) == len(s_grads) > 0
    for gk, gs in zip(k_grads, s_grads):
        np.testing.assert_allclose(gs, gk, rtol=1e-4, atol=1e-5)
