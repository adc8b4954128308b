"""Lion: sign-of-momentum updates (Chen et al., 2023)."""

import numpy as np
import torch

from strided.optimizers.base import Optimizer, _check_range, with_base_keyword_args


@with_base_keyword_args
class Lion(Optimizer):
    """Lion (EvoLved Sign Momentum): the sign of an interpolated momentum is the update.

    ``c = b1 m + (1 - b1) g``; ``w -= lr sign(c)``; ``m = b2 m + (1 - b2) g``.

    The update has unit size per element, so a good learning rate is typically 3-10x smaller than
    AdamW's and the weight decay 3-10x larger.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        beta_1: the rate combining the current gradient and the momentum, in (0, 1] (default 0.9).
        beta_2: the decay rate of the momentum (default 0.99).
        {{base_optimizer_keyword_args}}

    Reference: Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms".
    """

    _config_keys = ("beta_1", "beta_2")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        if isinstance(beta_1, bool) or not isinstance(beta_1, (int, float, np.number)) or not 0 < beta_1 <= 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates "
                f"to SignSGD. Received: beta_1={beta_1!r}."
            )
        _check_range(beta_2, "beta_2")
        self.beta_1, self.beta_2 = beta_1, beta_2
        self._slot_groups = (("momentum",),)
        super().__init__(learning_rate, **kwargs)

    def _update(self, params, grads, slots, lr, step):
        m = slots["momentum"]
        c = torch._foreach_mul(m, self.beta_1)
        torch._foreach_add_(c, grads, alpha=1 - self.beta_1)
        torch._foreach_sign_(c)
        torch._foreach_add_(params, torch._foreach_mul(c, lr), alpha=-1)
        torch._foreach_mul_(m, self.beta_2)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_2)
