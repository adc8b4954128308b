"""Confusion-matrix metrics: true/false positive/negative counts, precision, recall, AUC, and the metrics that
choose a decision threshold (``SensitivityAtSpecificity``, ``SpecificityAtSensitivity``, ``PrecisionAtRecall``,
``RecallAtPrecision``: the best value of one rate among the thresholds where the other reaches a target).

Values follow Keras: a prediction is positive when ``> threshold``; AUC and the ``*At*`` metrics accumulate
tp/fp/tn/fn at evenly spaced thresholds with Keras's bucketed counting and interpolation.
"""

import numbers

import numpy as np
import torch

from strided import config
from strided.losses.loss import squeeze_or_expand_to_same_rank
from strided.metrics.metric import Metric, _divide_no_nan, _tensor
from strided.utils.docstrings import fill_doc

NEG_INF = -1e10


def _parse_thresholds(thresholds, default):
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    bad = [t for t in values if t is None or t < 0 or t > 1]
    if bad:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
    return [float(t) for t in values]


def _evenly_distributed(thresholds):
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


def _filter_top_k(x, k):
    idx = x.topk(k, dim=-1).indices
    mask = torch.zeros_like(x).scatter_(-1, idx, 1.0)
    return x * mask + NEG_INF * (1 - mask)


def _confusion_counts(
    y_true,
    y_pred,
    thresholds,
    top_k=None,
    class_id=None,
    sample_weight=None,
    multi_label=False,
    label_weights=None,
    evenly=False,
    dtype=torch.float32,
):
    """Weighted tp, fp, tn, fn per threshold (shape (T,) or (T, labels) when ``multi_label``)."""
    y_pred = _tensor(y_pred, dtype=dtype)
    y_true = _tensor(y_true, dtype=dtype, device=y_pred.device)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sw = _tensor(sample_weight, dtype=dtype, device=y_pred.device).unsqueeze(-1)
        _, sw = squeeze_or_expand_to_same_rank(y_true, sw, expand_rank_1=False)
        sample_weight = sw
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.dim() == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape (num_samples, "
                f"num_classes), found shape: {tuple(y_pred.shape)}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    w = torch.ones_like(y_pred) if sample_weight is None else torch.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None and not multi_label:
        w = w * torch.broadcast_to(_tensor(label_weights, dtype=dtype, device=y_pred.device), y_pred.shape)
    label = (y_true != 0).to(dtype)
    if multi_label:
        pred2, label2, w2 = (
            y_pred.reshape(y_pred.shape[0], -1),
            label.reshape(label.shape[0], -1),
            w.reshape(w.shape[0], -1),
        )
    else:
        pred2, label2, w2 = y_pred.reshape(-1, 1), label.reshape(-1, 1), w.reshape(-1, 1)
    num_t = len(thresholds)
    n_labels = pred2.shape[1]
    true_w, false_w = label2 * w2, (1 - label2) * w2
    if evenly:
        # Keras's bucketed path: each prediction lands in bucket ceil(p (T-1)) - 1; reverse cumsum counts
        # predictions above each threshold.
        with_eps = thresholds[0] < 0.0 or thresholds[-1] > 1.0
        p = torch.clamp(pred2, 0.0, 1.0)
        bucket = torch.ceil(p * (num_t - 1)) - 1
        if with_eps:
            bucket = torch.relu(bucket)
        # Without the epsilon thresholds a prediction of exactly 0 (bucket -1) exceeds no threshold: Keras's
        # segment_sum drops it.
        counted = (bucket >= 0).to(dtype)
        bucket = bucket.clamp(min=0).long()
        flat = (bucket * n_labels + torch.arange(n_labels, device=p.device)).reshape(-1)
        tp_b = torch.zeros(num_t * n_labels, dtype=dtype, device=p.device).index_add_(
            0, flat, (true_w * counted).reshape(-1)
        )
        fp_b = torch.zeros(num_t * n_labels, dtype=dtype, device=p.device).index_add_(
            0, flat, (false_w * counted).reshape(-1)
        )
        tp = tp_b.view(num_t, n_labels).flip(0).cumsum(0).flip(0)
        fp = fp_b.view(num_t, n_labels).flip(0).cumsum(0).flip(0)
    else:
        thr = torch.as_tensor(np.asarray(thresholds), dtype=dtype, device=pred2.device).view(-1, 1, 1)
        pos = (pred2.unsqueeze(0) > thr).to(dtype)
        tp = (pos * true_w.unsqueeze(0)).sum(1)
        fp = (pos * false_w.unsqueeze(0)).sum(1)
    fn = true_w.sum(0) - tp
    tn = false_w.sum(0) - fp
    if not multi_label:
        tp, fp, tn, fn = tp[:, 0], fp[:, 0], tn[:, 0], fn[:, 0]
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn}


class _ConfusionMetric(Metric):
    _kinds = ()

    def _add_counts(self, y_true, y_pred, sample_weight, **kw):
        dev = y_pred.device if isinstance(y_pred, torch.Tensor) else self._variables[0].device
        if dev != self._variables[0].device:
            self._follow(dev)
        counts = _confusion_counts(y_true, y_pred, sample_weight=sample_weight, dtype=self._torch_dtype, **kw)
        for kind in self._kinds:
            getattr(self, _ATTR[kind]).add_(counts[kind].to(self._variables[0].device))


_ATTR = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives", "fn": "false_negatives"}


class _SimpleCount(_ConfusionMetric):
    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5)
        self._evenly = _evenly_distributed(self.thresholds)
        self.accumulator = self.add_variable((len(self.thresholds),), name="accumulator")
        self._variable_names[-1] = "accumulator"

    def update_state(self, y_true, y_pred, sample_weight=None):
        dev = y_pred.device if isinstance(y_pred, torch.Tensor) else self.accumulator.device
        if dev != self.accumulator.device:
            self._follow(dev)
        c = _confusion_counts(
            y_true, y_pred, self.thresholds, sample_weight=sample_weight, evenly=self._evenly, dtype=self._torch_dtype
        )
        self.accumulator.add_(c[self._kind])

    def result(self):
        return self.accumulator[0].clone() if len(self.thresholds) == 1 else self.accumulator.clone()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_SimpleCount):
    """Weighted count of true positives (prediction ``> threshold``, label nonzero)."""

    _kind = "tp"


class FalsePositives(_SimpleCount):
    """Weighted count of false positives."""

    _kind = "fp"


class TrueNegatives(_SimpleCount):
    """Weighted count of true negatives."""

    _kind = "tn"


class FalseNegatives(_SimpleCount):
    """Weighted count of false negatives."""

    _kind = "fn"


class _PrecisionRecall(_ConfusionMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = _evenly_distributed(self.thresholds)
        for kind in self._kinds:
            setattr(self, _ATTR[kind], self.add_variable((len(self.thresholds),), name=_ATTR[kind]))
            self._variable_names[-1] = _ATTR[kind]

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._add_counts(
            y_true,
            y_pred,
            sample_weight,
            thresholds=self.thresholds,
            top_k=self.top_k,
            class_id=self.class_id,
            evenly=self._evenly,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecall):
    """``tp / (tp + fp)`` at ``thresholds`` (0.5), optionally over the ``top_k`` predictions or one ``class_id``.

    Args:
        thresholds: a float or list of floats in [0, 1]; the result has one value per threshold.
        top_k: count only the k highest-scoring classes as predicted positive.
        class_id: compute the metric for this class only.
    """

    _kinds = ("tp", "fp")

    def result(self):
        r = _divide_no_nan(self.true_positives, self.true_positives + self.false_positives)
        return r[0] if len(self.thresholds) == 1 else r


class Recall(_PrecisionRecall):
    """``tp / (tp + fn)`` at ``thresholds`` (0.5), optionally over the ``top_k`` predictions or one ``class_id``."""

    _kinds = ("tp", "fn")

    def result(self):
        r = _divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
        return r[0] if len(self.thresholds) == 1 else r


class AUC(_ConfusionMetric):
    """Area under the ROC or PR curve from confusion counts at ``num_thresholds`` (200) thresholds.

    Args:
        num_thresholds: number of thresholds (> 1), evenly spaced in [0, 1] plus -eps and 1+eps.
        curve: 'ROC' (default) or 'PR'.
        summation_method: 'interpolation' (default; PR uses Davis & Goadrich interpolation),
            'minoring' or 'majoring'.
        thresholds: explicit thresholds instead of ``num_thresholds``.
        multi_label: one curve per label, averaged (optionally by ``label_weights``).
        from_logits: apply a sigmoid to ``y_pred`` first.
    """

    _kinds = ("tp", "fp", "tn", "fn")

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        curve_key = str(curve).upper()
        if curve_key not in ("ROC", "PR"):
            raise ValueError(
                f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]. Received: curve={curve!r}'
            )
        method = str(summation_method).lower()
        if method not in ("interpolation", "majoring", "minoring"):
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                f'["interpolation", "majoring", "minoring"]. Received: summation_method={summation_method!r}'
            )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._evenly = _evenly_distributed(np.array([0.0] + thresholds + [1.0]))
        else:
            if not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(
                    f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        eps = config.epsilon()
        self._thresholds = [0.0 - eps] + list(thresholds) + [1.0 + eps]
        self.curve, self.summation_method = curve_key, method
        super().__init__(name=name, dtype=dtype)
        self.multi_label, self.num_labels = multi_label, num_labels
        self.label_weights = (
            None
            if label_weights is None
            else torch.as_tensor(np.asarray(label_weights), dtype=self._torch_dtype, device=config.get_device())
        )
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(shape)}. "
                    f"Full shape received for `y_pred`: {tuple(shape)}"
                )
            self._num_labels = shape[1]
            vshape = (self.num_thresholds, self._num_labels)
        else:
            vshape = (self.num_thresholds,)
        for kind in ("tp", "fp", "tn", "fn"):
            setattr(self, _ATTR[kind], self.add_variable(vshape, name=_ATTR[kind]))
            self._variable_names[-1] = _ATTR[kind]
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _tensor(y_pred)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred)
        self._add_counts(
            y_true,
            y_pred,
            sample_weight,
            thresholds=self._thresholds,
            evenly=self._evenly,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
        )

    def _by_label(self, terms):
        if not self.multi_label:
            return terms.sum()
        by_label = terms.sum(0)
        if self.label_weights is None:
            return by_label.mean()
        lw = self.label_weights.to(by_label.device)
        return _divide_no_nan((by_label * lw).sum(), lw.sum())

    def _interpolate_pr_auc(self):
        n = self.num_thresholds
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = _divide_no_nan(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - prec_slope * p[1:]
        both = (p[: n - 1] > 0) & (p[1:] > 0)
        ratio = torch.where(both, _divide_no_nan(p[: n - 1], torch.clamp(p[1:], min=0)), torch.ones_like(p[1:]))
        inc = _divide_no_nan(prec_slope * (dtp + intercept * torch.log(ratio)), torch.clamp(tp[1:] + fn[1:], min=0))
        return self._by_label(inc)

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype, device=config.get_device())
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        n = self.num_thresholds
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[: n - 1], y[1:])
        else:
            heights = torch.maximum(y[: n - 1], y[1:])
        return self._by_label((x[: n - 1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        cfg = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.cpu().tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            cfg["thresholds"] = self.thresholds[1:-1]
        return cfg


def _check_rate(arg_name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Argument `{arg_name}` must be a number in the range [0, 1]. Received: {arg_name}={value!r}")
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
            raise ValueError(
                f"Argument `num_thresholds` must be an integer > 0. Received: num_thresholds={num_thresholds}"
            )
        if class_id is not None and (
            isinstance(class_id, bool) or not isinstance(class_id, numbers.Integral) or class_id < 0
        ):
            raise ValueError(
                f"Argument `class_id` must be a non-negative integer or None. Received: class_id={class_id!r}"
            )
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
        self._add_counts(
            y_true, y_pred, sample_weight, thresholds=self.thresholds, class_id=self.class_id, evenly=self._evenly
        )

    def _rates(self):
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        return {
            "sensitivity": _divide_no_nan(tp, tp + fn),
            "recall": _divide_no_nan(tp, tp + fn),
            "specificity": _divide_no_nan(tn, tn + fp),
            "precision": _divide_no_nan(tp, tp + fp),
        }

    def _max_under_constraint(self, constrained, dependent):
        # Keras: max(where(constrained >= value, dependent, 0)), 0 when no threshold qualifies.
        feasible = constrained >= self.value
        return torch.where(feasible, dependent, torch.zeros_like(dependent)).amax().clamp(min=0)

    def result(self):
        rates = self._rates()
        return self._max_under_constraint(rates[self._value_arg], rates[self._dependent])

    def get_config(self):
        return {
            **super().get_config(),
            "class_id": self.class_id,
            "num_thresholds": self.num_thresholds,
            self._value_arg: getattr(self, self._value_arg),
        }


_AT_THRESHOLD_DOC = """The best {{dependent}} among the thresholds where the {{constraint}} is at least ``{{arg}}``.

    Args:
        {{arg}}: the target {{arg}}, a number in [0, 1].
        num_thresholds: how many thresholds to try (200), evenly spaced in [0, 1] (1: only 0.5).
        class_id: compute the metric for this class (column of ``y_pred``) only.
        name: the metric name. dtype: the state dtype.

    Example:

    >>> m = keras.metrics.{{cls}}({{target}})
    >>> m.update_state({{data}})
    >>> float(m.result())
    {{result}}
    """
_RATES = {
    "sensitivity": "sensitivity (recall, ``tp / (tp + fn)``)",
    "specificity": "specificity (``tn / (tn + fp)``)",
    "precision": "precision (``tp / (tp + fp)``)",
    "recall": "recall (``tp / (tp + fn)``)",
}


def _at_threshold_doc(cls):
    """Fills ``_AT_THRESHOLD_DOC`` for ``cls`` (its ``_example``: target, update_state arguments, result)."""
    target, data, result = cls._example
    cls.__doc__ = fill_doc(
        _AT_THRESHOLD_DOC,
        dependent=_RATES[cls._dependent],
        constraint=_RATES[cls._value_arg],
        arg=cls._value_arg,
        cls=cls.__name__,
        target=target,
        data=data,
        result=result,
    )
    return cls


@_at_threshold_doc
class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    _value_arg, _dependent = "specificity", "sensitivity"
    _example = ("0.5", "[0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]", "0.5")

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)


@_at_threshold_doc
class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    _value_arg, _dependent = "sensitivity", "specificity"
    _example = ("0.5", "[0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]", "0.6666...")

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)


@_at_threshold_doc
class PrecisionAtRecall(_SensitivitySpecificityBase):
    _value_arg, _dependent = "recall", "precision"
    _example = ("0.5", "[0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]", "0.5")

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)


@_at_threshold_doc
class RecallAtPrecision(_SensitivitySpecificityBase):
    _value_arg, _dependent = "precision", "recall"
    _example = ("0.8", "[0, 0, 1, 1], [0, 0.5, 0.3, 0.9]", "0.5")

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)
