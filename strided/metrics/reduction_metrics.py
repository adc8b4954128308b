"""Reduction metrics: running sums and means, and the mean of a per-sample function (MeanMetricWrapper)."""

import inspect

import torch

from strided import losses
from strided.losses.loss import squeeze_or_expand_to_same_rank, weight_by_mask
from strided.metrics.metric import Metric, _divide_no_nan, _tensor

# Keras names -> metric functions (accuracy, correlation...), for MeanMetricWrapper configs; filled by
# strided/metrics/__init__.py.
_FUNCTIONS = {}


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
        # Only y_pred's mask weighs the values, as in Keras: a mask the function puts on its result
        # (sparse_categorical_crossentropy's ignore_class) counts the ignored entries as zeros.
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            sample_weight = weight_by_mask(mask.to(self._torch_dtype), sample_weight)
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        cfg = super().get_config()
        if type(self) is MeanMetricWrapper:
            cfg["fn"] = losses.serialize(self._fn) if hasattr(self._fn, "__name__") else None
        cfg.update(self._fn_kwargs)
        return cfg

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config and not callable(config["fn"]):
            name = config["fn"]
            config["fn"] = _FUNCTIONS.get(name) if isinstance(name, str) else losses.deserialize(name)
        return cls(**config)


def _wrapper(class_name, fn, default_name, doc, extra=(), leading=(), config_when_set=()):
    """A MeanMetricWrapper subclass with Keras's constructor ``(<leading>, name=..., dtype=None, <extra>)``.

    ``leading`` and ``extra`` are ``(argument, default)`` pairs passed on to ``fn``; every argument is
    positional-or-keyword in Keras's order (``TopKCategoricalAccuracy(3)`` is ``k=3``), and the class's
    ``inspect.signature`` shows them. ``config_when_set`` names arguments the config holds only when
    they differ from their default (as Keras writes ``from_sorted_ids``).
    """
    leading, extra = tuple(leading), tuple(extra)
    fn_defaults = leading + extra
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    signature = inspect.Signature(
        [inspect.Parameter("self", positional)]
        + [
            inspect.Parameter(k, positional, default=d)
            for k, d in leading + (("name", default_name), ("dtype", None)) + extra
        ]
    )

    def __init__(self, *args, **kwargs):
        try:
            arguments = signature.bind(self, *args, **kwargs).arguments
        except TypeError as e:
            raise TypeError(f"{class_name}.__init__() {e}") from None
        fn_kwargs = {k: arguments.get(k, d) for k, d in fn_defaults}
        MeanMetricWrapper.__init__(
            self, fn, name=arguments.get("name", default_name), dtype=arguments.get("dtype"), **fn_kwargs
        )
        for k, v in fn_kwargs.items():
            setattr(self, k, v)

    __init__.__signature__ = signature

    def get_config(self):
        defaults = dict(fn_defaults)
        fn_config = {k: v for k, v in self._fn_kwargs.items() if k not in config_when_set or v != defaults[k]}
        return {"name": self.name, "dtype": self.dtype, **fn_config}

    # __module__ is the public package, where pickle finds the class.
    return type(
        class_name,
        (MeanMetricWrapper,),
        {
            "__init__": __init__,
            "__doc__": doc,
            "get_config": get_config,
            "__module__": "strided.metrics",
            "from_config": classmethod(lambda c, cfg: c(**cfg)),
        },
    )
