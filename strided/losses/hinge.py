"""Hinge losses (maximum-margin classification): hinge, squared hinge, categorical hinge."""

import torch

from strided.losses.loss import _prep, _simple_loss


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


Hinge = _simple_loss("Hinge", hinge, "hinge", "Hinge loss; 0/1 labels are mapped to -1/1.", __name__)
SquaredHinge = _simple_loss("SquaredHinge", squared_hinge, "squared_hinge", "Squared hinge loss.", __name__)
CategoricalHinge = _simple_loss(
    "CategoricalHinge", categorical_hinge, "categorical_hinge", "Categorical hinge loss.", __name__
)
