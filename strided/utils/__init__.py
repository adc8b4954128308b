"""Utilities: argument validation, shape arithmetic, seeds, and Keras's `keras.utils` functions.

Names from higher layers of the package (image and data helpers) are loaded on first use, so
``strided.utils`` stays importable from the bottom of the package.
"""

from strided.config import set_random_seed
from strided.utils import conv_utils, validation
from strided.utils.lazy_module import lazy_attributes

# name -> module that defines it; resolved lazily by __getattr__ below.
_LAZY = {
    "to_categorical": "strided.utils.numerical",
    "normalize": "strided.utils.numerical",
    "Progbar": "strided.utils.progbar",
    "split_dataset": "strided.data.utils",
    "load_img": "strided.data.image_utils",
    "img_to_array": "strided.data.image_utils",
    "array_to_img": "strided.data.image_utils",
    "save_img": "strided.data.image_utils",
    "image_dataset_from_directory": "strided.data.image_dataset",
    "plot_model": "strided.models.plot",
    "Sequence": "strided.data.py_dataset",
    "PyDataset": "strided.data.py_dataset",
    "get_file": "strided.data.files",
    "register_keras_serializable": "strided.utils.object_registration",
    "get_custom_objects": "strided.utils.object_registration",
    "custom_object_scope": "strided.utils.object_registration",
    "CustomObjectScope": "strided.utils.object_registration",
    "get_registered_name": "strided.utils.object_registration",
    "get_registered_object": "strided.utils.object_registration",
    "pack_x_y_sample_weight": "strided.utils.batch",
    "unpack_x_y_sample_weight": "strided.utils.batch",
    "clear_session": "strided.backend",
    "is_keras_tensor": "strided.backend.keras_tensor",
    "serialize_keras_object": "strided.saving",
    "deserialize_keras_object": "strided.saving",
    "get_source_inputs": "strided.backend.keras_tensor",
    "pad_sequences": "strided.utils.sequence_utils",
    "timeseries_dataset_from_array": "strided.data.timeseries",
    "text_dataset_from_directory": "strided.data.text_dataset",
    "standardize_dtype": "strided.utils.general_utils",
    "Config": "strided.utils.general_utils",
    "enable_interactive_logging": "strided.utils.general_utils",
    "disable_interactive_logging": "strided.utils.general_utils",
    "is_interactive_logging_enabled": "strided.utils.general_utils",
    "model_to_dot": "strided.visualize.model_dot",
    "audio_dataset_from_directory": "strided.data.audio_dataset",
    "FeatureSpace": "strided.layers.feature_space",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)


__all__ = ["set_random_seed", "conv_utils", "validation", *_LAZY]
