"""Segmentation losses on overlapping masks: Dice and Tversky."""

import torch

from strided.losses.loss import LossFunctionWrapper, _as_tensor


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


class Tversky(LossFunctionWrapper):
    """Tversky loss (see :func:`tversky`).

    Args:
        alpha: weight of false positives. beta: weight of false negatives.
        reduction, name, dtype, axis: as :class:`Dice`.
    """

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis)
