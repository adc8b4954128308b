"""Adamax: Adam with the infinity norm."""

import torch

from strided.optimizers.base import Optimizer, with_base_keyword_args


@with_base_keyword_args
class Adamax(Optimizer):
    """Adamax (infinity-norm Adam): ``m += (g - m)(1 - b1)``; ``u = max(b2 u, |g|)``;
    ``w -= lr m / ((1 - b1^t)(u + eps))``.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        beta_1, beta_2: the decay rates of the first moment and of the norm, in [0, 1) (0.9, 0.999).
        epsilon: added to the norm (default 1e-7).
        {{base_optimizer_keyword_args}}
    """

    _config_keys = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        self._set_hyperparameters(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
        self._slot_groups = (("momentum", "norm"),)
        super().__init__(learning_rate, **kwargs)

    def _update(self, params, grads, slots, lr, step):
        m, u = slots["momentum"], slots["norm"]
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denom = torch._foreach_add(u, self.epsilon)
        torch._foreach_mul_(denom, 1 - self.beta_1**step)
        torch._foreach_addcdiv_(params, m, denom, value=-lr)
