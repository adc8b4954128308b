"""strided: convolutional neural networks with the Keras API on a PyTorch engine.

``import strided as keras`` runs Keras code: ``keras.layers``, ``keras.models``,
``keras.Sequential``, ``keras.datasets.mnist.load_data()``... Submodules load on first use so that
``import strided`` stays fast and needs only torch and NumPy.
"""

import sys


from strided import config  # noqa: E402
from strided.config import __version__  # noqa: E402,F401
from strided.config import set_random_seed  # noqa: E402
from strided import _aliases  # noqa: E402
from strided.utils.lazy_module import lazy_attributes  # noqa: E402

_aliases.install()

# Public submodules, Keras names.
_SUBMODULES = (
    "activations",
    "applications",
    "callbacks",
    "config",
    "constraints",
    "datasets",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "nn",
    "ops",
    "optimizers",
    "preprocessing",
    "regularizers",
    "utils",
    "visualize",
    "testing",
    "data",
    "training",
    "distribution",
    "mixed_precision",
    "backend",
    "saving",
    "random",
    "quantizers",
)

# Top-level names -> defining module (Keras exposes these at `keras.*`).
_NAMES = {
    "Sequential": "strided.models.sequential",
    "Model": "strided.models.model",
    "Input": "strided.layers.input_layer",
    "InputLayer": "strided.layers.input_layer",
    "Layer": "strided.layers.base",
    "KerasTensor": "strided.backend.keras_tensor",
    "Variable": "strided.layers.base",
    "RematScope": "strided.backend.remat",
    "remat": "strided.backend.remat",
    "constant": "strided.nn",
    "constant_initializer": "strided.initializers",
}


def enable_eager_execution():
    """TensorFlow 1's switch to eager mode (seed 003 calls it): strided is always eager, so it does nothing."""


_lazy_getattr, __dir__ = lazy_attributes(__name__, _NAMES, _SUBMODULES)


def __getattr__(name):
    if name == "keras":  # `from strided import keras` / `strided.keras.layers` for tf.keras code
        return sys.modules[__name__]
    return _lazy_getattr(name)
