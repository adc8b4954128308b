"""``split_dataset``: split arrays (or a strided dataset) into two datasets, as ``keras.utils.split_dataset``."""

import numpy as np

from strided.data.dataset import ArrayDataset, BatchDataset


def _sizes(left_size, right_size, total):
    def check(value, name):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(
                f"Invalid type for argument `{name}`. Expected an int or a float. Received: {name}={value!r}"
            )
        if isinstance(value, (float, np.floating)):
            if not 0 < value < 1:
                raise ValueError(
                    f"Invalid value for argument `{name}`. A float must be strictly between 0 and 1. "
                    f"Received: {name}={value!r}"
                )
        elif not 0 < value <= total:
            raise ValueError(
                f"Invalid value for argument `{name}`. An int must be in [1, {total}] (the number of "
                f"samples). Received: {name}={value!r}"
            )
        return value

    left_size, right_size = check(left_size, "left_size"), check(right_size, "right_size")
    if left_size is None and right_size is None:
        raise ValueError(
            "You must provide either `left_size` or `right_size`. Received: left_size=None, right_size=None"
        )
    # Keras: a float fraction of the total, rounded for the left part and the right part both.
    left = None if left_size is None else (round(left_size * total) if isinstance(left_size, float) else int(left_size))
    right = (
        None
        if right_size is None
        else (round(right_size * total) if isinstance(right_size, float) else int(right_size))
    )
    if left is None:
        left = total - right
    if right is None:
        right = total - left
    if left + right > total:
        raise ValueError(
            f"The sum of `left_size` and `right_size` is larger than the number of samples ({total}). "
            f"Received: left_size={left_size!r}, right_size={right_size!r}"
        )
    if left == 0 or right == 0:
        raise ValueError(
            f"One of the splits is empty with {total} samples. Received: left_size={left_size!r}, "
            f"right_size={right_size!r}"
        )
    return left, right


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Splits a dataset into a left half and a right half.

    Args:
        dataset: a NumPy array, a tuple/list of arrays with the same first dimension, or an ArrayDataset.
        left_size: float in (0, 1) (fraction) or int (samples) for the left part; default: the complement.
        right_size: same for the right part; default: the complement.
        shuffle: shuffle the samples before splitting.
        seed: seed of the shuffle.

    Returns:
        ``(left, right)``: two :class:`ArrayDataset` yielding single samples (call ``.batch(n)`` for batches).
    """
    if isinstance(dataset, ArrayDataset):
        arrays = tuple(v for v in (dataset.x, dataset.y, dataset.sample_weight) if v is not None)
    elif isinstance(dataset, BatchDataset):
        raise TypeError(
            "`split_dataset` splits in-memory data. Received a file-backed dataset; use "
            "`validation_split` and `subset` of `image_dataset_from_directory` instead."
        )
    elif isinstance(dataset, (tuple, list)):
        arrays = tuple(np.asarray(v) if not hasattr(v, "shape") else v for v in dataset)
    else:
        arrays = (dataset if hasattr(dataset, "shape") else np.asarray(dataset),)
    total = len(arrays[0])
    if any(len(a) != total for a in arrays):
        raise ValueError(
            f"All arrays of `dataset` must have the same length. Received lengths {[len(a) for a in arrays]}"
        )
    left, right = _sizes(left_size, right_size, total)
    order = np.arange(total)
    if shuffle:
        np.random.RandomState(seed if seed is not None else np.random.randint(2**31)).shuffle(order)
    li, ri = order[:left], order[left : left + right]

    def make(idx):
        parts = [a[idx] for a in arrays]
        return ArrayDataset(parts[0], *(parts[1:3]), batch_size=None)

    return make(li), make(ri)


__all__ = ["split_dataset"]
