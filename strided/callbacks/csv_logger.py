"""CSVLogger: streams epoch results to a CSV file."""

import collections
import csv
import os

import numpy as np

from strided.callbacks.callback import Callback
from strided.utils import validation


class CSVLogger(Callback):
    """Streams epoch results to a CSV file (`epoch` column, then the logged names sorted).

    Args:
        filename: path of the CSV file.
        separator: string used to separate elements in the CSV file.
        append: `True` appends if the file exists (continuing training),
            `False` overwrites it.
    """

    _writes_files = True  # under data parallelism only rank 0 keeps it

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(separator, str):
            raise TypeError(
                f"Invalid type for argument `separator`. Expected a string. "
                f"Received separator={separator!r} of type {type(separator).__name__}."
            )
        self.sep = separator
        self.filename = validation.path(filename, "filename")
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        self.writer = None
        self.keys = None
        self.csv_file = open(self.filename, mode, newline="")

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})

        def handle_value(k):
            is_zero_dim = isinstance(k, np.ndarray) and k.ndim == 0
            if isinstance(k, str):
                return k
            if isinstance(k, collections.abc.Iterable) and not is_zero_dim:
                return f'"[{", ".join(map(str, k))}]"'
            return k

        if self.keys is None:
            self.keys = sorted(logs.keys())
            # Keras reserves `val_` columns when the first epoch has none (validation_freq > 1).
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])
        if self.writer is None:
            fieldnames = ["epoch"] + self.keys
            self.writer = csv.DictWriter(self.csv_file, fieldnames=fieldnames, delimiter=self.sep, lineterminator="\n")
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, handle_value(logs[key]) if key in logs else "NA") for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
            self.csv_file = None
        self.writer = None
