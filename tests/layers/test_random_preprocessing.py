"""Random augmentation layers: harness, inference identity, fixed-parameter values vs NumPy and real Keras 3,
seeds, ranges and clipping, errors, and a model that trains with them."""

import numpy as np
import pytest
import torch

import strided
from strided import layers
from strided.layers.random_preprocessing import image_affine_transform, rotation_matrices
from strided.testing import run_layer_test


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _images(shape, seed=0, high=255.0):
    return (np.random.default_rng(seed).random(shape) * high).astype("float32")


# ---------------------------------------------------------------- harness and inference


@pytest.mark.parametrize(
    "cls, kwargs, out_shape",
    [
        (layers.RandomFlip, {"mode": "horizontal", "seed": 1}, (2, 8, 9, 3)),
        (layers.RandomRotation, {"factor": (-0.1, 0.2), "fill_mode": "constant", "fill_value": 1.0}, (2, 8, 9, 3)),
        (layers.RandomZoom, {"height_factor": 0.2, "width_factor": (-0.3, 0.1)}, (2, 8, 9, 3)),
        (
            layers.RandomTranslation,
            {"height_factor": 0.1, "width_factor": 0.2, "interpolation": "nearest"},
            (2, 8, 9, 3),
        ),
        (layers.RandomCrop, {"height": 5, "width": 4, "seed": 3}, (2, 5, 4, 3)),
        (layers.RandomContrast, {"factor": 0.3, "value_range": (0, 1)}, (2, 8, 9, 3)),
        (layers.RandomBrightness, {"factor": (-0.2, 0.1)}, (2, 8, 9, 3)),
        (layers.RandomGrayscale, {"factor": 1.0}, (2, 8, 9, 3)),
    ],
)
def test_layer_harness_and_inference_identity(cls, kwargs, out_shape):
    run_layer_test(
        cls,
        kwargs,
        input_shape=(2, 8, 9, 3),
        expected_output_shape=out_shape,
        expected_num_params=0,
        run_training_check=False,
    )
    x = _images((2, 8, 9, 3), high=1.0)
    layer = cls(**kwargs)
    if cls is layers.RandomCrop:
        return  # its inference output is checked in test_random_crop_inference_resizes_centre_window
    assert np.array_equal(_np(layer(x, training=False)), x)
    assert layer.get_random_transformation(x, training=False) is None
    # In training the layer changes the data (all of these factors make identity a measure-zero draw),
    # and so does a direct call without `training`, as in Keras 3 (`augment(images)` to look at them).
    assert not np.allclose(_np(layer(x, training=True)), x) or cls is layers.RandomFlip
    assert not np.allclose(_np(layer(x)), x) or cls is layers.RandomFlip


def test_integer_input_becomes_float_and_wrong_rank_is_rejected():
    x = np.arange(2 * 4 * 4 * 1, dtype=np.uint8).reshape(2, 4, 4, 1)
    out = layers.RandomFlip()(x, training=False)
    assert out.dtype == torch.float32 and np.array_equal(_np(out), x.astype("float32"))
    with pytest.raises(ValueError, match=r"rank 3 .* or 4 .*inputs.shape=\(None, 4\)"):
        layers.RandomRotation(0.1)(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="rank"):
        layers.RandomContrast(0.1).get_random_transformation(np.zeros((1, 2, 3, 4, 5)))


# ---------------------------------------------------------------- flip


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_flip_values(data_format):
    x = _images((2, 4, 5, 3))
    cf = data_format == "channels_first"
    xin = x.transpose(0, 3, 1, 2) if cf else x
    flips = {"flips": np.array([True, False]).reshape(2, 1, 1, 1)}
    expected = {"horizontal": x[0, :, ::-1], "vertical": x[0, ::-1], "horizontal_and_vertical": x[0, ::-1, ::-1]}
    for mode, first in expected.items():
        out = _np(layers.RandomFlip(mode, data_format=data_format).transform_images(xin, flips))
        out = out.transpose(0, 2, 3, 1) if cf else out
        np.testing.assert_array_equal(out[0], first)
        np.testing.assert_array_equal(out[1], x[1])  # not drawn: unchanged


def test_flip_draws_are_coin_tosses_and_seeded():
    layer = layers.RandomFlip(seed=5)
    t = layer.get_random_transformation(np.zeros((4000, 2, 2, 1)))
    assert t["flips"].shape == (4000, 1, 1, 1) and t["flips"].dtype == torch.bool
    assert 0.45 < t["flips"].float().mean().item() < 0.55
    again = layers.RandomFlip(seed=5).get_random_transformation(np.zeros((4000, 2, 2, 1)))
    assert torch.equal(t["flips"], again["flips"])
    x = _images((6, 3, 3, 1))
    out = _np(layers.RandomFlip(seed=2)(x, training=True))
    for i in range(6):  # every image is either untouched or flipped both ways
        assert np.array_equal(out[i], x[i]) or np.array_equal(out[i], x[i, ::-1, ::-1])


# ---------------------------------------------------------------- rotation


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_rotation_by_quarter_turns_equals_rot90(data_format, interpolation):
    x = _images((3, 6, 6, 2))
    cf = data_format == "channels_first"
    layer = layers.RandomRotation(0.5, interpolation=interpolation, data_format=data_format)
    out = layer.transform_images(x.transpose(0, 3, 1, 2) if cf else x, {"angle": np.array([90.0, -90.0, 180.0])})
    out = _np(out)
    out = out.transpose(0, 2, 3, 1) if cf else out
    # Positive angles turn counter-clockwise, like np.rot90 with k > 0.
    np.testing.assert_allclose(out[0], np.rot90(x[0], 1), atol=1e-3)
    np.testing.assert_allclose(out[1], np.rot90(x[1], -1), atol=1e-3)
    np.testing.assert_allclose(out[2], np.rot90(x[2], 2), atol=1e-3)


def test_rotation_draws_are_in_range_and_matrix_matches():
    layer = layers.RandomRotation((-0.1, 0.25), seed=0)
    t = layer.get_random_transformation(np.zeros((2000, 5, 7, 1)))
    angle = _np(t["angle"])
    assert angle.min() >= -36.0 and angle.max() <= 90.0 and angle.min() < -30 and angle.max() > 80
    np.testing.assert_allclose(_np(t["rotation_matrix"]), _np(rotation_matrices(t["angle"], 5, 7)))
    assert layers.RandomRotation(0.2).factor == (-0.2, 0.2)


def _keras_transform(real_keras, layer, x, t):
    return real_keras.ops.convert_to_numpy(layer.transform_images(real_keras.ops.convert_to_tensor(x), t))


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_geometric_layers_match_real_keras(real_keras, fill_mode, interpolation):
    """Parameters drawn by strided, applied by strided and by real Keras 3's transform_images."""
    x = _images((3, 7, 9, 2), seed=1)
    kw = dict(fill_mode=fill_mode, interpolation=interpolation, fill_value=3.5)
    cases = [
        (
            layers.RandomRotation(0.4, seed=1, **kw),
            real_keras.layers.RandomRotation(0.4, **kw),
            lambda t: {"rotation_matrix": _np(t["rotation_matrix"])},
        ),
        (
            layers.RandomZoom((-0.5, 0.6), (-0.4, 0.7), seed=2, **kw),
            real_keras.layers.RandomZoom((-0.5, 0.6), (-0.4, 0.7), **kw),
            lambda t: {"height_zoom": _np(t["height_zoom"]), "width_zoom": _np(t["width_zoom"])},
        ),
        (
            layers.RandomTranslation(0.6, 0.7, seed=3, **kw),
            real_keras.layers.RandomTranslation(0.6, 0.7, **kw),
            lambda t: {"translations": _np(t["translations"])},
        ),
    ]
    for ours, theirs, to_keras in cases:
        t = ours.get_random_transformation(x)
        got = _np(ours.transform_images(x, t))
        want = _keras_transform(real_keras, theirs, x, to_keras(t))
        # Nearest sampling may round a coordinate a float-ulp from a half-pixel differently: allow a few pixels.
        bad = ~np.isclose(got, want, atol=1e-3)
        assert bad.mean() < (0.01 if interpolation == "nearest" else 1e-9), (type(ours).__name__, bad.mean())


def test_affine_transform_gradient():
    x = torch.rand(2, 5, 4, 2, dtype=torch.float64, requires_grad=True)
    m = rotation_matrices(torch.tensor([30.0, -75.0], dtype=torch.float64), 5, 4)
    for mode in ("reflect", "wrap", "constant"):
        assert torch.autograd.gradcheck(lambda t: image_affine_transform(t, m, "bilinear", mode, 2.0), (x,))


# ---------------------------------------------------------------- translation and zoom


def test_whole_pixel_translation_equals_roll_with_fill():
    x = _images((2, 6, 7, 1))
    layer = layers.RandomTranslation(0.5, 0.5, fill_mode="constant", fill_value=-1.0)
    out = _np(layer.transform_images(x, {"translations": np.array([[2.0, -1.0], [-3.0, 2.0]])}))
    for i, (dx, dy) in enumerate([(2, -1), (-3, 2)]):
        expected = np.roll(x[i], (dy, dx), axis=(0, 1))
        if dy > 0:
            expected[:dy] = -1.0
        else:
            expected[dy:] = -1.0
        if dx > 0:
            expected[:, :dx] = -1.0
        else:
            expected[:, dx:] = -1.0
        np.testing.assert_allclose(out[i], expected, atol=1e-4)
    wrapped = _np(
        layers.RandomTranslation(0.5, 0.5, fill_mode="wrap").transform_images(
            x, {"translations": np.array([[2.0, -1.0], [-3.0, 2.0]])}
        )
    )
    np.testing.assert_allclose(wrapped[1], np.roll(x[1], (2, -3), axis=(0, 1)), atol=1e-4)


def test_translation_and_zoom_draws_in_range():
    t = layers.RandomTranslation((-0.2, 0.1), 0.5, seed=0).get_random_transformation(np.zeros((3000, 10, 20, 1)))
    dx, dy = _np(t["translations"]).T
    assert -10 <= dx.min() < -9 and 9 < dx.max() <= 10 and -2 <= dy.min() < -1.8 and 0.9 < dy.max() <= 1
    t = layers.RandomZoom((0.1, 0.3), seed=0).get_random_transformation(np.zeros((3000, 4, 4, 1)))
    hz, wz = _np(t["height_zoom"]), _np(t["width_zoom"])
    assert np.array_equal(hz, wz) and 1.1 <= hz.min() < 1.12 and 1.28 < hz.max() <= 1.3
    t = layers.RandomZoom(0.2, 0.5, seed=0).get_random_transformation(np.zeros((100, 4, 4, 1)))
    assert not np.array_equal(_np(t["height_zoom"]), _np(t["width_zoom"]))


def test_zoom_out_by_two_with_nearest_sampling():
    x = np.arange(5 * 5, dtype="float32").reshape(1, 5, 5, 1)
    layer = layers.RandomZoom(1.0, fill_mode="constant", interpolation="nearest")
    # Zoom 2 about the centre (2, 2): output pixel i samples input 2 i - 2; odd rows/cols fall outside or between.
    out = _np(layer.transform_images(x, {"height_zoom": [[2.0]], "width_zoom": [[2.0]]}))[0, :, :, 0]
    expected = np.zeros((5, 5), "float32")
    expected[1:4, 1:4] = x[0, 0:5:2, 0:5:2, 0]
    np.testing.assert_array_equal(out, expected)


# ---------------------------------------------------------------- crop


def test_random_crop_training_windows_and_seed():
    x = _images((2, 10, 12, 3))
    layer = layers.RandomCrop(4, 5, seed=7)
    hs, ws = layer.get_random_transformation(x)
    out = _np(layer.transform_images(x, (hs, ws)))
    np.testing.assert_array_equal(out, x[:, hs : hs + 4, ws : ws + 5])
    starts = {layer.get_random_transformation(x) for _ in range(200)}
    assert {h for h, _ in starts} == set(range(7)) and {w for _, w in starts} == set(range(8))
    a = [layers.RandomCrop(4, 5, seed=3).get_random_transformation(x) for _ in range(2)]
    assert a[0] == a[1]
    out_cf = _np(
        layers.RandomCrop(4, 5, data_format="channels_first").transform_images(x.transpose(0, 3, 1, 2), (hs, ws))
    )
    np.testing.assert_array_equal(out_cf.transpose(0, 2, 3, 1), out)


def test_random_crop_inference_resizes_centre_window():
    x = _images((2, 8, 12, 3))
    out = _np(layers.RandomCrop(4, 4)(x, training=False))
    # Largest centred 8x8 window (columns 2..9), halved by bilinear half-pixel resizing = 2x2 block means.
    expected = x[:, :, 2:10].reshape(2, 4, 2, 4, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)
    # In training too, when the image is not larger than the target.
    small = _images((1, 3, 3, 1))
    up = _np(layers.RandomCrop(6, 6)(small, training=True))
    assert up.shape == (1, 6, 6, 1)
    np.testing.assert_allclose(up[0, 0, 0, 0], small[0, 0, 0, 0], rtol=1e-5)


# ---------------------------------------------------------------- contrast and brightness


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_contrast_formula_and_clipping(data_format):
    x = _images((2, 5, 6, 3))
    cf = data_format == "channels_first"
    layer = layers.RandomContrast(0.5, data_format=data_format)
    c = np.array([1.4, 0.3], "float32").reshape(2, 1, 1, 1)
    out = _np(layer.transform_images(x.transpose(0, 3, 1, 2) if cf else x, {"contrast_factor": c}))
    out = out.transpose(0, 2, 3, 1) if cf else out
    mean = x.mean(axis=(1, 2), keepdims=True)
    expected = np.clip((x - mean) * c + mean, 0, 255)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-3)
    assert out[0].max() == 255.0 and out[0].min() == 0.0  # stretched by 1.4: clipped at both ends


def test_contrast_matches_real_keras_for_given_factor(real_keras):
    x = _images((2, 4, 5, 3), high=1.0)
    c = np.array([0.6, 1.7], "float32").reshape(2, 1, 1, 1)
    ours = _np(layers.RandomContrast(0.9, value_range=(0, 1)).transform_images(x, {"contrast_factor": c}))
    theirs = _keras_transform(
        real_keras, real_keras.layers.RandomContrast(0.9, value_range=(0, 1)), x, {"contrast_factor": c}
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_brightness_formula_clipping_and_ranges(real_keras):
    x = _images((2, 4, 5, 3))
    delta = np.array([100.0, -40.0], "float32").reshape(2, 1, 1, 1)
    out = _np(layers.RandomBrightness(0.5).transform_images(x, {"rgb_delta": delta}))
    np.testing.assert_allclose(out, np.clip(x + delta, 0, 255), rtol=1e-6)
    theirs = _keras_transform(real_keras, real_keras.layers.RandomBrightness(0.5), x.copy(), {"rgb_delta": delta})
    np.testing.assert_allclose(out, theirs, rtol=1e-6)
    assert out[0].max() == 255.0 and out[1].min() == 0.0
    t = layers.RandomBrightness((-0.2, 0.4), value_range=(-1, 1), seed=0).get_random_transformation(
        np.zeros((2000, 2, 2, 1))
    )
    d = _np(t["rgb_delta"])
    assert -0.4 <= d.min() < -0.38 and 0.78 < d.max() <= 0.8  # factor times the value-range width (2)
    out = _np(layers.RandomBrightness(0.9, seed=1)(x, training=True))
    assert out.min() >= 0 and out.max() <= 255


def test_contrast_draws_in_documented_range():
    t = layers.RandomContrast(0.4, seed=0).get_random_transformation(np.zeros((3000, 2, 2, 1)))
    c = _np(t["contrast_factor"])
    assert c.shape == (3000, 1, 1, 1) and 0.6 <= c.min() < 0.62 and 1.38 < c.max() <= 1.4
    t = layers.RandomContrast((0.1, 0.5), seed=0).get_random_transformation(np.zeros((3000, 2, 2, 1)))
    c = _np(t["contrast_factor"])
    assert 0.9 <= c.min() < 0.92 and 1.48 < c.max() <= 1.5


# ---------------------------------------------------------------- seeds


def test_seeds_make_draws_reproducible():
    x = _images((4, 6, 6, 3))
    for make in (
        lambda: layers.RandomRotation(0.3, seed=11),
        lambda: layers.RandomZoom(0.3, seed=11),
        lambda: layers.RandomContrast(0.5, seed=11),
        lambda: layers.RandomBrightness(0.5, seed=11),
    ):
        a, b = make(), make()
        first_a, first_b = _np(a(x, training=True)), _np(b(x, training=True))
        np.testing.assert_array_equal(first_a, first_b)
        assert not np.array_equal(_np(a(x, training=True)), first_a)  # the generator moves on
    # An explicit seed to get_random_transformation, and unseeded layers under strided's global seed.
    layer = layers.RandomTranslation(0.2, 0.2)
    t1, t2 = layer.get_random_transformation(x, seed=4), layer.get_random_transformation(x, seed=4)
    assert torch.equal(t1["translations"], t2["translations"])
    strided.utils.set_random_seed(3)
    o1 = _np(layer(x, training=True))
    strided.utils.set_random_seed(3)
    np.testing.assert_array_equal(_np(layer(x, training=True)), o1)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "make, arg",
    [
        (lambda: layers.RandomRotation(1.5), "factor"),
        (lambda: layers.RandomRotation((0.1, 0.2, 0.3)), "factor"),
        (lambda: layers.RandomRotation("big"), "factor"),
        (lambda: layers.RandomZoom(-1.0), "height_factor"),
        (lambda: layers.RandomZoom(0.1, width_factor=2), "width_factor"),
        (lambda: layers.RandomTranslation(0.1, -1.2), "width_factor"),
        (lambda: layers.RandomContrast(1.5), "factor"),
        (lambda: layers.RandomContrast((-0.1, 0.2)), "factor"),
        (lambda: layers.RandomBrightness(0.1, value_range=(0, 1, 2)), "value_range"),
        (lambda: layers.RandomRotation(0.1, fill_mode="mirror_ball"), "fill_mode"),
        (lambda: layers.RandomZoom(0.1, interpolation="bicubic"), "interpolation"),
        (lambda: layers.RandomFlip(mode="diagonal"), "mode"),
        (lambda: layers.RandomCrop(0, 4), "height"),
        (lambda: layers.RandomFlip(data_format="nhwc"), "data_format"),
    ],
)
def test_bad_arguments_raise_keras_style_errors(make, arg):
    with pytest.raises(ValueError, match=f"`{arg}`.*Received"):
        make()


# ---------------------------------------------------------------- in a model


def test_sequential_with_augmentation_trains_and_predicts_deterministically(tmp_path):
    strided.utils.set_random_seed(0)
    model = strided.Sequential(
        [
            strided.Input((8, 8, 1)),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.1),
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    x = np.random.default_rng(0).random((32, 8, 8, 1)).astype("float32")
    y = np.random.default_rng(1).integers(0, 2, 32)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    p1, p2 = model.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(p1, p2)  # augmentation is off at inference
    model.save(tmp_path / "aug.keras")
    loaded = strided.models.load_model(tmp_path / "aug.keras")
    assert [type(layer).__name__ for layer in loaded.layers[:2]] == ["RandomFlip", "RandomRotation"]
    assert loaded.layers[1].factor == model.layers[1].factor
    np.testing.assert_allclose(loaded.predict(x, verbose=0), p1, rtol=1e-6)


def test_random_grayscale_converts_the_chosen_images_as_keras():
    import strided

    x = _images((64, 4, 5, 3), high=1.0)
    layer = layers.RandomGrayscale(factor=0.5, seed=2)
    transformation = layer.get_random_transformation(x)
    out = _np(layer.transform_images(x, transformation))
    chosen = _np(transformation).reshape(-1)
    assert 10 < chosen.sum() < 54  # about half of 64
    gray = _np(strided.ops.image.rgb_to_grayscale(x))
    np.testing.assert_allclose(out[chosen], np.repeat(gray[chosen], 3, axis=-1), rtol=1e-6)
    np.testing.assert_array_equal(out[~chosen], x[~chosen])
    channels_first = layers.RandomGrayscale(factor=1.0, data_format="channels_first")
    np.testing.assert_allclose(
        _np(channels_first(x.transpose(0, 3, 1, 2), training=True)),
        np.repeat(gray, 3, axis=-1).transpose(0, 3, 1, 2),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="between 0 and 1"):
        layers.RandomGrayscale(factor=1.5)
