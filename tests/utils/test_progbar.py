"""Progress bar: the tf.keras line format of the seeds, throttling, averaging, verbose modes."""

import io
import re

import pytest

from strided.utils.progbar import Progbar, format_time

SEED_LINE = re.compile(r"^(\d+)/(\d+) \[(=+)\] - \d+s \d+(s|ms|us)/step - loss: \d+\.\d{4} - acc: \d+\.\d{4}$")


class TTY(io.StringIO):
    def isatty(self):
        return True


def test_final_line_matches_seed_format():
    out = io.StringIO()  # not a TTY: only the final line is written
    bar = Progbar(1875, stream=out, stateful_metrics=["loss", "acc"])
    for step in range(1, 1876):
        bar.update(step, [("loss", 0.4523), ("acc", 0.8660)])
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    line = text.strip()
    m = SEED_LINE.match(line)
    assert m, line
    assert m.group(1) == m.group(2) == "1875" and len(m.group(3)) == 30
    assert line.endswith("- loss: 0.4523 - acc: 0.8660")


def test_partial_bar_on_tty_uses_carriage_return_and_arrow():
    out = TTY()
    bar = Progbar(10, stream=out, interval=0)
    bar.update(5, [("loss", 1.0)])
    text = out.getvalue()
    assert text.startswith("\r 5/10 [")
    inner = text.split("[")[1].split("]")[0]
    assert inner == "=" * 14 + ">" + "." * 15
    assert "ETA:" in text and not text.endswith("\n")


def test_non_stateful_values_are_step_weighted_means():
    out = TTY()
    bar = Progbar(4, stream=out, interval=0)
    bar.update(1, [("a", 1.0)])
    bar.update(3, [("a", 3.0)])  # covers steps 2-3: weight 2
    bar.update(4, [("a", 0.0)], finalize=True)
    last = out.getvalue().split("\r")[-1]
    assert f"a: {(1 * 1 + 3 * 2 + 0) / 4:.4f}" in last


def test_small_values_use_scientific_notation_and_throttle():
    out = TTY()
    bar = Progbar(100, stream=out, interval=10.0, stateful_metrics=["loss"])
    bar.update(1, [("loss", 0.0001234)])
    for i in range(2, 100):
        bar.update(i, [("loss", 0.0001234)])
    assert out.getvalue().count("\r") == 1  # throttled: one draw for 99 updates
    bar.update(100, [("loss", 0.0001234)])
    assert "loss: 1.2340e-04" in out.getvalue()


def test_verbose_2_single_line_and_verbose_0_silent():
    out = io.StringIO()
    bar = Progbar(3, stream=out, verbose=2, stateful_metrics=["loss"])
    for i in range(1, 4):
        bar.update(i, [("loss", 0.5)])
    line = out.getvalue().strip()
    assert re.match(r"^3/3 - \d+s - loss: 0\.5000 - \d+(s|ms|us)/epoch - \d+(s|ms|us)/step$", line), line
    out0 = io.StringIO()
    bar = Progbar(3, stream=out0, verbose=0)
    for i in range(1, 4):
        bar.update(i, [("loss", 0.5)])
    assert out0.getvalue() == ""


@pytest.mark.parametrize(
    "seconds,text", [(2.4, " 2s/step"), (0.04, " 40ms/step"), (2e-5, " 20us/step"), (0, " 0s/step")]
)
def test_format_time(seconds, text):
    assert format_time(seconds, "step") == text
