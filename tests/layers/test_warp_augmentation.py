"""RandomPerspective and RandomElasticTransform (strided.layers.warp_augmentation): harness, inference identity,
values equal to real Keras 3 on Keras-drawn transformations, the resampler's fill modes, draws, seeds, errors."""

import numpy as np
import pytest
import torch

import strided
from strided import layers
from strided.layers import warp_augmentation as wa
from strided.testing import run_layer_test


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _images(shape, seed=0, high=255.0):
    return (np.random.default_rng(seed).random(shape) * high).astype("float32")


def _to_first(x):
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


CASES = [
    ("RandomPerspective", {"factor": (0.5, 1.0), "scale": 0.6, "fill_value": 3.0}),
    ("RandomElasticTransform", {"factor": (0.5, 1.0), "scale": (0.4, 1.0), "fill_mode": "constant"}),
]


@pytest.mark.parametrize("name, kwargs", CASES)
def test_harness_inference_identity_and_one_image(name, kwargs):
    cls = getattr(layers, name)
    assert cls is getattr(wa, name)
    run_layer_test(
        cls,
        kwargs,
        input_shape=(2, 12, 11, 3),
        expected_output_shape=(2, 12, 11, 3),
        expected_num_params=0,
        run_training_check=False,
    )
    x = _images((2, 12, 11, 3))
    layer = cls(**kwargs, seed=1)
    out = layer(x, training=False)
    assert out.dtype == torch.float32 and np.array_equal(_np(out), x)
    assert layer.get_random_transformation(x, training=False) is None
    aug = _np(cls(**dict(kwargs, factor=(1, 1)))(x))  # a direct call augments
    assert aug.shape == x.shape and not np.allclose(aug, x)
    assert _np(layer(x[0], training=True)).shape == x[0].shape


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_perspective_matches_real_keras_on_keras_draws(real_keras, data_format, interpolation):
    ko = real_keras.ops
    x = _images((3, 14, 11, 3), seed=2)
    x = x if data_format == "channels_last" else _to_first(x)
    kw = dict(factor=(0.5, 1.0), scale=0.8, fill_value=7.0, interpolation=interpolation, data_format=data_format)
    theirs, ours = real_keras.layers.RandomPerspective(**kw), layers.RandomPerspective(**kw)
    for seed in (1, 2):
        t = theirs.get_random_transformation(ko.convert_to_tensor(x), seed=seed)
        t_ours = {k: (v.detach().clone() if isinstance(v, torch.Tensor) else v) for k, v in t.items()}
        want = ko.convert_to_numpy(theirs.transform_images(ko.convert_to_tensor(x), t))
        got = _np(ours.transform_images(x, t_ours))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)
        assert not np.allclose(got, x)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(
    "fill_mode, interpolation",
    [
        ("reflect", "bilinear"),
        ("mirror", "bilinear"),
        ("constant", "bilinear"),
        ("nearest", "bilinear"),
        ("wrap", "bilinear"),
        ("reflect", "nearest"),
    ],
)
def test_elastic_matches_real_keras_with_the_same_noise(real_keras, data_format, fill_mode, interpolation):
    """Keras's torch backend draws the noise from torch's global generator: seeded alike, both layers get the
    same fields. strided smooths them with a separable blur (Keras: one 2-D kernel), so coordinates agree to
    float rounding, amplified by the image's pixel-to-pixel steps (up to 255) on bilinear output."""
    ko = real_keras.ops
    n, h, w = 3, 24, 20
    x = _images((n, h, w, 3), seed=3)
    x = x if data_format == "channels_last" else _to_first(x)
    kw = dict(
        factor=(0.6, 1.0),
        scale=(0.5, 1.0),
        fill_mode=fill_mode,
        fill_value=3.0,
        interpolation=interpolation,
        data_format=data_format,
    )
    theirs, ours = real_keras.layers.RandomElasticTransform(**kw), layers.RandomElasticTransform(**kw)
    t = theirs.get_random_transformation(ko.convert_to_tensor(x), seed=4)
    torch.manual_seed(11)
    want = ko.convert_to_numpy(theirs.transform_images(ko.convert_to_tensor(x), t))
    torch.manual_seed(11)
    noise = torch.stack([torch.normal(0.0, 1.0, size=(n, h, w)), torch.normal(0.0, 1.0, size=(n, h, w))], 1)
    got = _np(
        ours.transform_images(
            x,
            {
                "apply_transform": t["apply_transform"].clone(),
                "noise": noise,
                "distortion_factor": t["distortion_factor"].clone(),
            },
        )
    )
    assert np.abs(want - x).max() > 100  # the deformation moves pixels
    if interpolation == "nearest":  # a coordinate a float-ulp from a half-pixel may round apart
        assert np.mean(~np.isclose(got, want, atol=1e-3)) < 0.005
    else:
        np.testing.assert_allclose(got, want, rtol=0, atol=5e-3)


def test_map_coordinates_fill_modes_on_a_line():
    row = torch.arange(4, dtype=torch.float32).reshape(1, 1, 4, 1) * 10  # [0, 10, 20, 30]
    xs = torch.tensor([[[-2.0, -1.0, 4.0, 5.0, 1.5]]])
    ys = torch.zeros_like(xs)
    expected = {
        "constant": [-1, -1, -1, -1, 15],
        "nearest": [0, 0, 30, 30, 15],
        "wrap": [20, 30, 0, 10, 15],
        "mirror": [20, 10, 20, 10, 15],
        "reflect": [10, 0, 30, 20, 15],
    }
    for mode, want in expected.items():
        got = wa.map_coordinates_batch(row, ys, xs, "bilinear", mode, -1.0)
        np.testing.assert_allclose(got.reshape(-1).numpy(), want, err_msg=mode)
    x = torch.rand(2, 5, 4, 3, dtype=torch.float64, requires_grad=True)
    gy, gx = torch.meshgrid(torch.arange(5.0), torch.arange(4.0), indexing="ij")
    ys, xs = (gy + 0.3).expand(2, 5, 4).double(), (gx - 0.6).expand(2, 5, 4).double()
    assert torch.autograd.gradcheck(lambda t: wa.map_coordinates_batch(t, ys, xs, "bilinear", "reflect"), (x,))


def test_perspective_identity_cases_and_draws():
    x = _images((16, 9, 8, 3), seed=5)
    np.testing.assert_allclose(_np(layers.RandomPerspective(scale=0.0)(x)), x, atol=1e-3)  # corners stay
    np.testing.assert_array_equal(_np(layers.RandomPerspective(factor=0.0)(x)), x)  # probability 0
    t = layers.RandomPerspective(scale=0.5, seed=3).get_random_transformation(x)
    start, end = _np(t["start_points"]), _np(t["end_points"])
    np.testing.assert_array_equal(end[:, 0], 0)  # Keras's shifts are proportional: (0, 0) stays
    d = (end - start)[:, 1:] / start[:, 1:].clip(1)
    assert np.abs(d).max() <= 0.25 and len(np.unique(end[:, 3, 0])) == 16  # per-image corners
    masks = np.repeat(np.arange(72, dtype="float32").reshape(1, 9, 8, 1), 16, 0)
    out = layers.RandomPerspective(seed=1)({"images": x, "segmentation_masks": masks})
    assert set(np.unique(_np(out["segmentation_masks"]))) <= set(range(72))  # nearest: no blended labels


def test_elastic_identity_cases_ranges_and_draws():
    x = _images((6, 20, 18, 3), seed=6)
    assert layers.RandomElasticTransform(scale=0.0).get_random_transformation(x) is None
    np.testing.assert_array_equal(_np(layers.RandomElasticTransform(scale=0.0)(x)), x)
    np.testing.assert_array_equal(_np(layers.RandomElasticTransform(factor=(0.0, 0.0))(x)), x)
    layer = layers.RandomElasticTransform(fill_mode="constant", fill_value=500.0, value_range=(0, 200), seed=2)
    out = _np(layer(x))
    assert out.min() >= 0 and out.max() <= 200
    t = layers.RandomElasticTransform(scale=(0.2, 0.9), seed=2).get_random_transformation(x)
    s = _np(t["distortion_factor"])
    assert s.shape == (6,) and len(np.unique(s)) == 6 and 0.2 <= s.min() and s.max() <= 0.9
    assert _np(t["noise"]).shape == (6, 2, 20, 18)
    # the same noise with a zero strength is the identity
    t0 = dict(t, distortion_factor=np.zeros(6, "float32"), apply_transform=np.ones(6, bool))
    np.testing.assert_allclose(_np(layers.RandomElasticTransform().transform_images(x, t0)), x, atol=1e-4)


@pytest.mark.parametrize("name, kwargs", CASES)
def test_seeds_repeat_and_data_formats_agree(name, kwargs):
    x = _images((4, 10, 9, 3), seed=7)
    cls = getattr(layers, name)
    a, b = cls(**kwargs, seed=9), cls(**kwargs, seed=9)
    first = _np(a(x, training=True))
    np.testing.assert_array_equal(first, _np(b(x, training=True)))
    assert not np.array_equal(first, _np(a(x, training=True)))
    layer_last, layer_first = cls(**kwargs), cls(**kwargs, data_format="channels_first")
    t = layer_last.get_random_transformation(x, seed=3)
    np.testing.assert_allclose(
        _np(layer_first.transform_images(_to_first(x), t)),
        _to_first(_np(layer_last.transform_images(x, t))),
        rtol=1e-5,
        atol=1e-3,
    )


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RandomPerspective", {"scale": 1.5}),
        ("RandomPerspective", {"factor": 2.0}),
        ("RandomElasticTransform", {"scale": -0.5}),
        ("RandomElasticTransform", {"factor": (0.1, 0.2, 0.3)}),
    ],
)
def test_bad_arguments_raise_keras_messages(real_keras, name, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(real_keras.layers, name)(**kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(layers, name)(**kwargs)
    assert str(ours.value) == str(theirs.value)


def test_unknown_modes_raise_as_keras():
    with pytest.raises(NotImplementedError, match="interpolation"):
        layers.RandomPerspective(interpolation="cubic")
    with pytest.raises(NotImplementedError, match="fill_mode"):
        layers.RandomElasticTransform(fill_mode="edge")
    with pytest.raises(ValueError, match="scale"):
        layers.RandomPerspective(scale="big")


def test_configs_match_keras_and_models_save(real_keras, tmp_path):
    for name, kwargs in CASES:
        ours = getattr(layers, name)(**kwargs).get_config()
        theirs = getattr(real_keras.layers, name)(**kwargs).get_config()
        assert set(theirs) <= set(ours)
        for key in set(theirs) - {"name", "dtype"}:
            assert np.array_equal(np.asarray(ours[key], dtype=object), np.asarray(theirs[key], dtype=object)), key
    model = strided.Sequential(
        [strided.Input((12, 10, 3))]
        + [getattr(layers, n)(**kw) for n, kw in CASES]
        + [layers.Flatten(), layers.Dense(2)]
    )
    model.save(tmp_path / "warps.keras")
    loaded = strided.models.load_model(tmp_path / "warps.keras")
    assert [type(layer).__name__ for layer in loaded.layers[:2]] == [n for n, _ in CASES]
    x = _images((2, 12, 10, 3))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
