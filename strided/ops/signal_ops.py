"""``keras.ops`` Fourier transforms, short-time transforms, window functions and framing, on torch.

Keras passes complex numbers as **pairs of real tensors**: ``fft((real, imag))`` returns
``(real, imag)``, ``rfft(x)`` returns ``(real, imag)`` and ``irfft((real, imag))`` a real tensor.
All transforms act on the last axis (the last two for ``fft2``/``ifft2``) with NumPy's
normalization (none forward, ``1/n`` inverse).

``stft``/``istft`` frame the last axis with ``sequence_length`` samples every ``sequence_stride``
samples, window each frame (``"hann"``, ``"hamming"``, a tensor or ``None``) and transform it with
``fft_length`` points. ``istft`` inverts ``stft``: with ``center=True`` and
``sequence_length == fft_length`` it divides by the overlap-added squared window (torch's
``istft``), otherwise by its steady-state value (TensorFlow's ``inverse_stft_window_fn``), as Keras
does on its torch backend.
"""

import torch
import torch.nn.functional as F

from strided import config
from strided.ops.core import convert_to_tensor
from strided.ops.numpy_ops import _float
from strided.utils.docstrings import fill_doc

__all__ = [
    "fft",
    "fft2",
    "ifft2",
    "rfft",
    "irfft",
    "stft",
    "istft",
    "bartlett",
    "blackman",
    "hamming",
    "hanning",
    "kaiser",
    "extract_sequences",
]

_t = convert_to_tensor


def _complex_pair(x):
    """``(real, imag)`` -> one complex tensor, with Keras's checks."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"Input `x` should be a tuple of two tensors - real and imaginary. Received: x={x!r}")
    real, imag = _t(x[0]), _t(x[1])
    if tuple(real.shape) != tuple(imag.shape):
        raise ValueError(
            "Input `x` should be a tuple of two tensors - real and imaginary. Both the real and "
            f"imaginary parts should have the same shape. Received: x[0].shape = {tuple(real.shape)}, "
            f"x[1].shape = {tuple(imag.shape)}"
        )
    if not real.is_floating_point() or not imag.is_floating_point():
        raise ValueError(
            f"At least one tensor in input `x` is not of type float. Received: x[0].dtype={real.dtype}, "
            f"x[1].dtype={imag.dtype}"
        )
    return torch.complex(real, imag.to(device=real.device, dtype=real.dtype))


def _split(z):
    return z.real, z.imag


_COMPLEX_TRANSFORM_DOC = """{{summary}}

    Args:
        x: tuple ``(real, imag)`` of float tensors of the same shape{{rank}}.

    Returns:
        Tuple ``(real, imag)`` of the {{result}}.
    """


def _complex_transform(name, torch_transform, summary, rank="", result="transform"):
    """The Keras op ``name``: ``torch_transform`` of the complex tensor ``x = (real, imag)``."""

    def transform(x):
        return _split(torch_transform(_complex_pair(x)))

    transform.__name__ = transform.__qualname__ = name
    transform.__doc__ = fill_doc(_COMPLEX_TRANSFORM_DOC, summary=summary, rank=rank, result=result)
    return transform


fft = _complex_transform("fft", torch.fft.fft, "Fast Fourier transform along the last axis.")
fft2 = _complex_transform(
    "fft2", torch.fft.fft2, "2D fast Fourier transform over the last two axes.", rank=" (rank >= 2)"
)
ifft2 = _complex_transform(
    "ifft2",
    torch.fft.ifft2,
    "Inverse 2D fast Fourier transform over the last two axes (divides by the number of points).",
    rank=" (rank >= 2)",
    result="inverse transform",
)


def rfft(x, fft_length=None):
    """Fast Fourier transform of a real signal along the last axis (the non-negative frequencies).

    Args:
        x: real tensor.
        fft_length: number of points; the last axis is cropped or zero-padded to it. Defaults to
            the length of the last axis.

    Returns:
        Tuple ``(real, imag)``, each with ``fft_length // 2 + 1`` values on the last axis.
    """
    return _split(torch.fft.rfft(_float(x), n=fft_length, dim=-1))


def irfft(x, fft_length=None):
    """Inverse of ``rfft``: a real signal from its non-negative frequencies.

    Args:
        x: tuple ``(real, imag)`` of float tensors of the same shape.
        fft_length: length of the output signal. Defaults to ``2 * (x.shape[-1] - 1)``.

    Returns:
        A real tensor with ``fft_length`` values on the last axis.
    """
    return torch.fft.irfft(_complex_pair(x), n=fft_length, dim=-1)


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return value


def _window(window, sequence_length, dtype, device):
    """The analysis window: ``"hann"``/``"hamming"`` (periodic), a tensor, or ``None``."""
    if window is None:
        return None
    if isinstance(window, str):
        if window == "hann":
            return torch.hann_window(sequence_length, periodic=True, dtype=dtype, device=device)
        if window == "hamming":
            return torch.hamming_window(sequence_length, periodic=True, dtype=dtype, device=device)
        raise ValueError(
            f'If a string is passed to `window`, it must be one of `"hann"`, `"hamming"`. Received: window={window!r}'
        )
    win = _t(window).to(device=device, dtype=dtype)
    if win.ndim != 1 or win.shape[0] != sequence_length:
        raise ValueError(
            f"The shape of `window` must be equal to [sequence_length]={[sequence_length]}. "
            f"Received: window shape={list(win.shape)}"
        )
    return win


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform along the last axis.

    Args:
        x: float32 or float64 tensor of shape ``(..., samples)``.
        sequence_length: frame length (the window length).
        sequence_stride: hop between frame starts.
        fft_length: FFT size, at least ``sequence_length`` (the window is centred in it).
        window: ``"hann"`` (default), ``"hamming"``, a tensor of shape ``(sequence_length,)``, or
            ``None`` (no windowing).
        center: if True, reflect-pad the signal by ``fft_length // 2`` on both sides, so frame ``t``
            is centred at ``t * sequence_stride``.

    Returns:
        Tuple ``(real, imag)`` of shape ``(..., num_frames, fft_length // 2 + 1)``.
    """
    x = _t(x)
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"Invalid input type. Expected `float32` or `float64`. Received: input type={x.dtype}")
    _positive_int(sequence_length, "sequence_length")
    _positive_int(sequence_stride, "sequence_stride")
    if fft_length < sequence_length:
        raise ValueError(
            "`fft_length` must equal or larger than `sequence_length`. Received: "
            f"sequence_length={sequence_length}, fft_length={fft_length}"
        )
    win = _window(window, sequence_length, x.dtype, x.device)
    if win is None:
        win = torch.ones(sequence_length, dtype=x.dtype, device=x.device)
    batch, samples = tuple(x.shape[:-1]), x.shape[-1]
    needed = fft_length // 2 + 1 if center else fft_length
    if samples < needed:
        why = " (centred frames reflect-pad it)" if center else ""
        raise ValueError(
            f"The signal is too short for the STFT: its last axis has {samples} samples, and "
            f"fft_length={fft_length} needs at least {needed}{why}. Received input shape {tuple(x.shape)}."
        )
    spec = torch.stft(
        x.reshape(-1, samples),
        n_fft=fft_length,
        hop_length=sequence_stride,
        win_length=sequence_length,
        window=win,
        center=center,
        return_complex=True,
    )
    spec = spec.reshape(*batch, *spec.shape[-2:]).transpose(-2, -1)
    return _split(spec)


def _overlap_add(frames, stride):
    """Sums frames ``(B, N, L)`` placed every ``stride`` samples: ``(B, L + stride * (N - 1))``."""
    b, n, length = frames.shape
    total = length + stride * (n - 1)
    out = F.fold(frames.transpose(1, 2), output_size=(1, total), kernel_size=(1, length), stride=(1, stride))
    return out.reshape(b, total)


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """Inverse short-time Fourier transform along the last two axes (frames, frequencies).

    Args:
        x: tuple ``(real, imag)`` of shape ``(..., num_frames, fft_length // 2 + 1)``, as returned
            by ``stft``.
        sequence_length: frame length used by ``stft``.
        sequence_stride: hop used by ``stft``.
        fft_length: FFT size used by ``stft``.
        length: if given, the output is clipped to exactly ``length`` samples.
        window: the window used by ``stft`` (``"hann"``, ``"hamming"``, a tensor or ``None``).
        center: whether ``stft`` centred the frames (the padding is then removed).

    Returns:
        A real tensor of shape ``(..., samples)``.
    """
    spec = _complex_pair(x)
    _positive_int(sequence_length, "sequence_length")
    _positive_int(sequence_stride, "sequence_stride")
    dtype = spec.real.dtype
    win = _window(window, sequence_length, dtype, spec.device)
    batch, (frames_n, bins) = tuple(spec.shape[:-2]), tuple(spec.shape[-2:])
    if win is not None and center and sequence_length == fft_length:
        out = torch.istft(
            spec.reshape(-1, frames_n, bins).transpose(-2, -1),
            n_fft=fft_length,
            hop_length=sequence_stride,
            win_length=sequence_length,
            window=win,
            center=True,
            length=length,
            return_complex=False,
        )
        return out.reshape(*batch, out.shape[-1])
    frames = torch.fft.irfft(spec, n=fft_length, dim=-1)  # (..., N, fft_length)
    if win is not None:
        left = (fft_length - sequence_length) // 2
        win = F.pad(win, (left, fft_length - sequence_length - left))
        # Steady-state normalization: position i of a frame is covered, in the middle of a long
        # signal, by the frames shifted by multiples of the stride, whose squared windows add up.
        phase = torch.arange(fft_length, device=win.device) % sequence_stride
        periodic = torch.zeros(sequence_stride, dtype=dtype, device=win.device).index_add_(0, phase, win * win)
        frames = frames * (win / periodic[phase])
    out = _overlap_add(frames.reshape(-1, frames_n, fft_length), sequence_stride)
    out = out.reshape(*batch, out.shape[-1])
    start = fft_length // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = out.shape[-1] - (fft_length // 2 if center else 0)
    return out[..., start:end]


def _window_length(x):
    x = _t(x)
    if x.numel() != 1:
        raise ValueError(f"The window length must be a scalar. Received: x with shape {tuple(x.shape)}")
    return int(x.reshape(()).item())


_WINDOW_DOC = """The {{title}} window of length ``x``: {{formula}}.

    Args:
        x: scalar, the number of points.

    Returns:
        A 1D float tensor (symmetric, as NumPy's ``{{name}}``).
    """


def _window_function(name, title, formula, torch_window):
    """The NumPy-style (symmetric) window function ``name``, computed by ``torch.signal.windows``."""

    def window(x):
        return torch_window(_window_length(x), sym=True, dtype=torch.float32, device=config.get_device())

    window.__name__ = window.__qualname__ = name
    window.__doc__ = fill_doc(_WINDOW_DOC, title=title, formula=formula, name=name)
    return window


bartlett = _window_function(
    "bartlett", "Bartlett (triangular)", "``1 - |2n / (x - 1) - 1|``", torch.signal.windows.bartlett
)
blackman = _window_function(
    "blackman",
    "Blackman",
    "``0.42 - 0.5 cos(2 pi n / (x-1)) + 0.08 cos(4 pi n / (x-1))``",
    torch.signal.windows.blackman,
)
hamming = _window_function("hamming", "Hamming", "``0.54 - 0.46 cos(2 pi n / (x - 1))``", torch.signal.windows.hamming)
hanning = _window_function("hanning", "Hann", "``0.5 - 0.5 cos(2 pi n / (x - 1))``", torch.signal.windows.hann)


def kaiser(x, beta):
    """The Kaiser window of length ``x``: ``I0(beta sqrt(1 - (2n / (x-1) - 1)^2)) / I0(beta)``.

    Args:
        x: scalar, the number of points.
        beta: shape parameter (0 is rectangular; larger is narrower).

    Returns:
        A 1D float tensor (symmetric, as NumPy's ``kaiser``).
    """
    return torch.signal.windows.kaiser(
        _window_length(x), beta=float(beta), sym=True, dtype=torch.float32, device=config.get_device()
    )


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames the last axis: windows of ``sequence_length`` samples every ``sequence_stride`` samples.

    Args:
        x: tensor of shape ``(..., samples)``.
        sequence_length: frame length.
        sequence_stride: hop between frame starts.

    Returns:
        A tensor of shape ``(..., num_sequences, sequence_length)``, ``num_sequences =
        1 + (samples - sequence_length) // sequence_stride``.
    """
    x = _t(x)
    _positive_int(sequence_length, "sequence_length")
    _positive_int(sequence_stride, "sequence_stride")
    if x.ndim < 1 or x.shape[-1] < sequence_length:
        raise ValueError(
            f"`sequence_length` must not exceed the length of the last axis of `x`. Received: "
            f"sequence_length={sequence_length}, x.shape={tuple(x.shape)}"
        )
    return x.unfold(-1, sequence_length, sequence_stride).contiguous()
