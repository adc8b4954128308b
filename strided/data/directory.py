"""The directory datasets' one base: file listing, labels, validation split and batches of files.

``image_dataset_from_directory``, ``audio_dataset_from_directory`` and ``text_dataset_from_directory`` differ only
in how one file is read and how a batch of them is stacked; everything else is here. File listing and shuffling
follow ``keras.src.utils.dataset_utils.index_directory``: class folders in
sorted order, files walked with ``os.walk`` sorted by folder then by name, then one global shuffle of the
paths (and, separately, of the labels) with ``np.random.RandomState(seed)``; the validation split takes
the *last* ``int(validation_split * n)`` files of that order. So for a given seed the training and
validation files are exactly Keras's.
"""

import inspect
import os

import numpy as np

from strided.data.dataset import BatchDataset
from strided.utils.docstrings import fill_doc

# The arguments the three ``*_dataset_from_directory`` functions share, written once. Each docstring writes
# ``{{labels_args}}`` and ``{{split_args}}`` where they stand in Keras's argument order and is decorated with
# ``directory_doc``, which names what one file holds (``images``, ``texts``, ``audio``).
_LABELS_ARGS_DOC = """directory: folder of the data; with ``labels="inferred"`` one subfolder per class.
labels: ``"inferred"`` (from the subfolder names), ``None`` ({{noun}} only), or a list/tuple of integer labels in
    the sorted order of the file paths.
label_mode: ``"int"`` (int32 ``(batch,)``), ``"categorical"`` (float32 one-hot), ``"binary"`` (float32
    ``(batch, 1)``, exactly two classes) or ``None`` ({{noun}} only).
class_names: explicit subfolder names and their order (only with ``labels="inferred"``)."""
_SPLIT_ARGS_DOC = """seed: seed of the shuffling; required with ``validation_split`` and ``shuffle``.
validation_split: fraction in (0, 1) kept for validation (the last files of the shuffled order).
subset: ``"training"``, ``"validation"`` or ``"both"`` (returns a (training, validation) pair)."""


def directory_doc(noun):
    """Function decorator: fills ``{{labels_args}}`` and ``{{split_args}}`` of a directory dataset's docstring."""

    def document(function):
        function.__doc__ = fill_doc(
            function.__doc__, labels_args=fill_doc(_LABELS_ARGS_DOC, noun=noun), split_args=_SPLIT_ARGS_DOC
        )
        return function

    return document


# -- listing ---------------------------------------------------------------------------------------------
def iter_valid_files(directory, follow_links, formats):
    """``(folder, file name)`` of the files of ``directory`` with one of ``formats``, in Keras's order: folders
    walked sorted by path, files sorted by name."""
    walk = os.walk(directory, followlinks=follow_links)
    for root, _, files in sorted(walk, key=lambda item: item[0]):
        for fname in sorted(files):
            if fname.lower().endswith(formats):
                yield root, fname


def index_directory(
    directory, labels, formats, class_names=None, shuffle=True, seed=None, follow_links=False, verbose=True
):
    """Lists the files of ``directory`` with their labels, in Keras's order.

    Returns:
        (file_paths, labels, class_names): labels an int32 array (None when ``labels=None``).
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(
            f"Invalid value for argument `directory`: it is not an existing directory. "
            f"Received: directory={directory!r}"
        )
    if labels == "inferred":
        subdirs = [
            d.rstrip("/")
            for d in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")
        ]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories of the "
                    f"target directory. Expected: {subdirs} (or a subset of it), but received: "
                    f"class_names={class_names}"
                )
            subdirs = list(class_names)
    else:
        subdirs = [""]
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be specified.")
            raise ValueError(
                "When argument `labels` is specified, argument `class_names` cannot be specified "
                "(the `class_names` will be the sorted list of labels)."
            )
    class_indices = {name: i for i, name in enumerate(subdirs)}
    filenames, label_list = [], []
    for subdir in subdirs:
        sub = os.path.join(directory, subdir)
        dirname = os.path.basename(sub)
        for root, fname in iter_valid_files(sub, follow_links, formats):
            filenames.append(os.path.join(dirname, os.path.relpath(os.path.join(root, fname), sub)))
            label_list.append(class_indices[dirname])
    if labels == "inferred":
        labels = np.asarray(label_list, dtype="int32")
        names = list(subdirs)
    elif labels is None:
        names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target directory. "
                f"len(labels) is {len(labels)} while we found {len(filenames)} files in directory "
                f"{directory}."
            )
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
        raise ValueError(
            "Invalid value for argument `validation_split`. Expected a value strictly between 0 and 1. "
            f"Received: validation_split={validation_split!r}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError(
            "If `subset` is set, `validation_split` must be set, and inversely. "
            f"Received: subset={subset!r}, validation_split={validation_split!r}"
        )
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            "Invalid value for argument `subset`. Expected one of ['training', 'validation', 'both']. "
            f"Received: subset={subset!r}"
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` argument, "
            "to make sure that there is no overlap between the training and validation subset."
        )


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
    raise ValueError(
        f"Invalid value for argument `subset`. Expected 'training' or 'validation'. Received: subset={subset!r}"
    )


# -- arguments shared by the three directory datasets ----------------------------------------------------
def check_labels_args(labels, label_mode, class_names, noun):
    """Keras's checks of ``labels``/``label_mode``/``class_names``; returns the normalized ``(labels, label_mode)``.

    ``noun`` names the files in messages ("image", "audio", "text"). Without labels (``labels=None`` or
    ``label_mode=None``) both come back None: the dataset then yields samples alone.
    """
    if not (labels is None or isinstance(labels, str) and labels == "inferred"):
        if not isinstance(labels, (list, tuple, np.ndarray)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size as the "
                f"number of {noun} files in the target directory. If you wish to infer the labels from "
                'the subdirectory names in the target directory, pass `labels="inferred"`. If you '
                f"wish to get a dataset that only contains {noun} samples (no labels), pass "
                f"`labels=None`. Received: labels={labels!r}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. '
                f"Received: labels={labels!r}, and class_names={class_names!r}"
            )
        labels = list(labels)
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", or None. '
            f"Received: label_mode={label_mode!r}"
        )
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def check_format_arg(format):
    """Keras's ``format`` argument ('tf' or 'grain'); strided returns its own dataset for both."""
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format!r}')


def dataset_from_directory(
    dataset_class,
    options,
    directory,
    labels,
    label_mode,
    class_names,
    batch_size,
    shuffle,
    seed,
    validation_split,
    subset,
    follow_links,
    verbose,
):
    """Lists ``directory`` and builds the training/validation datasets, the flow of all three directory datasets.

    Args:
        dataset_class: the :class:`DirectoryDataset` subclass built; its ``formats`` are the file extensions
            read, its ``what`` names the files in messages.
        options: the keyword arguments of ``dataset_class`` that configure the reading (its ``_options``).
        labels, label_mode: as returned by :func:`check_labels_args`.
        other arguments: those of ``image_dataset_from_directory``.

    Returns:
        One dataset, or a ``(training, validation)`` pair when ``subset='both'``.
    """
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    formats, what = dataset_class.formats, dataset_class.what
    if seed is None:
        seed = np.random.randint(1e6)
    paths, all_labels, names = index_directory(
        directory,
        labels,
        formats,
        class_names=class_names,
        shuffle=shuffle,
        seed=seed,
        follow_links=follow_links,
        verbose=verbose,
    )
    if not paths:
        raise ValueError(
            f"No {what} found in directory {os.fspath(directory)!r}. Allowed formats: {formats}. "
            "Put the files in one subfolder per class (e.g. directory/class_a/file)."
        )
    if label_mode == "binary" and len(names) != 2:
        raise ValueError(
            f'When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: class_names={names}'
        )

    def make(subset_name, shuffle_flag):
        p, y = get_training_or_validation_split(paths, all_labels, validation_split, subset_name)
        if not p:
            kind = f"{subset_name} " if subset_name else ""
            raise ValueError(
                f"No {kind}{what} found in directory {os.fspath(directory)!r} "
                f"(validation_split={validation_split}). Allowed formats: {formats}"
            )
        return dataset_class(p, y, label_mode, names, batch_size, shuffle_flag, seed, **options)

    if subset == "both":
        return make("training", shuffle), make("validation", False)
    return make(subset, shuffle)


def directory_arguments(arguments):
    """The arguments of a ``*_dataset_from_directory`` function that :func:`dataset_from_directory` takes (``directory``
    to ``verbose``), picked by name from the function's ``locals()`` after its checks."""
    return {name: arguments[name] for name in list(inspect.signature(dataset_from_directory).parameters)[2:]}


# -- the dataset -------------------------------------------------------------------------------------------
class DirectoryDataset(BatchDataset):
    """Batches of ``(samples, labels)`` read from files: the base of the image, audio and text directory datasets.

    Subclasses implement ``_read(path)`` (one file -> one sample) and ``_stack(samples, indices)`` (the samples of
    ``indices`` -> one batch array), and name in ``_options`` the keyword arguments that configure the reading
    (kept as attributes of the same names). Labels are encoded by ``label_mode``: int32 ``(batch,)`` ('int'), float32 one-hot
    ('categorical') or float32 ``(batch, 1)`` ('binary'); with ``label_mode=None`` batches are samples alone.

    Attributes:
        class_names: list of class names (None without labels).
        file_paths: the files, in dataset order.
    """

    formats = ()  # the file extensions read (lowercase, with the dot)
    what = "files"  # the files in messages, plural
    _options = ()

    def __init__(self, file_paths, labels, label_mode, class_names, batch_size, shuffle, seed, **options):
        if set(options) != set(self._options):
            raise TypeError(
                f"{type(self).__name__} takes the options {sorted(self._options)}. Received: {sorted(options)}"
            )
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed)
        self.file_paths = list(file_paths)
        self.labels = labels
        self.label_mode = label_mode
        self.class_names = class_names
        self.__dict__.update(options)
        self._cache = None

    def _read(self, path):
        raise NotImplementedError

    def _stack(self, samples, indices):
        raise NotImplementedError

    def _num_items(self):
        return len(self.file_paths)

    def cache(self, filename=""):
        """Keeps decoded files in memory after their first read."""
        clone = self._copy()
        clone._cache = {}
        return clone

    def _load(self, i):
        if self._cache is not None and i in self._cache:
            return self._cache[i]
        sample = self._read(self.file_paths[i])
        if self._cache is not None:
            self._cache[i] = sample
        return sample

    def _encoded_labels(self, indices):
        y = np.asarray(self.labels)[indices]
        if self.label_mode == "binary":
            return y.astype("float32").reshape(-1, 1)
        if self.label_mode == "categorical":
            return np.eye(len(self.class_names), dtype="float32")[y.astype(int)]
        return y.astype("int32")

    def _get(self, indices):
        batch = self._stack([self._load(int(i)) for i in indices], indices)
        if self.label_mode is None:
            return batch
        return batch, self._encoded_labels(indices)


__all__ = [
    "DirectoryDataset",
    "dataset_from_directory",
    "index_directory",
    "iter_valid_files",
    "check_labels_args",
    "check_validation_split_arg",
    "get_training_or_validation_split",
]
