"""image_dataset_from_directory: Keras's file order, labels and split; decoding, resizing, errors."""

import os

import numpy as np
import pytest

from strided.data.directory import index_directory
from strided.data.image_dataset import image_dataset_from_directory
from strided.data.image_utils import save_img


@pytest.fixture()
def tree(tmp_path):
    rng = np.random.RandomState(0)
    sizes = {"ants": 7, "bees": 5, "cats": 4}
    for cls, n in sizes.items():
        (tmp_path / cls / "sub").mkdir(parents=True)
        for i in range(n):
            where = tmp_path / cls / ("sub" if i % 3 == 0 else "")
            save_img(where / f"img_{i:02d}.png", (rng.rand(10, 14, 3) * 255).astype("uint8"), scale=False)
    (tmp_path / "ants" / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    return tmp_path


def test_order_labels_and_split_match_keras(tree, real_keras):
    from keras.src.utils import dataset_utils

    formats = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
    for seed in (1, 7, 123):
        ref_paths, ref_labels, ref_names = dataset_utils.index_directory(
            str(tree), "inferred", formats, seed=seed, verbose=False
        )
        paths, labels, names = index_directory(str(tree), "inferred", formats, seed=seed, verbose=False)
        assert paths == ref_paths and names == ref_names
        np.testing.assert_array_equal(labels, ref_labels)
        for subset in ("training", "validation"):
            rp, rl = dataset_utils.get_training_or_validation_split(ref_paths, ref_labels, 0.25, subset)
            ds = image_dataset_from_directory(
                tree, validation_split=0.25, subset=subset, seed=seed, image_size=(5, 7), verbose=False
            )
            assert ds.file_paths == rp
            np.testing.assert_array_equal(ds.labels, rl)


def test_batches_values_and_label_modes(tree):
    ds = image_dataset_from_directory(
        tree, shuffle=False, batch_size=4, image_size=(10, 14), label_mode="categorical", verbose=False
    )
    assert ds.class_names == ["ants", "bees", "cats"] and len(ds) == 4
    batches = list(ds)
    x, y = batches[0]
    assert x.dtype == np.float32 and x.shape == (4, 10, 14, 3) and y.shape == (4, 3)
    from PIL import Image

    np.testing.assert_array_equal(x[0], np.asarray(Image.open(ds.file_paths[0]), dtype=np.float32))  # no resize
    assert sum(len(b[0]) for b in batches) == 16
    binary = image_dataset_from_directory(
        tree, class_names=["bees", "cats"], label_mode="binary", shuffle=False, image_size=(4, 4), verbose=False
    )
    xb, yb = next(iter(binary))
    assert yb.shape == (9, 1) and yb.dtype == np.float32 and yb[:5].sum() == 0 and yb[5:].sum() == 4
    gray = image_dataset_from_directory(
        tree, labels=None, color_mode="grayscale", image_size=(3, 3), shuffle=False, verbose=False
    )
    assert next(iter(gray)).shape == (16, 3, 3, 1)
    explicit = image_dataset_from_directory(
        tree, labels=list(range(16)), shuffle=False, image_size=(3, 3), verbose=False
    )
    np.testing.assert_array_equal(next(iter(explicit))[1], np.arange(16))


def test_resize_is_half_pixel_bilinear_and_crop_pad(tmp_path):
    (tmp_path / "a").mkdir()
    img = np.zeros((4, 8, 3), dtype=np.uint8)
    img[:, 4:] = 200
    save_img(tmp_path / "a" / "x.png", img, scale=False)
    x = next(iter(image_dataset_from_directory(tmp_path, image_size=(2, 4), shuffle=False, verbose=False)))[0][0]
    # Halving with half-pixel centres averages pixel pairs: columns (0,1),(2,3) -> 0, (4,5),(6,7) -> 200.
    np.testing.assert_allclose(x[..., 0], [[0, 0, 200, 200]] * 2)
    crop = next(
        iter(
            image_dataset_from_directory(
                tmp_path, image_size=(4, 4), crop_to_aspect_ratio=True, shuffle=False, verbose=False
            )
        )
    )[0][0]
    np.testing.assert_allclose(crop[..., 0], img[:, 2:6, 0].astype(float))  # centre 4x4 window, no resize
    pad = next(
        iter(
            image_dataset_from_directory(
                tmp_path, image_size=(8, 8), pad_to_aspect_ratio=True, shuffle=False, verbose=False
            )
        )
    )[0][0]
    np.testing.assert_allclose(pad[:2], 0)
    np.testing.assert_allclose(pad[6:], 0)
    np.testing.assert_allclose(pad[2:6, :, 0], img[:, :, 0].astype(float))


def test_subset_both_and_epoch_reshuffle(tree):
    train, val = image_dataset_from_directory(
        tree, validation_split=0.25, subset="both", seed=3, image_size=(2, 2), batch_size=5, verbose=False
    )
    assert len(train.file_paths) == 12 and len(val.file_paths) == 4
    assert not set(train.file_paths) & set(val.file_paths)
    e1 = np.concatenate([b[1] for b in train])
    e2 = np.concatenate([b[1] for b in train])
    assert sorted(e1) == sorted(e2) == sorted(train.labels)


def test_errors(tree, tmp_path):
    with pytest.raises(ValueError, match="validation_split"):
        image_dataset_from_directory(tree, validation_split=1.2, subset="training", seed=1, verbose=False)
    with pytest.raises(ValueError, match="subset"):
        image_dataset_from_directory(tree, subset="training", verbose=False)
    with pytest.raises(ValueError, match="seed"):
        image_dataset_from_directory(tree, validation_split=0.2, subset="training", verbose=False)
    with pytest.raises(ValueError, match="exactly 2"):
        image_dataset_from_directory(tree, label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match="class_names"):
        image_dataset_from_directory(tree, class_names=["ants", "wasps"], verbose=False)
    empty = tmp_path / "empty"
    (empty / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="No images found"):
        image_dataset_from_directory(empty, verbose=False)
    with pytest.raises(ValueError, match="len\\(labels\\)"):
        image_dataset_from_directory(tree, labels=[0, 1], verbose=False)
    bad = tmp_path / "bad" / "a"
    bad.mkdir(parents=True)
    (bad / "broken.png").write_bytes(b"not a png")
    ds = image_dataset_from_directory(bad.parent, verbose=False, image_size=(2, 2))
    with pytest.raises(ValueError, match="broken.png"):
        next(iter(ds))
    with pytest.raises(ValueError, match="directory"):
        image_dataset_from_directory(os.path.join(str(tmp_path), "missing"), verbose=False)
