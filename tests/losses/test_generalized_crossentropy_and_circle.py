"""The losses CategoricalGeneralizedCrossEntropy and Circle equal real Keras: values with every reduction
and sample weights, gradients, compile/fit, configs and the registry, argument checks."""

import numpy as np
import pytest
import torch

import strided as keras

RNG = np.random.default_rng(11)


def _np(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def _model(units, activation):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(units, activation=activation)])
    return model


def _twin(real_keras, model, units, activation):
    twin = real_keras.Sequential([real_keras.Input((5,)), real_keras.layers.Dense(units, activation=activation)])
    twin.set_weights(model.get_weights())
    return twin


def _probs(n, c):
    p = RNG.random((n, c)).astype("float32") + 0.05
    return p / p.sum(axis=1, keepdims=True)


def _embeddings(n, d):
    e = RNG.normal(size=(n, d)).astype("float32")
    return e / np.linalg.norm(e, axis=1, keepdims=True)


REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None, "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_generalized_crossentropy_matches_keras(real_keras, reduction):
    y_true, y_pred, w = RNG.integers(0, 4, 9), _probs(9, 4), RNG.random(9).astype("float32")
    for q in (0.2, 0.5, 0.9):
        ours = keras.losses.CategoricalGeneralizedCrossEntropy(q=q, reduction=reduction)
        theirs = real_keras.losses.CategoricalGeneralizedCrossEntropy(q=q, reduction=reduction)
        for sw in (None, w):
            np.testing.assert_allclose(
                _np(ours(y_true, y_pred, sample_weight=sw)),
                _np(theirs(y_true, y_pred, sample_weight=sw)),
                rtol=1e-5,
                atol=1e-6,
            )
    np.testing.assert_allclose(
        _np(keras.losses.categorical_generalized_cross_entropy(y_true, y_pred, q=0.7)),
        _np(real_keras.losses.categorical_generalized_cross_entropy(torch.tensor(y_true), torch.tensor(y_pred), q=0.7)),
        rtol=1e-5,
    )
    # labels of shape (batch, 1) give the per-sample losses of (batch,) labels
    np.testing.assert_allclose(_np(ours(y_true[:, None], y_pred)), _np(ours(y_true, y_pred)), rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_circle_matches_keras(real_keras, reduction):
    labels = np.array([0, 0, 1, 1, 2, 3, 0, 1, 5])  # classes 2, 3 and 5 have no positive pair: masked
    emb, w = _embeddings(9, 4), RNG.random(9).astype("float32")
    for kwargs in ({}, {"gamma": 16.0, "margin": 0.25}, {"remove_diagonal": False}):
        ours = keras.losses.Circle(reduction=reduction, **kwargs)
        theirs = real_keras.losses.Circle(reduction=reduction, **kwargs)
        for sw in (None, w):
            np.testing.assert_allclose(
                _np(ours(labels, emb, sample_weight=sw)),
                _np(theirs(labels, emb, sample_weight=sw)),
                rtol=1e-5,
                atol=1e-5,
            )
    ref_labels, ref = np.array([0, 1, 2, 1, 4]), _embeddings(5, 4)
    np.testing.assert_allclose(
        _np(keras.losses.circle(labels, emb, ref_labels=ref_labels, ref_embeddings=ref, remove_diagonal=False)),
        _np(real_keras.losses.circle(labels, emb, ref_labels=ref_labels, ref_embeddings=ref, remove_diagonal=False)),
        rtol=1e-5,
        atol=1e-5,
    )


def _keras_grad(loss, y_true, y_pred, sample_weight=None, normalize=False):
    p = torch.tensor(y_pred, requires_grad=True)
    q = p / p.norm(dim=1, keepdim=True) if normalize else p
    loss(y_true, q, sample_weight=sample_weight).backward()
    return p.grad.numpy()


@pytest.mark.parametrize(
    "name, kwargs", [("CategoricalGeneralizedCrossEntropy", {"q": 0.4}), ("Circle", {"gamma": 10.0})]
)
def test_loss_gradients(real_keras, name, kwargs):
    if name == "Circle":
        y_true, y_pred, normalize = np.array([0, 0, 1, 1, 2, 1]), RNG.normal(size=(6, 3)).astype("float32"), True
    else:
        y_true, y_pred, normalize = RNG.integers(0, 3, 6), _probs(6, 3), False
    w = RNG.random(6).astype("float32")
    ours = _keras_grad(getattr(keras.losses, name)(**kwargs), y_true, y_pred, w, normalize)
    theirs = _keras_grad(getattr(real_keras.losses, name)(**kwargs), y_true, y_pred, w, normalize)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    assert np.abs(ours).max() > 0
    # and against finite differences in float64
    loss = getattr(keras.losses, name)(**kwargs)
    p = torch.tensor(y_pred, dtype=torch.float64, requires_grad=True)
    fn = (lambda q: loss(y_true, q / q.norm(dim=1, keepdim=True))) if normalize else (lambda q: loss(y_true, q))
    assert torch.autograd.gradcheck(fn, (p,))


def test_losses_in_fit_config_and_registry(real_keras):
    x = RNG.random((24, 5)).astype("float32")
    y = RNG.integers(0, 3, 24)
    model = _model(3, "softmax")
    model.compile("sgd", keras.losses.CategoricalGeneralizedCrossEntropy(q=0.3))
    twin = _twin(real_keras, model, 3, "softmax")
    twin.compile("sgd", real_keras.losses.CategoricalGeneralizedCrossEntropy(q=0.3))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), twin.evaluate(x, y, verbose=0), rtol=1e-5)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert history[-1] < history[0]

    emb = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4), keras.layers.UnitNormalization()])
    emb.compile("adam", loss="circle")
    emb.fit(x, y, epochs=1, batch_size=8, verbose=0)

    for cls, kwargs in (
        ("Circle", {"gamma": 32.0, "margin": 0.3, "remove_diagonal": False}),
        ("CategoricalGeneralizedCrossEntropy", {"q": 0.25}),
    ):
        ours, theirs = getattr(keras.losses, cls)(**kwargs), getattr(real_keras.losses, cls)(**kwargs)
        assert ours.get_config() == theirs.get_config()
        assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
        assert keras.losses.deserialize(real_keras.losses.serialize(theirs)).get_config() == ours.get_config()
    assert keras.losses.get("circle") is keras.losses.circle
    assert isinstance(keras.losses.get("Circle"), keras.losses.Circle)
    assert (
        keras.losses.get("categorical_generalized_cross_entropy") is keras.losses.categorical_generalized_cross_entropy
    )


def test_loss_bad_arguments():
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\). Received: q=1.5"):
        keras.losses.CategoricalGeneralizedCrossEntropy(q=1.5)
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\). Received: q=0"):
        keras.losses.CategoricalGeneralizedCrossEntropy(q=0)
    with pytest.raises(ValueError, match="`gamma` must be a number. Received: gamma='80'"):
        keras.losses.Circle(gamma="80")
    with pytest.raises(ValueError, match="`gamma` must be > 0. Received: gamma=-1"):
        keras.losses.Circle(gamma=-1)
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        keras.losses.Circle(reduction="average")
    with pytest.raises(ValueError, match=r"`y_pred` must be a batch of embeddings of shape \(batch, dim\)"):
        keras.losses.circle(np.array([0, 1]), np.ones((2, 3, 1), "float32"))
