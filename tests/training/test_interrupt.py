"""Ctrl-C during fit: it stops after the current step, the model keeps that step's weights and its history."""

import os
import signal
import threading

import numpy as np
import pytest

import strided as keras
from strided import layers

pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGINT"),
    reason="needs SIGINT in the main thread",
)


def _model():
    model = keras.Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class _InterruptAt(keras.callbacks.Callback):
    """Sends Ctrl-C to this process at the start of training step ``at_step`` (counted over the whole fit)."""

    def __init__(self, at_step, twice=False):
        super().__init__()
        self.at_step, self.twice, self.steps, self.after = at_step, twice, 0, None

    def on_train_batch_begin(self, batch, logs=None):
        if self.steps == self.at_step:
            os.kill(os.getpid(), signal.SIGINT)
            if self.twice:
                os.kill(os.getpid(), signal.SIGINT)

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        self.after = [w.copy() for w in self.model.get_weights()]


def _data():
    rng = np.random.default_rng(0)
    return rng.random((64, 4)).astype("float32"), rng.integers(0, 2, 64)


def test_interrupt_in_the_first_epoch_stops_after_that_step():
    x, y = _data()
    model, cb = _model(), _InterruptAt(at_step=2)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=8, epochs=5, callbacks=[cb], verbose=0)
    assert cb.steps == 3  # the step during which Ctrl-C came was completed, no other
    for now, after in zip(model.get_weights(), cb.after):
        np.testing.assert_array_equal(now, after)
    assert model.history.history == {} and model.history.epoch == []  # this run's History, no epoch completed
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is restored
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # and the model trains on
    assert len(history.history["loss"]) == 1


def test_interrupt_in_a_later_epoch_keeps_the_completed_epochs():
    x, y = _data()
    model, cb = _model(), _InterruptAt(at_step=8 * 2 + 3)  # 8 steps per epoch: during the third epoch
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=8, epochs=5, callbacks=[cb], verbose=0)
    assert model.history.epoch == [0, 1] and len(model.history.history["loss"]) == 2
    for now, after in zip(model.get_weights(), cb.after):
        np.testing.assert_array_equal(now, after)


def test_a_second_interrupt_stops_at_once():
    x, y = _data()
    model, cb = _model(), _InterruptAt(at_step=1, twice=True)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=8, epochs=5, callbacks=[cb], verbose=0)
    assert cb.steps == 1  # raised inside the step's callback, before it completed
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
