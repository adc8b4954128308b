"""Layer-facing convolution and pooling kernels: torch-layout weights, Keras semantics.

These are what the layers call with the parameters they store, which are torch-native:

=====================  =====================================  ===============================
op                     weight layout here (torch)             Keras layout (``get_weights``)
=====================  =====================================  ===============================
``conv``               ``(filters, in // groups, *k)``         ``(*k, in // groups, filters)``
``conv_transpose``     ``(in, filters, *k)``                   ``(*k, filters, in)``
``depthwise_conv``     ``(in * multiplier, 1, *k)``            ``(*k, in, multiplier)``
``separable_conv``     depthwise as above, pointwise as conv   same
=====================  =====================================  ===============================

``to_torch_layout``/``to_keras_layout`` convert between the two (for ``set_weights`` /
``get_weights`` and saved files).

Inputs are in Keras layout: ``(N, *spatial, C)`` for channels_last, ``(N, C, *spatial)`` for
channels_first. A channels_last input is viewed as NC... with ``x.movedim(-1, 1)`` - zero-copy,
and already in torch's channels_last memory format, the fast path of oneDNN and cuDNN - and the
result is moved back with ``movedim(1, -1)``, zero-copy again.

'same' padding is TensorFlow's: when the total padding is odd the extra pixel goes after
(``conv_utils.same_padding``). When before == after torch's own symmetric padding is used; otherwise
the input is padded explicitly first.
"""

import functools

import numpy as np
import torch
import torch.nn.functional as F

from strided import config
from strided.ops.core import convert_to_tensor
from strided.utils import conv_utils

__all__ = [
    "conv",
    "conv_transpose",
    "depthwise_conv",
    "separable_conv",
    "max_pool",
    "average_pool",
    "conv_transpose_cropped",
    "to_torch_layout",
    "to_keras_layout",
]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


# ---------------------------------------------------------------- argument checks (shared)


def _as_tensor(x, like=None, name="inputs"):
    """A layer's input as a tensor: :func:`convert_to_tensor` behind a Keras-style type check, then the layer's
    dtype rule. With ``like`` (the weight), cast to its dtype and device; without it, integers and booleans
    compute in ``floatx()`` (NumPy floats keep their dtype), as Keras layers autocast their inputs.
    """
    if not isinstance(x, torch.Tensor):
        try:
            arr = np.asarray(x)
        except Exception:  # noqa: BLE001 - re-raised as a Keras-style error
            arr = None
        if arr is None or arr.dtype.kind not in "biuf":
            raise TypeError(
                f"Invalid type for argument `{name}`. Expected a tensor or a numeric array. "
                f"Received {name} of type {type(x).__name__}."
            )
        # np.array copies: the tensor never shares the caller's memory
        x = convert_to_tensor(np.array(arr), device=None if like is None else like.device)
    if like is not None:
        if x.dtype != like.dtype or x.device != like.device:
            x = x.to(device=like.device, dtype=like.dtype)
    elif not x.is_floating_point():
        x = x.to(config.torch_dtype(None))
    return x


def _check_rank(x, rank, name="inputs", what="convolution"):
    _check_rank_shape(tuple(x.shape), rank, name, what)


def _check_rank_shape(shape, rank, name="inputs", what="convolution"):
    if len(shape) != rank + 2:
        raise ValueError(
            f"Invalid shape for argument `{name}`: a {rank}D {what} expects a tensor of rank "
            f"{rank + 2} (batch, *spatial, channels), got rank {len(shape)}. "
            f"Received {name}.shape={tuple(shape)}."
        )


def _spatial_rank(ndim, name, shape):
    rank = ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(
            f"Invalid shape for argument `{name}`: expected a tensor of rank 3, 4 or 5 "
            f"(1D, 2D or 3D). Received {name}.shape={tuple(shape)}."
        )
    return rank


def _to_torch_order(x, data_format):
    """Keras layout -> (N, C, *spatial) view, zero-copy."""
    return x.movedim(-1, 1) if data_format == "channels_last" else x


def _from_torch_order(y, data_format):
    return y.movedim(1, -1) if data_format == "channels_last" else y


def _window_args(rank, kernel_size, strides, dilation_rate, padding, allow_causal=False):
    strides = conv_utils.normalize_tuple(strides, rank, "strides")
    dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, "dilation_rate")
    padding = conv_utils.normalize_padding(padding, allow_causal=allow_causal and rank == 1)
    return tuple(int(k) for k in kernel_size), strides, dilation_rate, padding


def _pads(spatial, kernel_size, strides, dilation_rate, padding, x_shape, kernel_name, kernel_shape):
    """[(before, after)] per axis; checks that a 'valid' window fits in the input."""
    pads = []
    for axis, (n, k, s, d) in enumerate(zip(spatial, kernel_size, strides, dilation_rate)):
        span = (k - 1) * d + 1
        if padding == "valid":
            if span > n:
                raise ValueError(
                    f"The {kernel_name} (size {k}, dilation {d}, spanning {span} pixels) is larger than the "
                    f"input along spatial axis {axis} (length {n}) with padding='valid'; the output would be "
                    f"empty. Use padding='same' or a smaller `{kernel_name}`. Received inputs.shape="
                    f"{tuple(x_shape)}, {kernel_name}={tuple(kernel_shape)}."
                )
            pads.append((0, 0))
        elif padding == "same":
            pads.append(conv_utils.same_padding(n, k, s, d))
        else:  # causal: output t sees only inputs <= t
            pads.append((span - 1, 0))
    return pads


def _torch_pad_arg(pads):
    """[(b0, a0), (b1, a1)] -> F.pad's order, last axis first: (b1, a1, b0, a0)."""
    out = []
    for before, after in reversed(pads):
        out += [before, after]
    return out


def _symmetric(pads):
    """True when every axis pads equally on both sides. Symbolic pads (``torch.export`` tracing an input
    size left dynamic) count as asymmetric: comparing them would fix the traced size's parity."""
    return all(type(b) is int and type(a) is int and b == a for b, a in pads)


def _apply_padding(xt, pads, value=0.0):
    """Returns (input, torch_padding): symmetric padding is left to torch, asymmetric done here."""
    if _symmetric(pads):
        return xt, tuple(b for b, _ in pads)
    return F.pad(xt, _torch_pad_arg(pads), value=value), (0,) * len(pads)


# ---------------------------------------------------------------- convolutions


def conv(x, weight, bias=None, strides=1, padding="valid", data_format="channels_last", dilation_rate=1, groups=1):
    """N-D convolution (N = weight.ndim - 2) with a torch-layout weight.

    Args:
        x: tensor ``(N, *spatial, C)`` (channels_last) or ``(N, C, *spatial)`` (channels_first).
        weight: tensor ``(filters, C // groups, *kernel_size)``.
        bias: optional tensor ``(filters,)``.
        strides, dilation_rate: int or tuple.
        padding: 'valid', 'same' (TensorFlow split), or 'causal' (1D).
        data_format: 'channels_last' (default) or 'channels_first'; None = the global default.
        groups: number of channel groups.

    Returns:
        Tensor ``(N, *out, filters)`` (channels_first: ``(N, filters, *out)``) with
        ``out = ceil(n / s)`` for 'same'/'causal', ``floor((n - (k-1)*d - 1) / s) + 1`` for 'valid'.
    """
    if type(x) is not torch.Tensor or x.dtype != weight.dtype or x.device != weight.device:
        x = _as_tensor(x, weight)
    rank, data_format, strides, dilation_rate, torch_padding, pad_arg = _planned(_conv_plan, x)(
        tuple(x.shape),
        tuple(weight.shape),
        tuple(strides) if type(strides) is list else strides,
        padding,
        data_format or config.image_data_format(),
        tuple(dilation_rate) if type(dilation_rate) is list else dilation_rate,
        int(groups),
    )
    # (the layout moves of _to_torch_order/_from_torch_order, inline: this runs once per layer per step)
    xt = x.movedim(-1, 1) if data_format == "channels_last" else x
    if pad_arg is not None:
        xt = F.pad(xt, pad_arg)
    y = _CONV[rank](xt, weight, bias, strides, torch_padding, dilation_rate, int(groups))
    return y.movedim(1, -1) if data_format == "channels_last" else y


def _key(value):
    """Arguments as hashable cache keys (lists become tuples)."""
    return tuple(value) if isinstance(value, list) else value


def _planned(plan, x):
    """The cached ``plan``, or the uncached function while ``torch.export`` traces symbolic sizes
    (a SymInt cannot be hashed into the cache key)."""
    try:
        hash(x.shape)
    except TypeError:
        return plan.__wrapped__
    return plan


# Validation and padding arithmetic depend only on shapes and arguments, so they run once per
# distinct call signature; a training step then goes straight to the torch kernel.
@functools.lru_cache(maxsize=1024)
def _conv_plan(x_shape, w_shape, strides, padding, data_format, dilation_rate, groups):
    rank = _spatial_rank(len(w_shape), "weight", w_shape)
    _check_rank_shape(x_shape, rank)
    data_format = conv_utils.normalize_data_format(data_format)
    kernel_size, strides, dilation_rate, padding = _window_args(
        rank, w_shape[2:], strides, dilation_rate, padding, allow_causal=True
    )
    channels = x_shape[-1] if data_format == "channels_last" else x_shape[1]
    spatial = x_shape[1:-1] if data_format == "channels_last" else x_shape[2:]
    if channels != w_shape[1] * groups or w_shape[0] % groups:
        raise ValueError(
            f"The number of input channels does not match the kernel: `inputs` has {channels} channels "
            f"but the kernel expects {w_shape[1] * groups} ({w_shape[1]} per group x {groups} "
            f"groups). Received inputs.shape={tuple(x_shape)} ({data_format}), weight.shape="
            f"{tuple(w_shape)} (torch layout (filters, in // groups, *kernel_size))."
        )
    pads = _pads(spatial, kernel_size, strides, dilation_rate, padding, x_shape, "kernel", w_shape)
    if _symmetric(pads):
        return rank, data_format, strides, dilation_rate, tuple(b for b, _ in pads), None
    return rank, data_format, strides, dilation_rate, (0,) * rank, tuple(_torch_pad_arg(pads))


def depthwise_conv(x, weight, bias=None, strides=1, padding="valid", data_format="channels_last", dilation_rate=1):
    """Depthwise convolution with a torch-layout weight ``(C * multiplier, 1, *kernel_size)``.

    Output channel ``c * multiplier + m`` is input channel ``c`` convolved with its ``m``-th filter,
    TensorFlow's ordering.
    """
    rank = _spatial_rank(weight.ndim, "weight", weight.shape)
    x = _as_tensor(x, weight)
    _check_rank(x, rank)
    data_format = conv_utils.normalize_data_format(data_format)
    channels = x.shape[1] if data_format == "channels_first" else x.shape[-1]
    if weight.shape[1] != 1 or weight.shape[0] % channels:
        raise ValueError(
            f"The depthwise kernel does not match the input channels: `inputs` has {channels} channels, "
            f"the weight must have shape ({channels} * depth_multiplier, 1, *kernel_size). Received "
            f"inputs.shape={tuple(x.shape)}, weight.shape={tuple(weight.shape)}."
        )
    return conv(x, weight, bias, strides, padding, data_format, dilation_rate, groups=channels)


def separable_conv(
    x,
    depthwise_weight,
    pointwise_weight,
    bias=None,
    strides=1,
    padding="valid",
    data_format="channels_last",
    dilation_rate=1,
):
    """Depthwise convolution then a 1x1 convolution; strides and dilation apply to the depthwise step.

    Args:
        depthwise_weight: ``(C * multiplier, 1, *kernel_size)``.
        pointwise_weight: ``(filters, C * multiplier, 1, ..., 1)``.
        bias: optional ``(filters,)``, added after the pointwise step.
    """
    y = depthwise_conv(x, depthwise_weight, None, strides, padding, data_format, dilation_rate)
    return conv(y, pointwise_weight, bias, 1, "valid", data_format, 1)


def conv_transpose(
    x, weight, bias=None, strides=1, padding="valid", output_padding=None, data_format="channels_last", dilation_rate=1
):
    """Transposed convolution with a torch-layout weight ``(C_in, filters, *kernel_size)``.

    The output length per axis is Keras's (``conv_utils.deconv_output_length``):
    'valid': ``n*s + max(dk - s, 0)``; 'same': ``n*s``; with ``output_padding`` p:
    ``(n-1)*s + dk - 2*(dk//2 if same else 0) + p`` (dk the dilated kernel). The values are
    TensorFlow's: the exact gradient of the forward convolution of that output length, so the odd
    'same' pixel is cropped at the end, as the forward op pads it there.
    """
    rank = _spatial_rank(weight.ndim, "weight", weight.shape)
    x = _as_tensor(x, weight)
    _check_rank(x, rank, what="transposed convolution")
    data_format = conv_utils.normalize_data_format(data_format)
    kernel_size, strides, dilation_rate, padding = _window_args(rank, weight.shape[2:], strides, dilation_rate, padding)
    if output_padding is not None:
        output_padding = conv_utils.normalize_tuple(output_padding, rank, "output_padding", allow_zero=True)
        for p, s, d in zip(output_padding, strides, dilation_rate):
            if p >= max(s, d):
                raise ValueError(
                    f"The `output_padding` argument must be smaller than the stride (or the "
                    f"dilation rate). Received output_padding={output_padding}, strides={strides}."
                )
    xt = _to_torch_order(x, data_format)
    if xt.shape[1] != weight.shape[0]:
        raise ValueError(
            f"The number of input channels does not match the kernel: `inputs` has {xt.shape[1]} channels "
            f"but the kernel expects {weight.shape[0]}. Received inputs.shape={tuple(x.shape)} "
            f"({data_format}), weight.shape={tuple(weight.shape)} (torch layout (in, filters, *kernel_size))."
        )
    out_len, before = [], []
    for i in range(rank):
        n, k, s, d = xt.shape[2 + i], kernel_size[i], strides[i], dilation_rate[i]
        op = None if output_padding is None else output_padding[i]
        length = conv_utils.deconv_output_length(n, k, padding, op, s, d)
        out_len.append(length)
        # Centre the crop of the full canvas ((n-1)*s + dk long), odd pixel cropped at the end. This
        # is TF's split (same_padding of the forward conv of this length) whenever TF accepts the
        # shapes, and Keras's choice where TF refuses them (even kernel with output_padding=0).
        before.append(max(((n - 1) * s + (k - 1) * d + 1 - length) // 2, 0))
    y = conv_transpose_cropped(xt, weight, bias, strides, dilation_rate, out_len, before)
    return _from_torch_order(y, data_format)


def conv_transpose_cropped(xt, weight, bias, strides, dilation_rate, out_len, before):
    """Transposed convolution of a (N, C, *spatial) tensor, cropped to explicit output lengths.

    The full result - every stamp of the kernel, length ``(n - 1) * s + (k - 1) * d + 1`` per axis -
    is cropped to ``[before, before + out_len)`` (zero-extended past its end). This is the gradient
    of a forward convolution of an input of length ``out_len`` padded by ``before`` at the start,
    TensorFlow's definition (also used by ``strided.nn.conv2d_transpose`` with ``output_shape``).
    """
    rank = weight.ndim - 2
    full = [(n - 1) * s + (k - 1) * d + 1 for n, k, s, d in zip(xt.shape[2:], weight.shape[2:], strides, dilation_rate)]
    native_op = [o - f + 2 * b for o, f, b in zip(out_len, full, before)]
    fn = _CONV_T[rank]
    # torch crops `padding` at both ends then appends `output_padding` (< max(stride, dilation)) at
    # the end; when the crop fits that pattern one native call does it all.
    if all(0 <= p < max(s, d) for p, s, d in zip(native_op, strides, dilation_rate)):
        return fn(xt, weight, bias, tuple(strides), tuple(before), tuple(native_op), 1, tuple(dilation_rate))
    y = fn(xt, weight, None, tuple(strides), 0, 0, 1, tuple(dilation_rate))
    # Negative F.pad amounts crop: keep [before, before + length) of the full canvas.
    y = F.pad(y, _torch_pad_arg([(-b, o - (f - b)) for b, o, f in zip(before, out_len, full)]))
    if bias is not None:
        y = y + bias.reshape(1, -1, *([1] * rank))
    return y


# ---------------------------------------------------------------- pooling


def _pool_args(x, pool_size, strides, padding, data_format):
    rank, pool_size, strides, data_format, pads = _planned(_pool_plan, x)(
        tuple(x.shape), _key(pool_size), _key(strides), padding, data_format or config.image_data_format()
    )
    return rank, pool_size, strides, data_format, _to_torch_order(x, data_format), pads


@functools.lru_cache(maxsize=1024)
def _pool_plan(x_shape, pool_size, strides, padding, data_format):
    rank = _spatial_rank(len(x_shape), "inputs", x_shape)
    pool_size = conv_utils.normalize_tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else strides
    data_format = conv_utils.normalize_data_format(data_format)
    _, strides, _, padding = _window_args(rank, pool_size, strides, 1, padding)
    spatial = x_shape[1:-1] if data_format == "channels_last" else x_shape[2:]
    pads = _pads(spatial, pool_size, strides, (1,) * rank, padding, x_shape, "pool_size", pool_size)
    return rank, pool_size, strides, data_format, tuple(pads)


def max_pool(x, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling, rank 1-3 (from ``x.ndim``); 'same' never lets padding win (pads with -inf).

    Args:
        x: tensor ``(N, *spatial, C)`` or ``(N, C, *spatial)``.
        pool_size: int or tuple.
        strides: int or tuple, defaults to ``pool_size``.
        padding: 'valid' or 'same'.
        data_format: 'channels_last', 'channels_first' or None (global default).

    Returns:
        Tensor ``(N, *out, C)`` with ``out = floor((n - k) / s) + 1`` ('valid') or ``ceil(n / s)``.
    """
    x = _as_tensor(x)
    rank, pool_size, strides, data_format, xt, pads = _pool_args(x, pool_size, strides, padding, data_format)
    xt, torch_padding = _apply_padding(xt, pads, value=-float("inf"))
    y = _MAX_POOL[rank](xt, pool_size, strides, torch_padding)
    return _from_torch_order(y, data_format)


def average_pool(x, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling, rank 1-3; with 'same' the padded pixels are not counted (TensorFlow).

    Args and Returns as ``max_pool``.
    """
    x = _as_tensor(x)
    rank, pool_size, strides, data_format, xt, pads = _pool_args(x, pool_size, strides, padding, data_format)
    fn = _AVG_POOL[rank]
    if _symmetric(pads):
        y = fn(xt, pool_size, strides, tuple(b for b, _ in pads), count_include_pad=False)
    else:
        # Asymmetric: average over the zero-padded input, then rescale by the fraction of each
        # window that is real input (pooled from a one-channel mask, cheap).
        y = fn(F.pad(xt, _torch_pad_arg(pads)), pool_size, strides)
        mask = F.pad(xt.new_ones((1, 1, *xt.shape[2:])), _torch_pad_arg(pads))
        y = y / fn(mask, pool_size, strides)
    return _from_torch_order(y, data_format)


# ---------------------------------------------------------------- layouts


def to_torch_layout(kernel, kind="conv"):
    """Keras-layout kernel -> torch-layout weight.

    Args:
        kernel: tensor or array in Keras layout.
        kind: 'conv' ``(*k, in, out) -> (out, in, *k)``; 'conv_transpose'
            ``(*k, out, in) -> (in, out, *k)``; 'depthwise' ``(*k, in, mult) -> (in*mult, 1, *k)``.
    """
    kernel = kernel if isinstance(kernel, torch.Tensor) else torch.as_tensor(np.asarray(kernel))
    r = kernel.ndim - 2
    if kind in ("conv", "conv_transpose"):
        return kernel.permute(r + 1, r, *range(r))
    if kind == "depthwise":
        return kernel.reshape(*kernel.shape[:r], -1).movedim(-1, 0).unsqueeze(1)
    raise ValueError(
        f"Invalid value for argument `kind`. Expected one of ['conv', 'conv_transpose', "
        f"'depthwise']. Received kind={kind!r}."
    )


def to_keras_layout(weight, kind="conv", depth_multiplier=None):
    """Torch-layout weight -> Keras-layout kernel (inverse of ``to_torch_layout``).

    ``depth_multiplier`` is needed for kind='depthwise' (``(in*mult, 1, *k) -> (*k, in, mult)``).
    """
    weight = weight if isinstance(weight, torch.Tensor) else torch.as_tensor(np.asarray(weight))
    r = weight.ndim - 2
    if kind in ("conv", "conv_transpose"):
        return weight.permute(*range(2, r + 2), 1, 0)
    if kind == "depthwise":
        if depth_multiplier is None:
            raise ValueError("Argument `depth_multiplier` is required for kind='depthwise'.")
        k = weight.shape[2:]
        return weight.squeeze(1).movedim(0, -1).reshape(*k, -1, int(depth_multiplier))
    raise ValueError(
        f"Invalid value for argument `kind`. Expected one of ['conv', 'conv_transpose', "
        f"'depthwise']. Received kind={kind!r}."
    )
