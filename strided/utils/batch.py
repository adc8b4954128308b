"""The ``(x, y, sample_weight)`` convention of a batch: ``keras.utils.pack_x_y_sample_weight`` and its inverse.

A leaf of the package (no strided imports): the data adapters, the trainer and ``FeatureSpace.adapt`` all read
batches this way.
"""


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(x, "_fields")


def unpack_x_y_sample_weight(data):
    """Splits a batch into ``(x, y, sample_weight)`` the way Keras does.

    Args:
        data: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (a list counts as a tuple; a namedtuple
            is one ``x``).

    Returns:
        The tuple ``(x, y, sample_weight)``, with None for what the batch lacks.
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple) or _is_namedtuple(data):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
        f"found a tuple of length {len(data)}."
    )


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Packs ``x``, ``y`` and ``sample_weight`` into the shortest batch tuple: ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``."""
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


__all__ = ["pack_x_y_sample_weight", "unpack_x_y_sample_weight"]
