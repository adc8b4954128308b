"""Muon: momentum orthogonalized by Newton-Schulz iterations, with Adam for the other variables.

The Newton-Schulz iteration depends on each variable's shape and runs per variable.
"""

import math
import re

import torch

from strided.optimizers.base import Optimizer, _check_number, _check_range, _variable_path, with_base_keyword_args


@with_base_keyword_args
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
        {{base_optimizer_keyword_args}}

    References: K. Jordan's Muon (github.com/KellerJordan/Muon); Liu et al., 2025, "Muon is Scalable
    for LLM Training".
    """

    _config_keys = (
        "adam_beta_1",
        "adam_beta_2",
        "epsilon",
        "exclude_layers",
        "muon_a",
        "muon_b",
        "muon_c",
        "adam_lr_ratio",
        "momentum",
        "ns_steps",
        "nesterov",
        "exclude_embeddings",
        "adam_weight_decay",
        "rms_rate",
    )

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1=0.9,
        adam_beta_2=0.999,
        adam_weight_decay=0.004,
        epsilon=1e-7,
        weight_decay=0.004,
        exclude_layers=None,
        exclude_embeddings=True,
        muon_a=3.4445,
        muon_b=-4.7750,
        muon_c=2.0315,
        adam_lr_ratio=1,
        momentum=0.95,
        ns_steps=5,
        nesterov=True,
        rms_rate=0.2,
        **kwargs,
    ):
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
        if (
            isinstance(exclude_layers, str)
            or not (exclude_layers is None or isinstance(exclude_layers, (list, tuple)))
            or any(not isinstance(p, str) for p in exclude_layers or [])
        ):
            raise ValueError(
                "Argument `exclude_layers` must be a list of strings (regular expressions). "
                f"Received: exclude_layers={exclude_layers!r}"
            )
        self.adam_beta_1, self.adam_beta_2, self.epsilon = adam_beta_1, adam_beta_2, epsilon
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio, self.momentum, self.ns_steps = adam_lr_ratio, momentum, ns_steps
        self.nesterov, self.exclude_embeddings = nesterov, exclude_embeddings
        self.exclude_layers = list(exclude_layers or [])
        self.adam_weight_decay, self.rms_rate = adam_weight_decay, rms_rate
        self._uses_adamw = []
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)

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
            alpha = lr * self.adam_lr_ratio * math.sqrt(1 - b2**step) / (1 - b1**step)
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
