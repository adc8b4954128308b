"""Ftrl: follow the regularized leader."""

import numpy as np
import torch

from strided.optimizers.base import Optimizer, _check_number, with_base_keyword_args


@with_base_keyword_args
class Ftrl(Optimizer):
    """FTRL-Proximal ("Follow The Regularized Leader"), with online L2 and L2-shrinkage regularization.

    With ``p = -learning_rate_power``, ``l2 = l2_regularization_strength + beta / (2 lr)``:
    ``n' = n + g^2``; ``z += g + 2 l2_shrinkage w - (n'^p - n^p) / lr * w``;
    ``w = (clip(z, -l1, l1) - z) / (n'^p / lr + 2 l2)``; ``n = n'``.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        learning_rate_power: <= 0; how the learning rate decreases (0 for a fixed rate; default -0.5).
        initial_accumulator_value: >= 0, the starting value of the accumulators ``n`` (default 0.1).
        l1_regularization_strength: >= 0 (default 0.0).
        l2_regularization_strength: >= 0, the stabilization penalty (default 0.0).
        l2_shrinkage_regularization_strength: >= 0, the magnitude penalty (default 0.0).
        beta: the beta value of the paper (default 0.0).
        {{base_optimizer_keyword_args}}

    Reference: McMahan et al., 2013, "Ad Click Prediction: a View from the Trenches".
    """

    _config_keys = (
        "learning_rate_power",
        "initial_accumulator_value",
        "l1_regularization_strength",
        "l2_regularization_strength",
        "l2_shrinkage_regularization_strength",
        "beta",
    )

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
        **kwargs,
    ):
        checks = (
            ("initial_accumulator_value", initial_accumulator_value, "needs to be positive or zero"),
            (
                "learning_rate_power",
                -learning_rate_power if isinstance(learning_rate_power, (int, float)) else learning_rate_power,
                "needs to be negative or zero",
            ),
            ("l1_regularization_strength", l1_regularization_strength, "needs to be positive or zero"),
            ("l2_regularization_strength", l2_regularization_strength, "needs to be positive or zero"),
            (
                "l2_shrinkage_regularization_strength",
                l2_shrinkage_regularization_strength,
                "needs to be positive or zero",
            ),
        )
        for arg, value, rule in checks:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or value < 0:
                received = learning_rate_power if arg == "learning_rate_power" else value
                raise ValueError(f"`{arg}` {rule}. Received: {arg}={received!r}.")
        _check_number(beta, "beta")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta
        self._slot_groups = (("accumulator", "linear"),)
        super().__init__(learning_rate, **kwargs)

    def _slot_init(self, name):
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def _update(self, params, grads, slots, lr, step):
        power = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        acc, linear = slots["accumulator"], slots["linear"]
        new_acc = torch._foreach_addcmul(acc, grads, grads)
        new_pow = torch._foreach_pow(new_acc, power)
        sigma = torch._foreach_sub(new_pow, torch._foreach_pow(acc, power))
        torch._foreach_div_(sigma, lr)
        torch._foreach_mul_(sigma, params)
        torch._foreach_add_(linear, grads)
        if self.l2_shrinkage_regularization_strength:
            torch._foreach_add_(linear, params, alpha=2 * self.l2_shrinkage_regularization_strength)
        torch._foreach_sub_(linear, sigma)
        quadratic = torch._foreach_div(new_pow, lr)
        torch._foreach_add_(quadratic, 2 * l2)
        clipped = torch._foreach_clamp_min(linear, -l1)
        torch._foreach_clamp_max_(clipped, l1)
        torch._foreach_sub_(clipped, linear)
        torch._foreach_div_(clipped, quadratic)
        torch._foreach_copy_(params, clipped)
        torch._foreach_copy_(acc, new_acc)
