"""ScheduleFreeAdamW: AdamW without a learning-rate schedule (Defazio et al., 2024)."""

import numpy as np
import torch

from strided.optimizers.base import Optimizer, _check_number, _check_range, with_base_keyword_args


@with_base_keyword_args
class ScheduleFreeAdamW(Optimizer):
    """Schedule-Free AdamW: no learning-rate schedule needed; the weights interpolate between a fast
    sequence ``z`` (the ``momentum`` slot, which starts at the weights) and its running average ``x``.

    With ``y`` the weights and ``lr_t = lr min(t / warmup_steps, 1)`` (``lr`` when ``warmup_steps`` is 0):
    ``v += (g^2 - v)(1 - b2)``; ``z' = z - lr_t g / (sqrt(v / (1 - b2^t)) + eps)``;
    ``x = (y - (1 - b1) z') / b1``; ``x' = (1 - 1/t) x + z' / t``; ``y = (1 - b1) z' + b1 x'``.

    Note: ``x`` is recovered with the *updated* ``z'``, as Keras 3 computes it on its torch and
    TensorFlow backends (the paper, and Keras on JAX, use the previous ``z``); strided gives Keras's
    torch numbers.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.0025).
        beta_1: interpolation between ``z`` and ``x``, in (0, 1] (default 0.9).
        beta_2: second-moment decay, in [0, 1] (default 0.999).
        epsilon: added to the root of the second moment (default 1e-8).
        warmup_steps: linear learning-rate warmup over this many steps (default 0).
        {{base_optimizer_keyword_args}}

    Reference: Defazio et al., 2024, "The Road Less Scheduled".
    """

    _config_keys = ("beta_1", "beta_2", "epsilon", "warmup_steps")

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0, **kwargs):
        if isinstance(beta_1, bool) or not isinstance(beta_1, (int, float, np.number)) or not 0 < beta_1 <= 1:
            raise ValueError(
                f"Invalid value for argument `beta_1`. Expected a float in (0, 1]. Received: beta_1={beta_1!r}"
            )
        _check_range(beta_2, "beta_2")
        _check_number(epsilon, "epsilon", minimum=0)
        _check_number(warmup_steps, "warmup_steps", minimum=0, integer=True)
        self.beta_1, self.beta_2, self.epsilon, self.warmup_steps = beta_1, beta_2, epsilon, warmup_steps
        self._slot_groups = (("momentum", "velocity"),)
        super().__init__(learning_rate, **kwargs)

    def _build_extra(self):
        torch._foreach_copy_(self._slots["momentum"], self._params)  # z starts at the weights

    def _update(self, params, grads, slots, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        if self.warmup_steps > 0:
            lr = lr * min(step / self.warmup_steps, 1.0)
        z, v = slots["momentum"], slots["velocity"]
        torch._foreach_add_(v, torch._foreach_sub(torch._foreach_mul(grads, grads), v), alpha=1 - b2)
        denom = torch._foreach_div(v, 1 - b2**step)
        torch._foreach_sqrt_(denom)
        torch._foreach_add_(denom, self.epsilon)
        torch._foreach_addcdiv_(z, grads, denom, value=-lr)
        # x recovered from the weights and the z just moved, as Keras computes it (its torch and
        # TensorFlow backends read the updated momentum variable here)
        x = torch._foreach_sub(params, torch._foreach_mul(z, 1 - b1))
        torch._foreach_div_(x, b1)
        weight = 1.0 / step
        torch._foreach_mul_(x, 1 - weight)
        torch._foreach_add_(x, z, alpha=weight)
        torch._foreach_mul_(x, b1)
        torch._foreach_add_(x, z, alpha=1 - b1)
        torch._foreach_copy_(params, x)
