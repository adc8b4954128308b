"""MobileNetV3Small / MobileNetV3Large vs real Keras: counts, layer names, Keras 2 h5 weights, preprocessing."""

import re
import shutil

import numpy as np
import pytest

from strided.applications import imagenet_utils, mobilenet_v3
from strided.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small

# Parameter counts of Keras 3.15's models (re-checked against real Keras below).
COUNTS = {
    ("MobileNetV3Small", False, 1.0): 2_554_968,
    ("MobileNetV3Large", False, 1.0): 5_507_432,
    ("MobileNetV3Large", True, 0.75): 3_069_400,
}
# Auto-named layers (their numbers depend on the process's history) and the graph operations.
_AUTO = re.compile(
    r"^(input_layer|rescaling|activation|re_lu|global_average_pooling2d|dropout|flatten|add|multiply"
    r"|operation)(_\d+)?$"
)


def _named(model):
    return [(type(l).__name__, l.name) for l in model.layers if not _AUTO.match(l.name)]


def _layer_classes(model):
    # Keras keeps `x + 3` and `x * (1 / 6)` of the hard sigmoid in `model.operations`, not in
    # `model.layers`; strided records them as weightless TorchOperation nodes of the graph.
    return sorted(type(l).__name__ for l in model.layers if type(l).__name__ != "TorchOperation")


@pytest.mark.keras
@pytest.mark.parametrize("name,minimalistic,alpha", list(COUNTS))
def test_counts_and_names_match_keras(real_keras, name, minimalistic, alpha):
    ours = getattr(mobilenet_v3, name)(weights=None, minimalistic=minimalistic, alpha=alpha)
    theirs = getattr(real_keras.applications, name)(weights=None, minimalistic=minimalistic, alpha=alpha)
    assert ours.count_params() == theirs.count_params() == COUNTS[(name, minimalistic, alpha)]
    from strided.saving.keras_format import keras_layer_order

    named = set(_named(ours))
    assert [l.name for l in keras_layer_order(ours) if (type(l).__name__, l.name) in named] == [
        n for _, n in _named(theirs)
    ]
    assert sorted(_named(ours)) == sorted(_named(theirs))
    assert _layer_classes(ours) == _layer_classes(theirs)
    n_ops = sum(type(l).__name__ == "TorchOperation" for l in ours.layers)
    assert (
        n_ops
        == len(theirs.operations) - len(theirs.layers)
        == (0 if minimalistic else 2 * (9 if name == "MobileNetV3Small" else 8))
    )
    assert ours.name == theirs.name == name
    assert ours.input.shape == theirs.input.shape == (None, None, None, 3)
    assert ours.output.shape == theirs.output.shape == (None, 1000)


def _legacy_h5(model, path):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _randomize(model, rng):
    """Random weights everywhere (biases included) and random BatchNormalization statistics."""
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if type(layer).__name__ == "BatchNormalization":
            g, b, m, v = weights
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, g.shape),
                    rng.normal(0, 0.1, b.shape),
                    rng.normal(0, 0.1, m.shape),
                    rng.uniform(0.5, 1.5, v.shape),
                ]
            )
        else:
            layer.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) for w in weights])


@pytest.mark.keras
@pytest.mark.parametrize(
    "name,kw",
    [
        ("MobileNetV3Small", dict(include_top=True, classes=10, classifier_activation=None)),
        ("MobileNetV3Large", dict(include_top=False, pooling="avg", minimalistic=True, alpha=0.75)),
        ("MobileNetV3Small", dict(include_top=False, alpha=1.25, include_preprocessing=False)),
    ],
)
def test_keras_h5_weights_load_and_predict_the_same(real_keras, tmp_path, name, kw):
    rng = np.random.default_rng(0)
    size = 64
    theirs = getattr(real_keras.applications, name)(weights=None, input_shape=(size, size, 3), **kw)
    _randomize(theirs, rng)
    path = str(tmp_path / f"{name}.h5")
    _legacy_h5(theirs, path)  # the Keras 2 layout of the published ImageNet files
    ours = getattr(mobilenet_v3, name)(weights=path, input_shape=(size, size, 3), **kw)
    assert ours.output.shape == theirs.output.shape
    if kw.get("include_preprocessing", True):
        x = mobilenet_v3.preprocess_input(rng.uniform(0, 255, (2, size, size, 3)).astype("float32"))
    else:
        x = rng.uniform(-1, 1, (2, size, size, 3)).astype("float32")
    expected = theirs.predict(x, verbose=0)
    got = ours.predict(x, verbose=0)
    assert np.abs(expected).max() > 1e-2  # a real signal, not all zeros
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


@pytest.mark.keras
def test_preprocess_input_and_decode_predictions_match_keras(real_keras, tmp_path, monkeypatch):
    x = np.random.default_rng(4).uniform(0, 255, (1, 4, 4, 3)).astype("float32")
    assert mobilenet_v3.preprocess_input(x) is x  # a pass-through, as Keras's
    np.testing.assert_array_equal(
        mobilenet_v3.preprocess_input(x.copy()), real_keras.applications.mobilenet_v3.preprocess_input(x.copy())
    )
    (tmp_path / "models").mkdir()
    shutil.copy(imagenet_utils._CLASS_INDEX_FILE, tmp_path / "models" / "imagenet_class_index.json")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    from keras.src.applications import imagenet_utils as kiu
    from keras.src.utils import file_utils

    monkeypatch.setattr(kiu, "CLASS_INDEX", None)
    monkeypatch.setattr(file_utils.config, "keras_home", lambda: str(tmp_path), raising=False)
    preds = np.random.default_rng(5).random((2, 1000)).astype("float32")
    ours = mobilenet_v3.decode_predictions(preds, top=3)
    theirs = real_keras.applications.mobilenet_v3.decode_predictions(preds, top=3)
    assert [[(a, b) for a, b, _ in row] for row in ours] == [[(a, b) for a, b, _ in row] for row in theirs]
    with pytest.raises(ValueError, match="1000"):
        mobilenet_v3.decode_predictions(preds[:, :10])


@pytest.mark.keras
@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(weights="imagenet", alpha=0.5), "alpha"),
        (dict(weights="imagenet", minimalistic=True, alpha=0.75), "alpha"),
        (dict(weights="imagenet", classes=10), "classes"),
        (dict(weights="/no/such/file.h5"), "weights"),
        (dict(weights=None, input_shape=(16, 16, 3)), "at least 32x32"),
    ],
)
def test_argument_errors_match_keras(real_keras, kw, match):
    for builder in (MobileNetV3Small, real_keras.applications.MobileNetV3Small):
        with pytest.raises(ValueError, match=match):
            builder(**kw)


def test_input_tensor_shapes_and_any_input_size():
    import strided

    inp = strided.Input(shape=(48, 40, 3))
    x = strided.layers.Rescaling(1.0)(inp)
    m = MobileNetV3Small(weights=None, include_top=False, input_tensor=x, pooling="max")
    assert m.inputs[0] is inp and m.output.shape == (None, 576)
    with pytest.raises(ValueError, match="input_shape"):
        MobileNetV3Small(weights=None, input_tensor=inp, input_shape=(48, 48, 3))
    # No fixed size even with the top: the classifier is pooled.
    m = MobileNetV3Large(weights=None, classes=7, dropout_rate=0.0)
    assert not any(type(l).__name__ == "Dropout" for l in m.layers)
    for size in (32, 57):
        out = m.predict(np.zeros((1, size, size, 3), "float32"), verbose=0)
        assert out.shape == (1, 7)
        np.testing.assert_allclose(out.sum(), 1.0, rtol=1e-5)
    assert MobileNetV3Large(weights=None, include_top=False, alpha=1.5).output.shape == (None, None, None, 1440)


def test_imagenet_weights_file_names(tmp_path, monkeypatch):
    monkeypatch.setenv("STRIDED_HOME", str(tmp_path))
    monkeypatch.setenv("STRIDED_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    cases = [
        (MobileNetV3Small, {}, "weights_mobilenet_v3_small_224_1.0_float.h5"),
        (
            MobileNetV3Large,
            dict(include_top=False, alpha=0.75),
            "weights_mobilenet_v3_large_224_0.75_float_no_top_v2.h5",
        ),
        (
            MobileNetV3Small,
            dict(minimalistic=True, include_top=False, input_shape=(96, 96, 3)),
            "weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5",
        ),
    ]
    for builder, kw, file_name in cases:
        with pytest.raises(FileNotFoundError) as e, pytest.warns(UserWarning, match="224"):
            builder(weights="imagenet", **kw)
        assert file_name in str(e.value) and "mobilenet_v3/" + file_name in str(e.value)
    assert set(mobilenet_v3.WEIGHTS_HASHES) == {
        f"{t}{m}_224_{a}_float"
        for t in ("small", "large")
        for m, a in (("", "0.75"), ("", "1.0"), ("_minimalistic", "1.0"))
    }


@pytest.mark.keras
def test_keras3_weights_files_both_ways(real_keras, tmp_path):
    rng = np.random.default_rng(1)
    theirs = real_keras.applications.MobileNetV3Small(weights=None, input_shape=(64, 64, 3))
    _randomize(theirs, rng)
    theirs.save_weights(str(tmp_path / "k.weights.h5"))
    ours = MobileNetV3Small(weights=str(tmp_path / "k.weights.h5"), input_shape=(64, 64, 3))
    x = rng.uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    expected = theirs.predict(x, verbose=0)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4, rtol=1e-4)
    ours.save_weights(str(tmp_path / "s.weights.h5"))
    back = real_keras.applications.MobileNetV3Small(weights=None, input_shape=(64, 64, 3))
    back.load_weights(str(tmp_path / "s.weights.h5"))
    np.testing.assert_allclose(back.predict(x, verbose=0), expected, atol=1e-4, rtol=1e-4)
