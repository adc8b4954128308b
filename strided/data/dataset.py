"""Batched datasets: an iterable of batches with ``len()`` (batches per epoch), as a trainer consumes them.

``ArrayDataset`` batches in-memory arrays; ``image_dataset_from_directory`` returns a subclass that reads
files. Both offer the few ``tf.data`` methods that Keras tutorials chain on these objects
(``take``, ``map``, ``cache``, ``shuffle``, ``prefetch``, ``batch``, ``unbatch``).
"""
import math

import numpy as np


class BatchDataset:
    """Base class: subclasses implement ``_num_items()``, ``_epoch_order(epoch)`` and ``_get(indices)``."""

    def __init__(self, batch_size=32, shuffle=False, seed=None, drop_remainder=False):
        if batch_size is not None:
            if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size <= 0:
                raise ValueError("Invalid value for argument `batch_size`. Expected a strictly positive integer "
                                 f"or None. Received: batch_size={batch_size!r}")
            batch_size = int(batch_size)
        self.batch_size = batch_size
        self.shuffle_each_epoch = bool(shuffle)
        self.seed = seed
        self.drop_remainder = bool(drop_remainder)
        self._epoch = 0
        self._maps = []
        self.class_names = None

    # -- subclass interface -------------------------------------------------------------------------------
    def _num_items(self):
        raise NotImplementedError

    def _get(self, indices):
        raise NotImplementedError

    # -- iteration ----------------------------------------------------------------------------------------
    def _order(self):
        n = self._num_items()
        if not self.shuffle_each_epoch:
            return np.arange(n)
        rng = np.random.RandomState(None if self.seed is None else (int(self.seed) + self._epoch) % 2 ** 32)
        return rng.permutation(n)

    def __len__(self):
        n = self._num_items()
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_remainder else math.ceil(n / self.batch_size)

    def _apply_maps(self, item):
        for fn in self._maps:
            item = fn(*item) if isinstance(item, tuple) else fn(item)
        return item

    def __iter__(self):
        order = self._order()
        self._epoch += 1
        if self.batch_size is None:
            for i in order:
                item = self._get(np.array([i]))
                yield self._apply_maps(_unbatch_one(item))
            return
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield self._apply_maps(self._get(idx))

    # -- tf.data-style conveniences -----------------------------------------------------------------------
    def take(self, count):
        """The first ``count`` batches (a list; ``-1`` means all)."""
        out = []
        for i, item in enumerate(self):
            if 0 <= count <= i:
                break
            out.append(item)
        return out

    def map(self, fn):
        """A copy whose batches go through ``fn`` (called as ``fn(x, y)`` for tuple batches)."""
        clone = self._copy()
        clone._maps = self._maps + [fn]
        return clone

    def cache(self, filename=""):
        """Returns self (in-memory datasets are already cached; file datasets cache decoded images)."""
        return self

    def prefetch(self, buffer_size=None):
        """Returns self (batches are produced on demand)."""
        return self

    def shuffle(self, buffer_size=None, seed=None, reshuffle_each_iteration=True):
        """A copy that reshuffles its samples every epoch."""
        clone = self._copy()
        clone.shuffle_each_epoch = True
        if seed is not None:
            clone.seed = seed
        return clone

    def batch(self, batch_size, drop_remainder=False):
        """A copy with another batch size."""
        clone = self._copy()
        clone.batch_size = int(batch_size)
        clone.drop_remainder = bool(drop_remainder)
        return clone

    def unbatch(self):
        """A copy yielding single samples."""
        clone = self._copy()
        clone.batch_size = None
        return clone

    def _copy(self):
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._maps = list(self._maps)
        return clone

    @property
    def cardinality(self):
        return len(self)


def _unbatch_one(item):
    if isinstance(item, tuple):
        return tuple(None if v is None else v[0] for v in item)
    return item[0]


class ArrayDataset(BatchDataset):
    """Batches of in-memory arrays: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``.

    Args:
        x: array (or list/tuple/dict of arrays with the same first dimension).
        y: optional targets.
        sample_weight: optional per-sample weights.
        batch_size: samples per batch; ``None`` yields single samples.
        shuffle: reshuffle every epoch.
        seed: seed of the shuffling (epoch ``e`` uses ``seed + e``).
        drop_remainder: drop the last incomplete batch.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, seed=None, drop_remainder=False):
        super().__init__(batch_size=batch_size, shuffle=shuffle, seed=seed, drop_remainder=drop_remainder)
        self.x, self.y, self.sample_weight = x, y, sample_weight
        n = _length(x)
        for name, value in (("y", y), ("sample_weight", sample_weight)):
            if value is not None and _length(value) != n:
                raise ValueError(f"`x` and `{name}` must have the same number of samples. "
                                 f"Received: len(x)={n}, len({name})={_length(value)}")
        self._n = n

    def _num_items(self):
        return self._n

    def _get(self, indices):
        x = _take(self.x, indices)
        if self.y is None and self.sample_weight is None:
            return x
        out = (x, _take(self.y, indices))
        if self.sample_weight is not None:
            out = out + (_take(self.sample_weight, indices),)
        return out


def _length(x):
    if isinstance(x, dict):
        return _length(next(iter(x.values())))
    if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
        return _length(x[0])
    return len(x)


def _take(x, indices):
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: _take(v, indices) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape"):
        return type(x)(_take(v, indices) for v in x)
    if hasattr(x, "shape"):
        return x[indices]
    return np.asarray(x)[indices]


__all__ = ["BatchDataset", "ArrayDataset"]
