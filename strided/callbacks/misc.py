"""CSVLogger, TerminateOnNaN, LearningRateScheduler, BackupAndRestore."""
import collections
import csv
import json
import os

import numpy as np
import torch

from strided import distribute
from strided.callbacks.callback import Callback
from strided.utils import tree


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
        self.sep = separator
        self.filename = os.fspath(filename)
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
                return f"\"[{', '.join(map(str, k))}]\""
            return k

        if self.keys is None:
            self.keys = sorted(logs.keys())
            # Keras reserves `val_` columns when the first epoch has none (validation_freq > 1).
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])
        if self.writer is None:
            fieldnames = ["epoch"] + self.keys
            self.writer = csv.DictWriter(self.csv_file, fieldnames=fieldnames, delimiter=self.sep,
                                         lineterminator="\n")
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


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite, keeping the last good weights.

    The weights that produced the last finite loss are kept on the device and put back
    when a NaN/inf loss appears, so the model is usable after the run. This reads the
    loss every batch (one device synchronisation per step).
    """

    def __init__(self):
        super().__init__()
        self._before = None  # weights at the start of the current batch
        self._good = None  # weights that gave the last finite loss

    def on_train_begin(self, logs=None):
        self._before = None
        self._good = None

    def _snapshot(self, into):
        weights = list(getattr(self.model, "weights", None) or [])
        with torch.no_grad():
            if into is None or len(into) != len(weights):
                return [w.detach().clone() for w in weights]
            for buf, w in zip(into, weights):
                buf.copy_(w)
            return into

    def on_train_batch_begin(self, batch, logs=None):
        # Reuse the buffer that is no longer the last-good one, so no allocation per step.
        self._before = self._snapshot(self._before)

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is None:
            return
        loss = float(loss)
        if np.isnan(loss) or np.isinf(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
            if self._good is not None:
                with torch.no_grad():
                    for w, buf in zip(self.model.weights, self._good):
                        w.copy_(buf)
        else:
            self._good, self._before = self._before, self._good


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of each epoch.

    Args:
        schedule: function `(epoch, lr) -> new_lr` (or `(epoch) -> new_lr`),
            epoch counted from 0.
        verbose: 1 prints the new rate each epoch.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:  # a schedule taking only the epoch
            learning_rate = self.schedule(epoch)
        if torch.is_tensor(learning_rate) or isinstance(learning_rate, np.ndarray):
            learning_rate = float(learning_rate)
        if not isinstance(learning_rate, (float, int, np.floating, np.integer)) or isinstance(learning_rate, bool):
            raise ValueError('The output of the "schedule" function should be a float. '
                             f"Got: {learning_rate}")
        optimizer.learning_rate = float(learning_rate)
        return float(learning_rate)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):  # a MultiOptimizer: the schedule applies to each inner optimizer
            for opt in optimizer.optimizers:
                learning_rate = self._update_optimizer_lr(opt, epoch)
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting {opt.name} learning rate to "
                          f"{learning_rate}.")
            return
        learning_rate = self._update_optimizer_lr(optimizer, epoch)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            _log_learning_rates(self.model.optimizer, logs)


def _log_learning_rates(optimizer, logs):
    """Keras: ``learning_rate`` in the logs, or ``learning_rate_<name>`` for each of a MultiOptimizer's."""
    if hasattr(optimizer, "optimizers"):
        for opt in optimizer.optimizers:
            logs[f"learning_rate_{opt.name}"] = float(opt.learning_rate)
    else:
        logs["learning_rate"] = float(optimizer.learning_rate)


def _optimizer_state(optimizer):
    if optimizer is None:
        return None
    if hasattr(optimizer, "state_dict"):
        # NumPy arrays become tensors: the backup is read back with torch.load(weights_only=True),
        # which loads tensors and plain containers only (never arbitrary pickled objects).
        return tree.map_structure(lambda v: torch.from_numpy(np.array(v)) if isinstance(v, (np.ndarray, np.generic))
                                  else v, optimizer.state_dict())
    variables = getattr(optimizer, "variables", None)
    if variables is not None:
        return {"variables": [torch.as_tensor(v).detach().cpu().clone() for v in variables]}
    return None


def _load_optimizer_state(optimizer, state):
    if optimizer is None or state is None:
        return
    if hasattr(optimizer, "load_state_dict"):
        optimizer.load_state_dict(tree.map_structure(lambda v: v.numpy() if isinstance(v, torch.Tensor) else v, state))
        return
    variables = getattr(optimizer, "variables", None)
    if variables is not None and "variables" in state:
        with torch.no_grad():
            for var, value in zip(variables, state["variables"]):
                var.copy_(value.to(var.device))


class BackupAndRestore(Callback):
    """Backs up the training state so that an interrupted `fit` resumes where it stopped.

    At the end of each epoch (or every `save_freq` batches) the model weights, the
    optimizer state and the epoch are written to `backup_dir` atomically (temp file,
    then `os.replace`). When `fit` starts and a backup exists, it is restored and
    training continues from the epoch after the saved one. The backup is deleted
    when `fit` completes.

    Args:
        backup_dir: directory for the backup.
        save_freq: `"epoch"`, an integer number of batches, or `False`.
        delete_checkpoint: delete the backup when training completes.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError(f"Empty `backup_dir` argument passed. Received: backup_dir={backup_dir!r}")
        if save_freq != "epoch" and save_freq is not False and (
                not isinstance(save_freq, int) or isinstance(save_freq, bool) or save_freq <= 0):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                             "Expected either 'epoch' or an integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._state_path = os.path.join(self.backup_dir, "latest.pt")
        self._prev_state_path = os.path.join(self.backup_dir, "previous.pt")
        self._current_epoch = 0
        self._batches_seen = 0

    def on_train_begin(self, logs=None):
        path = self._state_path
        if not os.path.exists(path):
            return
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:
            if not os.path.exists(self._prev_state_path):
                raise
            state = torch.load(self._prev_state_path, map_location="cpu", weights_only=True)
        if not getattr(self.model, "built", True):
            raise ValueError("To use the BackupAndRestore callback, your model must be built before you call "
                             f"`fit()`. Model {self.model} is unbuilt. You can build it beforehand by calling it "
                             "on a batch of data.")
        self.model.set_weights([w.numpy() for w in state["weights"]])
        optimizer = getattr(self.model, "optimizer", None)
        if state.get("optimizer") is not None and optimizer is not None:
            if hasattr(optimizer, "build") and not getattr(optimizer, "built", True):
                optimizer.build(self.model.trainable_weights)
            _load_optimizer_state(optimizer, state["optimizer"])
        self._current_epoch = int(state["epoch"])
        self.model._initial_epoch = self._current_epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, int) and not isinstance(self.save_freq, bool):
            self._batches_seen += 1
            if self._batches_seen % self.save_freq == 0:
                self._save()

    def on_train_end(self, logs=None):
        # Only a completed fit reaches here; an exception skips it and leaves the backup.
        if self.delete_checkpoint and distribute.is_chief():
            for path in (self._state_path, self._prev_state_path):
                if os.path.exists(path):
                    os.remove(path)
            try:
                os.rmdir(self.backup_dir)
            except OSError:
                pass

    def _save(self):
        if not distribute.is_chief():  # every rank restores; rank 0 alone writes
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        state = {
            "weights": [torch.from_numpy(np.ascontiguousarray(w).reshape(np.shape(w))) for w in self.model.get_weights()],
            "optimizer": _optimizer_state(getattr(self.model, "optimizer", None)),
            "epoch": self._current_epoch,
        }
        if self.double_checkpoint and os.path.exists(self._state_path):
            os.replace(self._state_path, self._prev_state_path)
        tmp = self._state_path + ".tmp"
        torch.save(state, tmp)
        os.replace(tmp, self._state_path)
