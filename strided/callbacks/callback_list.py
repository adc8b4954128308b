"""CallbackList: the container the trainer drives, dispatching every hook to its callbacks."""

from strided.callbacks.callback import Callback
from strided.callbacks.history import History
from strided.callbacks.progbar_logger import ProgbarLogger


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
                raise TypeError(
                    "Invalid value for argument `callbacks`. Expected a list of "
                    f"`keras.callbacks.Callback` instances. Received: {cb!r} of type "
                    f"{type(cb).__name__}."
                )
        self.callbacks = callbacks
        self._history = None
        self._progbar = None
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
        if args and args[-1] is None:
            # Keras hands every hook a logs dict (empty where there is nothing to report yet), so
            # callbacks may read `logs.keys()` in `on_train_begin` or `on_epoch_begin`.
            args = args[:-1] + ({},)
        for cb in self.callbacks:
            getattr(cb, hook)(*args)


def _dispatcher(hook):
    """The ``CallbackList`` method ``hook``: calls the same hook of every callback of the list (the tf.keras 1
    aliases ``on_batch_begin``/``on_batch_end``: the training-batch hooks)."""
    target = hook.replace("on_batch_", "on_train_batch_")
    if "batch_" in hook:

        def method(self, batch, logs=None):
            self._call(target, batch, logs)

    elif "epoch_" in hook:

        def method(self, epoch, logs=None):
            self._call(target, epoch, logs)

    else:

        def method(self, logs=None):
            self._call(target, logs)

    method.__name__ = hook
    method.__qualname__ = f"CallbackList.{hook}"
    method.__doc__ = f"Calls ``{target}`` on every callback of the list."
    return method


for _hook in [name for name in vars(Callback) if name.startswith("on_")]:
    setattr(CallbackList, _hook, _dispatcher(_hook))
