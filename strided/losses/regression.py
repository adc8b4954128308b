"""Regression losses: squared, absolute, percentage and logarithmic errors, Huber, log-cosh, cosine similarity."""

import math

import torch
import torch.nn.functional as F

from strided import config
from strided.losses.loss import LossFunctionWrapper, _prep, _simple_loss, squeeze_or_expand_to_same_rank


def _regression_prep(y_true, y_pred):
    y_true, y_pred = _prep(y_true, y_pred)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    """``mean((y_true - y_pred)**2, axis=-1)``."""
    y_true, y_pred = _regression_prep(y_true, y_pred)
    return (y_true - y_pred).square().mean(dim=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_true - y_pred|, axis=-1)``."""
    y_true, y_pred = _regression_prep(y_true, y_pred)
    return (y_true - y_pred).abs().mean(dim=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|, axis=-1)``."""
    y_true, y_pred = _regression_prep(y_true, y_pred)
    diff = ((y_true - y_pred) / torch.clamp(y_true.abs(), min=config.epsilon())).abs()
    return 100.0 * diff.mean(dim=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)``."""
    y_true, y_pred = _regression_prep(y_true, y_pred)
    eps = config.epsilon()
    a = torch.log(torch.clamp(y_pred, min=eps) + 1.0)
    b = torch.log(torch.clamp(y_true, min=eps) + 1.0)
    return (a - b).square().mean(dim=-1)


def huber(y_true, y_pred, delta=1.0):
    """Huber loss: ``0.5 e^2`` where ``|e| <= delta``, else ``delta |e| - 0.5 delta^2``; mean over the last axis."""
    y_true, y_pred = _regression_prep(y_true, y_pred)
    err = y_pred - y_true
    abs_err = err.abs()
    return torch.where(abs_err <= delta, 0.5 * err.square(), delta * abs_err - 0.5 * delta * delta).mean(dim=-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably as ``x + softplus(-2x) - log 2``."""
    y_true, y_pred = _regression_prep(y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - math.log(2.0)).mean(dim=-1)


def _l2_normalize(x, axis):
    # Keras: x / sqrt(max(sum(x^2), 1e-12))
    return x * torch.rsqrt(torch.clamp(x.square().sum(dim=axis, keepdim=True), min=1e-12))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity: ``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``."""
    y_true, y_pred = _regression_prep(y_true, y_pred)
    return -(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis)).sum(dim=axis)


MeanSquaredError = _simple_loss(
    "MeanSquaredError",
    mean_squared_error,
    "mean_squared_error",
    "Mean of squared errors, ``mean((y_true - y_pred)**2)``.",
    __name__,
)
MeanAbsoluteError = _simple_loss(
    "MeanAbsoluteError",
    mean_absolute_error,
    "mean_absolute_error",
    "Mean of absolute errors, ``mean(|y_true - y_pred|)``.",
    __name__,
)
MeanAbsolutePercentageError = _simple_loss(
    "MeanAbsolutePercentageError",
    mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    "Mean absolute percentage error.",
    __name__,
)
MeanSquaredLogarithmicError = _simple_loss(
    "MeanSquaredLogarithmicError",
    mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "Mean squared logarithmic error.",
    __name__,
)
LogCosh = _simple_loss("LogCosh", log_cosh, "log_cosh", "Logarithm of the hyperbolic cosine of the error.", __name__)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for ``|error| <= delta`` (1.0), linear beyond.

    Args:
        delta: where the loss changes from quadratic to linear.
        reduction, name, dtype: as in :class:`Loss`.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (-1): -1 means identical directions."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)
