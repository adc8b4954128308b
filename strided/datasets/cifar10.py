"""CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes."""

import numpy as np

from strided.datasets import _cifar

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
INNER = "cifar-10-batches-py"
REQUIRED = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def load_data(path=None):
    """Loads the CIFAR-10 dataset.

    The "python version" batches are looked up in ``path`` (a folder holding them, ``cifar-10-batches-py/``
    or ``cifar-10-python.tar.gz``), then ``$STRIDED_DATA_DIR/cifar10/``, Keras's cache
    (``~/.keras/datasets/cifar-10-batches-py-target/`` or ``cifar-10-batches-py/``), the repository's
    ``data/cifar10/``, and only then downloaded. The pickles are read with a restricted unpickler.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 (50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3),
        (10000, 1) (channels first when ``image_data_format()`` is 'channels_first').
    """
    folder = (
        _cifar._find_folder(INNER, REQUIRED, path, "cifar10", "cifar-10-python.tar.gz", "cifar-10-batches-py-target")
        if path is not None
        else _cifar.load(
            "cifar10", INNER, REQUIRED, "cifar-10-python.tar.gz", "cifar-10-batches-py-target", URL, SHA256
        )
    )
    xs, ys = [], []
    for i in range(1, 6):
        x, y = _cifar.load_batch(folder / f"data_batch_{i}")
        xs.append(x)
        ys.append(np.asarray(y, dtype=np.uint8))
    x_test, y_test = _cifar.load_batch(folder / "test_batch")
    x_train = np.concatenate(xs)
    y_train = np.concatenate(ys).reshape(-1, 1)
    y_test = np.asarray(y_test, dtype=np.uint8).reshape(-1, 1)
    return (_cifar.to_layout(x_train), y_train), (_cifar.to_layout(x_test.astype(np.uint8)), y_test)
