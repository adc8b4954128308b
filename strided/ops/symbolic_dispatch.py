"""Lets every ``strided.ops`` function take symbolic tensors, as ``keras.ops`` functions do.

``ops.mean(x, axis=1)`` on a ``keras.Input`` tensor cannot compute anything: it records one node
in the functional graph (an :class:`~strided.layers.ops_call.OpsCall` layer) whose output is a
new symbolic tensor. Calls on real tensors go straight to the function; the only cost is a scan
of the arguments for symbolic tensors.
"""

import functools
import inspect

from strided.backend.keras_tensor import KerasTensor, recorder


def has_symbolic(value, depth=0):
    """True when ``value`` is a symbolic tensor or a list/tuple/dict holding one (two levels deep)."""
    if isinstance(value, KerasTensor):
        return True
    if depth < 2 and isinstance(value, (list, tuple)):
        return any(has_symbolic(v, depth + 1) for v in value)
    if depth < 2 and isinstance(value, dict):
        return any(has_symbolic(v, depth + 1) for v in value.values())
    return False


def accept_symbolic(fn, op_name=None):
    """Wraps ``fn`` so that a call with a symbolic tensor among its arguments becomes a graph node."""
    name = op_name or fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if any(has_symbolic(a) for a in args) or any(has_symbolic(v) for v in kwargs.values()):
            return recorder("ops_call")(fn, name, args, kwargs)
        return fn(*args, **kwargs)

    wrapper.__wrapped_op__ = fn
    return wrapper


# Functions that answer about a tensor rather than compute one; Keras gives them no graph node either.
_NOT_OPERATIONS = {"convert_to_numpy", "is_tensor", "shape", "dtype_name", "dtype"}


def accept_symbolic_everywhere(namespace):
    """Wraps each public function defined in a strided.ops module (in place, in ``namespace``)."""
    for key, value in list(namespace.items()):
        if (
            key.startswith("_")
            or key in _NOT_OPERATIONS
            or not inspect.isfunction(value)
            or not value.__module__.startswith("strided.ops")
            or hasattr(value, "__wrapped_op__")
        ):
            continue
        namespace[key] = accept_symbolic(value, key)
