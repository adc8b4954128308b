"""Layers built with Keras's positional arguments get the configuration Keras gives the same call."""

import numpy as np
import pytest

from strided import layers

# (class, positional arguments): each call fills Keras's positional order up to the argument that was out of place.
CASES = [
    ("MaxPooling2D", (3, 1, "same", "channels_last", "pool")),
    ("AveragePooling1D", (3, 1, "same", "channels_last", "avg")),
    ("RandomCrop", (8, 6, 1, "channels_last", "crop")),
    ("SpatialDropout1D", (0.3, 1, "spatial_1d", "float32")),
    ("SpatialDropout2D", (0.3, "channels_first", 1, "spatial_2d", "float32")),
    ("SpatialDropout3D", (0.3, "channels_last", 1, "spatial_3d")),
    ("InputLayer", ((4,), None, "float32", False, False, None, None, False, "inputs")),
    (
        "SimpleRNN",
        (4, "relu", True, "ones", "zeros", "zeros", None, None, None, None, None, None, None, 0.0, 0.0, True),
    ),
    ("EinsumDense", ("ab,bc->ac", 4, "relu", "c", "ones", "zeros", None, None, None, None, 2, 4.0)),
    ("LayerNormalization", (-1, 1e-5, False, True, "zeros", "ones", None, None, None, None)),
    (
        "BatchNormalization",
        (-1, 0.9, 1e-5, True, True, "zeros", "ones", "zeros", "ones", None, None, None, None, False),
    ),
    ("MultiHeadAttention", (2, 4, 8)),
    ("Conv3DTranspose", (2, 3, 2, "same", "channels_last", 1)),
]

# Keys both configs hold but write differently (Keras writes a DTypePolicy dict, strided the dtype name).
_REPRESENTED_DIFFERENTLY = {"dtype"}


def _comparable(value):
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    return value


@pytest.mark.keras
@pytest.mark.parametrize("name, args", CASES, ids=[c[0] for c in CASES])
def test_positional_arguments_give_keras_config(real_keras, name, args):
    ours, theirs = getattr(layers, name)(*args), getattr(real_keras.layers, name)(*args)
    ours_config, their_config = ours.get_config(), theirs.get_config()
    shared = sorted((set(ours_config) & set(their_config)) - _REPRESENTED_DIFFERENTLY)
    if their_config["name"] not in args:
        shared.remove("name")  # generated names count layers made before (differently in the two libraries)
    assert len(shared) >= 2  # the layer's own arguments
    assert {k: _comparable(ours_config[k]) for k in shared} == {k: _comparable(their_config[k]) for k in shared}


def test_positional_name_dtype_and_out_of_place_arguments_take_effect():
    assert layers.MaxPooling2D(2, None, "valid", None, "pool").name == "pool"
    dropout = layers.SpatialDropout1D(0.5, 3, "drop", "float64")
    assert (dropout.name, dropout.dtype, dropout.seed) == ("drop", "float64", 3)
    sequences = layers.SimpleRNN(3, "tanh", True, *[None] * 3, *[None] * 7, 0.0, 0.0, True)
    assert tuple(sequences(np.zeros((2, 5, 4), "float32")).shape) == (2, 5, 3)  # return_sequences=True
    transpose = layers.Conv3DTranspose(2, 3, 2, "valid", "channels_first", 1)
    assert (transpose.data_format, transpose.output_padding) == ("channels_first", (1, 1, 1))
    assert tuple(transpose(np.zeros((1, 4, 3, 3, 3), "float32")).shape) == (1, 2, 8, 8, 8)
    norm = layers.BatchNormalization(-1, 0.9, 1e-3, True, True, *["zeros", "ones"] * 2, *[None] * 4, False, None, 0.9)
    assert norm.momentum == 0.9 and not norm.synchronized


def test_unsupported_keras_arguments_raise_naming_them():
    with pytest.raises(ValueError, match=r"Received: ragged=True"):
        layers.InputLayer((3,), None, None, None, True)
    with pytest.raises(ValueError, match=r"Received: optional=True"):
        layers.InputLayer(shape=(3,), optional=True)
    with pytest.raises(NotImplementedError, match=r"renorm=True"):
        layers.BatchNormalization(renorm=True)
