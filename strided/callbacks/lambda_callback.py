"""LambdaCallback: a callback made of functions given for its hooks."""

from strided.callbacks.callback import Callback
from strided.utils import validation
from strided.utils.general_utils import named_arguments


class LambdaCallback(Callback):
    """Callback built from plain functions.

    Args:
        on_epoch_begin, on_epoch_end: called with `(epoch, logs)`.
        on_train_begin, on_train_end: called with `(logs)`.
        on_train_batch_begin, on_train_batch_end: called with `(batch, logs)`.
        **kwargs: any other `on_*` hook by name.
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        hooks = {**named_arguments(locals()), **kwargs}
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(
                    f"Invalid argument `{name}` for LambdaCallback. Expected one of the "
                    f"`on_*` callback hooks. Received: {name}={fn!r}"
                )
            if fn is not None:
                setattr(self, name, validation.callable_or_none(fn, name, "a function"))
