"""strided.applications vs real Keras: parameter counts, layer names, weight files, preprocessing, labels."""

import hashlib
import shutil

import numpy as np
import pytest

from strided import applications as A
from strided.applications import imagenet_utils

# Parameter counts of Keras's models (keras.io/api/applications; re-checked against real Keras below).
COUNTS = {
    "ResNet50": 25_636_712,
    "ResNet101": 44_707_176,
    "ResNet152": 60_419_944,
    "ResNet50V2": 25_613_800,
    "ResNet101V2": 44_675_560,
    "ResNet152V2": 60_380_648,
    "VGG16": 138_357_544,
    "VGG19": 143_667_240,
    "Xception": 22_910_480,
    "MobileNetV2": 3_538_984,
}
FAST = ("ResNet50", "MobileNetV2", "Xception")


def _keras_app(real_keras, name, **kw):
    return getattr(real_keras.applications, name)(weights=None, **kw)


def _named(model):
    """Layer names that Keras fixes (auto names like conv2d_3 depend on the process's history)."""
    import re

    auto = re.compile(r"^(input_layer|conv2d|batch_normalization|add|global_average_pooling2d|max_pooling2d)(_\d+)?$")
    return [(type(l).__name__, l.name) for l in model.layers if not auto.match(l.name)]


@pytest.mark.keras
@pytest.mark.parametrize("name", FAST)
def test_counts_and_names_match_keras(real_keras, name):
    ours = getattr(A, name)(weights=None)
    theirs = _keras_app(real_keras, name)
    assert ours.count_params() == theirs.count_params() == COUNTS[name]
    # Same named layers of the same classes; in Keras's order once sorted as Keras's map_graph does.
    from strided.saving.keras_format import keras_layer_order

    assert [l.name for l in keras_layer_order(ours) if (type(l).__name__, l.name) in _named(ours)] == [
        n for _, n in _named(theirs)
    ]
    assert sorted(_named(ours)) == sorted(_named(theirs))
    assert sorted(type(l).__name__ for l in ours.layers) == sorted(type(l).__name__ for l in theirs.layers)
    assert ours.output.shape == theirs.output.shape


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in COUNTS if n not in FAST])
def test_large_model_counts(name):
    assert getattr(A, name)(weights=None).count_params() == COUNTS[name]


def test_lenet_and_alexnet_counts():
    # LeNet5 (seed 002): 60 + 880 + 6*6*16*120+120 + 120*84+84 + 84*10+10
    assert A.LeNet5().count_params() == 60 + 880 + (576 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    # original=True: 5x5 kernels, the paper's 61,706 parameters
    assert A.LeNet5(original=True).count_params() == 156 + 2416 + (400 * 120 + 120) + 10164 + 850
    alex = A.AlexNet(include_top=False, input_shape=(227, 227, 3))
    convs = [
        11 * 11 * 3 * 96 + 96,
        5 * 5 * 96 * 256 + 256,
        3 * 3 * 256 * 384 + 384,
        3 * 3 * 384 * 384 + 384,
        3 * 3 * 384 * 256 + 256,
    ]
    assert alex.count_params() == sum(convs)
    assert alex.output.shape == (None, 6, 6, 256)


def test_no_top_pooling_shapes():
    m = A.ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3), pooling="avg")
    assert m.output.shape == (None, 2048)
    m = A.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3))
    assert m.output.shape == (None, 3, 3, 1280)


def _legacy_h5(real_keras, model, path):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _randomize_bn(model, rng):
    """Random BatchNormalization statistics so that loading them is actually tested."""
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            g, b, m, v = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, g.shape),
                    rng.normal(0, 0.1, b.shape),
                    rng.normal(0, 0.1, m.shape),
                    rng.uniform(0.5, 1.5, v.shape),
                ]
            )


@pytest.mark.keras
@pytest.mark.parametrize("name,size", [("ResNet50", 64), ("MobileNetV2", 96)])
def test_keras_h5_weights_load_and_predict_the_same(real_keras, tmp_path, name, size):
    rng = np.random.default_rng(0)
    theirs = _keras_app(real_keras, name, include_top=False, input_shape=(size, size, 3), pooling="avg")
    _randomize_bn(theirs, rng)
    path = str(tmp_path / f"{name}.h5")
    _legacy_h5(real_keras, theirs, path)  # the Keras 2 layout of the published ImageNet files
    ours = getattr(A, name)(weights=path, include_top=False, input_shape=(size, size, 3), pooling="avg")
    x = rng.uniform(0, 255, (2, size, size, 3)).astype("float32")
    x = (
        getattr(A, name.lower() if name != "MobileNetV2" else "mobilenet_v2").preprocess_input(x)
        if name != "ResNet50"
        else A.resnet50.preprocess_input(x)
    )
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-4, rtol=1e-4)


@pytest.mark.keras
def test_keras3_weights_file_loads_into_resnet50_with_top(real_keras, tmp_path):
    rng = np.random.default_rng(1)
    theirs = _keras_app(real_keras, "ResNet50", classifier_activation=None)
    _randomize_bn(theirs, rng)
    path = str(tmp_path / "r50.weights.h5")
    theirs.save_weights(path)
    ours = A.ResNet50(weights=path, classifier_activation=None)
    x = A.resnet50.preprocess_input(rng.uniform(0, 255, (1, 224, 224, 3)).astype("float32"))
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-4, rtol=1e-4)


@pytest.mark.keras
@pytest.mark.slow
def test_vgg16_keras_weights(real_keras, tmp_path):
    rng = np.random.default_rng(2)
    theirs = _keras_app(real_keras, "VGG16", include_top=False, input_shape=(32, 32, 3))
    path = str(tmp_path / "vgg16.h5")
    _legacy_h5(real_keras, theirs, path)
    ours = A.VGG16(weights=path, include_top=False, input_shape=(32, 32, 3))
    x = A.vgg16.preprocess_input(rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32"))
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-4, rtol=1e-4)


def test_wrong_weights_file_leaves_model_unchanged(tmp_path):
    small = A.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3), alpha=0.35)
    path = str(tmp_path / "small.weights.h5")
    from strided.saving import saving_api

    saving_api.save_weights(small, path)
    model = A.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3))
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="small.weights.h5"):
        saving_api.load_weights(model, path)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    bad = tmp_path / "truncated.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(ValueError, match="truncated.h5"):
        saving_api.load_weights(model, str(bad))
    not_h5 = tmp_path / "notes.h5"
    not_h5.write_text("hello")
    with pytest.raises(ValueError, match="notes.h5"):
        A.MobileNetV2(weights=str(not_h5), include_top=False, input_shape=(96, 96, 3))


def test_argument_errors():
    with pytest.raises(ValueError, match="classes"):
        A.ResNet50(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="at least 71x71"):
        A.Xception(weights=None, include_top=False, input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="at least 32x32"):
        A.ResNet50(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="weights"):
        A.VGG16(weights="/no/such/file.h5")
    with pytest.raises(ValueError, match="input_shape"):
        A.ResNet50(weights="imagenet", input_shape=(128, 128, 3))


def test_imagenet_weights_offline_error_names_file_and_place(tmp_path, monkeypatch):
    monkeypatch.setenv("STRIDED_HOME", str(tmp_path))
    monkeypatch.setenv("STRIDED_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError) as e:
        imagenet_utils.weights_file(
            "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
            "https://example.invalid/x",
            "2cb95161c43110f7111970584f804107",
        )
    msg = str(e.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels.h5" in msg and str(tmp_path / "models") in msg


def test_imagenet_weights_found_in_cache_with_hash_check(tmp_path, monkeypatch):
    monkeypatch.setenv("STRIDED_HOME", str(tmp_path))
    monkeypatch.setenv("STRIDED_OFFLINE", "1")
    (tmp_path / "models").mkdir()
    f = tmp_path / "models" / "w.h5"
    f.write_bytes(b"weights")
    good = hashlib.md5(b"weights").hexdigest()
    assert imagenet_utils.weights_file("w.h5", "https://example.invalid/w.h5", good) == str(f)
    with pytest.raises(ValueError, match="hash"):
        imagenet_utils.weights_file("w.h5", "https://example.invalid/w.h5", "0" * 32)


@pytest.mark.keras
@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_preprocess_input_matches_keras(real_keras, mode, data_format):
    from keras.src.applications import imagenet_utils as kiu

    rng = np.random.default_rng(3)
    shape = (2, 5, 6, 3) if data_format == "channels_last" else (2, 3, 5, 6)
    x = rng.uniform(0, 255, shape).astype("float32")
    ours = imagenet_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    theirs = kiu.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-5)
    single = imagenet_utils.preprocess_input(x[0].copy(), data_format=data_format, mode=mode)
    np.testing.assert_allclose(
        single, kiu.preprocess_input(x[0].copy(), data_format=data_format, mode=mode), rtol=1e-6, atol=1e-5
    )
    import torch

    t = imagenet_utils.preprocess_input(torch.tensor(x), data_format=data_format, mode=mode)
    np.testing.assert_allclose(t.numpy(), theirs, rtol=1e-6, atol=1e-5)


@pytest.mark.keras
def test_family_preprocess_modes_match_keras(real_keras):
    x = np.random.default_rng(4).uniform(0, 255, (1, 4, 4, 3)).astype("float32")
    for module in ("resnet50", "resnet_v2", "vgg16", "vgg19", "xception", "mobilenet_v2"):
        ours = getattr(A, module).preprocess_input(x.copy())
        theirs = getattr(real_keras.applications, module).preprocess_input(x.copy())
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-6, atol=1e-5, err_msg=module)


def test_class_index_is_keras_published_file():
    # The md5 Keras checks when it downloads imagenet_class_index.json (keras/src/applications/imagenet_utils.py).
    data = imagenet_utils._CLASS_INDEX_FILE.read_bytes()
    assert hashlib.md5(data).hexdigest() == "c2c37ea517e94d9795004a39431a14cb"


@pytest.mark.keras
def test_decode_predictions_matches_keras(real_keras, tmp_path, monkeypatch):
    # Keras finds our bundled file in its cache (same hash), so no download is needed.
    (tmp_path / "models").mkdir()
    shutil.copy(imagenet_utils._CLASS_INDEX_FILE, tmp_path / "models" / "imagenet_class_index.json")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    from keras.src.applications import imagenet_utils as kiu
    from keras.src.utils import file_utils

    monkeypatch.setattr(kiu, "CLASS_INDEX", None)
    monkeypatch.setattr(file_utils.config, "keras_home", lambda: str(tmp_path), raising=False)
    preds = np.random.default_rng(5).random((3, 1000)).astype("float32")
    preds[0, 250] = 5.0  # Siberian_husky
    ours = A.resnet50.decode_predictions(preds, top=5)
    theirs = kiu.decode_predictions(preds, top=5)
    assert [[(a, b) for a, b, _ in row] for row in ours] == [[(a, b) for a, b, _ in row] for row in theirs]
    assert ours[0][0][:2] == ("n02110185", "Siberian_husky")
    np.testing.assert_allclose([s for _, _, s in ours[1]], np.sort(preds[1])[::-1][:5])
    with pytest.raises(ValueError, match="1000"):
        A.resnet50.decode_predictions(preds[:, :10])


def test_input_tensor_and_source_inputs():
    import strided

    inp = strided.Input(shape=(32, 32, 3))
    x = strided.layers.Rescaling(1.0 / 255)(inp)
    m = A.ResNet50(weights=None, include_top=False, input_tensor=x, pooling="max")
    assert m.inputs[0] is inp
    assert m.output.shape == (None, 2048)
    out = m.predict(np.zeros((1, 32, 32, 3), "float32"), verbose=0)
    assert out.shape == (1, 2048)


def test_every_family_is_reachable_from_the_package():
    from strided.applications import densenet, efficientnet, inception_v3, mobilenet

    assert A.DenseNet121 is densenet.DenseNet121 and A.DenseNet201 is densenet.DenseNet201
    assert A.MobileNet is mobilenet.MobileNet and A.InceptionV3 is inception_v3.InceptionV3
    from strided.applications import mobilenet_v3

    assert A.MobileNetV3Small is mobilenet_v3.MobileNetV3Small and A.MobileNetV3Large is mobilenet_v3.MobileNetV3Large
    assert [getattr(A, f"EfficientNetB{i}") for i in range(8)] == [
        getattr(efficientnet, f"EfficientNetB{i}") for i in range(8)
    ]
    assert A.efficientnet is efficientnet and callable(A.densenet.preprocess_input)
