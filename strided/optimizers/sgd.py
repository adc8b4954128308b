"""SGD: gradient descent with momentum and Nesterov momentum."""

import torch

from strided.backend.foreach import scalar
from strided.optimizers.base import Optimizer, _check_range, with_base_keyword_args


@with_base_keyword_args
class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, as Keras writes it.

    ``m = momentum * m - lr * g``; ``w += m`` (or ``w += momentum * m - lr * g`` when ``nesterov``);
    without momentum ``w -= lr * g``.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.01).
        momentum: a float in [0, 1] (default 0.0).
        nesterov: use Nesterov momentum (default False).
        {{base_optimizer_keyword_args}}
    """

    _config_keys = ("momentum", "nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        self.momentum = _check_range(momentum, "momentum")
        self.nesterov = bool(nesterov)
        self._slot_groups = (("momentum",),) if self.momentum != 0 else ()
        super().__init__(learning_rate, **kwargs)

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
