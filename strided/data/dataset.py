"""Datasets with the ``tf.data`` pipeline API, on NumPy and torch (no TensorFlow).

:class:`Dataset` is the one dataset class: ``image_dataset_from_directory``, ``text_dataset_from_directory``,
``audio_dataset_from_directory``, ``timeseries_dataset_from_array`` and :meth:`Dataset.from_tensor_slices`
all return one, and its methods (``map``, ``batch``, ``unbatch``, ``padded_batch``, ``shuffle``,
``prefetch``, ``cache``, ``take``, ``skip``, ``repeat``, ``filter``, ``zip``, ``concatenate``,
``enumerate``) return new datasets, lazily, as ``tf.data`` does: an element is what one step of iteration
yields (a batch for a batched dataset). ``len()`` is the number of elements when it is known.

Sources that read by index (:class:`BatchDataset`: in-memory arrays, image/text/audio folders, time
series windows) batch, unbatch and shuffle by index, so ``from_tensor_slices(x).shuffle(n).batch(32)``
costs one fancy-indexing per batch and not a Python stack of single samples.
"""

import collections
import concurrent.futures
import json
import math
import os
import queue
import re
import threading
import traceback

import numpy as np
import torch

from strided import ops

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


class Dataset:
    """A lazily evaluated sequence of elements (arrays, tensors, or tuples/dicts of them), as ``tf.data.Dataset``.

    Build one with :meth:`from_tensor_slices`, :meth:`from_tensors`, :meth:`from_generator`, :meth:`range`,
    or a ``*_dataset_from_directory`` function; chain the methods below; pass it to ``fit``, ``evaluate``
    or ``predict``, or iterate over it. Elements are NumPy arrays (or torch tensors where a map function
    returns tensors).

    Example:

    ```python
    ds = strided.data.Dataset.from_tensor_slices((x, y))
    ds = ds.shuffle(1024).batch(32).map(lambda x, y: (x / 255.0, y),
                                         num_parallel_calls=strided.data.AUTOTUNE).prefetch(2)
    model.fit(ds, epochs=3)
    ```
    """

    class_names = None

    def __init__(self, iterate=None, cardinality=UNKNOWN_CARDINALITY, parent=None):
        self._iterate_fn = iterate
        self._cardinality_value = cardinality
        if parent is not None and getattr(parent, "class_names", None) is not None:
            self.class_names = parent.class_names  # kept along a chain, for plotting code that reads it late

    # -- iteration ----------------------------------------------------------------------------------------
    def _iterate(self):
        if self._iterate_fn is None:
            raise NotImplementedError(f"{type(self).__name__} must implement `_iterate()`.")
        return self._iterate_fn()

    def _cardinality(self):
        value = self._cardinality_value
        return int(value()) if callable(value) else int(value)

    def __iter__(self):
        return iter(self._iterate())

    def __len__(self):
        n = self._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n < 0:
            raise TypeError("The dataset length is unknown.")
        return n

    def cardinality(self):
        """The number of elements as a 0-d int64 tensor: ``INFINITE_CARDINALITY`` (-1) for a repeated
        dataset, ``UNKNOWN_CARDINALITY`` (-2) after ``filter`` or for a generator."""
        return torch.tensor(self._cardinality(), dtype=torch.int64)

    def as_numpy_iterator(self):
        """Iterates over the elements as NumPy arrays (structures kept)."""
        for element in self:
            yield _map_structure(_to_numpy, element)

    def __repr__(self):
        n = self._cardinality()
        size = "infinite" if n == INFINITE_CARDINALITY else "unknown" if n < 0 else n
        return f"<{type(self).__name__} elements={size}>"

    def _derive(self, iterate, cardinality):
        return Dataset(iterate, cardinality, parent=self)

    # -- constructors -------------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """A dataset of the slices of ``tensors`` along their first axis.

        Args:
            tensors: an array or tensor, or a tuple/dict of them with the same first dimension (a list
                becomes one array, as in ``tf.data``).
        """
        return SliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of one element, ``tensors``."""
        element = _map_structure(_as_array, tensors)
        return Dataset(lambda: iter([element]), 1)

    @staticmethod
    def range(*args, dtype="int64", name=None):
        """``range(start, stop, step)`` as a dataset of scalars."""
        values = range(*args)
        return Dataset(lambda: (np.asarray(v, dtype=dtype) for v in values), len(values))

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None, output_signature=None, name=None):
        """A dataset of what ``generator(*args)`` yields, called anew for each iteration."""
        if not callable(generator):
            raise TypeError(f"`generator` must be a callable returning an iterator. Received: generator={generator!r}")
        call_args = tuple(args or ())
        return Dataset(lambda: iter(generator(*call_args)), UNKNOWN_CARDINALITY)

    @staticmethod
    def zip(*datasets, name=None):
        """Elements of several datasets side by side: ``zip((a, b))`` (or ``zip(a, b)``) yields ``(ea, eb)``;
        a dict of datasets yields dicts. It stops with the shortest."""
        structure = (
            datasets[0] if len(datasets) == 1 and isinstance(datasets[0], (tuple, list, dict)) else tuple(datasets)
        )
        members = list(structure.values()) if isinstance(structure, dict) else list(structure)
        for d in members:
            if not isinstance(d, Dataset):
                raise TypeError(f"`Dataset.zip` takes datasets. Received an element of type {type(d).__name__}.")

        def iterate():
            for values in zip(*members):
                yield dict(zip(structure, values)) if isinstance(structure, dict) else tuple(values)

        return Dataset(iterate, lambda: _min_cardinality([d._cardinality() for d in members]))

    # -- transformations ----------------------------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """A dataset of ``map_func(element)`` (``map_func(*element)`` for tuple elements).

        Args:
            map_func: the function; it receives torch tensors (NumPy arrays for strings, or what the
                previous step produced) and may use ``keras.ops``, layers or torch. TensorFlow ops are not
                available: calling one raises an error naming the op and its ``keras.ops`` equivalent.
            num_parallel_calls: with ``AUTOTUNE`` or an integer > 1, that many elements are mapped at
                once on a thread pool (order kept). ``None``: one at a time.
            deterministic: accepted; elements always come out in order.
        """
        if not callable(map_func):
            raise TypeError(f"`map_func` must be callable. Received: map_func={map_func!r}")
        workers = _num_workers(num_parallel_calls, "num_parallel_calls")
        parent = self

        def iterate():
            if workers <= 1:
                for element in parent:
                    yield _apply(map_func, element, "map")
            else:
                yield from _parallel_map(map_func, iter(parent), workers)

        return self._derive(iterate, self._cardinality)

    def filter(self, predicate, name=None):
        """The elements for which ``predicate(element)`` is true."""
        if not callable(predicate):
            raise TypeError(f"`predicate` must be callable. Received: predicate={predicate!r}")
        parent = self

        def iterate():
            for element in parent:
                keep = _apply(predicate, element, "filter")
                if bool(np.asarray(_to_numpy(keep))):
                    yield element

        return self._derive(
            iterate,
            lambda: INFINITE_CARDINALITY if parent._cardinality() == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY,
        )

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Consecutive elements stacked into batches of ``batch_size`` (the last one smaller unless
        ``drop_remainder``). Elements must have one shape (see :meth:`padded_batch` otherwise)."""
        batch_size = _positive_int(batch_size, "batch_size")
        return self._batched(batch_size, bool(drop_remainder), None)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
        """As :meth:`batch`, padding each component to the largest shape of the batch (or to
        ``padded_shapes``) with ``padding_values`` (default 0, ``""`` for strings)."""
        batch_size = _positive_int(batch_size, "batch_size")
        return self._batched(batch_size, bool(drop_remainder), (padded_shapes, padding_values))

    def _batched(self, batch_size, drop_remainder, padding):
        parent = self

        def iterate():
            buffer = []
            for element in parent:
                buffer.append(element)
                if len(buffer) == batch_size:
                    yield _stack(buffer, padding)
                    buffer = []
            if buffer and not drop_remainder:
                yield _stack(buffer, padding)

        def cardinality():
            n = parent._cardinality()
            if n < 0:
                return n
            return n // batch_size if drop_remainder else math.ceil(n / batch_size)

        return self._derive(iterate, cardinality)

    def unbatch(self, name=None):
        """Splits each element (a batch) into its samples along the first axis."""
        parent = self

        def iterate():
            for element in parent:
                leaves = _leaves(element)
                n = _first_dim(leaves)
                for i in range(n):
                    yield _map_structure(lambda v, i=i: v[i], element)

        return self._derive(
            iterate,
            lambda: INFINITE_CARDINALITY if parent._cardinality() == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY,
        )

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Shuffles the elements with a buffer of ``buffer_size`` elements, as ``tf.data`` does: each
        element comes from a random slot of the buffer, refilled from the input (``buffer_size`` at
        least the dataset size: a full shuffle)."""
        buffer_size = _positive_int(buffer_size, "buffer_size")
        base_seed = int(seed) if seed is not None else int(np.random.randint(2**31 - 1))
        parent, epochs = self, [0]

        def iterate():
            offset = epochs[0] if reshuffle_each_iteration else 0
            epochs[0] += 1
            rng = np.random.default_rng((base_seed + offset) % 2**32)
            buffer = []
            for element in parent:
                if len(buffer) < buffer_size:
                    buffer.append(element)
                    continue
                j = int(rng.integers(len(buffer)))
                out, buffer[j] = buffer[j], element
                yield out
            for j in rng.permutation(len(buffer)):
                yield buffer[j]

        return self._derive(iterate, self._cardinality)

    def prefetch(self, buffer_size=AUTOTUNE, name=None):
        """Produces up to ``buffer_size`` elements ahead on a background thread (``AUTOTUNE``: 2), so
        that reading and mapping overlap with training."""
        size = 2 if buffer_size in (None, AUTOTUNE) else _positive_int(buffer_size, "buffer_size")
        parent = self
        return self._derive(lambda: _prefetched(parent, size), self._cardinality)

    def cache(self, filename="", name=None):
        """Keeps the elements after the first complete iteration, in memory, or in ``filename`` (read back
        by later iterations, and by a later run when the file exists).

        The file holds arrays of numbers and strings (an ``.npz`` archive read without pickle), so elements
        of other kinds can only be cached in memory.
        """
        parent, store = self, {}
        path = os.fspath(filename) if filename else ""

        def iterate():
            if "items" not in store and path and os.path.exists(path):
                store["items"] = _read_cache(path)
            if "items" in store:
                yield from store["items"]
                return
            items = []
            for element in parent:
                items.append(element)
                yield element
            store["items"] = items  # only a complete pass is kept
            if path:
                _write_cache(path, items)

        return self._derive(iterate, self._cardinality)

    def take(self, count, name=None):
        """The first ``count`` elements (``-1``: all)."""
        count = int(count)
        parent = self

        def iterate():
            if count < 0:
                yield from parent
                return
            for i, element in enumerate(parent):
                if i >= count:
                    return
                yield element

        def cardinality():
            n = parent._cardinality()
            if count < 0:
                return n
            if n == INFINITE_CARDINALITY:
                return count
            return min(n, count) if n >= 0 else UNKNOWN_CARDINALITY

        return self._derive(iterate, cardinality)

    def skip(self, count, name=None):
        """All elements but the first ``count`` (``-1``: none)."""
        count = int(count)
        parent = self

        def iterate():
            if count < 0:
                return
            for i, element in enumerate(parent):
                if i >= count:
                    yield element

        def cardinality():
            n = parent._cardinality()
            if n < 0:
                return n
            return 0 if count < 0 else max(n - count, 0)

        return self._derive(iterate, cardinality)

    def repeat(self, count=None, name=None):
        """The dataset ``count`` times over (``None`` or ``-1``: forever; give ``steps_per_epoch`` to ``fit``)."""
        count = -1 if count is None else int(count)
        parent = self

        def iterate():
            i = 0
            while count < 0 or i < count:
                empty = True
                for element in parent:
                    empty = False
                    yield element
                if empty:
                    return
                i += 1

        def cardinality():
            n = parent._cardinality()
            if n == 0:
                return 0
            if count < 0:
                return INFINITE_CARDINALITY
            return n * count if n >= 0 else n

        return self._derive(iterate, cardinality)

    def concatenate(self, dataset, name=None):
        """This dataset's elements, then ``dataset``'s."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"`concatenate` takes a Dataset. Received: dataset of type {type(dataset).__name__}")
        parent = self

        def iterate():
            yield from parent
            yield from dataset

        def cardinality():
            a, b = parent._cardinality(), dataset._cardinality()
            if INFINITE_CARDINALITY in (a, b):
                return INFINITE_CARDINALITY
            return a + b if a >= 0 and b >= 0 else UNKNOWN_CARDINALITY

        return self._derive(iterate, cardinality)

    def enumerate(self, start=0, name=None):
        """Elements paired with their index: ``(i, element)``."""
        parent = self
        return self._derive(
            lambda: ((np.asarray(i, "int64"), e) for i, e in enumerate(parent, int(start))), self._cardinality
        )

    def with_options(self, options, name=None):
        """Returns the dataset (tf.data performance options have no meaning here)."""
        return self


class BatchDataset(Dataset):
    """A dataset read by index: subclasses implement ``_num_items()`` and ``_get(indices)`` (a batch).

    Elements are batches of ``batch_size`` items (single items with ``batch_size=None``). ``batch``,
    ``unbatch`` and a full ``shuffle`` directly on such a dataset re-batch or re-order its indices
    instead of stacking items one by one.
    """

    def __init__(self, batch_size=32, shuffle=False, seed=None, drop_remainder=False):
        super().__init__()
        if batch_size is not None:
            batch_size = _positive_int(batch_size, "batch_size", allow_none=True)
        self.batch_size = batch_size
        self.shuffle_each_epoch = bool(shuffle)
        self.seed = seed
        self.drop_remainder = bool(drop_remainder)
        self._epoch = 0
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
        rng = np.random.RandomState(None if self.seed is None else (int(self.seed) + self._epoch) % 2**32)
        return rng.permutation(n)

    def _cardinality(self):
        n = self._num_items()
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_remainder else math.ceil(n / self.batch_size)

    def _iterate(self):
        order = self._order()
        self._epoch += 1
        if self.batch_size is None:
            for i in order:
                yield _first_item(self._get(np.array([i])))
            return
        for b in range(len(self)):
            yield self._get(order[b * self.batch_size : (b + 1) * self.batch_size])

    # -- index-level fast paths (same elements as the generic transformations) ---------------------------
    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        if self.batch_size is not None:
            return super().batch(batch_size, drop_remainder, num_parallel_calls, deterministic, name)
        clone = self._copy()
        clone.batch_size = _positive_int(batch_size, "batch_size")
        clone.drop_remainder = bool(drop_remainder)
        return clone

    def unbatch(self, name=None):
        if self.batch_size is None or self.drop_remainder:
            return super().unbatch(name)
        clone = self._copy()
        clone.batch_size = None
        return clone

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        buffer_size = _positive_int(buffer_size, "buffer_size")
        if self.batch_size is not None or not reshuffle_each_iteration or buffer_size < self._num_items():
            return super().shuffle(buffer_size, seed, reshuffle_each_iteration, name)
        clone = self._copy()  # a buffer holding every item: a full permutation per epoch
        clone.shuffle_each_epoch = True
        if seed is not None:
            clone.seed = seed
        return clone

    def cache(self, filename="", name=None):
        """Items read by index are cheap to read again (in-memory data) or cached by the file datasets
        themselves; with a ``filename`` the elements are kept in that file."""
        return super().cache(filename, name) if filename else self

    def _copy(self):
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone


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
                raise ValueError(
                    f"`x` and `{name}` must have the same number of samples. "
                    f"Received: len(x)={n}, len({name})={_length(value)}"
                )
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


class SliceDataset(BatchDataset):
    """The dataset of :meth:`Dataset.from_tensor_slices`: slices of a structure of arrays (single items)."""

    def __init__(self, tensors):
        super().__init__(batch_size=None)
        self.tensors = _map_structure(_as_array, tensors)
        lengths = {int(v.shape[0]) if getattr(v, "ndim", 0) else None for v in _leaves(self.tensors)}
        if not lengths or None in lengths:
            raise ValueError(
                "`from_tensor_slices` needs arrays with a first dimension to slice. Received: "
                f"tensors of shapes {[tuple(getattr(v, 'shape', ())) for v in _leaves(self.tensors)]}"
            )
        if len(lengths) > 1:
            raise ValueError(
                "All components of `from_tensor_slices` must have the same first dimension. "
                f"Received first dimensions {sorted(lengths)}"
            )
        self._n = lengths.pop()

    def _num_items(self):
        return self._n

    def _get(self, indices):
        return _map_structure(
            lambda v: v[torch.as_tensor(indices)] if isinstance(v, torch.Tensor) else v[indices], self.tensors
        )


# ---------------------------------------------------------------------------------------------- structures
def _is_structure(x):
    return isinstance(x, (tuple, dict))


def _map_structure(fn, x):
    if isinstance(x, tuple):
        return tuple(_map_structure(fn, v) for v in x)
    if isinstance(x, dict):
        return {k: _map_structure(fn, v) for k, v in x.items()}
    return fn(x)


def _leaves(x):
    if isinstance(x, tuple):
        return [leaf for v in x for leaf in _leaves(v)]
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in _leaves(v)]
    return [x]


def _first_item(batch):
    """The single item of a batch of one (lists of arrays are multi-input structures here)."""
    if batch is None:
        return None
    if isinstance(batch, (tuple, list)):
        return type(batch)(_first_item(v) for v in batch)
    if isinstance(batch, dict):
        return {k: _first_item(v) for k, v in batch.items()}
    return batch[0]


def _as_array(x):
    if isinstance(x, torch.Tensor):
        return x
    if hasattr(x, "__array__") or isinstance(x, (list, int, float, bool, str, bytes, np.generic)):
        return np.asarray(x)
    return x


def _to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _first_dim(leaves):
    dims = {int(v.shape[0]) for v in leaves if getattr(v, "ndim", 0)}
    if len(dims) != 1 or any(not getattr(v, "ndim", 0) for v in leaves):
        raise ValueError(
            "`unbatch` needs elements whose components all share a first (batch) dimension. "
            f"Received components of shapes {[tuple(getattr(v, 'shape', ())) for v in leaves]}"
        )
    return dims.pop()


def _stack(items, padding=None):
    first = items[0]
    if isinstance(first, tuple):
        return tuple(_stack([it[i] for it in items], _sub_padding(padding, i)) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _stack([it[k] for it in items], _sub_padding(padding, k)) for k in first}
    is_torch = isinstance(first, torch.Tensor)
    values = (
        [v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v)) for v in items]
        if is_torch
        else [_to_numpy(v) for v in items]
    )
    shapes = {tuple(v.shape) for v in values}
    if len(shapes) > 1 or (padding is not None and padding[0] is not None):
        if padding is None:
            raise ValueError(
                f"Cannot batch elements of different shapes: {sorted(shapes)}. Give them one shape "
                "in `map` first (e.g. a `keras.layers.Resizing` layer), or use `padded_batch`."
            )
        values = _pad_all(values, padding, is_torch)
    return torch.stack(values) if is_torch else np.stack(values)


def _sub_padding(padding, key):
    if padding is None:
        return None
    shapes, values = padding
    pick = lambda s: s[key] if isinstance(s, (tuple, list, dict)) and not _is_shape(s) else s
    return pick(shapes), pick(values)


def _is_shape(s):
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer)) for d in s)


def _pad_all(values, padding, is_torch):
    shapes, fill = padding
    rank = values[0].ndim
    target = [max(int(v.shape[d]) for v in values) for d in range(rank)]
    if shapes is not None:
        target = [t if s is None or s == -1 else int(s) for t, s in zip(target, shapes)]
    out = []
    for v in values:
        if any(int(v.shape[d]) > target[d] for d in range(rank)):
            raise ValueError(f"An element of shape {tuple(v.shape)} does not fit the padded shape {tuple(target)}.")
        if is_torch:
            padded = torch.full(target, 0 if fill is None else fill, dtype=v.dtype)
        else:
            default = "" if v.dtype.kind in "US" else 0
            padded = np.full(target, default if fill is None else fill, dtype=v.dtype)
        padded[tuple(slice(0, int(s)) for s in v.shape)] = v
        out.append(padded)
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


def _write_cache(path, items):
    """The elements as one ``.npz`` archive at ``path``: their leaves as arrays, their nesting as JSON."""
    arrays = {}

    def encode(x):
        if isinstance(x, tuple):
            return {"tuple": [encode(v) for v in x]}
        if isinstance(x, dict):
            return {"dict": [[k, encode(v)] for k, v in x.items()]}
        key = f"leaf_{len(arrays)}"
        arrays[key] = _to_numpy(x)
        if arrays[key].dtype.kind == "O":
            raise ValueError(
                f"`cache(filename)` stores arrays of numbers and strings. Received an element of "
                f"type {type(x).__name__} holding Python objects; use `cache()` (in memory)."
            )
        return {"leaf": key, "torch": isinstance(x, torch.Tensor)}

    structure = json.dumps([encode(item) for item in items])
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        np.savez(f, __structure__=np.asarray(structure), **arrays)
    os.replace(tmp, path)


def _read_cache(path):
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}

    def decode(node):
        if "tuple" in node:
            return tuple(decode(v) for v in node["tuple"])
        if "dict" in node:
            return {k: decode(v) for k, v in node["dict"]}
        value = arrays[node["leaf"]]
        return torch.from_numpy(value) if node["torch"] else value

    return [decode(node) for node in json.loads(str(arrays.pop("__structure__")))]


def _min_cardinality(values):
    finite = [v for v in values if v >= 0]
    if UNKNOWN_CARDINALITY in values:
        return min(finite) if finite and min(finite) == 0 else UNKNOWN_CARDINALITY
    return min(finite) if finite else INFINITE_CARDINALITY


# ---------------------------------------------------------------------------------------------- arguments
def _positive_int(value, name, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, torch.Tensor) and value.ndim == 0:
        value = int(value)
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly positive integer"
            f"{' or None' if allow_none else ''}. Received: {name}={value!r}"
        )
    return int(value)


def _num_workers(value, name):
    if value is None:
        return 1
    if value == AUTOTUNE:
        return max(1, min(8, os.cpu_count() or 1))
    return _positive_int(value, name)


# ---------------------------------------------------------------------------------------------- map and prefetch
def _map_input(value):
    """What a map/filter function receives: numbers as torch tensors (as tf.data hands tensors), so that
    ``x * keras.ops.reshape(...)`` and ``x.numpy()`` work; strings stay NumPy arrays."""
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biufc":
        return torch.tensor(value)  # a copy: in-place edits never reach the source arrays
    return value


def _apply(fn, element, method):
    element = _map_structure(_map_input, element)
    try:
        return fn(*element) if isinstance(element, tuple) else fn(element)
    except (NameError, AttributeError, ImportError) as e:
        hint = _tensorflow_hint(e, method)
        if hint is None:
            raise
        raise type(e)(hint) from e


def _parallel_map(fn, elements, workers):
    """``fn`` over ``elements`` on ``workers`` threads, a few elements ahead, results in order."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="strided-map")
    pending = collections.deque()
    try:
        for element in elements:
            pending.append(pool.submit(_apply, fn, element, "map"))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_DONE = object()


def _prefetched(dataset, size):
    """The elements of ``dataset``, produced by a background thread up to ``size`` ahead. An exception in
    the producer surfaces in order; stopping early (``take``, ``steps_per_epoch``) stops the producer."""
    slots = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for element in dataset:
                if not put((True, element)):
                    return
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            put((False, e))
            return
        put((True, _DONE))

    thread = threading.Thread(target=produce, name="strided-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = slots.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


# What Keras programs call in their tf.data map functions, and what to write instead.
_TF_EQUIVALENTS = {
    "cast": "keras.ops.cast(x, dtype)",
    "concat": "keras.ops.concatenate",
    "reduce_mean": "keras.ops.mean",
    "reduce_sum": "keras.ops.sum",
    "reduce_max": "keras.ops.max",
    "reduce_min": "keras.ops.min",
    "clip_by_value": "keras.ops.clip",
    "image.resize": "keras.ops.image.resize (or a keras.layers.Resizing layer)",
    "image.convert_image_dtype": "keras.ops.cast(x, 'float32') / 255.0",
    "image.random_flip_left_right": "a keras.layers.RandomFlip('horizontal') layer",
    "image.random_flip_up_down": "a keras.layers.RandomFlip('vertical') layer",
    "image.random_crop": "a keras.layers.RandomCrop layer",
    "image.decode_jpeg": "keras.utils.load_img + keras.utils.img_to_array (or image_dataset_from_directory)",
    "image.decode_png": "keras.utils.load_img + keras.utils.img_to_array (or image_dataset_from_directory)",
    "image.decode_image": "keras.utils.load_img + keras.utils.img_to_array (or image_dataset_from_directory)",
    "io.read_file": "Python's open(path, 'rb').read() (or keras.utils.load_img for images)",
    "audio.decode_wav": "strided.utils.read_wav (or audio_dataset_from_directory)",
    "random.uniform": "keras.random.uniform",
    "random.normal": "keras.random.normal",
    "py_function": "a plain Python function (map functions already run in Python here)",
    "numpy_function": "a plain Python function (map functions already run in Python here)",
}
_TF_OP = re.compile(r"\b(?:tf|tensorflow)((?:\.\w+)+)")


def _tensorflow_hint(error, method):
    """The message for an error raised because a map function uses TensorFlow, else None."""
    frames = traceback.extract_tb(error.__traceback__)
    op = None
    for frame in reversed(frames):
        match = _TF_OP.search(frame.line or "")
        if match:
            op = match.group(1).lstrip(".")
            break
    text = str(error)
    about_tf = (
        (isinstance(error, NameError) and getattr(error, "name", None) in ("tf", "tensorflow"))
        or "tensorflow" in text
        or re.search(r"name '(tf|tensorflow)' is not defined", text)
    )
    if op is None and not about_tf:
        return None
    if op is None:
        return (
            f"The function passed to `Dataset.{method}` uses TensorFlow ({type(error).__name__}: {text}), but "
            "strided datasets run without TensorFlow: the function receives torch tensors (NumPy arrays for "
            "strings). Use keras.ops (strided.ops) or NumPy instead."
        )
    return (
        f"The function passed to `Dataset.{method}` calls the TensorFlow op `tf.{op}`, but strided datasets run "
        "without TensorFlow: the function receives torch tensors (NumPy arrays for strings). "
        f"Use {_equivalent(op)} instead. ({type(error).__name__}: {text})"
    )


def _equivalent(op):
    if op in _TF_EQUIVALENTS:
        return _TF_EQUIVALENTS[op]
    if op.startswith("strings."):
        return "Python string methods on the NumPy string arrays (or a keras.layers.TextVectorization layer)"
    parts = op.split(".")
    name = parts[-1]
    if len(parts) == 2 and parts[0] == "image" and hasattr(ops.image, name):
        return f"keras.ops.image.{name} (strided.ops.image.{name})"
    if hasattr(ops, name):
        return f"keras.ops.{name} (strided.ops.{name})"
    return "the keras.ops (strided.ops) equivalent, or NumPy"


__all__ = [
    "Dataset",
    "BatchDataset",
    "ArrayDataset",
    "SliceDataset",
    "AUTOTUNE",
    "INFINITE_CARDINALITY",
    "UNKNOWN_CARDINALITY",
]
