"""Quantization (``model.quantize("int8" | "int4")``): same quantized weights, outputs, gradients, configs and
``.keras`` files as real Keras 3.15, LoRA on quantized layers, and Keras's errors."""

import warnings

import numpy as np
import pytest
import torch

import strided
from strided.layers import quantization as q

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 5, 8)).astype("float32")
TOKENS = RNG.integers(0, 20, size=(4, 5))
Y = RNG.normal(size=(4, 5, 6)).astype("float32")


def _model(ks):
    """Embedding -> Dense -> EinsumDense (and a float input branch through the same Dense kind)."""
    tokens = ks.Input((5,), dtype="int32")
    feats = ks.Input((5, 8))
    e = ks.layers.Embedding(20, 8, name="emb")(tokens)
    x = ks.layers.Add()([e, feats])
    x = ks.layers.Dense(12, activation="relu", name="dense")(x)
    x = ks.layers.EinsumDense("abc,cd->abd", output_shape=(None, 6), bias_axes="d", name="einsum")(x)
    return ks.Model([tokens, feats], x)


def _pair(real_keras):
    ours, theirs = _model(strided), _model(real_keras)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def _np(t):
    return np.asarray(t.detach().cpu()) if hasattr(t, "detach") else np.asarray(t)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


CONFIGS = ["int8", "int4", "int4_per_channel"]


def _quantize(model, ks, which):
    if which == "int4_per_channel":
        _quiet(model.quantize, config=ks.quantizers.Int4QuantizationConfig(block_size=-1))
    else:
        _quiet(model.quantize, which)


@pytest.mark.keras
@pytest.mark.parametrize("which", CONFIGS)
def test_quantized_weights_outputs_and_gradients_match_keras(real_keras, which):
    ours, theirs = _pair(real_keras)
    float_out = ours.predict([TOKENS, X], verbose=0)
    _quantize(ours, strided, which)
    _quantize(theirs, real_keras, which)
    assert [(w.path, str(w.dtype).replace("torch.", ""), tuple(w.shape)) for w in ours.weights] == [
        (w.path, w.dtype, tuple(w.shape)) for w in theirs.weights
    ]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=0)
    for name in ("emb", "dense", "einsum"):
        assert ours.get_layer(name).quantization_mode == theirs.get_layer(name).quantization_mode
        assert ours.get_layer(name).dtype_policy.name == theirs.get_layer(name).dtype_policy.name
    out = _np(ours([TOKENS, X]))
    np.testing.assert_allclose(out, _np(theirs([TOKENS, X])), rtol=1e-5, atol=1e-5)
    # quantized inference stays close to float inference
    assert np.abs(out - float_out).max() < (0.05 if which == "int8" else 0.5) * np.abs(float_out).max()
    # gradients with respect to the inputs go through the dequantized kernels, as Keras's custom gradient
    xs = torch.tensor(X, requires_grad=True)
    ours([torch.as_tensor(TOKENS), xs]).square().sum().backward()
    xk = torch.tensor(X, requires_grad=True)
    theirs([torch.as_tensor(TOKENS), xk]).square().sum().backward()
    np.testing.assert_allclose(_np(xs.grad), _np(xk.grad), rtol=1e-4, atol=1e-4)


def test_quantizer_functions_match_keras(real_keras):
    kq = real_keras.quantizers
    w = RNG.normal(size=(13, 7)).astype("float32")
    for ours, theirs in zip(q.abs_max_quantize(w, axis=0), kq.abs_max_quantize(w, axis=0)):
        np.testing.assert_array_equal(_np(ours), _np(theirs))
    for ours, theirs in zip(
        q.abs_max_quantize_grouped_with_zero_point(w, block_size=4),
        kq.abs_max_quantize_grouped_with_zero_point(w, block_size=4, to_numpy=True),
    ):
        np.testing.assert_array_equal(_np(ours), _np(theirs))
    ints = RNG.integers(-8, 8, size=(5, 7)).astype("int8")
    for axis in (0, 1, -1):
        packed, shape, n = q.pack_int4(ints, axis=axis)
        k_packed, k_shape, k_n = kq.pack_int4(ints, axis=axis)
        np.testing.assert_array_equal(_np(packed), _np(k_packed))
        assert (shape, n) == (k_shape, k_n)
        np.testing.assert_array_equal(_np(q.unpack_int4(packed, n, axis=axis)), ints)


@pytest.mark.keras
@pytest.mark.parametrize(
    "equation,shape,out,bias",
    [
        ("ab,bc->ac", (6,), (4,), "c"),
        ("abc,cde->abde", (3, 6), (None, 2, 4), "de"),
        ("abc,bcd->ad", (3, 6), (5,), None),  # (Keras 3.15 cannot quantize "..." equations: it fails in its analysis)
        ("abc,cd->abd", (3, 6), (None, 5), "d"),
        ("abcd,cde->abe", (2, 3, 4), (2, 5), "e"),
    ],
)
def test_einsum_dense_equations_match_keras(real_keras, equation, shape, out, bias):
    x = RNG.normal(size=(2,) + shape).astype("float32")
    for mode in ("int8", "int4"):
        ours = strided.layers.EinsumDense(equation, out, bias_axes=bias)
        theirs = real_keras.layers.EinsumDense(equation, out, bias_axes=bias)
        ours(x), theirs(x)
        ours.set_weights(theirs.get_weights())
        ours.quantize(mode)
        theirs.quantize(mode)
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6)
        np.testing.assert_allclose(_np(ours(x)), _np(theirs(x)), rtol=1e-5, atol=1e-5)


@pytest.mark.keras
@pytest.mark.parametrize("which", CONFIGS)
def test_keras_files_load_both_ways(real_keras, which, tmp_path):
    ours, theirs = _pair(real_keras)
    _quantize(ours, strided, which)
    _quantize(theirs, real_keras, which)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    from_ours = _quiet(real_keras.models.load_model, tmp_path / "ours.keras")
    from_theirs = strided.models.load_model(tmp_path / "theirs.keras")
    expected = _np(theirs([TOKENS, X]))
    for model in (from_ours, from_theirs):
        np.testing.assert_allclose(_np(model([TOKENS, X])), expected, rtol=1e-5, atol=1e-5)
        assert model.get_layer("dense").quantization_mode == ours.get_layer("dense").quantization_mode
    for a, b in zip(from_theirs.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    config = ours.get_layer("dense").get_config()
    assert config["dtype"] == theirs.get_layer("dense").get_config()["dtype"]
    assert config["quantization_config"] == theirs.get_layer("dense").get_config()["quantization_config"]
    clone = strided.layers.Dense.from_config(config)
    clone.build((None, 8))
    assert clone.quantization_mode == ours.get_layer("dense").quantization_mode
    assert [tuple(w.shape) for w in clone.weights] == [tuple(w.shape) for w in ours.get_layer("dense").weights]


@pytest.mark.keras
@pytest.mark.parametrize("mode", ["int8", "int4"])
def test_lora_on_quantized_model_trains_like_keras(real_keras, mode, tmp_path):
    ours, theirs = _pair(real_keras)
    for m in (ours, theirs):
        _quiet(m.quantize, mode)
    rng = np.random.default_rng(5)
    for name, (a_shape, b_shape) in {
        "dense": ((8, 2), (2, 12)),
        "einsum": ((12, 2), (2, 6)),
        "emb": ((20, 2), (2, 8)),
    }.items():
        a = rng.normal(size=a_shape).astype("float32") * 0.3
        b = rng.normal(size=b_shape).astype("float32") * 0.3
        for m in (ours, theirs):
            layer = m.get_layer(name)
            layer.enable_lora(2, lora_alpha=4)
            paths = [w.path.split("/")[-1] for w in layer.weights]
            weights = layer.get_weights()
            weights[paths.index(f"lora_{'embeddings' if name == 'emb' else 'kernel'}_a")] = a
            weights[paths.index(f"lora_{'embeddings' if name == 'emb' else 'kernel'}_b")] = b
            layer.set_weights(weights)
    assert [w.path for w in ours.trainable_weights] == [w.path for w in theirs.trainable_weights]
    np.testing.assert_allclose(_np(ours([TOKENS, X])), _np(theirs([TOKENS, X])), rtol=1e-5, atol=1e-5)
    for m in (ours, theirs):
        m.compile(optimizer="sgd", loss="mse")
    h_ours = ours.fit([TOKENS, X], Y, epochs=1, batch_size=4, shuffle=False, verbose=0).history["loss"]
    h_theirs = theirs.fit([TOKENS, X], Y, epochs=1, batch_size=4, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h_ours, h_theirs, rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # files hold the LoRA update merged and requantized, as Keras's
    ours.save(tmp_path / "lora.keras")
    theirs.save(tmp_path / "lora_keras.keras")
    back = strided.models.load_model(tmp_path / "lora_keras.keras")
    mine = strided.models.load_model(tmp_path / "lora.keras")
    for a, b in zip(mine.get_weights(), back.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_errors_are_keras_style():
    model = _model(strided)
    with pytest.raises(ValueError, match=r"Invalid quantization mode.*Received: mode=int16"):
        model.quantize("int16")
    with pytest.raises(ValueError, match="isn't yet built"):
        strided.layers.Dense(3).quantize("int8")
    with pytest.raises(ValueError, match="Contradictory arguments"):
        model.quantize("int8", config=q.Int4QuantizationConfig())
    with pytest.raises(ValueError, match="block_size must be None, -1, or a positive integer"):
        q.Int4QuantizationConfig(block_size=0)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        model.quantize("int8", bogus=1)
    _quiet(model.quantize, "int8")
    with pytest.raises(ValueError, match=r"already quantized with dtype_policy='int8_from_float32'"):
        model.get_layer("dense").quantize("int4")
    with pytest.raises(ValueError, match="already quantized"):
        _quiet(model.quantize, "int8")

    class MyDense(strided.layers.Dense):
        pass

    layer = MyDense(3)
    layer.build((None, 4))
    with pytest.raises(NotImplementedError, match="MyDense does not have a `quantize` method"):
        layer.quantize("int8")
    layer.quantize("int8", type_check=False)
    assert layer.quantization_mode == "int8"
    sub = strided.Sequential([strided.Input((4,)), MyDense(3)])
    with pytest.warns(UserWarning, match="MyDense does not have a `quantize` method"):
        sub.quantize("int8")
    assert sub.layers[0].quantization_mode is None


def test_filters_and_policy_strings():
    model = _model(strided)
    _quiet(model.quantize, "int8", filters="dense")
    assert [model.get_layer(n).quantization_mode for n in ("emb", "dense", "einsum")] == [None, "int8", None]
    layer = strided.layers.Dense(4, dtype="int4/-1_from_float32")
    layer.build((None, 6))
    assert layer.quantization_mode == "int4"
    assert [w.name for w in layer.weights] == ["bias", "kernel", "kernel_scale"]
    assert layer.dtype == "float32" and layer.dtype_policy.name == "int4/-1_from_float32"
