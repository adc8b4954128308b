"""Helpers from ``keras.utils``: one-hot encoding and normalisation."""

import numpy as np
import torch


def to_categorical(x, num_classes=None):
    """Converts a class vector (integers) to a one-hot float32 matrix, as ``keras.utils.to_categorical``.

    Args:
        x: array-like of class indices in ``[0, num_classes)``.
        num_classes: total number of classes; ``max(x) + 1`` when None.

    Returns:
        A float32 array of shape ``x.shape + (num_classes,)`` (a trailing axis of size 1 in ``x`` is
        dropped first, as Keras does).
    """
    x = np.asarray(x)
    if x.dtype.kind == "f":
        if not np.all(np.equal(np.mod(x, 1), 0)):
            raise ValueError(f"to_categorical expects integer class indices. Received values such as {x.ravel()[:5]}.")
    x = x.astype("int64")
    shape = x.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if x.size and x.min() < 0:
        raise ValueError(f"to_categorical expects non-negative class indices. Received min(x)={x.min()}.")
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    elif x.size and x.max() >= num_classes:
        raise ValueError(
            f"Invalid class index {x.max()} for num_classes={num_classes}: indices must be in [0, {num_classes})."
        )
    out = np.zeros((x.size, num_classes), dtype="float32")
    out[np.arange(x.size), x] = 1.0
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Scales ``x`` to unit ``order``-norm along ``axis`` (zeros stay zeros), as ``keras.utils.normalize``.

    Args:
        x: a NumPy array (or array-like), or a tensor.
        axis: the axis along which to normalize.
        order: the norm order (``2``: L2 norm).

    Returns:
        A NumPy array for NumPy input; for a tensor, a tensor (``keras.ops.normalize``), so that gradients
        flow through it inside a training step, as Keras does with backend tensors.
    """
    if isinstance(x, torch.Tensor):
        return normalize_tensor(x if x.is_floating_point() else x.to(torch.get_default_dtype()), axis, order)
    x = np.asarray(x, dtype="float32") if not np.issubdtype(np.asarray(x).dtype, np.floating) else np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)


def normalize_tensor(x, axis=-1, order=2, epsilon=1e-7):
    """``x`` (a float tensor) divided by its ``order``-norm along ``axis``, at least ``epsilon``: the formula of
    ``keras.ops.normalize``, shared by ``ops.normalize`` and ``utils.normalize``."""
    if order == 2:
        return x * torch.rsqrt(torch.clamp(torch.sum(x * x, dim=axis, keepdim=True), min=epsilon))
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(norm, min=epsilon)
