"""Keras's (legacy) ``keras.preprocessing.image``: ImageDataGenerator and its iterators, batched on the device.

The geometry is Keras's ``apply_affine_transform`` (scipy ``affine_transform``, order 1) reproduced exactly
(see ``strided.data.augmentation``), but a whole batch is warped by one ``grid_sample`` call instead of one
scipy call per channel of every image. Random parameters have Keras's distributions; a batch draws them
vectorised, so seeded sequences differ from Keras's (``get_random_transform`` alone draws in Keras's order).
Batches are NumPy float32 arrays, as Keras yields, so ``plt.imshow(batch[0])`` and ``model.fit(it)`` work.
"""

import collections
import math
import os
import threading
import warnings

import numpy as np
import torch

from strided import config
from strided.data import augmentation
from strided.data.directory import iter_valid_files
from strided.utils import validation
from strided.utils.general_utils import named_arguments
from strided.data.image_utils import array_to_img, img_to_array, load_img, save_img, smart_resize
from strided.data.py_dataset import PyDataset


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value


class Iterator(PyDataset):
    """Base class of the endless image iterators (Keras's legacy ``Iterator``).

    ``next(it)``/``it.next()`` return the next batch forever (reshuffling at each pass over the data);
    ``len(it)`` is the number of batches per epoch and ``it[i]`` is batch ``i`` of the current order.
    With ``seed``, NumPy's global generator is seeded with ``seed + total_batches_seen`` before each batch, as
    Keras does, so the sample order equals Keras's.

    ``next(it)`` may prepare several batches in one go (``_batches_per_chunk``; one device call for all of
    them) and serve them one by one. Each prepared batch carries the iterator state (``batch_index``,
    ``total_batches_seen``, ``index_array``) Keras would have after it, restored when it is served, so
    ``reset()``, ``on_epoch_end()`` or ``it[i]`` drop the rest and continue in Keras's order.
    """

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n, batch_size, shuffle, seed, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                "Invalid value for argument `batch_size`. Expected a strictly positive integer. "
                f"Received: batch_size={batch_size!r}"
            )
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        self._prepared = collections.deque()
        self.index_generator = self._flow_index()

    def _set_index_array(self):
        self.index_array = np.random.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __getitem__(self, idx):
        self._prepared.clear()
        if idx >= len(self):
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has length {len(self)}")
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        return self._get_batches_of_transformed_samples(
            self.index_array[self.batch_size * idx : self.batch_size * (idx + 1)]
        )

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self):
        self._prepared.clear()
        self._set_index_array()

    def reset(self):
        self._prepared.clear()
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            current = 0 if self.n == 0 else (self.batch_index * self.batch_size) % self.n
            if self.n > current + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[current : current + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        k = self._batches_per_chunk()
        if k <= 1:
            with self.lock:
                index_array = next(self.index_generator)
            return self._get_batches_of_transformed_samples(index_array)
        with self.lock:
            if not self._prepared:
                self._prepare(k)
            batch, state = self._prepared.popleft()
            self.batch_index, self.total_batches_seen, self.index_array = state
        return batch

    def _prepare(self, k):
        index_arrays, states = [], []
        for _ in range(k):
            index_arrays.append(next(self.index_generator))
            states.append((self.batch_index, self.total_batches_seen, self.index_array))
        self._prepared.extend(zip(self._get_chunk_of_transformed_samples(index_arrays), states))

    def _batches_per_chunk(self):
        return 1

    def _get_chunk_of_transformed_samples(self, index_arrays):
        return [self._get_batches_of_transformed_samples(i) for i in index_arrays]

    def next(self):
        """The next batch (Keras 2's ``iterator.next()``)."""
        return self.__next__()

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError

    def _save_batch(self, batch_x, index_array):
        for i, j in enumerate(index_array):
            img = array_to_img(batch_x[i], self.data_format, scale=True)
            fname = f"{self.save_prefix}_{j}_{np.random.randint(1e4)}.{self.save_format}"
            img.save(os.path.join(self.save_to_dir, fname))


class NumpyArrayIterator(Iterator):
    """Iterator over augmented batches of a NumPy array (returned by ``ImageDataGenerator.flow``)."""

    def __init__(
        self,
        x,
        y,
        image_data_generator,
        batch_size=32,
        shuffle=False,
        sample_weight=None,
        seed=None,
        data_format=None,
        save_to_dir=None,
        save_prefix="",
        save_format="png",
        subset=None,
        ignore_class_split=False,
        dtype=None,
    ):
        data_format = data_format or config.image_data_format()
        self.dtype = dtype or config.floatx()
        if isinstance(x, (tuple, list)):
            x_misc = [np.asarray(x[1])] if not isinstance(x[1], list) else [np.asarray(v) for v in x[1]]
            x = x[0]
            for v in x_misc:
                if len(x) != len(v):
                    raise ValueError(
                        "All of the arrays in `x` should have the same length. Found a pair with: "
                        f"len(x[0]) = {len(x)}, len(x[?]) = {len(v)}"
                    )
        else:
            x_misc = []
        if torch.is_tensor(x):
            x = x.detach().cpu().numpy()
        if y is not None and len(x) != len(y):
            raise ValueError(
                "`x` (images tensor) and `y` (labels) should have the same length. Found: "
                f"x.shape = {np.asarray(x).shape}, y.shape = {np.asarray(y).shape}"
            )
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(
                "`x` (images tensor) and `sample_weight` should have the same length. Found: "
                f"x.shape = {np.asarray(x).shape}, sample_weight.shape = {np.asarray(sample_weight).shape}"
            )
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(
                    "Invalid value for argument `subset`. Expected one of ['training', 'validation']. "
                    f"Received: subset={subset!r}"
                )
            if not image_data_generator._validation_split:
                raise ValueError(
                    f"`subset={subset!r}` needs a `validation_split` in the ImageDataGenerator "
                    "(e.g. ImageDataGenerator(validation_split=0.2)). Received: validation_split=0.0"
                )
            split_idx = int(len(x) * image_data_generator._validation_split)
            if (
                y is not None
                and not ignore_class_split
                and not np.array_equal(np.unique(y[:split_idx]), np.unique(y[split_idx:]))
            ):
                raise ValueError(
                    "Training and validation subsets have different number of classes after the split. "
                    "If your numpy arrays are sorted by the label, you might want to shuffle them."
                )
            part = slice(None, split_idx) if subset == "validation" else slice(split_idx, None)
            x = x[part]
            x_misc = [np.asarray(v[part]) for v in x_misc]
            if y is not None:
                y = y[part]
            if sample_weight is not None:
                sample_weight = sample_weight[part]
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = x_misc
        if self.x.ndim != 4:
            raise ValueError(
                "Input data in `NumpyArrayIterator` should have rank 4 (images, height, width, "
                f"channels). You passed an array with shape {self.x.shape} (argument `x`)."
                + (" For a single grayscale image batch, add a channel axis: x[..., None]." if self.x.ndim == 3 else "")
            )
        channels_axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in (1, 3, 4):
            warnings.warn(
                f'NumpyArrayIterator is set to use the data format convention "{data_format}" (channels on '
                f"axis {channels_axis}), i.e. expected either 1, 3, or 4 channels on axis {channels_axis}. "
                f"However, it was passed an array with shape {self.x.shape} "
                f"({self.x.shape[channels_axis]} channels)."
            )
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    # Images per prepared chunk: enough to amortise the per-call setup (~0.1 ms) over many batches of small
    # images, bounded in bytes so that large images are still prepared one batch at a time.
    _chunk_images = 512
    _chunk_bytes = 4 << 20

    def _batches_per_chunk(self):
        if self.save_to_dir:
            return 1
        per_batch = self.batch_size * max(1, self.x[:1].nbytes)
        return max(1, min(self._chunk_images // self.batch_size, self._chunk_bytes // per_batch, len(self)))

    def _get_batches_of_transformed_samples(self, index_array):
        batch_x = self.image_data_generator._transform_batch(self.x[index_array], self.dtype)
        if self.save_to_dir:
            self._save_batch(batch_x, index_array)
        return self._pack(batch_x, index_array)

    def _get_chunk_of_transformed_samples(self, index_arrays):
        chunk_x = self.image_data_generator._transform_batch(self.x[np.concatenate(index_arrays)], self.dtype)
        out, start = [], 0
        for index_array in index_arrays:
            out.append(self._pack(chunk_x[start : start + len(index_array)], index_array))
            start += len(index_array)
        return out

    def _pack(self, batch_x, index_array):
        miscs = [v[index_array] for v in self.x_misc]
        output = (batch_x if not miscs else [batch_x] + miscs,)
        if self.y is None:
            return output[0]
        output += (self.y[index_array],)
        if self.sample_weight is not None:
            output += (self.sample_weight[index_array],)
        return output


def _list_class_files(directory, formats, split, follow_links):
    files = [os.path.join(root, fname) for root, fname in iter_valid_files(directory, follow_links, formats)]
    if split:
        files = files[int(split[0] * len(files)) : int(split[1] * len(files))]
    return files


class DirectoryIterator(Iterator):
    """Iterator over augmented batches of image files, one subfolder per class (``flow_from_directory``).

    Attributes:
        filenames, filepaths, classes (per-file class index), class_indices (name -> index), samples.
    """

    allowed_class_modes = ("categorical", "binary", "sparse", "input", None)

    def __init__(
        self,
        directory,
        image_data_generator,
        target_size=(256, 256),
        color_mode="rgb",
        classes=None,
        class_mode="categorical",
        batch_size=32,
        shuffle=True,
        seed=None,
        data_format=None,
        save_to_dir=None,
        save_prefix="",
        save_format="png",
        follow_links=False,
        subset=None,
        interpolation="nearest",
        keep_aspect_ratio=False,
        dtype=None,
    ):
        self.data_format = data_format or config.image_data_format()
        self.dtype = dtype or config.floatx()
        self.image_data_generator = image_data_generator
        self.target_size = tuple(int(v) for v in target_size)
        self.keep_aspect_ratio = keep_aspect_ratio
        channels = {"rgb": 3, "rgba": 4, "grayscale": 1}
        if color_mode not in channels:
            raise ValueError(
                "Invalid value for argument `color_mode`. Expected one of ['rgb', 'rgba', 'grayscale']. "
                f"Received: color_mode={color_mode!r}"
            )
        self.color_mode = color_mode
        c = channels[color_mode]
        self.image_shape = self.target_size + (c,) if self.data_format == "channels_last" else (c,) + self.target_size
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        self.interpolation = interpolation
        if subset is not None:
            vs = image_data_generator._validation_split if image_data_generator is not None else 0
            if subset not in ("training", "validation"):
                raise ValueError(
                    "Invalid value for argument `subset`. Expected one of ['training', 'validation']. "
                    f"Received: subset={subset!r}"
                )
            if not vs:
                raise ValueError(
                    f"`subset={subset!r}` needs a `validation_split` in the ImageDataGenerator "
                    "(e.g. ImageDataGenerator(validation_split=0.2)). Received: validation_split=0.0"
                )
            split = (0, vs) if subset == "validation" else (vs, 1)
        else:
            split = None
        self.split, self.subset = split, subset
        directory = os.fspath(directory)
        if not os.path.isdir(directory):
            raise ValueError(
                f"Invalid value for argument `directory`: it is not an existing directory. "
                f"Received: directory={directory!r}"
            )
        self.directory = directory
        if class_mode not in self.allowed_class_modes:
            raise ValueError(
                f"Invalid value for argument `class_mode`. Expected one of {list(self.allowed_class_modes)}. "
                f"Received: class_mode={class_mode!r}"
            )
        self.class_mode = class_mode
        if not classes:
            classes = [d for d in sorted(os.listdir(directory)) if os.path.isdir(os.path.join(directory, d))]
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        self.filenames, class_list = [], []
        for name in classes:
            sub = os.path.join(directory, name)
            for path in _list_class_files(sub, self.white_list_formats, split, follow_links):
                self.filenames.append(os.path.join(name, os.path.relpath(path, sub)))
                class_list.append(self.class_indices[name])
        self.samples = len(self.filenames)
        self.classes = np.asarray(class_list, dtype="int32")
        self._filepaths = [os.path.join(directory, f) for f in self.filenames]
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self):
        return self._filepaths

    @property
    def labels(self):
        return self.classes

    @property
    def sample_weight(self):
        return None

    def _get_batches_of_transformed_samples(self, index_array):
        raw = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        for i, j in enumerate(index_array):
            img = load_img(
                self._filepaths[j],
                color_mode=self.color_mode,
                target_size=self.target_size,
                interpolation=self.interpolation,
                keep_aspect_ratio=self.keep_aspect_ratio,
            )
            raw[i] = img_to_array(img, data_format=self.data_format)
            img.close()
        gen = self.image_data_generator
        batch_x = gen._transform_batch(raw, self.dtype) if gen is not None else raw
        if self.save_to_dir:
            self._save_batch(batch_x, index_array)
        if self.class_mode == "input":
            batch_y = batch_x.copy()
        elif self.class_mode in ("binary", "sparse"):
            batch_y = self.classes[index_array].astype(self.dtype)
        elif self.class_mode == "categorical":
            batch_y = np.zeros((len(batch_x), len(self.class_indices)), dtype=self.dtype)
            batch_y[np.arange(len(batch_x)), self.classes[index_array]] = 1.0
        else:
            return batch_x
        return batch_x, batch_y


class ImageDataGenerator:
    """Generates batches of image data with real-time augmentation (Keras's legacy ImageDataGenerator).

    Args:
        featurewise_center: subtract the dataset mean (per channel, from ``fit``).
        samplewise_center: subtract each image's mean.
        featurewise_std_normalization: divide by the dataset std (from ``fit``).
        samplewise_std_normalization: divide each image by its std.
        zca_whitening: apply ZCA whitening (from ``fit``); ``zca_epsilon`` regularises it (default 1e-6).
        rotation_range: degrees; angle drawn uniformly from [-r, r].
        width_shift_range, height_shift_range: float (< 1: fraction of the size, >= 1: pixels), int (pixels
            drawn from ``range(k)`` with a random sign) or a list of choices.
        brightness_range: (lo, hi) brightness factor range.
        shear_range: shear angle in degrees (counter-clockwise).
        zoom_range: float ``z`` for [1 - z, 1 + z] or [lo, hi].
        channel_shift_range: random shift added to every channel.
        fill_mode: 'constant', 'nearest', 'reflect' or 'wrap'; ``cval`` is the constant fill.
        horizontal_flip, vertical_flip: random flips.
        rescale: factor multiplied into the data (after augmentation).
        preprocessing_function: called on every image (rank 3) after augmentation.
        data_format: 'channels_last' or 'channels_first'.
        validation_split: fraction in (0, 1) reserved for ``subset='validation'``.
        interpolation_order: only 1 (bilinear, Keras's default) is batched on the device.
        dtype: dtype of the batches (default ``floatx()``).
    """

    def __init__(
        self,
        featurewise_center=False,
        samplewise_center=False,
        featurewise_std_normalization=False,
        samplewise_std_normalization=False,
        zca_whitening=False,
        zca_epsilon=1e-6,
        rotation_range=0,
        width_shift_range=0.0,
        height_shift_range=0.0,
        brightness_range=None,
        shear_range=0.0,
        zoom_range=0.0,
        channel_shift_range=0.0,
        fill_mode="nearest",
        cval=0.0,
        horizontal_flip=False,
        vertical_flip=False,
        rescale=None,
        preprocessing_function=None,
        data_format=None,
        validation_split=0.0,
        interpolation_order=1,
        dtype=None,
    ):
        data_format = data_format or config.image_data_format()
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = validation.number(rotation_range, "rotation_range")
        for arg, value in (("width_shift_range", width_shift_range), ("height_shift_range", height_shift_range)):
            if isinstance(value, (list, tuple, np.ndarray)):  # a list of choices (pixels or fractions)
                for v in value:
                    validation.number(_scalar(v), arg)
            else:
                validation.number(value, arg)
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = validation.number(shear_range, "shear_range")
        self.channel_shift_range = validation.number(channel_shift_range, "channel_shift_range")
        validation.number(zca_epsilon, "zca_epsilon", low=0.0)
        if fill_mode not in augmentation.FILL_MODES:
            raise ValueError(
                f"Invalid value for argument `fill_mode`. Expected one of {list(augmentation.FILL_MODES)}. "
                f"Received: fill_mode={fill_mode!r}"
            )
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = dtype or config.floatx()
        if interpolation_order != 1:
            raise ValueError(
                "Invalid value for argument `interpolation_order`: only 1 (bilinear, the Keras default) "
                f"is supported. Received: interpolation_order={interpolation_order!r}"
            )
        self.interpolation_order = interpolation_order
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "Invalid value for argument `data_format`. Expected 'channels_last' or 'channels_first'. "
                f"Received: data_format={data_format!r}"
            )
        self.data_format = data_format
        self.channel_axis, self.row_axis, self.col_axis = (3, 1, 2) if data_format == "channels_last" else (1, 2, 3)
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.floating)):
            raise TypeError(
                f"Invalid type for argument `validation_split`. Expected a float. "
                f"Received: validation_split={validation_split!r}"
            )
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(
                "Invalid value for argument `validation_split`. Expected a value strictly between 0 and 1. "
                f"Received: validation_split={validation_split!r}"
            )
        self._validation_split = validation_split
        self.mean = self.std = self.zca_whitening_matrix = None
        if isinstance(zoom_range, (float, int)) and not isinstance(zoom_range, bool):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif (
            isinstance(zoom_range, (list, tuple, np.ndarray))
            and len(zoom_range) == 2
            and all(isinstance(_scalar(v), (float, int)) for v in zoom_range)
        ):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError(
                "Invalid value for argument `zoom_range`. Expected a float or a tuple or list of two "
                f"floats. Received: zoom_range={zoom_range!r}"
            )
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn(
                    "This ImageDataGenerator specifies `zca_whitening`, which overrides setting of "
                    "`featurewise_center`."
                )
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn(
                    "This ImageDataGenerator specifies `zca_whitening` which overrides setting of"
                    "`featurewise_std_normalization`."
                )
        if featurewise_std_normalization and not featurewise_center:
            self.featurewise_center = True
            warnings.warn(
                "This ImageDataGenerator specifies `featurewise_std_normalization`, which overrides setting "
                "of `featurewise_center`."
            )
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn(
                "This ImageDataGenerator specifies `samplewise_std_normalization`, which overrides setting "
                "of `samplewise_center`."
            )
        if brightness_range is not None and (
            not isinstance(brightness_range, (tuple, list, np.ndarray)) or len(brightness_range) != 2
        ):
            raise ValueError(
                "Invalid value for argument `brightness_range`. Expected a tuple or list of two floats. "
                f"Received: brightness_range={brightness_range!r}"
            )
        if brightness_range is not None:
            lo, hi = (validation.number(_scalar(v), "brightness_range") for v in brightness_range)
            validation.ordered_pair(lo, hi, "brightness_range", brightness_range)
        self.brightness_range = brightness_range

    # -- iterators ----------------------------------------------------------------------------------------
    def flow(
        self,
        x,
        y=None,
        batch_size=32,
        shuffle=True,
        sample_weight=None,
        seed=None,
        save_to_dir=None,
        save_prefix="",
        save_format="png",
        ignore_class_split=False,
        subset=None,
    ):
        """An endless iterator of augmented batches of ``x`` (rank 4), with ``y``/``sample_weight`` when given.

        Returns:
            A :class:`NumpyArrayIterator` yielding ``x`` or ``(x, y)`` or ``(x, y, sample_weight)`` float32 batches.
        """
        return NumpyArrayIterator(
            image_data_generator=self, data_format=self.data_format, dtype=self.dtype, **named_arguments(locals())
        )

    def flow_from_directory(
        self,
        directory,
        target_size=(256, 256),
        color_mode="rgb",
        classes=None,
        class_mode="categorical",
        batch_size=32,
        shuffle=True,
        seed=None,
        save_to_dir=None,
        save_prefix="",
        save_format="png",
        follow_links=False,
        subset=None,
        interpolation="nearest",
        keep_aspect_ratio=False,
    ):
        """An endless iterator of augmented batches read from ``directory`` (one subfolder per class).

        Returns:
            A :class:`DirectoryIterator` yielding ``(x, y)`` (``x`` only with ``class_mode=None``).
        """
        return DirectoryIterator(
            image_data_generator=self, data_format=self.data_format, dtype=self.dtype, **named_arguments(locals())
        )

    # -- normalisation ------------------------------------------------------------------------------------
    def standardize(self, x):
        """Applies the normalisation configuration to ``x`` in place (as Keras: statistics over the whole ``x``).

        Args:
            x: one image or a batch (NumPy float array).

        Returns:
            The normalised inputs.
        """
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        return self._normalize(x, None)

    def _normalize(self, x, axes):
        """Rescaling, the samplewise statistics over ``axes`` (None: all of ``x``), then the featurewise ones."""
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, axis=axes, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self.mean is not None:
                x -= self.mean
            else:
                warnings.warn(
                    "This ImageDataGenerator specifies `featurewise_center`, but it hasn't been fit on any "
                    "training data. Fit it first by calling `.fit(numpy_data)`."
                )
        if self.featurewise_std_normalization:
            if self.std is not None:
                x /= self.std + 1e-6
            else:
                warnings.warn(
                    "This ImageDataGenerator specifies `featurewise_std_normalization`, but it hasn't been "
                    "fit on any training data. Fit it first by calling `.fit(numpy_data)`."
                )
        if self.zca_whitening:
            if self.zca_whitening_matrix is not None:
                flat = x.reshape(-1, math.prod(x.shape[-3:]))
                x = np.reshape(flat @ self.zca_whitening_matrix, x.shape)
            else:
                warnings.warn(
                    "This ImageDataGenerator specifies `zca_whitening`, but it hasn't been fit on any "
                    "training data. Fit it first by calling `.fit(numpy_data)`."
                )
        return x

    def _standardize_batch(self, x):
        """``standardize`` applied image by image (what Keras's iterators do), vectorised over the batch."""
        if self.preprocessing_function:
            x = np.stack([np.asarray(self.preprocessing_function(img), dtype=x.dtype) for img in x]) if len(x) else x
        return self._normalize(x, tuple(range(1, x.ndim)))

    # -- random transforms --------------------------------------------------------------------------------
    def get_random_transform(self, img_shape, seed=None):
        """Draws the parameters of one random transformation, in Keras's order (same values for a seed).

        Args:
            img_shape: shape of the image (rank 3).
            seed: optional seed of NumPy's global generator.

        Returns:
            dict with 'theta', 'tx', 'ty', 'shear', 'zx', 'zy', 'flip_horizontal', 'flip_vertical',
            'channel_shift_intensity', 'brightness'.
        """
        row, col = self.row_axis - 1, self.col_axis - 1
        if seed is not None:
            np.random.seed(seed)
        theta = np.random.uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else 0

        def shift(spec, size):
            if not augmentation._truthy(spec):
                return 0
            try:
                value = np.random.choice(spec)
                value *= np.random.choice([-1, 1])
            except ValueError:  # a float range, as in Keras
                value = np.random.uniform(-spec, spec)
            if np.max(spec) < 1:
                value *= size
            return value

        tx = shift(self.height_shift_range, img_shape[row])
        ty = shift(self.width_shift_range, img_shape[col])
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_h = (np.random.random() < 0.5) * self.horizontal_flip
        flip_v = (np.random.random() < 0.5) * self.vertical_flip
        cs = (
            np.random.uniform(-self.channel_shift_range, self.channel_shift_range)
            if self.channel_shift_range != 0
            else None
        )
        brightness = (
            np.random.uniform(self.brightness_range[0], self.brightness_range[1])
            if self.brightness_range is not None
            else None
        )
        return {
            "theta": theta,
            "tx": tx,
            "ty": ty,
            "shear": shear,
            "zx": zx,
            "zy": zy,
            "flip_horizontal": flip_h,
            "flip_vertical": flip_v,
            "channel_shift_intensity": cs,
            "brightness": brightness,
        }

    def _random_parameters(self, n, img_shape):
        return augmentation.random_parameters(
            n,
            img_shape,
            np.random,
            rotation_range=self.rotation_range,
            width_shift_range=self.width_shift_range,
            height_shift_range=self.height_shift_range,
            shear_range=self.shear_range,
            zoom_range=self.zoom_range,
            horizontal_flip=self.horizontal_flip,
            vertical_flip=self.vertical_flip,
            channel_shift_range=self.channel_shift_range,
            brightness_range=self.brightness_range,
            row_axis=self.row_axis - 1,
            col_axis=self.col_axis - 1,
        )

    def _apply_batch(self, x, params):
        """Warps a NumPy batch on the device with per-image parameters; returns NumPy."""
        device = config.get_device()
        t = torch.from_numpy(np.ascontiguousarray(x)).to(device, non_blocking=True)
        if not t.is_floating_point():
            t = t.float()
        out = augmentation.apply_parameters(
            t, params, fill_mode=self.fill_mode, cval=self.cval, data_format=self.data_format
        )
        return out.cpu().numpy()

    def _transform_batch(self, x, dtype):
        x = np.asarray(x, dtype=dtype)
        if len(x) and self._augments():
            x = self._apply_batch(x, self._random_parameters(len(x), x.shape[1:])).astype(dtype, copy=False)
        else:
            x = x.copy()
        return self._standardize_batch(x)

    def _augments(self):
        return bool(
            self.rotation_range
            or augmentation._truthy(self.width_shift_range)
            or augmentation._truthy(self.height_shift_range)
            or self.shear_range
            or self.zoom_range[0] != 1
            or self.zoom_range[1] != 1
            or self.horizontal_flip
            or self.vertical_flip
            or self.channel_shift_range
            or self.brightness_range is not None
        )

    def apply_transform(self, x, transform_parameters):
        """Applies a transformation to one image (rank 3) according to ``transform_parameters``.

        Args:
            x: one image.
            transform_parameters: dict with any of 'theta' (degrees), 'tx', 'ty' (pixels), 'shear' (degrees),
                'zx', 'zy', 'flip_horizontal', 'flip_vertical', 'channel_shift_intensity', 'brightness'.

        Returns:
            The transformed image (same shape).
        """
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"`apply_transform` expects one image of rank 3. Received x with shape {x.shape}")
        params = {
            k: (None if v is None else np.asarray([v], dtype=np.float64)) for k, v in transform_parameters.items()
        }
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(self.dtype)
        return self._apply_batch(x[None].astype(dtype), params)[0]

    def random_transform(self, x, seed=None):
        """Applies a random transformation to one image (rank 3)."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Computes the dataset statistics needed by featurewise normalisation and ZCA whitening.

        Args:
            x: sample data of rank 4.
            augment: fit on randomly augmented copies.
            rounds: number of augmentation passes when ``augment``.
            seed: optional seed.
        """
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4. Got array with shape: {x.shape} (argument `x`)")
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(
                f"Expected input to be images (as Numpy array) following the data format convention "
                f'"{self.data_format}" (channels on axis {self.channel_axis}), i.e. expected either 1, 3 or 4 '
                f"channels on axis {self.channel_axis}. However, it was passed an array with shape {x.shape} "
                f"({x.shape[self.channel_axis]} channels)."
            )
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            x = np.concatenate(
                [
                    self._apply_batch(x, self._random_parameters(len(x), x.shape[1:])).astype(self.dtype)
                    for _ in range(rounds)
                ]
            )
        broadcast = [1, 1, 1]
        broadcast[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=(0, self.row_axis, self.col_axis)), broadcast)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=(0, self.row_axis, self.col_axis)), broadcast)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = len(x)
            flat = np.reshape(x, (n, -1))
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            s_inv = np.sqrt(n) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = (u * s_inv).dot(u.T)


def apply_affine_transform(
    x,
    theta=0,
    tx=0,
    ty=0,
    shear=0,
    zx=1,
    zy=1,
    row_axis=1,
    col_axis=2,
    channel_axis=0,
    fill_mode="nearest",
    cval=0.0,
    order=1,
):
    """Applies an affine transformation to one image (Keras's legacy function; channels first by default)."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"Input arrays must be multi-channel 2D images. Received x with shape {x.shape}")
    if sorted((row_axis, col_axis, channel_axis)) != [0, 1, 2] or channel_axis not in (0, 2):
        raise ValueError(
            "Invalid axes: expected distinct `row_axis`, `col_axis`, `channel_axis` with channels first "
            f"or last. Received: {(row_axis, col_axis, channel_axis)}"
        )
    if order != 1:
        raise ValueError(f"Invalid value for argument `order`: only 1 is supported. Received: order={order!r}")
    h, w = x.shape[row_axis], x.shape[col_axis]
    m = augmentation.affine_matrices(theta, tx, ty, shear, zx, zy, h, w)
    fmt = "channels_last" if channel_axis == 2 else "channels_first"
    if row_axis > col_axis:  # transposed image: work in (row, col) order and transpose back
        x = np.swapaxes(x, row_axis, col_axis)
    dtype = torch.float64 if x.dtype == np.float64 else torch.float32
    out = augmentation.affine_transform(
        torch.as_tensor(x[None], dtype=dtype), m, fill_mode=fill_mode, cval=cval, data_format=fmt
    )[0].numpy()
    if row_axis > col_axis:
        out = np.swapaxes(out, row_axis, col_axis)
    return out


__all__ = [
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
    "DirectoryIterator",
    "apply_affine_transform",
    "array_to_img",
    "img_to_array",
    "load_img",
    "save_img",
    "smart_resize",
]
