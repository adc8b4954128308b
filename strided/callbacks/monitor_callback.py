"""MonitorCallback: the base of callbacks that watch a metric (its mode and best value)."""

import warnings

import numpy as np

from strided.callbacks.callback import Callback
from strided.utils import validation


_MAX_HINTS = (
    "acc",
    "auc",
    "precision",
    "recall",
    "iou",
    "f1",
    "fbeta",
    "r2",
    "top_k",
    "true_positives",
    "true_negatives",
    "cosine_similarity",
)


_MIN_HINTS = (
    "loss",
    "error",
    "mse",
    "mae",
    "mape",
    "msle",
    "crossentropy",
    "hinge",
    "poisson",
    "kl_divergence",
    "kld",
    "logcosh",
    "false_positives",
    "false_negatives",
)


def metric_direction(monitor, model=None):
    """'min' or 'max' for a logged name (`val_` prefix ignored), or None if it cannot be told."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("_loss"):
        return "min"
    for metric in _flat_metrics(model):
        if getattr(metric, "name", None) == name:
            direction = getattr(metric, "_direction", None)
            if direction in ("up", "down"):
                return "max" if direction == "up" else "min"
    lowered = name.lower()
    if any(h in lowered for h in _MIN_HINTS):
        return "min"
    if any(h in lowered for h in _MAX_HINTS):
        return "max"
    return None


def _flat_metrics(model):
    out = []
    for m in getattr(model, "metrics", None) or []:
        inner = getattr(m, "metrics", None)
        if isinstance(inner, (list, tuple)):
            out.extend(inner)
        out.append(m)
    return out


class MonitorCallback(Callback):
    """Base class for callbacks that compare a monitored value to its best so far.

    Args:
        monitor: name of the logged value, e.g. `'val_loss'`.
        mode: `'auto'`, `'min'` or `'max'`.
        baseline: initial best value (`None`: the first value seen).
        min_delta: smallest change that counts as an improvement.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        # Keras warns and falls back to 'auto' for an unknown mode; a typo there silently flips what
        # counts as an improvement, so strided refuses it.
        mode = validation.one_of(mode, "mode", ("auto", "min", "max"), case_insensitive=False)
        if not isinstance(monitor, str):
            raise TypeError(
                f"Invalid type for argument `monitor`. Expected the name of a logged value (a string). "
                f"Received monitor={monitor!r} of type {type(monitor).__name__}."
            )
        self.monitor = monitor
        self.mode = mode
        self.best = validation.optional_number(baseline, self._baseline_name)
        self.min_delta = abs(validation.number(min_delta, "min_delta"))
        self.monitor_op = None
        self._monitor_checked = False

    _baseline_name = "baseline"  # the constructor argument that gives ``baseline`` (ModelCheckpoint: its own)

    def _check_monitor_available(self, logs):
        """Raises once the epoch's logs show the monitored name is not logged at all (Keras raises too).

        Runs at the end of the first epoch, the first moment the full set of logged names is known.
        """
        if self._monitor_checked or logs is None:
            return
        if self.monitor not in logs:
            available = sorted(logs)
            hint = ""
            if self.monitor.startswith("val_") and not any(k.startswith("val_") for k in available):
                hint = " No validation values are logged: pass `validation_data` or `validation_split` to `fit()`."
            raise ValueError(
                f"{self.__class__.__name__} callback received monitor={self.monitor!r}, but the "
                f"logs of the epoch have no such value. Available names: {available}.{hint}"
            )
        self._monitor_checked = True

    def _logged_value(self, logs, action):
        """The monitored value in ``logs``, or None with Keras's warning that ``action`` (e.g. 'Early stopping')
        is conditioned on a value the logs lack."""
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{action} conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}.",
                stacklevel=3,
            )
        return value

    def _set_monitor_op(self):
        mode = self.mode
        if mode == "auto":
            mode = metric_direction(self.monitor, self.model)
            if mode is None:
                raise ValueError(
                    f"{self.__class__.__name__} callback received monitor={self.monitor}, but strided isn't "
                    "able to automatically determine whether that metric should be maximized or minimized. "
                    "Pass `mode='max'` in order to monitor based on the highest metric value, or pass "
                    "`mode='min'` in order to use the lowest value."
                )
        self.monitor_op = np.less if mode == "min" else np.greater
        if mode == "min":
            self.min_delta = -abs(self.min_delta)
        else:
            self.min_delta = abs(self.min_delta)

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))
