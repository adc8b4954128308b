"""TensorFlow ``tf.nn``-style functions, so that course code such as

    ny_convolved = tf.nn.conv2d(ny4D, W4d, strides=1, padding='SAME')
    plt.imshow(ny_convolved[0, :, :, 0], cmap='gray')

runs with ``tf`` replaced by ``strided``. Layouts are TensorFlow's: NHWC inputs (``data_format``
'NWC'/'NHWC'/'NDHWC', or 'NCW'/'NCHW'/'NCDHW'), HWIO filters (= Keras kernels). ``strides``,
``ksize`` and ``dilations`` are an int or a list of length 1, N or N+2 (the batch and channel
entries must be 1); ``padding`` is 'SAME'/'VALID' in any case, or explicit ``[[before, after], ...]``
pairs (N or N+2 of them).

Eager-friendly results: when no input is a tensor that requires grad (e.g. NumPy input), the op
runs under ``torch.no_grad()`` and returns a CPU tensor, so ``.numpy()``, ``np.swapaxes(out, 0, 3)``
and ``plt.imshow(out[0, :, :, 0])`` all work. Tensors that require grad keep autograd and device.
"""

import numpy as np
import torch

from strided import config
from strided.ops import _kernels
from strided.ops import nn_functions as _f
from strided.ops.core import convert_to_tensor
from strided.utils import conv_utils

__all__ = [
    "constant",
    "convolution",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv2d_transpose",
    "conv_transpose",
    "depthwise_conv2d",
    "max_pool",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "bias_add",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "sigmoid",
    "tanh",
    "softplus",
    "softsign",
    "silu",
    "swish",
    "softmax",
    "log_softmax",
]

_FORMATS = {
    "NWC": "channels_last",
    "NHWC": "channels_last",
    "NDHWC": "channels_last",
    "NCW": "channels_first",
    "NCHW": "channels_first",
    "NCDHW": "channels_first",
    "CHANNELS_LAST": "channels_last",
    "CHANNELS_FIRST": "channels_first",
}


# ---------------------------------------------------------------- helpers


def _tensors(*values):
    """Tensors with a common dtype/device, and whether autograd is needed."""
    ts = [convert_to_tensor(v) for v in values]
    needs_grad = any(t.requires_grad for t in ts)
    dtype = None
    for t in ts:
        if t.is_floating_point():
            dtype = t.dtype if dtype is None else torch.promote_types(dtype, t.dtype)
    dtype = dtype or config.torch_dtype(None)
    device = next((v.device for v in values if isinstance(v, torch.Tensor)), ts[0].device)
    return [t.to(device=device, dtype=dtype) for t in ts], needs_grad


def _eager(fn, needs_grad):
    """Runs ``fn``; without autograd, under no_grad and returning a CPU tensor."""
    if needs_grad:
        return fn()
    with torch.no_grad():
        return fn().cpu()


def _data_format(data_format, rank):
    if data_format is None:
        return "channels_last"
    key = str(data_format).upper()
    if key not in _FORMATS:
        names = {1: "'NWC' or 'NCW'", 2: "'NHWC' or 'NCHW'", 3: "'NDHWC' or 'NCDHW'"}[rank]
        raise ValueError(
            f"Invalid value for argument `data_format`. Expected {names}. Received data_format={data_format!r}."
        )
    return _FORMATS[key]


def _per_axis(value, rank, name, data_format, default=1):
    """TF's int / [v] / [v]*N / [1, *v, 1] convention -> a tuple of N ints."""
    if value is None:
        return (default,) * rank
    if isinstance(value, (int, np.integer)):
        values = (int(value),) * rank
    else:
        value = list(np.asarray(value).reshape(-1).tolist())
        if len(value) == 1:
            values = tuple(value) * rank
        elif len(value) == rank:
            values = tuple(value)
        elif len(value) == rank + 2:
            outer = (value[0], value[1]) if data_format == "channels_first" else (value[0], value[-1])
            if any(v != 1 for v in outer):
                raise ValueError(
                    f"The `{name}` argument must be 1 along the batch and channel dimensions. Received {name}={value}."
                )
            values = tuple(value[2:] if data_format == "channels_first" else value[1:-1])
        else:
            raise ValueError(
                f"The `{name}` argument must be an int or a list of length 1, {rank} or {rank + 2}. "
                f"Received {name}={value}."
            )
    return conv_utils.normalize_tuple(values, rank, name)


def _padding(padding, rank, data_format):
    """'SAME'/'VALID' (any case) -> the Keras string; explicit pairs -> list of (before, after)."""
    if isinstance(padding, str):
        return conv_utils.normalize_padding(padding)
    try:
        pairs = [tuple(int(v) for v in pair) for pair in padding]
    except (TypeError, ValueError):
        raise ValueError(
            f"Invalid value for argument `padding`. Expected 'SAME', 'VALID' or a list of "
            f"[before, after] pairs. Received padding={padding!r}."
        ) from None
    if len(pairs) == rank + 2:
        pairs = pairs[2:] if data_format == "channels_first" else pairs[1:-1]
    if len(pairs) != rank or any(len(p) != 2 or min(p) < 0 for p in pairs):
        raise ValueError(
            f"Invalid value for argument `padding`: expected {rank} (or {rank + 2}) non-negative "
            f"[before, after] pairs. Received padding={padding!r}."
        )
    return pairs


def _explicit_pad(x, pairs, data_format):
    xt = x.movedim(-1, 1) if data_format == "channels_last" else x
    pad = []
    for before, after in reversed(pairs):
        pad += [before, after]
    xt = torch.nn.functional.pad(xt, pad)
    return xt.movedim(1, -1) if data_format == "channels_last" else xt


def _rank_check(x, rank, name="input"):
    if x.ndim != rank + 2:
        raise ValueError(
            f"Invalid shape for argument `{name}`: expected a tensor of rank {rank + 2} for a {rank}D "
            f"op. Received {name}.shape={tuple(x.shape)}."
        )


# ---------------------------------------------------------------- convolutions


def convolution(input, filters, strides=None, padding="VALID", data_format=None, dilations=None, name=None):
    """N-D convolution (``tf.nn.convolution``), N from ``filters.ndim - 2``.

    Args:
        input: ``(batch, *spatial, in_channels)`` (or channels-first with ``data_format='NC...'``).
        filters: ``(*kernel_size, in_channels, out_channels)``.
        strides, dilations: int or list (length 1, N or N+2).
        padding: 'SAME', 'VALID' (any case) or explicit pairs.
        data_format: 'NWC'/'NHWC'/'NDHWC' (default) or 'NCW'/'NCHW'/'NCDHW'.
        name: ignored (TensorFlow graph name).

    Returns:
        Tensor ``(batch, *out, out_channels)``.
    """
    (x, w), needs_grad = _tensors(input, filters)
    rank = w.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(
            f"Invalid shape for argument `filters`: expected rank 3, 4 or 5 (*kernel_size, in, out). "
            f"Received filters.shape={tuple(w.shape)}."
        )
    _rank_check(x, rank)
    data_format = _data_format(data_format, rank)
    strides = _per_axis(strides, rank, "strides", data_format)
    dilations = _per_axis(dilations, rank, "dilations", data_format)
    padding = _padding(padding, rank, data_format)
    channels = x.shape[1] if data_format == "channels_first" else x.shape[-1]
    if w.shape[-2] == 0 or channels % w.shape[-2]:
        raise ValueError(
            f"The input channels must match filters.shape[-2]. Received input.shape={tuple(x.shape)}, "
            f"filters.shape={tuple(w.shape)}."
        )

    def run():
        xp, pad = (x, padding) if isinstance(padding, str) else (_explicit_pad(x, padding, data_format), "valid")
        return _kernels.conv(
            xp,
            _kernels.to_torch_layout(w, "conv"),
            None,
            strides,
            pad,
            data_format,
            dilations,
            groups=channels // w.shape[-2],
        )

    return _eager(run, needs_grad)


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None, name=None):
    """1D convolution (``tf.nn.conv1d``): input ``(batch, width, in)``, filters ``(k, in, out)``."""
    return convolution(input, filters, stride, padding, data_format, dilations)


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None, name=None):
    """2D convolution (``tf.nn.conv2d``): input NHWC, filters HWIO ``(kh, kw, in, out)``.

    Example (seed 002): ``tf.nn.conv2d(ny4D, W4d, strides=1, padding='SAME')``.
    """
    return convolution(input, filters, strides, padding, data_format, dilations)


def conv3d(input, filters, strides, padding, data_format="NDHWC", dilations=None, name=None):
    """3D convolution (``tf.nn.conv3d``): input NDHWC, filters ``(kd, kh, kw, in, out)``."""
    return convolution(input, filters, strides, padding, data_format, dilations)


def depthwise_conv2d(input, filter, strides, padding, data_format=None, dilations=None, name=None):
    """Depthwise 2D convolution (``tf.nn.depthwise_conv2d``), filter ``(kh, kw, in, multiplier)``."""
    (x, w), needs_grad = _tensors(input, filter)
    _rank_check(x, 2)
    data_format = _data_format(data_format, 2)
    strides = _per_axis(strides, 2, "strides", data_format)
    dilations = _per_axis(dilations, 2, "dilations", data_format)
    padding = _padding(padding, 2, data_format)
    if isinstance(padding, list):
        x = _explicit_pad(x, padding, data_format)
        padding = "valid"
    return _eager(
        lambda: _kernels.depthwise_conv(
            x, _kernels.to_torch_layout(w, "depthwise"), None, strides, padding, data_format, dilations
        ),
        needs_grad,
    )


def conv_transpose(input, filters, output_shape, strides, padding="SAME", data_format=None, dilations=None, name=None):
    """Transposed convolution (``tf.nn.conv_transpose``): the gradient of ``convolution``.

    Args:
        input: ``(batch, *spatial, in)``.
        filters: ``(*kernel_size, out, in)``.
        output_shape: the output's full shape ``(batch, *out_spatial, out)`` or its spatial part.
        padding: 'SAME' or 'VALID'.
    """
    (x, w), needs_grad = _tensors(input, filters)
    rank = w.ndim - 2
    _rank_check(x, rank)
    data_format = _data_format(data_format, rank)
    strides = _per_axis(strides, rank, "strides", data_format)
    dilations = _per_axis(dilations, rank, "dilations", data_format)
    padding = _padding(padding, rank, data_format)
    if not isinstance(padding, str):
        raise ValueError(f"Invalid value for argument `padding`: expected 'SAME' or 'VALID'. Received {padding!r}.")
    shape = [int(v) for v in np.asarray(output_shape).reshape(-1)]
    if len(shape) == rank + 2:
        shape = shape[2:] if data_format == "channels_first" else shape[1:-1]
    if len(shape) != rank:
        raise ValueError(
            f"The `output_shape` argument must have {rank} or {rank + 2} entries. "
            f"Received output_shape={output_shape!r}."
        )
    k = w.shape[:rank]
    before = [
        conv_utils.same_padding(o, kk, s, d)[0] if padding == "same" else 0
        for o, kk, s, d in zip(shape, k, strides, dilations)
    ]
    for o, n, kk, s, d in zip(
        shape, x.shape[1:-1] if data_format == "channels_last" else x.shape[2:], k, strides, dilations
    ):
        if conv_utils.conv_output_length(o, kk, padding, s, d) != n:
            raise ValueError(
                f"The `output_shape` {tuple(output_shape)} is inconsistent with the input shape "
                f"{tuple(x.shape)}: a forward convolution of that output would not give the input. "
                f"Received output_shape={output_shape!r}, strides={strides}, padding={padding!r}."
            )

    def run():
        xt = x.movedim(-1, 1) if data_format == "channels_last" else x
        y = _kernels.conv_transpose_cropped(
            xt, _kernels.to_torch_layout(w, "conv_transpose"), None, strides, dilations, shape, before
        )
        return y.movedim(1, -1) if data_format == "channels_last" else y

    return _eager(run, needs_grad)


def conv2d_transpose(
    input, filters, output_shape, strides, padding="SAME", data_format="NHWC", dilations=None, name=None
):
    """2D transposed convolution (``tf.nn.conv2d_transpose``), filters ``(kh, kw, out, in)``."""
    return conv_transpose(input, filters, output_shape, strides, padding, data_format, dilations)


# ---------------------------------------------------------------- pooling


def _pool(kind, input, ksize, strides, padding, data_format, rank=None):
    (x,), needs_grad = _tensors(input)
    rank = x.ndim - 2 if rank is None else rank
    _rank_check(x, rank)
    data_format = _data_format(data_format, rank)
    ksize = _per_axis(ksize, rank, "ksize", data_format)
    strides = _per_axis(strides, rank, "strides", data_format)
    if not isinstance(padding, str):
        raise ValueError(f"Invalid value for argument `padding`: expected 'SAME' or 'VALID'. Received {padding!r}.")
    fn = _kernels.max_pool if kind == "max" else _kernels.average_pool
    return _eager(lambda: fn(x, ksize, strides, padding, data_format), needs_grad)


def _pool_function(name, kind, rank, default_format, doc):
    """The ``tf.nn`` pooling function ``name``: ``kind`` ('max' or 'avg') pooling of ``rank`` (None: from the
    input), ``data_format`` defaulting to ``default_format``."""

    def pool(input, ksize, strides, padding, data_format=default_format, name=None):
        return _pool(kind, input, ksize, strides, padding, data_format, rank)

    pool.__name__ = pool.__qualname__ = name
    pool.__doc__ = doc
    return pool


max_pool = _pool_function(
    "max_pool",
    "max",
    None,
    None,
    "Max pooling, rank from the input (``tf.nn.max_pool``). 'SAME' never picks the padding.",
)
max_pool1d = _pool_function("max_pool1d", "max", 1, "NWC", "1D max pooling (``tf.nn.max_pool1d``).")
max_pool2d = _pool_function(
    "max_pool2d",
    "max",
    2,
    "NHWC",
    "2D max pooling (``tf.nn.max_pool2d``): ``ksize``/``strides`` int or list of length 1, 2 or 4.",
)
max_pool3d = _pool_function("max_pool3d", "max", 3, "NDHWC", "3D max pooling (``tf.nn.max_pool3d``).")
avg_pool = _pool_function(
    "avg_pool",
    "avg",
    None,
    None,
    "Average pooling, rank from the input (``tf.nn.avg_pool``). 'SAME' does not count the padding.",
)
avg_pool1d = _pool_function("avg_pool1d", "avg", 1, "NWC", "1D average pooling (``tf.nn.avg_pool1d``).")
avg_pool2d = _pool_function("avg_pool2d", "avg", 2, "NHWC", "2D average pooling (``tf.nn.avg_pool2d``).")
avg_pool3d = _pool_function("avg_pool3d", "avg", 3, "NDHWC", "3D average pooling (``tf.nn.avg_pool3d``).")


# ---------------------------------------------------------------- elementwise


def bias_add(value, bias, data_format=None, name=None):
    """Adds a 1D ``bias`` along the channel axis (last, or 1 for 'NC...' formats)."""
    (x, b), needs_grad = _tensors(value, bias)
    if b.ndim != 1:
        raise ValueError(f"The `bias` argument must be 1D. Received bias.shape={tuple(b.shape)}.")
    channels_first = data_format is not None and str(data_format).upper().startswith("NC")
    axis = 1 if channels_first else -1
    if x.ndim < 2 or x.shape[axis] != b.shape[0]:
        raise ValueError(
            f"The `bias` length must equal the channel dimension of `value`. Received "
            f"value.shape={tuple(x.shape)}, bias.shape={tuple(b.shape)}, data_format={data_format!r}."
        )
    shape = [1] * x.ndim
    shape[axis] = -1
    return _eager(lambda: x + b.reshape(shape), needs_grad)


def _unary(fn, features, **kwargs):
    (x,), needs_grad = _tensors(features)
    return _eager(lambda: fn(x, **kwargs), needs_grad)


def relu(features, name=None):
    """``max(features, 0)``."""
    return _unary(_f.relu, features)


def relu6(features, name=None):
    """``min(max(features, 0), 6)``."""
    return _unary(_f.relu6, features)


def leaky_relu(features, alpha=0.2, name=None):
    """``features`` if positive else ``alpha * features`` (TF default alpha 0.2)."""
    return _unary(_f.leaky_relu, features, negative_slope=alpha)


def elu(features, name=None):
    """Exponential linear unit."""
    return _unary(_f.elu, features)


def selu(features, name=None):
    """Scaled exponential linear unit."""
    return _unary(_f.selu, features)


def gelu(features, approximate=False, name=None):
    """Gaussian error linear unit (TF default: exact)."""
    return _unary(_f.gelu, features, approximate=approximate)


def sigmoid(x, name=None):
    """``1 / (1 + exp(-x))``."""
    return _unary(_f.sigmoid, x)


def tanh(x, name=None):
    """Hyperbolic tangent."""
    return _unary(_f.tanh, x)


def softplus(features, name=None):
    """``log(exp(features) + 1)``."""
    return _unary(_f.softplus, features)


def softsign(features, name=None):
    """``features / (abs(features) + 1)``."""
    return _unary(_f.softsign, features)


def silu(features, beta=1.0, name=None):
    """``features * sigmoid(beta * features)`` (``tf.nn.silu``/``tf.nn.swish``)."""
    if beta == 1.0:
        return _unary(_f.silu, features)
    return _unary(lambda x: x * torch.sigmoid(beta * x), features)


swish = silu


def softmax(logits, axis=None, name=None):
    """Softmax along ``axis`` (default: the last axis, as TensorFlow)."""
    return _unary(_f.softmax, logits, axis=-1 if axis is None else axis)


def log_softmax(logits, axis=None, name=None):
    """Log-softmax along ``axis`` (default: the last axis)."""
    return _unary(_f.log_softmax, logits, axis=-1 if axis is None else axis)


# ---------------------------------------------------------------- tf.constant


def constant(value, dtype=None, shape=None, name=None):
    """A constant tensor (``tf.constant``), on the CPU, ready for ``.numpy()``.

    TensorFlow's dtype rules: Python floats become float32 and Python ints int32; NumPy arrays keep
    their dtype; ``dtype`` (a name, NumPy or torch dtype) casts. ``shape`` broadcasts a scalar or
    reshapes a value with as many elements.

    Example (seed 003): ``tf.constant([[[[1], [2], [3]], ...]], dtype=np.float32)``.
    """
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
    elif isinstance(value, (np.ndarray, np.generic)):
        t = convert_to_tensor(np.asarray(value), device="cpu")
    else:
        t = convert_to_tensor(value, dtype="float32" if _has_float(value) else None, device="cpu")
    if dtype is not None:
        if not isinstance(dtype, (str, torch.dtype)):
            dtype = np.dtype(dtype).name
        t = t.to(config.torch_dtype(dtype))
    if shape is not None:
        shape = tuple(int(s) for s in np.asarray(shape).reshape(-1))
        t = t.expand(shape).clone() if t.numel() == 1 else t.reshape(shape)
    t._strided_constant = True  # layers treat it as data, like a NumPy array (results ready for .numpy())
    return t


def _has_float(value):
    if isinstance(value, (list, tuple)):
        return any(_has_float(v) for v in value)
    return isinstance(value, float)
