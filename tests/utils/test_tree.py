"""strided.utils.tree: the one nested-structure utility (keras.tree's names on torch's pytree)."""

import collections

import numpy as np
import pytest

from strided.utils import tree

Point = collections.namedtuple("Point", ["x", "y"])


def test_flatten_order_and_none():
    structure = {"b": [1, None, (2, 3)], "a": Point(4, {"z": 5})}
    assert tree.flatten(structure) == [1, None, 2, 3, 4, 5]  # dicts in insertion order, None a leaf
    assert tree.flatten(structure, none_is_leaf=False) == [1, 2, 3, 4, 5]
    assert tree.flatten(None) == [None] and tree.flatten(None, none_is_leaf=False) == []
    assert tree.flatten(7) == [7] and tree.flatten([]) == []
    array = np.arange(3)
    assert tree.flatten([array])[0] is array  # arrays are leaves


def test_map_structure_keeps_containers():
    out = tree.map_structure(lambda v: v * 10, {"p": Point(1, 2), "l": [3, (4,)]})
    assert out == {"p": Point(10, 20), "l": [30, (40,)]} and isinstance(out["p"], Point)
    ordered = tree.map_structure(str, collections.OrderedDict(b=1, a=2))
    assert isinstance(ordered, collections.OrderedDict) and list(ordered.items()) == [("b", "1"), ("a", "2")]
    assert tree.map_structure(lambda a, b: a + b, [1, (2, 3)], [10, (20, 30)]) == [11, (22, 33)]
    seen = []
    assert tree.map_structure(lambda v: seen.append(v) or 0, [None, 1]) == [0, 0] and seen == [None, 1]
    assert tree.map_structure(lambda v: v + 1, (None, 1), none_is_leaf=False) == (None, 2)
    with pytest.raises(TypeError, match="at least one structure"):
        tree.map_structure(abs)


def test_pack_sequence_as_inverts_flatten():
    structure = (Point(1, None), {"k": [2, 3]})
    assert tree.pack_sequence_as(structure, tree.flatten(structure)) == structure
    assert tree.pack_sequence_as(structure, ["a", "b", "c"], none_is_leaf=False) == (
        Point("a", None),
        {"k": ["b", "c"]},
    )
    with pytest.raises(ValueError, match="has 3 leaves but `flat_sequence` has 2 values"):
        tree.pack_sequence_as(structure, [1, 2], none_is_leaf=False)


def test_is_nested():
    assert tree.is_nested([1]) and tree.is_nested({}) and tree.is_nested(Point(1, 2))
    assert not tree.is_nested(1) and not tree.is_nested(None) and not tree.is_nested(np.zeros(2))
