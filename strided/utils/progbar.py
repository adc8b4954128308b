"""Progress bar in the tf.keras format that the seed notebooks show.

    Epoch 1/5
    1875/1875 [==============================] - 3s 2ms/step - loss: 0.4523 - acc: 0.8660

On a terminal the line is redrawn in place (``\\r``); in a notebook log or a pipe only the final
line of each epoch is written, so logs stay readable.
"""

import logging
import os
import sys
import time

import numpy as np

from strided.utils import general_utils


def _in_jupyter_kernel():
    """True inside a Jupyter (ipykernel) kernel; a process that merely imported ipykernel (e.g. one that starts
    kernels through jupyter_client) is not one."""
    if "ipykernel" not in sys.modules:
        return False
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return getattr(shell, "kernel", None) is not None


def _is_dynamic(stream):
    # Jupyter kernels redraw `\r` fine even though their streams are not TTYs.
    if _in_jupyter_kernel():
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed stream
        return False


def _format_value(value):
    if isinstance(value, (str, bytes)):
        return f" {value}"
    avg = float(np.mean(value))
    return f" {avg:.4f}" if abs(avg) > 1e-3 else f" {avg:.4e}"


def format_time(seconds, unit_name):
    """' 2ms/step' style duration per unit, as tf.keras prints it."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


class Progbar:
    """Displays a progress bar.

    Args:
        target: Total number of steps expected, `None` if unknown.
        width: Progress bar width on screen.
        verbose: Verbosity mode, 0 (silent), 1 (bar), 2 (one line when done).
        interval: Minimum visual progress update interval (in seconds).
        stateful_metrics: Names of metrics whose values are shown as given
            rather than averaged over steps (the trainer passes all of its
            metrics here, since they already are running averages).
        unit_name: Display name for step counts (usually "step" or "sample").
        stream: where to write (default `sys.stdout`, looked up at each write
            so that captured output works).
    """

    def __init__(
        self, target, width=30, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step", stream=None
    ):
        self.target = None if target is None else int(target)
        self.width = int(width)
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self._stream = stream
        self._dynamic_display = _is_dynamic(self.stream) or "STRIDED_PROGBAR_DYNAMIC" in os.environ
        self._total_width = 0
        self._seen_so_far = 0
        self._values = {}
        self._values_order = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_at_epoch_start = self._start
        self._time_after_first_step = None

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    def _write(self, message):
        if not general_utils.is_interactive_logging_enabled():
            # disable_interactive_logging(): finished lines go to the "strided" logger, not the stream
            text = message.replace("\r", "").rstrip("\n")
            if message.endswith("\n") and text.strip():
                logging.getLogger("strided").info(text)
            return
        stream = self.stream
        stream.write(message)
        stream.flush()

    def update(self, current, values=None, finalize=None):
        """Updates the progress bar.

        Args:
            current: Index of current step.
            values: List of tuples `(name, value)` or a dict. Stateful metrics
                are shown as given, others are averaged over the steps seen.
            finalize: Whether this is the last update; defaults to
                `current >= self.target`.
        """
        if finalize is None:
            finalize = False if self.target is None else current >= self.target
        values = list(values.items()) if isinstance(values, dict) else (values or [])
        for name, value in values:
            if name not in self._values_order:
                self._values_order.append(name)
            if name in self.stateful_metrics or isinstance(value, (str, bytes)):
                self._values[name] = [value, 1]
            else:
                # Weight by the steps since the last update so that the shown value is a per-step mean.
                base = max(current - self._seen_so_far, 1)
                total, count = self._values.get(name, [0.0, 0])
                self._values[name] = [total + float(np.mean(value)) * base, count + base]
        self._seen_so_far = current

        now = time.time()
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            if not self._dynamic_display and not finalize:
                # Logs and notebooks without `\r`: only the final line of the epoch.
                self._last_update = now
                return
            message = ""
            prev_total_width = self._total_width
            if self._dynamic_display:
                message += "\r"
            bar = self._bar(current)
            self._total_width = len(bar)
            info = self._time_info(current, now, finalize)
            info += self._metrics_info()
            self._total_width += len(info)
            if prev_total_width > self._total_width:
                info += " " * (prev_total_width - self._total_width)
            if finalize:
                info += "\n"
            self._write(message + bar + info)
        elif self.verbose == 2 and finalize:
            if self.target is not None:
                digits = len(str(self.target))
                count = f"{current:>{digits}d}/{self.target}"
            else:
                count = f"{current}"
            elapsed = now - self._time_at_epoch_start
            info = count + f" - {elapsed:.0f}s" + self._metrics_info()
            steps = max(current, 1)
            info += " -" + format_time(elapsed, "epoch") + " -" + format_time(elapsed / steps, self.unit_name)
            self._write(info + "\n")
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    def _bar(self, current):
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = len(str(self.target))
        bar = f"{current:>{digits}d}/{self.target} ["
        progress = min(float(current) / max(self.target, 1), 1.0)
        filled = int(self.width * progress)
        if filled > 0:
            bar += "=" * (filled - 1)
            bar += ">" if current < self.target else "="
        bar += "." * (self.width - filled)
        return bar + "]"

    def _time_info(self, current, now, finalize):
        elapsed = now - self._start
        per_step = self._estimate_step_duration(current, now)
        if self.target is None or finalize:
            return f" - {elapsed:.0f}s" + format_time(per_step, self.unit_name)
        eta = per_step * (self.target - current)
        if eta > 3600:
            eta_text = f"{int(eta // 3600)}:{int((eta % 3600) // 60):02d}:{int(eta % 60):02d}"
        elif eta > 60:
            eta_text = f"{int(eta // 60)}:{int(eta % 60):02d}"
        else:
            eta_text = f"{eta:.0f}s"
        return f" - ETA: {eta_text}"

    def _metrics_info(self):
        info = ""
        for name in self._values_order:
            total, count = self._values[name]
            if name in self.stateful_metrics or isinstance(total, (str, bytes)):
                info += f" - {name}:" + _format_value(total)
            else:
                info += f" - {name}:" + _format_value(total / max(count, 1))
        return info

    def _estimate_step_duration(self, current, now):
        # The first step includes warm-up (allocation, compilation), so later steps are timed from its end.
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            return (now - self._time_after_first_step) / (current - 1)
        if current == 1:
            self._time_after_first_step = now
        return (now - self._start) / current
