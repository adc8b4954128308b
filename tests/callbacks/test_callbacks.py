"""Callback behaviour with the fake model: Keras semantics for each callback."""

import csv
import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "training"))  # _fake_model
from _fake_model import SGD, FakeModel  # noqa: E402

from strided import callbacks as cbs  # noqa: E402


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = ((x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)).astype("int64")
    return x, y


def _model(lr=0.3):
    m = FakeModel()
    m.compile(SGD(lr), "sparse_categorical_crossentropy", metrics=["acc"])
    return m


class Script(cbs.Callback):
    """Overwrites logs['loss'] at each epoch end with scripted values and records weights."""

    def __init__(self, values):
        super().__init__()
        self.values = values
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs["loss"] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def test_early_stopping_patience_and_restore_best_weights():
    x, y = _data()
    m = _model()
    script = Script([5.0, 4.0, 6.0, 7.0, 8.0, 9.0])
    es = cbs.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    h = m.fit(x, y, epochs=6, callbacks=[script, es], verbose=0)
    assert len(h.history["loss"]) == 4 and es.stopped_epoch == 3 and es.best_epoch == 1
    np.testing.assert_array_equal(m.get_weights()[0], script.weights[1][0])


def test_early_stopping_restores_even_without_stopping_and_respects_min_delta():
    x, y = _data()
    m = _model()
    script = Script([3.0, 2.0, 2.5])
    m.fit(
        x,
        y,
        epochs=3,
        callbacks=[script, cbs.EarlyStopping(monitor="loss", patience=10, restore_best_weights=True)],
        verbose=0,
    )
    np.testing.assert_array_equal(m.get_weights()[0], script.weights[1][0])
    m = _model()
    es = cbs.EarlyStopping(monitor="loss", patience=1, min_delta=0.5)
    h = m.fit(x, y, epochs=5, callbacks=[Script([3.0, 2.8, 2.7, 2.6, 2.5]), es], verbose=0)
    assert len(h.history["loss"]) == 2  # 2.8 is not an improvement of at least 0.5


def test_early_stopping_max_mode_auto_for_accuracy_and_unknown_raises():
    es = cbs.EarlyStopping(monitor="val_acc")
    es._set_monitor_op()
    assert es.monitor_op is np.greater
    es = cbs.EarlyStopping(monitor="val_something")
    with pytest.raises(ValueError, match="mode='max'"):
        es._set_monitor_op()


def test_model_checkpoint_names_and_best_only(tmp_path):
    x, y = _data()
    m = _model()
    path = str(tmp_path / "w.{epoch:02d}-{loss:.2f}.weights.h5")
    m.fit(
        x,
        y,
        epochs=3,
        callbacks=[Script([0.5, 0.25, 0.75]), cbs.ModelCheckpoint(path, monitor="loss", save_weights_only=True)],
        verbose=0,
    )
    assert sorted(os.listdir(tmp_path)) == ["w.01-0.50.weights.h5", "w.02-0.25.weights.h5", "w.03-0.75.weights.h5"]
    best = tmp_path / "best"
    script = Script([3.0, 2.0, 4.0, 1.0])
    m = _model()
    m.fit(
        x,
        y,
        epochs=4,
        callbacks=[script, cbs.ModelCheckpoint(str(best / "m{epoch}.keras"), monitor="loss", save_best_only=True)],
        verbose=0,
    )
    assert sorted(os.listdir(best)) == ["m1.keras", "m2.keras", "m4.keras"]
    saved = np.load(best / "m2.keras")
    np.testing.assert_array_equal(saved["arr_0"], script.weights[1][0])


def test_model_checkpoint_save_freq_batches(tmp_path):
    x, y = _data(n=24)
    m = _model()
    m.fit(
        x,
        y,
        batch_size=8,
        epochs=2,
        verbose=0,
        callbacks=[cbs.ModelCheckpoint(str(tmp_path / "e{epoch}b{batch}.keras"), save_freq=2)],
    )
    assert sorted(os.listdir(tmp_path)) == ["e1b2.keras", "e2b1.keras", "e2b3.keras"]
    with pytest.raises(ValueError, match="save_freq"):
        cbs.ModelCheckpoint("x.keras", save_freq="sometimes")


def test_csv_logger_content(tmp_path):
    x, y = _data()
    m = _model()
    path = tmp_path / "log.csv"
    h = m.fit(x, y, epochs=2, validation_split=0.25, callbacks=[cbs.CSVLogger(str(path))], verbose=0)
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["epoch", "acc", "loss", "val_acc", "val_loss"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1]
    for i, row in enumerate(rows[1:]):
        assert float(row[2]) == h.history["loss"][i] and float(row[4]) == h.history["val_loss"][i]
    m.fit(x, y, epochs=1, callbacks=[cbs.CSVLogger(str(path), append=True, separator=",")], verbose=0)
    rows = list(csv.reader(open(path)))
    assert len(rows) == 4 and rows[0][0] == "epoch" and rows[3][0] == "0"
    path2 = tmp_path / "semi.csv"
    m.fit(x, y, epochs=1, callbacks=[cbs.CSVLogger(str(path2), separator=";")], verbose=0)
    assert open(path2).readline().strip() == "epoch;acc;loss;val_acc;val_loss"


def test_terminate_on_nan_keeps_last_good_weights():
    x, y = _data(n=40)
    m = _model()
    at_begin = {}

    def record(batch, logs):
        at_begin[batch] = m.get_weights()

    def poison(batch, logs):
        if batch == 2:
            with torch.no_grad():
                m.w.fill_(float("nan"))

    h = m.fit(
        x,
        y,
        batch_size=8,
        epochs=10,
        shuffle=False,
        verbose=0,
        callbacks=[
            cbs.LambdaCallback(on_train_batch_begin=record),
            cbs.TerminateOnNaN(),
            cbs.LambdaCallback(on_train_batch_end=poison),
        ],
    )
    assert m.stop_training and len(h.history["loss"]) == 1
    assert max(at_begin) == 3  # batch 3 produced the NaN loss
    w = m.get_weights()[0]
    assert np.isfinite(w).all()
    np.testing.assert_array_equal(w, at_begin[2][0])  # weights that gave the last finite loss


def test_backup_and_restore_resumes_at_right_epoch(tmp_path):
    x, y = _data()
    backup = tmp_path / "backup"

    class Crash(cbs.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("simulated crash")

    ref = _model()
    ref.fit(x, y, epochs=5, shuffle=False, verbose=0)

    m = _model()
    with pytest.raises(RuntimeError, match="simulated"):
        m.fit(x, y, epochs=5, shuffle=False, verbose=0, callbacks=[cbs.BackupAndRestore(str(backup)), Crash()])
    assert os.listdir(backup)
    fresh = _model()  # a new process: new weights, same architecture
    epochs = []
    h = fresh.fit(
        x,
        y,
        epochs=5,
        shuffle=False,
        verbose=0,
        callbacks=[
            cbs.BackupAndRestore(str(backup)),
            cbs.LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e)),
        ],
    )
    assert epochs == [3, 4] and h.epoch == [3, 4]
    np.testing.assert_allclose(fresh.get_weights()[0], ref.get_weights()[0], rtol=1e-6)
    assert not backup.exists() or not os.listdir(backup)


def test_reduce_lr_on_plateau_and_scheduler():
    x, y = _data()
    m = _model(lr=0.4)
    h = m.fit(
        x,
        y,
        epochs=4,
        verbose=0,
        callbacks=[Script([1.0, 1.0, 1.0, 1.0]), cbs.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)],
    )
    assert m.optimizer.learning_rate == pytest.approx(0.4 * 0.5**3)
    # Keras logs the rate the epoch ran with, before the reduction.
    assert h.history["learning_rate"] == pytest.approx([0.4, 0.4, 0.2, 0.1])
    with pytest.raises(ValueError, match="factor"):
        cbs.ReduceLROnPlateau(factor=1.5)
    m = _model(lr=0.4)
    h = m.fit(x, y, epochs=3, verbose=0, callbacks=[cbs.LearningRateScheduler(lambda epoch, lr: 0.1 * (epoch + 1))])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.2, 0.3])
    m = _model()
    with pytest.raises(ValueError, match="float"):
        m.fit(x, y, epochs=1, verbose=0, callbacks=[cbs.LearningRateScheduler(lambda e: "fast")])


def test_lambda_callback_and_callback_list_errors():
    with pytest.raises(ValueError, match="on_epoch_finish"):
        cbs.LambdaCallback(on_epoch_finish=print)
    x, y = _data()
    m = _model()
    with pytest.raises(TypeError, match="Callback"):
        m.fit(x, y, callbacks=[print], verbose=0)
    events = []
    m.fit(
        x,
        y,
        epochs=2,
        batch_size=12,
        verbose=0,
        callbacks=[
            cbs.LambdaCallback(
                on_train_begin=lambda logs: events.append("begin"),
                on_train_batch_end=lambda b, logs: events.append(("b", b, logs["loss"] > 0)),
                on_epoch_end=lambda e, logs: events.append(("e", e)),
                on_train_end=lambda logs: events.append("end"),
            )
        ],
    )
    assert events == [
        "begin",
        ("b", 0, True),
        ("b", 1, True),
        ("e", 0),
        ("b", 0, True),
        ("b", 1, True),
        ("e", 1),
        "end",
    ]


def test_tensorboard_needs_package(tmp_path):
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        x, y = _data()
        m = _model()
        with pytest.raises(ImportError, match="tensorboard"):
            m.fit(x, y, epochs=1, verbose=0, callbacks=[cbs.TensorBoard(str(tmp_path))])
        return
    x, y = _data()
    m = _model()
    m.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[cbs.TensorBoard(str(tmp_path))])
    assert os.listdir(tmp_path / "train") and os.listdir(tmp_path / "validation")


def test_tensorboard_writes_scalars_and_histograms(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    import strided as keras
    from strided import layers, models

    model = models.Sequential([layers.Input((4,)), layers.Dense(2, activation="softmax", name="head")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = np.random.rand(64, 4), np.random.randint(0, 2, 64)
    history = model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        validation_split=0.25,
        callbacks=[keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1)],
    )
    train = EventAccumulator(str(tmp_path / "train"))
    train.Reload()
    assert {"epoch_loss", "epoch_accuracy"} <= set(train.Tags()["scalars"])
    assert {"head/kernel", "head/bias"} <= set(train.Tags()["histograms"])
    losses = [e.value for e in train.Scalars("epoch_loss")]
    np.testing.assert_allclose(losses, history.history["loss"], rtol=1e-5)
    validation = EventAccumulator(str(tmp_path / "validation"))
    validation.Reload()
    np.testing.assert_allclose(
        [e.value for e in validation.Scalars("epoch_loss")], history.history["val_loss"], rtol=1e-5
    )


@pytest.mark.keras
@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_swap_ema_weights_matches_real_keras(real_keras, swap_on_epoch):
    import strided as keras
    from strided import layers

    rng = np.random.default_rng(0)
    x, y = rng.random((48, 4)).astype("float32"), rng.random((48, 1)).astype("float32")
    xv, yv = rng.random((16, 4)).astype("float32"), rng.random((16, 1)).astype("float32")
    keras.utils.set_random_seed(2)
    ours = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="tanh"), layers.Dense(1)])
    theirs = real_keras.Sequential(
        [real_keras.Input((4,)), real_keras.layers.Dense(3, activation="tanh"), real_keras.layers.Dense(1)]
    )
    theirs.set_weights(ours.get_weights())
    seen = {}

    def probe(name, model):  # listed after the swap: sees what ModelCheckpoint would save
        return keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: seen.setdefault(name, []).append(
                [np.array(w) for w in model.get_weights()]
            )
        )

    ours.compile(keras.optimizers.SGD(0.3, use_ema=True, ema_momentum=0.8), "mse")
    theirs.compile(real_keras.optimizers.SGD(0.3, use_ema=True, ema_momentum=0.8), "mse")
    h_ours = ours.fit(
        x,
        y,
        batch_size=8,
        epochs=3,
        shuffle=False,
        verbose=0,
        validation_data=(xv, yv),
        callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch), probe("ours", ours)],
    ).history
    h_theirs = theirs.fit(
        x,
        y,
        batch_size=8,
        epochs=3,
        shuffle=False,
        verbose=0,
        validation_data=(xv, yv),
        callbacks=[
            real_keras.callbacks.SwapEMAWeights(swap_on_epoch),
            real_keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: seen.setdefault("theirs", []).append(
                    [np.array(w) for w in theirs.get_weights()]
                )
            ),
        ],
    ).history
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=1e-5, err_msg=key)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for ours_epoch, theirs_epoch in zip(seen["ours"], seen["theirs"]):
        for a, b in zip(ours_epoch, theirs_epoch):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_swap_ema_weights_needs_an_ema_optimizer():
    import strided as keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="use_ema=True"):
        model.fit(
            np.ones((4, 2)),
            np.ones((4, 1)),
            validation_data=(np.ones((2, 2)), np.ones((2, 1))),
            callbacks=[keras.callbacks.SwapEMAWeights()],
            verbose=0,
        )
