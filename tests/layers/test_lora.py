"""LoRA (``Dense(lora_rank=...)`` / ``enable_lora``): same weights, training and files as real Keras."""

import numpy as np
import pytest

import strided
from strided import layers

X = np.random.default_rng(0).random((32, 6)).astype("float32")
Y = np.random.default_rng(1).random((32, 2)).astype("float32")


def _model(ks, lora_rank=None):
    return ks.Sequential(
        [ks.Input((6,)), ks.layers.Dense(5, activation="tanh", lora_rank=lora_rank), ks.layers.Dense(2)]
    )


def test_lora_weights_and_trainability_follow_keras():
    model = _model(strided)
    before = model.count_params()
    dense = model.layers[0]
    dense.enable_lora(3)
    assert [w._keras_name for w in dense.weights] == ["kernel", "bias", "lora_kernel_a", "lora_kernel_b"]
    assert [w._keras_name for w in dense.trainable_weights] == ["bias", "lora_kernel_a", "lora_kernel_b"]
    assert model.count_params() == before + 6 * 3 + 3 * 5
    kernel = dense.get_weights()[0].copy()
    model.compile("adam", "mse")
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    np.testing.assert_array_equal(dense.get_weights()[0], kernel)  # the kernel stays frozen
    assert np.abs(dense.get_weights()[3]).sum() > 0  # B learned
    with pytest.raises(ValueError, match="already enabled"):
        dense.enable_lora(2)
    with pytest.raises(ValueError, match="isn't yet built"):
        layers.Dense(3).enable_lora(2)
    with pytest.raises(ValueError, match="incompatible with kernel constraints"):
        d = layers.Dense(3, kernel_constraint="max_norm")
        d.build((None, 4))
        d.enable_lora(2)


@pytest.mark.keras
def test_lora_training_matches_real_keras(real_keras):
    ours, theirs = _model(strided), _model(real_keras)
    theirs.set_weights(ours.get_weights())
    ours.layers[0].enable_lora(2, lora_alpha=4)
    theirs.layers[0].enable_lora(2, lora_alpha=4)
    rng = np.random.default_rng(2)
    lora = [rng.normal(size=(6, 2)).astype("float32"), rng.normal(size=(2, 5)).astype("float32") * 0.1]
    for m in (ours, theirs):
        weights = m.layers[0].get_weights()
        m.layers[0].set_weights(weights[:2] + lora)
    np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    ours.compile("sgd", "mse")
    theirs.compile("sgd", "mse")
    h_ours = ours.fit(X, Y, epochs=3, batch_size=8, shuffle=False, verbose=0).history["loss"]
    h_theirs = theirs.fit(X, Y, epochs=3, batch_size=8, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h_ours, h_theirs, rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.keras
def test_lora_files_hold_the_merged_kernel_both_ways(real_keras, tmp_path):
    ours = _model(strided, lora_rank=2)
    ours.compile("adam", "mse")
    ours.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    ours.save(str(tmp_path / "ours.keras"))
    theirs = real_keras.models.load_model(str(tmp_path / "ours.keras"))
    assert theirs.layers[0].lora_enabled and theirs.layers[0].lora_rank == 2
    np.testing.assert_allclose(theirs.predict(X, verbose=0), ours.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    back = strided.models.load_model(str(tmp_path / "ours.keras"))
    np.testing.assert_allclose(back.predict(X, verbose=0), ours.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    assert not np.abs(back.layers[0].get_weights()[3]).any()  # the update was merged into the kernel
    keras_model = _model(real_keras, lora_rank=3)
    keras_model.compile("adam", "mse")
    keras_model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    keras_model.save(str(tmp_path / "theirs.keras"))
    loaded = strided.models.load_model(str(tmp_path / "theirs.keras"))
    np.testing.assert_allclose(loaded.predict(X, verbose=0), keras_model.predict(X, verbose=0), rtol=1e-5, atol=1e-6)


@pytest.mark.keras
@pytest.mark.parametrize(
    "cls, kwargs, shape",
    [
        ("Conv2D", {"filters": 4, "kernel_size": 3}, (2, 7, 7, 3)),
        ("Conv1D", {"filters": 3, "kernel_size": 2, "groups": 1}, (2, 6, 2)),
    ],
)
def test_conv_lora_matches_real_keras(real_keras, cls, kwargs, shape):
    x = np.random.default_rng(3).random(shape).astype("float32")
    ours, theirs = (
        getattr(layers, cls)(**kwargs, lora_rank=2, lora_alpha=3),
        getattr(real_keras.layers, cls)(**kwargs, lora_rank=2, lora_alpha=3),
    )
    ours(x), theirs(x)
    rng = np.random.default_rng(4)
    weights = [w if i < 2 else rng.normal(size=w.shape).astype("float32") for i, w in enumerate(theirs.get_weights())]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    assert [tuple(w.shape) for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    np.testing.assert_allclose(np.asarray(ours(x)), theirs(x).detach().cpu().numpy(), rtol=1e-5, atol=1e-5)
    assert [w._keras_name for w in ours.trainable_weights] == ["bias", "lora_kernel_a", "lora_kernel_b"]
    assert ours.get_config()["lora_rank"] == 2 and ours.get_config()["lora_alpha"] == 3
