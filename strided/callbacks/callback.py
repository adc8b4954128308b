"""Callback base class, the CallbackList the trainer drives, History and LambdaCallback."""


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


class CallbackList(Callback):
    """Container that dispatches every hook to a list of callbacks.

    Args:
        callbacks: list of `Callback` instances.
        add_history: append a `History` callback if none is given.
        add_progbar: append a `ProgbarLogger` if none is given.
        model: the model the callbacks act on.
        **params: `verbose`, `epochs`, `steps`... passed to `set_params`.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError("Invalid value for argument `callbacks`. Expected a list of "
                                f"`keras.callbacks.Callback` instances. Received: {cb!r} of type "
                                f"{type(cb).__name__}.")
        self.callbacks = callbacks
        self._history = None
        self._progbar = None
        from strided.callbacks.progbar_logger import ProgbarLogger  # avoid an import cycle
        for cb in self.callbacks:
            if isinstance(cb, History):
                self._history = cb
            elif isinstance(cb, ProgbarLogger):
                self._progbar = cb
        # Keras order: user callbacks, then History, then the progress bar, so both see
        # values (e.g. `learning_rate`) that user callbacks add to the epoch logs.
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

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
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)


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


class LambdaCallback(Callback):
    """Callback built from plain functions.

    Args:
        on_epoch_begin, on_epoch_end: called with `(epoch, logs)`.
        on_train_begin, on_train_end: called with `(logs)`.
        on_train_batch_begin, on_train_batch_end: called with `(batch, logs)`.
        **kwargs: any other `on_*` hook by name.
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        hooks.update(kwargs)
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"Invalid argument `{name}` for LambdaCallback. Expected one of the "
                                 f"`on_*` callback hooks. Received: {name}={fn!r}")
            if fn is not None:
                setattr(self, name, fn)
