"""Small tensor helpers with ``keras.ops`` names: conversion, casting, shapes."""

import numbers

import numpy as np
import torch

from strided import config

__all__ = ["convert_to_tensor", "convert_to_numpy", "cast", "shape", "dtype_name", "is_tensor"]


def is_tensor(x):
    """Whether ``x`` is a torch tensor."""
    return isinstance(x, torch.Tensor)


def dtype_name(dtype):
    """``torch.float32`` -> ``'float32'`` (the Keras spelling)."""
    return str(dtype).replace("torch.", "")


def convert_to_tensor(x, dtype=None, device=None):
    """Converts ``x`` to a torch tensor, Keras rules.

    Torch tensors pass through (cast/moved only when ``dtype``/``device`` ask for it). NumPy arrays
    keep their dtype (float64 stays float64, as in Keras); Python floats and lists of floats become
    ``floatx()``, Python ints become int32, bools bool. New tensors go to ``config.get_device()``.

    Args:
        x: tensor, NumPy array, Python scalar or (nested) list.
        dtype: optional dtype name or torch dtype.
        device: optional device; defaults to ``config.get_device()`` for new tensors.

    Returns:
        A torch tensor.
    """
    target = None if dtype is None else config.torch_dtype(dtype)
    if isinstance(x, torch.Tensor):
        if target is not None and x.dtype != target:
            x = x.to(target)
        if device is not None and x.device != torch.device(device):
            x = x.to(device)
        return x
    device = config.get_device() if device is None else device
    if hasattr(x, "__array__") and not isinstance(x, np.ndarray):
        x = np.asarray(x)  # e.g. a KerasTensor-like or pandas object exposing __array__
    if isinstance(x, np.ndarray) or isinstance(x, np.generic):
        arr = np.asarray(x)
        if target is None:
            if arr.dtype == np.float16 and str(config.floatx()) != "float16":
                target = torch.float16
            elif arr.dtype.kind == "U" or arr.dtype.kind == "O":
                raise TypeError(f"Cannot convert an array of dtype {arr.dtype} to a tensor. Received x={x!r}")
        if not arr.flags.writeable or not arr.flags.c_contiguous and not arr.flags.f_contiguous:
            arr = np.array(arr)
        t = torch.as_tensor(arr)
        return t.to(device=device, dtype=target) if target is not None else t.to(device)
    if target is None:
        target = _python_dtype(x)
    return torch.tensor(x, dtype=target, device=device)


def _python_dtype(x):
    """Keras's dtype inference for Python scalars and nested lists."""
    flat = []

    def walk(v):
        if isinstance(v, (list, tuple)):
            for item in v:
                walk(item)
        else:
            flat.append(v)

    walk(x)
    if flat and all(isinstance(v, (bool, np.bool_)) for v in flat):
        return torch.bool
    if flat and all(isinstance(v, numbers.Integral) for v in flat):
        return torch.int32
    return config.torch_dtype(config.floatx())


def convert_to_numpy(x):
    """Converts a tensor (any device, with or without grad) to a NumPy array."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()
    return np.asarray(x)


def cast(x, dtype):
    """Casts ``x`` to ``dtype`` (a Keras dtype name or torch dtype)."""
    return convert_to_tensor(x).to(config.torch_dtype(dtype))


def shape(x):
    """The shape of ``x`` as a tuple of ints."""
    return tuple(x.shape)
