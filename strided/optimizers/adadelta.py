"""Adadelta: learning rates adapted to moving windows of updates."""

import torch

from strided.optimizers.base import Optimizer, with_base_keyword_args


@with_base_keyword_args
class Adadelta(Optimizer):
    """Adadelta: ``Eg = rho Eg + (1 - rho) g^2``; ``d = -sqrt(Ed + eps) g / sqrt(Eg + eps)``;
    ``Ed = rho Ed + (1 - rho) d^2``; ``w += lr d``.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        rho: the decay rate of both running averages, in [0, 1] (default 0.95).
        epsilon: added inside the square roots (default 1e-7).
        {{base_optimizer_keyword_args}}
    """

    _config_keys = ("rho", "epsilon")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        self._set_hyperparameters(rho=rho, epsilon=epsilon)
        self._slot_groups = (("accumulated_grad", "accumulated_delta_var"),)
        super().__init__(learning_rate, **kwargs)

    def _update(self, params, grads, slots, lr, step):
        rho, eps = self.rho, self.epsilon
        eg, ed = slots["accumulated_grad"], slots["accumulated_delta_var"]
        torch._foreach_mul_(eg, rho)
        torch._foreach_addcmul_(eg, grads, grads, value=1 - rho)
        num = torch._foreach_add(ed, eps)
        torch._foreach_sqrt_(num)
        den = torch._foreach_add(eg, eps)
        torch._foreach_sqrt_(den)
        delta = torch._foreach_mul(num, grads)
        torch._foreach_div_(delta, den)  # delta = -d (sign folded into the updates below)
        torch._foreach_mul_(ed, rho)
        torch._foreach_addcmul_(ed, delta, delta, value=1 - rho)
        torch._foreach_add_(params, delta, alpha=-lr)
