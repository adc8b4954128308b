"""Dataset loaders: real MNIST from the shared copy, generated files in the original formats, no downloads."""

import gzip
import hashlib
import pickle

import numpy as np
import pytest

from strided.datasets import _files, cifar10, cifar100, fashion_mnist, mnist


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, tmp_path):
    monkeypatch.setenv("STRIDED_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))  # an empty Keras cache


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _idx_tree(folder, n_train=6, n_test=4, seed=0):
    rng = np.random.RandomState(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = [
        rng.randint(0, 256, (n_train, 28, 28)),
        rng.randint(0, 10, n_train),
        rng.randint(0, 256, (n_test, 28, 28)),
        rng.randint(0, 10, n_test),
    ]
    names = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    for name, a in zip(names, arrays):
        _write_idx(folder / name, a)
    return arrays


def test_real_mnist_shapes_dtypes_and_known_values(mnist_dir, monkeypatch):
    monkeypatch.setenv("STRIDED_DATA_DIR", str(mnist_dir.parent))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8 and x_test.shape == (10000, 28, 28)
    # Well-known facts of MNIST: the first labels and the class counts of the training set.
    np.testing.assert_array_equal(y_train[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    np.testing.assert_array_equal(y_test[:5], [7, 2, 1, 0, 4])
    assert np.bincount(y_train)[1] == 6742 and np.bincount(y_test)[0] == 980


def test_lookup_order_env_then_keras_npz_then_explicit_path(tmp_path, monkeypatch):
    env = tmp_path / "env"
    arrays = _idx_tree(env / "fashion_mnist")
    monkeypatch.setenv("STRIDED_DATA_DIR", str(env))
    (x, y), (xt, yt) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x, arrays[0])
    np.testing.assert_array_equal(yt, arrays[3])
    # Keras's cache (.npz) is used when STRIDED_DATA_DIR has nothing.
    monkeypatch.setenv("STRIDED_DATA_DIR", str(tmp_path / "nothing"))
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    np.savez(
        cache / "mnist.npz",
        x_train=arrays[0][:2].astype(np.uint8),
        y_train=arrays[1][:2].astype(np.uint8),
        x_test=arrays[2][:1].astype(np.uint8),
        y_test=arrays[3][:1].astype(np.uint8),
    )
    (x, y), _ = mnist.load_data()
    assert x.shape == (2, 28, 28)
    # An explicit folder wins over everything (md5 of generated files differs, so use fashion: no md5).
    other = _idx_tree(tmp_path / "explicit", n_train=3, seed=1)
    (x, _), _ = fashion_mnist.load_data(path=tmp_path / "explicit")
    np.testing.assert_array_equal(x, other[0])


def test_corrupt_mnist_names_file_and_checksum(tmp_path, monkeypatch):
    _idx_tree(tmp_path / "mnist")  # right format, wrong content
    monkeypatch.setenv("STRIDED_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz.*6bbc9ace898e44ae57da46a324031adb"):
        mnist.load_data()
    with open(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(b"\x1f\x8b truncated")
    with pytest.raises(ValueError, match="t10k-labels|train-images"):
        mnist.load_data()


def test_checksum_is_on_decompressed_content(tmp_path, mnist_dir):
    raw = gzip.open(mnist_dir / "t10k-labels-idx1-ubyte.gz").read()
    assert hashlib.md5(raw).hexdigest() == mnist.MD5["t10k-labels-idx1-ubyte.gz"]
    recompressed = tmp_path / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(recompressed, "wb", compresslevel=1) as f:
        f.write(raw)
    assert _files._dl.hash_file(recompressed, "md5", decompress=True) == mnist.MD5["t10k-labels-idx1-ubyte.gz"]
    assert _files._dl.hash_file(recompressed, "md5") != _files._dl.hash_file(
        mnist_dir / "t10k-labels-idx1-ubyte.gz", "md5"
    )


def test_missing_data_offline_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("STRIDED_DATA_DIR", str(tmp_path / "nothing"))
    with pytest.raises(FileNotFoundError) as info:
        fashion_mnist.load_data()
    msg = str(info.value)
    assert "train-images-idx3-ubyte.gz" in msg and str(tmp_path / "nothing" / "fashion_mnist") in msg
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py"):
        cifar10.load_data()


def test_partial_download_never_replaces_good_file(tmp_path, monkeypatch):
    import urllib.request

    good = tmp_path / "f.bin"
    good.write_bytes(b"good content")

    class Broken:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def read(self, n=-1):
            raise OSError("connection reset")

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Broken())
    with pytest.raises(OSError):
        _files._dl.download("http://example.invalid/f.bin", good)
    assert good.read_bytes() == b"good content" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]

    class Wrong(Broken):
        def __init__(self):
            self.done = False

        def read(self, n=-1):
            if self.done:
                return b""
            self.done = True
            return b"tampered"

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Wrong())
    with pytest.raises(ValueError, match="checksum"):
        _files._dl.download("http://example.invalid/f.bin", good, file_hash="0" * 64)
    assert good.read_bytes() == b"good content" and len(list(tmp_path.iterdir())) == 1


def _cifar_batch(path, n, label_key, seed):
    rng = np.random.RandomState(seed)
    data = rng.randint(0, 256, (n, 3072)).astype(np.uint8)
    labels = [int(v) for v in rng.randint(0, 10, n)]
    with open(path, "wb") as f:
        pickle.dump({b"data": data, label_key.encode(): labels, b"batch_label": b"x"}, f, protocol=2)
    return data, labels


def test_cifar10_generated_pickles(tmp_path, monkeypatch):
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    parts = [_cifar_batch(folder / f"data_batch_{i}", 3, "labels", i) for i in range(1, 6)]
    test_data, test_labels = _cifar_batch(folder / "test_batch", 2, "labels", 9)
    monkeypatch.setenv("STRIDED_DATA_DIR", str(tmp_path))
    (x, y), (xt, yt) = cifar10.load_data()
    assert x.shape == (15, 32, 32, 3) and y.shape == (15, 1) and x.dtype == np.uint8 and yt.shape == (2, 1)
    # Pixel (row 0, col 1) of the red channel is byte 1 of the row-major (3, 32, 32) record.
    assert x[0, 0, 1, 0] == parts[0][0][0, 1] and x[3, 0, 0, 2] == parts[1][0][0, 2048]
    np.testing.assert_array_equal(y[:3, 0], parts[0][1])


def test_cifar100_labels_and_malicious_pickle(tmp_path):
    folder = tmp_path / "c100"
    folder.mkdir()
    for name, seed in (("train", 1), ("test", 2)):
        rng = np.random.RandomState(seed)
        with open(folder / name, "wb") as f:
            pickle.dump(
                {
                    b"data": rng.randint(0, 256, (4, 3072)).astype(np.uint8),
                    b"fine_labels": [1, 2, 3, 4],
                    b"coarse_labels": [0, 0, 1, 1],
                },
                f,
                protocol=2,
            )
    (_, y), _ = cifar100.load_data(label_mode="coarse", path=folder)
    np.testing.assert_array_equal(y[:, 0], [0, 0, 1, 1])
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium", path=folder)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with open(folder / "train", "wb") as f:
        pickle.dump({b"data": Evil()}, f)
    with pytest.raises(ValueError, match="Refusing"):
        cifar100.load_data(path=folder)


def test_lazy_namespace():
    import strided

    assert strided.datasets.mnist.load_data is mnist.load_data
    assert strided.datasets.cifar10 is cifar10
