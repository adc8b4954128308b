"""strided.activations vs keras.activations (values, defaults), hand-computed goldens, registry."""

import numpy as np
import pytest
import torch

from strided import activations, ops

NAMES = [
    "relu",
    "leaky_relu",
    "relu6",
    "softmax",
    "log_softmax",
    "elu",
    "selu",
    "celu",
    "softplus",
    "softsign",
    "squareplus",
    "sparse_plus",
    "soft_shrink",
    "hard_shrink",
    "silu",
    "swish",
    "gelu",
    "glu",
    "tanh",
    "tanh_shrink",
    "hard_tanh",
    "sigmoid",
    "sparse_sigmoid",
    "hard_sigmoid",
    "log_sigmoid",
    "hard_silu",
    "hard_swish",
    "exponential",
    "linear",
    "mish",
]
# sparsemax is left out of the Keras comparison: keras 3.15's torch backend sums the cumulative sums
# over the support instead of taking the k-th one, so its outputs do not sum to 1 (see the golden).


def sample():
    # Cover the kinks: [-4, 4] with exact points at -3, -1, 0, 1, 3, 6 and a few large values.
    x = np.random.default_rng(3).uniform(-4, 4, size=(4, 6, 10)).astype(np.float32)
    x[0, 0, :7] = [-3, -1, 0, 1, 3, 6, 7]
    return x


def to_np(y):
    return y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)


@pytest.mark.parametrize("name", NAMES)
def test_matches_keras(real_keras, name):
    x = sample()
    expected = to_np(real_keras.activations.get(name)(x))
    np.testing.assert_allclose(to_np(activations.get(name)(x)), expected, rtol=1e-6, atol=1e-6)
    # and the same function on a torch tensor
    np.testing.assert_allclose(to_np(activations.get(name)(torch.tensor(x))), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(negative_slope=0.1),
        dict(max_value=2.5),
        dict(threshold=0.7),
        dict(negative_slope=0.3, max_value=2.0, threshold=-0.5),
        dict(max_value=6.0),
        dict(negative_slope=0.2, threshold=1.0),
    ],
)
def test_relu_options_match_keras(real_keras, kwargs):
    x = sample()
    np.testing.assert_allclose(
        to_np(activations.relu(x, **kwargs)), to_np(real_keras.activations.relu(x, **kwargs)), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("elu", dict(alpha=0.5)),
        ("gelu", dict(approximate=True)),
        ("softmax", dict(axis=1)),
        ("log_softmax", dict(axis=0)),
        ("leaky_relu", dict(negative_slope=0.01)),
        ("celu", dict(alpha=2.0)),
        ("glu", dict(axis=1)),
    ],
)
def test_hyperparameters_match_keras(real_keras, name, kwargs):
    x = sample()
    np.testing.assert_allclose(
        to_np(getattr(activations, name)(x, **kwargs)),
        to_np(getattr(real_keras.activations, name)(x, **kwargs)),
        rtol=1e-6,
        atol=1e-6,
    )


def test_keras3_defaults_hand_computed():
    x = torch.tensor([-4.0, -3.0, -1.0, 0.0, 1.5, 3.0, 8.0], dtype=torch.float64)
    np.testing.assert_allclose(to_np(activations.hard_sigmoid(x)), [0, 0, 2 / 6, 0.5, 4.5 / 6, 1, 1])
    np.testing.assert_allclose(to_np(activations.leaky_relu(x)), [-0.8, -0.6, -0.2, 0, 1.5, 3, 8])
    np.testing.assert_allclose(to_np(activations.relu6(x)), [0, 0, 0, 0, 1.5, 3, 6])
    np.testing.assert_allclose(to_np(activations.relu(x, max_value=2.0)), [0, 0, 0, 0, 1.5, 2, 2])
    # activations.gelu is exact by default, ops.gelu approximate (both as in Keras 3)
    from scipy.special import erf

    xn = x.numpy()
    np.testing.assert_allclose(to_np(activations.gelu(x)), 0.5 * xn * (1 + erf(xn / np.sqrt(2))), rtol=1e-12)
    assert not np.allclose(to_np(ops.gelu(x)), to_np(activations.gelu(x)), rtol=1e-9, atol=1e-9)
    p = to_np(activations.softmax(torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)))
    np.testing.assert_allclose(p, np.exp([[1, 2, 3]]) / np.exp([1, 2, 3]).sum(), rtol=1e-12)


def test_sparsemax_golden():
    x = torch.tensor([[1.0, 1.0, -2.0], [0.5, 0.2, -1.0], [3.0, 0.1, 0.0]], dtype=torch.float64)
    # tau = (sum of the k largest - 1) / k over the support; output = max(x - tau, 0)
    expected = [[0.5, 0.5, 0.0], [0.65, 0.35, 0.0], [1.0, 0.0, 0.0]]
    np.testing.assert_allclose(to_np(activations.sparsemax(x)), expected, atol=1e-12)
    np.testing.assert_allclose(to_np(activations.sparsemax(x.T, axis=0)), np.transpose(expected), atol=1e-12)


def test_gradients_flow():
    # random points, away from the kinks at 0
    x = torch.tensor(np.random.default_rng(5).uniform(0.1, 2, size=(2, 5)) * [[1], [-1]], requires_grad=True)
    for name in ["relu", "elu", "selu", "gelu", "softmax", "swish", "mish", "softplus", "hard_silu"]:
        assert torch.autograd.gradcheck(activations.get(name), (x,)), name


def test_registry_get_serialize_deserialize():
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    assert activations.get("swish") is activations.silu
    assert activations.get(torch.tanh) is torch.tanh
    for name in NAMES:
        fn = activations.get(name)
        assert activations.deserialize(activations.serialize(fn)) is fn
    assert activations.serialize(activations.swish) == "silu"
    assert activations.serialize(activations.relu) == "relu"

    def my_act(x):
        return x * 2

    cfg = activations.serialize(my_act)
    assert cfg["config"] == "my_act"
    assert activations.deserialize(cfg, custom_objects={"my_act": my_act}) is my_act


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"'rellu'.*'relu'.*'softmax'"):
        activations.get("rellu")
    with pytest.raises(ValueError, match="activation"):
        activations.get(42)
    with pytest.raises(ValueError, match="relu"):
        activations.deserialize("nope")


def test_softmax_keeps_logits_for_losses():
    logits = torch.randn(3, 4)
    assert activations.softmax(logits)._keras_logits is logits
