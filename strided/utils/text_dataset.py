"""``text_dataset_from_directory``: batches of texts (and labels) from ``.txt`` files, without TensorFlow.

The files, their order, labels, shuffling seed and validation split are Keras's (the same listing as
``image_dataset_from_directory``), so a given seed puts the same files in training and validation as
Keras does. Batches are NumPy arrays of ``str``, which ``fit``/``evaluate``/``predict`` pass to a model
with an ``Input(dtype="string")`` and which ``TextVectorization.adapt`` reads.
"""
import os

import numpy as np

from strided.data.dataset import BatchDataset
from strided.data.directory import check_validation_split_arg, get_training_or_validation_split, index_directory

TEXT_FORMATS = (".txt",)


def read_text(path, max_length=None):
    """The text of one file, decoded as UTF-8. With ``max_length``, only its first ``max_length`` bytes are
    kept (Keras cuts with ``tf.strings.substr``, in bytes); a character cut in two is dropped."""
    with open(path, "rb") as f:
        data = f.read() if max_length is None else f.read(max_length)
    return data.decode("utf-8", errors="ignore" if max_length is not None else "replace")


class TextDirectoryDataset(BatchDataset):
    """Batches of ``(texts, labels)`` read from text files; returned by :func:`text_dataset_from_directory`.

    Iterating yields ``texts`` as a NumPy array of ``str`` of shape ``(batch,)`` and the labels encoded by
    ``label_mode`` (``int32 (batch,)``, ``float32 (batch, 1)`` or ``float32 (batch, num_classes)``), or the
    texts alone when there are no labels. ``len()`` is the number of batches per epoch.

    Attributes:
        class_names: the class names (subfolder names), or None without labels.
        file_paths: the text files, in dataset order.
    """

    def __init__(self, file_paths, labels, label_mode, class_names, max_length, batch_size, shuffle, seed):
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed)
        self.file_paths = list(file_paths)
        self.labels = labels
        self.label_mode = label_mode
        self.class_names = class_names
        self.max_length = max_length

    def _num_items(self):
        return len(self.file_paths)

    def _encoded_labels(self, indices):
        y = np.asarray(self.labels)[indices]
        if self.label_mode == "binary":
            return y.astype("float32").reshape(-1, 1)
        if self.label_mode == "categorical":
            return np.eye(len(self.class_names), dtype="float32")[y.astype(int)]
        return y.astype("int32")

    def _get(self, indices):
        texts = np.array([read_text(self.file_paths[int(i)], self.max_length) for i in indices], dtype=str)
        if self.label_mode is None:
            return texts
        return texts, self._encoded_labels(indices)


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """Generates a dataset of text batches from a directory with one subdirectory per class.

    With ``main_directory/class_a/*.txt`` and ``main_directory/class_b/*.txt``, the dataset yields batches
    of texts with labels 0 (``class_a``) and 1 (``class_b``). Only ``.txt`` files are read.

    Args:
        directory: folder of the data; with ``labels="inferred"`` one subfolder per class.
        labels: ``"inferred"`` (from the subfolder names), ``None`` (texts only), or a list/tuple of integer
            labels in the sorted order of the file paths.
        label_mode: ``"int"`` (int32 ``(batch,)``), ``"categorical"`` (float32 one-hot), ``"binary"``
            (float32 ``(batch, 1)``, exactly two classes) or ``None`` (texts only).
        class_names: explicit subfolder names and their order (only with ``labels="inferred"``).
        batch_size: texts per batch (default 32); ``None`` yields single texts.
        max_length: keep only the first ``max_length`` bytes of each text (``None``: whole files).
        shuffle: shuffle the files (else alphanumeric order) and reshuffle every epoch.
        seed: seed of the shuffling; required with ``validation_split`` and ``shuffle``.
        validation_split: fraction in (0, 1) kept for validation (the last files of the shuffled order).
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns a (training, validation) pair).
        follow_links: follow symbolic links to subfolders.
        format: accepted for Keras compatibility (``"tf"`` or ``"grain"``); the result is always a
            strided dataset.
        verbose: print how many files and classes were found.

    Returns:
        A :class:`TextDirectoryDataset` (``len()`` = batches per epoch; iterating yields
        ``(texts, labels)`` NumPy batches, ``texts`` an array of ``str``) with ``.class_names`` and
        ``.file_paths``; a pair of them when ``subset="both"``.

    Example:

    ```python
    train = keras.utils.text_dataset_from_directory("reviews", validation_split=0.2, subset="training",
                                                    seed=1337)
    vectorize = keras.layers.TextVectorization(max_tokens=20000, output_sequence_length=200)
    vectorize.adapt(train.map(lambda x, y: x))
    ```
    """
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("`labels` argument should be a list/tuple of integer labels, of the same size as the "
                             "number of text files in the target directory. If you wish to infer the labels from "
                             "the subdirectory names in the target directory, pass `labels=\"inferred\"`. If you "
                             "wish to get a dataset that only contains text samples (no labels), pass "
                             f"`labels=None`. Received: labels={labels!r}")
        if class_names:
            raise ValueError("You can only pass `class_names` if `labels=\"inferred\"`. "
                             f"Received: labels={labels!r}, and class_names={class_names!r}")
        labels = list(labels)
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError("`label_mode` argument must be one of \"int\", \"categorical\", \"binary\", or None. "
                         f"Received: label_mode={label_mode!r}")
    if format not in ("tf", "grain"):
        raise ValueError(f"`format` should be either \"tf\" or \"grain\". Received: format={format!r}")
    if max_length is not None and (not isinstance(max_length, (int, np.integer)) or isinstance(max_length, bool)
                                   or max_length < 0):
        raise ValueError("Invalid value for argument `max_length`. Expected None or a non-negative integer. "
                         f"Received: max_length={max_length!r}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, all_labels, names = index_directory(directory, labels, TEXT_FORMATS, class_names=class_names,
                                               shuffle=shuffle, seed=seed, follow_links=follow_links,
                                               verbose=verbose)
    if label_mode == "binary" and len(names) != 2:
        raise ValueError("When passing `label_mode=\"binary\"`, there must be exactly 2 class_names. "
                         f"Received: class_names={names}")

    def make(subset_name, shuffle_flag):
        p, y = get_training_or_validation_split(paths, all_labels, validation_split, subset_name)
        if not p:
            kind = f"{subset_name} " if subset_name else ""
            raise ValueError(f"No {kind}text files found in directory {os.fspath(directory)}. Allowed format: .txt")
        return TextDirectoryDataset(p, y, label_mode, names, max_length, batch_size, shuffle_flag, seed)

    if subset == "both":
        return make("training", shuffle), make("validation", False)
    return make(subset, shuffle)


__all__ = ["text_dataset_from_directory", "TextDirectoryDataset"]
