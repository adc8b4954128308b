"""InceptionV3 and EfficientNetB0-B7 vs real Keras: parameter counts, layer names and classes, Keras 2
h5 weight files (with and without the ImageNet-only stem rescaling), the layers EfficientNet is made
of, preprocessing and argument errors."""

import re

import h5py
import numpy as np
import pytest

import strided
from strided.applications import efficientnet, imagenet_utils, inception_v3

# keras.io/api/applications, re-checked against real Keras below.
COUNTS = {
    "InceptionV3": 23_851_784,
    "EfficientNetB0": 5_330_571,
    "EfficientNetB1": 7_856_239,
    "EfficientNetB2": 9_177_569,
    "EfficientNetB3": 12_320_535,
    "EfficientNetB4": 19_466_823,
    "EfficientNetB5": 30_562_527,
    "EfficientNetB6": 43_265_143,
    "EfficientNetB7": 66_658_687,
}
FAST = ("InceptionV3", "EfficientNetB0")
_AUTO = re.compile(
    r"^(input_layer|conv2d|batch_normalization|activation|average_pooling2d|max_pooling2d|"
    r"concatenate|rescaling|normalization)(_\d+)?$"
)


def _module(name):
    return inception_v3 if name == "InceptionV3" else efficientnet


def _named(model):
    """(class, name) of the layers Keras names itself (auto names like conv2d_3 vary per process)."""
    return [(type(l).__name__, l.name) for l in model.layers if not _AUTO.match(l.name)]


def _legacy_h5(model, path, int64_count=False):
    """Keras's own Keras 2 h5 writer: the layout of the published ImageNet files. ``int64_count``
    stores Normalization's ``count`` as tf.keras 2 did (int64)."""
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
        if int64_count:
            counts = []
            f.visititems(lambda n, o: counts.append(n) if isinstance(o, h5py.Dataset) and n.endswith("count") else None)
            for n in counts:
                value = f[n][()]
                del f[n]
                f.create_dataset(n, data=np.int64(value))


def _randomize(model, rng):
    """Random BatchNormalization and Normalization statistics (Keras initializes them to constants),
    so that loading them is actually tested."""
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "BatchNormalization":
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, w.shape)
                    if "variance" in w.path or "gamma" in w.path
                    else rng.normal(0, 0.1, w.shape)
                    for w in layer.weights
                ]
            )
        elif kind == "Normalization":
            mean, var, count = layer.get_weights()
            layer.set_weights([rng.uniform(0.3, 0.6, mean.shape), rng.uniform(0.04, 0.08, var.shape), count])


def _pixels(rng, size, n=2):
    return rng.uniform(0, 255, (n, size, size, 3)).astype("float32")


@pytest.mark.keras
@pytest.mark.parametrize("name", FAST)
def test_counts_and_names_match_keras(real_keras, name):
    ours = getattr(_module(name), name)(weights=None)
    theirs = getattr(real_keras.applications, name)(weights=None)
    assert ours.count_params() == theirs.count_params() == COUNTS[name]
    assert ours.name == theirs.name
    # Same named layers of the same classes, in Keras's order once sorted as Keras's map_graph does.
    from strided.saving.keras_format import keras_layer_order

    assert [l.name for l in keras_layer_order(ours) if (type(l).__name__, l.name) in _named(ours)] == [
        n for _, n in _named(theirs)
    ]
    assert sorted(_named(ours)) == sorted(_named(theirs))
    assert sorted(type(l).__name__ for l in ours.layers) == sorted(type(l).__name__ for l in theirs.layers)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert ours.output.shape == theirs.output.shape


@pytest.mark.keras
@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in COUNTS if n not in FAST])
def test_large_efficientnet_counts(real_keras, name):
    ours = getattr(efficientnet, name)(weights=None)
    assert ours.count_params() == getattr(real_keras.applications, name)(weights=None).count_params() == COUNTS[name]
    assert ours.input_shape[1] == efficientnet._VARIANTS[name[-2:].lower()][2]


@pytest.mark.keras
def test_inception_v3_keras_h5_weights_load_and_predict_the_same(real_keras, tmp_path):
    rng = np.random.default_rng(0)
    theirs = real_keras.applications.InceptionV3(
        weights=None, include_top=False, input_shape=(75, 75, 3), pooling="avg"
    )
    _randomize(theirs, rng)
    path = str(tmp_path / "inception_v3.h5")
    _legacy_h5(theirs, path)
    # Unnamed layers (conv2d_N...) are numbered per process: shift our counters so that the file's
    # conv2d_3 is not our conv2d_3, as with Keras's published file in any session.
    for _ in range(3):
        strided.layers.Conv2D(1, 1), strided.layers.BatchNormalization()
    ours = inception_v3.InceptionV3(weights=path, include_top=False, input_shape=(75, 75, 3), pooling="avg")
    x = inception_v3.preprocess_input(_pixels(rng, 75))
    got, want = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    assert got.shape == (2, 2048)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


@pytest.mark.keras
def test_efficientnet_keras_h5_weights_load_and_predict_the_same(real_keras, tmp_path):
    rng = np.random.default_rng(1)
    kw = dict(include_top=True, input_shape=(64, 64, 3), classes=10, classifier_activation=None)
    theirs = real_keras.applications.EfficientNetB0(weights=None, **kw)
    _randomize(theirs, rng)
    path = str(tmp_path / "efficientnetb0.h5")
    _legacy_h5(theirs, path, int64_count=True)
    ours = efficientnet.EfficientNetB0(weights=path, **kw)
    norm = [l for l in ours.layers if type(l).__name__ == "Normalization"][0]
    np.testing.assert_allclose(norm.get_weights()[0], theirs.layers[2].get_weights()[0])
    x = efficientnet.preprocess_input(_pixels(rng, 64))
    got, want = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    assert got.shape == (2, 10)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


@pytest.mark.keras
def test_efficientnet_imagenet_stem_matches_keras(real_keras, tmp_path, monkeypatch):
    """weights='imagenet' adds Keras's extra per-channel Rescaling after the Normalization; the
    published file name and hash are Keras's (the download is replaced by a local file)."""
    rng = np.random.default_rng(2)
    kw = dict(include_top=False, input_shape=(64, 64, 3), pooling="max")
    source = real_keras.applications.EfficientNetB0(weights=None, **kw)
    _randomize(source, rng)
    path = str(tmp_path / "efficientnetb0_notop.h5")
    _legacy_h5(source, path)
    from keras.src.utils import file_utils

    monkeypatch.setattr(file_utils, "get_file", lambda *a, **k: path)
    theirs = real_keras.applications.EfficientNetB0(weights="imagenet", **kw)
    asked = []
    monkeypatch.setattr(imagenet_utils, "weights_file", lambda *a: asked.append(a) or path)
    ours = efficientnet.EfficientNetB0(weights="imagenet", **kw)
    assert asked == [
        (
            "efficientnetb0_notop.h5",
            "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5",
            "50bc09e76180e00e4465e1a485ddc09d",
        )
    ]
    assert sorted(type(l).__name__ for l in ours.layers) == sorted(type(l).__name__ for l in theirs.layers)
    assert [type(l).__name__ for l in ours.layers[:5]] == [
        "InputLayer",
        "Rescaling",
        "Normalization",
        "Rescaling",
        "ZeroPadding2D",
    ]
    x = _pixels(rng, 64)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-4, rtol=1e-4)


def test_inception_v3_imagenet_asks_for_keras_files(monkeypatch):
    asked = []

    class Stop(Exception):
        pass

    def fake(*args):
        asked.append(args)
        raise Stop

    monkeypatch.setattr(imagenet_utils, "weights_file", fake)
    for include_top in (True, False):
        with pytest.raises(Stop):
            inception_v3.InceptionV3(weights="imagenet", include_top=include_top)
    base = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
    assert asked == [
        (
            "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
            base + "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
            "9a0d58056eeedaa3f26cb7ebd46da564",
        ),
        (
            "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            base + "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "bcbd6486424b2319ff4ef7d526e38f63",
        ),
    ]


@pytest.mark.keras
def test_efficientnet_layers_behave_as_keras(real_keras):
    """The layers EfficientNet needs, each against Keras's on the same input and weights."""
    keras = real_keras
    L = strided.layers
    rng = np.random.default_rng(3)
    x = _pixels(rng, 9)

    def same(ours, theirs, atol=1e-5):
        np.testing.assert_allclose(np.asarray(ours), theirs.detach().cpu().numpy(), atol=atol, rtol=1e-6)

    scale = [1 / np.sqrt(s) for s in efficientnet.IMAGENET_STDDEV_RGB]
    same(L.Rescaling(scale)(x), keras.layers.Rescaling(scale)(x))
    ours, theirs = L.Normalization(axis=3), keras.layers.Normalization(axis=3)
    same(ours(x), theirs(x))  # unadapted: mean 0, variance 1, as Keras builds it
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    stats = [rng.normal(100, 10, 3).astype("float32"), rng.uniform(100, 3000, 3).astype("float32"), np.array(0)]
    ours.set_weights(stats)
    theirs.set_weights(stats)
    same(ours(x), theirs(x))
    for k, s, pad in ((3, 2, "valid"), (5, 1, "same"), (5, 2, "valid")):
        ours, theirs = (
            L.DepthwiseConv2D(k, s, pad, use_bias=False),
            keras.layers.DepthwiseConv2D(k, s, pad, use_bias=False),
        )
        theirs.build(x.shape)
        ours.build(x.shape)
        ours.set_weights(theirs.get_weights())
        same(ours(x), theirs(x), atol=1e-3)
    z = x / 50 - 2
    same(L.Activation("swish")(z), keras.layers.Activation("swish")(z))
    gate = rng.uniform(0, 1, (2, 3)).astype("float32")
    ours_gate, theirs_gate = L.Reshape((1, 1, 3))(gate), keras.layers.Reshape((1, 1, 3))(gate)
    same(ours_gate, theirs_gate)
    same(L.multiply([x, np.asarray(ours_gate)]), keras.layers.multiply([x, theirs_gate.detach().cpu().numpy()]))
    # Stochastic depth: whole samples dropped (noise_shape=(None, 1, 1, 1)) in training only.
    ones = np.ones((64, 4, 4, 3), "float32")
    drop = L.Dropout(0.5, noise_shape=(None, 1, 1, 1))
    per_sample = np.asarray(drop(ones, training=True)).reshape(64, -1)
    assert (per_sample.min(axis=1) == per_sample.max(axis=1)).all()
    assert set(np.unique(per_sample)) <= {0.0, 2.0} and 0 < per_sample[:, 0].mean() < 2
    assert np.array_equal(np.asarray(drop(ones, training=False)), ones)
    assert drop(strided.Input((8, 8, 3))).shape == (None, 8, 8, 3)


@pytest.mark.keras
def test_preprocess_input_and_decode_predictions_match_keras(real_keras):
    x = np.random.default_rng(4).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    np.testing.assert_allclose(
        inception_v3.preprocess_input(x.copy()),
        real_keras.applications.inception_v3.preprocess_input(x.copy()),
        rtol=1e-6,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        inception_v3.preprocess_input(x[0].copy(), data_format="channels_last"),
        real_keras.applications.inception_v3.preprocess_input(x[0].copy()),
        rtol=1e-6,
    )
    # EfficientNet preprocesses inside the model: both return the input itself.
    assert efficientnet.preprocess_input(x) is x
    assert real_keras.applications.efficientnet.preprocess_input(x) is x
    preds = np.random.default_rng(5).random((2, 1000)).astype("float32")
    preds[0, 250] = 5.0
    for module in (inception_v3, efficientnet):
        top = module.decode_predictions(preds, top=3)
        assert top[0][0][:2] == ("n02110185", "Siberian_husky") and len(top[1]) == 3


def test_argument_errors():
    with pytest.raises(ValueError, match="at least 75x75"):
        inception_v3.InceptionV3(weights=None, include_top=False, input_shape=(74, 74, 3))
    with pytest.raises(ValueError, match="at least 32x32"):
        efficientnet.EfficientNetB0(weights=None, include_top=False, input_shape=(31, 31, 3))
    with pytest.raises(ValueError, match="classes"):
        inception_v3.InceptionV3(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="classes"):
        efficientnet.EfficientNetB3(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="weights"):
        efficientnet.EfficientNetB0(weights="/no/such/file.h5")
    with pytest.raises(ValueError, match="input_shape"):
        inception_v3.InceptionV3(weights="imagenet", input_shape=(224, 224, 3))
    with pytest.raises(ValueError, match="classifier_activation"):
        inception_v3.InceptionV3(weights="imagenet", classifier_activation="relu")
    bad = [dict(s, repeats=0) if i == 0 else s for i, s in enumerate(efficientnet.DEFAULT_BLOCKS_ARGS)]
    with pytest.raises(ValueError, match="repeats"):
        efficientnet.EfficientNet(
            1.0, 1.0, 224, blocks_args=bad, weights=None, include_top=False, input_shape=(32, 32, 3)
        )


def test_shapes_pooling_and_input_tensor():
    m = inception_v3.InceptionV3(weights=None, include_top=False, input_shape=(75, 75, 3))
    assert m.output.shape == (None, 1, 1, 2048)
    inp = strided.Input(shape=(32, 32, 3))
    m = efficientnet.EfficientNetB0(weights=None, include_top=False, input_tensor=inp, pooling="avg")
    assert m.inputs[0] is inp and m.output.shape == (None, 1280)
    assert m.predict(np.zeros((1, 32, 32, 3), "float32"), verbose=0).shape == (1, 1280)
