"""Nadam: Adam with Nesterov momentum."""

import torch

from strided.optimizers.base import Optimizer, with_base_keyword_args


@with_base_keyword_args
class Nadam(Optimizer):
    """Nesterov Adam with Keras's momentum schedule ``u_t = b1 (1 - 0.5 * 0.96^t)``.

    ``m_hat = u_{t+1} m / (1 - prod_{i<=t+1} u_i) + (1 - u_t) g / (1 - prod_{i<=t} u_i)``;
    ``v_hat = v / (1 - b2^t)``; ``w -= lr m_hat / (sqrt(v_hat) + eps)``.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        beta_1, beta_2: the decay rates of the first and second moments, in [0, 1) (0.9, 0.999).
        epsilon: added to the root of the second moment (default 1e-7).
        {{base_optimizer_keyword_args}}
    """

    _config_keys = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        self._set_hyperparameters(beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
        self._slot_groups = (("momentum", "velocity"),)
        self._u_product = 1.0
        super().__init__(learning_rate, **kwargs)

    def _extra_variables(self):
        return [("u_product", torch.tensor(self._u_product, dtype=torch.float32))] if self.built else []

    def _set_extra(self, name, value):
        if name == "u_product":
            self._u_product = float(value)

    def _update(self, params, grads, slots, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        u_t = b1 * (1.0 - 0.5 * 0.96**step)
        u_t_1 = b1 * (1.0 - 0.5 * 0.96 ** (step + 1))
        self._u_product *= u_t
        u_prod_t = self._u_product
        u_prod_t_1 = u_prod_t * u_t_1
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_mul_(v, b2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - b2)
        m_hat = torch._foreach_mul(m, u_t_1 / (1 - u_prod_t_1))
        torch._foreach_add_(m_hat, grads, alpha=(1 - u_t) / (1 - u_prod_t))
        denom = torch._foreach_mul(v, 1.0 / (1 - b2**step))
        torch._foreach_sqrt_(denom)
        torch._foreach_add_(denom, self.epsilon)
        torch._foreach_addcdiv_(params, m_hat, denom, value=-lr)
