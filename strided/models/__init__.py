"""Models: Model (functional and subclassed), Sequential, and loading/saving entry points."""
import importlib

from strided.models.model import Model
from strided.models.sequential import Sequential
from strided.models.functional import Functional

_LAZY = {
    "load_model": "strided.saving.saving_api",
    "save_model": "strided.saving.saving_api",
    "model_from_json": "strided.saving.serialization",
    "clone_model": "strided.saving.serialization",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'strided.models' has no attribute {name!r}")


__all__ = ["Model", "Sequential", "Functional", *_LAZY]
