"""Colour and mixing augmentation layers (strided.layers.color_augmentation): harness, inference behaviour, value parity
with real Keras 3 on Keras-drawn transformations, our own draws (ranges, seeds), argument errors."""

import numpy as np
import pytest
import torch

from strided import layers
from strided.layers import color_augmentation as ca
from strided.testing import run_layer_test


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _images(shape, seed=0, high=255.0):
    return (np.random.default_rng(seed).random(shape) * high).astype("float32")


# name, constructor kwargs (shared by Keras and strided), identity at inference in Keras
CASES = [
    ("RandomInvert", {"factor": (0.3, 0.9)}, True),
    ("Solarization", {"addition_factor": (0.1, 0.5), "threshold_factor": (0.2, 0.7)}, True),
    ("RandomPosterization", {"factor": (2, 7)}, True),
    ("AutoContrast", {"value_range": (0, 255)}, False),
    ("RandomSaturation", {"factor": (0.1, 0.9)}, True),
    ("RandomHue", {"factor": 0.8}, True),
]


@pytest.mark.parametrize(
    "name, kwargs, identity",
    CASES
    + [
        (
            "RandomColorJitter",
            {
                "brightness_factor": 0.2,
                "contrast_factor": 0.3,
                "saturation_factor": (0.3, 0.7),
                "hue_factor": 0.4,
                "seed": 3,
            },
            True,
        ),
        ("RandomErasing", {"factor": (0.5, 1.0), "scale": 0.3, "fill_value": (1, 2, 3)}, True),
        ("MixUp", {"alpha": 0.5}, True),
        ("CutMix", {"factor": 0.7}, True),
        ("RandomShear", {"x_factor": 0.3, "y_factor": (0.1, 0.4), "fill_mode": "constant"}, True),
    ],
)
def test_harness_and_inference(name, kwargs, identity):
    cls = getattr(layers, name)
    assert cls is getattr(ca, name)
    run_layer_test(
        cls,
        kwargs,
        input_shape=(2, 6, 7, 3),
        expected_output_shape=(2, 6, 7, 3),
        expected_num_params=0,
        run_training_check=False,
    )
    x = _images((2, 6, 7, 3))
    layer = cls(**kwargs)
    out = _np(layer(x, training=False))
    if identity:
        assert np.array_equal(out, x) and layer.get_random_transformation(x, training=False) is None
    else:  # AutoContrast is not random: it stretches at inference too, as Keras's does
        assert out.min(axis=(1, 2)).max() == 0.0 and out.max(axis=(1, 2)).min() == pytest.approx(255.0)
    assert _np(layer(x[0], training=True)).shape == x[0].shape  # one image


def _keras_parity(real_keras, name, kwargs, x, seed, data_format="channels_last"):
    ko = real_keras.ops
    theirs = getattr(real_keras.layers, name)(**kwargs, data_format=data_format)
    ours = getattr(ca, name)(**kwargs, data_format=data_format)
    t = theirs.get_random_transformation(ko.convert_to_tensor(x), training=True, seed=seed)
    want = ko.convert_to_numpy(theirs.transform_images(ko.convert_to_tensor(x), t))
    t_np = None if t is None else {k: ko.convert_to_numpy(v) for k, v in t.items()}
    got = _np(ours.transform_images(x, t_np))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * 255, err_msg=name)
    return t_np


@pytest.mark.parametrize("name, kwargs, identity", CASES)
def test_values_match_real_keras_on_keras_draws(real_keras, name, kwargs, identity):
    """Keras draws the transformation; both layers apply it; outputs agree (float32 rounding, 1e-5 relative)."""
    x = _images((4, 5, 6, 3), seed=1)
    x[1, ..., 0] = 7.0  # a constant channel (AutoContrast keeps it)
    for seed in (1, 2, 3):
        _keras_parity(real_keras, name, kwargs, x, seed)
    # value ranges other than [0, 255] go through Keras's rescaling
    kw = dict(kwargs, value_range=(-1, 1))
    _keras_parity(real_keras, name, kw, x / 127.5 - 1.0, 4)


@pytest.mark.parametrize(
    "name", ["RandomInvert", "Solarization", "RandomPosterization", "RandomHue", "RandomSaturation"]
)
def test_channels_first_matches_real_keras(real_keras, name):
    kwargs = dict(CASES[[c[0] for c in CASES].index(name)][1])
    x = _images((3, 3, 5, 4), seed=2)
    _keras_parity(real_keras, name, kwargs, x, 5, data_format="channels_first")


def test_autocontrast_channels_first_stretches_each_channel():
    # Keras reduces over axes (1, 2) whatever the data format; strided over height and width.
    x = _images((2, 3, 4, 5), seed=3) * 0.5 + 10
    out = _np(layers.AutoContrast(data_format="channels_first")(x))
    np.testing.assert_allclose(out.min(axis=(2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(out.max(axis=(2, 3)), 255, atol=1e-3)


def test_color_jitter_matches_keras_sub_layers(real_keras):
    """Keras's RandomColorJitter draws inside transform_images; chain Keras's sub-layers on our draws."""
    ko = real_keras.ops
    kw = {"brightness_factor": (-0.2, 0.3), "contrast_factor": 0.3, "saturation_factor": (0.3, 0.8), "hue_factor": 0.5}
    x = _images((4, 5, 6, 3), seed=4)
    ours = layers.RandomColorJitter(**kw, seed=11)
    t = ours.get_random_transformation(x)
    got = _np(ours.transform_images(x, t))
    y = ko.convert_to_tensor(x)
    for step, cls in [
        ("brightness", "RandomBrightness"),
        ("contrast", "RandomContrast"),
        ("saturation", "RandomSaturation"),
        ("hue", "RandomHue"),
    ]:
        sub = getattr(real_keras.layers, cls)(kw[f"{step}_factor"])
        y = sub.transform_images(y, {k: ko.convert_to_tensor(_np(v)) for k, v in t[step].items()})
    np.testing.assert_allclose(got, ko.convert_to_numpy(y), rtol=1e-5, atol=1e-5 * 255)
    # Steps left out are skipped; one seed drives all sub-layers without making their draws equal.
    only = layers.RandomColorJitter(hue_factor=0.5, seed=1).get_random_transformation(x)
    assert only["brightness"] is None and only["contrast"] is None and only["hue"] is not None
    again = layers.RandomColorJitter(**kw, seed=11).get_random_transformation(x)
    assert torch.equal(t["hue"]["factor"], again["hue"]["factor"])


# ---------------------------------------------------------------- our draws


def test_invert_draws():
    x = np.zeros((4000, 2, 2, 3), "float32")
    t = layers.RandomInvert(seed=0).get_random_transformation(x)["apply_inversion"]
    assert t.shape == (4000,) and t.dtype == torch.bool and 0.45 < t.float().mean() < 0.55  # p ~ U[0, 1]
    assert layers.RandomInvert(factor=(1, 1)).get_random_transformation(x)["apply_inversion"].all()
    assert not layers.RandomInvert(factor=0.0).get_random_transformation(x)["apply_inversion"].any()
    out = _np(layers.RandomInvert(factor=(1, 1), value_range=(0, 1))(x + 0.25))
    np.testing.assert_allclose(out, 0.75)


def test_solarization_draws_and_default_inverts():
    x = _images((3000, 1, 1, 3))
    t = layers.Solarization((0.2, 0.4), 0.5, seed=1).get_random_transformation(x)
    add, thr = _np(t["additions"]), _np(t["thresholds"])
    assert add.shape == (3000, 1, 1, 1) and thr.shape == (3000, 1, 1, 1)
    # Keras's range: [lower, upper * 255] (only the upper end is scaled)
    assert 0.2 <= add.min() < 2 and 100 < add.max() <= 102 and 0 <= thr.min() < 1 and 126 < thr.max() <= 127.5
    np.testing.assert_allclose(_np(layers.Solarization()(x)), 255 - x, atol=1e-4)


def test_posterization_draws_and_values():
    t = layers.RandomPosterization((2, 6), seed=0).get_random_transformation(np.zeros((3000, 1, 1, 1)))
    s = _np(t["shift_factor"])
    assert s.dtype == np.uint8 and set(np.unique(s)) == {3, 4, 5, 6}  # bits in [2, 6): upper end excluded
    t = layers.RandomPosterization(4).get_random_transformation(np.zeros((500, 1, 1, 1)))
    assert set(np.unique(_np(t["shift_factor"]))) == {5, 6, 7}  # 4 means (1, 4)
    assert set(
        _np(layers.RandomPosterization((3, 3)).get_random_transformation(np.zeros((5, 1, 1, 1)))["shift_factor"])
    ) == {5}
    x = np.array([0, 1, 31, 32, 200.7, 255], "float32").reshape(1, 1, 6, 1)
    out = _np(layers.RandomPosterization(3).transform_images(x, {"shift_factor": np.array([5], np.uint8)}))
    np.testing.assert_array_equal(out.ravel(), [0, 0, 0, 32, 192, 224])


def test_saturation_and_hue_draws():
    x = np.zeros((3000, 1, 1, 3), "float32")
    f = _np(layers.RandomSaturation((0.2, 0.6), seed=0).get_random_transformation(x)["factor"])
    assert 0.25 <= f.min() < 0.26 and 1.45 < f.max() <= 1.5  # f / (1 - f) for f in [0.2, 0.6]
    assert layers.RandomSaturation(0.5).factor == (-0.5, 0.5)
    h = _np(layers.RandomHue((0.2, 0.6), seed=0).get_random_transformation(x)["factor"])
    assert 0.09 < np.abs(h).min() and np.abs(h).max() <= 0.3 and 0.45 < (h > 0).mean() < 0.55
    # saturation multiplier 0 gives gray images; a hue shift of a full turn changes nothing
    img = _images((2, 3, 4, 3), seed=5)
    gray = _np(layers.RandomSaturation(0.5).transform_images(img, {"factor": np.zeros(2)}))
    np.testing.assert_allclose(gray, np.repeat(img.max(-1, keepdims=True), 3, -1), rtol=1e-5)
    same = _np(layers.RandomHue(1.0).transform_images(img, {"factor": np.zeros(2)}))
    np.testing.assert_allclose(same, img, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RandomInvert", {}),
        ("Solarization", {"addition_factor": 0.5, "threshold_factor": 0.5}),
        ("RandomPosterization", {"factor": (1, 8)}),
        ("RandomSaturation", {"factor": 0.5}),
        ("RandomHue", {"factor": 0.5}),
        ("RandomColorJitter", {"brightness_factor": 0.5, "hue_factor": 0.5}),
    ],
)
def test_seeds_make_draws_reproducible(name, kwargs):
    x = _images((8, 3, 4, 3))
    cls = getattr(layers, name)
    a, b = cls(**kwargs, seed=7), cls(**kwargs, seed=7)
    np.testing.assert_array_equal(_np(a(x, training=True)), _np(b(x, training=True)))
    np.testing.assert_array_equal(_np(a(x, training=True)), _np(b(x, training=True)))  # the streams advance alike
    layer = cls(**kwargs)
    np.testing.assert_array_equal(
        _np(layer.transform_images(x, layer.get_random_transformation(x, seed=3))),
        _np(layer.transform_images(x, layer.get_random_transformation(x, seed=3))),
    )


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RandomInvert", {"factor": 1.5}),
        ("RandomInvert", {"factor": "a"}),
        ("RandomPosterization", {"factor": 9}),
        ("RandomPosterization", {"factor": (0, 1, 2)}),
        ("RandomHue", {"factor": -0.1}),
        ("RandomSaturation", {"factor": 2}),
        ("Solarization", {"addition_factor": 1.5}),
        ("Solarization", {"threshold_factor": (0.1, 2)}),
        ("Solarization", {"threshold_factor": "x"}),
        ("Solarization", {"value_range": 255}),
        ("RandomPosterization", {"factor": 3, "value_range": (0, 1, 2)}),
        ("AutoContrast", {"value_range": [1]}),
        ("RandomSaturation", {"factor": 0.2, "value_range": 3}),
    ],
)
def test_bad_arguments_raise_keras_messages(real_keras, name, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(real_keras.layers, name)(**kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(layers, name)(**kwargs)
    assert str(ours.value) == str(theirs.value)


def test_rank_is_checked():
    with pytest.raises(ValueError, match="rank"):
        layers.RandomHue(0.2).get_random_transformation(np.zeros((1, 2, 3, 4, 3)))
    with pytest.raises(ValueError, match="rank"):
        layers.AutoContrast()(np.zeros((2, 3), "float32"))


# ---------------------------------------------------------------- erasing and mixing


MIX_CASES = [
    ("RandomErasing", {"factor": (0.5, 1.0)}),
    ("RandomErasing", {"scale": (0.1, 0.6), "fill_value": (10, 20, 300)}),
    ("RandomErasing", {"fill_value": 50.0, "value_range": (0, 40)}),
    ("MixUp", {"alpha": 0.4}),
    ("CutMix", {"factor": 0.8}),
]


@pytest.mark.parametrize("name, kwargs", MIX_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_erasing_and_mixing_match_real_keras(real_keras, name, kwargs, data_format):
    if data_format == "channels_first" and isinstance(kwargs.get("fill_value"), tuple):
        pytest.skip("Keras's torch backend broadcasts a per-channel fill_value on the last axis (fails here)")
    ko = real_keras.ops
    x = _images((5, 4, 6, 3), seed=6)
    x = x if data_format == "channels_last" else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    for seed in (1, 2):
        t = _keras_parity(real_keras, name, kwargs, x, seed, data_format=data_format)
        if name != "RandomErasing":  # labels mixed with the same weights as Keras's
            theirs = getattr(real_keras.layers, name)(**kwargs)
            labels = np.eye(3, dtype="float32")[[0, 1, 2, 0, 1]]
            want = ko.convert_to_numpy(
                theirs.transform_labels(
                    ko.convert_to_tensor(labels), {k: ko.convert_to_tensor(v) for k, v in t.items()}
                )
            )
            got = _np(getattr(layers, name)(**kwargs).transform_labels(labels, t))
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_dict_inputs_follow_keras_contract(real_keras):
    x = _images((6, 4, 5, 3), seed=7)
    labels = np.eye(6, dtype="float32")
    for name in ("MixUp", "CutMix", "RandomInvert"):
        out = getattr(layers, name)(seed=1)({"images": x, "labels": labels})
        theirs = getattr(real_keras.layers, name)(seed=1)({"images": x, "labels": labels})
        assert sorted(out) == sorted(theirs) == ["images", "labels"]
        assert tuple(out["images"].shape) == x.shape and tuple(out["labels"].shape) == labels.shape
        np.testing.assert_allclose(_np(out["labels"]).sum(1), 1.0, rtol=1e-5)  # still a distribution
        same = getattr(layers, name)()({"images": x, "labels": labels}, training=False)
        assert np.array_equal(_np(same["images"]), x) and np.array_equal(_np(same["labels"]), labels)
    # MixUp: every output row is w * x_i + (1 - w) * x_perm(i), with the same w for the labels
    layer = layers.MixUp(alpha=1.0, seed=3)
    t = layer.get_random_transformation({"images": x, "labels": labels})
    w, order = _np(t["mix_weight"]), _np(t["permutation_order"])
    assert sorted(order) == list(range(6))
    mixed = _np(layer.transform_labels(labels, t))
    np.testing.assert_allclose(mixed, w[:, None] * labels + (1 - w[:, None]) * labels[order], rtol=1e-6)


def test_erasing_and_mixing_draws():
    x = np.zeros((2000, 10, 20, 1), "float32")
    t = layers.RandomErasing(factor=(1, 1), scale=(0.04, 0.25), fill_value=7.0, seed=0).get_random_transformation(x)
    m = _np(t["batch_masks"])[..., 0]
    widths, heights = m.any(1).sum(1), m.any(2).sum(1)
    assert _np(t["apply_erasing"]).all() and np.all(_np(t["fill_value"]) == 7.0)
    assert 3 <= widths.min() and widths.max() <= 11 and 1 <= heights.min() and heights.max() <= 6  # sqrt(scale)
    noise = _np(layers.RandomErasing(value_range=(0, 1), seed=0).get_random_transformation(x)["fill_value"])
    assert noise.min() == 0.0 and noise.max() == 1.0 and 0.2 < (noise == 0).mean() < 0.8  # clipped N(0, 1)
    w = _np(layers.MixUp(alpha=0.2, seed=0).get_random_transformation(x)["mix_weight"])
    assert 0 <= w.min() and w.max() <= 1 and abs(w.mean() - 0.5) < 0.05 and ((w < 0.1) | (w > 0.9)).mean() > 0.5
    t = layers.CutMix(seed=0).get_random_transformation(x)
    box = _np(t["batch_masks"])[..., 0].mean((1, 2))
    np.testing.assert_allclose(1 - _np(t["mix_weight"]).ravel(), box, atol=0.2)  # label weight ~ pasted area
    assert layers.CutMix().get_random_transformation(x[0]) is None  # one image: nothing to mix
    for cls in (layers.MixUp, layers.CutMix, layers.RandomErasing):
        a = cls(seed=4).get_random_transformation(x[:8])
        b = cls(seed=4).get_random_transformation(x[:8])
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_erasing_and_mixing_errors(real_keras):
    for name, kwargs in [
        ("RandomErasing", {"scale": 2}),
        ("RandomErasing", {"factor": (0.1, 0.2, 0.3)}),
        ("CutMix", {"factor": -1}),
    ]:
        with pytest.raises(ValueError) as theirs:
            getattr(real_keras.layers, name)(**kwargs)
        with pytest.raises(ValueError) as ours:
            getattr(layers, name)(**kwargs)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="fill_value"):
        layers.RandomErasing(fill_value=(1, 2))(np.zeros((1, 4, 4, 3), "float32"), training=True)


# ---------------------------------------------------------------- shear


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_shear_matches_real_keras(real_keras, fill_mode, interpolation):
    kw = dict(x_factor=0.6, y_factor=(0.2, 0.5), fill_mode=fill_mode, interpolation=interpolation, fill_value=3.5)
    ko = real_keras.ops
    x = _images((4, 7, 9, 2), seed=8)
    for data_format in ("channels_last", "channels_first"):
        xx = x if data_format == "channels_last" else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        theirs = real_keras.layers.RandomShear(**kw, data_format=data_format)
        t = theirs.get_random_transformation(ko.convert_to_tensor(xx), training=True, seed=2)
        want = ko.convert_to_numpy(theirs.transform_images(ko.convert_to_tensor(xx), t))
        got = _np(
            layers.RandomShear(**kw, data_format=data_format).transform_images(
                xx, {"shear_factor": ko.convert_to_numpy(t["shear_factor"])}
            )
        )
        # As for the other geometric layers (test_random_preprocessing): nearest sampling may round a
        # coordinate one float-ulp from a half pixel differently, so a few pixels may differ there.
        bad = ~np.isclose(got, want, rtol=1e-5, atol=1e-4)
        assert bad.mean() < (0.01 if interpolation == "nearest" else 1e-9), (data_format, bad.mean())


def test_shear_draws_values_and_errors(real_keras):
    t = _np(
        layers.RandomShear(0.3, (0.1, 0.2), seed=0).get_random_transformation(np.zeros((3000, 4, 4, 1)))["shear_factor"]
    )
    sx, sy = t[:, 0], t[:, 1]
    assert t.shape == (3000, 2) and np.abs(sx).max() <= 0.3 and np.abs(sx).max() > 0.29
    assert 0.1 <= np.abs(sy).min() and np.abs(sy).max() <= 0.2 and 0.45 < (sy > 0).mean() < 0.55
    t = _np(
        layers.RandomShear((0.1, 0.3), (0.1, 0.2), seed=0).get_random_transformation(np.zeros((500, 4, 4, 1)))[
            "shear_factor"
        ]
    )
    assert np.all(t[:, 0] * t[:, 1] > 0)  # one sign flip for both factors, as in Keras
    # a whole-pixel shear: row y moves by -sx * y
    x = np.arange(3 * 4, dtype="float32").reshape(1, 3, 4, 1)
    out = _np(layers.RandomShear(1.0, fill_mode="constant").transform_images(x, {"shear_factor": [[1.0, 0.0]]}))
    np.testing.assert_allclose(out[0, :, :, 0], [[0, 1, 2, 3], [5, 6, 7, 0], [10, 11, 0, 0]], atol=1e-5)
    for kwargs in [{"x_factor": 1.5}, {"y_factor": (0.1, 0.2, 0.3)}, {"x_factor": "a"}]:
        with pytest.raises(ValueError) as theirs:
            real_keras.layers.RandomShear(**kwargs)
        with pytest.raises(ValueError) as ours:
            layers.RandomShear(**kwargs)
        assert str(ours.value).startswith(str(theirs.value))  # Keras's text; strided then names the argument
    for kwargs in [{"fill_mode": "mirror"}, {"interpolation": "bicubic"}]:
        with pytest.raises(NotImplementedError) as theirs:
            real_keras.layers.RandomShear(**kwargs)
        with pytest.raises(NotImplementedError) as ours:
            layers.RandomShear(**kwargs)
        assert str(ours.value) == str(theirs.value)


def test_model_with_the_layers_trains_saves_and_predicts_deterministically(tmp_path):
    from strided import models

    x = _images((16, 8, 8, 3), seed=9)
    y = np.eye(2, dtype="float32")[np.arange(16) % 2]
    model = models.Sequential(
        [
            layers.Input((8, 8, 3)),
            layers.RandomInvert(seed=1),
            layers.Solarization(0.2, 0.5),
            layers.RandomPosterization(4),
            layers.AutoContrast(),
            layers.RandomColorJitter(brightness_factor=0.2, saturation_factor=(0.3, 0.7), hue_factor=0.3),
            layers.RandomErasing(),
            layers.RandomShear(0.2, 0.2),
            layers.Rescaling(1 / 255.0),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile("adam", "categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    pred = model.predict(x, verbose=0)
    np.testing.assert_array_equal(pred, model.predict(x, verbose=0))  # only AutoContrast acts at inference
    model.save(tmp_path / "m.keras")
    np.testing.assert_allclose(models.load_model(tmp_path / "m.keras").predict(x, verbose=0), pred, rtol=1e-6)
