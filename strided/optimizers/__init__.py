"""Optimizers with the Keras API and Keras update rules: ``strided.optimizers.Adam()`` etc.

``get('adam')`` (any case), ``get({'class_name': 'Adam', 'config': {...}})`` or an instance.
Learning-rate schedules are in ``strided.optimizers.schedules``. The base class is in
:mod:`strided.optimizers.base`, one module per optimizer beside it (as in Keras).
"""

from strided.optimizers import schedules
from strided.optimizers.adadelta import Adadelta
from strided.optimizers.adafactor import Adafactor
from strided.optimizers.adagrad import Adagrad
from strided.optimizers.adam import Adam
from strided.optimizers.adamax import Adamax
from strided.optimizers.adamw import AdamW
from strided.optimizers.base import Optimizer
from strided.optimizers.ftrl import Ftrl
from strided.optimizers.lamb import Lamb
from strided.optimizers.lion import Lion
from strided.optimizers.loss_scale import LossScaleOptimizer
from strided.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from strided.optimizers.muon import Muon
from strided.optimizers.nadam import Nadam
from strided.optimizers.registry import OPTIMIZERS, deserialize, get, serialize
from strided.optimizers.rmsprop import RMSprop
from strided.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from strided.optimizers.sgd import SGD
from strided.utils.registry import public_classes

__all__ = [
    "Optimizer",
    "SGD",
    "RMSprop",
    "Adam",
    "AdamW",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "Nadam",
    "Lion",
    "Lamb",
    "Adafactor",
    "Ftrl",
    "Muon",
    "ScheduleFreeAdamW",
    "LossScaleOptimizer",
    "MultiOptimizer",
    "OptimizerMap",
    "schedules",
    "get",
    "serialize",
    "deserialize",
]

OPTIMIZERS.register_all(public_classes(globals()), snake=False)
