"""Global settings: device, float type, image data format, epsilon, determinism.

Keras keeps these in ``keras.config``; strided keeps them here and exposes the same names
(``floatx``, ``set_floatx``, ``epsilon``, ``image_data_format``...) plus the device choice that a
PyTorch engine needs.
"""

import os
import random

import numpy as np
import torch

__version__ = "0.1.0"

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_DEVICE = None  # resolved lazily: CUDA, then MPS, then CPU
_DTYPE_POLICY = None  # name of the global mixed-precision policy, None = floatx everywhere
_DETERMINISTIC = False

_VALID_FLOATX = ("float16", "bfloat16", "float32", "float64")


def floatx():
    """Returns the default float type as a string, e.g. ``'float32'``."""
    return _FLOATX


def set_floatx(value):
    """Sets the default float type: one of 'float16', 'bfloat16', 'float32', 'float64'."""
    global _FLOATX
    if value not in _VALID_FLOATX:
        raise ValueError(f"Unknown `floatx` value. Expected one of {_VALID_FLOATX}. Received: floatx={value!r}")
    _FLOATX = str(value)


def epsilon():
    """Returns the fuzz factor used in numeric expressions (Keras default 1e-7)."""
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    """Returns the default image data format: ``'channels_last'`` unless changed."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of 'channels_first', 'channels_last'. "
            f"Received: data_format={data_format!r}"
        )
    _IMAGE_DATA_FORMAT = data_format


def backend():
    """The engine strided runs on (always ``'torch'``)."""
    return "torch"


def torch_dtype(name=None):
    """The torch dtype for a Keras dtype name (``None`` means ``floatx()``)."""
    if name is None:
        name = _FLOATX
    if isinstance(name, torch.dtype):
        return name
    name = getattr(name, "name", name)  # numpy dtype objects
    table = {
        "float16": torch.float16,
        "half": torch.float16,
        "bfloat16": torch.bfloat16,
        "float32": torch.float32,
        "float": torch.float32,
        "float64": torch.float64,
        "double": torch.float64,
        "int8": torch.int8,
        "uint8": torch.uint8,
        "int16": torch.int16,
        "int32": torch.int32,
        "int64": torch.int64,
        "bool": torch.bool,
    }
    if str(name) not in table:
        raise ValueError(f"Unknown dtype. Expected one of {sorted(table)}. Received: dtype={name!r}")
    return table[str(name)]


def _default_device():
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def get_device():
    """The device new weights and data go to: CUDA, then MPS, then CPU unless set.

    ``STRIDED_DEVICE`` in the environment overrides the automatic choice.
    """
    global _DEVICE
    if _DEVICE is None:
        env = os.environ.get("STRIDED_DEVICE")
        _DEVICE = torch.device(env) if env and env != "auto" else _default_device()
    return _DEVICE


def set_device(device):
    """Chooses the device for new layers and data: ``'auto'``, ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ``'mps'``."""
    global _DEVICE
    if device is None or device == "auto":
        _DEVICE = _default_device()
        return _DEVICE
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"Invalid value for argument `device`. Expected 'auto', 'cpu', 'cuda' or 'mps'. Received: device={device!r}"
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"Invalid value for argument `device`: CUDA is not available on this machine. Received: device={device!r}"
        )
    _DEVICE = dev
    return _DEVICE


def set_random_seed(seed):
    """Seeds Python, NumPy and torch (all devices), as ``keras.utils.set_random_seed`` does."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % (2**32))
    torch.manual_seed(int(seed))


def enable_determinism():
    """Makes two runs with the same seed bit-identical (deterministic kernels, no TF32, no cuDNN autotune)."""
    global _DETERMINISTIC
    _DETERMINISTIC = True
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def disable_determinism():
    global _DETERMINISTIC
    _DETERMINISTIC = False
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False


def prepare_cuda_for_training():
    """cuDNN autotuning (benchmark mode) for fixed-shape CNN training, unless determinism was asked for."""
    if not _DETERMINISTIC and torch.cuda.is_available():
        torch.backends.cudnn.benchmark = True


def set_dtype_policy(policy):
    """Sets the global mixed-precision policy: 'float32', 'mixed_float16' or 'mixed_bfloat16'."""
    global _DTYPE_POLICY
    name = getattr(policy, "name", policy)
    if name not in (None, "float32", "mixed_float16", "mixed_bfloat16"):
        raise ValueError(
            "Invalid value for argument `policy`. Expected 'float32', 'mixed_float16' or "
            f"'mixed_bfloat16'. Received: policy={policy!r}"
        )
    _DTYPE_POLICY = None if name in (None, "float32") else name


def dtype_policy():
    """The global mixed-precision policy name ('float32' when none is set)."""
    return _DTYPE_POLICY or "float32"
