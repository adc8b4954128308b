"""strided in a real Jupyter kernel (nbclient): progress bar, summary, figures shown once, interrupting fit."""

import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

from test_notebooks import run_notebook  # noqa: E402  (same kernel set-up as the lesson notebooks)

SETUP = """
import time
import numpy as np
import strided as keras
from strided import layers, visualize

rng = np.random.default_rng(0)
x = rng.random((64, 8, 8, 1)).astype("float32")
y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("int64")

def make_model():
    model = keras.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(4, 3, name="conv"),
                              layers.Flatten(name="flat"), layers.Dense(2, activation="softmax", name="out")],
                             name="tiny")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

class Slow(keras.callbacks.Callback):  # steps long enough for the bar to redraw within an epoch
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.06)

model = make_model()
"""

FIT = "history = model.fit(x, y, batch_size=16, epochs=3, callbacks=[Slow()])"
SUMMARY = "model.summary()"
PLOT_VALUE = "visualize.plot_history(history)"
PLOT_ASSIGNED = "fig = visualize.plot_history(history)"
PLOT_LATER = "fig"
PLOT_SHOW = "import matplotlib.pyplot as plt\nvisualize.plot_filters(model.get_layer('conv'));\nplt.show()"

LONG_FIT = """
class Snapshot(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        self.weights = [w.copy() for w in self.model.get_weights()]
        self.steps = getattr(self, "steps", 0) + 1

class SlowConstraint(keras.constraints.Constraint):
    # Applied inside the training step, after the optimizer's update: the interrupt nearly always lands here,
    # where stopping at once would leave weights that no completed step produced.
    def __call__(self, w):
        time.sleep(0.02)
        return w

snap = Snapshot()
interrupted = keras.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(4, 3), layers.Flatten(),
                                layers.Dense(2, activation="softmax", kernel_constraint=SlowConstraint())])
interrupted.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
interrupted.fit(x, y, batch_size=8, epochs=100000, callbacks=[snap])
"""

AFTER = """
epochs_done = len(interrupted.history.epoch)
assert epochs_done >= 1, epochs_done  # the interrupt came after a few seconds of training
assert len(interrupted.history.history["loss"]) == epochs_done
assert snap.steps >= 8 * epochs_done
for now, last in zip(interrupted.get_weights(), snap.weights):
    np.testing.assert_array_equal(now, last)  # the last completed step's weights, not a half update
assert interrupted.predict(x[:4], verbose=0).shape == (4, 2)
interrupted.fit(x, y, batch_size=8, epochs=1, verbose=0)  # and it trains on
print("interrupted after", epochs_done, "epochs and", snap.steps, "steps")
"""


def _render(text):
    """What a terminal (or Jupyter's output area) shows for text with carriage returns."""
    return [line.rsplit("\r", 1)[-1] for line in text.split("\n")]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    cells = [SETUP, FIT, SUMMARY, PLOT_VALUE, PLOT_ASSIGNED, PLOT_LATER, PLOT_SHOW, LONG_FIT, AFTER]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.strip()) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # Jupyter's "interrupt kernel" (SIGINT to the kernel) once the long fit has run for a few seconds.
    nb.cells[7].metadata["interrupt_after_s"] = 6
    nb.cells[7].metadata["tags"] = ["raises-exception"]
    path = tmp_path_factory.mktemp("nb") / "jupyter_behaviour.ipynb"
    nbformat.write(nb, path)
    return run_notebook(
        path,
        timeout=120,
        interrupt_on_timeout=True,
        timeout_func=lambda cell: cell.metadata.get("interrupt_after_s", 120),
    ).cells


def _stdout(cell):
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def _images(cell):
    return [o for o in cell.outputs if "image/png" in o.get("data", {})]


def test_progress_bar_redraws_in_place_and_leaves_one_line_per_epoch(executed):
    text = _stdout(executed[1])
    # each epoch's line is drawn during the epoch (an "ETA" state) and redrawn in place (\r) when it ends
    assert text.count("\r") >= 3 * 2 and text.count("ETA") >= 3, "the bar is redrawn within each epoch"
    shown = [line for line in _render(text) if line.strip()]
    assert len(shown) == 6, shown
    for epoch in range(3):
        assert shown[2 * epoch] == f"Epoch {epoch + 1}/3"
        assert re.fullmatch(
            r"4/4 \[=+\] - \d+s \d+m?s/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} *", shown[2 * epoch + 1]
        ), shown[2 * epoch + 1]


def test_summary_prints_as_in_a_terminal(executed):
    import strided as keras
    from strided import layers

    model = keras.Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(4, 3, name="conv"),
            layers.Flatten(name="flat"),
            layers.Dense(2, activation="softmax", name="out"),
        ],
        name="tiny",
    )
    lines = []
    model.summary(print_fn=lines.append)
    cell = executed[2]
    # plain text on stdout (possibly in several stream messages), no HTML or rich markup
    assert cell.outputs and {(o.output_type, o.get("name")) for o in cell.outputs} == {("stream", "stdout")}
    assert _stdout(cell).rstrip("\n").split("\n") == "\n".join(lines).split("\n")


def test_figures_are_shown_once(executed):
    assert len(_images(executed[3])) == 1  # the figure as the cell's value
    assert len(_images(executed[4])) == 1  # assigned: drawn by the inline backend
    assert len(_images(executed[5])) == 1  # shown again later as a value
    assert len(_images(executed[6])) == 1  # `;` and plt.show()
    assert not [o for o in executed[3].outputs if o.output_type == "execute_result"]


def test_interrupted_fit_keeps_last_step_weights_and_history(executed):
    errors = [o for o in executed[7].outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["KeyboardInterrupt"]
    assert "interrupted after" in _stdout(executed[8])  # the checks in the kernel passed
