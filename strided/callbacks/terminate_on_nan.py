"""TerminateOnNaN: stops training when the loss becomes NaN or infinite."""

import numpy as np
import torch

from strided.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite, keeping the last good weights.

    The weights that produced the last finite loss are kept on the device and put back
    when a NaN/inf loss appears, so the model is usable after the run. This reads the
    loss every batch (one device synchronisation per step).

    Args:
        raise_error: False (default): stop gracefully (``model.stop_training = True``; every
            callback's ``on_train_end`` still runs). True: raise a ``RuntimeError`` at once, so that
            no other callback's ``on_train_end`` runs (e.g. to keep a backup state). The last good
            weights are put back in both cases.

    Example:

    ```python
    model.fit(x, y, callbacks=[keras.callbacks.TerminateOnNaN()])
    model.fit(x, y, callbacks=[keras.callbacks.TerminateOnNaN(raise_error=True)])  # fails loudly
    ```
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error
        self._before = None  # weights at the start of the current batch
        self._good = None  # weights that gave the last finite loss

    def on_train_begin(self, logs=None):
        self._before = None
        self._good = None

    def _snapshot(self, into):
        weights = list(getattr(self.model, "weights", None) or [])
        with torch.no_grad():
            if into is None or len(into) != len(weights):
                return [w.detach().clone() for w in weights]
            for buf, w in zip(into, weights):
                buf.copy_(w)
            return into

    def on_train_batch_begin(self, batch, logs=None):
        # Reuse the buffer that is no longer the last-good one, so no allocation per step.
        self._before = self._snapshot(self._before)

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is None:
            return
        loss = float(loss)
        if np.isnan(loss) or np.isinf(loss):
            if self._good is not None:
                with torch.no_grad():
                    for w, buf in zip(self.model.weights, self._good):
                        w.copy_(buf)
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. Terminating training immediately."
                )
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
        else:
            self._good, self._before = self._before, self._good
