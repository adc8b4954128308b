"""The loss base classes and what every loss family shares: tensor conversion, rank alignment, reductions.

Functions (``categorical_crossentropy(y_true, y_pred, ...)``) return one loss per sample (the batch
shape); classes (``CategoricalCrossentropy(...)``) reduce them to a scalar, applying sample weights
as Keras does. Each family lives in its own module of this package; ``strided.losses`` is the public
surface and fills :data:`LOSSES`, the registry behind ``get``/``serialize``/``deserialize``.
"""

import inspect

import numpy as np
import torch

from strided import config
from strided.ops.core import convert_to_tensor
from strided.utils.registry import FromConfig, Registry, to_snake_case

_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")

# Keras names -> loss classes and functions; filled by strided/losses/__init__.py. LossFunctionWrapper
# reads it to (de)serialize its function, which is why it lives here, below the families.
LOSSES = Registry("loss", "keras.losses")


# ---------------------------------------------------------------------------------------------
# tensor helpers


def _as_tensor(x, dtype=None, device=None):
    """``x`` as a torch tensor through :func:`strided.ops.convert_to_tensor`, with the losses' one extra rule:
    NumPy float64 inputs compute in floatx (Keras casts a loss's inputs to the loss dtype)."""
    if dtype is None and not isinstance(x, torch.Tensor):
        x = np.asarray(x)
        if x.dtype == np.float64:
            dtype = config.floatx()
    return convert_to_tensor(x, dtype=dtype, device=device)


def _prep(y_true, y_pred):
    """y_pred as a float tensor (half precision promoted to float32), y_true cast to match."""
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point() or y_pred.dtype in (torch.float16, torch.bfloat16):
        y_pred = y_pred.to(config.torch_dtype() if config.floatx() in ("float32", "float64") else torch.float32)
    y_true = _as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    return y_true, y_pred


def _float_pred(y_pred):
    """``y_pred`` as a float32-or-wider tensor (integers and half precision promoted to float32)."""
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point() or y_pred.dtype in (torch.float16, torch.bfloat16):
        y_pred = y_pred.float()
    return y_pred


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
        raise ValueError(
            f"In loss `{name}`, arguments `y_true` and `y_pred` must have the same shape. "
            f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}.{hint}"
        )


# ---------------------------------------------------------------------------------------------
# reductions


def _standardize_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"Invalid value for argument `reduction`. Expected one of {list(_REDUCTIONS)}. "
            f"Received: reduction={reduction!r}"
        )
    return reduction


def weight_by_mask(mask, sample_weight):
    """``sample_weight * mask`` with their ranks matched (the mask alone without weights), ``mask`` a float
    tensor: masked-out entries get weight 0."""
    if sample_weight is None:
        return mask
    sw = _as_tensor(sample_weight, dtype=mask.dtype, device=mask.device)
    mask, sw = squeeze_or_expand_to_same_rank(mask, sw)
    return sw * mask


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
        sample_weight = weight_by_mask(mask_f, sample_weight)
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
        return torch.where(
            divisor != 0, total / torch.where(divisor != 0, divisor, torch.ones_like(divisor)), torch.zeros_like(total)
        )
    n = values.numel()
    return total / n if n else torch.zeros_like(total)


# ---------------------------------------------------------------------------------------------
# classes


class Loss(FromConfig):
    """Loss base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample losses.

    Args:
        name: the loss name (shown in logs).
        reduction: 'sum_over_batch_size' (default), 'sum', 'mean', 'mean_with_sample_weight', None or 'none'.
        dtype: the computation dtype (floatx by default).
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or to_snake_case(self.__class__.__name__)
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

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}>"


class LossFunctionWrapper(Loss):
    """Wraps a per-sample loss function ``fn(y_true, y_pred, **kwargs)`` into a :class:`Loss`."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if isinstance(fn, str) or isinstance(fn, dict):
            fn = LOSSES.get(fn, "loss")
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        # each argument of the function is also an attribute (`loss.axis`), as Keras's built-in losses set them
        self.__dict__.update(kwargs)

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
            cfg["fn"] = LOSSES.serialize(self._fn)
        cfg.update(self._fn_kwargs)
        return cfg

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config and cls is not LossFunctionWrapper and "fn" not in inspect.signature(cls).parameters:
            del config["fn"]  # a built-in subclass binds its own function
        elif "fn" in config and not callable(config["fn"]):
            config["fn"] = LOSSES.deserialize(config["fn"])
        return cls(**config)

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name} fn={getattr(self._fn, '__name__', self._fn)}>"


def _simple_loss(class_name, fn, default_name, doc, module):
    """A LossFunctionWrapper subclass with Keras's constructor ``(reduction, name, dtype)`` for ``fn``."""

    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype)

    return type(
        class_name,
        (LossFunctionWrapper,),
        {"__init__": __init__, "__doc__": doc, "__module__": module, "get_config": Loss.get_config},
    )
