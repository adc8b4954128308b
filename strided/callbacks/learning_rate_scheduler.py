"""LearningRateScheduler: sets the learning rate from a schedule at the start of each epoch."""

import numpy as np
import torch

from strided.callbacks.callback import Callback


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of each epoch.

    Args:
        schedule: function `(epoch, lr) -> new_lr` (or `(epoch) -> new_lr`),
            epoch counted from 0.
        verbose: 1 prints the new rate each epoch.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                "Invalid type for argument `schedule`. Expected a function `(epoch, lr) -> new_lr`. "
                f"Received schedule={schedule!r} of type {type(schedule).__name__}."
            )
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
            raise ValueError(f'The output of the "schedule" function should be a float. Got: {learning_rate}')
        optimizer.learning_rate = float(learning_rate)
        return float(learning_rate)

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):  # a MultiOptimizer: the schedule applies to each inner optimizer
            for opt in optimizer.optimizers:
                learning_rate = self._update_optimizer_lr(opt, epoch)
                if self.verbose > 0:
                    print(
                        f"\nEpoch {epoch + 1}: LearningRateScheduler setting {opt.name} learning rate to "
                        f"{learning_rate}."
                    )
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
