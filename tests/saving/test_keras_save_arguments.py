"""Model.save's zipped and save_weights' max_shard_size (Keras 3 arguments): accepted by position and by name;
the unzipped directory and sharded weights strided does not write fail with a ValueError naming the argument."""

import numpy as np
import pytest

import strided as keras


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")  # jit_compile="auto", Keras's default: eager on the torch backend
    return model


def test_zipped_true_or_none_saves_the_keras_file(tmp_path):
    model = _model()
    model.save(tmp_path / "a.keras", True, True)  # Keras's positional (filepath, overwrite, zipped)
    model.save(tmp_path / "b.keras", zipped=None)
    for name in ("a.keras", "b.keras"):
        loaded = keras.saving.load_model(tmp_path / name)
        for ours, theirs in zip(loaded.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(ours, theirs)
    assert model.jit_compile is False


def test_zipped_false_and_max_shard_size_raise(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match=r"unzipped directory is not supported.*Received: zipped=False"):
        model.save(tmp_path / "model", zipped=False)
    with pytest.raises(ValueError, match=r"sharded weights are not supported.*Received: max_shard_size=0.25"):
        model.save_weights(tmp_path / "model.weights.json", max_shard_size=0.25)
    assert not any(tmp_path.iterdir())  # nothing written
    model.save_weights(tmp_path / "model.weights.h5", True, None)
    assert (tmp_path / "model.weights.h5").exists()
