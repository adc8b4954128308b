"""``keras.ops``-compatible convolutions: Keras-layout kernels, converted and passed to ``kernels``.

Same signatures and defaults as ``keras.ops.conv``, ``depthwise_conv``, ``separable_conv`` and
``conv_transpose``. Inputs and kernels may be tensors or NumPy arrays; the computation dtype is the
promoted float dtype of the two (integers become ``floatx()``).
"""

import torch

from strided import config
from strided.ops import _kernels
from strided.ops.core import convert_to_tensor
from strided.utils import conv_utils

__all__ = ["conv", "depthwise_conv", "separable_conv", "conv_transpose"]


def _prepare(inputs, *kernels_, names=("kernel",)):
    """Tensors with a common float dtype on the input's device; checks the kernel ranks."""
    x = convert_to_tensor(inputs)
    ks = [convert_to_tensor(k) for k in kernels_]
    dtype = None
    for t in (x, *ks):
        if t.is_floating_point():
            dtype = t.dtype if dtype is None else torch.promote_types(dtype, t.dtype)
    dtype = dtype or config.torch_dtype(None)
    x = x.to(dtype)
    ks = [k.to(device=x.device, dtype=dtype) for k in ks]
    for k, name in zip(ks, names):
        if k.ndim not in (3, 4, 5):
            raise ValueError(
                f"Invalid shape for argument `{name}`: expected a kernel of rank 3, 4 or 5 "
                f"(*kernel_size, in, out). Received {name}.shape={tuple(k.shape)}."
            )
        if x.ndim != k.ndim:
            raise ValueError(
                f"`inputs` and `{name}` must have the same rank: a {k.ndim - 2}D kernel needs "
                f"inputs of rank {k.ndim}. Received inputs.shape={tuple(x.shape)}, "
                f"{name}.shape={tuple(k.shape)}."
            )
    return x, ks


def _channels(x, data_format):
    return x.shape[1] if data_format == "channels_first" else x.shape[-1]


def _check_in_channels(x, data_format, kernel, kind, name="kernel", axis=-2, layout=""):
    """The kernel's input channels (``kernel.shape[axis]``) must be the input's channels."""
    if kernel.shape[axis] != _channels(x, data_format):
        raise ValueError(
            f"The {kind} kernel's input channels ({name}.shape[{axis}]{layout}) must equal the input channels. "
            f"Received inputs.shape={tuple(x.shape)} ({data_format}), {name}.shape={tuple(kernel.shape)}."
        )


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """General N-D convolution (N = 1, 2, 3), ``keras.ops.conv``.

    Args:
        inputs: tensor of rank N+2, ``(batch, *spatial, C)`` (channels_last) or ``(batch, C, *spatial)``.
        kernel: tensor ``(*kernel_size, C // groups, filters)``; fewer kernel input channels than
            ``C`` means a grouped convolution with ``groups = C // kernel.shape[-2]``.
        strides: int or tuple of N ints.
        padding: 'valid' or 'same' (TensorFlow split: the odd pixel goes after); 'causal' for 1D.
        data_format: 'channels_last', 'channels_first' or None (global default).
        dilation_rate: int or tuple of N ints.

    Returns:
        Tensor of rank N+2 with ``filters`` channels.
    """
    data_format = conv_utils.normalize_data_format(data_format)
    x, (k,) = _prepare(inputs, kernel)
    channels, k_in, filters = _channels(x, data_format), k.shape[-2], k.shape[-1]
    if k_in == 0 or channels % k_in or filters % (channels // k_in or 1):
        raise ValueError(
            f"The number of input channels must be a multiple of the kernel's input channels "
            f"(kernel.shape[-2]), and the groups must divide the filters. Received inputs.shape="
            f"{tuple(x.shape)} ({channels} channels, {data_format}), kernel.shape={tuple(k.shape)}."
        )
    return _kernels.conv(
        x,
        _kernels.to_torch_layout(k, "conv"),
        None,
        strides,
        padding,
        data_format,
        dilation_rate,
        groups=channels // k_in,
    )


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution, ``keras.ops.depthwise_conv``.

    Args:
        inputs: tensor ``(batch, *spatial, C)`` or channels_first.
        kernel: tensor ``(*kernel_size, C, depth_multiplier)``.

    Returns:
        Tensor with ``C * depth_multiplier`` channels, channel ``c * m + j`` from input channel ``c``.
    """
    data_format = conv_utils.normalize_data_format(data_format)
    x, (k,) = _prepare(inputs, kernel)
    _check_in_channels(x, data_format, k, "depthwise")
    return _kernels.depthwise_conv(
        x, _kernels.to_torch_layout(k, "depthwise"), None, strides, padding, data_format, dilation_rate
    )


def separable_conv(
    inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """Depthwise then pointwise (1x1) convolution, ``keras.ops.separable_conv``.

    Args:
        depthwise_kernel: ``(*kernel_size, C, depth_multiplier)``.
        pointwise_kernel: ``(1, ..., 1, C * depth_multiplier, filters)``.
    """
    data_format = conv_utils.normalize_data_format(data_format)
    x, (dk, pk) = _prepare(inputs, depthwise_kernel, pointwise_kernel, names=("depthwise_kernel", "pointwise_kernel"))
    _check_in_channels(x, data_format, dk, "depthwise", name="depthwise_kernel")
    if pk.shape[-2] != dk.shape[-2] * dk.shape[-1] or any(s != 1 for s in pk.shape[:-2]):
        raise ValueError(
            f"The pointwise kernel must have shape (1, ..., 1, {dk.shape[-2] * dk.shape[-1]}, filters) for "
            f"this depthwise kernel. Received depthwise_kernel.shape={tuple(dk.shape)}, "
            f"pointwise_kernel.shape={tuple(pk.shape)}."
        )
    return _kernels.separable_conv(
        x,
        _kernels.to_torch_layout(dk, "depthwise"),
        _kernels.to_torch_layout(pk, "conv"),
        None,
        strides,
        padding,
        data_format,
        dilation_rate,
    )


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """Transposed convolution, ``keras.ops.conv_transpose``, TensorFlow values.

    Args:
        inputs: tensor ``(batch, *spatial, C)`` or channels_first.
        kernel: tensor ``(*kernel_size, filters, C)`` (Keras's transposed layout: out before in).
        output_padding: None, int or tuple; the extra length at the end of each axis.

    Returns:
        Tensor with ``filters`` channels, spatial lengths from ``conv_utils.deconv_output_length``.
    """
    data_format = conv_utils.normalize_data_format(data_format)
    x, (k,) = _prepare(inputs, kernel)
    _check_in_channels(x, data_format, k, "transposed", axis=-1, layout=", layout (*kernel_size, filters, in)")
    return _kernels.conv_transpose(
        x,
        _kernels.to_torch_layout(k, "conv_transpose"),
        None,
        strides,
        padding,
        output_padding,
        data_format,
        dilation_rate,
    )
