"""``keras.preprocessing``: ``image`` (ImageDataGenerator and friends) and ``image_dataset_from_directory``."""
from strided.data.directory import image_dataset_from_directory
from strided.preprocessing import image

__all__ = ["image", "image_dataset_from_directory"]
