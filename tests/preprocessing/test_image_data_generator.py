"""ImageDataGenerator and the batched affine machinery vs real Keras's legacy generator (scipy)."""

import warnings

import numpy as np
import pytest
import torch

from strided.data import augmentation
from strided.preprocessing.image import ImageDataGenerator, apply_affine_transform

MODES = ["constant", "nearest", "reflect", "wrap"]
PARAMS = [
    dict(theta=23.0),
    dict(tx=2.3, ty=-4.1),
    dict(shear=17.0),
    dict(zx=0.8, zy=1.3),
    dict(theta=-31.0, tx=1.5, ty=2.5, shear=-9.0, zx=1.2, zy=0.7, flip_horizontal=True),
    dict(theta=90.0, flip_vertical=True),
]


@pytest.fixture(scope="module")
def legacy():
    pytest.importorskip("scipy")
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("real Keras is not on the torch backend")
    from keras.src.legacy.preprocessing import image as legacy_image

    return legacy_image


def _image(h=13, w=17, c=3, seed=0):
    return (np.random.RandomState(seed).rand(h, w, c) * 255).astype("float32")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("params", PARAMS, ids=lambda p: "-".join(p))
def test_apply_transform_matches_keras_every_fill_mode(legacy, mode, params):
    # Whole image compared, borders included: the fill modes reproduce scipy's, so no margin is needed.
    x = _image()
    ours = ImageDataGenerator(fill_mode=mode, cval=7.0).apply_transform(x, params)
    ref = legacy.ImageDataGenerator(fill_mode=mode, cval=7.0).apply_transform(x, params)
    np.testing.assert_allclose(ours, ref, atol=2e-3, rtol=0)


@pytest.mark.parametrize("mode", MODES)
def test_float64_batched_warp_is_exact_vs_scipy(legacy, mode):
    x = np.random.RandomState(1).rand(2, 9, 11, 2)
    p = [dict(theta=12.0, tx=1.2, ty=-0.7, shear=5.0, zx=1.1, zy=0.9), dict(theta=-40.0, zx=0.6, zy=0.6)]
    m = np.concatenate([augmentation.affine_matrices(height=9, width=11, **q) for q in p])
    out = augmentation.affine_transform(torch.tensor(x), m, mode, cval=-1.0, data_format="channels_last").numpy()
    for i, q in enumerate(p):
        ref = legacy.apply_affine_transform(
            x[i], row_axis=0, col_axis=1, channel_axis=2, fill_mode=mode, cval=-1.0, **q
        )
        np.testing.assert_allclose(out[i], ref, atol=1e-9)


def test_channels_first_and_module_function(legacy):
    x = _image(8, 10, 1).transpose(2, 0, 1)  # (c, h, w)
    ours = apply_affine_transform(x, theta=33, tx=1, ty=2, shear=4, zx=0.9, zy=1.1, fill_mode="reflect")
    ref = legacy.apply_affine_transform(x, theta=33, tx=1, ty=2, shear=4, zx=0.9, zy=1.1, fill_mode="reflect")
    np.testing.assert_allclose(ours, ref, atol=2e-3)
    gen = ImageDataGenerator(data_format="channels_first", fill_mode="wrap")
    kgen = legacy.ImageDataGenerator(data_format="channels_first", fill_mode="wrap")
    p = dict(theta=10.0, tx=-2.0, flip_horizontal=True)
    np.testing.assert_allclose(gen.apply_transform(x, p), kgen.apply_transform(x, p), atol=2e-3)


def test_get_random_transform_draws_like_keras_and_channel_brightness_match(legacy):
    kw = dict(
        rotation_range=30,
        zoom_range=0.15,
        width_shift_range=0.2,
        height_shift_range=[1, 3],
        shear_range=0.15,
        horizontal_flip=True,
        vertical_flip=True,
        channel_shift_range=20.0,
        brightness_range=(0.5, 1.5),
    )
    ours, ref = ImageDataGenerator(**kw), legacy.ImageDataGenerator(**kw)
    x = _image(12, 15, 3)
    for seed in range(6):
        p, q = ours.get_random_transform(x.shape, seed), ref.get_random_transform(x.shape, seed)
        assert p == q
        np.testing.assert_allclose(ours.apply_transform(x, p), ref.apply_transform(x, q), atol=2e-3)


def test_brightness_outside_0_255_matches_keras(legacy):
    x = _image(6, 7, 3) - 100.0  # negative values: Keras rescales by the image's own min/max
    p = {"brightness": 1.3}
    np.testing.assert_allclose(
        ImageDataGenerator().apply_transform(x, p), legacy.ImageDataGenerator().apply_transform(x, p), atol=1e-3
    )


def test_standardize_and_fit_match_keras(legacy):
    rng = np.random.RandomState(2)
    x = (rng.rand(20, 5, 6, 3) * 255).astype("float32")
    kw = dict(featurewise_center=True, featurewise_std_normalization=True, rescale=1 / 255.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, ref = ImageDataGenerator(**kw), legacy.ImageDataGenerator(**kw)
        ours.fit(x)
        ref.fit(x)
        np.testing.assert_allclose(ours.mean, ref.mean, rtol=1e-5)
        np.testing.assert_allclose(ours.std, ref.std, rtol=1e-5)
        np.testing.assert_allclose(ours.standardize(x[0].copy()), ref.standardize(x[0].copy()), rtol=1e-5, atol=1e-5)
        zo, zr = ImageDataGenerator(zca_whitening=True), legacy.ImageDataGenerator(zca_whitening=True)
        small = x[:, :3, :3]
        zo.fit(small)
        zr.fit(small)
        np.testing.assert_allclose(zo.zca_whitening_matrix, zr.zca_whitening_matrix, rtol=1e-3, atol=1e-3)
        s, r = (
            ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True),
            legacy.ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True),
        )
        np.testing.assert_allclose(s.standardize(x[1].copy()), r.standardize(x[1].copy()), rtol=1e-4, atol=1e-5)


def test_flow_order_matches_keras_and_standardize_per_image(legacy):
    # No augmentation: the batches then depend only on the (seeded) sample order, which must be Keras's.
    x = np.arange(10 * 4 * 4 * 1, dtype="float32").reshape(10, 4, 4, 1)
    y = np.arange(10)
    kw = dict(samplewise_center=True, rescale=0.5)
    ours = ImageDataGenerator(**kw).flow(x, y, batch_size=4, seed=3)
    ref = legacy.ImageDataGenerator(**kw).flow(x, y, batch_size=4, seed=3)
    for _ in range(7):  # crosses two epoch boundaries (the last batch of an epoch is short)
        (bx, by), (rx, ry) = next(ours), next(ref)
        np.testing.assert_array_equal(by, ry)
        np.testing.assert_allclose(bx, rx, atol=1e-5)
    assert len(ours) == len(ref) == 3
    np.testing.assert_allclose(ours[1][0], ref[1][0], atol=1e-5)


def test_flow_seed002_usage_and_statistics():
    ny4d = _image(20, 20, 3)[None]
    idg = ImageDataGenerator(
        rotation_range=30,
        zoom_range=0.15,
        width_shift_range=0.2,
        height_shift_range=0.2,
        shear_range=0.15,
        horizontal_flip=True,
        fill_mode="nearest",
    )
    gen = idg.flow(ny4d, batch_size=1)
    nys = [gen.next() for _ in range(10)]
    assert all(b.shape == (1, 20, 20, 3) and b.dtype == np.float32 for b in nys)
    assert not np.allclose(nys[0], nys[1])  # random, different each call
    # 'nearest' never creates values outside the input's range (bilinear mix of existing pixels).
    assert min(b.min() for b in nys) >= ny4d.min() - 1e-3 and max(b.max() for b in nys) <= ny4d.max() + 1e-3


def test_batched_parameters_have_keras_distributions():
    rng = np.random.RandomState(0)
    p = augmentation.random_parameters(
        4000,
        (28, 28, 1),
        rng,
        rotation_range=30,
        width_shift_range=3,
        height_shift_range=0.25,
        zoom_range=[0.5, 1.5],
        horizontal_flip=True,
    )
    assert -30 <= p["theta"].min() and p["theta"].max() <= 30 and abs(p["theta"].mean()) < 1.5
    assert set(np.unique(p["ty"])) <= {-2, -1, 0, 1, 2}  # int k -> range(k) with a random sign
    assert np.abs(p["tx"]).max() <= 0.25 * 28 and np.abs(p["tx"]).max() > 6.5
    assert 0.5 <= p["zx"].min() and p["zy"].max() <= 1.5
    assert 0.45 < p["flip_horizontal"].mean() < 0.55 and not p["flip_vertical"].any()


def test_flow_with_y_sample_weight_subset_and_save(tmp_path):
    x = _image(6, 6, 3)[None].repeat(10, 0)
    y = np.array([0, 1] * 5)
    w = np.linspace(0, 1, 10)
    gen = ImageDataGenerator(validation_split=0.2, horizontal_flip=True)
    it = gen.flow(x, y, sample_weight=w, batch_size=3, shuffle=False, subset="training", save_to_dir=tmp_path)
    bx, by, bw = next(it)
    np.testing.assert_array_equal(by, y[2:5])
    np.testing.assert_allclose(bw, w[2:5])
    assert len(list(tmp_path.glob("*.png"))) == 3
    val = gen.flow(x, y, batch_size=8, shuffle=False, subset="validation")
    assert len(val) == 1 and next(val)[0].shape == (2, 6, 6, 3)


def test_flips_exact():
    x = _image(5, 4, 2)
    gen = ImageDataGenerator()
    np.testing.assert_array_equal(gen.apply_transform(x, {"flip_horizontal": True}), x[:, ::-1])
    np.testing.assert_array_equal(gen.apply_transform(x, {"flip_vertical": True}), x[::-1])


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="fill_mode"):
        ImageDataGenerator(fill_mode="mirror")
    with pytest.raises(ValueError, match="validation_split"):
        ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="zoom_range"):
        ImageDataGenerator(zoom_range=[1, 2, 3])
    with pytest.raises(ValueError, match="rank 4"):
        ImageDataGenerator().flow(np.zeros((5, 4, 4)))
    with pytest.raises(ValueError, match="validation_split"):
        ImageDataGenerator().flow(np.zeros((5, 4, 4, 1)), subset="training")
    with pytest.raises(ValueError, match="subset"):
        ImageDataGenerator(validation_split=0.2).flow(np.zeros((5, 4, 4, 1)), subset="test")
    with pytest.raises(ValueError, match="brightness_range"):
        ImageDataGenerator(brightness_range=0.5)


def test_flow_from_directory(tmp_path):
    from strided.data.image_utils import save_img

    rng = np.random.RandomState(0)
    for cls in ("cats", "dogs"):
        (tmp_path / cls).mkdir()
        for i in range(5):
            save_img(tmp_path / cls / f"{i}.png", (rng.rand(6, 8, 3) * 255).astype("uint8"), scale=False)
    gen = ImageDataGenerator(rescale=1 / 255.0, validation_split=0.4)
    it = gen.flow_from_directory(tmp_path, target_size=(6, 8), batch_size=4, shuffle=False, subset="training")
    assert it.class_indices == {"cats": 0, "dogs": 1} and it.samples == 6
    bx, by = next(it)
    assert bx.shape == (4, 6, 8, 3) and by.shape == (4, 2)
    from PIL import Image

    first = np.asarray(Image.open(tmp_path / it.filenames[0]), dtype="float32") / 255
    np.testing.assert_allclose(bx[0], first, atol=1e-6)
    np.testing.assert_array_equal(by.argmax(1), it.classes[:4])
    val = gen.flow_from_directory(tmp_path, target_size=(6, 8), class_mode="sparse", subset="validation")
    assert val.samples == 4 and sorted(val.filenames) == sorted(
        ["cats/0.png", "cats/1.png", "dogs/0.png", "dogs/1.png"]
    )


@pytest.mark.parametrize("mode", MODES)
def test_batched_closed_form_float64_with_flips_vs_keras(legacy, mode):
    # The batched path (closed-form thetas straight from the parameters, flips folded in) on a non-square
    # float64 batch, image by image against Keras's apply_transform: exact up to float64 round-off.
    rng = np.random.RandomState(3)
    x = rng.rand(4, 9, 12, 2)
    params = dict(
        theta=rng.uniform(-40, 40, 4),
        tx=rng.uniform(-2, 2, 4),
        ty=rng.uniform(-2, 2, 4),
        shear=rng.uniform(-20, 20, 4),
        zx=rng.uniform(0.7, 1.3, 4),
        zy=rng.uniform(0.7, 1.3, 4),
        flip_horizontal=np.array([1.0, 0, 1, 0]),
        flip_vertical=np.array([0.0, 1, 1, 0]),
    )
    out = augmentation.apply_parameters(torch.tensor(x), params, fill_mode=mode, cval=-1.0).numpy()
    ref_gen = legacy.ImageDataGenerator(fill_mode=mode, cval=-1.0)
    for i in range(4):
        ref = ref_gen.apply_transform(x[i], {k: v[i] for k, v in params.items()})
        np.testing.assert_allclose(out[i], ref, atol=1e-9)


def test_chunked_flow_keeps_keras_order_state_and_alignment(legacy):
    # next() prepares several batches at once; labels, sample weights and extra inputs must stay aligned
    # with their images, and the order/iterator state must remain Keras's across reset, on_epoch_end, it[i].
    n = 23
    x = np.random.RandomState(4).rand(n, 5, 4, 3).astype("float32")
    y, w, misc = np.arange(n), np.linspace(0, 1, n), np.arange(n) * 10
    ours = ImageDataGenerator(horizontal_flip=True).flow((x, misc), y, sample_weight=w, batch_size=4, seed=5)
    ref = legacy.ImageDataGenerator().flow(x, y, batch_size=4, seed=5)
    assert ours._batches_per_chunk() > 1  # the chunked path is the one under test
    flipped = 0

    def check():
        nonlocal flipped
        (bx, bmisc), by, bw = next(ours)
        _, ry = next(ref)
        np.testing.assert_array_equal(by, ry)
        np.testing.assert_allclose(bw, w[by])
        np.testing.assert_array_equal(bmisc, misc[by])
        for img, j in zip(bx, by):
            same, mirror = np.array_equal(img, x[j]), np.array_equal(img, x[j][:, ::-1])
            assert same or mirror
            flipped += mirror and not same
        assert (ours.batch_index, ours.total_batches_seen) == (ref.batch_index, ref.total_batches_seen)

    for _ in range(9):  # crosses an epoch boundary (6 batches per epoch, the last one short)
        check()
    ours.reset(), ref.reset()
    for _ in range(3):
        check()
    np.random.seed(11), ours.on_epoch_end()
    np.random.seed(11), ref.on_epoch_end()
    for _ in range(4):
        check()
    np.testing.assert_array_equal(ours[2][1], ref[2][1])
    for _ in range(2):
        check()
    assert 10 < flipped < 60  # the flips really were drawn per image


def test_chunk_size_bounded_for_large_images():
    big = ImageDataGenerator(rotation_range=10).flow(np.zeros((4, 300, 300, 3), "float32"), batch_size=2)
    small = ImageDataGenerator(rotation_range=10).flow(np.zeros((100, 8, 8, 1), "float32"), batch_size=10)
    assert big._batches_per_chunk() == 1 and small._batches_per_chunk() == len(small) == 10
    assert next(big).shape == (2, 300, 300, 3)
