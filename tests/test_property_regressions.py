"""The failing examples the property-based suite (test_property_bad_input.py) found, kept as regular tests.

Each was a raw error from inside torch/NumPy/Python or a message that did not name the argument; each now
raises a ValueError/TypeError from strided naming it.
"""

import traceback

import numpy as np
import pytest
import torch

from strided import layers, optimizers

X2 = np.ones((2, 3), "float32")


def rgb(shape):
    return np.random.default_rng(0).random(shape).astype("float32")


CASES = [
    # constructor arguments
    ("activity_regularizer", ValueError, lambda: layers.Dense(1, activity_regularizer=True), "activity_regularizer"),
    ("activation name", ValueError, lambda: layers.LSTM(1, recurrent_activation="x"), "recurrent_activation"),
    ("color jitter factor", ValueError, lambda: layers.RandomColorJitter(brightness_factor=False), "brightness_factor"),
    ("AlphaDropout noise_shape", TypeError, lambda: layers.AlphaDropout(0.1, noise_shape=object()), "noise_shape"),
    ("Lambda arguments", TypeError, lambda: layers.Lambda(lambda x: x, arguments=True), "arguments"),
    ("StringLookup vocabulary", TypeError, lambda: layers.StringLookup(vocabulary=False), "vocabulary"),
    ("vocabulary file", ValueError, lambda: layers.StringLookup(vocabulary="no_such_file.txt"), "vocabulary"),
    ("lookup max_tokens", TypeError, lambda: layers.IntegerLookup(max_tokens="x"), "max_tokens"),
    ("lookup num_oov_indices", TypeError, lambda: layers.StringLookup(num_oov_indices=None), "num_oov_indices"),
    ("Discretization bin_boundaries", TypeError, lambda: layers.Discretization(bin_boundaries=False), "bin_boundaries"),
    ("Discretization num_bins", TypeError, lambda: layers.Discretization(num_bins="x"), "num_bins"),
    (
        "TorchModuleWrapper output_shape",
        TypeError,
        lambda: layers.TorchModuleWrapper(torch.nn.Identity(), output_shape=False),
        "output_shape",
    ),
    ("Normalization axis", TypeError, lambda: layers.Normalization(axis=object()), "axis"),
    ("Normalization axis items", TypeError, lambda: layers.Normalization(axis=["a"]), "axis"),
    (
        "Normalization mean",
        TypeError,
        lambda: layers.Normalization(mean={"a": 1}, variance={"a": 1}, axis=None),
        "mean",
    ),
    ("Layer weights", TypeError, lambda: layers.Dense(2, weights=False), "weights"),
    ("Embedding weights", TypeError, lambda: layers.Embedding(2, 1, weights=False), "weights"),
    (
        "Bidirectional merge_mode",
        ValueError,
        lambda: layers.Bidirectional(layers.LSTM(2), merge_mode=False),
        "merge_mode",
    ),
    ("RandomShear x_factor", ValueError, lambda: layers.RandomShear(x_factor=-1), "x_factor"),
    ("RandomHue value_range", ValueError, lambda: layers.RandomHue(0.1, value_range=None), "value_range"),
    (
        "RandomGaussianBlur kernel_size",
        ValueError,
        lambda: layers.RandomGaussianBlur(kernel_size=float("inf")),
        "kernel_size",
    ),
    ("Muon exclude_layers", ValueError, lambda: optimizers.Muon(exclude_layers=(0, 0)), "exclude_layers"),
    # calls
    ("initializer None", None, lambda: layers.PReLU(alpha_initializer=None)(X2), None),
    ("EinsumDense rank", ValueError, lambda: layers.EinsumDense("ab,bc->ac", output_shape=3)(np.ones((2, 1, 1))), "ab"),
    (
        "EinsumDense rank 1",
        ValueError,
        lambda: layers.EinsumDense("ab,bc->ac", output_shape=3)(np.ones((2,))),
        "ndim=1",
    ),
    ("Rescaling offset", ValueError, lambda: layers.Rescaling(0.5, offset=(0, 0))(X2), "offset"),
    ("RandomSaturation channels", ValueError, lambda: layers.RandomSaturation(0.1)(rgb((2, 1, 1))), "3 channels"),
    ("RandomHue channels", ValueError, lambda: layers.RandomHue(0.1)(rgb((2, 4, 4, 1))), "3 channels"),
    (
        "MelSpectrogram short signal",
        ValueError,
        lambda: layers.MelSpectrogram(sequence_length=None)(np.ones((2, 8))),
        "fft_length",
    ),
    (
        "RNN rank",
        ValueError,
        lambda: layers.RNN(layers.SimpleRNNCell(2))(np.ones((2, 1, 1, 3, 1), "float32")),
        "ndim=3",
    ),
    ("MixUp alpha None", TypeError, lambda: layers.MixUp(alpha=None), "alpha"),
    ("MixUp alpha 0", ValueError, lambda: layers.MixUp(alpha=0.0), "alpha"),
]


def test_random_perspective_leaves_a_one_pixel_wide_image_unchanged():
    # found by the property suite: the homography of four coinciding corners is singular
    x = np.arange(6, dtype="float32").reshape(2, 3, 1, 1)
    out = layers.RandomPerspective(factor=1.0, seed=1)(x, training=True)
    np.testing.assert_array_equal(np.asarray(out), x)


@pytest.mark.parametrize("label, exc, make, fragment", CASES, ids=[c[0] for c in CASES])
def test_found_by_the_property_suite(label, exc, make, fragment):
    if exc is None:  # was a crash; Keras's default applies
        make()
        return
    with pytest.raises(exc) as info:
        make()
    assert fragment in str(info.value), str(info.value)
    frames = traceback.extract_tb(info.tb)
    assert "/strided/" in frames[-1].filename.replace("\\", "/"), traceback.format_exception(info.value)
