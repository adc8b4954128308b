"""The symbolic and variable core (KerasTensor, Variable, name scopes, dtype policies, remat) and the
``keras.backend`` names that tutorials call: clear_session, floatx, epsilon, image_data_format."""

import torch

from strided.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,  # noqa: F401
    set_image_data_format,
)
from strided.backend.name_scope import clear_session as reset_names


def clear_session():
    """Resets automatic layer names (``conv2d``, ``conv2d_1``... start again) and frees cached GPU memory."""
    reset_names()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
