"""Activation functions on torch tensors, with Keras's formulas and default hyperparameters.

``keras.ops`` names and defaults (e.g. ``ops.gelu(approximate=True)``, ``ops.leaky_relu(0.2)``);
``strided.activations`` wraps these with the ``keras.activations`` defaults. Each accepts a tensor,
a NumPy array or a Python number, and uses the fused torch function where one exists.
"""

import torch
import torch.nn.functional as F

from strided.ops.core import convert_to_tensor

__all__ = [
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "glu",
    "sigmoid",
    "hard_sigmoid",
    "log_sigmoid",
    "sparse_sigmoid",
    "silu",
    "swish",
    "hard_silu",
    "hard_swish",
    "tanh",
    "hard_tanh",
    "tanh_shrink",
    "soft_shrink",
    "hard_shrink",
    "threshold",
    "softplus",
    "softsign",
    "sparse_plus",
    "squareplus",
    "mish",
    "exponential",
    "linear",
    "softmax",
    "log_softmax",
    "sparsemax",
]


def _t(x):
    x = convert_to_tensor(x)
    if not (x.is_floating_point() or x.is_complex()):
        x = x.to(torch.get_default_dtype() if x.dtype == torch.bool else torch.float32)
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with Keras's options.

    ``max(x, 0)`` by default. With ``threshold``: values ``<= threshold`` become 0. With
    ``max_value``: the output is clipped at ``max_value``. With ``negative_slope``: below the threshold
    the output is ``negative_slope * (x - threshold)``.
    """
    x = _t(x)
    if negative_slope == 0.0 and threshold == 0.0:
        if max_value is None:
            return F.relu(x)
        if max_value == 6:
            return F.relu6(x)
        return torch.clamp(x, 0.0, float(max_value))
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return F.leaky_relu(x, negative_slope)
    negative_part = F.relu(threshold - x) if negative_slope != 0.0 else None
    y = torch.where(x > threshold, x, torch.zeros_like(x)) if threshold != 0.0 else F.relu(x)
    if max_value is not None:
        y = torch.clamp(y, 0.0, float(max_value))
    if negative_part is not None:
        y = y - negative_slope * negative_part
    return y


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return F.relu6(_t(x))


def leaky_relu(x, negative_slope=0.2):
    """``x`` if ``x >= 0`` else ``negative_slope * x`` (Keras default slope 0.2)."""
    return F.leaky_relu(_t(x), negative_slope)


def elu(x, alpha=1.0):
    """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return F.elu(_t(x), alpha)


def selu(x):
    """Scaled ELU with the self-normalising constants (alpha 1.6733, scale 1.0507)."""
    return F.selu(_t(x))


def celu(x, alpha=1.0):
    """``x`` if ``x >= 0`` else ``alpha * (exp(x / alpha) - 1)``."""
    return F.celu(_t(x), alpha)


def gelu(x, approximate=True):
    """Gaussian error linear unit; ``approximate=True`` uses the tanh formula (``keras.ops`` default)."""
    return F.gelu(_t(x), approximate="tanh" if approximate else "none")


def glu(x, axis=-1):
    """Gated linear unit: splits ``axis`` in halves ``a, b`` and returns ``a * sigmoid(b)``."""
    x = _t(x)
    if x.shape[axis] % 2:
        raise ValueError(f"axis size must be divisible by 2. Received: x.shape={tuple(x.shape)} with axis={axis}")
    return F.glu(x, dim=axis)


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    return torch.sigmoid(_t(x))


def hard_sigmoid(x):
    """Keras 3's piecewise-linear sigmoid: ``relu6(x + 3) / 6`` (0 below -3, 1 above 3)."""
    return F.hardsigmoid(_t(x))


def log_sigmoid(x):
    """``log(sigmoid(x))``, computed stably."""
    return F.logsigmoid(_t(x))


def sparse_sigmoid(x):
    """0 below -1, 1 above 1, ``(x + 1) / 2`` between."""
    x = _t(x)
    return torch.clamp((x + 1.0) / 2.0, 0.0, 1.0)


def silu(x):
    """Sigmoid linear unit, also called swish: ``x * sigmoid(x)``."""
    return F.silu(_t(x))


swish = silu


def hard_silu(x):
    """``x * hard_sigmoid(x)`` (hard swish)."""
    return F.hardswish(_t(x))


hard_swish = hard_silu


def tanh(x):
    """Hyperbolic tangent."""
    return torch.tanh(_t(x))


def hard_tanh(x):
    """``clip(x, -1, 1)``."""
    return F.hardtanh(_t(x))


def tanh_shrink(x):
    """``x - tanh(x)``."""
    return F.tanhshrink(_t(x))


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    return F.softshrink(_t(x), threshold)


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    return F.hardshrink(_t(x), threshold)


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    return F.threshold(_t(x), threshold, default_value)


def softplus(x):
    """``log(1 + exp(x))``, computed stably."""
    return F.softplus(_t(x))


def softsign(x):
    """``x / (1 + |x|)``."""
    return F.softsign(_t(x))


def sparse_plus(x):
    """0 for ``x <= -1``, ``(x + 1)^2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``."""
    x = _t(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x >= 1, x, (x + 1) ** 2 / 4))


def squareplus(x, b=4):
    """``(x + sqrt(x^2 + b)) / 2``."""
    x = _t(x)
    return (x + torch.sqrt(x * x + b)) / 2


def mish(x):
    """``x * tanh(softplus(x))``."""
    return F.mish(_t(x))


def exponential(x):
    """``exp(x)``."""
    return torch.exp(_t(x))


def linear(x):
    """The identity (the activation of a layer built with ``activation=None``)."""
    return x


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis`` (``axis=None``: over all elements)."""
    x = _t(x)
    if axis is None:
        return F.softmax(x.reshape(-1), dim=0).reshape(x.shape)
    if isinstance(axis, (tuple, list)):
        return torch.exp(x - torch.logsumexp(x, dim=tuple(axis), keepdim=True))
    return F.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    """``x - log(sum(exp(x)))`` along ``axis``, computed stably."""
    x = _t(x)
    if axis is None:
        return F.log_softmax(x.reshape(-1), dim=0).reshape(x.shape)
    if isinstance(axis, (tuple, list)):
        return x - torch.logsumexp(x, dim=tuple(axis), keepdim=True)
    return F.log_softmax(x, dim=axis)


def sparsemax(x, axis=-1):
    """Euclidean projection of ``x`` onto the probability simplex (sparse softmax) along ``axis``."""
    x = _t(x)
    z = x.movedim(axis, -1)
    zs, _ = torch.sort(z, dim=-1, descending=True)
    k = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    cumsum = zs.cumsum(-1)
    support = (1 + k * zs) > cumsum
    k_z = support.sum(dim=-1, keepdim=True)
    tau = (cumsum.gather(-1, k_z - 1) - 1) / k_z.to(z.dtype)
    return torch.clamp(z - tau, min=0).movedim(-1, axis)
