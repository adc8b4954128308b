"""Automatic names (``conv2d``, ``conv2d_1``...) and the name scopes that give weights their Keras ``path``."""

import collections
import contextlib
import re
import threading

_NAME_LOCK = threading.Lock()
_NAME_COUNTS = collections.Counter()
_NAME_SCOPES = threading.local()  # .stack: (owner, name) of the layers being built, outermost first


def to_snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base):
    """``conv2d``, then ``conv2d_1``, ``conv2d_2``... unique in this process (Keras naming)."""
    with _NAME_LOCK:
        count = _NAME_COUNTS[base]
        _NAME_COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"


def get_uid(prefix):
    """1, 2, 3... for successive calls with ``prefix`` (Keras's ``get_uid``: the automatic names' counter, so
    ``clear_session`` starts it again); the applications name unnamed blocks with it (``prestem1``)."""
    with _NAME_LOCK:
        _NAME_COUNTS[prefix] += 1
        return _NAME_COUNTS[prefix]


def clear_session():
    """Resets the automatic layer names, as ``keras.backend.clear_session()`` does."""
    with _NAME_LOCK:
        _NAME_COUNTS.clear()


_NAME_SCOPES = threading.local()  # .stack: (layer, name) of the layers being built, outermost first


@contextlib.contextmanager
def name_scope_of(layer):
    """Weights made inside get ``layer``'s name in their path (a Sequential building its layers)."""
    stack = _NAME_SCOPES.__dict__.setdefault("stack", [])
    stack.append((layer, layer.name))
    layer.__dict__["_keras_layer_path"] = "/".join(name for _, name in stack)
    try:
        yield
    finally:
        stack.pop()


def current_scope_stack():
    """The (owner, name) pairs of the name scopes open in this thread, outermost first."""
    return _NAME_SCOPES.__dict__.setdefault("stack", [])


def current_path():
    """The names of the open scopes joined by ``/`` ('' outside any scope)."""
    return "/".join(name for _, name in current_scope_stack())
