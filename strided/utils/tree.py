"""Nested structures (lists, tuples, namedtuples, dicts) with ``keras.tree``'s names, on ``torch.utils._pytree``.

The one tree utility of strided: code that walks nested inputs, outputs or states goes through these functions
rather than its own recursion, so that every part of the package agrees on what a leaf is. Dicts keep their
insertion order (as torch's pytree does; Keras sorts keys, which no strided caller relies on).

``None`` is a leaf by default, as in Keras. With ``none_is_leaf=False`` it stands for "absent" instead: it is
left out of :func:`flatten` and kept as None by :func:`map_structure` (the convention of a batch
``(x, None, sample_weight)``), the choice ``optree`` offers under the same name.
"""

from torch.utils import _pytree as pytree


def _is_none(x):
    return x is None


def is_nested(structure):
    """Whether ``structure`` is a list, tuple, namedtuple or dict (rather than a leaf)."""
    return not pytree.tree_is_leaf(structure, is_leaf=_is_none)


def flatten(structure, none_is_leaf=True):
    """The leaves of ``structure``, depth first, in order (dicts in insertion order).

    Args:
        structure: a leaf, or lists/tuples/dicts of them, nested.
        none_is_leaf: whether a None is a leaf (kept) or an absent value (left out).

    Returns:
        A list of the leaves.
    """
    if none_is_leaf:
        return pytree.tree_leaves(structure, is_leaf=_is_none)
    return [leaf for leaf in pytree.tree_leaves(structure, is_leaf=_is_none) if leaf is not None]


def map_structure(func, *structures, none_is_leaf=True):
    """``func`` applied to each leaf (to the matching leaves of several structures of the same shape).

    Args:
        func: called with one leaf of each structure.
        *structures: one or more structures with the same nesting.
        none_is_leaf: whether a None is passed to ``func`` (True) or kept as None without calling it (False;
            decided by the first structure).

    Returns:
        A structure like the first, with ``func``'s results as leaves.
    """
    if not structures:
        raise TypeError("map_structure() needs at least one structure. Received: structures=()")
    if not none_is_leaf:
        inner = func

        def func(first, *rest):
            return None if first is None else inner(first, *rest)

    return pytree.tree_map(func, structures[0], *structures[1:], is_leaf=_is_none)


def pack_sequence_as(structure, flat_sequence, none_is_leaf=True):
    """Puts the values of ``flat_sequence`` in the nesting of ``structure`` (the inverse of :func:`flatten`).

    Args:
        structure: the template structure.
        flat_sequence: as many values as ``flatten(structure, none_is_leaf)`` has leaves, in its order.
        none_is_leaf: as in :func:`flatten`; with False the Nones of ``structure`` stay None.

    Returns:
        A structure like ``structure``.
    """
    leaves, spec = pytree.tree_flatten(structure, is_leaf=_is_none)
    values = list(flat_sequence)
    expected = len(leaves) if none_is_leaf else sum(leaf is not None for leaf in leaves)
    if len(values) != expected:
        raise ValueError(
            f"The structure has {expected} leaves but `flat_sequence` has {len(values)} values. "
            f"Received: structure={structure!r}"
        )
    if not none_is_leaf:
        it = iter(values)
        values = [None if leaf is None else next(it) for leaf in leaves]
    return pytree.tree_unflatten(values, spec)


__all__ = ["flatten", "is_nested", "map_structure", "pack_sequence_as"]
