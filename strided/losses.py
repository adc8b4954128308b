"""Losses with the Keras API and Keras semantics, computed with torch.

Functions (``categorical_crossentropy(y_true, y_pred, ...)``) return one loss per sample (the batch
shape); classes (``CategoricalCrossentropy(...)``) reduce them to a scalar, applying sample weights
as Keras does. Probability semantics follow Keras, not torch: with ``from_logits=False`` the
crossentropies clip predictions to ``[epsilon, 1 - epsilon]`` (and categorical crossentropy first
renormalises ``y_pred`` by its sum); with ``from_logits=True`` they use ``log_softmax`` /
BCE-with-logits.

Cheap shape checks run on every call; value checks (label range, one-hot-ness) need a device sync,
so they live in :func:`check_labels`, which the trainer calls once on the first batch.
"""
import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from strided import config
from strided.utils.registry import Registry

__all__ = [
    "Loss", "LossFunctionWrapper", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "MeanSquaredError",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Huber", "LogCosh",
    "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson", "CosineSimilarity",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_focal_crossentropy", "mean_squared_error",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "huber",
    "log_cosh", "hinge", "squared_hinge", "categorical_hinge", "kl_divergence", "poisson",
    "cosine_similarity", "Dice", "Tversky", "dice", "tversky", "check_labels", "get", "serialize", "deserialize",
]

_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


# ---------------------------------------------------------------------------------------------
# tensor helpers

def _as_tensor(x, dtype=None, device=None):
    if isinstance(x, torch.Tensor):
        t = x
    else:
        arr = np.asarray(x)
        if arr.dtype == np.float64 and dtype is None:
            arr = arr.astype(config.floatx())  # NumPy float64 inputs compute in floatx, as in Keras
        t = torch.as_tensor(arr)
    if device is not None and t.device != device:
        t = t.to(device)
    if dtype is not None and t.dtype != dtype:
        t = t.to(dtype)
    return t


def _prep(y_true, y_pred):
    """y_pred as a float tensor (half precision promoted to float32), y_true cast to match."""
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point() or y_pred.dtype in (torch.float16, torch.bfloat16):
        y_pred = y_pred.to(config.torch_dtype() if config.floatx() in ("float32", "float64") else torch.float32)
    y_true = _as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    return y_true, y_pred


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeezes or expands the last axis when the ranks differ by exactly one (Keras's rule)."""
    r1, r2 = x1.dim(), x2.dim()
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def _same_shape(name, y_true, y_pred, hint=""):
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"In loss `{name}`, arguments `y_true` and `y_pred` must have the same shape. "
                         f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}.{hint}")


def _softmax_logits(y_pred, from_logits, axis):
    """The logits behind a softmax output, when the model's softmax attached them.

    tf.keras computes crossentropy on a softmax output from the softmax's own input (its logits),
    which is exact where clipping probabilities to [eps, 1 - eps] is not, and takes fewer kernels.
    """
    logits = getattr(y_pred, "_keras_logits", None)
    if from_logits or logits is None or not isinstance(y_pred, torch.Tensor):
        return y_pred, from_logits
    if axis not in (-1, y_pred.dim() - 1) or logits.shape != y_pred.shape:
        return y_pred, from_logits
    return logits, True


def _clip_probs(p):
    eps = config.epsilon()
    return torch.clamp(p, eps, 1.0 - eps)


# ---------------------------------------------------------------------------------------------
# per-sample loss functions

def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Categorical crossentropy between one-hot (or soft) labels and predictions.

    Args:
        y_true: one-hot labels, shape ``(batch, ..., classes)``.
        y_pred: probabilities (``from_logits=False``, renormalised and clipped as Keras does) or logits.
        from_logits: whether ``y_pred`` are logits.
        label_smoothing: in [0, 1]; labels become ``y * (1 - s) + s / classes``.
        axis: the class axis.

    Returns:
        Per-sample losses, shape ``y_pred.shape`` without ``axis``.
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")
    y_pred, from_logits = _softmax_logits(y_pred, from_logits, axis)
    y_true, y_pred = _prep(y_true, y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        hint = ""
        if y_true.dim() == y_pred.dim() - 1 or (y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1):
            hint = (" The labels look like integer class indices: use `sparse_categorical_crossentropy` "
                    "(loss='sparse_categorical_crossentropy'), or one-hot encode them with "
                    "`keras.utils.to_categorical(y, num_classes)`.")
        _same_shape("categorical_crossentropy", y_true, y_pred, hint)
    if y_pred.dim() < 1:
        raise ValueError("Arguments `y_true` and `y_pred` must be at least rank 1. "
                         f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}")
    if y_pred.shape[-1] == 1:
        warnings.warn("In loss categorical_crossentropy, expected y_pred.shape to be (batch_size, num_classes) "
                      f"with num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. "
                      "Consider using 'binary_crossentropy' if you only have 2 classes.", SyntaxWarning,
                      stacklevel=2)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        log_prob = F.log_softmax(y_pred, dim=axis)
    else:
        log_prob = torch.log(_clip_probs(y_pred / y_pred.sum(dim=axis, keepdim=True)))
    return -(y_true * log_prob).sum(dim=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy between integer class labels and predictions.

    Args:
        y_true: integer (or integral float) class indices, shape ``(batch, ...)`` or ``(batch, ..., 1)``.
        y_pred: probabilities or logits, shape ``(batch, ..., classes)``.
        from_logits: whether ``y_pred`` are logits.
        ignore_class: a label value whose samples get zero loss and are left out of the mean.
        axis: the class axis.

    Returns:
        Per-sample losses, shape ``y_true`` without the trailing 1.
    """
    y_pred = _as_tensor(y_pred)
    y_pred, from_logits = _softmax_logits(y_pred, from_logits, axis)
    if not y_pred.is_floating_point() or y_pred.dtype in (torch.float16, torch.bfloat16):
        y_pred = y_pred.float()
    y_true = _as_tensor(y_true, device=y_pred.device)
    if y_pred.dim() < 1:
        raise ValueError(f"Argument `y_pred` must be at least rank 1. Received: y_pred.shape={tuple(y_pred.shape)}")
    if y_true.dim() == y_pred.dim() and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    expected = list(y_pred.shape)
    del expected[axis]
    if list(y_true.shape) != expected:
        hint = ""
        if tuple(y_true.shape) == tuple(y_pred.shape):
            hint = (" The labels look one-hot encoded: use `categorical_crossentropy` "
                    "(loss='categorical_crossentropy') for one-hot labels, or pass integer class indices "
                    "(e.g. `np.argmax(y, axis=-1)`) to sparse_categorical_crossentropy.")
        raise ValueError("In loss `sparse_categorical_crossentropy`, `y_true` must be integer class indices of "
                         f"shape {tuple(expected)} or {tuple(expected) + (1,)} for y_pred.shape="
                         f"{tuple(y_pred.shape)}. Received: y_true.shape={tuple(y_true.shape)}.{hint}")
    valid = None
    if ignore_class is not None:
        valid = y_true != ignore_class
        y_true = torch.where(valid, y_true, torch.zeros_like(y_true))
        y_pred = torch.where(valid.unsqueeze(axis), y_pred, torch.zeros_like(y_pred))
    target = y_true.long()
    class_axis = axis % y_pred.dim()
    if y_pred.dim() == 1:
        out, tgt = y_pred.unsqueeze(0), target.unsqueeze(0)
    else:
        out = y_pred.movedim(class_axis, 1) if class_axis != 1 else y_pred
        tgt = target
    if from_logits:
        res = F.cross_entropy(out, tgt, reduction="none")
    else:
        log_prob = torch.log(_clip_probs(out / out.sum(dim=1, keepdim=True)))
        res = F.nll_loss(log_prob, tgt, reduction="none")
    if y_pred.dim() == 1:
        res = res.squeeze(0)
    if valid is not None:
        res = torch.where(valid, res, torch.zeros_like(res))
        res._keras_mask = valid  # reductions average over the valid entries only, as in Keras
    return res


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy, averaged over ``axis``.

    Args:
        y_true: 0/1 labels, same shape as ``y_pred``.
        y_pred: probabilities (clipped to [eps, 1 - eps]) or logits.
        from_logits: whether ``y_pred`` are logits.
        label_smoothing: labels become ``y * (1 - s) + 0.5 s``.
        axis: the axis averaged over.
    """
    y_true, y_pred = _prep(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _same_shape("binary_crossentropy", y_true, y_pred,
                " For integer class labels with several classes use `sparse_categorical_crossentropy`."
                if y_pred.shape[-1:] != (1,) and y_true.shape[-1:] == (1,) else "")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = _clip_probs(y_pred)
        bce = -(y_true * torch.log(p) + (1.0 - y_true) * torch.log(1.0 - p))
    return bce.mean(dim=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary focal crossentropy: ``(1 - p_t)^gamma * bce``, optionally class-balanced by ``alpha``."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    _same_shape("binary_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    p = _clip_probs(y_pred)
    bce = -(y_true * torch.log(p) + (1.0 - y_true) * torch.log(1.0 - p))
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return focal.mean(dim=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Categorical focal crossentropy: ``sum(alpha (1 - p)^gamma * -y log p)`` over classes."""
    y_true, y_pred = _prep(y_true, y_pred)
    _same_shape("categorical_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    out = _clip_probs(y_pred / y_pred.sum(dim=axis, keepdim=True))
    cce = -y_true * torch.log(out)
    return (alpha * torch.pow(1.0 - out, gamma) * cce).sum(dim=axis)


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


def _hinge_labels(y_true):
    # Keras maps {0, 1} labels to {-1, 1}; labels already in {-1, 1} are kept.
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)`` with 0/1 labels mapped to -1/1."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return torch.clamp(1.0 - y_true * y_pred, min=0.0).mean(dim=-1)


def squared_hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0)**2, axis=-1)`` with 0/1 labels mapped to -1/1."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return torch.clamp(1.0 - y_true * y_pred, min=0.0).square().mean(dim=-1)


def categorical_hinge(y_true, y_pred):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    pos = (y_true * y_pred).sum(dim=-1)
    neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to [eps, 1]."""
    y_true, y_pred = _prep(y_true, y_pred)
    eps = config.epsilon()
    y_true = torch.clamp(y_true, eps, 1.0)
    y_pred = torch.clamp(y_pred, eps, 1.0)
    return (y_true * torch.log(y_true / y_pred)).sum(dim=-1)


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    return (y_pred - y_true * torch.log(y_pred + config.epsilon())).mean(dim=-1)


def _l2_normalize(x, axis):
    # Keras: x / sqrt(max(sum(x^2), 1e-12))
    return x * torch.rsqrt(torch.clamp(x.square().sum(dim=axis, keepdim=True), min=1e-12))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity: ``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``."""
    y_true, y_pred = _regression_prep(y_true, y_pred)
    return -(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis)).sum(dim=axis)


# ---------------------------------------------------------------------------------------------
# reductions

def _standardize_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of {list(_REDUCTIONS)}. "
                         f"Received: reduction={reduction!r}")
    return reduction


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """Applies ``sample_weight`` (and a mask) to per-sample losses and reduces them as Keras does.

    'sum_over_batch_size' and 'mean' divide the weighted sum by the number of loss entries (not by the
    sum of the weights); 'mean_with_sample_weight' divides by the sum of the weights; 'sum' sums;
    None / 'none' returns the weighted per-sample values.
    """
    reduction = _standardize_reduction(reduction)
    if mask is not None:
        mask_f = mask.to(values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            # Entries left are scaled so that sum / count is a mean over the valid ones.
            mask_f = mask_f * (mask_f.numel() / torch.clamp(mask_f.sum(), min=1.0)) * (mask_f.sum() > 0)
        if sample_weight is not None:
            sw = _as_tensor(sample_weight, dtype=values.dtype, device=values.device)
            mask_f, sw = squeeze_or_expand_to_same_rank(mask_f, sw)
            sample_weight = sw * mask_f
        else:
            sample_weight = mask_f
    if sample_weight is not None:
        sw = _as_tensor(sample_weight, dtype=values.dtype, device=values.device)
        values, sw = squeeze_or_expand_to_same_rank(values, sw)
        values = values * sw
        sample_weight = sw
    if reduction in (None, "none") or values.dim() == 0 or tuple(values.shape) == (0,):
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = sample_weight.sum()
        return torch.where(divisor != 0, total / torch.where(divisor != 0, divisor, torch.ones_like(divisor)),
                           torch.zeros_like(total))
    n = values.numel()
    return total / n if n else torch.zeros_like(total)


# ---------------------------------------------------------------------------------------------
# classes

class Loss:
    """Loss base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample losses.

    Args:
        name: the loss name (shown in logs).
        reduction: 'sum_over_batch_size' (default), 'sum', 'mean', 'mean_with_sample_weight', None or 'none'.
        dtype: the computation dtype (floatx by default).
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _snake(self.__class__.__name__)
        self.reduction = _standardize_reduction(reduction)
        self._dtype = dtype

    @property
    def dtype(self):
        return self._dtype or config.floatx()

    @property
    def fn(self):
        """The per-sample function with this loss's configuration bound: ``fn(y_true, y_pred)``."""
        return self.call

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = getattr(y_pred, "_keras_mask", None)
        y_pred = _as_tensor(y_pred)
        if self._dtype is not None:
            y_pred = y_pred.to(config.torch_dtype(self._dtype))
        losses = self.call(y_true, y_pred)
        out_mask = getattr(losses, "_keras_mask", None)
        mask = in_mask if out_mask is None else (out_mask if in_mask is None else in_mask & out_mask)
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}>"


def _snake(name):
    from strided.utils.registry import to_snake_case
    return to_snake_case(name)


class LossFunctionWrapper(Loss):
    """Wraps a per-sample loss function ``fn(y_true, y_pred, **kwargs)`` into a :class:`Loss`."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if isinstance(fn, str) or isinstance(fn, dict):
            fn = get(fn)
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true_t = _as_tensor(y_true, device=y_pred.device if isinstance(y_pred, torch.Tensor) else None)
        y_pred_t = _as_tensor(y_pred)
        y_true_t, y_pred_t = squeeze_or_expand_to_same_rank(y_true_t, y_pred_t)
        return self._fn(y_true_t, y_pred_t, **self._fn_kwargs)

    @property
    def from_logits(self):
        return self._fn_kwargs.get("from_logits", False)

    def get_config(self):
        cfg = super().get_config()
        if type(self) is LossFunctionWrapper:
            cfg["fn"] = serialize(self._fn)
        cfg.update(self._fn_kwargs)
        return cfg

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            config["fn"] = deserialize(config["fn"]) if not callable(config["fn"]) else config["fn"]
        return cls(**config)

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name} fn={getattr(self._fn, '__name__', self._fn)}>"


def _simple_loss(class_name, fn, default_name, doc):
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype)

    cls = type(class_name, (LossFunctionWrapper,), {
        "__init__": __init__, "__doc__": doc, "__module__": __name__,
        "from_config": classmethod(lambda c, cfg: c(**{k: v for k, v in cfg.items() if k != "fn"})),
    })
    return cls


MeanSquaredError = _simple_loss("MeanSquaredError", mean_squared_error, "mean_squared_error",
                                "Mean of squared errors, ``mean((y_true - y_pred)**2)``.")
MeanAbsoluteError = _simple_loss("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error",
                                 "Mean of absolute errors, ``mean(|y_true - y_pred|)``.")
MeanAbsolutePercentageError = _simple_loss("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                           "mean_absolute_percentage_error", "Mean absolute percentage error.")
MeanSquaredLogarithmicError = _simple_loss("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                           "mean_squared_logarithmic_error", "Mean squared logarithmic error.")
LogCosh = _simple_loss("LogCosh", log_cosh, "log_cosh", "Logarithm of the hyperbolic cosine of the error.")
Hinge = _simple_loss("Hinge", hinge, "hinge", "Hinge loss; 0/1 labels are mapped to -1/1.")
SquaredHinge = _simple_loss("SquaredHinge", squared_hinge, "squared_hinge", "Squared hinge loss.")
CategoricalHinge = _simple_loss("CategoricalHinge", categorical_hinge, "categorical_hinge", "Categorical hinge loss.")
KLDivergence = _simple_loss("KLDivergence", kl_divergence, "kl_divergence", "Kullback-Leibler divergence.")
Poisson = _simple_loss("Poisson", poisson, "poisson", "Poisson loss, ``mean(y_pred - y_true * log(y_pred))``.")


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for ``|error| <= delta`` (1.0), linear beyond.

    Args:
        delta: where the loss changes from quadratic to linear.
        reduction, name, dtype: as in :class:`Loss`.
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)
        self.delta = delta


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (-1): -1 means identical directions."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for one-hot labels.

    Args:
        from_logits: whether ``y_pred`` are logits (default False: probabilities).
        label_smoothing: float in [0, 1].
        axis: the class axis (-1).
        reduction: as in :class:`Loss`. name: 'categorical_crossentropy'.
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.label_smoothing = label_smoothing
        self.axis = axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for integer class labels (shape ``(N,)`` or ``(N, 1)``).

    Args:
        from_logits: whether ``y_pred`` are logits (default False).
        ignore_class: optional label value to leave out of the loss (e.g. a padding/void class).
        reduction: as in :class:`Loss`. axis: the class axis (-1). name: 'sparse_categorical_crossentropy'.
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.ignore_class = ignore_class
        self.axis = axis

    def call(self, y_true, y_pred):
        # No squeeze/expand here: integer labels of shape (N,) vs (N, C) must not be reshaped.
        return sparse_categorical_crossentropy(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        cfg = Loss.get_config(self)
        cfg.update({"from_logits": self.from_logits, "ignore_class": self.ignore_class})
        return cfg


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy for 0/1 labels (one sigmoid output, or several independent ones).

    Args:
        from_logits: whether ``y_pred`` are logits (default False).
        label_smoothing: float in [0, 1]. axis: averaged axis (-1).
        reduction: as in :class:`Loss`. name: 'binary_crossentropy'.
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.label_smoothing = label_smoothing
        self.axis = axis


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal crossentropy (Lin et al.), Keras defaults alpha=0.25, gamma=2.0."""

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.apply_class_balancing, self.alpha, self.gamma = apply_class_balancing, alpha, gamma
        self.label_smoothing, self.axis = label_smoothing, axis


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal crossentropy, Keras defaults alpha=0.25, gamma=2.0."""

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)
        self.alpha, self.gamma, self.label_smoothing, self.axis = alpha, gamma, label_smoothing, axis


for _c in (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
           LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson):
    _c.get_config = lambda self: Loss.get_config(self)
for _c in (Huber, CosineSimilarity, CategoricalCrossentropy, BinaryCrossentropy, BinaryFocalCrossentropy,
           CategoricalFocalCrossentropy):
    _c.from_config = classmethod(lambda c, cfg: c(**{k: v for k, v in cfg.items() if k != "fn"}))
SparseCategoricalCrossentropy.from_config = classmethod(
    lambda c, cfg: c(**{k: v for k, v in cfg.items() if k != "fn"}))

# Keras-style aliases kept as module attributes (keras.losses.mse, keras.losses.kld...).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy


# ---------------------------------------------------------------------------------------------
# label checks (need a device sync: call once)

def _loss_kind(loss):
    fn = loss
    if isinstance(loss, str):
        fn = get(loss)
    if isinstance(fn, LossFunctionWrapper):
        fn = fn._fn
    return fn


def check_labels(loss, y_true, y_pred):
    """Checks label values against a loss once (it syncs with the device); raises a helpful ValueError.

    For sparse categorical crossentropy, labels must be integral and in ``[0, num_classes)``; for
    categorical and binary crossentropy, labels must lie in [0, 1]. Predictions outside [0, 1] with
    ``from_logits=False`` give a warning (the model probably outputs logits).

    Args:
        loss: a loss name, function or :class:`Loss`.
        y_true: a batch of labels. y_pred: the model's predictions for it.
    """
    fn = _loss_kind(loss)
    from_logits = getattr(loss, "from_logits", False) if isinstance(loss, Loss) else False
    name = getattr(loss, "name", None) or getattr(fn, "__name__", str(loss))
    y_pred_t = _as_tensor(y_pred).detach()
    y_true_t = _as_tensor(y_true).detach()
    if fn is sparse_categorical_crossentropy:
        num_classes = y_pred_t.shape[-1]
        ignore = loss._fn_kwargs.get("ignore_class") if isinstance(loss, LossFunctionWrapper) else None
        labels = y_true_t if ignore is None else y_true_t[y_true_t != ignore]
        if labels.numel():
            lo, hi = float(labels.min()), float(labels.max())
            if labels.is_floating_point() and not bool((labels == labels.round()).all()):
                raise ValueError(f"In loss `{name}`, `y_true` must hold integer class indices, but it holds "
                                 f"non-integer values (min={lo}, max={hi}). For one-hot or soft labels use "
                                 "`categorical_crossentropy`.")
            if lo < 0 or hi >= num_classes:
                raise ValueError(f"In loss `{name}`, received a label value of {int(hi) if hi >= num_classes else int(lo)}"
                                 f" which is outside the valid range of [0, {num_classes - 1}]: the model "
                                 f"outputs {num_classes} classes (y_pred.shape={tuple(y_pred_t.shape)}). "
                                 f"Labels range from {int(lo)} to {int(hi)}; check the number of units of the "
                                 "last layer or the labels.")
    elif fn in (categorical_crossentropy, binary_crossentropy, categorical_focal_crossentropy,
                binary_focal_crossentropy):
        if y_true_t.numel():
            lo, hi = float(y_true_t.min()), float(y_true_t.max())
            if lo < 0 or hi > 1:
                other = ("`sparse_categorical_crossentropy` for integer class labels"
                         if fn in (categorical_crossentropy, categorical_focal_crossentropy)
                         else "`sparse_categorical_crossentropy` for integer class labels with several classes")
                raise ValueError(f"In loss `{name}`, `y_true` must hold values in [0, 1] (one-hot or 0/1 labels), "
                                 f"but it holds values from {lo:g} to {hi:g}. Use {other}, or one-hot encode the "
                                 "labels with `keras.utils.to_categorical`.")
    if fn in (categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy) and not from_logits:
        if y_pred_t.numel() and (float(y_pred_t.min()) < 0 or float(y_pred_t.max()) > 1):
            warnings.warn(f"Loss `{name}` expects probabilities (from_logits=False), but `y_pred` has values "
                          "outside [0, 1]: the model probably outputs logits. Add a softmax/sigmoid "
                          "activation to the last layer or pass `from_logits=True` to the loss.", stacklevel=2)


# ---------------------------------------------------------------------------------------------
# registry

def _dims(axis):
    return None if axis is None else (tuple(axis) if isinstance(axis, (list, tuple)) else int(axis))


def dice(y_true, y_pred, axis=None):
    """Dice loss, ``1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred))`` over ``axis`` (all when None).

    The overlap score of segmentation masks: 0 for a perfect mask, 1 for no overlap.
    """
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    dims = _dims(axis)
    total = (lambda t: torch.sum(t)) if dims is None else (lambda t: torch.sum(t, dim=dims))
    return 1 - 2.0 * total(y_true * y_pred) / (total(y_true) + total(y_pred) + 1e-7)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss, ``1 - TP / (TP + alpha FP + beta FN)``: Dice with false positives and false negatives
    weighted separately (``alpha = beta = 0.5`` is Dice)."""
    y_pred = _as_tensor(y_pred)
    y_true = _as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    dims = _dims(axis)
    total = (lambda t: torch.sum(t)) if dims is None else (lambda t: torch.sum(t, dim=dims))
    true_pos = total(y_true * y_pred)
    false_pos = total((1 - y_pred) * y_true)
    false_neg = total(y_pred * (1 - y_true))
    return 1 - true_pos / (true_pos + false_pos * alpha + false_neg * beta + 1e-7)


class Dice(LossFunctionWrapper):
    """Dice loss for segmentation masks (see :func:`dice`).

    Args:
        reduction, name, dtype: as in :class:`Loss`.
        axis: axes the overlap is summed over (None: everything, one value for the batch).
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class Tversky(LossFunctionWrapper):
    """Tversky loss (see :func:`tversky`).

    Args:
        alpha: weight of false positives. beta: weight of false negatives.
        reduction, name, dtype, axis: as :class:`Dice`.
    """

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis)
        self.alpha, self.beta, self.axis = alpha, beta, axis


_REGISTRY = Registry("loss", "keras.losses")
for _obj in (Loss, LossFunctionWrapper, KLDivergence, Poisson, BinaryCrossentropy, BinaryFocalCrossentropy,
             CategoricalCrossentropy, CategoricalFocalCrossentropy, SparseCategoricalCrossentropy,
             MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
             CosineSimilarity, LogCosh, Huber, Hinge, SquaredHinge, CategoricalHinge, Dice, Tversky):
    _REGISTRY.register(_obj, snake=False)
for _obj in (kl_divergence, poisson, binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
             categorical_focal_crossentropy, sparse_categorical_crossentropy, mean_squared_error,
             mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
             cosine_similarity, log_cosh, huber, hinge, squared_hinge, categorical_hinge, dice, tversky):
    _REGISTRY.register(_obj)
for _alias, _obj in {"bce": binary_crossentropy, "BCE": binary_crossentropy, "kld": kl_divergence,
                     "KLD": kl_divergence, "mae": mean_absolute_error, "MAE": mean_absolute_error,
                     "mse": mean_squared_error, "MSE": mean_squared_error,
                     "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
                     "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
                     # tf.keras 2 names
                     "logcosh": log_cosh, "kullback_leibler_divergence": kl_divergence,
                     "huber_loss": huber}.items():
    _REGISTRY.objects[_alias] = _obj


# Generalized crossentropy, Circle and CTC live in their own module (they need the classes above).
from strided.losses_more import (  # noqa: E402
    CTC, CategoricalGeneralizedCrossEntropy, Circle, categorical_generalized_cross_entropy, circle, ctc,
)

for _obj in (CategoricalGeneralizedCrossEntropy, Circle, CTC):
    _REGISTRY.register(_obj, snake=False)
for _obj in (categorical_generalized_cross_entropy, circle, ctc):
    _REGISTRY.register(_obj)


def serialize(loss):
    """Returns the Keras 3 config dict of a Loss instance or a loss function."""
    return _REGISTRY.serialize(loss)


def deserialize(name, custom_objects=None):
    """Returns a loss function or Loss instance from a name or config dict."""
    return _REGISTRY.deserialize(name, custom_objects)


def get(identifier, arg_name="loss"):
    """Retrieves a loss as Keras does: a snake_case name gives the function
    (``'categorical_crossentropy'``), a CamelCase name or a dict gives a :class:`Loss` instance.

    Args:
        identifier: None, a name or alias ('mse', 'kld'...), a config dict, a Loss class or instance, or a callable.
        arg_name: the argument name for error messages.
    """
    return _REGISTRY.get(identifier, arg_name)
