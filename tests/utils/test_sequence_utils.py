"""keras.utils.pad_sequences against real Keras."""

import numpy as np
import pytest

import strided


def test_pad_sequences_matches_keras(real_keras):
    seqs = [[1], [2, 3], [4, 5, 6, 7], []]
    for kw in [
        {},
        dict(maxlen=2),
        dict(padding="post", truncating="post", maxlen=3, value=-1),
        dict(dtype="float32", value=0.5),
    ]:
        ours, theirs = strided.utils.pad_sequences(seqs, **kw), real_keras.utils.pad_sequences(seqs, **kw)
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == theirs.dtype
    vectors = [np.ones((2, 3)), np.zeros((1, 3))]
    np.testing.assert_array_equal(
        strided.utils.pad_sequences(vectors, dtype="float32"), real_keras.utils.pad_sequences(vectors, dtype="float32")
    )
    with pytest.raises(ValueError, match="Padding type"):
        strided.utils.pad_sequences(seqs, padding="middle")
    with pytest.raises(ValueError, match="dtype=object"):
        strided.utils.pad_sequences([["a"]], value="x")
