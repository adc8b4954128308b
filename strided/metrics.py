"""Stateful metrics with the Keras API: ``update_state``, ``result``, ``reset_state``.

State lives in device tensors updated in place; ``update_state`` never syncs with the host (no
``.item()``), so a trainer can update metrics every step and read ``result()`` only at log time.
Values follow Keras (``keras.metrics``): sample weights, threshold semantics (a prediction is
positive when ``> threshold``), AUC's bucketed confusion counts and its interpolation.
"""
import numpy as np
import torch

from strided import config
from strided import losses as losses_module
from strided.losses import squeeze_or_expand_to_same_rank
from strided.utils.registry import Registry, to_snake_case

__all__ = [
    "Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
    "RootMeanSquaredError", "CosineSimilarity", "LogCoshError", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "KLDivergence", "Poisson", "Hinge", "SquaredHinge", "CategoricalHinge",
    "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall", "AUC",
    "get_accuracy_metric", "get", "serialize", "deserialize",
]

NEG_INF = -1e10


def _tensor(x, dtype=None, device=None):
    if isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        arr = np.asarray(x)
        if arr.dtype == np.float64 and dtype is None:
            arr = arr.astype(config.floatx())
        t = torch.as_tensor(arr)
    if device is not None and t.device != device:
        t = t.to(device)
    if dtype is not None and t.dtype != dtype:
        t = t.to(dtype)
    return t


def _divide_no_nan(a, b):
    return torch.where(b == 0, torch.zeros_like(a), a / torch.where(b == 0, torch.ones_like(b), b))


class Metric:
    """Base class of stateful metrics.

    Subclasses create state with :meth:`add_variable` and implement ``update_state`` and ``result``.

    Args:
        name: the metric name (as logged). dtype: the state dtype (floatx).
    """

    _keras_metric = True  # layers and models track metrics assigned as their attributes

    def __init__(self, dtype=None, name=None):
        self.name = name or to_snake_case(self.__class__.__name__)
        self._dtype = dtype
        self._variables = []
        self._variable_names = []

    @property
    def dtype(self):
        d = self._dtype or config.floatx()
        return getattr(d, "name", d) if not isinstance(d, torch.dtype) else str(d).replace("torch.", "")

    @property
    def _torch_dtype(self):
        return config.torch_dtype(self.dtype)

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """Creates a state tensor on the current device and tracks it in ``variables``."""
        t = torch.zeros(tuple(shape), dtype=config.torch_dtype(dtype or self.dtype), device=config.get_device())
        if initializer not in (None, "zeros"):
            t.fill_(float(initializer))
        self._variables.append(t)
        self._variable_names.append(name or f"variable_{len(self._variables)}")
        return t

    add_weight = add_variable

    @property
    def variables(self):
        return list(self._variables)

    def _follow(self, device):
        """Moves the state to ``device`` the first time inputs arrive from another device."""
        if not self._variables or self._variables[0].device == device:
            return
        moved = {id(v): v.to(device) for v in self._variables}
        for attr, value in list(vars(self).items()):
            if isinstance(value, torch.Tensor) and id(value) in moved:
                setattr(self, attr, moved[id(value)])
        self._variables = [moved[id(v)] for v in self._variables]

    def reset_state(self):
        """Resets all state to zero."""
        for v in self._variables:
            v.zero_()

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    # ---------------------------------------------------------------- stateless API (Keras 3)
    def _check_state_list(self, metric_variables):
        if len(metric_variables) != len(self._variables):
            raise ValueError("Argument `metric_variables` must be a list of tensors corresponding 1:1 to "
                             f"{type(self).__name__}().variables. Received list with length "
                             f"{len(metric_variables)}, but expected {len(self._variables)} variables.")

    def _with_state(self, metric_variables, fn):
        """Runs ``fn()`` with the state set to ``metric_variables``; returns (its result, the state after),
        leaving the metric's own state as it was."""
        self._check_state_list(metric_variables)
        saved = [v.clone() for v in self._variables]
        try:
            for v, value in zip(self._variables, metric_variables):
                v.copy_(_tensor(value, dtype=v.dtype, device=v.device))
            out = fn()
            state = [v.clone() for v in self._variables]
        finally:
            for v, value in zip(self._variables, saved):
                v.copy_(value)
        return out, state

    def stateless_update_state(self, metric_variables, *args, **kwargs):
        """``update_state(*args, **kwargs)`` applied to the state ``metric_variables`` (1:1 with ``variables``);
        returns the new state, leaving the metric unchanged."""
        return self._with_state(metric_variables, lambda: self.update_state(*args, **kwargs))[1]

    def stateless_result(self, metric_variables):
        """``result()`` for the state ``metric_variables``, leaving the metric unchanged."""
        return self._with_state(metric_variables, self.result)[0]

    def stateless_reset_state(self):
        """The state ``reset_state()`` would give, as new tensors (the metric is unchanged)."""
        return self._with_state([v.clone() for v in self._variables], self.reset_state)[1]

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}>"


def _reduce_to_samplewise(values, sample_weight, reduce_fn):
    """Keras's ``reduce_to_samplewise_values``: weights broadcast, extra axes reduced by ``reduce_fn``."""
    if sample_weight is not None:
        sw = _tensor(sample_weight, dtype=values.dtype, device=values.device)
        values, sw = squeeze_or_expand_to_same_rank(values, sw)
        wn, vn = sw.dim(), values.dim()
        if vn > wn:
            values = reduce_fn(values, dim=list(range(wn, vn)))
        sw = torch.broadcast_to(sw, values.shape)
        values = values * sw
        if wn > 1:
            sw = reduce_fn(sw, dim=list(range(1, wn)))
        sample_weight = sw
    if values.dim() > 1:
        values = reduce_fn(values, dim=list(range(1, values.dim())))
    return values, sample_weight


class Sum(Metric):
    """Running (weighted) sum of the values given to ``update_state(values, sample_weight=None)``."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")
        self._variable_names[-1] = "total"

    def update_state(self, values, sample_weight=None):
        values = _tensor(values, dtype=self._torch_dtype, device=self.total.device)
        values, _ = _reduce_to_samplewise(values, sample_weight, torch.sum)
        self.total.add_(values.sum())

    def result(self):
        return self.total.clone()


class Mean(Metric):
    """Running (weighted) mean: ``total / count``, count = number of samples or sum of weights."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), name="total")
        self.count = self.add_variable((), name="count")
        self._variable_names[-2:] = ["total", "count"]

    def update_state(self, values, sample_weight=None):
        values = _tensor(values, dtype=self._torch_dtype, device=self.total.device)
        values, sample_weight = _reduce_to_samplewise(values, sample_weight, torch.mean)
        self.total.add_(values.sum())
        if sample_weight is not None:
            self.count.add_(sample_weight.sum())
        else:
            self.count.add_(values.shape[0] if values.dim() >= 1 else 1)

    def result(self):
        return _divide_no_nan(self.total, self.count)


class MeanMetricWrapper(Mean):
    """Mean of a per-sample function ``fn(y_true, y_pred, **kwargs)`` (a loss or an accuracy).

    Args:
        fn: the per-sample function. name: metric name. dtype: state dtype. **kwargs: passed to ``fn``.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None) or "mean_metric_wrapper", dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        dev = y_pred.device if isinstance(y_pred, torch.Tensor) else self.total.device
        if dev != self.total.device:
            self._follow(dev)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        out_mask = getattr(values, "_keras_mask", None)
        mask = out_mask if mask is None else mask
        if mask is not None:
            m = mask.to(self._torch_dtype)
            if sample_weight is not None:
                sw = _tensor(sample_weight, dtype=m.dtype, device=m.device)
                m, sw = squeeze_or_expand_to_same_rank(m, sw)
                sample_weight = sw * m
            else:
                sample_weight = m
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        cfg = super().get_config()
        if type(self) is MeanMetricWrapper:
            cfg["fn"] = losses_module.serialize(self._fn) if hasattr(self._fn, "__name__") else None
        cfg.update(self._fn_kwargs)
        return cfg

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config and not callable(config["fn"]):
            name = config["fn"]
            config["fn"] = _FUNCTIONS.get(name) if isinstance(name, str) else losses_module.deserialize(name)
        return cls(**config)


# ---------------------------------------------------------------------------------------------
# accuracy functions

def _pred_true(y_true, y_pred):
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true, device=y_pred.device)
    return y_true, y_pred


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` exactly."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true.to(y_pred.dtype), y_pred)
    return (y_true == y_pred).to(config.torch_dtype())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold) == y_true``."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == (y_pred > threshold).to(y_true.dtype)).to(config.torch_dtype())


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (one-hot labels)."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    t = y_true.argmax(dim=-1)
    org_shape = t.shape
    reshape = False
    if t.dim() == y_pred.dim():
        t = t.squeeze(-1)
        reshape = True
    matches = (t == y_pred.argmax(dim=-1)).to(config.torch_dtype())
    return matches.reshape(org_shape) if reshape else matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where ``y_true == argmax(y_pred)`` (integer labels, shape (N,) or (N, 1))."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    org_shape = y_true.shape
    reshape = False
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
        reshape = True
    pred = y_pred.argmax(dim=-1)
    matches = (y_true.to(torch.float64) == pred.to(torch.float64)).to(config.torch_dtype())
    if reshape:
        matches = matches.reshape(org_shape)
    if matches.dim() > 1 and matches.shape[-1] == 1:
        matches = matches.squeeze(-1)
    return matches


def _in_top_k(targets, predictions, k):
    # Keras/TF semantics: the target is in the top k if fewer than k classes score strictly higher.
    target_score = predictions.gather(-1, targets.long().unsqueeze(-1))
    higher = (predictions > target_score).sum(dim=-1)
    return higher < k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target class is among the ``k`` highest predictions."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    t = y_true.argmax(dim=-1)
    org_shape = t.shape
    if y_pred.dim() > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    matches = _in_top_k(t.reshape(-1), y_pred, k).to(config.torch_dtype())
    return matches.reshape(org_shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer target class is among the ``k`` highest predictions."""
    y_true, y_pred = _pred_true(y_true, y_pred)
    org_shape = y_true.shape
    if y_pred.dim() > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    t = y_true.reshape(-1)
    if from_sorted_ids:
        matches = (t.unsqueeze(1).to(y_pred.dtype) == y_pred[:, :k]).any(dim=1)
    else:
        matches = _in_top_k(t, y_pred, k)
    return matches.to(config.torch_dtype()).reshape(org_shape)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity (positive; the loss of the same name is its negative)."""
    return -losses_module.cosine_similarity(y_true, y_pred, axis=axis)


def _wrapper(class_name, fn, default_name, doc, extra=()):
    """A MeanMetricWrapper subclass with Keras's constructor ``(name=..., dtype=None, <extra kwargs>)``."""
    extra = tuple(extra)

    def __init__(self, name=default_name, dtype=None, **kwargs):
        unknown = set(kwargs) - {k for k, _ in extra}
        if unknown:
            raise TypeError(f"{class_name}.__init__() got unexpected keyword arguments {sorted(unknown)}")
        fn_kwargs = {k: kwargs.get(k, d) for k, d in extra}
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **fn_kwargs)
        for k, v in fn_kwargs.items():
            setattr(self, k, v)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}

    return type(class_name, (MeanMetricWrapper,), {
        "__init__": __init__, "__doc__": doc, "get_config": get_config, "__module__": __name__,
        "from_config": classmethod(lambda c, cfg: c(**cfg))})


Accuracy = _wrapper("Accuracy", accuracy, "accuracy", "How often predictions equal labels exactly.")
BinaryAccuracy = _wrapper("BinaryAccuracy", binary_accuracy, "binary_accuracy",
                          "How often ``y_pred > threshold`` (0.5) matches the 0/1 labels.", [("threshold", 0.5)])
CategoricalAccuracy = _wrapper("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy",
                               "How often ``argmax(y_pred)`` matches the one-hot labels.")
SparseCategoricalAccuracy = _wrapper("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                     "sparse_categorical_accuracy",
                                     "How often ``argmax(y_pred)`` matches the integer labels.")
TopKCategoricalAccuracy = _wrapper("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                   "top_k_categorical_accuracy", "How often the one-hot target is in the top ``k`` (5).",
                                   [("k", 5)])
SparseTopKCategoricalAccuracy = _wrapper("SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
                                         "sparse_top_k_categorical_accuracy",
                                         "How often the integer target is in the top ``k`` (5).", [("k", 5)])

MeanSquaredError = _wrapper("MeanSquaredError", losses_module.mean_squared_error, "mean_squared_error",
                            "Mean of ``mean((y_true - y_pred)**2, axis=-1)``.")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", losses_module.mean_absolute_error, "mean_absolute_error",
                             "Mean of ``mean(|y_true - y_pred|, axis=-1)``.")
MeanAbsolutePercentageError = _wrapper("MeanAbsolutePercentageError", losses_module.mean_absolute_percentage_error,
                                       "mean_absolute_percentage_error", "Mean absolute percentage error.")
MeanSquaredLogarithmicError = _wrapper("MeanSquaredLogarithmicError", losses_module.mean_squared_logarithmic_error,
                                       "mean_squared_logarithmic_error", "Mean squared logarithmic error.")
CosineSimilarity = _wrapper("CosineSimilarity", cosine_similarity, "cosine_similarity",
                            "Mean cosine similarity along ``axis`` (-1).", [("axis", -1)])
LogCoshError = _wrapper("LogCoshError", losses_module.log_cosh, "logcosh", "Mean log-cosh error.")
KLDivergence = _wrapper("KLDivergence", losses_module.kl_divergence, "kl_divergence", "Mean KL divergence.")
Poisson = _wrapper("Poisson", losses_module.poisson, "poisson", "Mean Poisson loss.")
Hinge = _wrapper("Hinge", losses_module.hinge, "hinge", "Mean hinge loss.")
SquaredHinge = _wrapper("SquaredHinge", losses_module.squared_hinge, "squared_hinge", "Mean squared hinge loss.")
CategoricalHinge = _wrapper("CategoricalHinge", losses_module.categorical_hinge, "categorical_hinge",
                            "Mean categorical hinge loss.")
BinaryCrossentropy = _wrapper("BinaryCrossentropy", losses_module.binary_crossentropy, "binary_crossentropy",
                              "Mean binary crossentropy.", [("from_logits", False), ("label_smoothing", 0.0)])
CategoricalCrossentropy = _wrapper("CategoricalCrossentropy", losses_module.categorical_crossentropy,
                                   "categorical_crossentropy", "Mean categorical crossentropy.",
                                   [("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)])
SparseCategoricalCrossentropy = _wrapper("SparseCategoricalCrossentropy",
                                         losses_module.sparse_categorical_crossentropy,
                                         "sparse_categorical_crossentropy", "Mean sparse categorical crossentropy.",
                                         [("from_logits", False), ("axis", -1)])


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


# ---------------------------------------------------------------------------------------------
# confusion-matrix metrics

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


def _confusion_counts(y_true, y_pred, thresholds, top_k=None, class_id=None, sample_weight=None,
                      multi_label=False, label_weights=None, evenly=False, dtype=torch.float32):
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
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape (num_samples, "
                             f"num_classes), found shape: {tuple(y_pred.shape)}")
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    w = torch.ones_like(y_pred) if sample_weight is None else torch.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None and not multi_label:
        w = w * torch.broadcast_to(_tensor(label_weights, dtype=dtype, device=y_pred.device), y_pred.shape)
    label = (y_true != 0).to(dtype)
    if multi_label:
        pred2, label2, w2 = y_pred.reshape(y_pred.shape[0], -1), label.reshape(label.shape[0], -1), \
            w.reshape(w.shape[0], -1)
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
            0, flat, (true_w * counted).reshape(-1))
        fp_b = torch.zeros(num_t * n_labels, dtype=dtype, device=p.device).index_add_(
            0, flat, (false_w * counted).reshape(-1))
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
        c = _confusion_counts(y_true, y_pred, self.thresholds, sample_weight=sample_weight, evenly=self._evenly,
                              dtype=self._torch_dtype)
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
        self._add_counts(y_true, y_pred, sample_weight, thresholds=self.thresholds, top_k=self.top_k,
                         class_id=self.class_id, evenly=self._evenly)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


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

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        curve_key = str(curve).upper()
        if curve_key not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]. '
                             f"Received: curve={curve!r}")
        method = str(summation_method).lower()
        if method not in ("interpolation", "majoring", "minoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                             f'["interpolation", "majoring", "minoring"]. Received: summation_method={summation_method!r}')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._evenly = _evenly_distributed(np.array([0.0] + thresholds + [1.0]))
        else:
            if not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        eps = config.epsilon()
        self._thresholds = [0.0 - eps] + list(thresholds) + [1.0 + eps]
        self.curve, self.summation_method = curve_key, method
        super().__init__(name=name, dtype=dtype)
        self.multi_label, self.num_labels = multi_label, num_labels
        self.label_weights = None if label_weights is None else torch.as_tensor(
            np.asarray(label_weights), dtype=self._torch_dtype, device=config.get_device())
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
                raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(shape)}. "
                                 f"Full shape received for `y_pred`: {tuple(shape)}")
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
        self._add_counts(y_true, y_pred, sample_weight, thresholds=self._thresholds, evenly=self._evenly,
                         multi_label=self.multi_label,
                         label_weights=None if self.multi_label else self.label_weights)

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
        cfg = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
               "summation_method": self.summation_method, "multi_label": self.multi_label,
               "num_labels": self.num_labels,
               "label_weights": None if self.label_weights is None else self.label_weights.cpu().tolist(),
               "from_logits": self._from_logits}
        if self._init_from_thresholds:
            cfg["thresholds"] = self.thresholds[1:-1]
        return cfg


# ---------------------------------------------------------------------------------------------
# 'accuracy' resolution and registry

def get_accuracy_metric(y_true_shape, y_pred_shape, loss_name=None, name="accuracy"):
    """Picks the accuracy metric for ``metrics=['accuracy']`` (or 'acc') as Keras's compile does.

    Keras 3 rule (``keras/src/trainers/compile_utils.py``): binary if ``y_pred``'s last dimension is 1;
    sparse categorical if ``y_true`` has lower rank than ``y_pred`` or a last dimension of 1 while
    ``y_pred``'s is > 1; categorical otherwise. tf.keras 2 (which the tutorials use) also chose binary
    accuracy for a binary crossentropy loss on multi-output (multi-label) predictions; that is kept.

    Args:
        y_true_shape, y_pred_shape: shapes (tuples) of one batch of labels and predictions.
        loss_name: the loss's name or function name, or None.
        name: the metric name to report ('accuracy' or 'acc').
    """
    y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
    t_last = y_true_shape[-1] if y_true_shape else None
    p_last = y_pred_shape[-1] if y_pred_shape else None
    is_binary = p_last == 1
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (t_last == 1 and p_last is not None and p_last > 1)
    loss_key = str(loss_name or "").lower()
    if is_binary or (not is_sparse and loss_key in ("binary_crossentropy", "bce", "binary_focal_crossentropy")):
        return BinaryAccuracy(name=name)
    if is_sparse:
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


_FUNCTIONS = {f.__name__: f for f in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy, cosine_similarity)}

_REGISTRY = Registry("metric", "keras.metrics")
for _cls in (Metric, Mean, Sum, MeanMetricWrapper, MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError,
             MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, AUC,
             FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives, Hinge, SquaredHinge,
             CategoricalHinge, KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
             SparseCategoricalCrossentropy, Accuracy, BinaryAccuracy, CategoricalAccuracy,
             SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy):
    _REGISTRY.register(_cls)
for _alias, _cls in {"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError,
                     "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
                     "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
                     "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
                     "acc": Accuracy, "rmse": RootMeanSquaredError, "auc": AUC, "logcosh": LogCoshError,
                     "top_k_accuracy": TopKCategoricalAccuracy, "sparse_top_k_accuracy": SparseTopKCategoricalAccuracy,
                     "kld": KLDivergence, "KLD": KLDivergence}.items():
    _REGISTRY.objects[_alias] = _cls


def serialize(metric):
    """Returns the Keras 3 config dict of a metric."""
    return _REGISTRY.serialize(metric)


def deserialize(config, custom_objects=None):
    """Returns a metric from a name or config dict."""
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier, arg_name="metrics"):
    """Retrieves a metric: a name ('mse', 'AUC', 'precision'...) gives a new instance; a config dict, a
    Metric instance or a callable ``fn(y_true, y_pred)`` are accepted. 'accuracy'/'acc' give plain
    :class:`Accuracy`; trainers should resolve them with :func:`get_accuracy_metric` first.
    """
    if isinstance(identifier, Metric):
        return identifier
    return _REGISTRY.get(identifier, arg_name)


# F-scores and IoU metrics live in their own module (they need the Metric base defined above).
from strided.metric_scores import (  # noqa: E402
    F1Score, FBetaScore, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU, R2Score,
)

for _cls in (F1Score, FBetaScore, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU, R2Score):
    _REGISTRY.register(_cls)

# Threshold-choosing metrics and BinaryIoU, correlation metrics (their own modules, on the classes above).
from strided.metric_thresholds import (  # noqa: E402
    BinaryIoU, PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
)
from strided.metric_correlation import (  # noqa: E402
    ConcordanceCorrelation, PearsonCorrelation, concordance_correlation, pearson_correlation,
)

for _cls in (BinaryIoU, PrecisionAtRecall, RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
             ConcordanceCorrelation, PearsonCorrelation):
    _REGISTRY.register(_cls)
_FUNCTIONS.update({f.__name__: f for f in (concordance_correlation, pearson_correlation)})

# keras.metrics also exposes the loss functions (per-sample values), the same objects as keras.losses.
from strided.losses import (  # noqa: E402,F401
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy, categorical_focal_crossentropy,
    categorical_hinge, hinge, huber, kl_divergence, log_cosh, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_error, mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge,
)
