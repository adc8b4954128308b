"""Models: Model (functional and subclassed), Sequential, and loading/saving entry points."""

from strided.models.model import Model
from strided.models.sequential import Sequential
from strided.models.functional import Functional
from strided.utils.lazy_module import lazy_attributes

_LAZY = {
    "load_model": "strided.saving.saving_api",
    "save_model": "strided.saving.saving_api",
    "model_from_json": "strided.saving.serialization",
    "clone_model": "strided.saving.serialization",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


__all__ = ["Model", "Sequential", "Functional", *_LAZY]
