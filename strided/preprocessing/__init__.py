"""``keras.preprocessing``: ``image`` (ImageDataGenerator and friends), ``image_dataset_from_directory`` and
``text_dataset_from_directory``."""

from strided.data.image_dataset import image_dataset_from_directory
from strided.data.text_dataset import text_dataset_from_directory
from strided.preprocessing import image

__all__ = ["image", "image_dataset_from_directory", "text_dataset_from_directory"]
