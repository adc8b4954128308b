"""Learning-rate schedules with the Keras API: ``schedule(step) -> 0-d tensor``.

``step`` may be a Python int or a 0-d tensor (on any device); the result is a 0-d float32 tensor on
the same device (CPU for an int). Formulas and defaults follow ``keras.optimizers.schedules``.
"""

import math

import torch

from strided.utils.registry import Configurable, Registry, public_classes

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
]


def _step(step):
    if isinstance(step, torch.Tensor):
        return step.detach().to(torch.float64)
    return torch.tensor(float(step), dtype=torch.float64)


def _out(x):
    return x.to(torch.float32)


def _positive_steps(value, name):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class LearningRateSchedule(Configurable):
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()`` (or list the constructor
    arguments they keep as attributes in ``_config_keys``)."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `__call__(self, step)`."
        )

    def get_config(self):
        if not self._config_keys:
            raise NotImplementedError(
                f"Learning rate schedule '{self.__class__.__name__}' must override "
                "`get_config()` in order to be serializable."
            )
        return self._keys_config()


class _StepRatioDecay(LearningRateSchedule):
    """The arguments and config of ExponentialDecay and InverseTimeDecay, which decay with
    ``step / decay_steps`` (floored when ``staircase``)."""

    _config_keys = ("initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name")

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        self.initial_learning_rate, self.decay_steps, self.decay_rate = initial_learning_rate, decay_steps, decay_rate
        self.staircase, self.name = staircase, name
        _positive_steps(decay_steps, "decay_steps")

    def _ratio(self, step):
        p = _step(step) / self.decay_steps
        return torch.floor(p) if self.staircase else p


class ExponentialDecay(_StepRatioDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (integer division if ``staircase``).

    Args:
        initial_learning_rate: float. decay_steps: positive int. decay_rate: float.
        staircase: decay in discrete intervals. name: 'ExponentialDecay'.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        p = self._ratio(step)
        return _out(
            self.initial_learning_rate
            * torch.pow(torch.as_tensor(float(self.decay_rate), dtype=torch.float64, device=p.device), p)
        )


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` for ``step <= boundaries[0]``, ``values[i]`` for ``boundaries[i-1] < step <= boundaries[i]``,
    ``values[-1]`` after the last boundary.

    Args:
        boundaries: increasing list of steps. values: one more value than boundaries.
    """

    _config_keys = ("boundaries", "values", "name")

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        s = _step(step)
        b = torch.as_tensor(self.boundaries, dtype=torch.float64, device=s.device)
        v = torch.as_tensor(self.values, dtype=torch.float64, device=s.device)
        # index = number of boundaries strictly below the step (step == boundary keeps the earlier value)
        idx = (s > b).sum()
        return _out(v[idx])


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``, step capped at ``decay_steps``
    (or ``decay_steps`` grown to the next multiple when ``cycle``).

    Args:
        initial_learning_rate, decay_steps, end_learning_rate (0.0001), power (1.0), cycle (False).
    """

    _config_keys = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle", "name")

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, cycle, name
        _positive_steps(decay_steps, "decay_steps")

    def __call__(self, step):
        s = _step(step)
        decay_steps = torch.full_like(s, float(self.decay_steps))
        if self.cycle:
            mult = torch.where(s == 0, torch.ones_like(s), torch.ceil(s / self.decay_steps))
            decay_steps = decay_steps * mult
        else:
            s = torch.minimum(s, decay_steps)
        p = s / decay_steps
        lr = (self.initial_learning_rate - self.end_learning_rate) * torch.pow(
            1 - p, self.power
        ) + self.end_learning_rate
        return _out(lr)


class InverseTimeDecay(_StepRatioDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored ratio if ``staircase``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return _out(self.initial_learning_rate / (1.0 + self.decay_rate * self._ratio(step)))


class CosineDecay(LearningRateSchedule):
    """Cosine decay with optional linear warmup (Keras 3).

    Without warmup: ``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)``.
    With ``warmup_target``: linear from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``,
    then the cosine decay from ``warmup_target`` over ``decay_steps``.
    """

    _config_keys = ("initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps")

    def __init__(
        self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None, warmup_steps=0
    ):
        self.initial_learning_rate, self.decay_steps, self.alpha, self.name = (
            initial_learning_rate,
            decay_steps,
            alpha,
            name,
        )
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps
        _positive_steps(decay_steps, "decay_steps")

    def _decay(self, s, from_lr):
        frac = s / self.decay_steps
        cosine = 0.5 * (1.0 + torch.cos(math.pi * frac))
        return from_lr * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        s = _step(step)
        if self.warmup_target is None:
            return _out(self._decay(torch.clamp(s, max=float(self.decay_steps)), self.initial_learning_rate))
        s = torch.clamp(s, max=float(self.decay_steps + self.warmup_steps))
        if self.warmup_steps:
            warm = (self.warmup_target - self.initial_learning_rate) * (
                s / self.warmup_steps
            ) + self.initial_learning_rate
        else:
            warm = torch.zeros_like(s)
        decayed = self._decay(s - self.warmup_steps, self.warmup_target)
        return _out(torch.where(s < self.warmup_steps, warm, decayed))


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by ``t_mul``, peaks scale by ``m_mul``."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        self.initial_learning_rate, self.first_decay_steps = initial_learning_rate, first_decay_steps
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name
        _positive_steps(first_decay_steps, "first_decay_steps")

    def __call__(self, step):
        frac = _step(step) / self.first_decay_steps
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            i_restart = torch.floor(frac)
            frac = frac - i_restart
        else:
            i_restart = torch.floor(torch.log(1.0 - frac * (1.0 - t_mul)) / math.log(t_mul))
            sum_r = (1.0 - torch.pow(torch.full_like(frac, t_mul), i_restart)) / (1.0 - t_mul)
            frac = (frac - sum_r) / torch.pow(torch.full_like(frac, t_mul), i_restart)
        m_fac = torch.pow(torch.full_like(frac, float(self._m_mul)), i_restart)
        cosine = 0.5 * m_fac * (1.0 + torch.cos(math.pi * frac))
        return _out(self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_REGISTRY = Registry(
    "learning rate schedule", "keras.optimizers.schedules", objects=public_classes(globals()), snake=False
)


def serialize(learning_rate_schedule):
    """Returns the Keras 3 config dict of a schedule."""
    return _REGISTRY.serialize(learning_rate_schedule)


def deserialize(config, custom_objects=None):
    """Returns a schedule from its config dict."""
    return _REGISTRY.deserialize(config, custom_objects)
