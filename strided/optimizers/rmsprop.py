"""RMSprop: gradients divided by a moving root mean square."""

import torch

from strided.backend.foreach import scalar
from strided.optimizers.base import Optimizer, with_base_keyword_args


@with_base_keyword_args
class RMSprop(Optimizer):
    """RMSprop as Keras writes it (rho 0.9, epsilon 1e-7 added inside the square root).

    ``v = rho v + (1 - rho) g^2``; centered: ``a = rho a + (1 - rho) g``, ``d = v - a^2 + eps``, else
    ``d = v + eps``; ``inc = lr g / sqrt(d)``; with momentum ``m = momentum m + inc; w -= m``, else
    ``w -= inc``.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        rho: the decay rate of the mean square, in [0, 1] (default 0.9).
        momentum: a float in [0, 1] (default 0.0).
        epsilon: added inside the square root (default 1e-7).
        centered: divide by the centered second moment (the variance) instead (default False).
        {{base_optimizer_keyword_args}}
    """

    _config_keys = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        self._set_hyperparameters(rho=rho, momentum=momentum, epsilon=epsilon)
        self.centered = centered
        groups = [("velocity",)]
        if self.momentum > 0:
            groups.append(("momentum",))
        if centered:
            groups.append(("average_gradient",))
        self._slot_groups = tuple(groups)
        super().__init__(learning_rate, **kwargs)

    def _update(self, params, grads, slots, lr, step):
        rho = self.rho
        v = slots["velocity"]
        torch._foreach_mul_(v, scalar(rho, v[0]))  # (0-d tensors: the CPU's fast path)
        torch._foreach_addcmul_(v, grads, grads, value=1 - rho)
        if self.centered:
            a = slots["average_gradient"]
            torch._foreach_mul_(a, scalar(rho, a[0]))
            torch._foreach_add_(a, grads, alpha=1 - rho)
            denom = torch._foreach_addcmul(v, a, a, value=-1.0)
            torch._foreach_add_(denom, self.epsilon)
        else:
            denom = torch._foreach_add(v, self.epsilon)
        torch._foreach_sqrt_(denom)
        if self.momentum > 0:
            m = slots["momentum"]
            torch._foreach_mul_(m, scalar(self.momentum, m[0]))
            torch._foreach_addcdiv_(m, grads, denom, value=lr)
            torch._foreach_sub_(params, m)
        else:
            torch._foreach_addcdiv_(params, grads, denom, value=-lr)
