"""SGD: gradient descent with momentum and Nesterov momentum.

Its ``_update`` mirrors the ``update_step`` of the Keras optimizer of the same name (formulas in
the class docstring), written with torch ``_foreach`` ops; ``step`` is Keras's ``iterations + 1``.
"""

import torch

from strided.backend.foreach import scalar
from strided.optimizers.base import Optimizer, _check_range


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, as Keras writes it.

    ``m = momentum * m - lr * g``; ``w += m`` (or ``w += momentum * m - lr * g`` when ``nesterov``);
    without momentum ``w -= lr * g``.

    Args:
        learning_rate: 0.01. momentum: float in [0, 1] (0.0). nesterov: bool (False).
    """

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
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
        self.momentum = _check_range(momentum, "momentum")
        self.nesterov = bool(nesterov)
        self._slot_groups = (("momentum",),) if self.momentum != 0 else ()
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
        if self.momentum == 0:
            torch._foreach_add_(params, grads, alpha=-lr)
            return
        m = slots["momentum"]
        torch._foreach_mul_(m, scalar(self.momentum, m[0]))  # (a 0-d tensor: the CPU's fast path)
        torch._foreach_add_(m, grads, alpha=-lr)
        if self.nesterov:
            torch._foreach_add_(params, m, alpha=self.momentum)
            torch._foreach_add_(params, grads, alpha=-lr)
        else:
            torch._foreach_add_(params, m)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
