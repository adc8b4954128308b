"""Adagrad: learning rates adapted to the sum of squared gradients."""

import torch

from strided.optimizers.base import Optimizer, with_base_keyword_args


@with_base_keyword_args
class Adagrad(Optimizer):
    """Adagrad: ``acc += g^2``; ``w -= lr g / sqrt(acc + eps)``.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        initial_accumulator_value: >= 0, the starting value of the accumulators (default 0.1).
        epsilon: added inside the square root (default 1e-7).
        {{base_optimizer_keyword_args}}
    """

    _config_keys = ("initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        self._set_hyperparameters(initial_accumulator_value=initial_accumulator_value, epsilon=epsilon)
        self._slot_groups = (("accumulator",),)
        super().__init__(learning_rate, **kwargs)

    def _slot_init(self, name):
        # Only Adagrad's own accumulator starts at initial_accumulator_value; EMA and gradient-accumulation
        # slots start at zero as for every optimizer.
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def _update(self, params, grads, slots, lr, step):
        acc = slots["accumulator"]
        torch._foreach_addcmul_(acc, grads, grads)
        denom = torch._foreach_add(acc, self.epsilon)
        torch._foreach_sqrt_(denom)
        torch._foreach_addcdiv_(params, grads, denom, value=-lr)
