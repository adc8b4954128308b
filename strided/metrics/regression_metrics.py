"""Regression metrics: mean squared/absolute/percentage/logarithmic errors, RMSE, cosine similarity,
log-cosh, and R2."""

import warnings

import torch

from strided import losses
from strided.losses.loss import squeeze_or_expand_to_same_rank
from strided.metrics.metric import Metric, _tensor
from strided.metrics.reduction_metrics import Mean, _wrapper


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity (positive; the loss of the same name is its negative)."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


MeanSquaredError = _wrapper(
    "MeanSquaredError",
    losses.mean_squared_error,
    "mean_squared_error",
    "Mean of ``mean((y_true - y_pred)**2, axis=-1)``.",
)


MeanAbsoluteError = _wrapper(
    "MeanAbsoluteError",
    losses.mean_absolute_error,
    "mean_absolute_error",
    "Mean of ``mean(|y_true - y_pred|, axis=-1)``.",
)


MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError",
    losses.mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    "Mean absolute percentage error.",
)


MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError",
    losses.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "Mean squared logarithmic error.",
)


CosineSimilarity = _wrapper(
    "CosineSimilarity",
    cosine_similarity,
    "cosine_similarity",
    "Mean cosine similarity along ``axis`` (-1).",
    [("axis", -1)],
)


LogCoshError = _wrapper("LogCoshError", losses.log_cosh, "logcosh", "Mean log-cosh error.")


class RootMeanSquaredError(Mean):
    """``sqrt(mean((y_true - y_pred)**2))`` over all entries seen."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _tensor(y_pred, dtype=self._torch_dtype)
        y_true = _tensor(y_true, dtype=self._torch_dtype, device=y_pred.device)
        if y_pred.device != self.total.device:
            self._follow(y_pred.device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update_state((y_pred - y_true).square(), sample_weight=sample_weight)

    def result(self):
        return torch.sqrt(super().result())


class R2Score(Metric):
    """Coefficient of determination, ``1 - sum((y - y_pred)**2) / sum((y - mean(y))**2)`` per output.

    Args:
        class_aggregation: 'uniform_average' (mean over outputs), 'variance_weighted_average', or None
            (one score per output).
        num_regressors: for the adjusted R2 (``1 - (1 - R2)(n - 1)/(n - p - 1)``); 0: plain R2.
        name, dtype.
    """

    _config_keys = ("class_aggregation", "num_regressors")

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(
                f"Invalid value for argument `class_aggregation`. Expected one of {valid}. "
                f"Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                f"Invalid value for argument `num_regressors`. Expected a value >= 0. Received: "
                f"num_regressors={num_regressors}"
            )
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.num_samples = self.add_variable((), name="num_samples")
        self._built = False

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _tensor(y_pred, dtype=self._torch_dtype)
        y_true = _tensor(y_true, dtype=self._torch_dtype, device=y_pred.device)
        if y_true.ndim == 1 and y_pred.ndim == 2 and y_pred.shape[1] == 1:
            y_true = y_true[:, None]
        if y_pred.ndim == 1 and y_true.ndim == 2 and y_true.shape[1] == 1:
            y_pred = y_pred[:, None]
        if not self._built:
            if y_pred.ndim != 2 or y_true.ndim != 2:
                raise ValueError(
                    "R2Score expects 2D inputs with shape (batch_size, output_dim). Received input "
                    f"shapes: y_pred.shape={tuple(y_pred.shape)} and y_true.shape={tuple(y_true.shape)}."
                )
            for name in ("squared_sum", "sum", "total_mse", "count"):
                setattr(self, name, self.add_variable((y_pred.shape[-1],), name=name))
            self._built = True
        self._follow(y_pred.device)
        weight = (
            torch.ones((), dtype=y_true.dtype, device=y_true.device)
            if sample_weight is None
            else _tensor(sample_weight, dtype=self._torch_dtype, device=y_true.device)
        )
        if weight.ndim == 1:
            weight = weight[:, None]
        weight = torch.broadcast_to(weight, y_true.shape)
        weighted = y_true * weight
        self.sum.add_(weighted.sum(dim=0))
        self.squared_sum.add_((y_true * weighted).sum(dim=0))
        self.total_mse.add_(((y_true - y_pred) ** 2 * weight).sum(dim=0))
        self.count.add_(weight.sum(dim=0))
        self.num_samples.add_(y_true.numel())

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype, device=self.num_samples.device)
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw = 1 - self.total_mse / total
        raw = torch.where(torch.isinf(raw), torch.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        if self.num_regressors:
            n, p = float(self.num_samples), float(self.num_regressors)
            if p > n - 1:
                warnings.warn(
                    "More independent predictors than datapoints in adjusted R2 score. Falling back to "
                    "standard R2 score.",
                    stacklevel=2,
                )
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return score
