"""Regularizers and constraints: values vs NumPy and real Keras, gradients, registry, errors."""

import numpy as np
import pytest
import torch

from strided import constraints as C
from strided import regularizers as R

RNG = np.random.default_rng(11)


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def test_regularizer_values_and_defaults():
    w = RNG.normal(size=(4, 5)).astype("float32")
    assert float(R.L2()(torch.tensor(w))) == pytest.approx(0.01 * (w**2).sum(), rel=1e-6)
    assert float(R.L1()(torch.tensor(w))) == pytest.approx(0.01 * np.abs(w).sum(), rel=1e-6)
    assert float(R.L1L2(l1=0.1, l2=0.2)(torch.tensor(w))) == pytest.approx(
        0.1 * np.abs(w).sum() + 0.2 * (w**2).sum(), rel=1e-6
    )
    assert float(R.L1L2()(torch.tensor(w))) == 0.0


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("L1", {"l1": 0.3}),
        ("L2", {}),
        ("L1L2", {"l1": 0.1, "l2": 0.05}),
        ("OrthogonalRegularizer", {"factor": 0.2}),
        ("OrthogonalRegularizer", {"mode": "columns"}),
    ],
)
def test_regularizers_match_keras(real_keras, name, kwargs):
    w = RNG.normal(size=(4, 6)).astype("float32")
    ours, ref = getattr(R, name)(**kwargs), getattr(real_keras.regularizers, name)(**kwargs)
    np.testing.assert_allclose(_np(ours(torch.tensor(w))), _np(ref(real_keras.ops.convert_to_tensor(w))), rtol=1e-5)
    assert ours.get_config() == pytest.approx(ref.get_config()) if name != "OrthogonalRegularizer" else True
    assert R.deserialize(R.serialize(ours)).get_config() == ours.get_config()


def test_regularizer_gradient():
    w = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    R.L1L2(l1=0.1, l2=0.2)(w).backward()
    torch.testing.assert_close(w.grad, 0.1 * torch.sign(w.detach()) + 0.4 * w.detach())


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("MaxNorm", {}),
        ("MaxNorm", {"max_value": 0.5, "axis": [0, 1, 2]}),
        ("NonNeg", {}),
        ("UnitNorm", {"axis": 1}),
        ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.5, "rate": 0.7}),
    ],
)
def test_constraints_match_keras(real_keras, name, kwargs):
    shape = (3, 3, 2, 4) if kwargs.get("axis") == [0, 1, 2] else (5, 4)
    w = (RNG.normal(size=shape) * 2).astype("float32")
    ours, ref = getattr(C, name)(**kwargs), getattr(real_keras.constraints, name)(**kwargs)
    np.testing.assert_allclose(
        _np(ours(torch.tensor(w))), _np(ref(real_keras.ops.convert_to_tensor(w))), rtol=1e-5, atol=1e-7
    )
    assert ours.get_config() == ref.get_config()


def test_max_norm_golden():
    w = torch.tensor([[3.0, 0.3], [4.0, 0.4]])  # column norms 5 and 0.5
    out = C.MaxNorm(max_value=2)(w)
    torch.testing.assert_close(out[:, 0], torch.tensor([1.2, 1.6]), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out[:, 1], w[:, 1], rtol=1e-5, atol=1e-6)


def test_registries():
    assert isinstance(R.get("l2"), R.L2) and isinstance(R.get("L1L2"), R.L1L2) and isinstance(R.get("l1_l2"), R.L1L2)
    assert isinstance(C.get("max_norm"), C.MaxNorm) and isinstance(C.get("NonNeg"), C.NonNeg)
    assert isinstance(C.get({"class_name": "UnitNorm", "config": {"axis": 1}}), C.UnitNorm)
    reg = R.L2(0.5)
    assert R.get(reg) is reg and R.get(None) is None
    with pytest.raises(ValueError, match="Did you mean 'l2'.*kernel_regularizer='l22'"):
        R.get("l22", "kernel_regularizer")
    with pytest.raises(ValueError, match="non-negative"):
        R.L2(-1.0)
    with pytest.raises(ValueError, match="kernel_constraint='maxnormm'"):
        C.get("maxnormm", "kernel_constraint")
