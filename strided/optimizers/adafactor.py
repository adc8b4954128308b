"""Adafactor: factored second moments (Shazeer & Stern, 2018).

The factored moments depend on each variable's shape and run per variable. Adafactor factors its
second moment over the last two axes of the *Keras* shape: a conv kernel kept in torch layout
``(out, in, kh, kw)`` is read through a ``(kh, kw, in, out)`` view, so the numbers and the saved state
are Keras's.
"""

import math

import torch

from strided.optimizers.base import Optimizer, _check_number, _keras_view, with_base_keyword_args


@with_base_keyword_args
class Adafactor(Optimizer):
    """Adafactor: Adam-like steps with a factored second moment (row and column means) for matrices.

    With ``t`` the step, ``rho = min(lr, 1 / sqrt(t))``, ``alpha = max(epsilon_2, rms(w)) * rho``,
    ``b = 1 - t^beta_2_decay`` and ``s = g^2 + epsilon_1``: for a variable of rank >= 2,
    ``r = b r + (1 - b) mean(s, -1)``, ``c = b c + (1 - b) mean(s, -2)``,
    ``v = (r / mean(r, -1))[..., None] * c[..., None, :]``; otherwise ``v = b v + (1 - b) s``. Then
    ``u = g / sqrt(v)``, ``u /= max(1, rms(u) / clip_threshold)`` and ``w -= alpha u``. The axes are
    those of the Keras shape of the variable.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        beta_2_decay: the decay rate of ``beta_2`` (default -0.8).
        epsilon_1: small offset keeping the denominator away from 0 (default 1e-30).
        epsilon_2: small offset keeping the step size away from 0 (default 1e-3).
        clip_threshold: threshold on the RMS of the update, part of the algorithm and independent of
            ``clipnorm``/``clipvalue``/``global_clipnorm`` (default 1.0).
        relative_step: with a constant learning rate, use ``min(lr, 1 / sqrt(t))`` (default True).
        {{base_optimizer_keyword_args}}

    Reference: Shazeer and Stern, 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost".
    """

    _config_keys = ("beta_2_decay", "epsilon_1", "epsilon_2", "clip_threshold", "relative_step")

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
        **kwargs,
    ):
        _check_number(beta_2_decay, "beta_2_decay")
        _check_number(epsilon_1, "epsilon_1", minimum=0)
        _check_number(epsilon_2, "epsilon_2", minimum=0)
        _check_number(clip_threshold, "clip_threshold", minimum=0, strict=True)
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step
        super().__init__(learning_rate, **kwargs)

    def _build_extra(self):
        # Keras creates, per variable: r, c (row / column accumulators; unused int scalar placeholders for
        # a variable of rank < 2) and the velocity. Built inside a LossScaleOptimizer, Keras does not
        # track the placeholders, so they are not among its variables (nor in its saved files) there.
        placeholders = not getattr(self, "_untracked_placeholders", False)
        for n in ("r", "c", "velocity"):
            self._slots[n] = [None] * len(self._params)
        for i, p in enumerate(self._params):
            shape = tuple(_keras_view(p, p).shape)
            if len(shape) < 2:
                r = torch.zeros((), dtype=torch.int32, device=p.device)
                c = torch.zeros((), dtype=torch.int32, device=p.device)
            else:
                r = torch.zeros(shape[:-1], dtype=p.dtype, device=p.device)
                c = torch.zeros(shape[:-2] + shape[-1:], dtype=p.dtype, device=p.device)
            v = torch.zeros_like(p, memory_format=torch.preserve_format).detach()
            for n, t in (("r", r), ("c", c), ("velocity", v)):
                self._slots[n][i] = t
                if n == "velocity" or len(shape) >= 2 or placeholders:
                    self._slot_order.append((n, i))

    def _update(self, params, grads, slots, lr, step):
        limit = 1.0 / math.sqrt(step)
        if isinstance(self._lr, float) and self.relative_step:
            lr = min(lr, limit)
        rho = min(lr, limit)
        decay = 1.0 - step**self.beta_2_decay
        for p, g, r, c, v in zip(params, grads, slots["r"], slots["c"], slots["velocity"]):
            w = _keras_view(p, p)
            g = _keras_view(g, p)
            alpha = torch.clamp(w.square().mean().sqrt(), min=self.epsilon_2) * rho
            s = g.square() + self.epsilon_1
            if w.dim() >= 2:
                r.mul_(decay).add_(s.mean(dim=-1), alpha=1 - decay)
                c.mul_(decay).add_(s.mean(dim=-2), alpha=1 - decay)
                vk = _keras_view(v, p)
                vk.copy_((r / r.mean(dim=-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2))
            else:
                v.mul_(decay).add_(s, alpha=1 - decay)
                vk = v
            u = g / vk.sqrt()
            u = u / torch.clamp(u.square().mean().sqrt() / self.clip_threshold, min=1.0)
            w.sub_(alpha * u)
