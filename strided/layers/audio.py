"""Audio front-ends: ``STFTSpectrogram`` (the STFT as a 1-D convolution with trainable DFT kernels) and
``MelSpectrogram`` (``ops.stft``, a Mel filterbank and decibels), with Keras 3's arguments and numbers.

``STFTSpectrogram`` follows Keras: every input channel is convolved separately with the real and the
imaginary kernels of ``initializers.STFT`` (shape ``(frame_length, 1, fft_length // 2 + 1)``) at
stride ``frame_step``; here both kernels go through one ``conv1d`` call. ``MelSpectrogram`` builds
the HTK Mel filterbank exactly as Keras does (same float32 operations, so the same numbers).
"""

import math
import warnings

import numpy as np
import torch

from strided import config
from strided.initializers.stft import check_window
from strided.layers import _util
from strided.ops import _kernels
from strided.ops.signal_ops import stft as _stft
from strided.utils import conv_utils, validation
from strided import initializers

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_FLOAT_INPUTS = (torch.float16, torch.float32, torch.float64)

# HTK Mel scale: mel(f) = 1127 ln(1 + f / 700)
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


class STFTSpectrogram(_util.SpecLayer):
    """Layer to compute the Short-Time Fourier Transform (STFT) of a 1-D signal.

    The spectrogram is computed by convolving each input channel with STFT kernels (the windowed
    real and imaginary DFT bases of ``initializers.STFT``), which runs well on GPUs and lets the
    kernels be fine-tuned with the rest of a model. The output can be the log-magnitude, the
    magnitude, the power spectral density, the real or imaginary part, the phase, or both parts.

    Examples:

    >>> layer = STFTSpectrogram(mode="log", frame_length=256, frame_step=128, fft_length=512,
    ...                         window="hann", padding="valid", trainable=False)
    >>> tuple(layer(np.random.uniform(size=(3, 160000, 1)).astype("float32")).shape)
    (3, 1249, 257)
    >>> layer = STFTSpectrogram(frame_length=256, frame_step=128, fft_length=512, padding="same",
    ...                         expand_dims=True)
    >>> tuple(layer(np.random.uniform(size=(3, 160000, 3)).astype("float32")).shape)
    (3, 1250, 257, 3)

    Args:
        mode: String, the output: ``"log"`` (default; natural log of the magnitude),
            ``"magnitude"``, ``"psd"`` (power spectral density: the power, with the bins other than
            the first and the last doubled), ``"real"``, ``"imag"``, ``"angle"`` (the phase), or
            ``"stft"`` (the real parts, then the imaginary parts).
        frame_length: Integer, the length of each frame (window) in samples. Defaults to 256.
        frame_step: Integer, the hop between consecutive frames, in ``[1, frame_length]``.
            Defaults to ``frame_length // 2``.
        fft_length: Integer, the FFT size, at least ``frame_length`` (a power of two is
            recommended). Defaults to the smallest power of two that is at least ``frame_length``.
        window: String or array_like, the window applied to each frame: a window name of
            ``scipy.signal.windows`` without parameters (``"hann"`` (default), ``"hamming"``,
            ``"blackman"``, ...), the window values (``frame_length`` of them), or None.
        periodic: Boolean, if True the named window is periodic (DFT-even). Defaults to False.
        scaling: ``"density"`` (default; divide by the window's L2 norm), ``"spectrum"`` (by its
            sum) or None.
        padding: ``"valid"`` (default) or ``"same"`` (TensorFlow's split, the extra sample at the end).
        expand_dims: Boolean, if True the frequency axis and the input channels are kept separate,
            giving an image-like 4-D output. Defaults to False.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape:
        3D tensor ``(batch, time, channels)`` (channels_last) or ``(batch, channels, time)``
        (channels_first), of float16, float32 or float64. The same kernels are applied to each channel.

    Output shape:
        With ``bins = fft_length // 2 + 1`` frequency bins (twice as many for ``mode="stft"``) and
        ``frames = ceil(time / frame_step)`` ('same') or ``(time - frame_length) // frame_step + 1``
        ('valid'):
        channels_last: ``(batch, frames, channels * bins)``, or ``(batch, frames, bins, channels)``
        with ``expand_dims``; channels_first: ``(batch, channels * bins, frames)``, or
        ``(batch, channels, frames, bins)`` with ``expand_dims``.
    """

    _spec_ndim = 3

    _config_keys = (
        "mode",
        "frame_length",
        "frame_step",
        "fft_length",
        "window",
        "periodic",
        "scaling",
        "padding",
        "data_format",
        "expand_dims",
    )
    _config_list_keys = ("window",)

    def __init__(
        self,
        mode="log",
        frame_length=256,
        frame_step=None,
        fft_length=None,
        window="hann",
        periodic=False,
        scaling="density",
        padding="valid",
        expand_dims=False,
        data_format=None,
        **kwargs,
    ):
        frame_length = validation.positive_int(frame_length, "frame_length")
        if frame_step is not None:
            frame_step = validation.positive_int(frame_step, "frame_step")
            if frame_step > frame_length:
                raise ValueError(
                    "`frame_step` should be a positive integer not greater than `frame_length`. "
                    f"Received frame_step={frame_step}, frame_length={frame_length}"
                )
        if fft_length is not None:
            fft_length = validation.positive_int(fft_length, "fft_length")
            if fft_length < frame_length:
                raise ValueError(
                    "`fft_length` should be not less than `frame_length`. "
                    f"Received fft_length={fft_length}, frame_length={frame_length}"
                )
            if fft_length & -fft_length != fft_length:
                warnings.warn(
                    f"`fft_length` is recommended to be a power of two. Received fft_length={fft_length}", stacklevel=2
                )
        if mode not in _MODES:
            raise ValueError(f"Output mode is invalid, it must be one of {', '.join(_MODES)}. Received: mode={mode!r}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling={scaling!r}"
            )
        if padding not in ("valid", "same"):
            raise ValueError(f"Padding is invalid, it should be 'valid', 'same'. Received: padding={padding!r}")
        window = check_window(window)
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        if self._frame_step < 1:
            raise ValueError(
                "`frame_step` defaults to `frame_length // 2`, which is 0 here; pass `frame_step`. "
                f"Received frame_length={frame_length}"
            )
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window
        self.periodic = validation.boolean(periodic, "periodic")
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = validation.boolean(expand_dims, "expand_dims")
        self.data_format = conv_utils.normalize_data_format(data_format)

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        # stored as torch's conv1d weight (bins, 1, frame_length); Keras layout at the edges
        for side in {"real": ("real",), "imag": ("imag",)}.get(self.mode, ("real", "imag")):
            kernel = self.add_weight(
                shape=shape,
                name=f"{side}_kernel",
                torch_layout=(2, 1, 0),
                initializer=initializers.STFT(side, self.window, self.scaling, self.periodic),
            )
            setattr(self, f"{side}_kernel", kernel)
        self.built = True

    def _transform(self, x):
        """Both kernels over every channel: ``(batch, channels, n_kernels * bins, frames)``."""
        if self.data_format == "channels_last":
            channels, time = x.shape[2], x.shape[1]
            x = x.transpose(1, 2)
        else:
            channels, time = x.shape[1], x.shape[2]
        x = x.reshape(-1, 1, time)
        weights = [w for w in (getattr(self, "real_kernel", None), getattr(self, "imag_kernel", None)) if w is not None]
        weights = _util.meta_weights(x, *weights)
        weight = (weights[0] if len(weights) == 1 else torch.cat(weights, 0)).to(device=x.device, dtype=x.dtype)
        y = _kernels.conv(x, weight, None, self._frame_step, self.padding, "channels_first")
        return y.reshape(-1, channels, y.shape[1], y.shape[2])

    def _adjust_shapes(self, y):
        _, channels, bins, frames = y.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return y.permute(0, 3, 2, 1)
            return y.reshape(-1, channels * bins, frames).transpose(1, 2)
        if self.expand_dims:
            return y.transpose(2, 3)
        return y.reshape(-1, channels * bins, frames)

    def call(self, inputs):
        if inputs.dtype not in _FLOAT_INPUTS:
            raise TypeError(
                "Invalid input type. Expected `float16`, `float32` or `float64`. "
                f"Received: input type={str(inputs.dtype).replace('torch.', '')}"
            )
        y = self._transform(inputs)
        if self.mode in ("real", "imag"):
            return self._adjust_shapes(y)
        bins = y.shape[2] // 2
        real, imag = y[:, :, :bins], y[:, :, bins:]
        if self.mode == "angle":
            return self._adjust_shapes(torch.atan2(imag, real))
        if self.mode == "stft":
            return self._adjust_shapes(y)
        power = torch.square(real) + torch.square(imag)
        if self.mode == "psd":
            # one-sided density: every bin but DC and Nyquist also stands for its negative frequency
            double = torch.ones(bins, dtype=power.dtype, device=power.device)
            double[1:-1] = 2
            return self._adjust_shapes(power * double[:, None])
        eps = config.epsilon()
        magnitude = self._adjust_shapes(torch.sqrt(torch.clamp_min(power, eps)))
        if self.mode == "magnitude":
            return magnitude
        return torch.log(torch.clamp_min(magnitude, eps))


class MelSpectrogram(_util.SpecLayer):
    """A preprocessing layer to convert raw audio signals to Mel spectrograms.

    The layer takes a single (1D) or batched (2D) float audio signal, computes its Short-Time Fourier
    Transform (``ops.stft`` with centred, reflect-padded frames), raises the magnitude to
    ``mag_exp``, maps the frequency bins to the Mel scale with triangular HTK filters (each peaking
    at 1.0) and, by default, converts the power to decibels. Mel spectrograms approximate how humans
    perceive sound and are the usual input of speech and music models.

    References: `Spectrogram <https://en.wikipedia.org/wiki/Spectrogram>`_,
    `Mel scale <https://en.wikipedia.org/wiki/Mel_scale>`_.

    Examples:

    >>> layer = MelSpectrogram(num_mel_bins=64, sampling_rate=8000, sequence_stride=256, fft_length=2048)
    >>> tuple(layer(np.random.uniform(size=(16000,)).astype("float32")).shape)
    (64, 63)
    >>> layer = MelSpectrogram(num_mel_bins=80, sampling_rate=8000, sequence_stride=128, fft_length=2048)
    >>> tuple(layer(np.random.uniform(size=(2, 16000)).astype("float32")).shape)
    (2, 80, 126)

    Args:
        fft_length: Integer, size of the FFT window. Defaults to 2048.
        sequence_stride: Integer, number of samples between successive STFT columns. Defaults to 512.
        sequence_length: Integer, size of the window applied to each audio frame. Defaults to
            ``fft_length``.
        window: ``"hann"`` (default), ``"hamming"`` (both periodic), an array of ``sequence_length``
            window values, or None for no windowing.
        sampling_rate: Integer, sample rate of the input signal. Defaults to 16000.
        num_mel_bins: Integer, number of Mel bins to generate. Defaults to 128.
        min_freq: Float, minimum frequency of the Mel bins. Defaults to 20.0.
        max_freq: Float, maximum frequency of the Mel bins. Defaults to ``sampling_rate / 2``.
        power_to_db: If True (default), convert the power spectrogram to decibels.
        top_db: Float, minimum negative cut-off ``max(10 * log10(S)) - top_db`` (the maximum is
            taken over the whole input, batch included, as in Keras). Defaults to 80.0.
        mag_exp: Float, exponent of the magnitude spectrogram: 1 for magnitude, 2 (default) for power.
        min_power: Float, minimum value for the power and ``ref_power``. Defaults to 1e-10.
        ref_power: Float, the power is scaled relative to it: ``10 * log10(S / ref_power)``.
            Defaults to 1.0.

    Input shape:
        1D (unbatched) or 2D (batched) tensor of shape ``(..., samples)``.

    Output shape:
        2D (unbatched) or 3D (batched) tensor of shape ``(..., num_mel_bins, frames)`` with
        ``frames = samples // sequence_stride + 1``.
    """

    _spec_min_ndim = 1

    _config_keys = (
        "fft_length",
        "sequence_stride",
        "sequence_length",
        "window",
        "sampling_rate",
        "num_mel_bins",
        "min_freq",
        "max_freq",
        "power_to_db",
        "top_db",
        "mag_exp",
        "min_power",
        "ref_power",
    )
    _config_list_keys = ("window",)

    def __init__(
        self,
        fft_length=2048,
        sequence_stride=512,
        sequence_length=None,
        window="hann",
        sampling_rate=16000,
        num_mel_bins=128,
        min_freq=20.0,
        max_freq=None,
        power_to_db=True,
        top_db=80.0,
        mag_exp=2.0,
        min_power=1e-10,
        ref_power=1.0,
        **kwargs,
    ):
        self.fft_length = validation.positive_int(fft_length, "fft_length")
        self.sequence_stride = validation.positive_int(sequence_stride, "sequence_stride")
        self.sequence_length = (
            validation.positive_int(sequence_length, "sequence_length", allow_none=True) or self.fft_length
        )
        if self.fft_length < self.sequence_length:
            raise ValueError(
                "`fft_length` must be greater than or equal to `sequence_length`. Received: "
                f"`sequence_length`={self.sequence_length}, `fft_length`={self.fft_length}."
            )
        if isinstance(window, str) and window not in ("hann", "hamming"):
            raise ValueError(
                f'If a string is passed to `window`, it must be one of `"hann"`, `"hamming"`. '
                f"Received: window={window!r}"
            )
        if isinstance(window, torch.Tensor):
            window = window.detach().cpu().numpy()
        self.window = window
        validation.number(sampling_rate, "sampling_rate", low=0, low_inclusive=False)
        self.sampling_rate = sampling_rate
        self.num_mel_bins = validation.positive_int(num_mel_bins, "num_mel_bins")
        validation.number(min_freq, "min_freq", low=0)
        self.min_freq = min_freq
        if max_freq is not None:
            validation.number(max_freq, "max_freq", low=0, low_inclusive=False)
        self.max_freq = max_freq or int(sampling_rate / 2)
        if self.max_freq <= self.min_freq:
            raise ValueError(
                "Invalid value for argument `max_freq`. Expected a frequency above `min_freq`. "
                f"Received: min_freq={min_freq}, max_freq={max_freq} "
                f"(sampling_rate={sampling_rate})"
            )
        self.power_to_db = validation.boolean(power_to_db, "power_to_db")
        for name, value in (
            ("top_db", top_db),
            ("mag_exp", mag_exp),
            ("min_power", min_power),
            ("ref_power", ref_power),
        ):
            validation.number(value, name)
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        super().__init__(**kwargs)

    def _dtypes(self):
        try:
            out = config.torch_dtype(self.dtype)
        except (TypeError, ValueError):
            out = torch.float32
        compute = out if out in (torch.float32, torch.float64) else torch.float32
        return compute, out

    def call(self, inputs):
        compute, out = self._dtypes()
        x = inputs.to(compute) if inputs.dtype != compute else inputs
        window = self.window
        if window is not None and not isinstance(window, str):
            window = torch.as_tensor(np.asarray(window), dtype=compute, device=x.device)
        real, imag = _stft(x, self.sequence_length, self.sequence_stride, self.fft_length, window, center=True)
        spec = torch.pow(torch.sqrt(torch.square(real) + torch.square(imag)), self.mag_exp)
        matrix = self.linear_to_mel_weight_matrix(
            self.num_mel_bins, spec.shape[-1], self.sampling_rate, self.min_freq, self.max_freq
        )
        outputs = torch.tensordot(spec, matrix.to(device=spec.device, dtype=spec.dtype), dims=1)
        if self.power_to_db:
            outputs = self._dbscale(outputs)
        return outputs.transpose(-1, -2).to(out)

    def _dbscale(self, x):
        log_spec = 10.0 * torch.log10(torch.clamp_min(x, self.min_power))
        ref = torch.abs(torch.tensor(self.ref_power, dtype=torch.float32, device=x.device))
        log_spec = log_spec - 10.0 * torch.log10(torch.clamp_min(ref, self.min_power))
        return torch.maximum(log_spec, torch.max(log_spec) - self.top_db)

    @staticmethod
    def _hertz_to_mel(frequencies_hertz):
        return _MEL_HIGH_FREQUENCY_Q * torch.log(1.0 + frequencies_hertz / _MEL_BREAK_FREQUENCY_HERTZ)

    @staticmethod
    def _linspace(start, stop, num):
        # Keras's torch linspace for tensor end points: start + (i / (num - 1)) * (stop - start)
        steps = torch.arange(num, dtype=start.dtype) / (num - 1)
        return start + steps * (stop - start)

    def linear_to_mel_weight_matrix(
        self,
        num_mel_bins=20,
        num_spectrogram_bins=129,
        sampling_rate=8000,
        lower_edge_hertz=125.0,
        upper_edge_hertz=3800.0,
        dtype="float32",
    ):
        """Returns a matrix to warp linear-scale spectrograms to the Mel scale.

        The matrix re-weights ``num_spectrogram_bins`` linearly spaced frequencies of
        ``[0, sampling_rate / 2]`` into ``num_mel_bins`` triangular bands spaced evenly on the Mel scale
        between ``lower_edge_hertz`` and ``upper_edge_hertz``, following the HTK convention
        ``mel(f) = 2595 log10(1 + f / 700)``; every triangle peaks at 1.0 and the DC bin is excluded.
        ``M = S @ A`` maps a spectrogram ``S`` of shape ``(frames, num_spectrogram_bins)`` to the Mel
        spectrogram ``M`` of shape ``(frames, num_mel_bins)``.

        Args:
            num_mel_bins: how many bands in the resulting Mel spectrum.
            num_spectrogram_bins: how many bins the source spectrogram has (``fft_size // 2 + 1``).
            sampling_rate: samples per second of the signal the spectrogram was computed from.
            lower_edge_hertz: lower edge of the lowest band.
            upper_edge_hertz: upper edge of the highest band.
            dtype: float dtype of the result.

        Returns:
            A tensor of shape ``(num_spectrogram_bins, num_mel_bins)``.
        """
        dtype = config.torch_dtype(dtype)
        sampling_rate = torch.tensor(sampling_rate).to(dtype)
        lower = torch.tensor(lower_edge_hertz, dtype=dtype)
        upper = torch.tensor(upper_edge_hertz, dtype=dtype)
        zero = torch.tensor(0.0, dtype=dtype)
        bands_to_zero = 1  # HTK excludes the DC bin
        linear_frequencies = self._linspace(zero, sampling_rate / 2.0, num_spectrogram_bins)[bands_to_zero:]
        spectrogram_bins_mel = self._hertz_to_mel(linear_frequencies)[:, None]
        # num_mel_bins triples (lower edge, centre, upper edge): the centre of a band is the edge of its
        # neighbours, so [lower, upper] is cut into num_mel_bins + 2 points on the Mel scale
        edges = self._linspace(self._hertz_to_mel(lower), self._hertz_to_mel(upper), num_mel_bins + 2)
        lower_mel, center_mel, upper_mel = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
        lower_slopes = (spectrogram_bins_mel - lower_mel) / (center_mel - lower_mel)
        upper_slopes = (upper_mel - spectrogram_bins_mel) / (upper_mel - center_mel)
        weights = torch.maximum(zero, torch.minimum(lower_slopes, upper_slopes))
        return torch.nn.functional.pad(weights, (0, 0, bands_to_zero, 0))


__all__ = ["STFTSpectrogram", "MelSpectrogram"]
