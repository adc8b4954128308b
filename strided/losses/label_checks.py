"""Label checks of a loss against a batch: they sync with the device, so the trainer runs them once."""

import warnings

from strided.losses.loss import LOSSES, Loss, LossFunctionWrapper, _as_tensor
from strided.losses.probabilistic import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_crossentropy,
)


def _loss_kind(loss):
    fn = loss
    if isinstance(loss, str):
        fn = LOSSES.get(loss)
    if isinstance(fn, LossFunctionWrapper):
        fn = fn._fn
    return fn


# The families whose losses compare y_true and y_pred elementwise (CTC and metric learning take labels
# of another shape).
_ELEMENTWISE_MODULES = (
    "strided.losses.probabilistic",
    "strided.losses.regression",
    "strided.losses.hinge",
    "strided.losses.segmentation",
)


def _check_shapes(fn, name, true_shape, pred_shape):
    """For strided's own elementwise losses, ``y_true`` must match ``y_pred`` once the ranks are aligned as
    Keras aligns them (a trailing axis of 1 added or squeezed); otherwise torch fails inside the loss with a
    size mismatch, or worse, broadcasts (n,) against (n, k) silently."""
    if (
        getattr(fn, "__module__", None) not in _ELEMENTWISE_MODULES
        or "sparse" in getattr(fn, "__name__", "sparse")
        or not true_shape
        or not pred_shape
    ):
        return
    aligned = true_shape
    if len(aligned) == len(pred_shape) - 1:
        aligned = aligned + (1,)
    elif len(aligned) == len(pred_shape) + 1 and aligned[-1] == 1:
        aligned = aligned[:-1]
    ok = len(aligned) == len(pred_shape) and all(a == b or a == 1 or b == 1 for a, b in zip(aligned, pred_shape))
    if not ok:
        raise ValueError(
            f"In loss `{name}`, `y_true` and `y_pred` have incompatible shapes: y_true.shape="
            f"{true_shape}, y_pred.shape={pred_shape}. The targets need one column per model output "
            "unit (check the number of units of the last layer, or one-hot encoding of the labels)."
        )


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
    _check_shapes(fn, name, tuple(y_true_t.shape), tuple(y_pred_t.shape))
    if fn is sparse_categorical_crossentropy:
        num_classes = y_pred_t.shape[-1]
        ignore = loss._fn_kwargs.get("ignore_class") if isinstance(loss, LossFunctionWrapper) else None
        labels = y_true_t if ignore is None else y_true_t[y_true_t != ignore]
        if labels.numel():
            lo, hi = float(labels.min()), float(labels.max())
            if labels.is_floating_point() and not bool((labels == labels.round()).all()):
                raise ValueError(
                    f"In loss `{name}`, `y_true` must hold integer class indices, but it holds "
                    f"non-integer values (min={lo}, max={hi}). For one-hot or soft labels use "
                    "`categorical_crossentropy`."
                )
            if lo < 0 or hi >= num_classes:
                raise ValueError(
                    f"In loss `{name}`, received a label value of {int(hi) if hi >= num_classes else int(lo)}"
                    f" which is outside the valid range of [0, {num_classes - 1}]: the model "
                    f"outputs {num_classes} classes (y_pred.shape={tuple(y_pred_t.shape)}). "
                    f"Labels range from {int(lo)} to {int(hi)}; check the number of units of the "
                    "last layer or the labels."
                )
    elif fn in (
        categorical_crossentropy,
        binary_crossentropy,
        categorical_focal_crossentropy,
        binary_focal_crossentropy,
    ):
        if y_true_t.numel():
            lo, hi = float(y_true_t.min()), float(y_true_t.max())
            if lo < 0 or hi > 1:
                other = (
                    "`sparse_categorical_crossentropy` for integer class labels"
                    if fn in (categorical_crossentropy, categorical_focal_crossentropy)
                    else "`sparse_categorical_crossentropy` for integer class labels with several classes"
                )
                raise ValueError(
                    f"In loss `{name}`, `y_true` must hold values in [0, 1] (one-hot or 0/1 labels), "
                    f"but it holds values from {lo:g} to {hi:g}. Use {other}, or one-hot encode the "
                    "labels with `keras.utils.to_categorical`."
                )
    if fn in (categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy) and not from_logits:
        if y_pred_t.numel() and (float(y_pred_t.min()) < 0 or float(y_pred_t.max()) > 1):
            warnings.warn(
                f"Loss `{name}` expects probabilities (from_logits=False), but `y_pred` has values "
                "outside [0, 1]: the model probably outputs logits. Add a softmax/sigmoid "
                "activation to the last layer or pass `from_logits=True` to the loss.",
                stacklevel=2,
            )
