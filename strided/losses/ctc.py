"""CTC (Connectionist Temporal Classification): sequence labelling without alignments."""

import torch

from strided.losses.loss import Loss, LossFunctionWrapper, _as_tensor
from strided.ops.ctc_ops import ctc_loss


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
    y_true, y_pred = _as_tensor(y_true), _as_tensor(y_pred)
    if y_true.dim() != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in "
            f"integer format. Received: y_true.shape={tuple(y_true.shape)}"
        )
    if y_pred.dim() != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
            f"num_classes)`. Received: y_pred.shape={tuple(y_pred.shape)}"
        )
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
