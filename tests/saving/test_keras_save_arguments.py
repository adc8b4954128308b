"""Model.save's zipped and save_weights' max_shard_size (Keras 3 arguments), by position and by name:
``zipped=False`` writes the archive's files into a folder as Keras does (each library reads the other's);
sharded weights, which strided does not write, fail with a ValueError naming the argument."""

import numpy as np
import pytest

import strided as keras


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
    model.compile("sgd", "mse")  # jit_compile="auto", Keras's default: eager on the torch backend
    return model


def _assert_same_weights(a, b):
    for ours, theirs in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_zipped_true_or_none_saves_the_keras_file(tmp_path):
    model = _model()
    model.save(tmp_path / "a.keras", True, True)  # Keras's positional (filepath, overwrite, zipped)
    model.save(tmp_path / "b.keras", zipped=None)
    for name in ("a.keras", "b.keras"):
        _assert_same_weights(keras.saving.load_model(tmp_path / name), model)
    assert model.jit_compile is False


def test_zipped_false_writes_a_folder_that_loads(tmp_path):
    model = _model()
    model.save(tmp_path / "model", True, False)
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "config.json",
        "metadata.json",
        "model.weights.h5",
    ]
    loaded = keras.saving.load_model(tmp_path / "model")
    _assert_same_weights(loaded, model)
    assert loaded.optimizer.__class__.__name__ == "SGD"
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "model", overwrite=False, zipped=False)
    with pytest.raises(ValueError, match=r"should not end in `\.keras`. Received: filepath=.*m\.keras"):
        model.save(tmp_path / "m.keras", zipped=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"File format not supported: filepath=.*empty"):
        keras.saving.load_model(tmp_path / "empty")  # a folder without config.json


def test_zipped_false_keeps_assets(tmp_path):
    inputs = keras.Input((2,), dtype="int64")
    lookup = keras.layers.IntegerLookup(output_mode="multi_hot", name="ids")
    lookup.adapt(np.array([[7, 3], [7, 9], [3, 7]]))
    model = keras.Model(inputs, lookup(inputs))
    model.save(tmp_path / "lookup", zipped=False)
    assert list((tmp_path / "lookup" / "assets").rglob("vocabulary.txt"))
    back = keras.saving.load_model(tmp_path / "lookup")
    assert back.layers[-1].get_vocabulary() == lookup.get_vocabulary() != []


@pytest.mark.keras
def test_zipped_false_folders_interchange_with_keras(real_keras, tmp_path):
    model = _model()
    model.save(tmp_path / "ours", zipped=False)
    _assert_same_weights(real_keras.saving.load_model(tmp_path / "ours"), model)
    theirs = real_keras.Sequential([real_keras.Input((3,)), real_keras.layers.Dense(2, name="dense")])
    theirs.compile("sgd", "mse")
    theirs.save(tmp_path / "theirs", zipped=False)
    loaded = keras.saving.load_model(tmp_path / "theirs")
    _assert_same_weights(loaded, theirs)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), np.asarray(theirs.predict(x, verbose=0)))


def test_max_shard_size_raises(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match=r"sharded weights are not supported.*Received: max_shard_size=0.25"):
        model.save_weights(tmp_path / "model.weights.json", max_shard_size=0.25)
    assert not any(tmp_path.iterdir())  # nothing written
    model.save_weights(tmp_path / "model.weights.h5", True, None)
    assert (tmp_path / "model.weights.h5").exists()
