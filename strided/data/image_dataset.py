"""``image_dataset_from_directory``: Keras's file order, class names and split, without TensorFlow.

Listing, labels and the validation split are the shared ones of :mod:`strided.data.directory` (Keras's
``index_directory`` order, so for a given seed the training and validation files are exactly Keras's); images
are decoded with Pillow and resized as ``tf.image.resize`` does (:func:`strided.data.image_utils.load_image`).
"""

import numpy as np

from strided import config
from strided.data.directory import (
    DirectoryDataset,
    check_format_arg,
    check_labels_args,
    dataset_from_directory,
    directory_arguments,
    directory_doc,
)
from strided.data.image_utils import load_image

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")


class ImageDirectoryDataset(DirectoryDataset):
    """Batches of ``(images, labels)`` read from files; returned by :func:`image_dataset_from_directory`.

    Attributes:
        class_names: list of class names (None without labels).
        file_paths: the image files, in dataset order.
    """

    formats, what = ALLOWLIST_FORMATS, "images"
    _options = (
        "image_size",
        "num_channels",
        "interpolation",
        "crop_to_aspect_ratio",
        "pad_to_aspect_ratio",
        "data_format",
    )

    def _read(self, path):
        return load_image(
            path,
            self.image_size,
            self.num_channels,
            self.interpolation,
            self.crop_to_aspect_ratio,
            self.pad_to_aspect_ratio,
        )

    def _stack(self, samples, indices):
        if not samples:
            return np.zeros((0, *self.image_size, self.num_channels), np.float32)
        images = np.stack(samples)
        if self.data_format == "channels_first":
            images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        return images


@directory_doc("images")
def image_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    color_mode="rgb",
    batch_size=32,
    image_size=(256, 256),
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    interpolation="bilinear",
    follow_links=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    data_format=None,
    format="tf",
    verbose=True,
):
    """Generates a dataset of image batches from a directory with one subdirectory per class.

    Args:
        {{labels_args}}
        color_mode: 'grayscale', 'rgb' or 'rgba' (1, 3 or 4 channels).
        batch_size: images per batch (default 32); None yields single images.
        image_size: (height, width) every image is resized to (default (256, 256)).
        shuffle: shuffle the files (else alphanumeric order).
        {{split_args}}
        interpolation: 'bilinear', 'nearest', 'bicubic', 'area', 'lanczos3', 'lanczos5', 'gaussian',
            'mitchellcubic'.
        follow_links: follow symbolic links to subfolders.
        crop_to_aspect_ratio: centre-crop to the target aspect ratio before resizing.
        pad_to_aspect_ratio: resize to fit and pad with zeros to the target aspect ratio.
        data_format: 'channels_last' (default) or 'channels_first'.
        format: accepted for Keras compatibility ('tf' or 'grain'); the result is always a strided dataset.
        verbose: print how many files and classes were found.

    Returns:
        An :class:`ImageDirectoryDataset` (``len()`` = batches per epoch, iterating yields
        ``(images float32 NHWC in [0, 255], labels)`` NumPy batches) with ``.class_names`` and ``.file_paths``;
        a pair of them when ``subset='both'``.
    """
    labels, label_mode = check_labels_args(labels, label_mode, class_names, "image")
    check_format_arg(format)
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}
    if color_mode not in channels:
        raise ValueError(
            "Invalid value for argument `color_mode`. Expected one of ['rgb', 'rgba', 'grayscale']. "
            f"Received: color_mode={color_mode!r}"
        )
    if isinstance(image_size, (int, np.integer)):
        image_size = (int(image_size), int(image_size))
    if (
        not isinstance(image_size, (list, tuple))
        or len(image_size) != 2
        or not all(isinstance(v, (int, np.integer)) and v > 0 for v in image_size)
    ):
        raise ValueError(
            "Invalid value for argument `image_size`. Expected a tuple of 2 positive integers. "
            f"Received: image_size={image_size!r}"
        )
    image_size = (int(image_size[0]), int(image_size[1]))
    interp = str(interpolation).lower()
    if interp not in INTERPOLATIONS:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected one of {list(INTERPOLATIONS)}. "
            f"Received: interpolation={interpolation!r}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.")
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "Invalid value for argument `data_format`. Expected 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )

    options = {
        "image_size": image_size,
        "num_channels": channels[color_mode],
        "interpolation": interp,
        "crop_to_aspect_ratio": crop_to_aspect_ratio,
        "pad_to_aspect_ratio": pad_to_aspect_ratio,
        "data_format": data_format,
    }
    return dataset_from_directory(ImageDirectoryDataset, options, **directory_arguments(locals()))


__all__ = ["image_dataset_from_directory", "ImageDirectoryDataset", "ALLOWLIST_FORMATS"]
