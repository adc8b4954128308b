"""``text_dataset_from_directory``: batches of texts (and labels) from ``.txt`` files, without TensorFlow.

The files, their order, labels, shuffling seed and validation split are Keras's (the shared listing of
:mod:`strided.data.directory`), so a given seed puts the same files in training and validation as
Keras does. Batches are NumPy arrays of ``str``, which ``fit``/``evaluate``/``predict`` pass to a model
with an ``Input(dtype="string")`` and which ``TextVectorization.adapt`` reads.
"""

import numpy as np

from strided.data.directory import (
    DirectoryDataset,
    check_format_arg,
    check_labels_args,
    dataset_from_directory,
    directory_arguments,
    directory_doc,
)

TEXT_FORMATS = (".txt",)


def read_text(path, max_length=None):
    """The text of one file, decoded as UTF-8. With ``max_length``, only its first ``max_length`` bytes are
    kept (Keras cuts with ``tf.strings.substr``, in bytes); a character cut in two is dropped."""
    with open(path, "rb") as f:
        data = f.read() if max_length is None else f.read(max_length)
    return data.decode("utf-8", errors="ignore" if max_length is not None else "replace")


class TextDirectoryDataset(DirectoryDataset):
    """Batches of ``(texts, labels)`` read from text files; returned by :func:`text_dataset_from_directory`.

    Iterating yields ``texts`` as a NumPy array of ``str`` of shape ``(batch,)`` and the labels encoded by
    ``label_mode`` (``int32 (batch,)``, ``float32 (batch, 1)`` or ``float32 (batch, num_classes)``), or the
    texts alone when there are no labels. ``len()`` is the number of batches per epoch.

    Attributes:
        class_names: the class names (subfolder names), or None without labels.
        file_paths: the text files, in dataset order.
    """

    formats, what = TEXT_FORMATS, "text files"
    _options = ("max_length",)

    def _read(self, path):
        return read_text(path, self.max_length)

    def _stack(self, texts, indices):
        return np.array(texts, dtype=str)


@directory_doc("texts")
def text_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    max_length=None,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    format="tf",
    verbose=True,
):
    """Generates a dataset of text batches from a directory with one subdirectory per class.

    With ``main_directory/class_a/*.txt`` and ``main_directory/class_b/*.txt``, the dataset yields batches
    of texts with labels 0 (``class_a``) and 1 (``class_b``). Only ``.txt`` files are read.

    Args:
        {{labels_args}}
        batch_size: texts per batch (default 32); ``None`` yields single texts.
        max_length: keep only the first ``max_length`` bytes of each text (``None``: whole files).
        shuffle: shuffle the files (else alphanumeric order) and reshuffle every epoch.
        {{split_args}}
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
    labels, label_mode = check_labels_args(labels, label_mode, class_names, "text")
    check_format_arg(format)
    if max_length is not None and (
        not isinstance(max_length, (int, np.integer)) or isinstance(max_length, bool) or max_length < 0
    ):
        raise ValueError(
            "Invalid value for argument `max_length`. Expected None or a non-negative integer. "
            f"Received: max_length={max_length!r}"
        )

    return dataset_from_directory(TextDirectoryDataset, {"max_length": max_length}, **directory_arguments(locals()))


__all__ = ["text_dataset_from_directory", "TextDirectoryDataset"]
