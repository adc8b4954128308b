"""F-scores, intersection-over-union and R2 metrics (``keras.metrics.F1Score``, ``FBetaScore``, ``IoU``,
``MeanIoU``, ``OneHotIoU``, ``OneHotMeanIoU``, ``R2Score``), with Keras's formulas and state variables."""
import warnings

import torch

from strided import config
from strided.metrics import Metric, _tensor

_EPSILON = 1e-7  # Keras's backend.epsilon()


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

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                             f"'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float. Received: beta={beta} of "
                             f"type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(f"Invalid `threshold` argument value. It should be a Python float. Received: "
                                 f"threshold={threshold} of type '{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(f"Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                                 f"Received: threshold={threshold}")
        self.average, self.beta, self.threshold = average, beta, threshold
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError("FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received input "
                             f"shapes: y_pred.shape={tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}.")
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
        weight = None if sample_weight is None else \
            _tensor(sample_weight, dtype=self._torch_dtype, device=y_pred.device).reshape(-1, 1)
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
        score = precision * recall / (self.beta ** 2 * precision + recall + _EPSILON) * (1 + self.beta ** 2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (self.intermediate_weights.sum() + _EPSILON)
            return (score * weights).sum()
        if self.average is not None:
            return score.mean()
        return score

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "average": self.average, "threshold": self.threshold}


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


class IoU(Metric):
    """Intersection over union, ``TP / (TP + FP + FN)``, averaged over ``target_class_ids``.

    Predictions are accumulated in a ``num_classes x num_classes`` confusion matrix (rows: true class,
    columns: predicted class); classes absent from both labels and predictions are left out of the mean.

    Args:
        num_classes: number of classes.
        target_class_ids: the classes whose IoU is averaged (one id: that class's IoU).
        ignore_class: a label value to leave out (e.g. the "void" class of a segmentation).
        sparse_y_true, sparse_y_pred: False when labels / predictions are one-hot or scores along ``axis``.
        axis: the class axis of non-sparse inputs.
        name, dtype.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int32")
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is [0, {num_classes}).")
        self.num_classes, self.target_class_ids = int(num_classes), list(target_class_ids)
        self.ignore_class, self.sparse_y_true, self.sparse_y_pred, self.axis = (ignore_class, sparse_y_true,
                                                                                sparse_y_pred, axis)
        self.total_cm = self.add_variable((self.num_classes, self.num_classes), name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _tensor(y_pred)
        y_true = _tensor(y_true, device=y_pred.device)
        self._follow(y_pred.device)
        if not self.sparse_y_true:
            y_true = y_true.argmax(dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = y_pred.argmax(dim=self.axis)
        y_true, y_pred = y_true.reshape(-1).long(), y_pred.reshape(-1).long()
        if sample_weight is None:
            weight = torch.ones_like(y_true, dtype=self.total_cm.dtype)
        else:
            weight = _tensor(sample_weight, device=y_pred.device)
            if weight.is_floating_point() and not self.total_cm.is_floating_point():
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This may result in an "
                              "incorrect weight due to type casting Consider using integer weights.", stacklevel=2)
            weight = torch.broadcast_to(weight.reshape(-1) if weight.dim() > 1 else weight,
                                        y_true.shape).to(self.total_cm.dtype)
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        cells = torch.where(valid, y_true * n + y_pred, torch.zeros_like(y_true))
        weight = torch.where(valid, weight, torch.zeros_like(weight))
        counts = torch.zeros(n * n, dtype=self.total_cm.dtype, device=cells.device).index_add_(0, cells, weight)
        self.total_cm.add_(counts.reshape(n, n))

    def result(self):
        cm = self.total_cm.to(torch.float32)
        true_positives = torch.diagonal(cm)
        denominator = cm.sum(dim=0) + cm.sum(dim=1) - true_positives
        ids = torch.as_tensor(self.target_class_ids, device=cm.device)
        true_positives, denominator = true_positives[ids], denominator[ids]
        valid = denominator > 1e-9
        iou = torch.where(valid, true_positives / (denominator + _EPSILON), torch.zeros_like(denominator))
        return iou.sum() / (valid.to(torch.float32).sum() + _EPSILON)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class MeanIoU(IoU):
    """Mean intersection over union over all ``num_classes`` classes (the usual segmentation score).

    Args: as :class:`IoU`, without ``target_class_ids``.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """``IoU`` for one-hot labels and per-class scores (argmax along ``axis``)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels and per-class scores (argmax along ``axis``)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class R2Score(Metric):
    """Coefficient of determination, ``1 - sum((y - y_pred)**2) / sum((y - mean(y))**2)`` per output.

    Args:
        class_aggregation: 'uniform_average' (mean over outputs), 'variance_weighted_average', or None
            (one score per output).
        num_regressors: for the adjusted R2 (``1 - (1 - R2)(n - 1)/(n - p - 1)``); 0: plain R2.
        name, dtype.
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(f"Invalid value for argument `class_aggregation`. Expected one of {valid}. "
                             f"Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError(f"Invalid value for argument `num_regressors`. Expected a value >= 0. Received: "
                             f"num_regressors={num_regressors}")
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
                raise ValueError("R2Score expects 2D inputs with shape (batch_size, output_dim). Received input "
                                 f"shapes: y_pred.shape={tuple(y_pred.shape)} and y_true.shape={tuple(y_true.shape)}.")
            for name in ("squared_sum", "sum", "total_mse", "count"):
                setattr(self, name, self.add_variable((y_pred.shape[-1],), name=name))
            self._built = True
        self._follow(y_pred.device)
        weight = torch.ones((), dtype=y_true.dtype, device=y_true.device) if sample_weight is None else \
            _tensor(sample_weight, dtype=self._torch_dtype, device=y_true.device)
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
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. Falling back to "
                              "standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return score

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
