"""The optimizer registry behind ``get``/``serialize``/``deserialize``.

A module of its own so that optimizers wrapping others (``LossScaleOptimizer``, ``MultiOptimizer``) can
(de)serialize their inner optimizers without importing the package's ``__init__``; that ``__init__``
registers every built-in class here.
"""

from strided.optimizers.base import Optimizer
from strided.utils.registry import Registry

OPTIMIZERS = Registry("optimizer", "keras.optimizers", case_insensitive=True)


# Keras's `serialize(obj)` (the Keras 3 config dict) and `deserialize(config, custom_objects=None)`.
serialize = OPTIMIZERS.serialize
deserialize = OPTIMIZERS.deserialize


def get(identifier, arg_name="optimizer"):
    """Retrieves an optimizer: a name ('adam', 'SGD', 'rmsprop'...), a config dict, or an Optimizer instance.

    Raises:
        ValueError: for an unknown name or an object that is not an Optimizer.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    obj = OPTIMIZERS.get(identifier, arg_name)
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. Expected a name such as 'adam', "
        f"a config dict or an optimizer instance. Received: {arg_name}={identifier!r}"
    )
