"""Adagrad: learning rates adapted to the sum of squared gradients.

Its ``_update`` mirrors the ``update_step`` of the Keras optimizer of the same name (formulas in
the class docstring), written with torch ``_foreach`` ops; ``step`` is Keras's ``iterations + 1``.
"""

import torch

from strided.optimizers.base import Optimizer


class Adagrad(Optimizer):
    """Adagrad: ``acc += g^2``; ``w -= lr g / sqrt(acc + eps)``; accumulators start at 0.1."""

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
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
        initial_accumulator_value, epsilon = self._check_hyperparameters(
            initial_accumulator_value=initial_accumulator_value, epsilon=epsilon
        )
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon
        self._slot_groups = (("accumulator",),)
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

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
