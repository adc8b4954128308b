"""Initializers: fans, distribution statistics and limits, seeds, Constant with arrays, registry, errors."""

import math

import numpy as np
import pytest
import torch

import strided
from strided import initializers as I


@pytest.mark.parametrize(
    "shape,fans", [((), (1, 1)), ((7,), (7, 7)), ((3, 5), (3, 5)), ((3, 3, 4, 8), (36, 72)), ((2, 4, 6), (8, 12))]
)
def test_compute_fans_keras_layout(real_keras, shape, fans):
    assert I.compute_fans(shape) == fans
    from keras.src.initializers.random_initializers import compute_fans

    assert compute_fans(shape) == fans


@pytest.mark.parametrize(
    "name,limit_or_std,kind",
    [
        ("glorot_uniform", math.sqrt(6 / (36 + 72)), "uniform"),
        ("he_uniform", math.sqrt(6 / 36), "uniform"),
        ("lecun_uniform", math.sqrt(3 / 36), "uniform"),
        ("glorot_normal", math.sqrt(2 / (36 + 72)), "normal"),
        ("he_normal", math.sqrt(2 / 36), "normal"),
        ("lecun_normal", math.sqrt(1 / 36), "normal"),
    ],
)
def test_variance_scaling_statistics(name, limit_or_std, kind):
    w = I.get(name)((3, 3, 4, 8 * 250))  # fan_in 36; many samples for tight statistics
    if name.startswith("glorot"):
        fan_out = 8 * 250 * 9
        limit_or_std = math.sqrt(6 / (36 + fan_out)) if kind == "uniform" else math.sqrt(2 / (36 + fan_out))
    w = w.double()
    assert w.dtype == torch.float64 and abs(float(w.mean())) < 0.02 * limit_or_std * 10
    if kind == "uniform":
        assert float(w.abs().max()) <= limit_or_std
        assert float(w.abs().max()) > 0.99 * limit_or_std
        assert float(w.std()) == pytest.approx(limit_or_std / math.sqrt(3), rel=0.02)
    else:
        # truncated at 2 stddev of the pre-truncation normal, rescaled so the std is the target
        assert float(w.std()) == pytest.approx(limit_or_std, rel=0.02)
        assert float(w.abs().max()) <= 2 * limit_or_std / 0.87962566103423978 + 1e-6


def test_random_normal_uniform_truncated_defaults():
    shape = (200, 300)
    n = I.RandomNormal()(shape)
    assert float(n.mean()) == pytest.approx(0, abs=2e-3) and float(n.std()) == pytest.approx(0.05, rel=0.02)
    u = I.RandomUniform()(shape)
    assert (
        -0.05 <= float(u.min())
        and float(u.max()) <= 0.05
        and float(u.std()) == pytest.approx(0.1 / math.sqrt(12), rel=0.02)
    )
    t = I.TruncatedNormal(mean=1.0, stddev=0.1)(shape)
    assert float(t.min()) >= 0.8 and float(t.max()) <= 1.2 and float(t.mean()) == pytest.approx(1.0, abs=2e-3)
    assert float(t.std()) == pytest.approx(0.1 * 0.8796, rel=0.03)


def test_seeds_and_global_rng():
    a, b = I.GlorotUniform(seed=3)((4, 5)), I.GlorotUniform(seed=3)((4, 5))
    assert torch.equal(a, b)
    init = I.HeNormal(seed=1)
    assert torch.equal(init((3, 3)), init((3, 3)))  # Keras 3: a seeded initializer repeats its draw
    strided.utils.set_random_seed(5)
    x = I.GlorotUniform()((4, 5))
    strided.utils.set_random_seed(5)
    y = I.GlorotUniform()((4, 5))
    assert torch.equal(x, y) and not torch.equal(x, I.GlorotUniform()((4, 5)))
    assert x.device == strided.config.get_device()


def test_constant_with_scalar_and_array():
    np.testing.assert_array_equal(I.Constant(2.5)((2, 3)).cpu().numpy(), np.full((2, 3), 2.5))
    weight = np.array([[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]])  # (2, 2, 1, 1), seed 003
    out = strided.constant_initializer(weight)((2, 2, 1, 1))
    np.testing.assert_array_equal(out.cpu().numpy(), weight)
    np.testing.assert_array_equal(I.Constant([1, 2, 3, 4])((2, 2)).cpu().numpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(I.Constant([1.0, 2.0])((3, 2)).cpu().numpy(), [[1, 2]] * 3)  # broadcast
    with pytest.raises(ValueError, match=r"\(2, 2, 1, 1\).*\(3, 3, 1, 1\)"):
        I.Constant(weight)((3, 3, 1, 1))
    back = I.deserialize(I.serialize(I.Constant(weight)))
    np.testing.assert_array_equal(back((2, 2, 1, 1)).cpu().numpy(), weight)


def test_array_identifier_checks_shape():
    arr = np.arange(6.0).reshape(2, 3)
    init = I.get(arr)
    np.testing.assert_array_equal(init((2, 3)).cpu().numpy(), arr)
    with pytest.raises(ValueError, match=r"Expected `shape` to be \(2, 3\)"):
        init((3, 2))


def test_orthogonal_and_identity():
    q = I.Orthogonal(gain=2.0, seed=0)((6, 4)).double()
    torch.testing.assert_close(q.T @ q, 4 * torch.eye(4, dtype=torch.float64), atol=1e-5, rtol=0)
    q = I.Orthogonal(seed=0)((3, 7)).double()
    torch.testing.assert_close(q @ q.T, torch.eye(3, dtype=torch.float64), atol=1e-5, rtol=0)
    np.testing.assert_array_equal(I.Identity(gain=3)((2, 3)).cpu().numpy(), 3 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        I.Identity()((2, 2, 2))
    with pytest.raises(ValueError, match="two-dimensional"):
        I.Orthogonal()((5,))


def test_registry_get_forms(real_keras):
    for name in [
        "glorot_uniform",
        "GlorotUniform",
        "he_normal",
        "zeros",
        "ones",
        "zero",
        "one",
        "normal",
        "uniform",
        "orthogonal",
        "truncated_normal",
        "variance_scaling",
        "lecun_uniform",
        "identity",
        "random_normal",
        "random_uniform",
    ]:
        ours = I.get(name)
        ref = real_keras.initializers.get(name)
        assert type(ours).__name__ == type(ref).__name__
        assert ref.get_config().items() <= ours.get_config().items(), name  # Keras drops Identity gain
    assert isinstance(I.get("constant"), I.Constant)  # (Keras's own get('constant') raises KeyError)
    obj = I.get(
        {"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out", "distribution": "uniform"}}
    )
    assert isinstance(obj, I.VarianceScaling) and obj.mode == "fan_out"
    inst = I.HeUniform(seed=1)
    assert I.get(inst) is inst and isinstance(I.get(I.Zeros), I.Zeros)
    fn = lambda shape, dtype=None: torch.zeros(shape)  # noqa: E731
    assert I.get(fn) is fn
    assert I.get(None) is None
    assert I.deserialize(I.serialize(I.RandomNormal(0.5, 0.1, seed=2))).get_config() == {
        "mean": 0.5,
        "stddev": 0.1,
        "seed": 2,
    }
    assert I.serialize(I.GlorotUniform()) == real_keras.initializers.serialize(real_keras.initializers.GlorotUniform())


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="Did you mean 'glorot_uniform'.*kernel_initializer='glorot_unifrom'"):
        I.get("glorot_unifrom", "kernel_initializer")
    with pytest.raises(ValueError, match="scale"):
        I.VarianceScaling(scale=-1)
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="seed"):
        I.RandomNormal(seed="x")
    with pytest.raises(ValueError, match="shape"):
        I.Zeros()((2, -1))
