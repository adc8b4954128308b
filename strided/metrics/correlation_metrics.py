"""Correlation metrics (``keras.metrics.PearsonCorrelation``, ``ConcordanceCorrelation`` and their
functions): one coefficient per sample along ``axis``, averaged over samples and batches like any
:class:`~strided.metrics.MeanMetricWrapper`."""

import torch

from strided import config
from strided.losses.loss import squeeze_or_expand_to_same_rank
from strided.metrics.metric import _tensor
from strided.metrics.reduction_metrics import MeanMetricWrapper
from strided.utils.docstrings import fill_doc

# What both coefficient functions take and return, written once: each docstring ends with ``{{args}}``.
_ARGS_DOC = """Args:
    y_true: the targets, shape ``(batch, d0, .. dN)``.
    y_pred: the predictions, same shape.
    axis: the axis the coefficient is computed along (-1).

Returns:
    The coefficients, the input shape without ``axis``."""


def _coefficient_doc(function):
    function.__doc__ = fill_doc(function.__doc__, args=_ARGS_DOC)
    return function


def _prepare(y_true, y_pred, axis):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"Argument `axis` must be an integer. Received: axis={axis!r}")
    y_pred = y_pred if isinstance(y_pred, torch.Tensor) else _tensor(y_pred)
    if not y_pred.is_floating_point():
        y_pred = y_pred.to(config.torch_dtype())
    y_true = y_true if isinstance(y_true, torch.Tensor) else _tensor(y_true)
    y_true = y_true.to(device=y_pred.device, dtype=y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


@_coefficient_doc
def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``.

    ``mean(z(y_true) * z(y_pred))`` with ``z(x) = (x - mean(x)) / std(x)`` (population standard
    deviation), computed per sample; gradients flow to ``y_pred``.

    {{args}}
    """
    y_true, y_pred = _prepare(y_true, y_pred, axis)
    t = y_true - y_true.mean(dim=axis, keepdim=True)
    p = y_pred - y_pred.mean(dim=axis, keepdim=True)
    t = t / t.std(dim=axis, correction=0, keepdim=True)
    p = p / p.std(dim=axis, correction=0, keepdim=True)
    return (t * p).mean(dim=axis)


@_coefficient_doc
def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``.

    ``mean(2 (y_true - mean(y_pred)) (y_pred - mean(y_pred)) / (var(y_true) + var(y_pred) +
    (mean(y_true) - mean(y_pred))**2 + eps))``, term for term Keras 3's formula (population variances,
    ``eps = 1e-7``), computed per sample.

    {{args}}
    """
    y_true, y_pred = _prepare(y_true, y_pred, axis)
    true_mean = y_true.mean(dim=axis, keepdim=True)
    pred_mean = y_pred.mean(dim=axis, keepdim=True)
    true_var = (y_true - true_mean).var(dim=axis, correction=0, keepdim=True)
    pred_var = (y_pred - pred_mean).var(dim=axis, correction=0, keepdim=True)
    # Keras centres y_true on the mean of y_pred here; kept so the numbers agree.
    covar = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + (true_mean - pred_mean).square()
    return (2 * covar / (norm + config.epsilon())).mean(dim=axis)


class _CorrelationMetric(MeanMetricWrapper):
    _function = None  # the per-sample coefficient, set by each subclass

    def __init__(self, name, dtype, axis):
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Argument `axis` must be an integer. Received: axis={axis!r}")
        super().__init__(type(self)._function, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class PearsonCorrelation(_CorrelationMetric):
    """Mean Pearson correlation coefficient (see :func:`pearson_correlation`) over all samples seen.

    Args:
        name: the metric name ('pearson_correlation'). dtype: the state dtype.
        axis: the axis each correlation is computed along (-1).

    Example:

    >>> m = keras.metrics.PearsonCorrelation()
    >>> m.update_state([[1., 2., 3.]], [[1., 2.5, 3.]])
    >>> round(float(m.result()), 4)
    0.9934
    """

    _function = staticmethod(pearson_correlation)

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(name, dtype, axis)


class ConcordanceCorrelation(_CorrelationMetric):
    """Mean concordance correlation coefficient (see :func:`concordance_correlation`) over all samples seen.

    Args:
        name: the metric name ('concordance_correlation'). dtype: the state dtype.
        axis: the axis each coefficient is computed along (-1).
    """

    _function = staticmethod(concordance_correlation)

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(name, dtype, axis)
