"""EarlyStopping: stops training when a monitored metric has stopped improving."""

from strided.callbacks.monitor_callback import MonitorCallback
from strided.utils import validation


class EarlyStopping(MonitorCallback):
    """Stops training when a monitored value has stopped improving.

    Args:
        monitor: quantity to be monitored. Defaults to `"val_loss"`.
        min_delta: minimum change that counts as an improvement. Defaults to 0.
        patience: number of epochs with no improvement after which training stops.
        verbose: 1 prints a message when stopping/restoring.
        mode: `"auto"`, `"min"` or `"max"`.
        baseline: training stops if the model does not beat this value.
        restore_best_weights: restore the weights of the best epoch when training
            ends (whether or not it stopped early). If no epoch beats `baseline`,
            the weights of the first monitored epoch are restored.
        start_from_epoch: number of warm-up epochs before improvement is checked.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__(monitor, mode, baseline=baseline, min_delta=min_delta)
        self.best = None
        self.patience = validation.positive_int(patience, "patience", allow_zero=True)
        self.verbose = verbose
        self.baseline = baseline
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.best_epoch = 0
        self.start_from_epoch = validation.positive_int(start_from_epoch, "start_from_epoch", allow_zero=True)

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        self._check_monitor_available(logs)
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # The wait restarts only when both the baseline and the previous best are beaten.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        return self._logged_value(logs or {}, "Early stopping")
