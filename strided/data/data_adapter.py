"""Turns what users pass to `fit`/`evaluate`/`predict` into batches of device tensors.

In-memory data (NumPy arrays, torch tensors, lists/dicts of them, pandas frames) is converted
and moved to the device once; each batch is then a slice (or an index_select through a device
permutation) of the resident tensors: no per-sample collation, no DataLoader. Generators,
iterables of batches, torch DataLoaders and Sequence-like objects (`__len__` + `__getitem__`)
are consumed batch by batch, each batch moved to the device as it comes.
"""

import collections
import concurrent.futures
import itertools
import math
import warnings

import numpy as np
import torch

from strided import config
from strided.distribution import distribution_lib as distribute
from strided.utils import tree
from strided.utils.batch import pack_x_y_sample_weight, unpack_x_y_sample_weight

# ------------------------------------------------------------------ conversion


def _is_array_leaf(x):
    if isinstance(x, (np.ndarray, torch.Tensor, np.generic)):
        return True
    mod = type(x).__module__
    return mod.startswith("pandas") and hasattr(x, "to_numpy")


def is_array_structure(x):
    """True for arrays/tensors and lists/tuples/dicts made of them (or of numbers)."""
    if x is None:
        return True
    if _is_array_leaf(x):
        return True
    if isinstance(x, dict):
        return all(is_array_structure(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        if len(x) and all(isinstance(v, (int, float, bool, np.number)) for v in x):
            return True
        if len(x) and all(isinstance(v, (list, tuple)) for v in x) and _is_nested_numbers(x):
            return True
        if _is_text_list(x):
            return True
        return len(x) > 0 and all(is_array_structure(v) and v is not None for v in x)
    return False


def _is_nested_numbers(x):
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):
        return False
    return arr.dtype.kind in "biuf"


def _is_text_list(x):
    """A list of str (or of lists of str): text samples for a ``dtype="string"`` input."""
    first = x
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    return isinstance(first, (str, bytes)) and first is not x


def _is_text_array(arr):
    return arr.dtype.kind in "US" or (
        arr.dtype == object and arr.size > 0 and all(isinstance(v, (str, bytes)) for v in arr.reshape(-1)[:16])
    )


def _to_numpy_leaf(x):
    if isinstance(x, torch.Tensor):
        return x
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):
        x = x.to_numpy()
    return np.asarray(x)


def _normalize_leaves(x):
    """Lists of plain numbers (or of strings) become arrays; other structures keep their shape."""
    if isinstance(x, (list, tuple)) and _is_text_list(x):
        return np.asarray(x)
    if isinstance(x, (list, tuple)) and x and not _is_array_leaf(x[0]) and not isinstance(x[0], (dict, list, tuple)):
        return np.asarray(x)
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], (list, tuple)) and _is_nested_numbers(x):
        return np.asarray(x)
    if isinstance(x, dict):
        return {k: _normalize_leaves(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_normalize_leaves(v) for v in x)
    return _to_numpy_leaf(x)


def check_finite(structure, name):
    """Raises a ValueError if a float array holds NaN or inf (checked once, on the host)."""
    for leaf in tree.flatten(structure, none_is_leaf=False):
        if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f" and leaf.size:
            if not np.isfinite(leaf).all():
                bad = int(np.count_nonzero(~np.isfinite(leaf)))
                raise ValueError(
                    f"Invalid value for argument `{name}`: it contains {bad} NaN or infinite "
                    f"value(s) (array of shape {leaf.shape}). Clean or impute the data before "
                    "training."
                )
        elif isinstance(leaf, torch.Tensor) and leaf.is_floating_point() and leaf.numel():
            if not bool(torch.isfinite(leaf).all()):
                raise ValueError(
                    f"Invalid value for argument `{name}`: it contains NaN or infinite values "
                    f"(tensor of shape {tuple(leaf.shape)}). Clean or impute the data before "
                    "training."
                )


_SMALL_INTS = (torch.uint8, torch.int8, torch.int16, torch.bool)


def to_device(leaf, device, role):
    """One leaf to a device tensor.

    Float data becomes `floatx()`. Integer labels (`role='y'`) stay integer (int64, as torch
    losses index with it). Small integer inputs (uint8 images) stay small on the device and are
    cast per batch by `cast_inputs`, so resident data takes a quarter of the memory.
    """
    if leaf is None:
        return None
    if isinstance(leaf, torch.Tensor):
        t = leaf.detach()
    else:
        arr = np.asarray(leaf)
        if role == "x" and arr.dtype.kind in "OUS" and _is_text_array(arr):
            # Text for a `dtype="string"` input stays a NumPy array on the host, batched by indexing; the
            # string layers of the model (TextVectorization, StringLookup...) turn it into numbers.
            return arr if arr.dtype.kind in "US" else arr.astype(str)
        if arr.dtype.kind in "OUS":
            raise TypeError(
                f"Invalid dtype for `{role}`: expected numbers, received an array of dtype "
                f"{arr.dtype} (shape {arr.shape}). Convert strings/objects to numbers first."
            )
        if arr.dtype.kind == "f" and arr.dtype != np.dtype(config.floatx()) and config.floatx() != "bfloat16":
            arr = arr.astype(config.floatx())
        if not arr.flags.writeable or not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr).copy() if not arr.flags.writeable else np.ascontiguousarray(arr)
        t = torch.from_numpy(arr)
    if t.is_floating_point():
        t = t.to(config.torch_dtype())
    elif role == "y" and t.dtype in (torch.int8, torch.int16, torch.int32, torch.uint8):
        t = t.long()
    elif role != "x" and t.dtype == torch.bool:
        t = t.to(config.torch_dtype())
    return t.to(device, non_blocking=True)


def cast_inputs(x):
    """Per-batch cast of small-integer inputs (uint8 images) to floatx, as Keras layers autocast."""

    def cast(t):
        if isinstance(t, torch.Tensor) and t.dtype in _SMALL_INTS:
            return t.to(config.torch_dtype())
        return t

    if type(x) is torch.Tensor:
        return cast(x)
    return tree.map_structure(cast, x, none_is_leaf=False)


def structure_to_device(structure, device, role):
    return tree.map_structure(lambda leaf: to_device(leaf, device, role), structure, none_is_leaf=False)


def num_samples(structure):
    leaves = tree.flatten(structure, none_is_leaf=False)
    return int(leaves[0].shape[0]) if leaves else 0


def _check_sample_weight_shape(y, sample_weight, arg_prefix=""):
    """Per-sample weights are ``(n,)`` or shaped like the leading axes of ``y`` (``(n, timesteps)`` for
    sequences); anything else would broadcast wrongly inside the loss (a torch size mismatch)."""
    if y is None or sample_weight is None:
        return
    ys, sws = tree.flatten(y, none_is_leaf=False), tree.flatten(sample_weight, none_is_leaf=False)
    if len(sws) == 1 and len(ys) > 1:
        ys = ys[:1]
    for yt, sw in zip(ys, sws):
        y_shape, sw_shape = tuple(getattr(yt, "shape", ())), tuple(getattr(sw, "shape", ()))
        if len(sw_shape) <= 1:
            continue
        leading = sw_shape == y_shape[: len(sw_shape)]
        squeezable = sw_shape[-1] == 1 and sw_shape[:-1] == y_shape[: len(sw_shape) - 1]  # Keras squeezes (n, 1)
        if not (leading or squeezable):
            raise ValueError(
                f"Invalid value for argument `{arg_prefix}sample_weight`: expected an array of shape "
                f"(num_samples,) or the leading axes of `y` {y_shape}. Received sample_weight of "
                f"shape {sw_shape}."
            )


# ------------------------------------------------------------------ adapters


class ArrayAdapter:
    """In-memory data, resident on the device, batched by slicing."""

    def __init__(
        self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, device=None, check_nan=True, arg_prefix=""
    ):
        device = device or config.get_device()
        x, y, sample_weight = (_normalize_leaves(v) if v is not None else None for v in (x, y, sample_weight))
        sizes = {}
        for label, part in (("x", x), ("y", y), ("sample_weight", sample_weight)):
            for leaf in tree.flatten(part, none_is_leaf=False):
                if getattr(leaf, "ndim", 1) == 0:
                    raise ValueError(
                        f"Invalid value for argument `{arg_prefix}{label}`: expected an array with a "
                        f"batch dimension, received a scalar {leaf!r}."
                    )
                sizes.setdefault(label, set()).add(int(leaf.shape[0]))
        all_sizes = set().union(*sizes.values()) if sizes else set()
        if len(all_sizes) > 1:
            detail = ", ".join(f"{k} sizes: {sorted(v)}" for k, v in sizes.items())
            raise ValueError(
                "Data cardinality is ambiguous. Make sure all arrays contain the same number of "
                f"samples. Received: {detail}."
            )
        _check_sample_weight_shape(y, sample_weight, arg_prefix)
        if check_nan:
            check_finite(x, arg_prefix + "x")
            check_finite(y, arg_prefix + "y")
        self.x = structure_to_device(x, device, "x")
        self.y = structure_to_device(y, device, "y")
        self.sample_weight = structure_to_device(sample_weight, device, "sample_weight")
        if self.sample_weight is not None:
            self.sample_weight = tree.map_structure(
                lambda t: t.to(config.torch_dtype()), self.sample_weight, none_is_leaf=False
            )
        self.num_samples = num_samples(self.x)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.device = device
        self.num_batches = max(math.ceil(self.num_samples / self.batch_size), 1) if self.num_samples else 0

    def _take(self, structure, index):
        if structure is None:
            return None
        if type(structure) is torch.Tensor:  # the common case, without a walk of the structure
            return structure[index] if isinstance(index, slice) else structure.index_select(0, index)
        if isinstance(index, slice):
            return tree.map_structure(lambda t: t[index], structure, none_is_leaf=False)
        host = None

        def take(t):
            nonlocal host
            if isinstance(t, np.ndarray):  # text kept on the host
                host = index.cpu().numpy() if host is None else host
                return t[host]
            return t.index_select(0, index)

        return tree.map_structure(take, structure, none_is_leaf=False)

    def make_iterator(self):
        n, bs = self.num_samples, self.batch_size
        order = None
        if self.shuffle == "batch":
            # Keras: shuffle whole batches, keeping samples of a batch together.
            batch_order = torch.randperm(self.num_batches, device=self.device)
        elif self.shuffle:
            order = torch.randperm(n, device=self.device)
            if distribute.world_size() > 1:
                # Every rank must shard the same global permutation: take rank 0's.
                torch.distributed.broadcast(order, src=0)
        for i in range(self.num_batches):
            if self.shuffle == "batch":
                b = int(batch_order[i])
                index = slice(b * bs, min((b + 1) * bs, n))
            elif order is not None:
                index = order[i * bs : (i + 1) * bs]
            else:
                index = slice(i * bs, min((i + 1) * bs, n))
            yield pack_x_y_sample_weight(
                cast_inputs(self._take(self.x, index)), self._take(self.y, index), self._take(self.sample_weight, index)
            )

    def on_epoch_end(self):
        pass


class IterableAdapter:
    """Generators, iterables of batches, torch DataLoaders, Sequence/PyDataset objects."""

    def __init__(self, data, shuffle=False, device=None, class_weight=None):
        self.data = data
        self.device = device or config.get_device()
        self.class_weight = class_weight
        self.is_sequence = (
            hasattr(data, "__getitem__")
            and hasattr(data, "__len__")
            and not hasattr(data, "__next__")
            and not isinstance(data, torch.utils.data.DataLoader)
        )
        self.shuffle = bool(shuffle) and self.is_sequence
        self.num_batches = None
        if self.is_sequence:
            self.num_batches = len(data)
        elif hasattr(data, "__len__") and not hasattr(data, "__next__"):
            try:
                self.num_batches = len(data)
            except TypeError:
                self.num_batches = None

    def _convert(self, batch):
        x, y, sw = unpack_x_y_sample_weight(batch)
        x = cast_inputs(structure_to_device(_normalize_leaves(x), self.device, "x"))
        y = structure_to_device(_normalize_leaves(y), self.device, "y") if y is not None else None
        if sw is not None:
            sw = tree.map_structure(
                lambda t: t.to(config.torch_dtype()),
                structure_to_device(_normalize_leaves(sw), self.device, "sample_weight"),
                none_is_leaf=False,
            )
        if self.class_weight is not None and y is not None:
            cw = class_weight_to_sample_weight(self.class_weight, y, self.device)
            sw = cw if sw is None else sw * cw
        return pack_x_y_sample_weight(x, y, sw)

    def make_iterator(self):
        if self.is_sequence:
            order = np.random.permutation(self.num_batches) if self.shuffle else range(self.num_batches)
            workers = int(getattr(self.data, "workers", 1) or 1)
            batches = _prefetched(self.data, order, workers) if workers > 1 else (self.data[int(i)] for i in order)
            for batch in batches:
                yield self._convert(batch)
        else:
            for batch in self.data:
                yield self._convert(batch)

    def on_epoch_end(self):
        hook = getattr(self.data, "on_epoch_end", None)
        if callable(hook):
            hook()


def _prefetched(dataset, order, workers):
    """``dataset[i]`` for ``i`` in ``order``, loaded by ``workers`` threads up to ``max_queue_size``
    batches ahead, yielded in order. Leaving early (steps_per_epoch) cancels what is still queued."""
    ahead = max(workers, int(getattr(dataset, "max_queue_size", 10) or workers))
    indices = iter(order)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="strided-loader")
    pending = collections.deque()
    try:
        for i in itertools.islice(indices, ahead):
            pending.append(pool.submit(dataset.__getitem__, int(i)))
        while pending:
            batch = pending.popleft().result()  # an exception in __getitem__ surfaces here, in order
            nxt = next(indices, None)
            if nxt is not None:
                pending.append(pool.submit(dataset.__getitem__, int(nxt)))
            yield batch
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def check_class_weight(class_weight, num_classes=None):
    """``class_weight`` maps class indices (integers, < ``num_classes`` when known) to numbers."""
    if not isinstance(class_weight, dict):
        raise TypeError(
            "Invalid type for argument `class_weight`: expected a dict mapping class indices to "
            f"weights. Received: class_weight={class_weight!r}"
        )
    for k, v in class_weight.items():
        # integer-valued float keys (``dict(zip(np.unique(y_float), ...))``) are accepted as tf.keras 2 did
        integral = isinstance(k, (int, np.integer)) or (isinstance(k, (float, np.floating)) and float(k).is_integer())
        if isinstance(k, (bool, np.bool_)) or not integral:
            raise TypeError(
                "Invalid type for argument `class_weight`: its keys must be integer class indices "
                f"(e.g. {{0: 1.0, 1: 5.0}}). Received: class_weight={class_weight!r} with key {k!r} of "
                f"type {type(k).__name__}."
            )
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
            raise TypeError(
                "Invalid type for argument `class_weight`: its values must be numbers. "
                f"Received: class_weight={class_weight!r} with value {v!r} for class {k}."
            )
    keys = [int(k) for k in class_weight]
    if any(k < 0 for k in keys):
        raise ValueError(
            f"Invalid value for argument `class_weight`: class indices must be >= 0. "
            f"Received: class_weight={class_weight!r}"
        )
    if num_classes is not None and keys and max(keys) >= num_classes:
        raise ValueError(
            f"Invalid value for argument `class_weight`: the model's output has {num_classes} classes "
            f"(indices 0 to {num_classes - 1}), but class_weight has the key {max(keys)}. "
            f"Received: class_weight={class_weight!r}"
        )
    return keys


def class_weight_to_sample_weight(class_weight, y, device=None, num_classes=None):
    """Per-sample weights `class_weight[class of y]` (one-hot rows use their argmax), on the device."""
    if isinstance(y, (list, tuple, dict)):
        raise ValueError("`class_weight` is only supported for Models with a single output.")
    if num_classes is None and y.ndim >= 2 and y.shape[-1] > 1:
        num_classes = int(y.shape[-1])  # one-hot targets tell the number of classes
    keys = check_class_weight(class_weight, num_classes)
    table = torch.ones(max(keys) + 1 if keys else 1, dtype=config.torch_dtype(), device=y.device)
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    if y.ndim >= 2 and y.shape[-1] > 1:
        classes = y.argmax(dim=-1)
    else:
        classes = y.reshape(y.shape[0], -1)[:, 0]
        classes = classes.round().long() if classes.is_floating_point() else classes.long()
    if classes.ndim > 1:
        classes = classes.reshape(classes.shape[0], -1)[:, 0]
    if int(classes.max()) >= table.shape[0]:  # classes without a weight get 1, as Keras fills missing ones
        pad = torch.ones(int(classes.max()) + 1 - table.shape[0], dtype=table.dtype, device=table.device)
        table = torch.cat([table, pad])
    return table[classes]


def train_validation_split(arrays, validation_split):
    """Splits array structures: training = first `1 - split` fraction, validation = the LAST samples (Keras)."""
    n = None
    for leaf in tree.flatten(arrays, none_is_leaf=False):
        n = int(leaf.shape[0])
        break
    if n is None:
        return arrays, arrays
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a "
            f"validation and training set as specified by `validation_split={validation_split}`. "
            "Either provide more data, or a different value for the `validation_split` argument."
        )
    first = tree.map_structure(lambda a: a[:split_at], arrays, none_is_leaf=False)
    last = tree.map_structure(lambda a: a[split_at:], arrays, none_is_leaf=False)
    return first, last


def _repeats_forever(data):
    """Whether ``data`` is a dataset of infinite cardinality (``Dataset.repeat()``)."""
    cardinality = getattr(data, "cardinality", None)
    if not callable(cardinality) or isinstance(data, type):
        return False
    try:
        return int(cardinality()) == -1  # tf.data's INFINITE_CARDINALITY
    except (TypeError, ValueError):
        return False


class EpochIterator:
    """Yields `(step, batch)` for one epoch, following Keras's `steps_per_epoch` rules.

    With `steps_per_epoch` set, the underlying iterator continues across epochs and is
    restarted only when the data runs out; with `steps_per_epoch=None` each epoch is one
    full pass.
    """

    def __init__(self, adapter, steps_per_epoch=None, shard=False):
        if steps_per_epoch is None and _repeats_forever(getattr(adapter, "data", None)):
            raise ValueError(
                "The dataset repeats forever (`.repeat()`), so an epoch would never end. Pass "
                "`steps_per_epoch` to `fit()` (`validation_steps` for validation data, `steps` to "
                "`evaluate()`/`predict()`)."
            )
        self.adapter = adapter
        # Data parallelism: each rank keeps its share of every global batch (distribute.local_slice).
        self.shard = shard and distribute.world_size() > 1
        self.steps_per_epoch = steps_per_epoch
        self._iterator = None
        self._steps_seen = 0
        self.ran_out = False
        self.global_batch_size = None  # samples in the last global batch, before sharding

    @property
    def num_batches(self):
        return self.steps_per_epoch or self.adapter.num_batches

    def _warn_ran_out(self, stop=True):
        warnings.warn(
            "Your input ran out of data; interrupting training. Make sure that your dataset or "
            "generator can generate at least `steps_per_epoch * epochs` batches. You may need to "
            "use the `.repeat()` function when building your dataset.",
            stacklevel=3,
        )
        self.ran_out = stop

    def enumerate_epoch(self):
        known = self.adapter.num_batches
        if self.steps_per_epoch is None or self._iterator is None:
            self._iterator = iter(self.adapter.make_iterator())
            self._steps_seen = 0
        step = 0
        limit = self.steps_per_epoch if self.steps_per_epoch is not None else known
        while limit is None or step < limit:
            if known and self._steps_seen >= known:
                if self.steps_per_epoch:
                    # Keras: a short epoch, then the data restarts at the next one.
                    self._warn_ran_out(stop=False)
                break
            try:
                batch = next(self._iterator)
            except StopIteration:
                if self.steps_per_epoch is not None:
                    self._warn_ran_out()
                self._iterator = None
                break
            self._steps_seen += 1
            if self.shard:
                batch, self.global_batch_size = _local_share(batch)
            yield step, batch
            step += 1
        if known and self._steps_seen >= known:
            self._iterator = None
            self._steps_seen = 0
        self.adapter.on_epoch_end()


def _local_share(batch):
    """This rank's consecutive share of a global batch (every leaf sliced on its first axis), and the
    global batch size."""
    leaves = [t for t in tree.flatten(batch, none_is_leaf=False) if hasattr(t, "shape") and len(t.shape)]
    if not leaves:
        return batch, None
    size = int(leaves[0].shape[0])
    start, stop = distribute.local_slice(size)
    share = tree.map_structure(
        lambda t: t[start:stop] if hasattr(t, "shape") and len(t.shape) else t, batch, none_is_leaf=False
    )
    return share, size


def make_adapter(
    x,
    y=None,
    sample_weight=None,
    batch_size=None,
    shuffle=False,
    class_weight=None,
    device=None,
    arg_prefix="",
    check_nan=True,
    num_classes=None,
):
    """Picks the adapter for `x`; `y`/`sample_weight` must be None for non-array inputs (Keras rule)."""
    if x is None:
        raise ValueError(f"Invalid value for argument `{arg_prefix}x`: no data given. Received: x=None.")
    if is_array_structure(x):
        if y is not None and not is_array_structure(y):
            raise TypeError(
                f"Invalid type for argument `{arg_prefix}y`: expected arrays matching `x`. "
                f"Received y of type {type(y).__name__}."
            )
        adapter = ArrayAdapter(
            x,
            y,
            sample_weight,
            batch_size=batch_size or 32,
            shuffle=shuffle,
            device=device,
            check_nan=check_nan,
            arg_prefix=arg_prefix,
        )
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("You cannot use `class_weight` and `sample_weight` at the same time.")
            if adapter.y is None:
                raise ValueError("`class_weight` needs targets `y`.")
            adapter.sample_weight = class_weight_to_sample_weight(
                class_weight, adapter.y, adapter.device, num_classes=num_classes
            )
        return adapter
    if y is not None:
        raise ValueError(
            "When providing `x` as a generator, dataset or Sequence, `y` should not be passed: "
            "the targets come from the batches `x` yields. Received: "
            f"x={type(x).__name__}, y={type(y).__name__}"
        )
    if sample_weight is not None:
        raise ValueError(
            "`sample_weight` argument is not supported when `x` is a generator, dataset or "
            "Sequence. Instead pass sample weights as the third element of each batch."
        )
    if not (hasattr(x, "__iter__") or (hasattr(x, "__getitem__") and hasattr(x, "__len__"))):
        raise TypeError(
            f"Unrecognized data type: x={x!r} (of type {type(x).__name__}). Expected NumPy arrays, "
            "torch tensors, lists/dicts of them, a generator, a torch DataLoader or a "
            "Sequence/PyDataset."
        )
    if class_weight is not None:
        check_class_weight(class_weight, num_classes)
    return IterableAdapter(x, shuffle=shuffle, device=device, class_weight=class_weight)
