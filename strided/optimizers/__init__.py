"""Optimizers with the Keras API and Keras update rules: ``strided.optimizers.Adam()`` etc.

``get('adam')`` (any case), ``get({'class_name': 'Adam', 'config': {...}})`` or an instance.
Learning-rate schedules are in ``strided.optimizers.schedules``.
"""
from strided.optimizers import schedules
from strided.optimizers.base import Optimizer
from strided.optimizers.loss_scale import LossScaleOptimizer
from strided.optimizers.more_rules import Adafactor, Ftrl, Lamb, Lion, Muon, ScheduleFreeAdamW
from strided.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from strided.optimizers.rules import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop
from strided.utils.registry import Registry

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "Nadam",
           "Lion", "Lamb", "Adafactor", "Ftrl", "Muon", "ScheduleFreeAdamW", "LossScaleOptimizer",
           "MultiOptimizer", "OptimizerMap",
           "schedules", "get", "serialize", "deserialize"]

_REGISTRY = Registry("optimizer", "keras.optimizers", case_insensitive=True)
for _cls in (Optimizer, SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion, Lamb, Adafactor, Ftrl,
             Muon, ScheduleFreeAdamW, LossScaleOptimizer, MultiOptimizer, OptimizerMap):
    _REGISTRY.register(_cls, snake=False)


def serialize(optimizer):
    """Returns the Keras 3 config dict of an optimizer."""
    return _REGISTRY.serialize(optimizer)


def deserialize(config, custom_objects=None):
    """Returns an optimizer from its config dict (class names are case-insensitive, as in Keras)."""
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier, arg_name="optimizer"):
    """Retrieves an optimizer: a name ('adam', 'SGD', 'rmsprop'...), a config dict, or an Optimizer instance.

    Raises:
        ValueError: for an unknown name or an object that is not an Optimizer.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    obj = _REGISTRY.get(identifier, arg_name)
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Expected a name such as 'adam', "
                     f"a config dict or an optimizer instance. Received: {arg_name}={identifier!r}")
