"""TensorBoard logging through the `tensorboard` package's event writer (no TensorFlow)."""

import os

import numpy as np

from strided.callbacks.callback import Callback
from strided.utils.optional import optional_import


def _summary_writer(logdir):
    writers = optional_import("torch.utils.tensorboard", "The TensorBoard callback", package="tensorboard")
    return writers.SummaryWriter(log_dir=logdir)


class TensorBoard(Callback):
    """Writes epoch (and optionally batch) metrics and weight histograms for TensorBoard.

    Scalars follow Keras's naming: `epoch_loss`, `epoch_accuracy`... under
    `log_dir/train` and `log_dir/validation`.

    Args:
        log_dir: directory for the event files.
        histogram_freq: epochs between weight histograms (0: none).
        write_graph, write_images, embeddings_freq...: accepted for Keras
            compatibility (no graph/embedding plugin is written).
        update_freq: `"epoch"` or an integer: write `batch_*` scalars every
            that many batches.
    """

    _writes_files = True  # under data parallelism only rank 0 keeps it

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers = {}
        self._global_train_batch = 0
        self._previous_epoch_iterations = 0

    def _writer(self, name):
        if name not in self._writers:
            self._writers[name] = _summary_writer(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        self._writer("train")

    def on_train_batch_end(self, batch, logs=None):
        self._global_train_batch += 1
        if self.update_freq == "epoch" or not isinstance(self.update_freq, int):
            return
        if self._global_train_batch % self.update_freq == 0:
            writer = self._writer("train")
            for key, value in dict(logs or {}).items():
                writer.add_scalar("batch_" + key, float(value), self._global_train_batch)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        for name, values in (("train", train), ("validation", val)):
            if not values:
                continue
            writer = self._writer(name)
            for key, value in values.items():
                writer.add_scalar("epoch_" + key, float(value), epoch)
            writer.flush()
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for name, w in _named_weights(self.model):
                writer.add_histogram(name, np.asarray(w.detach().float().cpu()), epoch)
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def _named_weights(model):
    """(``layer/weight`` name, tensor) pairs, Keras's histogram tags (``conv2d/kernel``)."""
    out, seen = [], set()
    for layer in getattr(model, "layers", None) or []:
        for w in getattr(layer, "weights", None) or []:
            if id(w) not in seen:
                seen.add(id(w))
                out.append((f"{layer.name}/{getattr(w, '_keras_name', 'variable')}", w))
    for i, w in enumerate(getattr(model, "weights", None) or []):
        if id(w) not in seen:
            out.append((f"weight_{i}", w))
    return out
