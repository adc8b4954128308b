"""Weight initializers with the Keras API: ``init(shape, dtype=None) -> torch.Tensor`` (``keras.initializers``).

Shapes are in Keras layout (a conv kernel is ``(*kernel_size, in, out)``, a Dense kernel
``(in, out)``) and fans are computed as Keras does, so ``glorot_uniform`` gives the same
distribution as in Keras. Values are drawn on the CPU and moved to ``config.get_device()``: a
model built after ``strided.utils.set_random_seed(s)`` gets the same weights on CPU and GPU.
A ``seed=`` gives a private ``torch.Generator``; as in Keras 3, a seeded initializer returns the
same values at every call.
"""

import numpy as np
import torch

from strided.initializers.constant_initializers import Constant, Identity, Ones, Zeros
from strided.initializers.initializer import Initializer, _finish, _shape
from strided.initializers.random_initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    compute_fans,
)
from strided.initializers.stft import STFT
from strided.utils.registry import Registry, public_classes

__all__ = [
    "Initializer",
    "Constant",
    "Zeros",
    "Ones",
    "Identity",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Orthogonal",
    "STFT",
    "compute_fans",
    "get",
    "serialize",
    "deserialize",
]

_REGISTRY = Registry(
    "initializer",
    "keras.initializers",
    objects=public_classes(globals()),
    aliases={
        "normal": RandomNormal,
        "uniform": RandomUniform,
        "one": Ones,
        "zero": Zeros,
        "IdentityInitializer": Identity,
        "OrthogonalInitializer": Orthogonal,
        "STFTInitializer": STFT,
        # tf.keras 2 / TF names, still in tutorials
        "constant_initializer": Constant,
        "zeros_initializer": Zeros,
        "ones_initializer": Ones,
        "random_normal_initializer": RandomNormal,
        "random_uniform_initializer": RandomUniform,
        "truncated_normal_initializer": TruncatedNormal,
        "glorot_uniform_initializer": GlorotUniform,
        "glorot_normal_initializer": GlorotNormal,
    },
)

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


# Keras 3 also names two classes with the Initializer suffix.
IdentityInitializer, OrthogonalInitializer = Identity, Orthogonal
stft = STFTInitializer = STFT


# Keras's `serialize(obj)` (the Keras 3 config dict) and `deserialize(config, custom_objects=None)`.
serialize = _REGISTRY.serialize
deserialize = _REGISTRY.deserialize


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
                raise ValueError(
                    f"Expected `shape` to be {tuple(value.shape)} for direct tensor as initializer. "
                    f"Received shape={tuple(shape)}"
                )
            return _finish(torch.tensor(np.array(value)), dtype)

        return initialize_fn
    return _REGISTRY.get(identifier, arg_name)
