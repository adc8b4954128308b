"""``image_dataset_from_directory``: Keras's file order, class names and split, without TensorFlow.

File listing and shuffling follow ``keras.src.utils.dataset_utils.index_directory``: class folders in
sorted order, files walked with ``os.walk`` sorted by folder then by name, then one global shuffle of the
paths (and, separately, of the labels) with ``np.random.RandomState(seed)``; the validation split takes
the *last* ``int(validation_split * n)`` files of that order. So for a given seed the training and
validation files are exactly Keras's.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from strided.data.dataset import BatchDataset

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")


# -- listing ---------------------------------------------------------------------------------------------
def _iter_valid_files(directory, follow_links, formats):
    walk = os.walk(directory, followlinks=follow_links)
    for root, _, files in sorted(walk, key=lambda item: item[0]):
        for fname in sorted(files):
            if fname.lower().endswith(formats):
                yield root, fname


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None, follow_links=False,
                    verbose=True):
    """Lists the files of ``directory`` with their labels, in Keras's order.

    Returns:
        (file_paths, labels, class_names): labels an int32 array (None when ``labels=None``).
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"Invalid value for argument `directory`: it is not an existing directory. "
                         f"Received: directory={directory!r}")
    if labels == "inferred":
        subdirs = [d.rstrip("/") for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError("The `class_names` passed did not match the names of the subdirectories of the "
                                 f"target directory. Expected: {subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)
    else:
        subdirs = [""]
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be specified.")
            raise ValueError("When argument `labels` is specified, argument `class_names` cannot be specified "
                             "(the `class_names` will be the sorted list of labels).")
    class_indices = {name: i for i, name in enumerate(subdirs)}
    filenames, label_list = [], []
    for subdir in subdirs:
        sub = os.path.join(directory, subdir)
        dirname = os.path.basename(sub)
        for root, fname in _iter_valid_files(sub, follow_links, formats):
            filenames.append(os.path.join(dirname, os.path.relpath(os.path.join(root, fname), sub)))
            label_list.append(class_indices[dirname])
    if labels == "inferred":
        labels = np.asarray(label_list, dtype="int32")
        names = list(subdirs)
    elif labels is None:
        names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError("Expected the lengths of `labels` to match the number of files in the target directory. "
                             f"len(labels) is {len(labels)} while we found {len(filenames)} files in directory "
                             f"{directory}.")
        names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels)
    if verbose:
        if labels is None:
            print(f"Found {len(filenames)} files.")
        else:
            print(f"Found {len(filenames)} files belonging to {len(names)} classes.")
    file_paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            labels = np.array(labels)
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, names


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    """Keras's checks of ``validation_split``/``subset``/``seed``."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError("Invalid value for argument `validation_split`. Expected a value strictly between 0 and 1. "
                         f"Received: validation_split={validation_split!r}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely. "
                         f"Received: subset={subset!r}, validation_split={validation_split!r}")
    if subset not in ("training", "validation", "both", None):
        raise ValueError("Invalid value for argument `subset`. Expected one of ['training', 'validation', 'both']. "
                         f"Received: subset={subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide a `seed` argument, "
                         "to make sure that there is no overlap between the training and validation subset.")


def get_training_or_validation_split(samples, labels, validation_split, subset):
    """Keeps the first ``n - int(validation_split * n)`` samples for training, the rest for validation."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        print(f"Using {len(samples) - num_val} files for training.")
        cut = len(samples) - num_val
        return samples[:cut], None if labels is None else labels[:cut]
    if subset == "validation":
        print(f"Using {num_val} files for validation.")
        cut = len(samples) - num_val
        return samples[cut:], None if labels is None else labels[cut:]
    raise ValueError(f"Invalid value for argument `subset`. Expected 'training' or 'validation'. Received: subset={subset!r}")


# -- decoding and resizing -----------------------------------------------------------------------------------
def _resize_batch(x, size, interpolation="bilinear"):
    """Resizes an NHWC float tensor like ``tf.image.resize`` (half-pixel centres, no antialiasing)."""
    size = (int(size[0]), int(size[1]))
    if tuple(x.shape[1:3]) == size:
        return x
    nchw = x.permute(0, 3, 1, 2)
    if interpolation == "nearest":
        out = F.interpolate(nchw, size=size, mode="nearest-exact")
    elif interpolation == "area":
        out = F.interpolate(nchw, size=size, mode="area")
    elif interpolation in ("bicubic", "mitchellcubic", "gaussian", "lanczos3", "lanczos5"):
        # Cubic stands in for TF's other smooth kernels (a close approximation, not TF-exact).
        out = F.interpolate(nchw, size=size, mode="bicubic", align_corners=False)
    else:
        out = F.interpolate(nchw, size=size, mode="bilinear", align_corners=False)
    return out.permute(0, 2, 3, 1)


def _read_image(path, num_channels):
    from strided.data.image_utils import _open_image

    img = _open_image(path)
    img.seek(0)  # animated gifs: first frame, as Keras
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[num_channels]
    if img.mode != mode:
        img = img.convert(mode)
    arr = np.asarray(img, dtype=np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def load_image(path, image_size, num_channels=3, interpolation="bilinear", crop_to_aspect_ratio=False,
               pad_to_aspect_ratio=False):
    """Reads one image file into a float32 (h, w, c) array in [0, 255], resized as Keras's directory datasets do."""
    arr = _read_image(path, num_channels)
    th, tw = int(image_size[0]), int(image_size[1])
    x = torch.from_numpy(arr.astype(np.float32))[None]
    h, w = arr.shape[0], arr.shape[1]
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        hs, ws = int((h - ch) / 2), int((w - cw) / 2)
        x = _resize_batch(x[:, hs:hs + ch, ws:ws + cw], (th, tw), interpolation)
    elif pad_to_aspect_ratio:
        # tf.image.resize_with_pad: fit inside the target keeping the ratio, centre, pad with zeros.
        ratio = max(w / tw, h / th)
        rh, rw = max(int(math.floor(h / ratio)), 1), max(int(math.floor(w / ratio)), 1)
        inner = _resize_batch(x, (rh, rw), interpolation)
        top, left = (th - rh) // 2, (tw - rw) // 2
        x = torch.zeros((1, th, tw, num_channels), dtype=torch.float32)
        x[:, top:top + rh, left:left + rw] = inner
    else:
        x = _resize_batch(x, (th, tw), interpolation)
    return x[0].numpy()


class ImageDirectoryDataset(BatchDataset):
    """Batches of ``(images, labels)`` read from files; returned by :func:`image_dataset_from_directory`.

    Attributes:
        class_names: list of class names (None without labels).
        file_paths: the image files, in dataset order.
    """

    def __init__(self, file_paths, labels, label_mode, class_names, image_size, num_channels, interpolation,
                 crop_to_aspect_ratio, pad_to_aspect_ratio, data_format, batch_size, shuffle, seed):
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed)
        self.file_paths = list(file_paths)
        self.labels = labels
        self.label_mode = label_mode
        self.class_names = class_names
        self.image_size = image_size
        self.num_channels = num_channels
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.data_format = data_format
        self._cache = None

    def _num_items(self):
        return len(self.file_paths)

    def cache(self, filename=""):
        """Keeps decoded images in memory after their first read."""
        clone = self._copy()
        clone._cache = {}
        return clone

    def _load(self, i):
        if self._cache is not None and i in self._cache:
            return self._cache[i]
        img = load_image(self.file_paths[i], self.image_size, self.num_channels, self.interpolation,
                         self.crop_to_aspect_ratio, self.pad_to_aspect_ratio)
        if self._cache is not None:
            self._cache[i] = img
        return img

    def _encoded_labels(self, indices):
        y = np.asarray(self.labels)[indices]
        if self.label_mode == "binary":
            return y.astype("float32").reshape(-1, 1)
        if self.label_mode == "categorical":
            return np.eye(len(self.class_names), dtype="float32")[y.astype(int)]
        return y.astype("int32")

    def _get(self, indices):
        images = np.stack([self._load(int(i)) for i in indices]) if len(indices) else np.zeros(
            (0, *self.image_size, self.num_channels), np.float32)
        if self.data_format == "channels_first":
            images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        if self.label_mode is None:
            return images
        return images, self._encoded_labels(indices)


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
                                 format="tf", verbose=True):
    """Generates a dataset of image batches from a directory with one subdirectory per class.

    Args:
        directory: folder of the data; with ``labels='inferred'`` one subfolder per class.
        labels: 'inferred' (from the subfolder names), None (images only), or a list/tuple of integer labels
            in the sorted order of the file paths.
        label_mode: 'int' (int32 (batch,)), 'categorical' (float32 one-hot), 'binary' (float32 (batch, 1)),
            or None (images only).
        class_names: explicit subfolder names and their order (only with ``labels='inferred'``).
        color_mode: 'grayscale', 'rgb' or 'rgba' (1, 3 or 4 channels).
        batch_size: images per batch (default 32); None yields single images.
        image_size: (height, width) every image is resized to (default (256, 256)).
        shuffle: shuffle the files (else alphanumeric order).
        seed: seed of the shuffling; required with ``validation_split`` and ``shuffle``.
        validation_split: fraction in (0, 1) kept for validation (the last files of the shuffled order).
        subset: 'training', 'validation' or 'both' (returns a (training, validation) pair).
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
    from strided import config

    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple, np.ndarray)):
            raise ValueError("`labels` argument should be a list/tuple of integer labels, of the same size as the "
                             "number of image files in the target directory. If you wish to infer the labels from "
                             "the subdirectory names in the target directory, pass `labels=\"inferred\"`. If you "
                             "wish to get a dataset that only contains images (no labels), pass `labels=None`. "
                             f"Received: labels={labels!r}")
        if class_names:
            raise ValueError("You can only pass `class_names` if `labels=\"inferred\"`. "
                             f"Received: labels={labels!r}, and class_names={class_names!r}")
        labels = list(labels)
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError("Invalid value for argument `label_mode`. Expected one of ['int', 'categorical', 'binary', "
                         f"None]. Received: label_mode={label_mode!r}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}
    if color_mode not in channels:
        raise ValueError("Invalid value for argument `color_mode`. Expected one of ['rgb', 'rgba', 'grayscale']. "
                         f"Received: color_mode={color_mode!r}")
    if isinstance(image_size, (int, np.integer)):
        image_size = (int(image_size), int(image_size))
    if (not isinstance(image_size, (list, tuple)) or len(image_size) != 2
            or not all(isinstance(v, (int, np.integer)) and v > 0 for v in image_size)):
        raise ValueError("Invalid value for argument `image_size`. Expected a tuple of 2 positive integers. "
                         f"Received: image_size={image_size!r}")
    image_size = (int(image_size[0]), int(image_size[1]))
    interp = str(interpolation).lower()
    if interp not in INTERPOLATIONS:
        raise ValueError(f"Invalid value for argument `interpolation`. Expected one of {list(INTERPOLATIONS)}. "
                         f"Received: interpolation={interpolation!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.")
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("Invalid value for argument `data_format`. Expected 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, all_labels, names = index_directory(directory, labels, ALLOWLIST_FORMATS, class_names=class_names,
                                               shuffle=shuffle, seed=seed, follow_links=follow_links,
                                               verbose=verbose)
    if not paths:
        raise ValueError(f"No images found in directory {os.fspath(directory)!r}. Allowed formats: {ALLOWLIST_FORMATS}. "
                         "Put the images in one subfolder per class (e.g. directory/cats/1.jpg).")
    if label_mode == "binary" and len(names) != 2:
        raise ValueError("When passing `label_mode=\"binary\"`, there must be exactly 2 class_names. "
                         f"Received: class_names={names}")
    if labels == "inferred" and names is not None:
        counts = np.bincount(np.asarray(all_labels, dtype=int), minlength=len(names))
        empty = [n for n, c in zip(names, counts) if c == 0]
        if empty and len(empty) == len(names):
            raise ValueError(f"No images found in the class folders {empty} of directory {os.fspath(directory)!r}.")

    def make(subset_name, shuffle_flag):
        p, y = get_training_or_validation_split(paths, all_labels, validation_split, subset_name)
        if not p:
            raise ValueError(f"No {subset_name or ''} images found in directory {os.fspath(directory)!r} "
                             f"(validation_split={validation_split}). Allowed formats: {ALLOWLIST_FORMATS}")
        return ImageDirectoryDataset(p, y, label_mode, names, image_size, channels[color_mode], interp,
                                     crop_to_aspect_ratio, pad_to_aspect_ratio, data_format, batch_size,
                                     shuffle_flag, seed)

    if subset == "both":
        return make("training", shuffle), make("validation", False)
    return make(subset, shuffle)


__all__ = ["image_dataset_from_directory", "ImageDirectoryDataset", "index_directory", "load_image",
           "ALLOWLIST_FORMATS"]
