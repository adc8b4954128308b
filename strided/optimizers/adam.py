"""Adam: adaptive moment estimation."""

import math

import torch

from strided.backend.foreach import scalar
from strided.optimizers.base import Optimizer, with_base_keyword_args


@with_base_keyword_args
class Adam(Optimizer):
    """Adam as Keras writes it: bias correction folded into the step size, epsilon outside the root.

    ``m += (g - m)(1 - b1)``; ``v += (g^2 - v)(1 - b2)``; amsgrad: ``v_hat = max(v_hat, v)``;
    ``w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        beta_1, beta_2: the decay rates of the first and second moments, in [0, 1) (0.9, 0.999).
        epsilon: added to the root of the second moment (default 1e-7).
        amsgrad: use the maximum of the past second moments (default False).
        {{base_optimizer_keyword_args}}
    """

    _config_keys = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        self._set_hyperparameters(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
        self.amsgrad = amsgrad
        self._slot_groups = (("momentum", "velocity"),) + ((("velocity_hat",),) if amsgrad else ())
        super().__init__(learning_rate, **kwargs)

    def _update(self, params, grads, slots, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        alpha = lr * math.sqrt(1 - b2**step) / (1 - b1**step)
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_mul_(v, scalar(b2, v[0]))  # (0-d tensors: the CPU's fast path)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        if self.amsgrad:
            v_hat = slots["velocity_hat"]
            torch._foreach_maximum_(v_hat, v)
            v = v_hat
        denom = torch._foreach_sqrt(v)
        torch._foreach_add_(denom, self.epsilon)
        torch._foreach_addcdiv_(params, m, denom, value=-alpha)
