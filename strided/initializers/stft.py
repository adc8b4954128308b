"""The kernels of the ``STFT`` initializer (``keras.initializers.STFT``): windowed DFT kernels for a 1-D
convolution, the SciPy windows they use, and the ``STFT`` initializer class.

A kernel of shape ``(frame_length, 1, fft_bins)`` holds, in column ``f``, the real part
``cos(-2 pi t f / fft_length)`` or the imaginary part ``sin(-2 pi t f / fft_length)`` of the DFT,
with ``fft_length = 2 (fft_bins - 1)``, multiplied by the analysis window and divided by its L2 norm
(``scaling='density'``) or its sum (``'spectrum'``). Convolving a signal with it at stride
``frame_step`` gives the short-time Fourier transform, which ``layers.STFTSpectrogram`` builds on.

Keras takes its named windows from ``scipy.signal.get_window``; strided computes the same windows
(the parameter-free ones, under SciPy's names and aliases) with NumPy in float64, so SciPy is not
needed. The kernel itself is computed in the requested dtype with Keras's order of operations, so a
float32 kernel agrees with Keras's to the last bit of the cosine.
"""

import numbers

import numpy as np
import torch

from strided.initializers.initializer import Initializer, _dtype, _finish, _shape

__all__ = ["STFT", "get_window", "check_window", "stft_kernel"]


# ---------------------------------------------------------------- windows (scipy.signal.windows formulas)


def _general_cosine(m, coefficients):
    fac = np.linspace(-np.pi, np.pi, m)
    return sum(a * np.cos(k * fac) for k, a in enumerate(coefficients))


def _boxcar(m):
    return np.ones(m)


def _triang(m):
    n = np.arange(1, (m + 1) // 2 + 1)
    if m % 2 == 0:
        w = (2 * n - 1.0) / m
        return np.concatenate([w, w[::-1]])
    w = 2 * n / (m + 1.0)
    return np.concatenate([w, w[-2::-1]])


def _bartlett(m):
    n = np.arange(m)
    return np.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))


def _parzen(m):
    n = np.arange(-(m - 1) / 2.0, (m - 1) / 2.0 + 0.5, 1.0)
    na = n[n < -(m - 1) / 4.0]
    nb = n[np.abs(n) <= (m - 1) / 4.0]
    wa = 2 * (1 - np.abs(na) / (m / 2.0)) ** 3.0
    wb = 1 - 6 * (np.abs(nb) / (m / 2.0)) ** 2.0 + 6 * (np.abs(nb) / (m / 2.0)) ** 3.0
    return np.concatenate([wa, wb, wa[::-1]])


def _bohman(m):
    fac = np.abs(np.linspace(-1, 1, m)[1:-1])
    w = (1 - fac) * np.cos(np.pi * fac) + 1.0 / np.pi * np.sin(np.pi * fac)
    return np.concatenate([[0.0], w, [0.0]])


def _barthann(m):
    fac = np.abs(np.arange(m) / (m - 1.0) - 0.5)
    return 0.62 - 0.48 * fac + 0.38 * np.cos(2 * np.pi * fac)


def _cosine(m):
    return np.sin(np.pi / m * (np.arange(m) + 0.5))


def _exponential(m, tau=1.0):
    return np.exp(-np.abs(np.arange(m) - (m - 1) / 2.0) / tau)


def _tukey(m, alpha=0.5):
    n = np.arange(m)
    width = int(np.floor(alpha * (m - 1) / 2.0))
    n1, n3 = n[: width + 1], n[m - width - 1 :]
    w1 = 0.5 * (1 + np.cos(np.pi * (-1 + 2.0 * n1 / alpha / (m - 1))))
    w2 = np.ones(m - 2 * (width + 1))
    w3 = 0.5 * (1 + np.cos(np.pi * (-2.0 / alpha + 1 + 2.0 * n3 / alpha / (m - 1))))
    return np.concatenate([w1, w2, w3])


def _lanczos(m):
    def right_side(lo, hi):
        return np.sinc(2.0 * np.arange(lo, hi) / (hi - 1) - 1.0)

    # built from one half so the window is exactly symmetric, as SciPy does
    if m % 2 == 0:
        half = right_side(m / 2, m)
        return np.concatenate([half[::-1], half])
    half = right_side((m + 1) / 2, m)
    return np.concatenate([half[::-1], [1.0], half])


def _taylor(m, nbar=4, sll=30, norm=True):
    b = 10 ** (sll / 20)
    a = np.arccosh(b) / np.pi
    s2 = nbar**2 / (a**2 + (nbar - 0.5) ** 2)
    ma = np.arange(1, nbar)
    fm = np.empty(nbar - 1)
    signs = np.empty_like(ma)
    signs[::2], signs[1::2] = 1, -1
    m2 = ma * ma
    for mi in range(len(ma)):
        numer = signs[mi] * np.prod(1 - m2[mi] / s2 / (a**2 + (ma - 0.5) ** 2))
        denom = 2 * np.prod(1 - m2[mi] / m2[:mi]) * np.prod(1 - m2[mi] / m2[mi + 1 :])
        fm[mi] = numer / denom

    def w_of(n):
        return 1 + 2 * np.dot(fm, np.cos(2 * np.pi * ma[:, None] * (n - m / 2.0 + 0.5) / m))

    w = w_of(np.arange(m))
    if norm:
        w = w / w_of((m - 1) / 2)
    return w


_WINDOWS = {
    "barthann": _barthann,
    "bartlett": _bartlett,
    "blackman": lambda m: _general_cosine(m, [0.42, 0.50, 0.08]),
    "blackmanharris": lambda m: _general_cosine(m, [0.35875, 0.48829, 0.14128, 0.01168]),
    "bohman": _bohman,
    "boxcar": _boxcar,
    "cosine": _cosine,
    "exponential": _exponential,
    "flattop": lambda m: _general_cosine(m, [0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368]),
    "hamming": lambda m: _general_cosine(m, [0.54, 0.46]),
    "hann": lambda m: _general_cosine(m, [0.5, 0.5]),
    "lanczos": _lanczos,
    "nuttall": lambda m: _general_cosine(m, [0.3635819, 0.4891775, 0.1365995, 0.0106411]),
    "parzen": _parzen,
    "taylor": _taylor,
    "triang": _triang,
    "tukey": _tukey,
}
_ALIASES = {
    "brthan": "barthann",
    "bth": "barthann",
    "bart": "bartlett",
    "brt": "bartlett",
    "black": "blackman",
    "blk": "blackman",
    "blackharr": "blackmanharris",
    "bkh": "blackmanharris",
    "bman": "bohman",
    "bmn": "bohman",
    "box": "boxcar",
    "ones": "boxcar",
    "rect": "boxcar",
    "rectangular": "boxcar",
    "halfcosine": "cosine",
    "poisson": "exponential",
    "flat": "flattop",
    "flt": "flattop",
    "hamm": "hamming",
    "ham": "hamming",
    "han": "hann",
    "sinc": "lanczos",
    "nutl": "nuttall",
    "nut": "nuttall",
    "parz": "parzen",
    "par": "parzen",
    "taylorwin": "taylor",
    "triangle": "triang",
    "tri": "triang",
    "tuk": "tukey",
}
# SciPy windows that cannot be named by a bare string (they need parameters).
_NEEDS_PARAMETERS = (
    "chebwin",
    "cheb",
    "dpss",
    "gaussian",
    "gauss",
    "gss",
    "general cosine",
    "general_cosine",
    "general gaussian",
    "general_gaussian",
    "general gauss",
    "general_gauss",
    "ggs",
    "general hamming",
    "general_hamming",
    "kaiser",
    "ksr",
    "kaiser bessel derived",
    "kaiser_bessel_derived",
    "kbd",
)


def _window_function(name, arg_name="window"):
    """The window function for a SciPy window name, and whether the name forces symmetry."""
    if not isinstance(name, str):
        raise TypeError(
            f"Invalid type for argument `{arg_name}`. Expected a window name (str). Received: {arg_name}={name!r}"
        )
    base, sym = name, None
    if base.endswith("_symmetric"):
        base, sym = base[: -len("_symmetric")], True
    elif base.endswith("_periodic"):
        base, sym = base[: -len("_periodic")], False
    base = _ALIASES.get(base, base)
    if base in _NEEDS_PARAMETERS:
        raise ValueError(
            f"Invalid value for argument `{arg_name}`: the '{base}' window needs parameters, so it "
            f"cannot be named by a string; pass the window values as an array instead. "
            f"Received: {arg_name}={name!r}"
        )
    if base not in _WINDOWS:
        raise ValueError(
            f"Invalid value for argument `{arg_name}`: unknown window name. Expected one of "
            f"{sorted(_WINDOWS)} (or a SciPy alias of one). Received: {arg_name}={name!r}"
        )
    return _WINDOWS[base], sym


def get_window(window, length, periodic=False):
    """The values of a named window, as ``scipy.signal.get_window(window, length, fftbins=periodic)``.

    Args:
        window: a SciPy window name without parameters ('hann', 'hamming', 'blackman', 'bartlett',
            'boxcar', 'triang', 'flattop', 'nuttall', 'blackmanharris', 'parzen', 'bohman', 'barthann',
            'cosine', 'exponential', 'tukey', 'taylor', 'lanczos' and SciPy's aliases; a '_periodic' or
            '_symmetric' suffix overrides `periodic`).
        length: number of points (a positive integer).
        periodic: if True, the periodic window (the symmetric window of ``length + 1`` points without
            its last point), as used for spectral analysis; else the symmetric one.

    Returns:
        A float64 NumPy array of shape ``(length,)``.
    """
    fn, sym = _window_function(window)
    if isinstance(length, bool) or not isinstance(length, numbers.Integral) or length <= 0:
        raise ValueError(
            f"Invalid value for argument `length`. Expected a positive integer. Received: length={length!r}"
        )
    symmetric = (not periodic) if sym is None else sym
    if length == 1:
        return np.ones(1)
    m = length if symmetric else length + 1
    w = np.asarray(fn(m), dtype=np.float64)
    return w if symmetric else w[:-1]


# ---------------------------------------------------------------- the kernel


def check_window(window, arg_name="window"):
    """Validates a window argument as Keras does at construction (names are looked up, arrays kept)."""
    if isinstance(window, str):
        _window_function(window, arg_name)
    elif isinstance(window, torch.Tensor):
        window = window.detach().cpu().numpy()
    return window


def stft_kernel(shape, dtype, side="real", window="hann", scaling="density", periodic=False):
    """The real or imaginary windowed DFT kernel of Keras layout ``(frame_length, channels, fft_bins)``.

    Args:
        shape: ``(frame_length, input_channels, fft_bins)``.
        dtype: a floating torch dtype; the kernel is computed in it.
        side, window, scaling, periodic: as in ``initializers.STFT``.

    Returns:
        A CPU tensor of ``shape`` and ``dtype``.
    """
    if len(shape) != 3:
        raise ValueError(
            "The STFT initializer expects a shape (frame_length, input_channels, fft_bins). "
            f"Received: shape={tuple(shape)}"
        )
    if not dtype.is_floating_point:
        raise ValueError(f"The STFT initializer only produces float kernels. Received: dtype={dtype}")
    frame_length, _, bins = shape
    win, scale = None, 1
    if window is not None:
        if isinstance(window, str):
            values = get_window(window, frame_length, bool(periodic))
        else:
            values = np.asarray(window, dtype=np.float64)
        win = torch.as_tensor(values).to(dtype)
        if win.ndim != 1 or win.shape[-1] != frame_length:
            raise ValueError(
                "The shape of `window` must be equal to [frame_length]. "
                f"Received: window shape={tuple(win.shape)}, frame_length={frame_length}"
            )
        win = win.reshape(frame_length, 1, 1)
        if scaling == "density":
            scale = torch.sqrt(torch.sum(torch.square(win)))
        elif scaling == "spectrum":
            scale = torch.sum(torch.abs(win))
    # Keras's float order: (-2 t) * (f / n_fft) * pi, with pi = arccos(-1) in the kernel dtype.
    n_fft = (bins - 1) * 2
    freq = torch.arange(bins, dtype=dtype).reshape(1, 1, bins) / n_fft
    time = torch.arange(frame_length, dtype=dtype).reshape(frame_length, 1, 1)
    args = (-2 * time) * freq * torch.arccos(torch.tensor(-1.0, dtype=dtype))
    kernel = torch.cos(args) if side == "real" else torch.sin(args)
    if win is not None:
        kernel = kernel * win / scale
    return kernel.expand(tuple(shape)).contiguous()


class STFT(Initializer):
    """Initializer of Conv kernels for the Short-Time Fourier Transform (STFT).

    The formula involves complex numbers, so one initializer gives either the real or the imaginary
    part of the transform: column ``f`` of the kernel is ``cos(-2 pi t f / n)`` or ``sin(-2 pi t f / n)``
    with ``n = 2 (fft_bins - 1)``. The kernel is windowed along the time axis (the windows of
    ``scipy.signal.windows`` that take no parameter, e.g. ``"hann"`` and ``"hamming"``, computed
    without SciPy) and divided by the window's L2 norm or sum. This is primarily intended for use in
    the ``STFTSpectrogram`` layer.

    Examples:

    >>> initializer = STFTInitializer("real", "hann", "density", False)
    >>> values = initializer(shape=(128, 1, 513))

    Args:
        side: String, ``"real"`` or ``"imag"``: whether the kernel computes the real or the imaginary
            part of the output. Defaults to ``"real"``.
        window: String, the name of a window function of ``scipy.signal.windows``, or array_like of the
            window values, or ``None`` for no windowing. Defaults to ``"hann"``.
        scaling: String, ``"density"`` or ``"spectrum"``: divide the windowed kernel by the window's L2
            norm or by its L1 norm; ``None`` for no scaling. Defaults to ``"density"``.
        periodic: Boolean, if True, the window function is periodic (DFT-even). Defaults to ``False``.

    Call arguments:
        shape: ``(frame_length, input_channels, fft_bins)`` with ``fft_bins = fft_length // 2 + 1``
            (the non-negative frequencies; the others are their complex conjugates).
        dtype: a float dtype (default ``floatx()``).
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"Invalid value for argument `side`. Expected 'real' or 'imag'. Received: side={side!r}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                "Invalid value for argument `scaling`. Expected `None`, 'density' or 'spectrum'. "
                f"Received: scaling={scaling!r}"
            )
        self.side = side
        self.window = check_window(window)
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape, dtype=None):
        kernel = stft_kernel(_shape(shape), _dtype(dtype), self.side, self.window, self.scaling, self.periodic)
        return _finish(kernel, dtype)

    def get_config(self):
        window = self.window.tolist() if isinstance(self.window, np.ndarray) else self.window
        return {"side": self.side, "window": window, "periodic": self.periodic, "scaling": self.scaling}
