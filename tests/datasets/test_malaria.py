"""Malaria loader on a generated NIH-style tree of small PNGs, and on a zip of it."""

import zipfile

import numpy as np
import pytest

from strided.datasets import malaria


@pytest.fixture()
def cells(tmp_path):
    from PIL import Image

    root = tmp_path / "malaria" / "cell_images"
    rng = np.random.RandomState(0)
    images = {}
    for folder, n in (("Parasitized", 5), ("Uninfected", 4)):
        (root / folder).mkdir(parents=True)
        for i in range(n):
            arr = (rng.rand(12, 10, 3) * 255).astype(np.uint8)
            Image.fromarray(arr).save(root / folder / f"C{i}_cell.png")
            images[(folder, i)] = arr
        (root / folder / "Thumbs.db").write_bytes(b"windows junk")  # present in the real zip
    return root, images


def test_labels_values_and_resize(cells, monkeypatch):
    root, images = cells
    monkeypatch.setenv("STRIDED_DATA_DIR", str(root.parents[1]))
    x, y = malaria.load_data(image_size=(12, 10), shuffle=False, cache=False)
    assert x.shape == (9, 12, 10, 3) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(y, [0] * 5 + [1] * 4)  # TFDS: 0 parasitized, 1 uninfected
    np.testing.assert_allclose(x[0], images[("Parasitized", 0)] / 255.0, atol=1e-6)  # same size: exact
    small, _ = malaria.load_data(image_size=(6, 5), shuffle=False, cache=False)
    # Antialiased 2x shrink of a bilinear filter ~ the mean of each 2x2 block (within the filter's spill-over).
    block = images[("Parasitized", 0)].reshape(6, 2, 5, 2, 3).mean((1, 3)) / 255.0
    assert np.abs(small[0] - block).mean() < 0.06 and 0 <= small.min() and small.max() <= 1


def test_shuffle_limit_cache_and_zip(cells, tmp_path):
    root, _ = cells
    a, ya = malaria.load_data(path=root, image_size=(4, 4), limit=6, seed=1)
    assert len(a) == 6 and 0 < ya.sum() < 6
    cached = list(root.parent.glob("malaria_cache_4x4_*.npz"))
    assert len(cached) == 1
    b, yb = malaria.load_data(path=root, image_size=(4, 4), limit=6, seed=1)  # from the cache
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ya, yb)
    zpath = tmp_path / "cell_images.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for f in sorted(root.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(root.parent))
    c, yc = malaria.load_data(path=zpath, image_size=(4, 4), limit=6, seed=1, cache=False)
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(ya, yc)
    stream = malaria.load_data(path=zpath, image_size=(4, 4), limit=6, seed=1, stream=True, batch_size=4)
    batches = list(stream)
    assert len(stream) == 2 and stream.class_names == ["parasitized", "uninfected"]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), a)


def test_missing_and_bad_data(tmp_path, monkeypatch, cells):
    monkeypatch.setenv("STRIDED_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    with pytest.raises(FileNotFoundError, match="lhncbc.nlm.nih.gov") as info:
        malaria.load_data()
    assert str(tmp_path / "none" / "malaria") in str(info.value)
    root, _ = cells
    one_class = tmp_path / "one"
    (one_class / "Parasitized").mkdir(parents=True)
    (one_class / "Uninfected").mkdir()
    with pytest.raises(ValueError, match="Parasitized/ and Uninfected/"):
        malaria.load_data(path=one_class)
    (root / "Uninfected" / "C0_cell.png").write_bytes(b"broken")
    with pytest.raises(ValueError, match="C0_cell.png"):
        malaria.load_data(path=root, cache=False, shuffle=False)
    (tmp_path / "bad.zip").write_bytes(b"PK not really")
    with pytest.raises(ValueError, match="not a valid zip"):
        malaria.load_data(path=tmp_path / "bad.zip")
    with pytest.raises(ValueError, match="limit"):
        malaria.load_data(path=root, limit=0)
