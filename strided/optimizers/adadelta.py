"""Adadelta: learning rates adapted to moving windows of updates.

Its ``_update`` mirrors the ``update_step`` of the Keras optimizer of the same name (formulas in
the class docstring), written with torch ``_foreach`` ops; ``step`` is Keras's ``iterations + 1``.
"""

import torch

from strided.optimizers.base import Optimizer


class Adadelta(Optimizer):
    """Adadelta: ``Eg = rho Eg + (1 - rho) g^2``; ``d = -sqrt(Ed + eps) g / sqrt(Eg + eps)``;
    ``Ed = rho Ed + (1 - rho) d^2``; ``w += lr d`` (Keras default lr 0.001, rho 0.95)."""

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.95,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        rho, epsilon = self._check_hyperparameters(rho=rho, epsilon=epsilon)
        self.rho, self.epsilon = rho, epsilon
        self._slot_groups = (("accumulated_grad", "accumulated_delta_var"),)
        super().__init__(
            learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )

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

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
