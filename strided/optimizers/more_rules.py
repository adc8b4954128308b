"""More Keras 3 optimizers: Lion, Lamb, Adafactor, Ftrl, Muon and ScheduleFreeAdamW.

Each ``_update`` follows the ``update_step`` of the Keras optimizer of the same name (formulas in
the class docstrings); ``step`` is Keras's ``iterations + 1``. Rules that work elementwise or with
one norm per variable (Lion, Lamb, Ftrl, ScheduleFreeAdamW, Muon's Adam part) use torch
``_foreach`` kernels across all parameters; Adafactor's factored moments and Muon's
Newton-Schulz iteration depend on each variable's shape and run per variable.

Adafactor factors its second moment over the last two axes of the *Keras* shape: a conv kernel
kept in torch layout ``(out, in, kh, kw)`` is read through a ``(kh, kw, in, out)`` view, so the
numbers and the saved state are Keras's.
"""
import math
import re

import numpy as np
import torch

from strided.optimizers.base import Optimizer
from strided.optimizers.rules import _check_range


def _check_number(value, name, minimum=None, strict=False, integer=False):
    """A real number (an int with ``integer``), optionally ``>= minimum`` (``> minimum`` with ``strict``)."""
    kinds = (int, np.integer) if integer else (int, float, np.number)
    ok = not isinstance(value, bool) and isinstance(value, kinds)
    if ok and minimum is not None:
        ok = value > minimum if strict else value >= minimum
    if not ok:
        what = "an integer" if integer else "a float"
        if minimum is not None:
            what += f" {'>' if strict else '>='} {minimum}"
        raise ValueError(f"Invalid value for argument `{name}`. Expected {what}. Received: {name}={value!r}")
    return int(value) if integer else float(value)


def _keras_view(t, param):
    """``t`` (shaped like ``param``) seen in Keras axis order (a view: in-place ops write through)."""
    layout = getattr(param, "_keras_layout", None)
    return t.permute(*layout) if layout else t


def _variable_path(variable):
    """The Keras ``variable.path`` when the variable carries one, else its name."""
    for attr in ("path", "_keras_path", "name", "_keras_name"):
        value = getattr(variable, attr, None)
        if isinstance(value, str) and value:
            return value
    return ""


class Lion(Optimizer):
    """Lion (EvoLved Sign Momentum): the sign of an interpolated momentum is the update.

    ``c = b1 m + (1 - b1) g``; ``w -= lr sign(c)``; ``m = b2 m + (1 - b2) g``.

    The update has unit size per element, so a good learning rate is typically 3-10x smaller than
    AdamW's and the weight decay 3-10x larger.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        beta_1: the rate combining the current gradient and the momentum, in (0, 1] (default 0.9).
        beta_2: the decay rate of the momentum (default 0.99).
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: as in
            :class:`Optimizer`.

    Reference: Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms".
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        if isinstance(beta_1, bool) or not isinstance(beta_1, (int, float, np.number)) or not 0 < beta_1 <= 1:
            raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates "
                             f"to SignSGD. Received: beta_1={beta_1!r}.")
        _check_range(beta_2, "beta_2")
        self.beta_1, self.beta_2 = beta_1, beta_2
        self._slot_groups = (("momentum",),)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)

    def _update(self, params, grads, slots, lr, step):
        m = slots["momentum"]
        c = torch._foreach_mul(m, self.beta_1)
        torch._foreach_add_(c, grads, alpha=1 - self.beta_1)
        torch._foreach_sign_(c)
        torch._foreach_add_(params, torch._foreach_mul(c, lr), alpha=-1)
        torch._foreach_mul_(m, self.beta_2)
        torch._foreach_add_(m, grads, alpha=1 - self.beta_2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


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
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: as in
            :class:`Optimizer`.

    Reference: You et al., 2019, "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes".
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        _check_range(beta_1, "beta_1")
        _check_range(beta_2, "beta_2")
        _check_number(epsilon, "epsilon", minimum=0)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self._slot_groups = (("momentum", "velocity"),)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)

    def _update(self, params, grads, slots, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        m, v = slots["momentum"], slots["velocity"]
        torch._foreach_lerp_(m, grads, 1 - b1)
        torch._foreach_add_(v, torch._foreach_sub(torch._foreach_mul(grads, grads), v), alpha=1 - b2)
        update = torch._foreach_div(m, 1 - b1 ** step)
        denom = torch._foreach_div(v, 1 - b2 ** step)
        torch._foreach_sqrt_(denom)
        torch._foreach_add_(denom, self.epsilon)
        torch._foreach_div_(update, denom)
        w_norms = torch._foreach_norm(params)
        u_norms = torch._foreach_norm(update)
        # the trust ratio stays on the device (no host sync): 1 where a norm is 0
        ratios = [torch.where((wn > 0) & (un > 0), wn / un, torch.ones_like(wn)) for wn, un in zip(w_norms, u_norms)]
        torch._foreach_mul_(update, ratios)
        torch._foreach_add_(params, update, alpha=-lr)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


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
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: as in
            :class:`Optimizer`.

    Reference: Shazeer and Stern, 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost".
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
                 relative_step=True, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        _check_number(beta_2_decay, "beta_2_decay")
        _check_number(epsilon_1, "epsilon_1", minimum=0)
        _check_number(epsilon_2, "epsilon_2", minimum=0)
        _check_number(clip_threshold, "clip_threshold", minimum=0, strict=True)
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)

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
        decay = 1.0 - step ** self.beta_2_decay
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

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}


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
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: as in
            :class:`Optimizer`.

    Reference: McMahan et al., 2013, "Ad Click Prediction: a View from the Trenches".
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, **kwargs):
        checks = (("initial_accumulator_value", initial_accumulator_value, "needs to be positive or zero"),
                  ("learning_rate_power", -learning_rate_power if isinstance(learning_rate_power, (int, float))
                   else learning_rate_power, "needs to be negative or zero"),
                  ("l1_regularization_strength", l1_regularization_strength, "needs to be positive or zero"),
                  ("l2_regularization_strength", l2_regularization_strength, "needs to be positive or zero"),
                  ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength,
                   "needs to be positive or zero"))
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
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)

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

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}


class Muon(Optimizer):
    """Muon: momentum SGD whose update of each matrix is orthogonalized by a Newton-Schulz iteration;
    variables that are not matrices (and excluded ones) take AdamW steps instead.

    Muon step (2-D variables): ``m = momentum m + g``; ``u = g + momentum m`` (``nesterov``) or ``m``;
    ``O = NS5(u)`` (``ns_steps`` quintic Newton-Schulz iterations with coefficients ``muon_a``,
    ``muon_b``, ``muon_c`` on ``u / (||u||_F + 1e-7)``, which approach ``U V^T`` of the SVD of ``u``);
    ``w -= lr O sqrt(max(rows, cols)) rms_rate`` (no ``sqrt(...) rms_rate`` factor when ``rms_rate`` is
    None). AdamW step (variables of rank != 2, names containing 'embedding' when
    ``exclude_embeddings``, names matching a regular expression of ``exclude_layers``): Keras's Adam
    with the learning rate ``lr * adam_lr_ratio``.

    Weight decay: ``w -= w * wd * lr`` before the step, with ``wd = adam_weight_decay`` for the AdamW
    variables and ``weight_decay`` for the others (None skips it).

    The exclusions match the Keras ``variable.path`` (e.g. ``'output_dense/kernel'``) when the variable
    carries one, else its name: strided layer weights have no layer path, so with them exclude the
    output layer by giving its weights a ``path`` attribute or pass them to an AdamW optimizer.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        adam_beta_1: AdamW first-moment decay (default 0.9).
        adam_beta_2: AdamW second-moment decay (default 0.999).
        adam_weight_decay: weight decay of the AdamW variables (default 0.004).
        epsilon: AdamW's epsilon (default 1e-7).
        weight_decay: weight decay of the Muon variables (default 0.004).
        exclude_layers: list of regular expressions; matching variables take AdamW steps.
        exclude_embeddings: variables whose path contains 'embedding' take AdamW steps (default True).
        muon_a, muon_b, muon_c: Newton-Schulz coefficients (3.4445, -4.7750, 2.0315).
        adam_lr_ratio: AdamW learning rate over the Muon learning rate (default 1).
        momentum: Muon momentum, in [0, 1] (default 0.95).
        ns_steps: number of Newton-Schulz iterations (default 5).
        nesterov: Nesterov-style momentum (default True).
        rms_rate: update RMS matching factor of Liu et al., 2025 (default 0.2; None turns it off).
        clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            loss_scale_factor, gradient_accumulation_steps, name: as in :class:`Optimizer`.

    References: K. Jordan's Muon (github.com/KellerJordan/Muon); Liu et al., 2025, "Muon is Scalable
    for LLM Training".
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999, adam_weight_decay=0.004,
                 epsilon=1e-7, weight_decay=0.004, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, exclude_layers=None, exclude_embeddings=True,
                 muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315, adam_lr_ratio=1, momentum=0.95, ns_steps=5,
                 nesterov=True, rms_rate=0.2, **kwargs):
        _check_range(adam_beta_1, "adam_beta_1")
        _check_range(adam_beta_2, "adam_beta_2")
        _check_range(momentum, "momentum")
        _check_number(epsilon, "epsilon", minimum=0)
        _check_number(ns_steps, "ns_steps", minimum=0, integer=True)
        _check_number(adam_lr_ratio, "adam_lr_ratio", minimum=0)
        for arg, value in (("muon_a", muon_a), ("muon_b", muon_b), ("muon_c", muon_c)):
            _check_number(value, arg)
        if adam_weight_decay is not None:
            _check_number(adam_weight_decay, "adam_weight_decay", minimum=0)
        if rms_rate is not None:
            _check_number(rms_rate, "rms_rate", minimum=0)
        if isinstance(exclude_layers, str) or not (exclude_layers is None or isinstance(exclude_layers, (list, tuple))):
            raise ValueError("Argument `exclude_layers` must be a list of strings (regular expressions). "
                             f"Received: exclude_layers={exclude_layers!r}")
        self.adam_beta_1, self.adam_beta_2, self.epsilon = adam_beta_1, adam_beta_2, epsilon
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio, self.momentum, self.ns_steps = adam_lr_ratio, momentum, ns_steps
        self.nesterov, self.exclude_embeddings = nesterov, exclude_embeddings
        self.exclude_layers = list(exclude_layers or [])
        self.adam_weight_decay, self.rms_rate = adam_weight_decay, rms_rate
        self._uses_adamw = []
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)

    def _should_use_adamw(self, variable):
        """True when ``variable`` takes AdamW steps (rank != 2, an embedding, or an excluded layer)."""
        if variable.dim() != 2:
            return True
        path = _variable_path(variable)
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def _build_extra(self):
        # Keras creates, per variable, its momentum and then (AdamW variables only) its velocity.
        self._uses_adamw = [self._should_use_adamw(p) for p in self._params]
        self._slots["momentum"] = [None] * len(self._params)
        self._slots["velocity"] = [None] * len(self._params)
        for i, p in enumerate(self._params):
            names = ("momentum", "velocity") if self._uses_adamw[i] else ("momentum",)
            for n in names:
                self._slots[n][i] = torch.zeros_like(p, memory_format=torch.preserve_format).detach()
                self._slot_order.append((n, i))

    def _apply_weight_decay(self, params, lr):
        groups = {True: [], False: []}
        for p in params:
            if self._use_weight_decay(p):
                groups[self._uses_adamw[self._index[id(p)]]].append(p)
        for adamw, group in groups.items():
            wd = self.adam_weight_decay if adamw else self.weight_decay
            if group and wd is not None:
                torch._foreach_sub_(group, torch._foreach_mul(group, wd * lr))

    def _newton_schulz(self, x):
        """The quintic Newton-Schulz iteration of Keras's ``zeropower_via_newtonschulz5``."""
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = x.transpose(-2, -1)
        x = x / (torch.linalg.matrix_norm(x, keepdim=True) + 1e-7)
        for _ in range(self.ns_steps):
            gram = x @ x.transpose(-2, -1)
            x = a * x + (b * gram + (c * gram) @ gram) @ x
        return x.transpose(-2, -1) if tall else x

    def _update(self, params, grads, slots, lr, step):
        adam, muon = [], []
        for k, p in enumerate(params):
            (adam if self._uses_adamw[self._index[id(p)]] else muon).append(k)
        if adam:
            b1, b2 = self.adam_beta_1, self.adam_beta_2
            alpha = lr * self.adam_lr_ratio * math.sqrt(1 - b2 ** step) / (1 - b1 ** step)
            ps, gs = [params[k] for k in adam], [grads[k] for k in adam]
            m, v = [slots["momentum"][k] for k in adam], [slots["velocity"][k] for k in adam]
            torch._foreach_lerp_(m, gs, 1 - b1)
            torch._foreach_add_(v, torch._foreach_sub(torch._foreach_mul(gs, gs), v), alpha=1 - b2)
            denom = torch._foreach_sqrt(v)
            torch._foreach_add_(denom, self.epsilon)
            torch._foreach_addcdiv_(ps, m, denom, value=-alpha)
        for k in muon:
            p, g, m = params[k], grads[k], slots["momentum"][k]
            m.mul_(self.momentum).add_(g)
            u = g + self.momentum * m if self.nesterov else m
            update = self._newton_schulz(u)
            scale = lr
            if self.rms_rate is not None:
                scale *= math.sqrt(max(p.shape[0], p.shape[1])) * self.rms_rate
            p.sub_(update * scale)

    def get_config(self):
        return {**super().get_config(), "adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2,
                "epsilon": self.epsilon, "exclude_layers": self.exclude_layers, "muon_a": self.muon_a,
                "muon_b": self.muon_b, "muon_c": self.muon_c, "adam_lr_ratio": self.adam_lr_ratio,
                "momentum": self.momentum, "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings, "adam_weight_decay": self.adam_weight_decay,
                "rms_rate": self.rms_rate}


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
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: as in
            :class:`Optimizer`.

    Reference: Defazio et al., 2024, "The Road Less Scheduled".
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if isinstance(beta_1, bool) or not isinstance(beta_1, (int, float, np.number)) or not 0 < beta_1 <= 1:
            raise ValueError("Invalid value for argument `beta_1`. Expected a float in (0, 1]. "
                             f"Received: beta_1={beta_1!r}")
        _check_range(beta_2, "beta_2")
        _check_number(epsilon, "epsilon", minimum=0)
        _check_number(warmup_steps, "warmup_steps", minimum=0, integer=True)
        self.beta_1, self.beta_2, self.epsilon, self.warmup_steps = beta_1, beta_2, epsilon, warmup_steps
        self._slot_groups = (("momentum", "velocity"),)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)

    def _build_extra(self):
        torch._foreach_copy_(self._slots["momentum"], self._params)  # z starts at the weights

    def _update(self, params, grads, slots, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        if self.warmup_steps > 0:
            lr = lr * min(step / self.warmup_steps, 1.0)
        z, v = slots["momentum"], slots["velocity"]
        torch._foreach_add_(v, torch._foreach_sub(torch._foreach_mul(grads, grads), v), alpha=1 - b2)
        denom = torch._foreach_div(v, 1 - b2 ** step)
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

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "warmup_steps": self.warmup_steps}
