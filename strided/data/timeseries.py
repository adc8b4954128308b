"""``timeseries_dataset_from_array``: sliding windows over a time series, as batches (Keras utility)."""

import numpy as np

from strided.data.dataset import BatchDataset


class TimeseriesDataset(BatchDataset):
    """The dataset of ``timeseries_dataset_from_array``: ``len()`` batches of windows (and targets), each a
    NumPy array; usable directly in ``fit``, ``evaluate`` and ``predict``, with the ``tf.data`` methods of
    :class:`strided.data.Dataset`."""

    def __init__(self, data, targets, positions, sequence_length, sampling_rate, batch_size):
        super().__init__(batch_size=batch_size, shuffle=False)  # positions arrive already shuffled
        self._data, self._targets, self._positions = data, targets, positions
        self._offsets = np.arange(sequence_length) * sampling_rate

    def _num_items(self):
        return len(self._positions)

    def _get(self, indices):
        starts = self._positions[np.asarray(indices, dtype=np.int64)]
        x = self._data[starts[:, None] + self._offsets]
        if self._targets is None:
            return x
        return x, self._targets[starts]


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length,
    sequence_stride=1,
    sampling_rate=1,
    batch_size=128,
    shuffle=False,
    seed=None,
    start_index=None,
    end_index=None,
):
    """Creates a dataset of sliding windows over a timeseries provided as array.

    Window ``i`` holds ``data[start_index + p_i + k * sampling_rate]`` for ``k`` in
    ``range(sequence_length)``, with window starts ``p_i = 0, sequence_stride, 2 * sequence_stride, ...``;
    its target is ``targets[start_index + p_i]`` (Keras's pairing: the target of a window is the one at its
    first step; shift ``targets`` to predict ahead).

    Args:
        data: array of timesteps (axis 0 is time).
        targets: targets matching the timesteps of ``data``, or ``None`` for windows only.
        sequence_length: length of the output sequences (in number of timesteps).
        sequence_stride: period between successive output sequences.
        sampling_rate: period between successive individual timesteps within sequences.
        batch_size: number of windows per batch (default 128); ``None`` yields single windows.
        shuffle: whether to shuffle the windows (their order is drawn once with ``seed``, as Keras draws
            its start positions; Keras's tf.data version also shuffles inside a moving buffer, which
            strided does not).
        seed: optional random seed for shuffling.
        start_index, end_index: optional bounds of the part of ``data`` used (``end_index`` exclusive).

    Returns:
        A :class:`strided.data.Dataset` of batches ``(windows, targets)`` (or ``windows``), NumPy arrays of shape
        ``(batch, sequence_length, ...)``.

    Example: windows of 10 steps predicting the step right after them:

    ```python
    ds = keras.utils.timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)
    ```
    """
    data = np.asarray(data)
    targets = None if targets is None else np.asarray(targets)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        if start_index >= len(data):
            raise ValueError(
                "`start_index` must be lower than the length of the data. Received: "
                f"start_index={start_index}, for data of length {len(data)}"
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "`end_index` must be higher than `start_index`. Received: "
                f"start_index={start_index}, and end_index={end_index} "
            )
        if end_index >= len(data):
            raise ValueError(
                "`end_index` must be lower than the length of the data. Received: "
                f"end_index={end_index}, for data of length {len(data)}"
            )
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for arg, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{arg}` must be higher than 0. Received: {arg}={value}")
        if value >= len(data):
            raise ValueError(
                f"`{arg}` must be lower than the length of the data. Received: {arg}={value}, "
                f"for data of length {len(data)}"
            )
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size <= 0):
        raise ValueError(
            f"Invalid value for argument `batch_size`. Expected a positive integer or None. "
            f"Received: batch_size={batch_size!r}"
        )
    start_index = start_index or 0
    end_index = len(data) if end_index is None else end_index
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(positions)
    data_part = data[start_index:end_index]
    target_part = None if targets is None else targets[start_index:]
    return TimeseriesDataset(data_part, target_part, positions, sequence_length, sampling_rate, batch_size)
