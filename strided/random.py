"""``keras.random``: random tensors on the current device, seeded as in Keras 3.

``seed`` may be:

- ``None``: torch's global generator (follows ``strided.utils.set_random_seed``);
- an int: a fresh generator seeded with it, so the same call returns the same values every time;
- a :class:`SeedGenerator`: a stateful stream, a new draw at each call (use one in a layer or a custom
  ``train_step`` for reproducible yet changing noise).
"""

import numbers

import torch

from strided import config
from strided.utils import validation


class SeedGenerator:
    """A stateful source of seeds (``keras.random.SeedGenerator``).

    Args:
        seed: the initial seed (an int); default: one drawn from torch's global generator.
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, (), dtype=torch.int64))
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed!r}")
        self.name = name or "seed_generator"
        self._initial = int(seed)
        self._counter = 0

    def next(self):
        """The next seed of the stream (an int); the state advances by one."""
        self._counter += 1
        return (self._initial * 1_000_003 + self._counter) % (2**63 - 1)

    def get_config(self):
        return {"seed": self._initial}


def _generator(seed, device):
    """A torch.Generator for ``seed`` on ``device``, or None for the global generator."""
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        value = seed.next()
    elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        value = int(seed)
    else:
        raise ValueError(
            "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
            f"Received: seed={seed!r} (of type {type(seed).__name__})"
        )
    return torch.Generator(device=device).manual_seed(value)


def _shape(shape):
    return validation.shape(shape, "shape")


def _float(dtype):
    return config.torch_dtype(dtype or config.floatx())


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from a normal distribution ``N(mean, stddev**2)``."""
    device = config.get_device()
    out = torch.randn(_shape(shape), generator=_generator(seed, device), dtype=_float(dtype), device=device)
    return out * stddev + mean


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples uniformly from ``[minval, maxval)``."""
    device = config.get_device()
    out = torch.rand(_shape(shape), generator=_generator(seed, device), dtype=_float(dtype), device=device)
    return out * (maxval - minval) + minval


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Samples integers uniformly from ``[minval, maxval)``."""
    device = config.get_device()
    return torch.randint(
        int(minval),
        int(maxval),
        _shape(shape),
        generator=_generator(seed, device),
        dtype=config.torch_dtype(dtype),
        device=device,
    )


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples ``N(mean, stddev**2)`` truncated to two standard deviations around the mean."""
    device = config.get_device()
    out = torch.empty(_shape(shape), dtype=_float(dtype), device=device)
    torch.nn.init.trunc_normal_(out, 0.0, 1.0, -2.0, 2.0, generator=_generator(seed, device))
    return out * stddev + mean


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes entries with probability ``rate`` and scales the rest by ``1 / (1 - rate)``."""
    if not 0 <= rate < 1:
        raise ValueError(f"Invalid value for argument `rate`: expected a float in [0, 1). Received: rate={rate}")
    x = torch.as_tensor(inputs, device=config.get_device())
    shape = (
        x.shape
        if noise_shape is None
        else tuple(x.shape[i] if s is None else int(s) for i, s in enumerate(noise_shape))
    )
    keep = torch.rand(shape, generator=_generator(seed, x.device), device=x.device) >= rate
    return x * keep / (1.0 - rate)


def shuffle(x, axis=0, seed=None):
    """A random permutation of ``x`` along ``axis``."""
    x = torch.as_tensor(x, device=config.get_device())
    order = torch.randperm(x.shape[axis], generator=_generator(seed, x.device), device=x.device)
    return x.index_select(axis, order)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draws ``num_samples`` class indices per row of ``logits`` (unnormalised log-probabilities)."""
    logits = torch.as_tensor(logits, device=config.get_device())
    probs = torch.softmax(logits.float(), dim=-1)
    draws = torch.multinomial(probs, int(num_samples), replacement=True, generator=_generator(seed, logits.device))
    return draws.to(config.torch_dtype(dtype))


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples a Gamma(``alpha``, 1) distribution."""
    device = config.get_device()
    concentration = torch.full(_shape(shape), float(alpha), dtype=torch.float32, device=device)
    return torch._standard_gamma(concentration, generator=_generator(seed, device)).to(_float(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples Binomial(``counts``, ``probabilities``) (numbers of successes, as floats)."""
    device = config.get_device()
    size = _shape(shape)
    count = torch.broadcast_to(torch.as_tensor(counts, dtype=torch.float32, device=device), size)
    prob = torch.broadcast_to(torch.as_tensor(probabilities, dtype=torch.float32, device=device), size)
    return torch.binomial(count.contiguous(), prob.contiguous(), generator=_generator(seed, device)).to(_float(dtype))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples Beta(``alpha``, ``beta``), as X / (X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta)."""
    device = config.get_device()
    generator = _generator(seed, device)
    size = _shape(shape)
    a = torch.broadcast_to(torch.as_tensor(alpha, dtype=torch.float32, device=device), size).contiguous()
    b = torch.broadcast_to(torch.as_tensor(beta, dtype=torch.float32, device=device), size).contiguous()
    x, y = torch._standard_gamma(a, generator=generator), torch._standard_gamma(b, generator=generator)
    return (x / (x + y)).to(_float(dtype))
