"""NASNetMobile / NASNetLarge vs real Keras: numbers, gradients, layer names, counts, weight and .keras files,
errors."""

import hashlib
import re

import numpy as np
import pytest
import torch

from strided.applications import nasnet
from strided.applications.nasnet import NASNet, NASNetLarge, NASNetMobile

# Keras's counts, with the top and without it (measured with Keras 3.15: NASNetMobile at 224x224,
# NASNetLarge at 331x331 with the top and at (None, None, 3) without it, its default there).
MOBILE_COUNTS = (5_326_716, 4_269_716)
LARGE_COUNTS = (88_949_818, 84_887_922)
# sha256 of "ClassName:name" for every layer of Keras's NASNetLarge(weights=None), in order, with the
# automatic names blanked; measured with Keras 3.15 (building it there too would double the test's time).
LARGE_SIGNATURE = (1041, "83960286bac09efdad918f9bc868663de442435931d0ffeaef4e8c603fae67d4")
_AUTO = re.compile(
    r"^(input_layer|conv2d|batch_normalization|activation|max_pooling2d|average_pooling2d"
    r"|zero_padding2d|cropping2d|add|concatenate|global_average_pooling2d)(_\d+)?$"
)
_MOBILE = dict(
    penultimate_filters=1056,
    num_blocks=4,
    stem_block_filters=32,
    skip_reduction=False,
    filter_multiplier=2,
    default_size=224,
    name="nasnet_mobile",
)


def _names(model):
    return [(type(l).__name__, "" if _AUTO.match(l.name) else l.name) for l in model.layers]


def _signature(model):
    text = "\n".join(f"{cls}:{name}" for cls, name in _names(model))
    return len(model.layers), hashlib.sha256(text.encode()).hexdigest()


def _randomize(model, rng):
    for layer in model.layers:
        weights = layer.get_weights()
        if type(layer).__name__ == "BatchNormalization":  # gamma, beta, mean, variance
            g, b, m, v = weights
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, g.shape),
                    rng.normal(0, 0.1, b.shape),
                    rng.normal(0, 0.1, m.shape),
                    rng.uniform(0.5, 1.5, v.shape),
                ]
            )


def _input_grad(model, x):
    xt = torch.tensor(x, requires_grad=True)
    out = model(xt, training=False)
    (out * torch.arange(1, out.shape[-1] + 1, dtype=out.dtype)).sum().backward()
    return xt.grad.numpy()


@pytest.mark.keras
def test_nasnet_mobile_matches_keras(real_keras, tmp_path):
    from keras.src.applications import nasnet as knasnet

    rng = np.random.default_rng(0)
    # Keras 3.15's NASNetMobile refuses the torch backend, so the oracle is its NASNet builder with
    # NASNetMobile's arguments, at the smallest legal input (32x32).
    kw = dict(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
    theirs = knasnet.NASNet(**kw, **_MOBILE)
    ours = NASNetMobile(**kw)
    assert ours.name == theirs.name == "nasnet_mobile"
    assert _names(ours) == _names(theirs)
    assert ours.count_params() == theirs.count_params() == MOBILE_COUNTS[1]
    _randomize(theirs, rng)
    ours.set_weights(theirs.get_weights())
    x = nasnet.preprocess_input(rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32"))
    np.testing.assert_allclose(x, knasnet.preprocess_input((x + 1) * 127.5), atol=1e-6)
    expected = theirs.predict(x, verbose=0)
    assert expected.std() > 1e-2
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(_input_grad(ours, x), _input_grad(theirs, x), atol=1e-5, rtol=1e-3)
    # training=True: batch statistics everywhere (also on the last 1x1 maps, so 8 samples); about 180
    # normalizations by batch statistics in a row amplify float32 rounding to ~1e-4 here and there.
    x8 = nasnet.preprocess_input(rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32"))
    np.testing.assert_allclose(
        ours(x8, training=True).detach().numpy(), theirs(x8, training=True).detach().numpy(), atol=5e-4, rtol=1e-3
    )
    expected = theirs.predict(x, verbose=0)  # the training call moved the BatchNormalization statistics
    # A .keras file of strided read by Keras.
    ours.set_weights(theirs.get_weights())
    ours.save(str(tmp_path / "s.keras"))
    back = real_keras.saving.load_model(str(tmp_path / "s.keras"))
    assert back.name == "nasnet_mobile" and len(back.layers) == len(ours.layers)
    np.testing.assert_allclose(back.predict(x, verbose=0), expected, atol=1e-5, rtol=1e-4)


def test_nasnet_large_layers_and_counts():
    model = NASNetLarge(weights=None)
    assert model.name == "nasnet_large"
    assert model.count_params() == LARGE_COUNTS[0]
    assert _signature(model) == LARGE_SIGNATURE
    assert model.input_shape == (None, 331, 331, 3) and model.output_shape == (None, 1000)
    names = {l.name for l in model.layers}
    assert {
        "stem_conv1",
        "stem_bn1",
        "reduction_concat_stem_1",
        "adjust_conv_projection_1",
        "normal_concat_18",
        "reduction_concat_reduce_12",
        "separable_conv_2_bn_reduction_left4_reduce_6",
        "predictions",
    } <= names
    assert LARGE_COUNTS[0] - LARGE_COUNTS[1] != 4032 * 1000 + 1000  # without the top the default size is unknown,
    # and the adjust blocks then project instead of reducing (as in Keras): the two counts differ by more.
    assert MOBILE_COUNTS[0] - MOBILE_COUNTS[1] == 1056 * 1000 + 1000  # mobile: same 224x224 body, plus Dense


def test_nasnet_mobile_default_shapes():
    model = NASNetMobile(weights=None, include_top=False, pooling="max", classes=10)
    assert model.input_shape == (None, 224, 224, 3)  # Keras's default without the top too
    assert model.output_shape == (None, 1056)
    assert model.count_params() == MOBILE_COUNTS[1]


@pytest.mark.keras
@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(weights="imagenet", classes=10), "classes"),
        (dict(weights="/no/such/file.h5"), "weights"),
        (dict(weights=None, include_top=False, input_shape=(31, 31, 3)), "at least 32"),
        (dict(weights="imagenet", input_shape=(200, 200, 3)), "input_shape"),
        (dict(weights="imagenet", include_top=False, input_shape=(None, None, 3)), "static"),
    ],
)
def test_argument_errors_match_keras(real_keras, kw, match):
    for builder in (NASNetLarge, real_keras.applications.NASNetLarge):
        with pytest.raises(ValueError, match=match):
            builder(**kw)


@pytest.mark.keras
def test_nasnet_builder_errors_match_keras(real_keras):
    from keras.src.applications import nasnet as knasnet

    kw = dict(weights=None, include_top=False, input_shape=(32, 32, 3), penultimate_filters=100)
    for builder in (NASNet, knasnet.NASNet):
        with pytest.raises(ValueError, match="multiple of 24"):
            builder(**kw)
    with pytest.raises(ValueError, match="num_blocks=0"):
        NASNet(weights=None, include_top=False, input_shape=(32, 32, 3), num_blocks=0)


def test_channels_first_refused():
    from strided import config

    old = config.image_data_format()
    config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="channels_first"):
            NASNetMobile(weights=None)
    finally:
        config.set_image_data_format(old)


def test_imagenet_weights_file_name_and_registration(tmp_path, monkeypatch):
    import strided

    monkeypatch.setenv("STRIDED_HOME", str(tmp_path))
    monkeypatch.setenv("STRIDED_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError) as e:
        NASNetMobile(weights="imagenet", include_top=False, input_shape=(32, 32, 3), pooling="avg")
    assert "'nasnet_mobile_no_top.h5'" in str(e.value)
    assert "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/NASNet-mobile-no-top.h5" in str(e.value)
    assert nasnet.WEIGHTS_FILES[(331, True)][0] == "nasnet_large.h5"
    assert nasnet.NASNET_LARGE_WEIGHT_PATH.endswith("/nasnet/NASNet-large.h5")
    with pytest.raises(ValueError, match="only be loaded with NASNetLarge or NASNetMobile"):
        NASNet(
            weights="imagenet",
            include_top=False,
            input_shape=(32, 32, 3),
            default_size=100,
            penultimate_filters=96,
            num_blocks=1,
            stem_block_filters=8,
        )
    assert strided.applications.NASNetMobile is NASNetMobile
    assert strided.applications.NASNetLarge is NASNetLarge
    assert strided.applications.nasnet is nasnet
    preds = np.zeros((1, 1000), "float32")
    preds[0, 3] = 1.0
    assert nasnet.decode_predictions(preds, top=1)[0][0][0] == "n01491361"
