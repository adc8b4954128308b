"""InceptionResNetV2 vs real Keras: numbers, gradients, layer names, counts, weight and .keras files, errors."""

import re

import numpy as np
import pytest
import torch

from strided.applications import inception_resnet_v2
from strided.applications.inception_resnet_v2 import CustomScaleLayer, InceptionResNetV2

COUNTS = (55_873_736, 54_336_736)  # Keras's, with the top (299x299) and without it
_AUTO = re.compile(
    r"^(input_layer|conv2d|batch_normalization|activation|max_pooling2d|average_pooling2d"
    r"|custom_scale_layer|global_average_pooling2d)(_\d+)?$"
)


def _names(model):
    return [l.name for l in model.layers if not _AUTO.match(l.name)]


def _randomize(model, rng):
    for layer in model.layers:
        weights = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":  # scale=False: beta, mean, variance
            b, m, v = weights
            layer.set_weights(
                [rng.normal(0, 0.1, b.shape), rng.normal(0, 0.1, m.shape), rng.uniform(0.5, 1.5, v.shape)]
            )
        elif weights:
            layer.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) if w.ndim == 1 else w for w in weights])


def _input_grad(model, x):
    xt = torch.tensor(x, requires_grad=True)
    out = model(xt, training=False)
    (out * torch.arange(1, out.shape[-1] + 1, dtype=out.dtype)).sum().backward()
    return xt.grad.numpy()


@pytest.mark.keras
def test_inception_resnet_v2_matches_keras(real_keras, tmp_path):
    rng = np.random.default_rng(0)
    # Any input size: 75x75 for inference, 107x107 (a 2x2 last map) for training=True, where
    # BatchNormalization on a 1x1 map of two samples would only amplify float32 rounding.
    kw = dict(weights=None, include_top=False, pooling="avg", input_shape=(None, None, 3))
    theirs = real_keras.applications.InceptionResNetV2(**kw)
    ours = InceptionResNetV2(**kw)
    assert ours.name == theirs.name == "inception_resnet_v2"
    assert _names(ours) == _names(theirs)
    assert sorted(type(l).__name__ for l in ours.layers) == sorted(type(l).__name__ for l in theirs.layers)
    assert ours.count_params() == theirs.count_params() == COUNTS[1]
    _randomize(theirs, rng)
    ours.set_weights(theirs.get_weights())
    x = inception_resnet_v2.preprocess_input(rng.uniform(0, 255, (2, 75, 75, 3)).astype("float32"))
    np.testing.assert_allclose(
        x, real_keras.applications.inception_resnet_v2.preprocess_input((x + 1) * 127.5), atol=1e-6
    )
    expected = theirs.predict(x, verbose=0)
    assert expected.std() > 1e-2
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(_input_grad(ours, x), _input_grad(theirs, x), atol=1e-5, rtol=1e-3)
    x107 = inception_resnet_v2.preprocess_input(rng.uniform(0, 255, (2, 107, 107, 3)).astype("float32"))
    np.testing.assert_allclose(
        ours(x107, training=True).detach().numpy(), theirs(x107, training=True).detach().numpy(), atol=1e-4, rtol=1e-4
    )
    expected = theirs.predict(x, verbose=0)  # the training call moved the BatchNormalization statistics
    # A .keras file of strided read by Keras (CustomScaleLayer under Keras's module and name).
    ours.set_weights(theirs.get_weights())
    ours.save(str(tmp_path / "s.keras"))
    back = real_keras.saving.load_model(str(tmp_path / "s.keras"))
    from keras.src.applications import inception_resnet_v2 as kirv2

    assert sum(type(l) is kirv2.CustomScaleLayer for l in back.layers) == 40
    np.testing.assert_allclose(back.predict(x, verbose=0), expected, atol=1e-5, rtol=1e-4)


@pytest.mark.keras
def test_custom_scale_layer(real_keras):
    from keras.src.applications import inception_resnet_v2 as kirv2
    from keras.src.saving import serialization_lib as keras_serialization_lib
    from strided.saving import serialization_lib

    layer = CustomScaleLayer(0.17, name="scale")
    a, b = np.random.default_rng(1).normal(size=(2, 2, 3, 3, 4)).astype("float32")
    np.testing.assert_allclose(layer([a, b]).numpy(), kirv2.CustomScaleLayer(0.17)([a, b]).detach().numpy(), rtol=1e-6)
    written = serialization_lib.serialize_layer(layer)
    expected = keras_serialization_lib.serialize_keras_object(kirv2.CustomScaleLayer(0.17, name="scale"))
    assert [written[k] for k in ("module", "class_name", "registered_name")] == [
        expected[k] for k in ("module", "class_name", "registered_name")
    ]
    assert type(real_keras.saving.deserialize_keras_object(written)) is kirv2.CustomScaleLayer
    read = serialization_lib.deserialize_layer(expected)  # Keras's entry, as in a Keras .keras file
    assert type(read) is CustomScaleLayer and read.scale == 0.17 and read.name == "scale"
    assert CustomScaleLayer.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(TypeError, match="scale"):
        CustomScaleLayer("0.1")
    with pytest.raises(ValueError, match="two tensors"):
        CustomScaleLayer(0.1)([a])


@pytest.mark.keras
@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(weights="imagenet", classes=10), "classes"),
        (dict(weights="/no/such/file.h5"), "weights"),
        (dict(weights=None, include_top=False, input_shape=(64, 64, 3)), "at least 75"),
        (dict(weights="imagenet", input_shape=(200, 200, 3)), "input_shape"),
    ],
)
def test_argument_errors_match_keras(real_keras, kw, match):
    for builder in (InceptionResNetV2, real_keras.applications.InceptionResNetV2):
        with pytest.raises(ValueError, match=match):
            builder(**kw)


def test_imagenet_weights_file_name_and_registration(tmp_path, monkeypatch):
    import strided

    monkeypatch.setenv("STRIDED_HOME", str(tmp_path))
    monkeypatch.setenv("STRIDED_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError) as e:
        InceptionResNetV2(weights="imagenet", include_top=False, input_shape=(75, 75, 3), pooling="avg")
    name = "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert f"'{name}'" in str(e.value)
    assert f"https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/{name}" in str(e.value)
    assert strided.applications.InceptionResNetV2 is InceptionResNetV2
    assert COUNTS[0] - COUNTS[1] == 1536 * 1000 + 1000  # the top is one Dense layer on the pooled 1536 channels
    assert strided.applications.inception_resnet_v2 is inception_resnet_v2
