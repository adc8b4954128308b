"""``SwapEMAWeights``: evaluate (and optionally checkpoint) with the optimizer's moving-average weights."""

import torch

from strided.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the optimizer's EMA weights around evaluation (Keras callback).

    Use it with an optimizer created with ``use_ema=True``: validation during ``fit`` and ``evaluate``
    then see the averaged weights, and training resumes on its own weights. The swap is in place
    (no copy of the model is kept).

    Args:
        swap_on_epoch: also swap at the end of every epoch (and back at the start of the next), so that
            callbacks listed after this one, such as ``ModelCheckpoint``, see the EMA weights.

    Example:

    ```python
    model.compile(optimizer=keras.optimizers.SGD(use_ema=True), loss="mse")
    model.fit(x, y, validation_split=0.2,
              callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True),
                         keras.callbacks.ModelCheckpoint("best.keras", save_best_only=True)])
    ```
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _optimizers(self):
        """The optimizers whose averages are swapped: the model's, or a MultiOptimizer's with ``use_ema``."""
        optimizer = getattr(self.model, "optimizer", None)
        inner = getattr(optimizer, "inner_optimizer", None)  # a LossScaleOptimizer
        if inner is not None:
            optimizer = inner
        if isinstance(getattr(optimizer, "optimizers", None), list):  # a MultiOptimizer
            found = [opt for opt in optimizer.optimizers if getattr(opt, "use_ema", False)]
            if not found:
                raise ValueError(
                    "SwapEMAWeights must be used when at least one inner optimizer has `use_ema=True` "
                    "set. Received a MultiOptimizer with all inner optimizers having `use_ema=False`."
                )
            return found
        if optimizer is None or not getattr(optimizer, "use_ema", False):
            raise ValueError(
                "SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. "
                f"Received: use_ema={getattr(optimizer, 'use_ema', None)}"
            )
        return [optimizer]

    @torch.no_grad()
    def _swap(self):
        optimizers = [opt for opt in self._optimizers() if opt.built and opt._params]
        if not optimizers:
            return  # nothing trained yet: there are no averages
        for optimizer in optimizers:
            weights, averages = optimizer._params, optimizer._slots["average"]
            saved = [w.clone() for w in weights]
            torch._foreach_copy_(weights, averages)
            torch._foreach_copy_(averages, saved)
        self._ema_weights_in_model = not self._ema_weights_in_model

    @torch.no_grad()
    def _finalize(self):
        for optimizer in self._optimizers():
            if optimizer.built and optimizer._params:
                torch._foreach_copy_(optimizer._slots["average"], optimizer._params)

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap()
            if epoch == self.params["epochs"] - 1:
                # Training ends on the EMA weights: keep the averages equal to them (Keras does so).
                self._finalize()

    def on_test_begin(self, logs=None):
        if not self._ema_weights_in_model:
            self._swap()

    def on_test_end(self, logs=None):
        if self._ema_weights_in_model:
            self._swap()

    on_predict_begin = on_test_begin
    on_predict_end = on_test_end
