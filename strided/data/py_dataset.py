"""Keras's ``PyDataset`` (formerly ``Sequence``): a dataset of batches defined by ``__len__``/``__getitem__``."""


class PyDataset:
    """Base class for a dataset of batches, as ``keras.utils.PyDataset``.

    Subclasses implement ``__len__`` (number of batches per epoch) and ``__getitem__(index)`` (one batch:
    ``x``, ``(x, y)`` or ``(x, y, sample_weight)``), and may override ``on_epoch_end``. Iterating yields
    the batches of one epoch in order.

    Args:
        workers: with more than 1, ``fit``/``evaluate``/``predict`` load that many batches at once in
            threads (``__getitem__`` calls run concurrently, batches still arrive in order): worth it
            when batches come from disk (PIL decoding, file reads release the GIL).
        use_multiprocessing: accepted for Keras compatibility; the workers are threads either way
            (no pickling of the dataset, no fork of a process holding a GPU context).
        max_queue_size: how many batches may be loaded ahead (at least ``workers``).
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        return getattr(self, "_workers", 1)

    @property
    def use_multiprocessing(self):
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self):
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement `__getitem__(index)`.")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement `__len__()`.")

    @property
    def num_batches(self):
        """Number of batches per epoch (``None`` for an infinite dataset)."""
        try:
            return len(self)
        except NotImplementedError:
            return None

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch (shuffle here)."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


Sequence = PyDataset

__all__ = ["PyDataset", "Sequence"]
