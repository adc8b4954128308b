"""SpectralNormalization equals real Keras: power iteration in training (kernel and vector_u),
inference, gradients, fit, weights order, configs and `.keras` files both ways."""

import numpy as np
import pytest
import torch

import strided as keras

RNG = np.random.default_rng(5)

CASES = {
    "dense": (lambda k: k.layers.Dense(4, activation="tanh"), (5, 6)),
    "conv2d": (lambda k: k.layers.Conv2D(3, 3, padding="same"), (2, 7, 7, 2)),
}


def _np(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _pair(real_keras, case, power_iterations):
    make, shape = CASES[case]
    x = RNG.normal(size=shape).astype("float32")
    ours = keras.layers.SpectralNormalization(make(keras), power_iterations=power_iterations)
    theirs = real_keras.layers.SpectralNormalization(make(real_keras), power_iterations=power_iterations)
    ours(x), theirs(x)
    ours.set_weights(theirs.get_weights())  # kernel, vector_u, bias: Keras's order
    return ours, theirs, x


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("power_iterations", [1, 3])
def test_training_steps_and_inference_match_keras(real_keras, case, power_iterations):
    ours, theirs, x = _pair(real_keras, case, power_iterations)
    before = ours.get_weights()
    for step in range(4):
        xs = x * (1 + 0.1 * step)
        np.testing.assert_allclose(_np(ours(xs, training=True)), _np(theirs(xs, training=True)), rtol=1e-5, atol=1e-6)
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(before[0], ours.get_weights()[0])  # the kernel was normalised in place
    assert not np.allclose(before[1], ours.get_weights()[1])  # and u moved
    # inference: the stored kernel as it is, nothing updated
    frozen = ours.get_weights()
    np.testing.assert_allclose(_np(ours(x)), _np(theirs(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(ours(x, training=False)), _np(theirs(x, training=False)), rtol=1e-5, atol=1e-6)
    for a, b in zip(frozen, ours.get_weights()):
        np.testing.assert_array_equal(a, b)
    # as u converges over training calls, the kernel's largest singular value goes to 1
    for _ in range(20):
        ours(x, training=True)
    kernel = ours.get_weights()[0]
    assert np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_match_keras(real_keras, case):
    ours, theirs, x = _pair(real_keras, case, 2)
    grads = []
    for layer in (ours, theirs):
        out = layer(torch.tensor(x), training=True)
        (out**2).sum().backward()
        grads.append([w.value.grad for w in layer.trainable_weights])
    # strided stores kernels in torch layout: compare in Keras layout
    layout = getattr(ours.kernel, "_keras_layout", None)
    kernel_grad = grads[0][0].permute(*layout) if layout else grads[0][0]
    np.testing.assert_allclose(_np(kernel_grad), _np(grads[1][0]), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(grads[0][1]), _np(grads[1][1]), rtol=1e-4, atol=1e-5)
    assert float(kernel_grad.abs().max()) > 0
    assert ours.vector_u.grad is None  # u is not trained


def _models(real_keras):
    def build(k):
        return k.Sequential(
            [
                k.Input((6, 6, 2)),
                k.layers.SpectralNormalization(k.layers.Conv2D(4, 3, activation="relu"), power_iterations=2),
                k.layers.Flatten(),
                k.layers.SpectralNormalization(k.layers.Dense(3)),
            ]
        )

    ours, theirs = build(keras), build(real_keras)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def test_model_weights_summary_and_fit_match_keras(real_keras):
    ours, theirs = _models(real_keras)
    assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert ours.count_params() == theirs.count_params()
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 4
    assert len(ours.non_trainable_weights) == len(theirs.non_trainable_weights) == 2
    x = RNG.normal(size=(16, 6, 6, 2)).astype("float32")
    y = RNG.normal(size=(16, 3)).astype("float32")
    for model, k in ((ours, keras), (theirs, real_keras)):
        model.compile(k.optimizers.SGD(0.05), "mse")
    h1 = ours.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0).history["loss"]
    h2 = theirs.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h1, h2, rtol=1e-4)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


def test_keras_files_round_trip_and_interchange(real_keras, tmp_path):
    ours, theirs = _models(real_keras)
    x = RNG.normal(size=(3, 6, 6, 2)).astype("float32")
    ours(x, training=True), theirs(x, training=True)  # move u and the kernels away from their start
    # strided -> strided
    ours.save(tmp_path / "ours.keras")
    again = keras.models.load_model(tmp_path / "ours.keras")
    assert type(again.layers[0]) is keras.layers.SpectralNormalization
    assert again.layers[0].power_iterations == 2
    for a, b in zip(ours.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(again.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-6)
    # Keras -> strided, strided -> Keras
    theirs.save(tmp_path / "theirs.keras")
    from_keras = keras.models.load_model(tmp_path / "theirs.keras")
    for a, b in zip(from_keras.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(from_keras.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    in_keras = real_keras.models.load_model(tmp_path / "ours.keras")
    for a, b in zip(in_keras.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    # training after loading continues the same power iteration
    np.testing.assert_allclose(
        _np(from_keras.layers[0](x, training=True)), _np(theirs.layers[0](x, training=True)), rtol=1e-5, atol=1e-6
    )


def test_config_round_trip():
    layer = keras.layers.SpectralNormalization(keras.layers.Dense(5, use_bias=False), power_iterations=3, name="sn")
    layer(np.ones((2, 4), "float32"))
    config = layer.get_config()
    assert config["power_iterations"] == 3 and config["layer"]["class_name"] == "Dense"
    clone = keras.layers.SpectralNormalization.from_config(config)
    clone(np.ones((2, 4), "float32"))
    assert clone.get_config() == config
    assert clone.layer.units == 5 and clone.name == "sn"
    assert [w.shape for w in layer.get_weights()] == [(4, 5), (1, 5)]


def test_all_zero_kernel_is_left_unchanged():
    layer = keras.layers.SpectralNormalization(keras.layers.Dense(3, kernel_initializer="zeros"))
    x = np.ones((2, 4), "float32")
    layer(x)
    u = layer.get_weights()[1]
    out = layer(x, training=True)
    assert np.isfinite(_np(out)).all()
    np.testing.assert_array_equal(layer.get_weights()[0], 0.0)
    np.testing.assert_array_equal(layer.get_weights()[1], u)


def test_bad_arguments():
    with pytest.raises(ValueError, match="supplied to Wrapper isn't a supported layer type"):
        keras.layers.SpectralNormalization("dense")
    with pytest.raises(
        ValueError,
        match=r"`power_iterations` should be greater than zero. Received: "
        r"`power_iterations=0`",
    ):
        keras.layers.SpectralNormalization(keras.layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="power_iterations=1.5"):
        keras.layers.SpectralNormalization(keras.layers.Dense(2), power_iterations=1.5)
    with pytest.raises(ValueError, match="Flatten object has no attribute 'kernel' nor 'embeddings'"):
        keras.layers.SpectralNormalization(keras.layers.Flatten())(np.ones((2, 3, 3), "float32"))
    layer = keras.layers.SpectralNormalization(keras.layers.Dense(2))
    layer(np.ones((2, 4), "float32"))
    with pytest.raises(
        ValueError,
        match="expected axis -1 of input shape to have value 4, but received input with "
        r"shape \(2, 5\)",
    ):
        layer(np.ones((2, 5), "float32"))
