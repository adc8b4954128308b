"""Weight initializers with the Keras API: ``init(shape, dtype=None) -> torch.Tensor``.

Shapes are in Keras layout (a conv kernel is ``(*kernel_size, in, out)``, a Dense kernel
``(in, out)``) and fans are computed as Keras does, so ``glorot_uniform`` gives the same
distribution as in Keras. Values are drawn on the CPU and moved to ``config.get_device()``: a
model built after ``strided.utils.set_random_seed(s)`` gets the same weights on CPU and GPU.
A ``seed=`` gives a private ``torch.Generator``; as in Keras 3, a seeded initializer returns the
same values at every call.
"""
import math
import numbers

import numpy as np
import torch

from strided import config
from strided.utils.registry import Registry

__all__ = [
    "Initializer", "Constant", "Zeros", "Ones", "Identity", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
    "LecunUniform", "LecunNormal", "Orthogonal", "compute_fans", "get", "serialize", "deserialize",
]


def _shape(shape):
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid value for argument `shape`. Expected a tuple of non-negative integers. "
                         f"Received: shape={shape!r}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"Invalid value for argument `shape`. Expected non-negative dimensions. "
                         f"Received: shape={shape}")
    return shape


def _dtype(dtype):
    return config.torch_dtype(dtype)


def _finish(t, dtype):
    return t.to(device=config.get_device(), dtype=_dtype(dtype))


def compute_fans(shape, input_axes=None, output_axes=None):
    """Returns ``(fan_in, fan_out)`` for a Keras-layout weight shape.

    Rank 0: (1, 1); rank 1: (n, n); rank 2: (in, out); rank >= 3 (conv kernels
    ``(*k, in, out)``): receptive field = prod(shape[:-2]) multiplies both.
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (int(np.prod([shape[a] for a in input_axes])), int(np.prod([shape[a] for a in output_axes])))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = int(np.prod(shape[:-2]))
    return int(shape[-2]) * receptive, int(shape[-1]) * receptive


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{self.__class__.__name__}({args})"


class Zeros(Initializer):
    """Initializer that generates tensors initialized to 0."""

    def __call__(self, shape, dtype=None):
        return torch.zeros(_shape(shape), dtype=_dtype(dtype), device=config.get_device())


class Ones(Initializer):
    """Initializer that generates tensors initialized to 1."""

    def __call__(self, shape, dtype=None):
        return torch.ones(_shape(shape), dtype=_dtype(dtype), device=config.get_device())


class Constant(Initializer):
    """Initializer that generates tensors with constant values.

    Args:
        value: a Python scalar, or an array (list, NumPy array, tensor). A scalar or an array that
            broadcasts to the requested shape is broadcast; an array with as many elements as the
            shape is reshaped to it (as ``tf.constant_initializer`` does).
    """

    def __init__(self, value=0.0):
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        elif isinstance(value, (list, tuple)):
            value = np.asarray(value)
        elif isinstance(value, np.generic):
            value = value.item()
        self.value = value

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if isinstance(self.value, np.ndarray) and self.value.ndim > 0:
            arr = self.value
            try:
                arr = np.broadcast_to(arr, shape)
            except ValueError:
                if arr.size != int(np.prod(shape)):
                    raise ValueError(
                        f"Constant initializer: the value of shape {arr.shape} ({arr.size} elements) cannot "
                        f"be broadcast or reshaped to the requested weight shape {shape} "
                        f"({int(np.prod(shape))} elements). Received: shape={shape}") from None
                arr = arr.reshape(shape)
            return _finish(torch.tensor(np.array(arr)), dtype)
        return torch.full(shape, float(self.value) if not isinstance(self.value, bool) else self.value,
                          dtype=_dtype(dtype), device=config.get_device())

    def get_config(self):
        value = self.value
        if isinstance(value, np.ndarray):
            value = value.tolist()
        return {"value": value}

    @classmethod
    def from_config(cls, config):
        value = config.get("value", 0.0)
        if isinstance(value, dict) and value.get("class_name") == "__numpy__":  # Keras 3 array layout
            value = np.asarray(value["config"]["value"], dtype=value["config"].get("dtype"))
        return cls(value)


class Identity(Initializer):
    """Initializer that generates the identity matrix (2D shapes only), times ``gain``."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        return self.gain * torch.eye(*shape, dtype=_dtype(dtype), device=config.get_device())

    def get_config(self):
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """Base of the random initializers: holds the seed and picks the RNG."""

    def __init__(self, seed=None):
        if seed is not None and (not isinstance(seed, numbers.Integral) or isinstance(seed, bool)):
            raise ValueError(f"`seed` argument should be an integer or None. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)

    def _generator(self):
        if self.seed is None:
            return None  # global torch RNG: follows strided.utils.set_random_seed
        return torch.Generator(device="cpu").manual_seed(self.seed)

    def _float_dtype(self, dtype):
        dt = _dtype(dtype)
        if not dt.is_floating_point:
            raise ValueError(f"{self.__class__.__name__} only supports floating point dtypes. Received: dtype={dtype!r}")
        return dt

    def get_config(self):
        return {"seed": self.seed}


def _normal(shape, mean, stddev, gen):
    return torch.randn(shape, generator=gen, dtype=torch.float32) * stddev + mean


def _uniform(shape, low, high, gen):
    return torch.rand(shape, generator=gen, dtype=torch.float32) * (high - low) + low


def _truncated_normal(shape, mean, stddev, gen):
    t = torch.empty(shape, dtype=torch.float32)
    if t.numel():
        torch.nn.init.trunc_normal_(t, mean=mean, std=stddev, a=mean - 2 * stddev, b=mean + 2 * stddev,
                                    generator=gen)
    return t


class RandomNormal(RandomInitializer):
    """Normal distribution with ``mean`` (0.0) and ``stddev`` (0.05)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        self._float_dtype(dtype)
        return _finish(_normal(_shape(shape), self.mean, self.stddev, self._generator()), dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(RandomInitializer):
    """Uniform distribution on ``[minval, maxval)`` (defaults -0.05, 0.05)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        self._float_dtype(dtype)
        return _finish(_uniform(_shape(shape), self.minval, self.maxval, self._generator()), dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(RandomInitializer):
    """Normal distribution (``mean`` 0.0, ``stddev`` 0.05) cut at two standard deviations."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        self._float_dtype(dtype)
        return _finish(_truncated_normal(_shape(shape), self.mean, self.stddev, self._generator()), dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(RandomInitializer):
    """Draws with variance ``scale / n``, n = fan_in, fan_out or their average (``mode``).

    Args:
        scale: positive scaling factor (1.0).
        mode: 'fan_in' (default), 'fan_out' or 'fan_avg'.
        distribution: 'truncated_normal' (default; 'normal' is an alias), 'untruncated_normal' or
            'uniform'. Truncated: stddev = sqrt(scale / n) / 0.8796..; uniform: limit = sqrt(3 scale / n).
        seed: optional integer for reproducible draws.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if not isinstance(scale, numbers.Real) or scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale!r}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode!r}. Please use one of "
                             f"['fan_in', 'fan_out', 'fan_avg']. Received: mode={mode!r}")
        dist = str(distribution).lower()
        if dist == "normal":
            dist = "truncated_normal"
        if dist not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution!r}. Please use one of "
                             f"['uniform', 'truncated_normal', 'untruncated_normal']. "
                             f"Received: distribution={distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, dist
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        self._float_dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        gen = self._generator()
        if self.distribution == "truncated_normal":
            # 0.8796... is the stddev of a unit normal truncated to [-2, 2].
            t = _truncated_normal(shape, 0.0, math.sqrt(scale) / 0.87962566103423978, gen)
        elif self.distribution == "untruncated_normal":
            t = _normal(shape, 0.0, math.sqrt(scale), gen)
        else:
            limit = math.sqrt(3.0 * scale)
            t = _uniform(shape, -limit, limit, gen)
        return _finish(t, dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed,
                "input_axes": self.input_axes, "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    _args = {}

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(seed=seed, input_axes=input_axes, output_axes=output_axes, **self._args)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """Glorot (Xavier) uniform: limit = sqrt(6 / (fan_in + fan_out)). Keras's default kernel initializer."""
    _args = dict(scale=1.0, mode="fan_avg", distribution="uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Glorot normal: truncated normal with stddev = sqrt(2 / (fan_in + fan_out))."""
    _args = dict(scale=1.0, mode="fan_avg", distribution="truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """He uniform: limit = sqrt(6 / fan_in)."""
    _args = dict(scale=2.0, mode="fan_in", distribution="uniform")


class HeNormal(_FixedVarianceScaling):
    """He normal: truncated normal with stddev = sqrt(2 / fan_in)."""
    _args = dict(scale=2.0, mode="fan_in", distribution="truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: limit = sqrt(3 / fan_in)."""
    _args = dict(scale=1.0, mode="fan_in", distribution="uniform")


class LecunNormal(_FixedVarianceScaling):
    """LeCun normal: truncated normal with stddev = sqrt(1 / fan_in)."""
    _args = dict(scale=1.0, mode="fan_in", distribution="truncated_normal")


class Orthogonal(RandomInitializer):
    """Orthogonal matrix (QR of a normal draw, sign-corrected), times ``gain``; rank >= 2."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        self._float_dtype(dtype)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = torch.randn((max(rows, cols), min(rows, cols)), generator=self._generator(), dtype=torch.float64)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return _finish(self.gain * q.reshape(shape), dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


_REGISTRY = Registry("initializer", "keras.initializers")
for _cls in (Initializer, Constant, Zeros, Ones, Identity, RandomNormal, RandomUniform, TruncatedNormal,
             VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal,
             Orthogonal):
    _REGISTRY.register(_cls)
for _alias, _cls in {"normal": RandomNormal, "uniform": RandomUniform, "one": Ones, "zero": Zeros,
                     "IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal,
                     # tf.keras 2 / TF names, still in tutorials
                     "constant_initializer": Constant, "zeros_initializer": Zeros, "ones_initializer": Ones,
                     "random_normal_initializer": RandomNormal, "random_uniform_initializer": RandomUniform,
                     "truncated_normal_initializer": TruncatedNormal,
                     "glorot_uniform_initializer": GlorotUniform, "glorot_normal_initializer": GlorotNormal,
                     }.items():
    _REGISTRY.objects[_alias] = _cls

# Keras exposes the snake_case names as the classes themselves (keras.initializers.glorot_uniform).
constant = constant_initializer = Constant
zeros = zero = zeros_initializer = Zeros
ones = one = ones_initializer = Ones
identity = Identity
random_normal = normal = random_normal_initializer = RandomNormal
random_uniform = uniform = random_uniform_initializer = RandomUniform
truncated_normal = truncated_normal_initializer = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_uniform = HeUniform
he_normal = HeNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal
orthogonal = Orthogonal


def serialize(initializer):
    """Returns the initializer configuration as a Keras 3 dict."""
    return _REGISTRY.serialize(initializer)


def deserialize(config, custom_objects=None):
    """Returns an initializer from its configuration dict."""
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier, arg_name="identifier"):
    """Retrieves an initializer.

    Args:
        identifier: None, a Keras name ('glorot_uniform', 'HeNormal', 'zeros'...), a config dict, an
            Initializer class or instance, a callable ``fn(shape, dtype=None)``, or an array (then the
            initializer returns that array and checks the shape).
        arg_name: the argument name used in error messages (e.g. 'kernel_initializer').

    Returns:
        A callable ``init(shape, dtype=None) -> torch.Tensor`` (None for None).
    """
    if isinstance(identifier, (np.ndarray, np.generic, torch.Tensor)):
        value = identifier.detach().cpu().numpy() if isinstance(identifier, torch.Tensor) else np.asarray(identifier)

        def initialize_fn(shape, dtype=None):
            if tuple(_shape(shape)) != tuple(value.shape):
                raise ValueError(f"Expected `shape` to be {tuple(value.shape)} for direct tensor as initializer. "
                                 f"Received shape={tuple(shape)}")
            return _finish(torch.tensor(np.array(value)), dtype)

        return initialize_fn
    return _REGISTRY.get(identifier, arg_name)

# Keras 3 also names two classes with the Initializer suffix.
IdentityInitializer, OrthogonalInitializer = Identity, Orthogonal


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
        from strided import initializers_stft
        if side not in ("real", "imag"):
            raise ValueError(f"Invalid value for argument `side`. Expected 'real' or 'imag'. Received: side={side!r}")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("Invalid value for argument `scaling`. Expected `None`, 'density' or 'spectrum'. "
                             f"Received: scaling={scaling!r}")
        self.side = side
        self.window = initializers_stft.check_window(window)
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape, dtype=None):
        from strided import initializers_stft
        kernel = initializers_stft.stft_kernel(_shape(shape), _dtype(dtype), self.side, self.window, self.scaling,
                                               self.periodic)
        return _finish(kernel, dtype)

    def get_config(self):
        window = self.window.tolist() if isinstance(self.window, np.ndarray) else self.window
        return {"side": self.side, "window": window, "periodic": self.periodic, "scaling": self.scaling}


_REGISTRY.register(STFT, "STFTInitializer")
stft = STFTInitializer = STFT
