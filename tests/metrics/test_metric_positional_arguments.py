"""Metrics built with Keras's positional arguments compute what Keras computes with the same call."""

import numpy as np
import pytest

from strided import metrics as M

RNG = np.random.default_rng(3)
N, C = 16, 6
SCORES = RNG.random((N, C)).astype("float32")
SPARSE = RNG.integers(0, C, N)
ONEHOT = np.eye(C, dtype="float32")[SPARSE]
LOGITS = RNG.normal(size=(N, C)).astype("float32")
BINARY = RNG.integers(0, 2, (N, 1)).astype("float32")
BINARY_SCORES = RNG.random((N, 1)).astype("float32")

# (class, positional arguments, y_true, y_pred): each call is Keras's positional order.
CASES = [
    ("TopKCategoricalAccuracy", (2,), ONEHOT, SCORES),
    ("SparseTopKCategoricalAccuracy", (3,), SPARSE, SCORES),
    ("SparseTopKCategoricalAccuracy", (2, "ids", None, True), SPARSE, np.argsort(-SCORES, axis=-1)),
    ("BinaryAccuracy", ("acc", None, 0.8), BINARY, BINARY_SCORES),
    ("BinaryCrossentropy", ("bce", None, True, 0.1), BINARY, LOGITS[:, :1]),
    ("CategoricalCrossentropy", ("cce", None, True, 0.2, -1), ONEHOT, LOGITS),
    ("SparseCategoricalCrossentropy", ("scce", None, True, 2, -1), SPARSE, LOGITS),
    ("CosineSimilarity", ("cos", None, 0), LOGITS, SCORES),
]


def _value(metric, y_true, y_pred):
    metric.update_state(y_true, y_pred)
    return float(metric.result())


@pytest.mark.keras
@pytest.mark.parametrize("name, args, y_true, y_pred", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_positional_arguments_match_keras(real_keras, name, args, y_true, y_pred):
    ours, theirs = getattr(M, name)(*args), getattr(real_keras.metrics, name)(*args)
    ours_config, their_config = ours.get_config(), theirs.get_config()
    # strided also writes CosineSimilarity's axis (Keras's config leaves it out and reloads axis=-1).
    assert {k: ours_config[k] for k in their_config} == their_config
    np.testing.assert_allclose(_value(ours, y_true, y_pred), _value(theirs, y_true, y_pred), rtol=1e-5, atol=1e-6)


def test_top_k_first_argument_is_k():
    # Target ranked 2nd for every sample: top-1 misses all, top-2 finds all.
    y_pred = np.array([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1]], dtype="float32")
    y_true = np.eye(3, dtype="float32")[[2, 1]]
    top1, top2 = M.TopKCategoricalAccuracy(1), M.TopKCategoricalAccuracy(2)
    assert (top1.k, top1.name, top2.k) == (1, "top_k_categorical_accuracy", 2)
    assert _value(top1, y_true, y_pred) == 0.0 and _value(top2, y_true, y_pred) == 1.0


def test_positional_config_round_trip():
    metric = M.SparseTopKCategoricalAccuracy(3, "top3")
    assert metric.get_config() == {"name": "top3", "dtype": "float32", "k": 3}
    assert M.SparseTopKCategoricalAccuracy.from_config(metric.get_config()).k == 3


def test_too_many_or_unknown_arguments_raise():
    with pytest.raises(TypeError, match=r"BinaryAccuracy.__init__\(\) too many positional arguments"):
        M.BinaryAccuracy("acc", None, 0.5, 1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'treshold'"):
        M.BinaryAccuracy(treshold=0.3)
