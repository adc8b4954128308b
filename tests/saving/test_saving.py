"""strided.saving: .keras round trips (strided <-> real Keras), weights files, JSON, clone, atomic writes."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import strided
from strided import layers
from strided.saving import keras_format, saving_api, serialization, serialization_lib

X = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
Y = np.eye(3, dtype="float32")[[0, 1, 2, 0]]


def seed_model():
    """A small seed-style convnet: Conv2D, BatchNormalization, pooling, Flatten, Dense."""
    return strided.Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


def functional_model():
    inp = strided.Input((8, 8, 1))
    a = layers.Conv2D(2, 1, name="branch")(inp)
    b = layers.Conv2D(2, 3, padding="same")(inp)
    x = layers.Add()([a, b])
    out = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling2D()(x))
    return strided.Model(inp, out, name="twobranch")


def trained(model):
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, epochs=2, batch_size=2, verbose=0)
    return model


def test_keras_roundtrip_strided_to_strided_with_optimizer(tmp_path):
    model = trained(seed_model())
    path = str(tmp_path / "m.keras")
    saving_api.save_model(model, path)
    assert set(zipfile.ZipFile(path).namelist()) == {"metadata.json", "config.json", "model.weights.h5"}
    loaded = saving_api.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    for a, b in zip(loaded.optimizer.get_weights(), model.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(loaded.optimizer.iterations) == 4
    # training goes on from the same state: one more step gives the same weights on both
    loaded.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    model.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.keras
@pytest.mark.parametrize("build", [seed_model, functional_model])
def test_strided_file_loads_in_keras(real_keras, tmp_path, build):
    model = trained(build())
    path = str(tmp_path / "m.keras")
    model.save(path) if hasattr(model, "save") else saving_api.save_model(model, path)
    theirs = real_keras.models.load_model(path)
    np.testing.assert_allclose(theirs.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-5)
    assert int(theirs.optimizer.iterations.numpy()) == int(model.optimizer.iterations)


@pytest.mark.keras
@pytest.mark.parametrize("functional", [False, True])
def test_keras_file_loads_in_strided(real_keras, tmp_path, functional):
    k = real_keras
    if functional:
        inp = k.Input((8, 8, 1))
        a = k.layers.Conv2D(2, 1, name="branch")(inp)
        b = k.layers.Conv2D(2, 3, padding="same")(inp)
        out = k.layers.Dense(3)(k.layers.GlobalAveragePooling2D()(k.layers.Add()([a, b])))
        theirs = k.Model(inp, out)
    else:
        theirs = k.Sequential(
            [
                k.Input((8, 8, 1)),
                k.layers.Conv2D(4, 3, activation="relu"),
                k.layers.BatchNormalization(),
                k.layers.MaxPooling2D(),
                k.layers.Flatten(),
                k.layers.Dense(3, activation="softmax"),
            ]
        )
    theirs.compile(optimizer="adam", loss="categorical_crossentropy")
    theirs.fit(X, Y, epochs=1, batch_size=2, verbose=0)
    path = str(tmp_path / "k.keras")
    theirs.save(path)
    ours = saving_api.load_model(path)
    np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0), atol=1e-5)
    assert int(ours.optimizer.iterations) == 2
    # weights-only files too
    theirs.save_weights(str(tmp_path / "k.weights.h5"))
    fresh = saving_api.load_model(path, compile=False)
    fresh.set_weights([np.zeros_like(w) for w in fresh.get_weights()])
    saving_api.load_weights(fresh, str(tmp_path / "k.weights.h5"))
    np.testing.assert_allclose(fresh.predict(X, verbose=0), theirs.predict(X, verbose=0), atol=1e-5)


def test_weights_h5_roundtrip_and_legacy_h5(tmp_path):
    model = functional_model()
    for name in ("w.weights.h5", "w.h5"):
        path = str(tmp_path / name)
        saving_api.save_weights(model, path)
        other = functional_model()
        saving_api.load_weights(other, path)
        np.testing.assert_array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))


def test_legacy_full_model_h5_roundtrip(tmp_path):
    model = trained(seed_model())
    path = str(tmp_path / "m.h5")
    saving_api.save_model(model, path)
    loaded = saving_api.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    assert loaded.compiled


@pytest.mark.keras
def test_keras2_style_h5_full_model_loads(real_keras, tmp_path):
    from keras.src.legacy.saving import legacy_h5_format

    k = real_keras
    theirs = k.Sequential([k.Input((8, 8, 1)), k.layers.Conv2D(2, 3), k.layers.Flatten(), k.layers.Dense(3)])
    path = str(tmp_path / "legacy.h5")
    legacy_h5_format.save_model_to_hdf5(theirs, path)
    ours = saving_api.load_model(path, compile=False)
    np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0), atol=1e-5)


def test_json_and_config_roundtrip_keep_architecture():
    model = functional_model()
    text = serialization.model_to_json(model)
    config = json.loads(text)
    assert config["class_name"] == "Functional"
    assert [entry["name"] for entry in config["config"]["layers"]][0] == model.layers[0].name
    clone = serialization.model_from_json(text)
    assert [type(l).__name__ for l in clone.layers] == [type(l).__name__ for l in model.layers]
    assert clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(X, verbose=0), model.predict(X, verbose=0))
    seq = seed_model()
    seq2 = serialization.model_from_json(serialization.model_to_json(seq))
    assert seq2.output_shape == seq.output_shape and seq2.count_params() == seq.count_params()


@pytest.mark.keras
def test_strided_json_builds_in_keras(real_keras):
    model = functional_model()
    theirs = real_keras.models.model_from_json(serialization.model_to_json(model))
    theirs.set_weights(model.get_weights())
    np.testing.assert_allclose(theirs.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-5)


def test_clone_model_has_fresh_weights_same_structure():
    model = functional_model()
    clone = serialization.clone_model(model)
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert clone.count_params() == model.count_params()
    kernel_a = model.get_layer("branch").get_weights()[0]
    kernel_b = clone.get_layer("branch").get_weights()[0]
    assert not np.array_equal(kernel_a, kernel_b)  # re-initialized, as Keras clones


def test_bad_files_name_the_file_and_leave_the_model_unchanged(tmp_path):
    model = seed_model()
    before = [w.copy() for w in model.get_weights()]
    other = functional_model()
    wrong = str(tmp_path / "other.weights.h5")
    saving_api.save_weights(other, wrong)
    with pytest.raises(ValueError, match="other.weights.h5"):
        saving_api.load_weights(model, wrong)
    path = str(tmp_path / "m.keras")
    saving_api.save_model(model, path)
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(tmp_path / "broken.keras", "w") as out:
        out.writestr("config.json", z.read("config.json"))
    with pytest.raises(ValueError, match="model.weights.h5"):
        saving_api.load_model(str(tmp_path / "broken.keras"))
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.keras"):
        saving_api.load_model(str(tmp_path / "junk.keras"))
    data = open(wrong, "rb").read()
    (tmp_path / "cut.weights.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.weights.h5"):
        saving_api.load_weights(model, str(tmp_path / "cut.weights.h5"))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.raises(ValueError, match="extension"):
        saving_api.save_model(model, str(tmp_path / "m.txt"))


def test_interrupted_save_leaves_old_file_loadable(tmp_path, monkeypatch):
    model = seed_model()
    path = str(tmp_path / "m.keras")
    saving_api.save_model(model, path)
    expected = model.predict(X, verbose=0)
    model.layers[-1].set_weights([w + 1 for w in model.layers[-1].get_weights()])

    def crash(fileobj, *args, **kwargs):
        fileobj.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(keras_format, "write_keras_zip", crash)
    with pytest.raises(KeyboardInterrupt):
        saving_api.save_model(model, path)
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]  # no temp file left behind
    np.testing.assert_array_equal(saving_api.load_model(path).predict(X, verbose=0), expected)


def test_killed_writer_process_leaves_old_file(tmp_path):
    path = tmp_path / "w.weights.h5"
    model = seed_model()
    saving_api.save_weights(model, str(path))
    original = path.read_bytes()
    code = (
        "import os, strided\n"
        "from strided import layers\n"
        "from strided.saving import saving_api, keras_format\n"
        "m = strided.Sequential([layers.Input((8, 8, 1)), layers.Flatten(), layers.Dense(2)])\n"
        "def die(f, model, include_optimizer=True):\n"
        "    f.create_group('layers'); f.flush(); os._exit(9)\n"
        "keras_format.write_weights = die\n"
        f"saving_api.save_weights(m, {str(path)!r})\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    assert proc.returncode == 9, proc.stderr.decode()[-2000:]
    assert path.read_bytes() == original
    fresh = seed_model()
    saving_api.load_weights(fresh, str(path))
    np.testing.assert_array_equal(fresh.predict(X, verbose=0), model.predict(X, verbose=0))


def test_lambda_bytecode_refused_in_safe_mode():
    import base64
    import marshal

    code = base64.b64encode(marshal.dumps((lambda x: x * 2).__code__)).decode("ascii")
    config = {"class_name": "__lambda__", "config": {"code": code, "defaults": None, "closure": None}}
    with pytest.raises(ValueError, match="safe_mode=False"):
        serialization_lib._clean_value({"function": config}, safe_mode=True)
    fn = serialization_lib._clean_value({"function": config}, safe_mode=False)["function"]
    assert fn(3) == 6


@pytest.mark.keras
def test_accumulating_ema_optimizer_state_round_trips_with_keras(real_keras, tmp_path):
    # Weight averages and gradient accumulators are saved in Keras's order, so Keras resumes our state.
    model = seed_model()
    model.compile(
        optimizer=strided.optimizers.Adam(0.01, use_ema=True, gradient_accumulation_steps=3),
        loss="categorical_crossentropy",
    )
    model.fit(X, Y, epochs=2, batch_size=1, verbose=0, shuffle=False)  # 8 steps: 2 accumulated, not applied
    path = str(tmp_path / "m.keras")
    model.save(path)
    theirs = real_keras.models.load_model(path)
    assert int(theirs.optimizer.iterations.numpy()) == int(model.optimizer.iterations) == 2
    keras_state = [real_keras.ops.convert_to_numpy(v) for v in theirs.optimizer.variables]
    ours = model.optimizer.get_weights()  # slots in torch layout: compare in Keras layout
    ours = keras_format.optimizer_store_layout(model.optimizer, {str(i): w for i, w in enumerate(ours)}, to_keras=True)
    assert len(ours) == len(keras_state)
    for i, b in enumerate(keras_state):
        np.testing.assert_allclose(ours[str(i)], b, rtol=1e-6)
    assert int(keras_state[0]) == 8 and np.abs(keras_state[-1]).sum() > 0  # raw count; pending accumulators


@pytest.mark.keras
def test_normalization_layers_round_trip_with_keras(real_keras, tmp_path):
    # An adapted Normalization (mean, variance, count) and GroupNormalization/UnitNormalization: files
    # written by either library load in the other with the same outputs.
    x = (np.random.default_rng(3).random((30, 4, 4, 3)) * 5).astype("float32")
    norm = layers.Normalization()
    norm.adapt(x)
    ours = strided.Sequential(
        [
            strided.Input((4, 4, 3)),
            norm,
            layers.GroupNormalization(groups=3),
            layers.UnitNormalization(),
            layers.Flatten(),
            layers.Dense(2),
        ]
    )
    ours.save(str(tmp_path / "ours.keras"))
    theirs = real_keras.models.load_model(str(tmp_path / "ours.keras"))
    np.testing.assert_allclose(theirs.predict(x[:4], verbose=0), ours.predict(x[:4], verbose=0), atol=1e-5)
    k = real_keras
    keras_model = k.Sequential(
        [
            k.Input((4, 4, 3)),
            k.layers.Normalization(),
            k.layers.GroupNormalization(groups=3),
            k.layers.Flatten(),
            k.layers.Dense(2),
        ]
    )
    keras_model.layers[0].adapt(x)
    keras_model.save(str(tmp_path / "theirs.keras"))
    loaded = saving_api.load_model(str(tmp_path / "theirs.keras"))
    np.testing.assert_allclose(loaded.predict(x[:4], verbose=0), keras_model.predict(x[:4], verbose=0), atol=1e-5)


@pytest.mark.keras
def test_arithmetic_on_symbolic_tensors_saves_as_keras_ops(real_keras, tmp_path):
    # x + 3, 3 - x, x * 0.5, x / 2, -x in a functional model are keras.ops operations in Keras's files.
    x = np.random.default_rng(5).random((3, 4)).astype("float32")

    def graph(ks):
        inputs = ks.Input((4,))
        h = ks.layers.Dense(3)(inputs)
        return ks.Model(inputs, -((3.0 - h / 2.0) * 0.5 + h))

    ours = graph(strided)
    ours.save(str(tmp_path / "ours.keras"))
    config = json.loads(zipfile.ZipFile(str(tmp_path / "ours.keras")).read("config.json"))
    ops_written = [(l["module"], l["class_name"]) for l in config["config"]["layers"][2:]]
    assert ops_written == [
        ("keras.src.ops.numpy", c) for c in ("TrueDivide", "Subtract", "Multiply", "Add", "Negative")
    ]
    theirs = real_keras.models.load_model(str(tmp_path / "ours.keras"))
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(
        saving_api.load_model(str(tmp_path / "ours.keras")).predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-6
    )
    keras_model = graph(real_keras)
    keras_model.save(str(tmp_path / "theirs.keras"))
    np.testing.assert_allclose(
        saving_api.load_model(str(tmp_path / "theirs.keras")).predict(x, verbose=0),
        keras_model.predict(x, verbose=0),
        rtol=1e-6,
    )


@pytest.mark.keras
def test_indexing_symbolic_tensors_saves_as_keras_get_item(real_keras, tmp_path):
    # x[:, 1:3, ::2], y[..., 0], z[:, None], t[-1] are Keras GetItem operations with __slice__/__ellipsis__ keys.
    x = np.random.default_rng(7).random((3, 4, 5)).astype("float32")

    def graph(ks):
        inputs = ks.Input((4, 5))
        h = ks.layers.Dense(6)(inputs)[:, 1:3, ::2]
        return ks.Model(inputs, [h[..., 0][:, None], h[:, -1]])

    ours = graph(strided)
    assert [tuple(t.shape) for t in ours.outputs] == [(None, 1, 2), (None, 3)]
    ours.save(str(tmp_path / "ours.keras"))
    config = json.loads(zipfile.ZipFile(str(tmp_path / "ours.keras")).read("config.json"))
    keys = [l["inbound_nodes"][0]["args"][1] for l in config["config"]["layers"] if l["class_name"] == "GetItem"]
    assert keys[0] == [
        {"class_name": "__slice__", "config": {"start": None, "stop": None, "step": None}},
        {"class_name": "__slice__", "config": {"start": 1, "stop": 3, "step": None}},
        {"class_name": "__slice__", "config": {"start": None, "stop": None, "step": 2}},
    ]
    assert keys[1] == [{"class_name": "__ellipsis__", "config": {}}, 0]
    theirs = real_keras.models.load_model(str(tmp_path / "ours.keras"))
    for a, b in zip(theirs.predict(x, verbose=0), ours.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    keras_model = graph(real_keras)
    keras_model.save(str(tmp_path / "theirs.keras"))
    loaded = saving_api.load_model(str(tmp_path / "theirs.keras"))
    for a, b in zip(loaded.predict(x, verbose=0), keras_model.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_indexing_a_symbolic_tensor_rejects_keys_keras_cannot_record():
    inputs = strided.Input((4, 5))
    with pytest.raises(ValueError, match="integers, slices, None"):
        inputs[inputs]
    with pytest.raises(ValueError, match="only one ellipsis"):
        inputs[..., 0, ...]
    with pytest.raises(ValueError, match=r"out of range for a tensor of shape \(None, 4, 5\).*key=\(slice"):
        inputs[:, 9]


@pytest.mark.keras
def test_mobilenet_v3_whole_model_file_interchanges_with_keras(real_keras, tmp_path):
    x = (np.random.default_rng(6).random((2, 64, 64, 3)) * 255).astype("float32")
    ours = strided.applications.MobileNetV3Small(weights=None, input_shape=(64, 64, 3), classes=5)
    ours.save(str(tmp_path / "ours.keras"))
    theirs = real_keras.models.load_model(str(tmp_path / "ours.keras"))
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0), atol=1e-5)
