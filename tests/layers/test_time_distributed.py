"""TimeDistributed: a layer applied to every time step, equal to real Keras in values, training and files."""

import numpy as np
import pytest

import strided
from strided import layers

X = np.random.default_rng(0).random((4, 3, 6, 6, 1)).astype("float32")
Y = np.random.default_rng(1).random((4, 3, 2)).astype("float32")


def _model(ks):
    return ks.Sequential(
        [
            ks.Input((3, 6, 6, 1)),
            ks.layers.TimeDistributed(ks.layers.Conv2D(4, 3, activation="relu")),
            ks.layers.TimeDistributed(ks.layers.GlobalAveragePooling2D()),
            ks.layers.Dense(2),
        ]
    )


def test_time_distributed_shares_one_layer_over_frames():
    model = _model(strided)
    assert model.output_shape == (None, 3, 2) and model.layers[0].output_shape == (None, 3, 4, 4, 4)
    assert model.count_params() == (9 * 4 + 4) + (4 * 2 + 2)
    conv = model.layers[0].layer
    out = model.layers[0](X)
    for t in range(3):  # each frame through the same Conv2D
        np.testing.assert_allclose(np.asarray(out[:, t]), np.asarray(conv(X[:, t])), rtol=1e-6)
    with pytest.raises(ValueError, match="`keras.layers.Layer` instance"):
        layers.TimeDistributed(lambda x: x)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        layers.TimeDistributed(layers.Dense(2))(np.ones((2, 3), "float32"))


@pytest.mark.keras
def test_time_distributed_matches_real_keras_and_files_interchange(real_keras, tmp_path):
    ours, theirs = _model(strided), _model(real_keras)
    theirs.set_weights(ours.get_weights())
    for m in (ours, theirs):
        m.compile("sgd", "mse")
    h_ours = ours.fit(X, Y, epochs=2, batch_size=2, shuffle=False, verbose=0).history["loss"]
    h_theirs = theirs.fit(X, Y, epochs=2, batch_size=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h_ours, h_theirs, rtol=1e-5)
    ours.save(str(tmp_path / "ours.keras"))
    loaded = real_keras.models.load_model(str(tmp_path / "ours.keras"))
    np.testing.assert_allclose(loaded.predict(X, verbose=0), ours.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    theirs.save(str(tmp_path / "theirs.keras"))
    back = strided.models.load_model(str(tmp_path / "theirs.keras"))
    np.testing.assert_allclose(back.predict(X, verbose=0), theirs.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
