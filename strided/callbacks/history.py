"""History: the per-epoch logs `fit` returns."""

from strided.callbacks.callback import Callback


class History(Callback):
    """Records epoch results into `history.history`, a dict of lists of Python floats.

    Returned by `Model.fit`; `pd.DataFrame(history.history)` gives one row per epoch.
    `history.epoch` lists the epoch indices that ran.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

    def __repr__(self):
        return f"<strided.callbacks.History at {hex(id(self))}>"
