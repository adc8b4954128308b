"""Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale images of 10 clothing categories."""

from strided.datasets import _idx

URL_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def load_data(path=None):
    """Loads the Fashion-MNIST dataset.

    Files (the four IDX ``.gz`` files, as distributed) are looked up in ``path``, then
    ``$STRIDED_DATA_DIR/fashion_mnist/`` (or ``fashion-mnist/``), ``~/.keras/datasets/fashion-mnist/``, the
    repository's ``data/``, and only then downloaded from Keras's URL. Keras publishes no checksum for these
    files, so none is checked (the IDX headers and sizes are).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays (60000, 28, 28), (60000,), (10000, 28, 28),
        (10000,). Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
        7 Sneaker, 8 Bag, 9 Ankle boot.
    """
    return _idx.load(
        "fashion_mnist", ["fashion_mnist", "fashion-mnist"], path, None, "fashion-mnist", url_base=URL_BASE
    )
