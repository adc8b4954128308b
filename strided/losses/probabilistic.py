"""Probabilistic losses: crossentropies (categorical, sparse, binary, focal, generalized), KL divergence, Poisson.

Probability semantics follow Keras, not torch: with ``from_logits=False`` the crossentropies clip
predictions to ``[epsilon, 1 - epsilon]`` (and categorical crossentropy first renormalises ``y_pred``
by its sum); with ``from_logits=True`` they use ``log_softmax`` / BCE-with-logits.
"""

import numbers
import warnings

import torch
import torch.nn.functional as F

from strided import config
from strided.utils.general_utils import named_arguments
from strided.losses.loss import (
    Loss,
    LossFunctionWrapper,
    _as_tensor,
    _float_pred,
    _prep,
    _same_shape,
    _simple_loss,
    squeeze_or_expand_to_same_rank,
)


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
            hint = (
                " The labels look like integer class indices: use `sparse_categorical_crossentropy` "
                "(loss='sparse_categorical_crossentropy'), or one-hot encode them with "
                "`keras.utils.to_categorical(y, num_classes)`."
            )
        _same_shape("categorical_crossentropy", y_true, y_pred, hint)
    if y_pred.dim() < 1:
        raise ValueError(
            "Arguments `y_true` and `y_pred` must be at least rank 1. "
            f"Received: y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "In loss categorical_crossentropy, expected y_pred.shape to be (batch_size, num_classes) "
            f"with num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. "
            "Consider using 'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=2,
        )
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
    y_pred, from_logits = _softmax_logits(_as_tensor(y_pred), from_logits, axis)
    y_pred = _float_pred(y_pred)
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
            hint = (
                " The labels look one-hot encoded: use `categorical_crossentropy` "
                "(loss='categorical_crossentropy') for one-hot labels, or pass integer class indices "
                "(e.g. `np.argmax(y, axis=-1)`) to sparse_categorical_crossentropy."
            )
        raise ValueError(
            "In loss `sparse_categorical_crossentropy`, `y_true` must be integer class indices of "
            f"shape {tuple(expected)} or {tuple(expected) + (1,)} for y_pred.shape="
            f"{tuple(y_pred.shape)}. Received: y_true.shape={tuple(y_true.shape)}.{hint}"
        )
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
    _same_shape(
        "binary_crossentropy",
        y_true,
        y_pred,
        " For integer class labels with several classes use `sparse_categorical_crossentropy`."
        if y_pred.shape[-1:] != (1,) and y_true.shape[-1:] == (1,)
        else "",
    )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = _clip_probs(y_pred)
        bce = -(y_true * torch.log(p) + (1.0 - y_true) * torch.log(1.0 - p))
    return bce.mean(dim=axis)


def binary_focal_crossentropy(
    y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
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


def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
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


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized cross entropy (Zhang & Sabuncu, 2018): ``(1 - p**q) / q`` per sample.

    ``p`` is the predicted probability of the true class. As ``q`` goes to 0 the loss approaches
    crossentropy; at ``q = 1`` it is the mean absolute error; values in between resist noisy labels.

    Args:
        y_true: integer class indices, shape ``(batch,)`` or ``(batch, 1)``.
        y_pred: class probabilities, shape ``(batch, num_classes)``.
        q: the noise parameter, in (0, 1).

    Returns:
        The loss of each sample, shape ``(batch,)``.
    """
    y_pred = _float_pred(y_pred)
    y_true = _as_tensor(y_true, device=y_pred.device)
    if y_pred.dim() < 1:
        raise ValueError(f"Argument `y_pred` must be at least rank 1. Received: y_pred.shape={tuple(y_pred.shape)}")
    if y_true.dim() == y_pred.dim() and y_true.dim() > 1 and y_true.shape[-1] == 1:
        # Labels of shape (batch, 1), which Keras documents but would broadcast against every sample.
        y_true = y_true.squeeze(-1)
    num_classes = y_pred.shape[-1]
    # Keras one-hot encodes the labels: an index outside [0, num_classes) selects no class (p = 0).
    one_hot = F.one_hot(torch.clamp(y_true.long(), 0, num_classes - 1), num_classes).to(y_pred.dtype)
    in_range = ((y_true >= 0) & (y_true < num_classes)).to(y_pred.dtype).unsqueeze(-1)
    p = (y_pred * one_hot * in_range).sum(dim=-1)
    return (1 - torch.pow(p, q)) / q


KLDivergence = _simple_loss("KLDivergence", kl_divergence, "kl_divergence", "Kullback-Leibler divergence.", __name__)
Poisson = _simple_loss(
    "Poisson", poisson, "poisson", "Poisson loss, ``mean(y_pred - y_true * log(y_pred))``.", __name__
)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for one-hot labels.

    Args:
        from_logits: whether ``y_pred`` are logits (default False: probabilities).
        label_smoothing: float in [0, 1].
        axis: the class axis (-1).
        reduction: as in :class:`Loss`. name: 'categorical_crossentropy'.
    """

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(categorical_crossentropy, **named_arguments(locals()))


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy for integer class labels (shape ``(N,)`` or ``(N, 1)``).

    Args:
        from_logits: whether ``y_pred`` are logits (default False).
        ignore_class: optional label value to leave out of the loss (e.g. a padding/void class).
        reduction: as in :class:`Loss`. axis: the class axis (-1). name: 'sparse_categorical_crossentropy'.
    """

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(sparse_categorical_crossentropy, **named_arguments(locals()))

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

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(binary_crossentropy, **named_arguments(locals()))


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal crossentropy (Lin et al.), Keras defaults alpha=0.25, gamma=2.0."""

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(binary_focal_crossentropy, **named_arguments(locals()))


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal crossentropy, Keras defaults alpha=0.25, gamma=2.0."""

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(categorical_focal_crossentropy, **named_arguments(locals()))


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized cross entropy between integer labels and class probabilities (see
    :func:`categorical_generalized_cross_entropy`), robust to noisy labels.

    Args:
        q: the noise parameter in (0, 1) (0.5): near 0 like crossentropy, near 1 like MAE.
        reduction: 'sum_over_batch_size' (default), 'sum', 'mean', 'mean_with_sample_weight', None or 'none'.
        name: the loss name. dtype: the computation dtype.

    Example:

    >>> y_true = np.array([0, 1, 0, 1])
    >>> y_pred = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]])
    >>> keras.losses.CategoricalGeneralizedCrossEntropy()(y_true, y_pred)
    """

    def __init__(
        self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy", dtype=None
    ):
        if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1). Received: q={q!r}")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name, dtype=dtype, q=q)
