"""Intersection-over-union metrics: ``IoU``, ``MeanIoU``, ``OneHotIoU``, ``OneHotMeanIoU``, ``BinaryIoU``, with
Keras's formulas and state variables."""

import numbers
import warnings

import torch

from strided.metrics.metric import _EPSILON, Metric, _tensor
from strided.utils.general_utils import named_arguments


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

    _config_keys = ("num_classes", "target_class_ids", "ignore_class", "sparse_y_true", "sparse_y_pred", "axis")

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(name=name, dtype=dtype or "int32")
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is [0, {num_classes}).")
        self.num_classes, self.target_class_ids = int(num_classes), list(target_class_ids)
        self.ignore_class, self.sparse_y_true, self.sparse_y_pred, self.axis = (
            ignore_class,
            sparse_y_true,
            sparse_y_pred,
            axis,
        )
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
                warnings.warn(
                    "You are passing weight as `float`, but dtype is `int`. This may result in an "
                    "incorrect weight due to type casting Consider using integer weights.",
                    stacklevel=2,
                )
            weight = torch.broadcast_to(weight.reshape(-1) if weight.dim() > 1 else weight, y_true.shape).to(
                self.total_cm.dtype
            )
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


class MeanIoU(IoU):
    """Mean intersection over union over all ``num_classes`` classes (the usual segmentation score).

    Args: as :class:`IoU`, without ``target_class_ids``.
    """

    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1
    ):
        super().__init__(target_class_ids=list(range(num_classes)), **named_arguments(locals()))

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class _OneHotLabels:
    """The one-hot variants of IoU and MeanIoU: ``sparse_y_true`` is always False and not in their config."""

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotIoU(_OneHotLabels, IoU):
    """``IoU`` for one-hot labels and per-class scores (argmax along ``axis``)."""

    def __init__(
        self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1
    ):
        super().__init__(sparse_y_true=False, **named_arguments(locals()))


class OneHotMeanIoU(_OneHotLabels, MeanIoU):
    """``MeanIoU`` for one-hot labels and per-class scores (argmax along ``axis``)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(sparse_y_true=False, **named_arguments(locals()))


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
            isinstance(c, numbers.Integral) and not isinstance(c, bool) and c in (0, 1) for c in target_class_ids
        ):
            raise ValueError(
                "Argument `target_class_ids` must be a list or tuple of class ids among [0, 1]. "
                f"Received: target_class_ids={target_class_ids!r}"
            )
        if not target_class_ids:
            raise ValueError(
                f"Argument `target_class_ids` must not be empty. Received: target_class_ids={target_class_ids!r}"
            )
        if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
            raise ValueError(f"Argument `threshold` must be a number. Received: threshold={threshold!r}")
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Thresholds ``y_pred`` (in float32, as Keras) and adds the batch to the confusion matrix."""
        y_pred = _tensor(y_pred, dtype=torch.float32)
        super().update_state(y_true, (y_pred >= self.threshold).to(torch.int32), sample_weight=sample_weight)

    def get_config(self):
        return {
            "target_class_ids": self.target_class_ids,
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self.dtype,
        }
