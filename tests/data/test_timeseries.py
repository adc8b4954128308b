"""keras.utils.timeseries_dataset_from_array: Keras's windows (a golden from real Keras 3.15.1), shuffling, errors."""

import numpy as np
import pytest
import torch

import strided
from strided import layers

# timeseries_dataset_from_array(np.arange(20), np.arange(100, 120), sequence_length=4, sequence_stride=3,
# sampling_rate=2, batch_size=2, start_index=1, end_index=18) in real Keras 3.15.1
_GOLDEN = [[[[1, 3, 5, 7], [4, 6, 8, 10]], [101, 104]], [[[7, 9, 11, 13], [10, 12, 14, 16]], [107, 110]]]


def _np(x):
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)


def test_timeseries_dataset_matches_keras_golden():
    ds = strided.utils.timeseries_dataset_from_array(
        np.arange(20),
        np.arange(100, 120),
        sequence_length=4,
        sequence_stride=3,
        sampling_rate=2,
        batch_size=2,
        start_index=1,
        end_index=18,
    )
    got = [[_np(x).tolist(), _np(y).tolist()] for x, y in ds]
    assert got == _GOLDEN
    shuffled = strided.utils.timeseries_dataset_from_array(
        np.arange(50), None, sequence_length=5, batch_size=4, shuffle=True, seed=3
    )
    windows = np.concatenate([b for b in shuffled])
    assert len(windows) == 46 and sorted(windows[:, 0].tolist()) == list(range(46))
    assert all(np.array_equal(w, np.arange(w[0], w[0] + 5)) for w in windows)
    with pytest.raises(ValueError, match="sampling_rate=0"):
        strided.utils.timeseries_dataset_from_array(np.arange(10), None, 3, sampling_rate=0)


def test_timeseries_dataset_trains_a_model():
    series = np.sin(np.arange(200) / 5).astype("float32")
    ds = strided.utils.timeseries_dataset_from_array(series[:-8, None], series[8:], sequence_length=8, batch_size=32)
    model = strided.Sequential([strided.Input((8, 1)), layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
