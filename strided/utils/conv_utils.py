"""Pure shape arithmetic for convolution and pooling (no torch, no NumPy arrays).

One function decides how TensorFlow/Keras split 'same' padding; the NumPy reference and the torch
ops both call it, so they agree by construction (DESIGN.md, decision 2).
"""

import math

import torch

from strided import config
from strided.utils import validation

_PADDING_HINT = {
    "equal": "Did you mean padding='same'?",
    "full": "Keras has no 'full' padding for this layer; use 'same', 'valid' or ZeroPadding2D.",
}


def normalize_tuple(value, n, name, allow_zero=False):
    """``3`` -> ``(3, 3)`` for n=2; checks length and that each entry is a positive integer.

    Error messages follow Keras: "The `kernel_size` argument must be a tuple of 2 integers.
    Received kernel_size=(3,)".
    """
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r}, "
                f"of length {len(value)}."
            )
        values = tuple(value)
    else:
        values = (value,) * n
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) and not (hasattr(v, "__index__")):
            raise TypeError(
                f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r} "
                f"including element {v!r} of type {type(v).__name__}."
            )
        v = int(v)
        if v < 0 or (v == 0 and not allow_zero):
            kind = ">= 0" if allow_zero else "> 0"
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers, each {kind}. Received {name}={value!r}."
            )
        out.append(v)
    return tuple(out)


def normalize_padding(value, allow_causal=False):
    """Lower-cases and checks a padding string: 'valid', 'same' (and 'causal' for Conv1D)."""
    choices = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if not isinstance(value, str):
        raise TypeError(
            f"Invalid type for argument `padding`. Expected one of {list(choices)}. Received padding={value!r}."
        )
    return validation.one_of(value, "padding", choices, hint=_PADDING_HINT.get(value.lower()))


def normalize_data_format(value):
    """``None`` -> the global default; otherwise checks 'channels_last'/'channels_first'."""
    if value is None:
        return config.image_data_format()
    if not isinstance(value, str) or value.lower() not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of 'channels_first', 'channels_last'. "
            f"Received: data_format={value!r}"
        )
    return value.lower()


def effective_kernel_size(kernel_size, dilation):
    """A dilated kernel covers (k - 1) * d + 1 input pixels."""
    return (kernel_size - 1) * dilation + 1


def same_padding(input_length, kernel_size, stride=1, dilation=1):
    """TensorFlow's 'same' padding as (before, after).

    total = max((ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0); the odd pixel goes after,
    so before = total // 2. PyTorch's symmetric padding differs when total is odd.
    """
    # ceil(n / s) with non-negative operands only: exported ONNX graphs divide integers by truncation
    out = (input_length + stride - 1) // stride
    total = (out - 1) * stride + effective_kernel_size(kernel_size, dilation) - input_length
    if type(total) is int:
        total = max(total, 0)
    else:  # a symbolic size (torch.export): a max without branching keeps the size dynamic
        total = torch.sym_max(total, 0)
    return total // 2, total - total // 2


def conv_output_length(input_length, kernel_size, padding, stride=1, dilation=1):
    """Output length of a convolution or pooling window, as Keras computes it.

    'valid': floor((n - dk) / s) + 1 with dk the dilated kernel; 'same' and 'causal': ceil(n / s).
    With explicit padding P on each side this is the seed's O = (I - K + 2P) / S + 1.
    ``None`` (unknown length) stays ``None``.
    """
    if input_length is None:
        return None
    dk = effective_kernel_size(kernel_size, dilation)
    if padding == "valid":
        return max((input_length - dk) // stride + 1, 0)
    if padding in ("same", "causal"):
        return (input_length + stride - 1) // stride
    if isinstance(padding, (tuple, list)):
        before, after = padding
        return max((input_length + before + after - dk) // stride + 1, 0)
    raise ValueError(
        f"Invalid value for argument `padding`. Expected 'valid', 'same' or a pair. Received padding={padding!r}."
    )


def deconv_output_length(input_length, kernel_size, padding, output_padding=None, stride=1, dilation=1):
    """Output length of a transposed convolution (Keras ``compute_conv_transpose_output_shape``)."""
    if input_length is None:
        return None
    dk = effective_kernel_size(kernel_size, dilation)
    if output_padding is None:
        if padding == "valid":
            return input_length * stride + max(dk - stride, 0)
        return input_length * stride
    pad = 0 if padding == "valid" else dk // 2
    return (input_length - 1) * stride + dk - 2 * pad + output_padding


def output_size_formula(input_size, kernel_size, padding=0, stride=1):
    """The seed-000 formula O = (I - K + 2P) / S + 1, floored as frameworks do."""
    return math.floor((input_size - kernel_size + 2 * padding) / stride) + 1
