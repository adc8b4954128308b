"""``keras.ops`` neural-network functions beyond activations: statistics, normalizations,
elementwise cross-entropies, label encodings, pixel rearrangements, adaptive pooling and PSNR.

The cross-entropies here are Keras's *ops* (per-sample values, no reduction over the batch), not the
``losses`` (which also average and take sample weights).
"""

import math

import torch
import torch.nn.functional as F

from strided import config
from strided.ops.core import convert_to_tensor
from strided.ops.numpy_ops import _float
from strided.utils import conv_utils
from strided.utils.numerical import normalize_tensor

_EPSILON = 1e-7  # Keras's backend.epsilon()
_t = convert_to_tensor


def _axes(axes, ndim):
    axes = [axes] if isinstance(axes, int) else list(axes)
    return [a % ndim for a in axes]


def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` of ``x`` over ``axes`` (the biased variance, as Keras and TF)."""
    x = _float(x)
    dims = _axes(axes, x.ndim)
    var, mean = torch.var_mean(
        x.float() if x.dtype in (torch.float16, torch.bfloat16) else x, dim=dims, correction=0, keepdim=keepdims
    )
    return mean.to(x.dtype), var.to(x.dtype)


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x`` divided by its ``order``-norm along ``axis`` (at least ``epsilon``, default 1e-7)."""
    return normalize_tensor(_float(x), axis, order, _EPSILON if epsilon is None else epsilon)


def _per_axis(value, x, axis):
    """A per-channel vector broadcast against ``x`` along ``axis``."""
    value = _t(value).to(device=x.device, dtype=x.dtype)
    if value.ndim == 1 and x.ndim > 1:
        shape = [1] * x.ndim
        shape[axis % x.ndim] = -1
        value = value.reshape(shape)
    return value


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` with per-channel statistics on ``axis``."""
    x = _float(x)
    inv = torch.rsqrt(_per_axis(variance, x, axis) + epsilon)
    if scale is not None:
        inv = inv * _per_axis(scale, x, axis)
    out = (x - _per_axis(mean, x, axis)) * inv
    return out + _per_axis(offset, x, axis) if offset is not None else out


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """Normalizes each sample over ``axis`` (mean 0, variance 1), then ``* gamma + beta``."""
    x = _float(x)
    epsilon = _EPSILON if epsilon is None else epsilon
    dims = _axes(axis, x.ndim)
    var, mean = torch.var_mean(x, dim=dims, correction=0, keepdim=True)
    out = (x - mean) * torch.rsqrt(var + epsilon)
    if gamma is not None:
        out = out * _t(gamma).to(device=x.device, dtype=x.dtype)
    if beta is not None:
        out = out + _t(beta).to(device=x.device, dtype=x.dtype)
    return out


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``x / sqrt(mean(x**2) + epsilon) * scale`` over ``axis`` (root-mean-square normalization)."""
    x = _float(x)
    epsilon = _EPSILON if epsilon is None else epsilon
    out = x * torch.rsqrt(torch.mean(x * x, dim=_axes(axis, x.ndim), keepdim=True) + epsilon)
    return out * _t(scale).to(device=x.device, dtype=x.dtype) if scale is not None else out


def _same_shape_target(target, output):
    """``(target, output)`` as float tensors of ``output``'s dtype and device, whose shapes must match."""
    output = _float(output)
    target = _t(target).to(device=output.device, dtype=output.dtype)
    if target.shape != output.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    return target, output


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy (probabilities clipped to [1e-7, 1 - 1e-7])."""
    target, output = _same_shape_target(target, output)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = torch.clamp(output, _EPSILON, 1.0 - _EPSILON)
    return F.binary_cross_entropy(output, target, reduction="none")


def _log_probabilities(output, from_logits, axis):
    if from_logits:
        return F.log_softmax(output, dim=axis)
    output = output / torch.sum(output, dim=axis, keepdim=True)
    return torch.log(torch.clamp(output, _EPSILON, 1.0 - _EPSILON))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy of one-hot (or soft) ``target`` rows against ``output`` along ``axis``."""
    target, output = _same_shape_target(target, output)
    return -torch.sum(target * _log_probabilities(output, from_logits, axis), dim=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy of integer class ``target`` against ``output`` along ``axis``."""
    output = _float(output)
    target = _t(target).to(device=output.device).long()
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = target.squeeze(axis)
    log_prob = _log_probabilities(output, from_logits, axis)
    return -torch.gather(log_prob, axis % output.ndim, target.unsqueeze(axis % output.ndim)).squeeze(axis)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encoding: 1 at every class index listed in each row of ``inputs``."""
    num_classes = kwargs.pop("num_tokens", num_classes)
    inputs = _t(inputs).long()
    rank_one = inputs.ndim == 1
    if rank_one:
        inputs = inputs.unsqueeze(0)
    hot = F.one_hot(inputs, int(num_classes)).amax(dim=-2)
    hot = hot.to(config.torch_dtype(dtype))
    if rank_one:
        hot = hot.squeeze(0)
    return hot.movedim(-1, axis) if axis != -1 else hot


def in_top_k(targets, predictions, k):
    """True where the target class is among the ``k`` highest predictions (ties count as in)."""
    predictions = _t(predictions)
    targets = _t(targets).to(predictions.device).long()
    target_scores = torch.gather(predictions, 1, targets.reshape(-1, 1))
    higher = torch.sum(predictions > target_scores, dim=1)
    return higher < k


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio in dB: ``20 log10(max_val) - 10 log10(mean((x1 - x2)**2))``."""
    a, b = _float(x1), _float(x2)
    if a.shape != b.shape:
        raise ValueError(f"Input shapes {tuple(a.shape)} and {tuple(b.shape)} must match for PSNR calculation.")
    mse = torch.mean(torch.square(a - b.to(a.device)))
    return 20.0 * math.log10(max_val) - 10.0 * torch.log10(mse)


def depth_to_space(x, block_size, data_format="channels_last"):
    """Moves ``block_size x block_size`` groups of channels into spatial blocks (TensorFlow's order).

    Output pixel ``(h*b + i, w*b + j)`` channel ``c`` is input pixel ``(h, w)`` channel
    ``(i*b + j)*C_out + c``, for both data formats (as TensorFlow; Keras's torch backend orders the
    channels differently for channels_first, so its two formats disagree).
    """
    x = _t(x)
    b = int(block_size)
    if data_format == "channels_first":
        n, c, h, w = x.shape
        return x.reshape(n, b, b, c // (b * b), h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c // (b * b), h * b, w * b)
    n, h, w, c = x.shape
    return x.reshape(n, h, w, b, b, c // (b * b)).permute(0, 1, 3, 2, 4, 5).reshape(n, h * b, w * b, c // (b * b))


def space_to_depth(x, block_size, data_format="channels_last"):
    """Moves spatial ``block_size x block_size`` blocks into channels (the inverse of ``depth_to_space``)."""
    x = _t(x)
    b = int(block_size)
    if data_format == "channels_first":
        n, c, h, w = x.shape
        return x.reshape(n, c, h // b, b, w // b, b).permute(0, 3, 5, 1, 2, 4).reshape(n, c * b * b, h // b, w // b)
    n, h, w, c = x.shape
    return x.reshape(n, h // b, b, w // b, b, c).permute(0, 1, 3, 2, 4, 5).reshape(n, h // b, w // b, c * b * b)


def _adaptive(kind, inputs, output_size, data_format):
    x = _float(inputs)
    rank = x.ndim - 2
    size = conv_utils.normalize_tuple(output_size, rank, "output_size")
    fn = {
        ("avg", 1): F.adaptive_avg_pool1d,
        ("avg", 2): F.adaptive_avg_pool2d,
        ("avg", 3): F.adaptive_avg_pool3d,
        ("max", 1): F.adaptive_max_pool1d,
        ("max", 2): F.adaptive_max_pool2d,
        ("max", 3): F.adaptive_max_pool3d,
    }[(kind, rank)]
    channels_last = (data_format or config.image_data_format()) == "channels_last"
    y = fn(x.movedim(-1, 1) if channels_last else x, size)
    return y.movedim(1, -1) if channels_last else y


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed ``output_size`` (PyTorch's adaptive bins)."""
    return _adaptive("avg", inputs, output_size, data_format)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed ``output_size`` (PyTorch's adaptive bins)."""
    return _adaptive("max", inputs, output_size, data_format)


__all__ = [
    "moments",
    "normalize",
    "batch_normalization",
    "layer_normalization",
    "rms_normalization",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "multi_hot",
    "in_top_k",
    "psnr",
    "depth_to_space",
    "space_to_depth",
    "adaptive_average_pool",
    "adaptive_max_pool",
]
