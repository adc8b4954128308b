"""ReduceLROnPlateau: reduces the learning rate when a metric has stopped improving."""

import numpy as np

from strided.callbacks.monitor_callback import MonitorCallback
from strided.utils import validation


class ReduceLROnPlateau(MonitorCallback):
    """Reduces the learning rate when a metric has stopped improving.

    Args:
        monitor: quantity to be monitored.
        factor: factor by which the learning rate is reduced, `new_lr = lr * factor` (< 1).
        patience: epochs with no improvement after which the rate is reduced.
        verbose: 1 prints a message on each reduction.
        mode: `"auto"`, `"min"` or `"max"`.
        min_delta: threshold for measuring a new optimum.
        cooldown: epochs to wait after a reduction before resuming normal operation.
        min_lr: lower bound on the learning rate.
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        if "epsilon" in kwargs:  # tf.keras 1/2 spelling
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword arguments: {sorted(kwargs)}")
        super().__init__(monitor, mode, min_delta=min_delta)
        validation.number(factor, "factor")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.factor = validation.number(factor, "factor", low=0.0)
        self.min_lr = validation.number(min_lr, "min_lr", low=0.0)
        self.patience = validation.positive_int(patience, "patience", allow_zero=True)
        self.verbose = verbose
        self.cooldown = validation.positive_int(cooldown, "cooldown", allow_zero=True)
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self):
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self.monitor_op = lambda a, b: np.less(a, b - abs(self.min_delta))
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + abs(self.min_delta))
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        if self.monitor_op is None:
            self._reset()
        if not self.monitor.startswith("learning_rate"):  # the learning rate is logged below
            self._check_monitor_available(logs)
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):  # a MultiOptimizer: log and reduce each inner optimizer's rate
            for opt in optimizer.optimizers:
                logs[f"learning_rate_{opt.name}"] = float(opt.learning_rate)
        else:
            logs["learning_rate"] = float(optimizer.learning_rate)
        current = self._logged_value(logs, "Learning rate reduction is")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                inner = optimizer.optimizers if hasattr(optimizer, "optimizers") else None
                reduced = False
                for opt in inner if inner is not None else [optimizer]:
                    reduced = self._reduce_optimizer_lr(opt, epoch, opt.name if inner is not None else "") or reduced
                if reduced:
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def _reduce_optimizer_lr(self, optimizer, epoch, name=""):
        old_lr = float(optimizer.learning_rate)
        if old_lr > np.float32(self.min_lr):
            new_lr = max(old_lr * self.factor, self.min_lr)
            optimizer.learning_rate = new_lr
            if self.verbose > 0:
                name = f" {name}" if name else ""
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{name} learning rate to {new_lr}.")
            return True
        return False
