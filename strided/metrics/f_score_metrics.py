"""F-score metrics (``keras.metrics.FBetaScore``, ``F1Score``), with Keras's formulas and state variables."""

import torch

from strided import config
from strided.metrics.metric import _EPSILON, Metric, _tensor


class FBetaScore(Metric):
    """F-beta score of multi-class or multi-label classification, per class or averaged.

    ``F = (1 + beta**2) * precision * recall / (beta**2 * precision + recall)``, with precision and
    recall accumulated over all batches.

    Args:
        average: None (one score per class), 'micro' (global counts), 'macro' (mean of the per-class
            scores) or 'weighted' (mean weighted by each class's number of true samples).
        beta: the weight of recall (a float > 0).
        threshold: predictions above it count as positive; None: the highest score of each row.
        name, dtype.
    """

    _config_keys = ("beta", "average", "threshold")

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                f"'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                f"Invalid `beta` argument value. It should be a Python float. Received: beta={beta} of "
                f"type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    f"Invalid `threshold` argument value. It should be a Python float. Received: "
                    f"threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    f"Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                    f"Received: threshold={threshold}"
                )
        self.average, self.beta, self.threshold = average, beta, threshold
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received input "
                f"shapes: y_pred.shape={tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}."
            )
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            setattr(self, name, self.add_variable(shape, name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _tensor(y_pred, dtype=self._torch_dtype)
        y_true = _tensor(y_true, dtype=self._torch_dtype, device=y_pred.device)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        self._follow(y_pred.device)
        if self.threshold is None:
            top = y_pred.max(dim=-1, keepdim=True).values
            y_pred = (y_pred >= top) & (y_pred.abs() > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.to(self._torch_dtype)
        weight = (
            None
            if sample_weight is None
            else _tensor(sample_weight, dtype=self._torch_dtype, device=y_pred.device).reshape(-1, 1)
        )
        dims = None if self.average == "micro" else 0

        def weighted_sum(values):
            values = values * weight if weight is not None else values
            return values.sum() if dims is None else values.sum(dim=dims)

        self.true_positives.add_(weighted_sum(y_pred * y_true))
        self.false_positives.add_(weighted_sum(y_pred * (1 - y_true)))
        self.false_negatives.add_(weighted_sum((1 - y_pred) * y_true))
        self.intermediate_weights.add_(weighted_sum(y_true))

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype, device=config.get_device())
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + _EPSILON)
        recall = tp / (tp + self.false_negatives + _EPSILON)
        score = precision * recall / (self.beta**2 * precision + recall + _EPSILON) * (1 + self.beta**2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (self.intermediate_weights.sum() + _EPSILON)
            return (score * weights).sum()
        if self.average is not None:
            return score.mean()
        return score


class F1Score(FBetaScore):
    """F1 score (``FBetaScore`` with ``beta=1``): the harmonic mean of precision and recall.

    Args:
        average: None (per class), 'micro', 'macro' or 'weighted'.
        threshold: predictions above it are positive; None: the highest score of each row.
        name, dtype.
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
