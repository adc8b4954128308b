"""``keras.mixed_precision``: global dtype policies.

'mixed_float16' and 'mixed_bfloat16' keep float32 weights and compute under torch autocast in the
trainer (with loss scaling for float16); 'float32' turns it off.
"""
from strided import config
from strided.optimizers.loss_scale import LossScaleOptimizer  # noqa: F401  (keras.mixed_precision.LossScaleOptimizer)


class DTypePolicy:
    """A named policy: ``compute_dtype`` is what matmuls and convs run in, ``variable_dtype`` what weights are."""

    def __init__(self, name="float32"):
        # (a plain float dtype is a layer's own policy, as Keras's DTypePolicy("float64"))
        if name not in ("float32", "mixed_float16", "mixed_bfloat16", "float16", "bfloat16", "float64"):
            raise ValueError("Invalid value for argument `name`. Expected 'float32', 'mixed_float16' or "
                             f"'mixed_bfloat16'. Received: name={name!r}")
        self.name = name

    @property
    def compute_dtype(self):
        return {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}.get(self.name, self.name)

    @property
    def variable_dtype(self):
        return "float32" if self.name.startswith("mixed_") else self.name

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'


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
