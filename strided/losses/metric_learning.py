"""Metric-learning losses: Circle (Sun et al., 2020) on L2-normalised embeddings."""

import numbers

import torch
import torch.nn.functional as F

from strided.losses.loss import LossFunctionWrapper, _as_tensor, _float_pred
from strided.utils.general_utils import named_arguments


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
        raise ValueError(
            "In loss `circle`, `y_pred` must be a batch of embeddings of shape (batch, dim). "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
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

    def __init__(
        self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size", name="circle", dtype=None
    ):
        arguments = named_arguments(locals())
        for arg, value in (("gamma", gamma), ("margin", margin)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"Argument `{arg}` must be a number. Received: {arg}={value!r}")
        if gamma <= 0:
            raise ValueError(f"Argument `gamma` must be > 0. Received: gamma={gamma}")
        super().__init__(circle, **arguments)
