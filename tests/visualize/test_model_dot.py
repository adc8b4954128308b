"""keras.utils.model_to_dot: the graph of a functional model in DOT, without pydot."""

import pytest

import strided
from strided import layers


def test_model_to_dot():
    inputs = strided.Input((8,), name="x")
    a = layers.Dense(4, name="a")(inputs)
    b = layers.Dense(4, name="b")(inputs)
    model = strided.Model(inputs, layers.Add(name="sum")([a, b]))
    dot = strided.utils.model_to_dot(model, show_shapes=True, rankdir="LR")
    labels = {name: attrs["label"] for name, attrs in dot.get_nodes()}
    ids = {layer.name: str(id(layer)) for layer in model.layers}
    assert labels[ids["a"]].startswith("a (Dense)") and "(None, 4)" in labels[ids["sum"]]
    assert set(dot.get_edges()) == {
        (ids["x"], ids["a"]),
        (ids["x"], ids["b"]),
        (ids["a"], ids["sum"]),
        (ids["b"], ids["sum"]),
    }
    text = dot.to_string()
    assert text.startswith("digraph") and 'rankdir="LR"' in text and text.count("->") == 4
    with pytest.raises(ValueError, match="rankdir"):
        strided.utils.model_to_dot(model, rankdir="BT")
