"""DenseNet121/169/201 and MobileNet (v1) vs real Keras: parameter counts, layer names and classes,
Keras 2 h5 weight files, preprocessing, published weight files and argument errors."""

import inspect
import re

import numpy as np
import pytest

from strided.applications import densenet, mobilenet

# keras.io/api/applications, re-checked against real Keras below.
COUNTS = {
    ("DenseNet121", ()): 8_062_504,
    ("DenseNet169", ()): 14_307_880,
    ("DenseNet201", ()): 20_242_984,
    ("MobileNet", (("alpha", 1.0),)): 4_253_864,
    ("MobileNet", (("alpha", 0.5),)): 1_342_536,
}
_MODULE = {"DenseNet121": densenet, "DenseNet169": densenet, "DenseNet201": densenet, "MobileNet": mobilenet}
_AUTO = re.compile(r"^(input_layer|zero_padding2d|global_average_pooling2d|global_max_pooling2d)(_\d+)?$")


def _named(model):
    """(class, name) of the layers Keras names itself (auto names like zero_padding2d_3 vary per process)."""
    return [(type(l).__name__, l.name) for l in model.layers if not _AUTO.match(l.name)]


def _build(real_keras, name, **kw):
    ours = getattr(_MODULE[name], name)(**kw)
    theirs = getattr(real_keras.applications, name)(**kw)
    return ours, theirs


def _legacy_h5(model, path):
    """Keras's own Keras 2 h5 writer: the layout of the published ImageNet files."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _randomize(model, rng):
    """Random BatchNormalization statistics and biases (Keras initializes them to constants), so that
    loading them is actually tested; kernels are already random (glorot_uniform)."""
    for layer in model.layers:
        values = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":
            g, b, m, v = values
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, g.shape),
                    rng.normal(0, 0.1, b.shape),
                    rng.normal(0, 0.1, m.shape),
                    rng.uniform(0.5, 1.5, v.shape),
                ]
            )
        elif len(values) == 2:  # kernel and bias
            layer.set_weights([values[0], rng.normal(0, 0.1, values[1].shape)])


def _predict_keras(real_keras, model, x):
    return real_keras.ops.convert_to_numpy(model(x, training=False))


@pytest.fixture(scope="module")
def densenet121_pair(real_keras, tmp_path_factory):
    """Keras's DenseNet121 (random weights) saved as a Keras 2 h5 file and loaded into ours through
    ``weights=path``. Built once: a DenseNet121 takes seconds to build on a small CPU. The 32x32 input
    keeps prediction fast and changes no parameter count (global pooling before the classifier)."""
    # Logits (no softmax) so that the comparison of predictions is strict.
    theirs = real_keras.applications.DenseNet121(weights=None, input_shape=(32, 32, 3), classifier_activation=None)
    _randomize(theirs, np.random.default_rng(0))
    path = str(tmp_path_factory.mktemp("densenet") / "densenet121.h5")
    _legacy_h5(theirs, path)
    ours = densenet.DenseNet121(weights=path, input_shape=(32, 32, 3), classifier_activation=None)
    return ours, theirs


@pytest.mark.keras
@pytest.mark.parametrize("name,kw", [("DenseNet121", {}), ("MobileNet", {"alpha": 1.0}), ("MobileNet", {"alpha": 0.5})])
def test_counts_and_names_match_keras(real_keras, request, name, kw):
    if name == "DenseNet121":
        ours, theirs = request.getfixturevalue("densenet121_pair")
    else:
        ours, theirs = _build(real_keras, name, weights=None, **kw)
    assert ours.count_params() == theirs.count_params() == COUNTS[(name, tuple(kw.items()))]
    assert ours.name == theirs.name
    # Same named layers of the same classes, in Keras's order once sorted as Keras's map_graph does.
    from strided.saving.keras_format import keras_layer_order

    named = set(_named(ours))
    assert [l.name for l in keras_layer_order(ours) if (type(l).__name__, l.name) in named] == [
        n for _, n in _named(theirs)
    ]
    assert sorted(_named(ours)) == sorted(_named(theirs))
    assert sorted(type(l).__name__ for l in ours.layers) == sorted(type(l).__name__ for l in theirs.layers)
    assert ours.output.shape == theirs.output.shape


@pytest.mark.keras
def test_mobilenet_variants_match_keras(real_keras):
    for kw in (
        {"alpha": 0.75, "depth_multiplier": 2, "input_shape": (96, 96, 3), "pooling": "max"},
        {"alpha": 0.25, "input_shape": (64, 80, 3)},
        {"alpha": 0.25, "input_shape": (128, 128, 3), "classes": 10, "dropout": 0.5},
    ):
        ours, theirs = _build(real_keras, "MobileNet", weights=None, include_top="classes" in kw, **kw)
        assert ours.count_params() == theirs.count_params()
        assert ours.output.shape == theirs.output.shape
        assert ours.name == theirs.name
        assert sorted(_named(ours)) == sorted(_named(theirs))


@pytest.mark.keras
@pytest.mark.slow
@pytest.mark.parametrize("name", ["DenseNet169", "DenseNet201"])
def test_large_densenet_counts_match_keras(real_keras, name):
    ours, theirs = _build(real_keras, name, weights=None, input_shape=(32, 32, 3))
    assert ours.count_params() == theirs.count_params() == COUNTS[(name, ())]
    assert sorted(_named(ours)) == sorted(_named(theirs))


@pytest.mark.keras
def test_densenet121_keras_h5_weights_predict_the_same(real_keras, densenet121_pair):
    ours, theirs = densenet121_pair
    x = densenet.preprocess_input(np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32"))
    got, want = ours.predict(x, verbose=0), _predict_keras(real_keras, theirs, x)
    assert got.shape == want.shape == (2, 1000)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


@pytest.mark.keras
@pytest.mark.parametrize(
    "kw,size",
    [
        ({"alpha": 1.0, "include_top": False, "pooling": "avg"}, 64),
        ({"alpha": 0.5, "include_top": True, "classes": 7, "dropout": 0.3, "classifier_activation": None}, 40),
    ],
)
def test_mobilenet_keras_h5_weights_load_and_predict_the_same(real_keras, tmp_path, kw, size):
    rng = np.random.default_rng(0)
    theirs = real_keras.applications.MobileNet(weights=None, input_shape=(size, size, 3), **kw)
    _randomize(theirs, rng)
    path = str(tmp_path / "mobilenet.h5")
    _legacy_h5(theirs, path)
    ours = mobilenet.MobileNet(weights=path, input_shape=(size, size, 3), **kw)
    x = mobilenet.preprocess_input(rng.uniform(0, 255, (2, size, size, 3)).astype("float32"))
    got, want = ours.predict(x, verbose=0), _predict_keras(real_keras, theirs, x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


@pytest.mark.keras
def test_keras3_weights_file_loads_into_mobilenet(real_keras, tmp_path):
    rng = np.random.default_rng(1)
    theirs = real_keras.applications.MobileNet(
        weights=None, alpha=0.25, input_shape=(32, 32, 3), classes=5, classifier_activation=None
    )
    _randomize(theirs, rng)
    path = str(tmp_path / "m.weights.h5")
    theirs.save_weights(path)
    ours = mobilenet.MobileNet(weights=path, alpha=0.25, input_shape=(32, 32, 3), classes=5, classifier_activation=None)
    x = mobilenet.preprocess_input(rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32"))
    np.testing.assert_allclose(ours.predict(x, verbose=0), _predict_keras(real_keras, theirs, x), atol=1e-4, rtol=1e-4)


@pytest.mark.keras
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_preprocess_input_matches_keras(real_keras, data_format):
    import torch
    from keras.src.applications import densenet as kd
    from keras.src.applications import mobilenet as km

    rng = np.random.default_rng(3)
    shape = (2, 5, 6, 3) if data_format == "channels_last" else (2, 3, 5, 6)
    x = rng.uniform(0, 255, shape).astype("float32")
    original = x.copy()
    for ours_mod, theirs_mod in ((densenet, kd), (mobilenet, km)):
        theirs = np.asarray(theirs_mod.preprocess_input(x.copy(), data_format=data_format))
        ours = ours_mod.preprocess_input(x, data_format=data_format)
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-5, err_msg=ours_mod.__name__)
        np.testing.assert_allclose(
            ours_mod.preprocess_input(torch.tensor(x), data_format=data_format).numpy(), theirs, rtol=1e-6, atol=1e-5
        )
        uint8 = ours_mod.preprocess_input(x.astype("uint8"), data_format=data_format)
        np.testing.assert_allclose(
            uint8,
            np.asarray(theirs_mod.preprocess_input(x.astype("uint8"), data_format=data_format)),
            rtol=1e-6,
            atol=1e-5,
        )
    assert np.array_equal(x, original)  # the input is not modified
    ours_top = densenet.decode_predictions(np.eye(1000, dtype="float32")[[250]], top=1)
    assert ours_top[0][0][:2] == ("n02110185", "Siberian_husky")
    assert mobilenet.decode_predictions(np.eye(1000, dtype="float32")[[250]], top=1) == ours_top


@pytest.mark.keras
def test_published_weight_files_are_keras_files(real_keras, tmp_path, monkeypatch):
    from keras.src.applications import densenet as kd
    from keras.src.applications import mobilenet as km

    source = inspect.getsource(kd)
    for blocks, (weights_name, top_hash, notop_hash) in densenet.WEIGHTS.items():
        assert f"{list(blocks)}" in source and top_hash in source and notop_hash in source
        assert f'"{weights_name}_weights_tf_dim_ordering_tf_kernels.h5"' in source
    assert densenet.BASE_WEIGHTS_PATH == kd.BASE_WEIGHTS_PATH
    assert mobilenet.BASE_WEIGHT_PATH == km.BASE_WEIGHT_PATH
    # DenseNet: the file, hash and URL handed to the loader (recorded instead of read, so the test
    # needs no 30 MB download); the model is built as with weights=None.
    import strided
    from strided.applications import imagenet_utils

    calls = []
    real_load = imagenet_utils.load_pretrained
    monkeypatch.setattr(
        imagenet_utils, "load_pretrained", lambda model, weights, *args: calls.append(args) or real_load(model, None)
    )
    inp = strided.Input(shape=(64, 64, 3))
    x = strided.layers.Rescaling(1.0 / 127.5, offset=-1)(inp)
    m = densenet.DenseNet121(include_top=False, input_tensor=x, pooling="max")
    name = "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert calls == [(name, "30ee3e1110167f948a6b9946edeeb738", kd.BASE_WEIGHTS_PATH + name)]
    assert kd.DENSENET121_WEIGHT_PATH_NO_TOP == kd.BASE_WEIGHTS_PATH + name
    # The no-top model with pooling: the input tensor's source is the input; DenseNet121's count less
    # the 1024 x 1000 + 1000 parameters of `predictions`.
    assert m.inputs[0] is inp and m.output.shape == (None, 1024) and m.layers[-1].name == "max_pool"
    assert m.count_params() == COUNTS[("DenseNet121", ())] - 1_025_000
    monkeypatch.setattr(imagenet_utils, "load_pretrained", real_load)
    # MobileNet, offline with an empty cache: the error names the file that Keras would fetch.
    monkeypatch.setenv("STRIDED_HOME", str(tmp_path))
    monkeypatch.setenv("STRIDED_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    cases = [
        ({}, "mobilenet_1_0_224_tf.h5"),
        ({"input_shape": (160, 160, 3)}, "mobilenet_1_0_160_tf.h5"),
        ({"alpha": 0.5, "input_shape": (192, 192, 3), "include_top": False}, "mobilenet_5_0_192_tf_no_top.h5"),
        ({"alpha": 0.75, "input_shape": (128, 128, 3)}, "mobilenet_7_5_128_tf.h5"),
        ({"alpha": 0.25, "input_shape": (128, 128, 3)}, "mobilenet_2_5_128_tf.h5"),
    ]
    for kw, file_name in cases:
        with pytest.raises(FileNotFoundError, match=re.escape(km.BASE_WEIGHT_PATH + file_name)):
            mobilenet.MobileNet(**kw)
    # A size with no published weights falls back to the 224 file, with Keras's warning.
    with (
        pytest.warns(UserWarning, match=r"\[128, 160, 192, 224\]"),
        pytest.raises(FileNotFoundError, match="mobilenet_7_5_224_tf_no_top.h5"),
    ):
        mobilenet.MobileNet(alpha=0.75, include_top=False, input_shape=(100, 100, 3))


@pytest.mark.keras
def test_argument_errors_match_keras(real_keras):
    # Same ValueError messages as Keras for MobileNet's ImageNet-only checks.
    for kw in ({"depth_multiplier": 2}, {"alpha": 0.35}):
        with pytest.raises(ValueError) as theirs:
            real_keras.applications.MobileNet(**kw)
        with pytest.raises(ValueError) as ours:
            mobilenet.MobileNet(**kw)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="input_shape"):
        mobilenet.MobileNet(input_shape=(100, 100, 3))  # top + imagenet: a published size only
    with pytest.raises(ValueError, match="at least 32x32"):
        densenet.DenseNet121(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="classes"):
        densenet.DenseNet169(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="weights"):
        mobilenet.MobileNet(weights="/no/such/file.h5")
    with pytest.raises(ValueError, match="classifier_activation"):
        mobilenet.MobileNet(weights="imagenet", classifier_activation="relu")
    with pytest.raises(ValueError, match="blocks"):
        densenet.DenseNet((6, 12, 24), weights=None)
    with pytest.raises(ValueError, match="published ImageNet weights"):
        densenet.DenseNet((1, 1, 1, 1), weights="imagenet", include_top=False)
    from strided import config

    config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="channels_first"):
            densenet.DenseNet121(weights=None)
    finally:
        config.set_image_data_format("channels_last")


@pytest.mark.keras
def test_mobilenet_channels_first_matches_keras(real_keras):
    from strided import config

    config.set_image_data_format("channels_first")
    real_keras.config.set_image_data_format("channels_first")
    try:
        ours, theirs = _build(
            real_keras, "MobileNet", weights=None, alpha=0.25, include_top=False, input_shape=(3, 64, 64)
        )
        assert ours.output.shape == theirs.output.shape == (None, 256, 2, 2)
        assert ours.count_params() == theirs.count_params()
        assert ours.name == theirs.name == "mobilenet_0.25_64"
    finally:
        config.set_image_data_format("channels_last")
        real_keras.config.set_image_data_format("channels_last")
