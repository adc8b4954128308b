"""``keras.mixed_precision``: global dtype policies.

'mixed_float16' and 'mixed_bfloat16' keep float32 weights and compute under torch autocast in the
trainer (with loss scaling for float16); 'float32' turns it off.
"""

from strided import config
from strided.backend.dtype_policy import DTypePolicy
from strided.optimizers.loss_scale import LossScaleOptimizer  # noqa: F401  (keras.mixed_precision.LossScaleOptimizer)


Policy = DTypePolicy


def set_global_policy(policy):
    """Sets the global policy, e.g. ``set_global_policy('mixed_bfloat16')``."""
    config.set_dtype_policy(policy)


def global_policy():
    return DTypePolicy(config.dtype_policy())


def dtype_policy():
    return global_policy()


def set_dtype_policy(policy):
    set_global_policy(policy)
