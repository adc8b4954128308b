"""Losses: values vs real Keras (torch backend) and NumPy, reductions, sample weights, errors, registry."""

import numpy as np
import pytest
import torch

from strided import losses as L

RNG = np.random.default_rng(1)
N, C = 6, 4


def _probs(n=N, c=C):
    p = RNG.random((n, c)).astype("float32") + 0.05
    return p / p.sum(-1, keepdims=True)


def _onehot(n=N, c=C):
    return np.eye(c, dtype="float32")[RNG.integers(0, c, n)]


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


CLASS_CASES = [
    ("CategoricalCrossentropy", {}, "onehot", "probs"),
    ("CategoricalCrossentropy", {"from_logits": True}, "onehot", "logits"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "onehot", "probs"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "onehot", "logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse", "probs"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse", "logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse_col", "probs"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}, "sparse", "logits"),
    ("BinaryCrossentropy", {}, "binary", "sigmoid"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binary", "logits"),
    ("BinaryCrossentropy", {}, "binary_flat", "sigmoid_col"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True}, "binary", "sigmoid"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "gamma": 1.5}, "binary", "logits"),
    ("CategoricalFocalCrossentropy", {}, "onehot", "probs"),
    ("MeanSquaredError", {}, "real", "logits"),
    ("MeanAbsoluteError", {}, "real", "logits"),
    ("MeanAbsolutePercentageError", {}, "real", "logits"),
    ("MeanSquaredLogarithmicError", {}, "real", "sigmoid"),
    ("Huber", {"delta": 0.7}, "real", "logits"),
    ("LogCosh", {}, "real", "logits"),
    ("Hinge", {}, "binary", "logits"),
    ("SquaredHinge", {}, "pm1", "logits"),
    ("CategoricalHinge", {}, "onehot", "logits"),
    ("KLDivergence", {}, "onehot", "probs"),
    ("Poisson", {}, "sigmoid", "sigmoid"),
    ("CosineSimilarity", {}, "real", "logits"),
]


def _make(kind):
    if kind == "onehot":
        return _onehot()
    if kind == "sparse":
        return RNG.integers(0, C, N).astype("int64")
    if kind == "sparse_col":
        return RNG.integers(0, C, (N, 1)).astype("float32")
    if kind == "binary":
        return RNG.integers(0, 2, (N, C)).astype("float32")
    if kind == "binary_flat":
        return RNG.integers(0, 2, N).astype("float32")
    if kind == "pm1":
        return (RNG.integers(0, 2, (N, C)) * 2 - 1).astype("float32")
    if kind == "real":
        return RNG.normal(size=(N, C)).astype("float32")
    if kind == "probs":
        return _probs()
    if kind == "logits":
        return (RNG.normal(size=(N, C)) * 2).astype("float32")
    if kind == "sigmoid":
        return RNG.random((N, C)).astype("float32")
    if kind == "sigmoid_col":
        return RNG.random((N, 1)).astype("float32")
    raise KeyError(kind)


@pytest.mark.parametrize("cls_name,kwargs,tkind,pkind", CLASS_CASES)
def test_loss_classes_match_keras(real_keras, cls_name, kwargs, tkind, pkind):
    y_true, y_pred = _make(tkind), _make(pkind)
    sw = RNG.random(N).astype("float32")
    for reduction in ("sum_over_batch_size", "sum", None, "mean_with_sample_weight"):
        ours = getattr(L, cls_name)(reduction=reduction, **kwargs)
        ref = getattr(real_keras.losses, cls_name)(reduction=reduction, **kwargs)
        for weight in (None, sw):
            got = _np(ours(y_true, y_pred, sample_weight=weight))
            want = _np(ref(y_true, y_pred, sample_weight=weight))
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{reduction} {weight is not None}")
    # Keras's Huber/CosineSimilarity configs drop delta/axis; ours keep them so from_config round-trips.
    assert ref.get_config().items() <= ours.get_config().items()


@pytest.mark.parametrize(
    "name",
    [
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "binary_crossentropy",
        "mse",
        "mae",
        "mape",
        "msle",
        "kld",
        "huber",
        "log_cosh",
        "hinge",
        "squared_hinge",
        "categorical_hinge",
        "poisson",
        "cosine_similarity",
    ],
)
def test_loss_functions_match_keras(real_keras, name):
    y_pred = _probs()
    y_true = RNG.integers(0, C, N) if name.startswith("sparse") else _onehot()
    got = _np(L.get(name)(y_true, y_pred))
    want = _np(real_keras.losses.get(name)(y_true, y_pred))
    assert got.shape == (N,)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_categorical_crossentropy_numpy_reference():
    # Keras semantics: renormalise by the sum, clip to [eps, 1-eps], then -sum(y log p).
    p = np.array([[0.2, 0.3, 0.5], [2.0, 1.0, 1.0], [1.0, 0.0, 0.0]], "float32")
    y = np.eye(3, dtype="float32")[[2, 0, 1]]
    q = np.clip(p / p.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
    want = -(y * np.log(q)).sum(-1)
    np.testing.assert_allclose(_np(L.categorical_crossentropy(y, p)), want, rtol=1e-6)
    np.testing.assert_allclose(_np(L.CategoricalCrossentropy()(y, p)), want.mean(), rtol=1e-6)
    # sample weights: sum(w * l) / N (not / sum(w))
    w = np.array([1.0, 0.0, 2.0], "float32")
    np.testing.assert_allclose(_np(L.CategoricalCrossentropy()(y, p, sample_weight=w)), (w * want).sum() / 3, rtol=1e-6)


def test_sparse_labels_int_float_and_column_agree():
    p = _probs()
    lab = RNG.integers(0, C, N)
    a = _np(L.sparse_categorical_crossentropy(lab, p))
    b = _np(L.sparse_categorical_crossentropy(lab.astype("float32"), p))
    c = _np(L.sparse_categorical_crossentropy(lab.reshape(-1, 1).astype("int32"), p))
    d = _np(L.categorical_crossentropy(np.eye(C)[lab], p))
    np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(a, c, rtol=1e-6)
    np.testing.assert_allclose(a, d, rtol=1e-5)


def test_gradients_flow_and_match_finite_differences():
    logits = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 2, 1, 1, 0])
    loss = L.SparseCategoricalCrossentropy(from_logits=True)
    torch.autograd.gradcheck(lambda z: loss(labels, z), (logits,))
    y = torch.nn.functional.one_hot(labels, 3).double()
    # d/dz mean CE with logits = (softmax - y) / N
    loss2 = L.CategoricalCrossentropy(from_logits=True)(y, logits)
    loss2.backward()
    want = (torch.softmax(logits, -1) - y) / 5
    torch.testing.assert_close(logits.grad, want.detach())


def test_shape_errors_name_the_right_loss():
    p = _probs()
    with pytest.raises(ValueError, match=r"y_true.shape=\(6,\).*use `sparse_categorical_crossentropy`"):
        L.CategoricalCrossentropy()(RNG.integers(0, C, N), p)
    with pytest.raises(ValueError, match="one-hot.*categorical_crossentropy"):
        L.SparseCategoricalCrossentropy()(_onehot(), p)
    with pytest.raises(ValueError, match="same shape"):
        L.binary_crossentropy(np.zeros((N, 3)), np.zeros((N, 2)))


def test_check_labels():
    p = _probs()
    with pytest.raises(ValueError, match=r"label value of 7 .*\[0, 3\]"):
        L.check_labels("sparse_categorical_crossentropy", np.array([0, 7, 1, 1, 2, 0]), p)
    with pytest.raises(ValueError, match="non-integer"):
        L.check_labels(L.SparseCategoricalCrossentropy(), np.array([0.5, 1, 1, 1, 2, 0]), p)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        L.check_labels("categorical_crossentropy", _onehot() * 3, p)
    L.check_labels(L.SparseCategoricalCrossentropy(ignore_class=-1), np.array([0, -1, 1, 1, 2, 0]), p)
    L.check_labels("categorical_crossentropy", _onehot(), p)
    with pytest.warns(UserWarning, match="logits"):
        L.check_labels("categorical_crossentropy", _onehot(), p * 10 - 5)


def test_registry_get_serialize():
    assert L.get("categorical_crossentropy") is L.categorical_crossentropy
    assert L.get("mse") is L.mean_squared_error
    assert L.get("kld") is L.kl_divergence
    obj = L.get("CategoricalCrossentropy")
    assert isinstance(obj, L.CategoricalCrossentropy) and obj.name == "categorical_crossentropy"
    obj = L.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert obj.from_logits is True
    round_trip = L.deserialize(L.serialize(L.Huber(delta=2.5, reduction="sum")))
    assert round_trip.get_config() == L.Huber(delta=2.5, reduction="sum").get_config()
    assert L.deserialize(L.serialize(L.mean_absolute_error)) is L.mean_absolute_error
    inst = L.BinaryCrossentropy()
    assert L.get(inst) is inst
    with pytest.raises(ValueError, match="Did you mean 'categorical_crossentropy'.*Received: loss="):
        L.get("categorical_crossentropyy")
    with pytest.raises(ValueError, match="reduction"):
        L.MeanSquaredError(reduction="avg")


def test_fn_attribute_binds_config():
    loss = L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    y, z = _onehot(), RNG.normal(size=(N, C)).astype("float32")
    np.testing.assert_allclose(
        _np(loss.fn(y, z)), _np(L.categorical_crossentropy(y, z, from_logits=True, label_smoothing=0.1))
    )
    assert loss.name == "categorical_crossentropy" and loss.from_logits


def test_loss_function_wrapper_and_custom_loss():
    w = L.LossFunctionWrapper(L.mean_squared_error, name="mse")
    y, p = RNG.normal(size=(N, 2)), RNG.normal(size=(N, 2))
    np.testing.assert_allclose(_np(w(y, p)), ((y - p) ** 2).mean(), rtol=1e-5)

    class Custom(L.Loss):
        def call(self, y_true, y_pred):
            return (torch.as_tensor(y_pred) - torch.as_tensor(y_true)).abs().sum(-1)

    np.testing.assert_allclose(_np(Custom(reduction="sum")(y, p)), np.abs(y - p).sum(), rtol=1e-5)


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        ("Dice", {}),
        ("Dice", {"axis": (1, 2, 3)}),
        ("Tversky", {}),
        ("Tversky", {"alpha": 0.7, "beta": 0.3, "axis": (1, 2, 3)}),
    ],
)
def test_segmentation_losses_match_keras(real_keras, cls, kwargs):
    import strided

    rng = np.random.default_rng(8)
    y_true = (rng.random((3, 6, 6, 1)) > 0.5).astype("float32")
    y_pred = rng.random((3, 6, 6, 1)).astype("float32")
    ours = getattr(strided.losses, cls)(**kwargs)
    theirs = getattr(real_keras.losses, cls)(**kwargs)
    np.testing.assert_allclose(np.asarray(ours(y_true, y_pred)), np.asarray(theirs(y_true, y_pred)), rtol=1e-5)
    fn = cls.lower()
    np.testing.assert_allclose(
        np.asarray(getattr(strided.losses, fn)(y_true, y_pred, **kwargs)),
        np.asarray(getattr(real_keras.losses, fn)(y_true, y_pred, **kwargs)),
        rtol=1e-5,
    )
    rebuilt = type(ours).from_config(ours.get_config())  # the arguments survive a config round trip
    np.testing.assert_allclose(np.asarray(rebuilt(y_true, y_pred)), np.asarray(ours(y_true, y_pred)), rtol=1e-6)
    np.testing.assert_allclose(float(strided.losses.dice(y_true, y_true)), 0.0, atol=1e-6)
