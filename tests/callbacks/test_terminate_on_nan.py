"""TerminateOnNaN(raise_error=True): a RuntimeError at the first NaN loss, without other callbacks' on_train_end."""

import numpy as np
import pytest

import strided as keras


class _PoisonAt(keras.callbacks.Callback):
    """Fills the weights with NaN after batch ``at``; records the weights that gave that batch's loss and
    whether on_train_end ran."""

    def __init__(self, at):
        super().__init__()
        self.at, self.ended, self.good = at, False, None

    def on_train_batch_begin(self, batch, logs=None):
        if batch == self.at:
            self.good = self.model.get_weights()

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.at:
            self.model.set_weights([np.full_like(w, np.nan) for w in self.model.get_weights()])

    def on_train_end(self, logs=None):
        self.ended = True


def _fit(terminate, poison):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 3)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    # The poison runs after TerminateOnNaN, so batch 2 is the first with a NaN loss.
    model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0, callbacks=[terminate, poison])
    return model


def test_raise_error_raises_keeps_good_weights_and_skips_on_train_end():
    poison = _PoisonAt(1)
    terminate = keras.callbacks.TerminateOnNaN(True)  # Keras's positional raise_error
    with pytest.raises(RuntimeError, match=r"^NaN or Inf loss encountered at batch 2\. Loss value: nan\. Terminating"):
        _fit(terminate, poison)
    assert not poison.ended  # the other callbacks' on_train_end did not run
    for w, good in zip(terminate.model.get_weights(), poison.good):
        np.testing.assert_array_equal(w, good)  # the weights that gave the last finite loss


def test_default_stops_gracefully():
    poison = _PoisonAt(1)
    model = _fit(keras.callbacks.TerminateOnNaN(), poison)
    assert model.stop_training and poison.ended
    for w, good in zip(model.get_weights(), poison.good):
        np.testing.assert_array_equal(w, good)
