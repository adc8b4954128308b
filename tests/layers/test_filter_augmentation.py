"""Filter and histogram augmentation layers (strided.layers.filter_augmentation): harness, inference identity,
values equal to real Keras 3 on Keras-drawn transformations and on degenerate factor ranges, our per-image
draws, seeds, argument errors, saving."""

import numpy as np
import pytest
import torch

import strided
from strided import layers
from strided.layers import filter_augmentation as fa
from strided.testing import run_layer_test


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _images(shape, seed=0, high=255.0):
    return (np.random.default_rng(seed).random(shape) * high).astype("float32")


CASES = [
    ("RandomGaussianBlur", {"factor": (0.5, 1.0), "kernel_size": 5, "sigma": (0.2, 0.9)}),
    ("RandomSharpness", {"factor": (0.1, 0.9)}),
    ("RandomColorDegeneration", {"factor": 0.7}),
    ("Equalization", {"bins": 64}),
]


@pytest.mark.parametrize("name, kwargs", CASES)
def test_harness_inference_identity_and_one_image(name, kwargs):
    cls = getattr(layers, name)
    assert cls is getattr(fa, name)
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
    out = layer(x, training=False)
    assert out.dtype == torch.float32 and np.array_equal(_np(out), x)
    changed = _np(layer(x))  # a direct call augments, as in Keras 3
    assert changed.shape == x.shape and not np.allclose(changed, x)
    assert _np(layer(x[0], training=True)).shape == x[0].shape


def _keras_parity(real_keras, name, kwargs, x, seed, data_format="channels_last"):
    ko = real_keras.ops
    theirs = getattr(real_keras.layers, name)(**kwargs, data_format=data_format)
    ours = getattr(fa, name)(**kwargs, data_format=data_format)
    t = theirs.get_random_transformation(ko.convert_to_tensor(x), training=True, seed=seed)
    t_ours = None if t is None else {k: v.detach().clone() for k, v in t.items()}
    want = ko.convert_to_numpy(theirs.transform_images(ko.convert_to_tensor(x), t))
    got = _np(ours.transform_images(x, t_ours))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4, err_msg=name)
    assert not np.allclose(got, x)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("name, kwargs", CASES + [("Equalization", {})])
def test_values_match_real_keras_on_keras_draws(real_keras, name, kwargs, data_format):
    x = _images((4, 7, 9, 3), seed=1)
    x[..., 0] = np.round(x[..., 0])  # exact 8-bit levels (histogram bin edges)
    x[2, ..., 1] = 40.0  # a constant channel in one image
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    for seed in (1, 2):
        _keras_parity(real_keras, name, kwargs, x, seed, data_format)
    _keras_parity(real_keras, name, dict(kwargs, value_range=(0, 1)), x / 255.0, 3, data_format)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RandomGaussianBlur", {"factor": (1.0, 1.0), "sigma": (0.7, 0.7), "kernel_size": 3}),
        ("RandomGaussianBlur", {"factor": (1.0, 1.0), "sigma": (0.4, 0.4), "kernel_size": 7, "value_range": (0, 1)}),
        ("RandomSharpness", {"factor": (0.9, 0.9)}),
        ("RandomSharpness", {"factor": (0.5, 0.5)}),  # no change
        ("RandomColorDegeneration", {"factor": (0.4, 0.4)}),
        ("RandomColorDegeneration", {"factor": (-0.6, -0.6), "value_range": (0, 1)}),
        ("Equalization", {"value_range": (0, 1), "bins": 32}),
    ],
)
def test_degenerate_ranges_equal_real_keras_calls(real_keras, name, kwargs):
    """A factor range of one value leaves nothing random: whole layer calls agree."""
    high = 1.0 if kwargs.get("value_range") == (0, 1) else 255.0
    x = _images((3, 8, 6, 3), seed=4, high=high)
    want = real_keras.ops.convert_to_numpy(getattr(real_keras.layers, name)(**kwargs)(x, training=True))
    got = _np(getattr(layers, name)(**kwargs)(x, training=True))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4 * high)


def test_blur_kernels_and_per_image_sigmas():
    sigma = torch.tensor([[0.5, 2.0]])
    k = fa.gaussian_kernels(sigma, (5, 3))[0].numpy()
    t = np.arange(5) - 2.0
    gx = np.exp(-(t**2) / (2 * 0.25))
    gy = np.exp(-((np.arange(3) - 1.0) ** 2) / 8.0)
    np.testing.assert_allclose(k, np.outer(gy / gy.sum(), gx / gx.sum()), rtol=1e-6)
    x = _images((64, 5, 5, 3))
    t = layers.RandomGaussianBlur(factor=(0.5, 0.5), sigma=(0.1, 0.9), seed=1).get_random_transformation(x)
    s = _np(t["blur_factor"])
    assert s.shape == (64, 2) and 0.1 <= s.min() and s.max() <= 0.9 + 1e-6 and len(np.unique(s)) == 128
    assert 0.3 < _np(t["should_apply_blur"]).mean() < 0.7
    # A Keras-format (2,) sigma applies to every image; a single image is blurred as a batch of one.
    layer = layers.RandomGaussianBlur(kernel_size=3)
    both = _np(layer.transform_images(x[:2], {"should_apply_blur": np.ones(2, bool), "blur_factor": [0.8, 0.8]}))
    one = _np(layer.transform_images(x[1], {"should_apply_blur": np.ones(1, bool), "blur_factor": [[0.8, 0.8]]}))
    np.testing.assert_allclose(both[1], one, rtol=1e-6)


def test_sharpness_and_degeneration_formulas():
    x = _images((2, 5, 6, 3), seed=7)
    gray = (0.2989 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2])[..., None]
    out = _np(layers.RandomColorDegeneration((1.0, 1.0)).transform_images(x, {"factor": np.ones((2, 1, 1, 1))}))
    np.testing.assert_allclose(out, np.repeat(gray, 3, -1), rtol=1e-5)
    # sharpness 0 is the smoothing filter; at an interior pixel: (sum of 3x3 + 4 centre) / 13
    out = _np(layers.RandomSharpness(0.5).transform_images(x, {"factor": np.zeros(2)}))
    window = x[0, 1:4, 2:5, 1]
    np.testing.assert_allclose(out[0, 2, 3, 1], (window.sum() + 4 * window[1, 1]) / 13, rtol=1e-5)


def test_equalization_spreads_the_histogram_over_the_batch():
    x = np.concatenate([np.full((1, 4, 4, 1), 10.0), np.full((1, 4, 4, 1), 20.0)]).astype("float32")
    out = _np(layers.Equalization()(x))
    np.testing.assert_allclose(np.unique(out), [0, 255])  # two levels in the batch -> the extremes
    np.testing.assert_array_equal(_np(layers.Equalization()(x[:1])), x[:1])  # one level: unchanged
    np.testing.assert_array_equal(_np(layers.Equalization().transform_images(x, None, training=False)), x)


@pytest.mark.parametrize("name, kwargs", CASES[:3])
def test_seeds_and_ranges(name, kwargs):
    x = _images((8, 6, 5, 3))
    cls = getattr(layers, name)
    a, b = cls(**kwargs, seed=5), cls(**kwargs, seed=5)
    first = _np(a(x, training=True))
    np.testing.assert_array_equal(first, _np(b(x, training=True)))
    assert not np.array_equal(first, _np(a(x, training=True)))  # the stream advances
    assert first.min() >= 0 and first.max() <= 255
    out = _np(cls(**kwargs, value_range=(0, 1))(x / 255.0, training=True))
    assert out.min() >= 0 and out.max() <= 1


def test_dict_inputs_pass_labels():
    x = _images((2, 5, 5, 3))
    out = layers.RandomSharpness(0.8)({"images": x, "labels": np.array([1, 2])})
    assert _np(out["images"]).shape == x.shape and list(_np(out["labels"])) == [1, 2]


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RandomGaussianBlur", {"factor": 1.5}),
        ("RandomGaussianBlur", {"sigma": 2.0}),
        ("RandomGaussianBlur", {"kernel_size": 4}),
        ("RandomGaussianBlur", {"kernel_size": (3, 5, 7)}),
        ("RandomSharpness", {"factor": (0.2, 0.5, 0.7)}),
        ("RandomSharpness", {"factor": 0.2, "value_range": 3}),
        ("RandomColorDegeneration", {"factor": "x"}),
        ("RandomColorDegeneration", {"factor": 1.5}),
    ],
)
def test_bad_arguments_raise_keras_messages(real_keras, name, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(real_keras.layers, name)(**kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(layers, name)(**kwargs)
    assert str(ours.value) == str(theirs.value)


def test_other_bad_arguments():
    # Keras's Equalization raises an AttributeError here (a missing message constant); strided a ValueError.
    with pytest.raises(ValueError, match=r"value_range=\[1\]"):
        layers.Equalization(value_range=[1])
    with pytest.raises(ValueError, match="bins"):
        layers.Equalization(bins=0)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.RandomGaussianBlur(kernel_size=-1)
    with pytest.raises(ValueError, match="3-channel"):
        layers.RandomColorDegeneration(0.5)(np.zeros((1, 4, 4, 2), "float32"))


def test_configs_match_keras_and_models_save(real_keras, tmp_path):
    for name, kwargs in CASES:
        ours = getattr(layers, name)(**kwargs).get_config()
        theirs = getattr(real_keras.layers, name)(**kwargs).get_config()
        for key in theirs:
            if key not in ("name", "dtype"):
                assert np.array_equal(np.asarray(ours[key], dtype=object), np.asarray(theirs[key], dtype=object)), (
                    name,
                    key,
                    ours[key],
                    theirs[key],
                )
    model = strided.Sequential(
        [strided.Input((6, 6, 3))] + [getattr(layers, n)(**kw) for n, kw in CASES] + [layers.Flatten(), layers.Dense(2)]
    )
    x = _images((4, 6, 6, 3))
    model.save(tmp_path / "filters.keras")
    loaded = strided.models.load_model(tmp_path / "filters.keras")
    assert [type(layer).__name__ for layer in loaded.layers[:4]] == [n for n, _ in CASES]
    assert [layer.get_config() | {"name": 0} for layer in loaded.layers[:4]] == [
        layer.get_config() | {"name": 0} for layer in model.layers[:4]
    ]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
