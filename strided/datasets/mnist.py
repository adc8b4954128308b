"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grayscale."""

from strided.datasets import _idx

URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# MD5 of the *decompressed* IDX files (a re-compressed .gz with the same content is accepted).
MD5 = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}


def load_data(path=None):
    """Loads the MNIST dataset.

    Files are looked up in ``path`` (a Keras ``.npz`` or a folder with the four IDX files), then
    ``$STRIDED_DATA_DIR/mnist/``, ``~/.keras/datasets/mnist.npz``, the repository's ``data/mnist/``, and only
    then downloaded from Keras's URL.

    Args:
        path: optional file or folder (Keras's default name 'mnist.npz' is looked up in its cache).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (60000, 28, 28), (60000,),
        (10000, 28, 28), (10000,).
    """
    return _idx.load("mnist", ["mnist"], path, "mnist.npz", "mnist", url_npz=URL, npz_sha256=NPZ_SHA256, md5s=MD5)
