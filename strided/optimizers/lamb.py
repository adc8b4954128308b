"""Lamb: Adam with a layer-wise trust ratio (You et al., 2019)."""

import torch

from strided.optimizers.base import Optimizer, _check_number, _check_range, with_base_keyword_args


@with_base_keyword_args
class Lamb(Optimizer):
    """LAMB: Adam directions rescaled per variable by a trust ratio ``||w|| / ||update||``.

    ``m += (g - m)(1 - b1)``; ``v += (g^2 - v)(1 - b2)``;
    ``u = (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``;
    ``r = ||w|| / ||u||`` (1 when either norm is 0); ``w -= r lr u``.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        beta_1: decay rate of the first moment, in [0, 1] (default 0.9).
        beta_2: decay rate of the second moment, in [0, 1] (default 0.999).
        epsilon: small constant added to the root of the second moment (default 1e-7).
        {{base_optimizer_keyword_args}}

    Reference: You et al., 2019, "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes".
    """

    _config_keys = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        _check_range(beta_1, "beta_1")
        _check_range(beta_2, "beta_2")
        _check_number(epsilon, "epsilon", minimum=0)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self._slot_groups = (("momentum", "velocity"),)
        super().__init__(learning_rate, **kwargs)

    def _update(self, params, grads, slots, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_add_(v, torch._foreach_sub(torch._foreach_mul(grads, grads), v), alpha=1 - b2)
        update = torch._foreach_div(m, 1 - b1**step)
        denom = torch._foreach_div(v, 1 - b2**step)
        torch._foreach_sqrt_(denom)
        torch._foreach_add_(denom, self.epsilon)
        torch._foreach_div_(update, denom)
        w_norms = torch._foreach_norm(params)
        u_norms = torch._foreach_norm(update)
        # the trust ratio stays on the device (no host sync): 1 where a norm is 0
        ratios = [torch.where((wn > 0) & (un > 0), wn / un, torch.ones_like(wn)) for wn, un in zip(w_norms, u_norms)]
        torch._foreach_mul_(update, ratios)
        torch._foreach_add_(params, update, alpha=-lr)
