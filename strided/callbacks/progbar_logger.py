"""The callback that prints `Epoch 1/5` and the progress bar."""

import time

from strided.callbacks.callback import Callback
from strided.utils.progbar import Progbar


class ProgbarLogger(Callback):
    """Prints metrics to stdout: a live bar (verbose=1) or one line per epoch (verbose=2).

    Added automatically by `fit`, `evaluate` and `predict` when `verbose` is not 0.
    Batch logs are read only when the bar is redrawn (a few times a second on a
    terminal, once per epoch in a log file), so the device is not synchronised per step.
    """

    def __init__(self, count_mode="steps", interval=0.2):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self.interval = interval
        self._called_in_fit = False

    def set_params(self, params):
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None:
            # Every value the trainer logs is already a running mean, so none is re-averaged here.
            self.progbar = _StatefulProgbar(
                target=self.target, verbose=self.verbose, interval=self.interval, unit_name="step"
            )

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def _update_progbar(self, batch, logs):
        self._maybe_init_progbar()
        self.seen = batch + 1
        if self.verbose != 1:
            return
        if not self.progbar.would_draw(self.seen):
            self.progbar.note_progress(self.seen)
            return
        self.progbar.update(self.seen, dict(logs or {}), finalize=False)

    def _finalize_progbar(self, logs):
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.seen
        self.progbar.update(self.target, dict(logs or {}), finalize=True)


class _StatefulProgbar(Progbar):
    """Progbar that shows every value as given and says, before logs are read, whether it will draw."""

    def update(self, current, values=None, finalize=None):
        values = list(values.items()) if isinstance(values, dict) else (values or [])
        self.stateful_metrics.update(name for name, _ in values)
        super().update(current, values, finalize)

    def would_draw(self, current):
        return self._dynamic_display and (time.time() - self._last_update) >= self.interval

    def note_progress(self, current):
        self._seen_so_far = current
