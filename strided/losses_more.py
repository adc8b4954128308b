"""Keras 3's newer losses: ``CategoricalGeneralizedCrossEntropy`` (noise-robust classification),
``Circle`` (metric learning on L2-normalised embeddings) and ``CTC`` (sequence labelling without
alignments), with their functions."""
import numbers

import torch
import torch.nn.functional as F

from strided.losses import Loss, LossFunctionWrapper, _as_tensor

__all__ = ["categorical_generalized_cross_entropy", "circle", "ctc", "CategoricalGeneralizedCrossEntropy", "Circle",
           "CTC"]


def _float_pred(y_pred):
    y_pred = _as_tensor(y_pred)
    if not y_pred.is_floating_point() or y_pred.dtype in (torch.float16, torch.bfloat16):
        y_pred = y_pred.float()
    return y_pred


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


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """Circle loss (Sun et al., 2020) between integer labels and L2-normalised embeddings.

    Pairs of samples with the same label are positives, the others negatives; each pair's cosine
    distance ``d`` is weighted by how far it is from its optimum (``margin`` for positives,
    ``1 + margin`` for negatives), and the loss of a sample is
    ``softplus(logsumexp(-gamma a_p (margin - d_p)) + logsumexp(gamma a_n (1 - margin - d_n)))``.
    Samples with no positive pair get a loss of 0 and are left out of the mean (a Keras mask).

    Args:
        y_true: integer labels, shape ``(batch,)``.
        y_pred: L2-normalised embeddings, shape ``(batch, dim)``.
        ref_labels, ref_embeddings: the reference set compared against (default: the batch itself).
        remove_diagonal: whether a sample is left out of its own positives (True).
        gamma: the scale of the similarity scores (80).
        margin: the relaxation factor (0.4).

    Returns:
        The loss of each sample, shape ``(batch,)``.
    """
    y_pred = _float_pred(y_pred)
    y_true = _as_tensor(y_true, device=y_pred.device).to(torch.int32)
    if y_pred.dim() != 2:
        raise ValueError("In loss `circle`, `y_pred` must be a batch of embeddings of shape (batch, dim). "
                         f"Received: y_pred.shape={tuple(y_pred.shape)}")
    ref = y_pred if ref_embeddings is None else _as_tensor(ref_embeddings, dtype=y_pred.dtype, device=y_pred.device)
    ref_labels = y_true if ref_labels is None else _as_tensor(ref_labels, device=y_pred.device).to(torch.int32)
    distances = torch.clamp(1 - y_pred @ ref.T, min=0.0)
    query, key = y_true.reshape(-1, 1), ref_labels.reshape(-1, 1)
    positive = query == key.T
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(query.numel(), key.numel(), dtype=torch.bool, device=y_pred.device)
    pos_f, neg_f = positive.to(distances.dtype), negative.to(distances.dtype)
    pos_weights = torch.clamp((margin + distances) * pos_f, min=0.0)
    neg_weights = torch.clamp((1 + margin - distances) * neg_f, min=0.0)
    pos_terms = -gamma * pos_weights * (margin - distances)
    neg_terms = gamma * neg_weights * ((1 - margin) - distances)
    minus_inf = torch.full_like(distances, float("-inf"))
    p_loss = torch.logsumexp(torch.where(positive, pos_terms, minus_inf), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg_terms, minus_inf), dim=1)
    loss = F.softplus(p_loss + n_loss)
    loss._keras_mask = loss > 0  # reductions average over the samples with a loss, as in Keras
    return loss


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

    def __init__(self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy",
                 dtype=None):
        if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1). Received: q={q!r}")
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name, dtype=dtype, q=q)
        self.q = q

    def get_config(self):
        return {**Loss.get_config(self), "q": self.q}

    @classmethod
    def from_config(cls, config):
        return cls(**{k: v for k, v in config.items() if k != "fn"})


class Circle(LossFunctionWrapper):
    """Circle loss between integer labels and L2-normalised embeddings (see :func:`circle`).

    The model should output embeddings with no activation, followed by ``UnitNormalization``.

    Args:
        gamma: the largest scale of each similarity score (80.0).
        margin: the relaxation factor (0.4): below this distance negatives are weighted up and
            positives down, above it the reverse.
        remove_diagonal: leave each sample out of its own positives (True).
        reduction, name, dtype: as in :class:`~strided.losses.Loss` (name 'circle').

    Example:

    >>> model.compile(optimizer="adam", loss=keras.losses.Circle())
    """

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size", name="circle",
                 dtype=None):
        for arg, value in (("gamma", gamma), ("margin", margin)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"Argument `{arg}` must be a number. Received: {arg}={value!r}")
        if gamma <= 0:
            raise ValueError(f"Argument `gamma` must be > 0. Received: gamma={gamma}")
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal

    def get_config(self):
        return {**Loss.get_config(self), "gamma": self.gamma, "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}

    @classmethod
    def from_config(cls, config):
        return cls(**{k: v for k, v in config.items() if k != "fn"})


def ctc(y_true, y_pred):
    """CTC (Connectionist Temporal Classification) loss of each sample, with 0 as the blank.

    Every time step of ``y_pred`` counts, and a label sequence ends at its last non-zero entry
    (its length is its number of non-zero labels), so 0 must not be used for classes.

    Args:
        y_true: tensor of shape ``(batch_size, max_length)``, the label sequences as integers,
            padded with 0.
        y_pred: tensor of shape ``(batch_size, max_length, num_classes)``, the logits (the output of
            the model). They should *not* be normalized via softmax.

    Returns:
        The loss of each sample, shape ``(batch_size,)``.
    """
    from strided.ops.ctc_ops import ctc_loss
    y_true, y_pred = _as_tensor(y_true), _as_tensor(y_pred)
    if y_true.dim() != 2:
        raise ValueError("Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in "
                         f"integer format. Received: y_true.shape={tuple(y_true.shape)}")
    if y_pred.dim() != 3:
        raise ValueError("Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
                         f"num_classes)`. Received: y_pred.shape={tuple(y_pred.shape)}")
    batch_size, input_length = y_pred.shape[0], y_pred.shape[1]
    input_length = torch.full((batch_size,), input_length, dtype=torch.int32, device=y_pred.device)
    label_length = (y_true != 0).sum(dim=-1).to(torch.int32)
    return ctc_loss(y_true, y_pred, label_length, input_length, mask_index=0)


class CTC(LossFunctionWrapper):
    """CTC (Connectionist Temporal Classification) loss between padded label sequences and the
    logits of a sequence model (see :func:`ctc`); class 0 is the blank.

    Args:
        reduction: 'sum_over_batch_size' (default), 'sum', 'mean', 'mean_with_sample_weight', None or 'none'.
        name: the loss name ('ctc'). dtype: the computation dtype.

    Example:

    >>> y_true = np.array([[1, 2, 2, 0], [3, 0, 0, 0]])            # 0 pads the label sequences
    >>> y_pred = np.random.normal(size=(2, 8, 5)).astype("float32")  # logits, 8 steps, 5 classes
    >>> keras.losses.CTC()(y_true, y_pred)
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)

    @classmethod
    def from_config(cls, config):
        return cls(**{k: v for k, v in config.items() if k != "fn"})
