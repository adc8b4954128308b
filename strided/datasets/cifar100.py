"""CIFAR-100: 50,000 training and 10,000 test 32x32 colour images in 100 fine (20 coarse) classes."""

import numpy as np

from strided.datasets import _cifar

URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
INNER = "cifar-100-python"
REQUIRED = ("train", "test")


def load_data(label_mode="fine", path=None):
    """Loads the CIFAR-100 dataset.

    Args:
        label_mode: 'fine' (100 classes) or 'coarse' (20 superclasses).
        path: optional folder holding ``train``/``test`` (or ``cifar-100-python/``, or the .tar.gz). Without it:
            ``$STRIDED_DATA_DIR/cifar100/``, Keras's cache, the repository's ``data/cifar100/``, then a download.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 (50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3),
        (10000, 1).
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            "Invalid value for argument `label_mode`. Expected one of ['fine', 'coarse']. "
            f"Received: label_mode={label_mode!r}"
        )
    folder = (
        _cifar._find_folder(INNER, REQUIRED, path, "cifar100", "cifar-100-python.tar.gz", "cifar-100-python-target")
        if path is not None
        else _cifar.load("cifar100", INNER, REQUIRED, "cifar-100-python.tar.gz", "cifar-100-python-target", URL, SHA256)
    )
    key = f"{label_mode}_labels"
    x_train, y_train = _cifar.load_batch(folder / "train", key)
    x_test, y_test = _cifar.load_batch(folder / "test", key)
    y_train = np.asarray(y_train, dtype=np.int64).reshape(-1, 1)
    y_test = np.asarray(y_test, dtype=np.int64).reshape(-1, 1)
    return (_cifar.to_layout(x_train), y_train), (_cifar.to_layout(x_test), y_test)
