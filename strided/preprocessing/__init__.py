"""``keras.preprocessing``: ``image`` (ImageDataGenerator and friends), ``image_dataset_from_directory`` and
``text_dataset_from_directory``."""
from strided.data.directory import image_dataset_from_directory
from strided.preprocessing import image
from strided.utils.text_dataset import text_dataset_from_directory

__all__ = ["image", "image_dataset_from_directory", "text_dataset_from_directory"]
