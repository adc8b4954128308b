"""Metrics that choose a decision threshold: ``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``,
``PrecisionAtRecall``, ``RecallAtPrecision`` (the best value of one rate among the thresholds where the
other reaches a target), and ``BinaryIoU`` (IoU of thresholded binary predictions), as in Keras 3.

The ``*At*`` metrics accumulate tp/fp/tn/fn at ``num_thresholds`` evenly spaced thresholds with the
same bucketed counting as :class:`strided.metrics.AUC` (a prediction is positive when ``> threshold``).
"""
import numbers

import torch

from strided.metric_scores import IoU
from strided.metrics import _ATTR, _ConfusionMetric, _divide_no_nan, _tensor

__all__ = ["SensitivityAtSpecificity", "SpecificityAtSensitivity", "PrecisionAtRecall", "RecallAtPrecision",
           "BinaryIoU"]


def _check_rate(arg_name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Argument `{arg_name}` must be a number in the range [0, 1]. "
                         f"Received: {arg_name}={value!r}")
    if value < 0 or value > 1:
        raise ValueError(f"Argument `{arg_name}` must be in the range [0, 1]. Received: {arg_name}={value}")


class _SensitivitySpecificityBase(_ConfusionMetric):
    """Confusion counts at ``num_thresholds`` thresholds in [0, 1]; subclasses pick the constrained rate.

    ``num_thresholds=1`` uses the single threshold 0.5; otherwise the thresholds are
    ``[0, 1/(n-1), ..., 1]``, as in Keras.
    """
    _kinds = ("tp", "fp", "tn", "fn")
    _value_arg = None  # the constructor argument holding the target ('specificity', 'recall'...)

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_rate(self._value_arg, value)
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, numbers.Integral) or num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, numbers.Integral)
                                     or class_id < 0):
            raise ValueError("Argument `class_id` must be a non-negative integer or None. "
                             f"Received: class_id={class_id!r}")
        super().__init__(name=name, dtype=dtype)
        self.value = value
        setattr(self, self._value_arg, value)
        self.num_thresholds = int(num_thresholds)
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
            self._evenly = True
        for kind in ("tp", "fp", "tn", "fn"):
            setattr(self, _ATTR[kind], self.add_variable((len(self.thresholds),), name=_ATTR[kind]))
            self._variable_names[-1] = _ATTR[kind]

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's weighted tp, fp, tn and fn at every threshold."""
        self._add_counts(y_true, y_pred, sample_weight, thresholds=self.thresholds, class_id=self.class_id,
                         evenly=self._evenly)

    def _rates(self):
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        return {"sensitivity": _divide_no_nan(tp, tp + fn), "recall": _divide_no_nan(tp, tp + fn),
                "specificity": _divide_no_nan(tn, tn + fp), "precision": _divide_no_nan(tp, tp + fp)}

    def _max_under_constraint(self, constrained, dependent):
        # Keras: max(where(constrained >= value, dependent, 0)), 0 when no threshold qualifies.
        feasible = constrained >= self.value
        return torch.where(feasible, dependent, torch.zeros_like(dependent)).amax().clamp(min=0)

    def result(self):
        rates = self._rates()
        return self._max_under_constraint(rates[self._value_arg], rates[self._dependent])

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id, "num_thresholds": self.num_thresholds,
                self._value_arg: getattr(self, self._value_arg)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """The best sensitivity (recall, ``tp / (tp + fn)``) among the thresholds where the specificity
    (``tn / (tn + fp)``) is at least ``specificity``.

    Args:
        specificity: the target specificity, a number in [0, 1].
        num_thresholds: how many thresholds to try (200), evenly spaced in [0, 1] (1: only 0.5).
        class_id: compute the metric for this class (column of ``y_pred``) only.
        name: the metric name. dtype: the state dtype.

    Example:

    >>> m = keras.metrics.SensitivityAtSpecificity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.5
    """
    _value_arg, _dependent = "specificity", "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """The best specificity (``tn / (tn + fp)``) among the thresholds where the sensitivity
    (``tp / (tp + fn)``) is at least ``sensitivity``.

    Args:
        sensitivity: the target sensitivity, a number in [0, 1].
        num_thresholds: how many thresholds to try (200), evenly spaced in [0, 1] (1: only 0.5).
        class_id: compute the metric for this class only.
        name: the metric name. dtype: the state dtype.

    Example:

    >>> m = keras.metrics.SpecificityAtSensitivity(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.6666...
    """
    _value_arg, _dependent = "sensitivity", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)


class PrecisionAtRecall(_SensitivitySpecificityBase):
    """The best precision (``tp / (tp + fp)``) among the thresholds where the recall
    (``tp / (tp + fn)``) is at least ``recall``.

    Args:
        recall: the target recall, a number in [0, 1].
        num_thresholds: how many thresholds to try (200), evenly spaced in [0, 1] (1: only 0.5).
        class_id: compute the metric for this class only.
        name: the metric name. dtype: the state dtype.

    Example:

    >>> m = keras.metrics.PrecisionAtRecall(0.5)
    >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    >>> float(m.result())
    0.5
    """
    _value_arg, _dependent = "recall", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)


class RecallAtPrecision(_SensitivitySpecificityBase):
    """The best recall (``tp / (tp + fn)``) among the thresholds where the precision
    (``tp / (tp + fp)``) is at least ``precision``.

    Args:
        precision: the target precision, a number in [0, 1].
        num_thresholds: how many thresholds to try (200), evenly spaced in [0, 1] (1: only 0.5).
        class_id: compute the metric for this class only.
        name: the metric name. dtype: the state dtype.

    Example:

    >>> m = keras.metrics.RecallAtPrecision(0.8)
    >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    >>> float(m.result())
    0.5
    """
    _value_arg, _dependent = "precision", "recall"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)


class BinaryIoU(IoU):
    """Intersection over union of binary predictions, for class 0 and/or class 1.

    Predictions ``>= threshold`` count as class 1, the others as class 0; the IoU of each class in
    ``target_class_ids``, ``TP / (TP + FP + FN)`` from the accumulated (weighted) 2x2 confusion matrix,
    is averaged. With the default integer state, weights are cast to integers, as in Keras.

    Args:
        target_class_ids: ``[0]``, ``[1]`` or ``[0, 1]`` (the default, the mean of both IoUs).
        threshold: predictions at or above it are class 1 (0.5; 0 for logits).
        name: the metric name. dtype: the state dtype ('int32' by default; 'float32' for fractional weights).

    Example:

    >>> m = keras.metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    >>> float(m.result())
    0.3333...
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        if isinstance(target_class_ids, (int, float)) or not all(
                isinstance(c, numbers.Integral) and not isinstance(c, bool) and c in (0, 1) for c in target_class_ids):
            raise ValueError("Argument `target_class_ids` must be a list or tuple of class ids among [0, 1]. "
                             f"Received: target_class_ids={target_class_ids!r}")
        if not target_class_ids:
            raise ValueError("Argument `target_class_ids` must not be empty. "
                             f"Received: target_class_ids={target_class_ids!r}")
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            raise ValueError(f"Argument `threshold` must be a number. Received: threshold={threshold!r}")
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Thresholds ``y_pred`` (in float32, as Keras) and adds the batch to the confusion matrix."""
        y_pred = _tensor(y_pred, dtype=torch.float32)
        super().update_state(y_true, (y_pred >= self.threshold).to(torch.int32), sample_weight=sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype}
