"""The 1D/2D/3D layer families share one ``__init__`` per kind (``rank`` a class attribute) and one docstring
template: Keras's positional order and keywords still hold, ``rank`` is checked, each class's docstring speaks of its
own rank."""

import inspect

import numpy as np
import pytest

from strided import layers

FAMILIES = [
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "MaxPooling2D",
    "AveragePooling3D",
    "GlobalAveragePooling1D",
    "ZeroPadding1D",
    "ZeroPadding3D",
    "Cropping2D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
]


@pytest.mark.keras
@pytest.mark.parametrize("name", FAMILIES)
def test_keras_positional_order_and_keywords_are_kept(real_keras, name):
    ours = [p for p in inspect.signature(getattr(layers, name)).parameters.values() if p.kind != p.VAR_KEYWORD]
    theirs = [
        p.name
        for p in inspect.signature(getattr(real_keras.layers, name)).parameters.values()
        if p.kind != p.VAR_KEYWORD and p.name != "name"  # strided takes `name` as a keyword only
    ]
    positional = [p.name for p in ours if p.kind == p.POSITIONAL_OR_KEYWORD]
    assert positional[: len(theirs)] == theirs  # Keras's arguments, in Keras's order, come first
    assert set(theirs) <= {p.name for p in ours}


def test_conv2d_positional_call_as_keras():
    layer = layers.Conv2D(4, 3, 2, "same", "channels_last", 1, 2, "relu", False, "ones")
    assert (layer.filters, layer.kernel_size, layer.strides, layer.padding) == (4, (3, 3), (2, 2), "same")
    assert (layer.groups, layer.use_bias, layer.rank) == (2, False, 2)
    y = layer(np.ones((1, 5, 5, 2), "float32"))
    assert tuple(y.shape) == (1, 3, 3, 4)
    assert layers.Conv2D.from_config(layer.get_config()).get_config() == layer.get_config()


def test_rank_is_fixed_by_the_class_and_required_by_the_base():
    assert layers.Conv3D(2, 1, rank=3).rank == 3
    with pytest.raises(ValueError, match="rank"):
        layers.Conv2D(2, 3, rank=3)
    with pytest.raises(ValueError, match="rank"):
        layers.BaseConv(filters=2, kernel_size=3)
    assert layers.BaseDepthwiseConv(kernel_size=2, rank=1).rank == 1


@pytest.mark.parametrize(
    "cls, ints, axes",
    [
        (layers.Conv1D, "tuple of 1 int,", "steps"),
        (layers.Conv3DTranspose, "tuple of 3 ints,", "dim1, dim2, dim3"),
        (layers.SeparableConv2D, "tuple of 2 ints,", "height, width"),
        (layers.MaxPooling1D, "tuple of 1 int,", "steps"),
        (layers.AdaptiveAveragePooling3D, "tuple of 3 ints,", "dim1, dim2, dim3"),
    ],
)
def test_each_docstring_speaks_of_its_rank(cls, ints, axes):
    assert ints in cls.__doc__ and f"(batch, {axes}, channels)" in cls.__doc__
    assert "{{" not in cls.__doc__
