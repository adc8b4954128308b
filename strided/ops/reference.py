"""Convolution and pooling in plain NumPy: the readable reference every torch op is tested against.

This module is teaching code. It never imports torch; it is meant to be read top to bottom like a
lecture, and it is the oracle of the test-suite (the fast torch kernels in ``strided.ops`` must
agree with it to 1e-10 in float64).

Plan of the lecture
-------------------
1. The loop versions from the course notes (``conv1d_loop``, ``conv2d_loop``, ``max_pool2d_loop``):
   one window at a time, exactly as written on the slides.
2. ONE primitive, ``sliding_windows``: a zero-copy *view* of every window of an array. Everything
   else is "take the windows, then reduce them":
      convolution  = windows . kernel   (a weighted sum over each window)
      max pool     = windows.max()
      average pool = windows.mean()
   ("conv2d is a pooling op" - tinygrad).
3. Padding: 'valid' (no padding) and 'same' (TensorFlow's rule: pad so that out = ceil(n / s); when
   the total padding is odd the extra pixel goes *after*), computed by
   ``strided.utils.conv_utils.same_padding`` - the same function the torch ops use.
4. The transposed convolution, as a *scatter* of the kernel: every input pixel stamps a scaled copy
   of the kernel into the output.
5. Backward passes written by hand (the chain rule, window by window), tested against autograd.

Layouts follow Keras: arrays are channels_last ``(batch, *spatial, channels)``; a convolution kernel
is ``(*kernel_size, in_channels, out_channels)``; a transposed-convolution kernel is
``(*kernel_size, out_channels, in_channels)``; a depthwise kernel is
``(*kernel_size, in_channels, depth_multiplier)``.
"""

import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from strided.utils import conv_utils

__all__ = [
    "conv1d_loop",
    "conv2d_loop",
    "max_pool2d_loop",
    "sliding_windows",
    "pad_spatial",
    "padding_amounts",
    "conv",
    "depthwise_conv",
    "separable_conv",
    "conv_transpose",
    "max_pool",
    "average_pool",
    "conv2d_backward",
    "max_pool2d_backward",
    "average_pool2d_backward",
]


# --------------------------------------------------------------------------------------------
# 1. The course's loop versions
# --------------------------------------------------------------------------------------------


def conv1d_loop(array, kernel):
    """1D 'valid' convolution, one window at a time (seed 000).

    ``conv[ii] = (kernel * array[ii:ii+len(kernel)]).sum()``: slide the kernel along the array and
    take a dot product at each position. Like every deep-learning framework we do *not* flip the
    kernel, so strictly speaking this is a cross-correlation.

    Args:
        array: 1D array.
        kernel: 1D array, no longer than ``array``.

    Returns:
        1D array of length ``len(array) - len(kernel) + 1``.
    """
    array = np.asarray(array)
    kernel = np.asarray(kernel)
    n_out = len(array) - len(kernel) + 1
    conv = np.zeros(n_out, dtype=np.result_type(array, kernel))
    for ii in range(n_out):
        conv[ii] = (kernel * array[ii : ii + len(kernel)]).sum()
    return conv


def conv2d_loop(image, kernel):
    """2D 'valid' convolution with two loops (seed 001): ``Y[i, j] = sum(X[i:i+w, j:j+h] * K)``.

    Args:
        image: 2D array ``(rows, cols)``.
        kernel: 2D array ``(kernel_rows, kernel_cols)``.

    Returns:
        2D array ``(rows - kernel_rows + 1, cols - kernel_cols + 1)``.
    """
    image = np.asarray(image)
    kernel = np.asarray(kernel)
    (w_i, h_i) = image.shape
    (w_k, h_k) = kernel.shape
    w, h = (w_i - w_k + 1), (h_i - h_k + 1)
    result = np.zeros((w, h), dtype=np.result_type(image, kernel, np.float64))
    for i in range(w):
        for j in range(h):
            region = image[i : i + w_k, j : j + h_k]
            result[i, j] = np.sum(region * kernel)
    return result


def max_pool2d_loop(im, size=2):
    """2D max pooling with window = stride = ``size``, 'valid' (seed 000).

    ``result[ii, jj] = max(im[ii*2:ii*2+2, jj*2:jj*2+2])``; rows and columns that do not fill a
    whole window are dropped, as Keras's ``MaxPooling2D`` does.
    """
    im = np.asarray(im)
    result = np.zeros((im.shape[0] // size, im.shape[1] // size), dtype=np.result_type(im, np.float64))
    for ii in range(result.shape[0]):
        for jj in range(result.shape[1]):
            result[ii, jj] = np.max(im[ii * size : ii * size + size, jj * size : jj * size + size])
    return result


# --------------------------------------------------------------------------------------------
# 2. The one windowing primitive
# --------------------------------------------------------------------------------------------


def sliding_windows(x, window, strides=1, dilation=1):
    """Every window of a channels_last array, as a zero-copy view.

    For ``x`` of shape ``(N, *spatial, C)`` and a window of size ``k`` per spatial axis, the view has
    shape ``(N, *out, *k, C)``: ``view[n, o1, o2, ..., t1, t2, ..., c]`` is the input pixel
    ``x[n, o1*s1 + t1*d1, o2*s2 + t2*d2, ..., c]`` (``s`` the strides, ``d`` the dilation). No
    padding is done here: pad first (``pad_spatial``) for 'same'.

    How it works: a NumPy array is a block of memory plus ``strides`` - how many bytes to jump to
    move one step along each axis. Moving one *output* position along a spatial axis jumps ``s``
    pixels, so its byte stride is ``s * x.strides[axis]``; moving one *tap* inside the window jumps
    ``d`` pixels, so its byte stride is ``d * x.strides[axis]``. ``as_strided`` builds an array with
    these strides over the same memory - nothing is copied, which is why the view is read-only.

    Args:
        x: array ``(N, *spatial, C)``.
        window: int or tuple, window size per spatial axis.
        strides: int or tuple, step between windows.
        dilation: int or tuple, step between taps inside a window.

    Returns:
        Read-only view ``(N, *out, *window, C)`` with ``out = (n - (k - 1) * d - 1) // s + 1``.
    """
    x = np.asarray(x)
    rank = x.ndim - 2
    window = conv_utils.normalize_tuple(window, rank, "window")
    strides = conv_utils.normalize_tuple(strides, rank, "strides")
    dilation = conv_utils.normalize_tuple(dilation, rank, "dilation")
    spatial = x.shape[1:-1]
    out = []
    for n, k, s, d in zip(spatial, window, strides, dilation):
        span = (k - 1) * d + 1  # pixels covered by a dilated window
        if span > n:
            raise ValueError(
                f"The window (size {k}, dilation {d}) does not fit in a spatial axis of "
                f"length {n}. Received x.shape={x.shape}, window={window}."
            )
        out.append((n - span) // s + 1)
    batch_stride, *spatial_strides, channel_stride = x.strides
    shape = (x.shape[0], *out, *window, x.shape[-1])
    byte_strides = (
        batch_stride,
        *[st * s for st, s in zip(spatial_strides, strides)],  # next output position
        *[st * d for st, d in zip(spatial_strides, dilation)],  # next tap in the window
        channel_stride,
    )
    return as_strided(x, shape=shape, strides=byte_strides, writeable=False)


# --------------------------------------------------------------------------------------------
# 3. Padding
# --------------------------------------------------------------------------------------------


def padding_amounts(spatial_shape, kernel_size, strides, dilation, padding):
    """``[(before, after), ...]`` per spatial axis for 'valid', 'same' or 'causal'.

    'same' follows TensorFlow: total = max((ceil(n/s) - 1) * s + (k - 1) * d + 1 - n, 0), and the
    odd pixel goes after. 'causal' (1D) pads only before, by the dilated kernel size minus one, so
    that output t only sees inputs <= t.
    """
    amounts = []
    for n, k, s, d in zip(spatial_shape, kernel_size, strides, dilation):
        if padding == "valid":
            amounts.append((0, 0))
        elif padding == "same":
            amounts.append(conv_utils.same_padding(n, k, s, d))
        elif padding == "causal":
            amounts.append(((k - 1) * d, 0))
        else:
            raise ValueError(
                f"Invalid value for argument `padding`. Expected 'valid', 'same' or 'causal'. "
                f"Received padding={padding!r}."
            )
    return amounts


def pad_spatial(x, amounts, value=0.0):
    """Pads the spatial axes of a channels_last array by ``[(before, after), ...]`` with ``value``."""
    return np.pad(x, [(0, 0), *amounts, (0, 0)], mode="constant", constant_values=value)


def _args(x, kernel_size, strides, dilation, padding):
    """Normalises the window arguments for an array ``x`` of rank N + 2."""
    rank = x.ndim - 2
    kernel_size = conv_utils.normalize_tuple(kernel_size, rank, "kernel_size")
    strides = conv_utils.normalize_tuple(strides, rank, "strides")
    dilation = conv_utils.normalize_tuple(dilation, rank, "dilation_rate")
    padding = conv_utils.normalize_padding(padding, allow_causal=(rank == 1))
    return kernel_size, strides, dilation, padding


def _to_channels_last(x, data_format):
    data_format = conv_utils.normalize_data_format(data_format)
    if data_format == "channels_first":
        return np.moveaxis(x, 1, -1), True
    return x, False


def _from_channels_last(y, channels_first):
    return np.moveaxis(y, -1, 1) if channels_first else y


# --------------------------------------------------------------------------------------------
# 4. Convolution and pooling from the windows
# --------------------------------------------------------------------------------------------


def conv(x, kernel, strides=1, padding="valid", dilation_rate=1, data_format="channels_last"):
    """N-D convolution (N = 1, 2, 3), Keras semantics: pad, take windows, dot with the kernel.

    ``y[n, o, f] = sum over taps t and channels c of window[n, o, t, c] * kernel[t, c, f]``, i.e.
    the seed's ``Z[i,j,k] = b_k + sum_u sum_v sum_k' X[i*s_h+u, j*s_w+v, k'] * W[u,v,k',k]``.
    When the kernel has fewer input channels than ``x`` (``C = groups * kernel_in``) the channels
    are split into groups, each convolved with its own slice of the filters.

    Args:
        x: array ``(N, *spatial, C)`` (or ``(N, C, *spatial)`` for channels_first).
        kernel: array ``(*kernel_size, C // groups, filters)``.
        strides, dilation_rate: int or tuple per spatial axis.
        padding: 'valid', 'same', or 'causal' (1D only).
        data_format: 'channels_last' or 'channels_first'.

    Returns:
        array ``(N, *out, filters)`` (channels_first: ``(N, filters, *out)``).
    """
    x, cf = _to_channels_last(np.asarray(x), data_format)
    kernel = np.asarray(kernel)
    k, s, d, padding = _args(x, kernel.shape[:-2], strides, dilation_rate, padding)
    xp = pad_spatial(x, padding_amounts(x.shape[1:-1], k, s, d, padding))
    windows = sliding_windows(xp, k, s, d)  # (N, *out, *k, C)
    rank = len(k)
    c_in, filters = kernel.shape[-2], kernel.shape[-1]
    groups = x.shape[-1] // c_in
    outputs = []
    for g in range(groups):  # groups == 1 for an ordinary convolution
        w = windows[..., g * c_in : (g + 1) * c_in]
        kg = kernel[..., g * (filters // groups) : (g + 1) * (filters // groups)]
        # Contract the window taps and the channels: axes (*k, C) of the windows with (*k, C) of
        # the kernel. What is left is (N, *out) x (filters,).
        axes_w = list(range(rank + 1, 2 * rank + 2))
        axes_k = list(range(rank + 1))
        outputs.append(np.tensordot(w, kg, axes=(axes_w, axes_k)))
    y = np.concatenate(outputs, axis=-1)
    return _from_channels_last(y, cf)


def depthwise_conv(x, kernel, strides=1, padding="valid", dilation_rate=1, data_format="channels_last"):
    """Depthwise convolution: every input channel gets its own ``depth_multiplier`` filters.

    Output channel ``c * multiplier + m`` is channel ``c`` convolved with ``kernel[..., c, m]``
    (Keras/TensorFlow ordering).

    Args:
        x: array ``(N, *spatial, C)``.
        kernel: array ``(*kernel_size, C, depth_multiplier)``.

    Returns:
        array ``(N, *out, C * depth_multiplier)``.
    """
    x, cf = _to_channels_last(np.asarray(x), data_format)
    kernel = np.asarray(kernel)
    k, s, d, padding = _args(x, kernel.shape[:-2], strides, dilation_rate, padding)
    xp = pad_spatial(x, padding_amounts(x.shape[1:-1], k, s, d, padding))
    windows = sliding_windows(xp, k, s, d)  # (N, *out, *k, C)
    n_taps = int(np.prod(k))
    out_shape = windows.shape[: 1 + len(k)]
    w = windows.reshape(*out_shape, n_taps, x.shape[-1])  # (N, *out, K, C)
    kk = kernel.reshape(n_taps, kernel.shape[-2], kernel.shape[-1])  # (K, C, M)
    # No sum over channels here - that is the whole point of a depthwise convolution.
    y = np.einsum("...tc,tcm->...cm", w, kk)
    y = y.reshape(*out_shape, -1)
    return _from_channels_last(y, cf)


def separable_conv(
    x, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", dilation_rate=1, data_format="channels_last"
):
    """Depthwise convolution followed by a 1x1 ("pointwise") convolution that mixes the channels."""
    x, cf = _to_channels_last(np.asarray(x), data_format)
    y = depthwise_conv(x, depthwise_kernel, strides, padding, dilation_rate)
    y = conv(y, pointwise_kernel)
    return _from_channels_last(y, cf)


def max_pool(x, pool_size, strides=None, padding="valid", data_format="channels_last"):
    """Max pooling, rank 1-3. 'same' pads with -inf, so padding never wins the max (TF semantics).

    Args:
        x: array ``(N, *spatial, C)``.
        pool_size: int or tuple.
        strides: int or tuple; defaults to ``pool_size``.
        padding: 'valid' or 'same'.

    Returns:
        array ``(N, *out, C)``.
    """
    x, cf = _to_channels_last(np.asarray(x), data_format)
    strides = pool_size if strides is None else strides
    k, s, d, padding = _args(x, pool_size, strides, 1, padding)
    xp = pad_spatial(x, padding_amounts(x.shape[1:-1], k, s, d, padding), value=-np.inf)
    windows = sliding_windows(xp, k, s, d)
    window_axes = tuple(range(1 + len(k), 1 + 2 * len(k)))
    return _from_channels_last(windows.max(axis=window_axes), cf)


def average_pool(x, pool_size, strides=None, padding="valid", data_format="channels_last"):
    """Average pooling, rank 1-3. With 'same', padded pixels are *not counted* (TF semantics):
    a corner window holding 4 real pixels is divided by 4, not by the window size.
    """
    x, cf = _to_channels_last(np.asarray(x), data_format)
    strides = pool_size if strides is None else strides
    k, s, d, padding = _args(x, pool_size, strides, 1, padding)
    amounts = padding_amounts(x.shape[1:-1], k, s, d, padding)
    window_axes = tuple(range(1 + len(k), 1 + 2 * len(k)))
    total = sliding_windows(pad_spatial(x, amounts), k, s, d).sum(axis=window_axes)
    # Count the real pixels in each window: pool a map of ones padded with zeros.
    ones = np.ones((1, *x.shape[1:-1], 1))
    count = sliding_windows(pad_spatial(ones, amounts), k, s, d).sum(axis=window_axes)
    return _from_channels_last(total / count, cf)


# --------------------------------------------------------------------------------------------
# 5. Transposed convolution: a scatter
# --------------------------------------------------------------------------------------------


def _tap_slice(tap, dilation, stride, n):
    """The positions ``tap*d + stride*i`` for i in range(n), as a slice."""
    start = tap * dilation
    return slice(start, start + stride * (n - 1) + 1, stride)


def conv_transpose(
    x, kernel, strides=1, padding="valid", output_padding=None, dilation_rate=1, data_format="channels_last"
):
    """Transposed convolution ("deconvolution"), Keras/TensorFlow semantics.

    Every input pixel ``x[n, i, c]`` stamps the kernel, scaled by its value, into an output
    canvas at position ``i * stride``: ``canvas[n, i*s + t*d, f] += x[n, i, c] * kernel[t, f, c]``.
    The canvas is then cropped to the Keras output length (``conv_utils.deconv_output_length``),
    starting at the 'before' padding a forward 'same' convolution of that length would use. This
    makes the op exactly the gradient (adjoint) of ``conv`` with respect to its input - which is
    how TensorFlow defines it. (For the shapes TF refuses - an even kernel with output_padding=0 -
    the crop is centred as Keras does.)

    Args:
        x: array ``(N, *spatial, C_in)``.
        kernel: array ``(*kernel_size, filters, C_in)`` (note: out before in).
        strides, dilation_rate: int or tuple.
        padding: 'valid' or 'same'.
        output_padding: None, int or tuple: extra length added at the end of each axis.

    Returns:
        array ``(N, *out, filters)``.
    """
    x, cf = _to_channels_last(np.asarray(x), data_format)
    kernel = np.asarray(kernel)
    rank = x.ndim - 2
    k, s, d, padding = _args(x, kernel.shape[:-2], strides, dilation_rate, padding)
    if output_padding is not None:
        output_padding = conv_utils.normalize_tuple(output_padding, rank, "output_padding", allow_zero=True)
    spatial = x.shape[1:-1]
    out_len, before = [], []
    for i in range(rank):
        op = None if output_padding is None else output_padding[i]
        length = conv_utils.deconv_output_length(spatial[i], k[i], padding, op, s[i], d[i])
        out_len.append(length)
        # Where does the output window start in the canvas? The canvas is (n-1)*s + dk long; centre
        # the output in it, the odd pixel cropped at the end, never starting before the canvas.
        # Whenever TensorFlow accepts the shapes this equals conv_utils.same_padding(length, k, s,
        # d)[0]: the 'before' padding of the forward 'same' convolution of that length (and 0 for
        # 'valid'), so conv_transpose is exactly the adjoint of conv.
        full = (spatial[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1
        before.append(max((full - length) // 2, 0))
    # The canvas must hold every stamp and the whole crop window.
    canvas_len = [
        max((n - 1) * st + (kk - 1) * dd + 1, b + o) for n, kk, st, dd, b, o in zip(spatial, k, s, d, before, out_len)
    ]
    canvas = np.zeros((x.shape[0], *canvas_len, kernel.shape[-2]), dtype=np.result_type(x, kernel))
    for tap in itertools.product(*[range(kk) for kk in k]):
        # (N, *spatial, C_in) @ (C_in, filters): every input pixel times this tap of the kernel ...
        stamp = x @ kernel[tap].T
        # ... lands at i * stride + tap * dilation.
        index = (slice(None),) + tuple(_tap_slice(t, dd, st, n) for t, dd, st, n in zip(tap, d, s, spatial))
        canvas[index] += stamp
    crop = (slice(None),) + tuple(slice(b, b + o) for b, o in zip(before, out_len))
    return _from_channels_last(canvas[crop], cf)


# --------------------------------------------------------------------------------------------
# 6. Backward passes, by hand
# --------------------------------------------------------------------------------------------


def conv2d_backward(x, kernel, dy, strides=1, padding="valid", dilation_rate=1):
    """Gradients of ``y = conv(x, kernel)`` (2D, channels_last) given ``dy = dLoss/dy``.

    Each output pixel was ``y[n, o, f] = sum_{t, c} window[n, o, t, c] * kernel[t, c, f]``, so

    - ``dkernel[t, c, f] = sum_{n, o} window[n, o, t, c] * dy[n, o, f]``: correlate the input
      windows with the output gradient;
    - ``dx``: every output gradient flows back to the pixels of its window, weighted by the kernel:
      for each tap ``t`` the pixels ``o * s + t * d`` receive ``dy[n, o, :] @ kernel[t].T``. This
      is a scatter - the same one as in ``conv_transpose``. Gradient that lands on padding is
      dropped.

    Returns:
        ``(dx, dkernel)`` with the shapes of ``x`` and ``kernel``.
    """
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    dy = np.asarray(dy)
    k, s, d, padding = _args(x, kernel.shape[:2], strides, dilation_rate, padding)
    amounts = padding_amounts(x.shape[1:3], k, s, d, padding)
    xp = pad_spatial(x, amounts)
    windows = sliding_windows(xp, k, s, d)  # (N, oh, ow, kh, kw, C)
    dkernel = np.tensordot(windows, dy, axes=([0, 1, 2], [0, 1, 2]))  # (kh, kw, C, F)
    dxp = np.zeros_like(xp, dtype=np.result_type(xp, dy))
    oh, ow = dy.shape[1:3]
    for i in range(k[0]):
        for j in range(k[1]):
            rows = _tap_slice(i, d[0], s[0], oh)
            cols = _tap_slice(j, d[1], s[1], ow)
            dxp[:, rows, cols, :] += dy @ kernel[i, j].T
    (top, _), (left, _) = amounts
    dx = dxp[:, top : top + x.shape[1], left : left + x.shape[2], :]
    return dx, dkernel


def max_pool2d_backward(x, dy, pool_size=2, strides=None, padding="valid"):
    """Gradient of 2D max pooling: each window's gradient goes to the pixel that won the max.

    When two pixels tie, the first one in the window (row-major) takes it all, as in TF and torch.
    Overlapping windows (stride < pool) add up at a pixel that wins several of them.
    """
    x = np.asarray(x)
    dy = np.asarray(dy)
    strides = pool_size if strides is None else strides
    k, s, d, padding = _args(x, pool_size, strides, 1, padding)
    amounts = padding_amounts(x.shape[1:3], k, s, d, padding)
    xp = pad_spatial(x, amounts, value=-np.inf)
    windows = sliding_windows(xp, k, s)  # (N, oh, ow, kh, kw, C)
    n, oh, ow = windows.shape[:3]
    flat = windows.reshape(n, oh, ow, k[0] * k[1], x.shape[-1])
    winner = flat.argmax(axis=3)  # (N, oh, ow, C): which tap won each window
    dxp = np.zeros(xp.shape, dtype=np.result_type(x, dy))
    for i in range(k[0]):
        for j in range(k[1]):
            won = winner == i * k[1] + j
            dxp[:, _tap_slice(i, 1, s[0], oh), _tap_slice(j, 1, s[1], ow), :] += dy * won
    (top, _), (left, _) = amounts
    return dxp[:, top : top + x.shape[1], left : left + x.shape[2], :]


def average_pool2d_backward(x, dy, pool_size=2, strides=None, padding="valid"):
    """Gradient of 2D average pooling: each window's gradient is shared equally by its real pixels.

    With 'same' the divisor is the number of real (unpadded) pixels in the window, as in forward.
    """
    x = np.asarray(x)
    dy = np.asarray(dy)
    strides = pool_size if strides is None else strides
    k, s, d, padding = _args(x, pool_size, strides, 1, padding)
    amounts = padding_amounts(x.shape[1:3], k, s, d, padding)
    ones = np.ones((1, *x.shape[1:3], 1))
    count = sliding_windows(pad_spatial(ones, amounts), k, s).sum(axis=(3, 4))  # (1, oh, ow, 1)
    share = dy / count
    oh, ow = dy.shape[1:3]
    dxp = np.zeros(
        (x.shape[0], x.shape[1] + sum(amounts[0]), x.shape[2] + sum(amounts[1]), x.shape[3]),
        dtype=np.result_type(x, dy),
    )
    for i in range(k[0]):
        for j in range(k[1]):
            dxp[:, _tap_slice(i, 1, s[0], oh), _tap_slice(j, 1, s[1], ow), :] += share
    (top, _), (left, _) = amounts
    return dxp[:, top : top + x.shape[1], left : left + x.shape[2], :]
