"""Metrics: values vs real Keras over several batches with sample weights, state handling, the
'accuracy' resolution rule, registry."""

import numpy as np
import pytest
import torch

from strided import metrics as M

RNG = np.random.default_rng(7)
N, C = 12, 5


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _batch(kind):
    if kind == "binary":
        return RNG.integers(0, 2, (N, 1)).astype("float32"), RNG.random((N, 1)).astype("float32")
    if kind == "multilabel":
        return RNG.integers(0, 2, (N, C)).astype("float32"), RNG.random((N, C)).astype("float32")
    if kind == "onehot":
        p = RNG.random((N, C)).astype("float32")
        return np.eye(C, dtype="float32")[RNG.integers(0, C, N)], p / p.sum(-1, keepdims=True)
    if kind == "sparse":
        p = RNG.random((N, C)).astype("float32")
        return RNG.integers(0, C, N), p / p.sum(-1, keepdims=True)
    if kind == "sparse_col":
        p = RNG.random((N, C)).astype("float32")
        return RNG.integers(0, C, (N, 1)).astype("float32"), p / p.sum(-1, keepdims=True)
    if kind == "real":
        return RNG.normal(size=(N, C)).astype("float32"), RNG.normal(size=(N, C)).astype("float32")
    if kind == "positive":
        return RNG.random((N, C)).astype("float32"), RNG.random((N, C)).astype("float32")
    raise KeyError(kind)


CASES = [
    ("Accuracy", {}, "sparse_col"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.3}, "multilabel"),
    ("CategoricalAccuracy", {}, "onehot"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "sparse_col"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse"),
    ("MeanSquaredError", {}, "real"),
    ("MeanAbsoluteError", {}, "real"),
    ("MeanAbsolutePercentageError", {}, "real"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("RootMeanSquaredError", {}, "real"),
    ("CosineSimilarity", {}, "real"),
    ("LogCoshError", {}, "real"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "multilabel"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "onehot"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("KLDivergence", {}, "onehot"),
    ("Poisson", {}, "positive"),
    ("Hinge", {}, "multilabel"),
    ("SquaredHinge", {}, "multilabel"),
    ("CategoricalHinge", {}, "onehot"),
    ("TruePositives", {}, "binary"),
    ("FalsePositives", {"thresholds": [0.2, 0.6]}, "binary"),
    ("TrueNegatives", {}, "multilabel"),
    ("FalseNegatives", {}, "binary"),
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.1, 0.5, 0.8]}, "multilabel"),
    ("Precision", {"top_k": 2}, "multilabel"),
    ("Recall", {"class_id": 1}, "multilabel"),
    ("Recall", {"top_k": 1, "class_id": 2}, "onehot"),
    ("AUC", {}, "binary"),
    ("AUC", {"num_thresholds": 17}, "multilabel"),
    ("AUC", {"curve": "PR"}, "binary"),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, "multilabel"),
    ("AUC", {"summation_method": "minoring"}, "binary"),
    ("AUC", {"thresholds": [0.3, 0.5, 0.9]}, "binary"),
    ("AUC", {"multi_label": True}, "multilabel"),
    ("AUC", {"from_logits": True, "curve": "PR"}, "multilabel"),
]


@pytest.mark.parametrize("name,kwargs,kind", CASES)
def test_metric_matches_keras(real_keras, name, kwargs, kind):
    ours = getattr(M, name)(**kwargs)
    ref = getattr(real_keras.metrics, name)(**kwargs)
    for use_weight in (False, True, False):
        y_true, y_pred = _batch(kind)
        if kind == "binary" and name == "AUC" and kwargs.get("from_logits"):
            y_pred = y_pred * 6 - 3
        w = RNG.random(N).astype("float32") if use_weight else None
        ours.update_state(y_true, y_pred, sample_weight=w)
        ref.update_state(y_true, y_pred, sample_weight=w)
        np.testing.assert_allclose(_np(ours.result()), _np(ref.result()), rtol=2e-5, atol=1e-6)
    assert ref.name.startswith(ours.name)  # Keras appends _1, _2 to repeated auto names
    ref_cfg = ref.get_config()
    ours_cfg = ours.get_config()
    for key in ref_cfg:
        if key != "name":
            assert ours_cfg.get(key) == ref_cfg[key], key
    ours.reset_state()
    ref.reset_state()
    np.testing.assert_allclose(_np(ours.result()), _np(ref.result()), atol=1e-7)


def test_mean_and_sum_goldens():
    m = M.Mean()
    m.update_state([1.0, 2.0, 3.0])
    m.update_state(np.array([10.0]), sample_weight=[2.0])
    assert float(m.result()) == pytest.approx((6 + 20) / 5)
    s = M.Sum()
    s.update_state(np.array([[1.0, 2.0], [3.0, 4.0]]), sample_weight=[1.0, 0.5])
    assert float(s.result()) == pytest.approx(3 + 3.5)
    assert isinstance(m.result(), torch.Tensor) and m.result().dim() == 0
    assert m(np.array([0.0])).dim() == 0  # __call__ updates and returns the result


def test_state_is_device_tensors_and_results_are_tensors():
    acc = M.SparseCategoricalAccuracy()
    logits = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    acc.update_state(torch.tensor([1, 1, 1]), logits)
    assert all(isinstance(v, torch.Tensor) for v in acc.variables) and len(acc.variables) == 2
    assert float(acc.result()) == pytest.approx(2 / 3)
    acc.reset_state()
    assert float(acc.result()) == 0.0


def test_mean_metric_wrapper_with_loss_function():
    from strided import losses

    m = M.MeanMetricWrapper(losses.mean_absolute_error, name="mae")
    m.update_state(np.zeros((2, 3)), np.ones((2, 3)) * 2)
    assert float(m.result()) == pytest.approx(2.0)
    assert m.name == "mae"


@pytest.mark.parametrize(
    "t_shape,p_shape,loss,expected",
    [
        ((32, 1), (32, 1), "binary_crossentropy", "BinaryAccuracy"),
        ((32,), (32, 1), "binary_crossentropy", "BinaryAccuracy"),
        ((32,), (32, 10), "sparse_categorical_crossentropy", "SparseCategoricalAccuracy"),
        ((32, 1), (32, 10), "sparse_categorical_crossentropy", "SparseCategoricalAccuracy"),
        ((32, 10), (32, 10), "categorical_crossentropy", "CategoricalAccuracy"),
        ((32, 10), (32, 10), "binary_crossentropy", "BinaryAccuracy"),  # multi-label, as tf.keras 2
        ((32, 10), (32, 10), None, "CategoricalAccuracy"),
    ],
)
def test_get_accuracy_metric_rule(t_shape, p_shape, loss, expected):
    m = M.get_accuracy_metric(t_shape, p_shape, loss, "acc")
    assert type(m).__name__ == expected and m.name == "acc"


def test_registry():
    assert isinstance(M.get("mse"), M.MeanSquaredError)
    assert isinstance(M.get("AUC"), M.AUC) and isinstance(M.get("auc"), M.AUC)
    assert isinstance(M.get("precision"), M.Precision)
    p = M.Precision(thresholds=[0.3, 0.7], name="p")
    back = M.deserialize(M.serialize(p))
    assert isinstance(back, M.Precision) and back.thresholds == [0.3, 0.7] and back.name == "p"
    assert M.get(p) is p
    with pytest.raises(ValueError, match="Did you mean 'precision'"):
        M.get("precison")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        M.Precision(thresholds=[1.5])
    with pytest.raises(ValueError, match="num_thresholds"):
        M.AUC(num_thresholds=1)
