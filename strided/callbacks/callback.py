"""The Callback base class: hooks called at points of `fit`, `evaluate` and `predict`."""


class Callback:
    """Base class for objects that act at points of `fit`, `evaluate` and `predict`.

    Subclasses override any of the `on_*` hooks. `self.model` is the model being
    trained and `self.params` holds `verbose`, `epochs` and `steps`.

    Batch-level `logs` are a read-only mapping whose values are computed (and the
    device synchronised) only when a callback reads them, so a callback that does
    not look at batch logs costs nothing per step.
    """

    def __init__(self):
        self.validation_data = None
        self.model = None
        self.params = {}

    @property
    def model(self):
        """The model being trained (under data parallelism, the model inside the DDP wrapper)."""
        model = self.__dict__.get("_model")
        inner = getattr(model, "module", None)
        if inner is not None and type(model).__name__ == "DistributedDataParallel":
            return inner
        return model

    @model.setter
    def model(self, model):
        self._model = model

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_batch_begin(self, batch, logs=None):
        """Backwards compatibility alias for `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """Backwards compatibility alias for `on_train_batch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch (training only)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch with the epoch's metric results (and `val_` ones)."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass
