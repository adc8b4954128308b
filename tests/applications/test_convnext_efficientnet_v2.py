"""ConvNeXt and EfficientNetV2 vs real Keras: numbers, gradients, counts, layer names, weight files, errors."""

import re
import shutil

import numpy as np
import pytest
import torch

from strided.applications import convnext, efficientnet_v2, imagenet_utils
from strided.applications.convnext import ConvNeXtTiny, LayerScale, StochasticDepth
from strided.applications.efficientnet_v2 import EfficientNetV2B0

# Parameter counts of Keras 3.15's models, (with the top at the default size, without it), measured
# with real Keras; the variants that are slow to build are checked against these numbers only.
COUNTS = {
    "ConvNeXtTiny": (28_589_128, 27_820_128),
    "ConvNeXtSmall": (50_223_688, 49_454_688),
    "ConvNeXtBase": (88_591_464, 87_566_464),
    "ConvNeXtLarge": (197_767_336, 196_230_336),
    "ConvNeXtXLarge": (350_196_968, 348_147_968),
    "EfficientNetV2B0": (7_200_312, 5_919_312),
    "EfficientNetV2B1": (8_212_124, 6_931_124),
    "EfficientNetV2B2": (10_178_374, 8_769_374),
    "EfficientNetV2B3": (14_467_622, 12_930_622),
    "EfficientNetV2S": (21_612_360, 20_331_360),
    "EfficientNetV2M": (54_431_388, 53_150_388),
    "EfficientNetV2L": (119_027_848, 117_746_848),
}
# Width of the last feature map: the top adds a Dense(width -> 1000) to the count without the top.
_TOP_WIDTH = {
    "ConvNeXtTiny": 768,
    "ConvNeXtSmall": 768,
    "ConvNeXtBase": 1024,
    "ConvNeXtLarge": 1536,
    "ConvNeXtXLarge": 2048,
    "EfficientNetV2B0": 1280,
    "EfficientNetV2B1": 1280,
    "EfficientNetV2B2": 1408,
    "EfficientNetV2B3": 1536,
    "EfficientNetV2S": 1280,
    "EfficientNetV2M": 1280,
    "EfficientNetV2L": 1280,
}
# Auto-named layers (their numbers depend on the process's history).
_AUTO = re.compile(
    r"^(input_layer|rescaling|normalization|layer_normalization|global_average_pooling2d"
    r"|global_max_pooling2d|add|operation)(_\d+)?$"
)


def _module(name):
    return convnext if name.startswith("ConvNeXt") else efficientnet_v2


def _keras_order_names(model):
    """Names of the layers (graph operations left out) in the order Keras lists them."""
    from strided.saving.keras_format import keras_layer_order

    return [
        l.name for l in keras_layer_order(model) if type(l).__name__ != "TorchOperation" and not _AUTO.match(l.name)
    ]


def _assert_same_layers(ours, theirs):
    assert _keras_order_names(ours) == [l.name for l in theirs.layers if not _AUTO.match(l.name)]
    assert sorted(type(l).__name__ for l in ours.layers if type(l).__name__ != "TorchOperation") == sorted(
        type(l).__name__ for l in theirs.layers
    )
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]


def _randomize(model, rng):
    """Random weights everywhere (biases, layer scales included) and random BatchNormalization statistics."""

    def visit(layer):
        for sub in getattr(layer, "layers", []):
            visit(sub)
        weights = layer.get_weights()
        if not weights or getattr(layer, "layers", None):
            return
        if type(layer).__name__ == "BatchNormalization":
            # gamma < 1 keeps the activations of the deep random networks moderate (no float32 blow-up).
            g, b, m, v = weights
            layer.set_weights(
                [
                    rng.uniform(0.2, 0.6, g.shape),
                    rng.normal(0, 0.1, b.shape),
                    rng.normal(0, 0.1, m.shape),
                    rng.uniform(0.5, 1.5, v.shape),
                ]
            )
        elif type(layer).__name__ == "LayerScale":
            layer.set_weights([rng.uniform(0.2, 1.0, weights[0].shape).astype("float32")])
        else:  # kernels keep their initialization; biases and norms get noise
            layer.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) if w.ndim == 1 else w for w in weights])

    visit(model)


def _legacy_h5(model, path):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _input_grad(model, x):
    xt = torch.tensor(x, requires_grad=True)
    out = model(xt, training=False)
    (out * torch.arange(1, out.shape[-1] + 1, dtype=out.dtype, device=out.device)).sum().backward()
    return xt.grad.detach().cpu().numpy()


@pytest.mark.keras
def test_convnext_tiny_matches_keras(real_keras, tmp_path):
    rng = np.random.default_rng(0)
    kw = dict(weights=None, input_shape=(32, 32, 3), classes=5)
    theirs = real_keras.applications.ConvNeXtTiny(**kw)
    ours = ConvNeXtTiny(**kw)
    assert ours.name == theirs.name == "convnext_tiny"
    _assert_same_layers(ours, theirs)
    assert ours.get_layer("convnext_tiny_stem").get_layer("convnext_tiny_stem_conv").kernel_size == (4, 4)
    _randomize(theirs, rng)
    ours.set_weights(theirs.get_weights())
    x = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    expected = theirs.predict(x, verbose=0)
    assert expected.std() > 1e-2  # a real signal, not uniform probabilities
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4, rtol=1e-4)
    # No dropout anywhere (drop_path_rate=0): training=True is deterministic and the same maths.
    np.testing.assert_allclose(
        ours(x, training=True).detach().cpu().numpy(),
        theirs(x, training=True).detach().cpu().numpy(),
        atol=1e-4,
        rtol=1e-4,
    )
    np.testing.assert_allclose(_input_grad(ours, x), _input_grad(theirs, x), atol=1e-4, rtol=1e-3)
    # The published files are Keras 2 h5 files with the stem and downsampling blocks as nested models.
    _legacy_h5(theirs, str(tmp_path / "convnext_tiny.h5"))
    ours.set_weights([np.zeros_like(w) for w in ours.get_weights()])
    ours.load_weights(str(tmp_path / "convnext_tiny.h5"))
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4, rtol=1e-4)


@pytest.mark.keras
def test_efficientnet_v2_b0_matches_keras(real_keras, tmp_path):
    rng = np.random.default_rng(1)
    kw = dict(weights=None, input_shape=(64, 64, 3), classes=4, classifier_activation=None)
    theirs = real_keras.applications.EfficientNetV2B0(**kw)
    ours = EfficientNetV2B0(**kw)
    assert ours.name == theirs.name == "efficientnetv2-b0"
    _assert_same_layers(ours, theirs)
    _randomize(theirs, rng)
    ours.set_weights(theirs.get_weights())
    x = rng.uniform(0, 255, (3, 64, 64, 3)).astype("float32")
    expected = theirs.predict(x, verbose=0)
    assert np.abs(expected).max() > 1e-2
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(_input_grad(ours, x), _input_grad(theirs, x), atol=1e-4, rtol=1e-3)
    # training=True: batch statistics in BatchNormalization; dropout switched off in both to compare.
    for model in (ours, theirs):
        for layer in model.layers:
            if type(layer).__name__ == "Dropout":
                layer.rate = 0.0
    np.testing.assert_allclose(
        ours(x, training=True).detach().cpu().numpy(),
        theirs(x, training=True).detach().cpu().numpy(),
        atol=1e-4,
        rtol=1e-4,
    )
    # That call moved the BatchNormalization statistics (momentum 0.9) the same way in both.
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)
    _legacy_h5(theirs, str(tmp_path / "b0.h5"))
    again = EfficientNetV2B0(weights=str(tmp_path / "b0.h5"), **{k: v for k, v in kw.items() if k != "weights"})
    np.testing.assert_allclose(again.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-4, rtol=1e-4)


@pytest.mark.keras
@pytest.mark.parametrize(
    "name,kw",
    [
        ("EfficientNetV2B1", dict(include_top=False, input_shape=(32, 32, 3), pooling="max")),
        ("EfficientNetV2S", dict(include_top=False, input_shape=(32, 32, 3), include_preprocessing=False)),
    ],
)
def test_counts_and_names_match_keras(real_keras, name, kw):
    theirs = getattr(real_keras.applications, name)(weights=None, **kw)
    ours = getattr(_module(name), name)(weights=None, **kw)
    _assert_same_layers(ours, theirs)
    assert ours.count_params() == COUNTS[name][1]
    assert ours.output.shape == theirs.output.shape
    assert ours.name == theirs.name


@pytest.mark.parametrize("name", ["EfficientNetV2B2", "EfficientNetV2B3"])
def test_counts_without_the_top(name):
    model = getattr(efficientnet_v2, name)(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert model.count_params() == COUNTS[name][1]
    assert model.output.shape == (None, 1, 1, _TOP_WIDTH[name])


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge", "EfficientNetV2M", "EfficientNetV2L"]
)
def test_counts_of_the_large_variants(name):
    model = getattr(_module(name), name)(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert model.count_params() == COUNTS[name][1]


def test_count_table_is_consistent():
    for name, (top, notop) in COUNTS.items():
        # ConvNeXt's final LayerNorm is the head's LayerNorm with the top: only the Dense differs.
        assert top - notop == _TOP_WIDTH[name] * 1000 + 1000, name


@pytest.mark.keras
def test_stochastic_depth_convnext_keras_files_both_ways(real_keras, tmp_path):
    """A small ConvNeXt with StochasticDepth and LayerScale: whole .keras files interchange with Keras."""
    from keras.src.applications import convnext as kconvnext

    rng = np.random.default_rng(2)
    kw = dict(
        depths=[1, 2, 1, 1],
        projection_dims=[8, 16, 16, 24],
        drop_path_rate=0.3,
        name="small_cnx",
        include_top=True,
        weights=None,
        input_shape=(32, 32, 3),
        classes=3,
    )
    theirs = kconvnext.ConvNeXt(**kw)
    ours = convnext.ConvNeXt(**kw)
    _assert_same_layers(ours, theirs)
    assert sum(type(l).__name__ == "StochasticDepth" for l in ours.layers) == 4  # the first block has rate 0
    _randomize(theirs, rng)
    ours.set_weights(theirs.get_weights())
    x = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    expected = theirs.predict(x, verbose=0)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-5, rtol=1e-5)
    ours.save(str(tmp_path / "s.keras"))
    back = real_keras.saving.load_model(str(tmp_path / "s.keras"))
    assert type(back.get_layer("small_cnx_stage_1_block_1_stochastic_depth")) is kconvnext.StochasticDepth
    assert back.get_layer("small_cnx_stage_1_block_1_stochastic_depth").drop_path_rate == pytest.approx(
        0.15
    )  # linspace(0, 0.3, 5)[2]
    np.testing.assert_allclose(back.predict(x, verbose=0), expected, atol=1e-5, rtol=1e-5)
    theirs.save(str(tmp_path / "k.keras"))
    import strided

    mine = strided.saving.load_model(str(tmp_path / "k.keras"))
    assert type(mine.get_layer("small_cnx_stage_0_block_0_layer_scale")) is LayerScale
    np.testing.assert_allclose(mine.predict(x, verbose=0), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.keras
def test_layer_scale_and_stochastic_depth(real_keras):
    from keras.src.applications import convnext as kconvnext
    from keras.src.saving import serialization_lib as keras_serialization_lib
    from strided.saving import serialization_lib

    ls = LayerScale(0.5, 4, name="ls")
    x = np.random.default_rng(3).normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(ls(x).numpy(), x * 0.5, rtol=1e-6)
    assert ls.get_weights()[0].shape == (4,) and len(ls.trainable_weights) == 1
    sd = StochasticDepth(0.25, name="sd")
    for ours, theirs in (
        (ls, kconvnext.LayerScale(0.5, 4, name="ls")),
        (sd, kconvnext.StochasticDepth(0.25, name="sd")),
    ):
        written, expected = (
            serialization_lib.serialize_layer(ours),
            keras_serialization_lib.serialize_keras_object(theirs),
        )
        for key in ("module", "class_name", "registered_name"):
            assert written[key] == expected[key]
        for key, value in expected["config"].items():
            if key != "dtype":
                assert written["config"][key] == value
        clone = type(ours).from_config(ours.get_config())
        assert clone.get_config() == ours.get_config()
        assert type(real_keras.saving.deserialize_keras_object(written)) is type(theirs)
    # Drop path: whole samples are zeroed or kept (scaled by 1 / keep) in training, identity outside it.
    torch.manual_seed(0)
    y = torch.ones(4000, 2, 3)
    out = sd(y, training=True)
    per_sample = out.reshape(4000, -1)
    assert set(torch.unique(per_sample).tolist()) <= {0.0, np.float32(1 / 0.75)}
    assert torch.all(per_sample.min(1).values == per_sample.max(1).values)
    assert abs(float((per_sample[:, 0] == 0).float().mean()) - 0.25) < 0.03
    assert torch.equal(sd(y, training=False), y)
    with pytest.raises(ValueError, match="drop_path_rate"):
        StochasticDepth(1.5)
    with pytest.raises(TypeError, match="drop_path_rate"):
        StochasticDepth("0.1")
    with pytest.raises(ValueError, match="projection_dim"):
        LayerScale(1e-6, 0)
    with pytest.raises(ValueError, match="projection_dim=4"):
        LayerScale(1e-6, 4)(np.zeros((1, 3), "float32"))


@pytest.mark.keras
@pytest.mark.parametrize("name", ["ConvNeXtTiny", "EfficientNetV2B0"])
@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(weights="imagenet", classes=10), "classes"),
        (dict(weights="/no/such/file.h5"), "weights"),
        (dict(weights=None, include_top=False, input_shape=(16, 16, 3)), "at least 32"),
        (dict(weights=None, input_shape=(64, 64, 3), input_tensor=None, include_top=True, classes=0), "classes"),
    ],
)
def test_argument_errors(real_keras, name, kw, match):
    with pytest.raises(ValueError, match=match):
        getattr(_module(name), name)(**kw)
    if kw.get("classes") != 0:  # Keras builds a model with 0 classes
        with pytest.raises(ValueError, match=match):
            getattr(real_keras.applications, name)(**kw)


def test_convnext_specific_errors():
    import strided

    with pytest.raises(ValueError, match="does not match weights variant"):
        ConvNeXtTiny(weights="imagenet", name="my_model")
    with pytest.raises(ValueError, match="four stages"):
        convnext.ConvNeXt([3, 3, 9], [96, 192, 384], weights=None)
    strided.config.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="channels_first"):
            ConvNeXtTiny(weights=None)
    finally:
        strided.config.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="name"):
        efficientnet_v2.EfficientNetV2(1.0, 1.0, 224, name="custom", weights=None)


def test_imagenet_weights_file_names(tmp_path, monkeypatch):
    monkeypatch.setenv("STRIDED_HOME", str(tmp_path))
    monkeypatch.setenv("STRIDED_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    cases = [
        (
            EfficientNetV2B0,
            dict(include_top=False, input_shape=(32, 32, 3)),
            "efficientnet_v2/efficientnetv2-b0_notop.h5",
        ),
        (
            efficientnet_v2.EfficientNetV2S,
            dict(include_top=False, input_shape=(32, 32, 3), name="renamed"),
            "efficientnet_v2/efficientnetv2-s_notop.h5",
        ),
        (ConvNeXtTiny, dict(include_top=False, input_shape=(32, 32, 3)), "convnext/convnext_tiny_notop.h5"),
    ]
    for builder, kw, path in cases:
        with pytest.raises(FileNotFoundError) as e:
            builder(weights="imagenet", **kw)
        assert "'" + path.split("/")[1] + "'" in str(e.value)
        assert "https://storage.googleapis.com/tensorflow/keras-applications/" + path in str(e.value)
    assert set(efficientnet_v2.WEIGHTS_HASHES) == {"b0", "b1", "b2", "b3", "-s", "-m", "-l"}
    assert set(convnext.WEIGHTS_HASHES) == {f"convnext_{k}" for k in ("tiny", "small", "base", "large", "xlarge")}


@pytest.mark.keras
def test_weights_tables_match_keras(real_keras):
    from keras.src.applications import convnext as kc
    from keras.src.applications import efficientnet_v2 as ke

    assert convnext.WEIGHTS_HASHES == kc.WEIGHTS_HASHES and convnext.BASE_WEIGHTS_PATH == kc.BASE_WEIGHTS_PATH
    assert convnext.MODEL_CONFIGS == kc.MODEL_CONFIGS
    assert efficientnet_v2.WEIGHTS_HASHES == ke.WEIGHTS_HASHES
    assert efficientnet_v2.BASE_WEIGHTS_PATH == ke.BASE_WEIGHTS_PATH
    assert efficientnet_v2.DEFAULT_BLOCKS_ARGS == ke.DEFAULT_BLOCKS_ARGS
    for f in (0.5, 1.0, 1.1, 1.2, 1.4, 2.0):
        for n in (16, 24, 32, 48, 96, 112, 192, 1280):
            assert efficientnet_v2.round_filters(n, f, 8, 8) == ke.round_filters(n, f, 8, 8)


@pytest.mark.keras
@pytest.mark.parametrize("module", [convnext, efficientnet_v2])
def test_preprocess_input_and_decode_predictions_match_keras(real_keras, tmp_path, monkeypatch, module):
    kmodule = getattr(real_keras.applications, module.__name__.rsplit(".", 1)[-1])
    x = np.random.default_rng(4).uniform(0, 255, (1, 4, 4, 3)).astype("float32")
    assert module.preprocess_input(x) is x  # a pass-through, as Keras's
    np.testing.assert_array_equal(module.preprocess_input(x.copy()), kmodule.preprocess_input(x.copy()))
    (tmp_path / "models").mkdir()
    shutil.copy(imagenet_utils._CLASS_INDEX_FILE, tmp_path / "models" / "imagenet_class_index.json")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    from keras.src.applications import imagenet_utils as kiu
    from keras.src.utils import file_utils

    monkeypatch.setattr(kiu, "CLASS_INDEX", None)
    monkeypatch.setattr(file_utils.config, "keras_home", lambda: str(tmp_path), raising=False)
    preds = np.random.default_rng(5).random((2, 1000)).astype("float32")
    ours, theirs = module.decode_predictions(preds, top=3), kmodule.decode_predictions(preds, top=3)
    assert [[(a, b) for a, b, _ in row] for row in ours] == [[(a, b) for a, b, _ in row] for row in theirs]


def test_registered_in_applications():
    import strided

    for name in COUNTS:
        assert getattr(strided.applications, name) is getattr(_module(name), name)
        assert name in strided.applications.__all__
    assert strided.applications.convnext is convnext
    assert strided.applications.efficientnet_v2 is efficientnet_v2
