"""BackupAndRestore: backs training state up each epoch and resumes an interrupted `fit` from it."""

import os
import warnings

import numpy as np
import torch

from strided.callbacks.callback import Callback
from strided.utils import validation
from strided.utils import tree
from strided.distribution import distribution_lib as distribute
from strided.utils.file_utils import atomic_path


def _optimizer_state(optimizer):
    if optimizer is None:
        return None
    if hasattr(optimizer, "state_dict"):
        # NumPy arrays become tensors: the backup is read back with torch.load(weights_only=True),
        # which loads tensors and plain containers only (never arbitrary pickled objects).
        return tree.map_structure(
            lambda v: torch.from_numpy(np.array(v)) if isinstance(v, (np.ndarray, np.generic)) else v,
            optimizer.state_dict(),
        )
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


class BackupError(ValueError):
    """A file in a ``BackupAndRestore`` directory that strided did not write (nothing of it was loaded)."""


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
        validation.path(backup_dir, "backup_dir")
        if (
            save_freq != "epoch"
            and save_freq is not False
            and (not isinstance(save_freq, int) or isinstance(save_freq, bool) or save_freq <= 0)
        ):
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._state_path = os.path.join(self.backup_dir, "latest.pt")
        self._prev_state_path = os.path.join(self.backup_dir, "previous.pt")
        self._current_epoch = 0
        self._batches_seen = 0

    def _read_backup(self, path):
        """The state saved by ``_save``; anything else (a foreign or hostile file) is refused unread.

        ``weights_only=True`` makes torch's unpickler refuse every global outside plain tensors and
        containers, so no code from the file runs; the structure is then checked before any of it is used.
        """
        try:
            with warnings.catch_warnings():  # torch warns about a foreign pickle protocol before refusing it
                warnings.simplefilter("ignore")
                state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # torch's UnpicklingError, a truncated/zip error, ...
            raise BackupError(
                f"BackupAndRestore: the file {path!r} in backup_dir={self.backup_dir!r} is not a strided backup "
                f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}). Nothing was loaded. Remove "
                "the file, or pass another `backup_dir`."
            ) from None
        ok = (
            isinstance(state, dict)
            and isinstance(state.get("weights"), (list, tuple))
            and all(torch.is_tensor(w) for w in state["weights"])
            and isinstance(state.get("epoch"), int)
            and not isinstance(state.get("epoch"), bool)
            and state["epoch"] >= 0
        )
        if not ok:
            raise BackupError(
                f"BackupAndRestore: the file {path!r} in backup_dir={self.backup_dir!r} is not a strided backup "
                "(it lacks the weights list and epoch strided writes). Nothing was loaded. Remove the file, or "
                "pass another `backup_dir`."
            )
        return state

    def on_train_begin(self, logs=None):
        path = self._state_path
        if not os.path.exists(path):
            return
        try:
            state = self._read_backup(path)
        except BackupError:
            if not os.path.exists(self._prev_state_path):
                raise
            state = self._read_backup(self._prev_state_path)
        if not getattr(self.model, "built", True):
            raise ValueError(
                "To use the BackupAndRestore callback, your model must be built before you call "
                f"`fit()`. Model {self.model} is unbuilt. You can build it beforehand by calling it "
                "on a batch of data."
            )
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
            "weights": [
                torch.from_numpy(np.ascontiguousarray(w).reshape(np.shape(w))) for w in self.model.get_weights()
            ],
            "optimizer": _optimizer_state(getattr(self.model, "optimizer", None)),
            "epoch": self._current_epoch,
        }
        if self.double_checkpoint and os.path.exists(self._state_path):
            os.replace(self._state_path, self._prev_state_path)
        with atomic_path(self._state_path) as tmp:
            torch.save(state, tmp)
