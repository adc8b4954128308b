"""Random initializers: normal, uniform, truncated normal, variance scaling (Glorot, He, LeCun), orthogonal.

Shapes are in Keras layout (a conv kernel is ``(*kernel_size, in, out)``, a Dense kernel
``(in, out)``) and fans are computed as Keras does, so ``glorot_uniform`` gives the same
distribution as in Keras. A ``seed=`` gives a private ``torch.Generator``; as in Keras 3, a seeded
initializer returns the same values at every call.
"""

import math
import numbers

import numpy as np
import torch

from strided.initializers.initializer import Initializer, _dtype, _finish, _shape


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
            raise ValueError(
                f"{self.__class__.__name__} only supports floating point dtypes. Received: dtype={dtype!r}"
            )
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
        torch.nn.init.trunc_normal_(t, mean=mean, std=stddev, a=mean - 2 * stddev, b=mean + 2 * stddev, generator=gen)
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

    def __init__(
        self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None, output_axes=None
    ):
        if not isinstance(scale, numbers.Real) or scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale!r}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                f"Invalid `mode` argument: {mode!r}. Please use one of "
                f"['fan_in', 'fan_out', 'fan_avg']. Received: mode={mode!r}"
            )
        dist = str(distribution).lower()
        if dist == "normal":
            dist = "truncated_normal"
        if dist not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(
                f"Invalid `distribution` argument: {distribution!r}. Please use one of "
                f"['uniform', 'truncated_normal', 'untruncated_normal']. "
                f"Received: distribution={distribution!r}"
            )
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
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


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
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = torch.randn((max(rows, cols), min(rows, cols)), generator=self._generator(), dtype=torch.float64)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return _finish(self.gain * q.reshape(shape), dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}
