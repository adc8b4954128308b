"""Keras layers. Each family lives in its own module; this package re-exports the public names."""
from strided.layers.base import Layer, clear_session
from strided.layers.input_layer import Input, InputLayer
from strided.layers.symbolic import KerasTensor
