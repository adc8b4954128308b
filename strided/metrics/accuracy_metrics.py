"""Accuracy metrics: exact, binary, categorical, sparse categorical and top-k, and the 'accuracy' resolution."""

import torch

from strided import config
from strided.losses.loss import squeeze_or_expand_to_same_rank
from strided.metrics.metric import _tensor
from strided.metrics.reduction_metrics import _wrapper


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


Accuracy = _wrapper("Accuracy", accuracy, "accuracy", "How often predictions equal labels exactly.")


BinaryAccuracy = _wrapper(
    "BinaryAccuracy",
    binary_accuracy,
    "binary_accuracy",
    "How often ``y_pred > threshold`` (0.5) matches the 0/1 labels.",
    [("threshold", 0.5)],
)


CategoricalAccuracy = _wrapper(
    "CategoricalAccuracy",
    categorical_accuracy,
    "categorical_accuracy",
    "How often ``argmax(y_pred)`` matches the one-hot labels.",
)


SparseCategoricalAccuracy = _wrapper(
    "SparseCategoricalAccuracy",
    sparse_categorical_accuracy,
    "sparse_categorical_accuracy",
    "How often ``argmax(y_pred)`` matches the integer labels.",
)


TopKCategoricalAccuracy = _wrapper(
    "TopKCategoricalAccuracy",
    top_k_categorical_accuracy,
    "top_k_categorical_accuracy",
    "How often the one-hot target is in the top ``k`` (5).",
    leading=[("k", 5)],
)


SparseTopKCategoricalAccuracy = _wrapper(
    "SparseTopKCategoricalAccuracy",
    sparse_top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy",
    "How often the integer target is in the top ``k`` (5); with ``from_sorted_ids=True``, ``y_pred`` holds "
    "the class ids sorted by score instead of the scores.",
    [("from_sorted_ids", False)],
    leading=[("k", 5)],
    config_when_set=("from_sorted_ids",),
)


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
