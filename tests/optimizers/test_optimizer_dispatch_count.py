"""One optimizer step dispatches a number of torch ops that does not grow with the number of parameters:
each arithmetic operation of a rule is one multi-tensor (``torch._foreach_*``) kernel over all of them."""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from strided import optimizers


class _Count(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


def _ops_per_step(make, n_params):
    gen = torch.Generator().manual_seed(n_params)
    shapes = [(3, 4), (5,), (2, 3, 3, 2)]
    params = [torch.nn.Parameter(torch.randn(shapes[i % 3], generator=gen)) for i in range(n_params)]
    optimizer = make()
    grads = [torch.randn(p.shape, generator=gen) for p in params]
    optimizer.apply(grads, params)  # builds the slots: not counted
    with _Count() as count:
        optimizer.apply(grads, params)
    return count.ops


RULES = {
    "sgd_momentum": lambda: optimizers.SGD(0.1, momentum=0.9),
    "sgd_nesterov_clipnorm": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True, clipnorm=0.5),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "rmsprop_centered_momentum_clipvalue": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True, clipvalue=0.1),
    "adam": lambda: optimizers.Adam(0.01),
    "adam_amsgrad_global_clipnorm": lambda: optimizers.Adam(0.01, amsgrad=True, global_clipnorm=1.0),
    "adamw_ema": lambda: optimizers.AdamW(0.01, weight_decay=0.01, use_ema=True),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_step_dispatches_the_same_ops_for_4_and_40_parameters(rule):
    few, many = _ops_per_step(RULES[rule], 4), _ops_per_step(RULES[rule], 40)
    assert few == many, f"{rule}: {len(few)} ops for 4 parameters, {len(many)} for 40"
    assert 0 < len(few) <= 24, few
    assert any(op.startswith("aten._foreach") for op in few)


def test_step_values_unchanged_by_the_multi_tensor_clipping():
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(4, 3)), torch.nn.Parameter(torch.randn(7))]
    grads = [torch.randn(4, 3) * 5, torch.randn(7) * 0.01]
    expected = []
    for p, g in zip(params, grads):  # Keras: g * clipnorm / max(||g||, clipnorm), then w -= lr * g
        n = torch.linalg.vector_norm(g)
        expected.append(p.detach() - 0.1 * (g * 0.5 / torch.clamp(n, min=0.5)))
    optimizers.SGD(0.1, clipnorm=0.5).apply(grads, params)
    for p, e in zip(params, expected):
        torch.testing.assert_close(p.detach(), e)


ALL_RULES = {
    **RULES,
    "adamax": lambda: optimizers.Adamax(0.01),
    "nadam": lambda: optimizers.Nadam(0.01),
    "adagrad": lambda: optimizers.Adagrad(0.01),
    "adadelta": lambda: optimizers.Adadelta(0.01),
    "ftrl": lambda: optimizers.Ftrl(0.01),
    "lion": lambda: optimizers.Lion(0.01),
    "lamb": lambda: optimizers.Lamb(0.01),
    "rmsprop_momentum": lambda: optimizers.RMSprop(0.01, momentum=0.9),
}


@pytest.mark.parametrize("rule", sorted(ALL_RULES))
def test_step_reads_no_value_back_to_the_host(rule):
    """A 0-d tensor given where a `_foreach` op takes a Python number is read back with `.item()`: on a GPU that is
    a device synchronisation at every step. Constants of additions go in as numbers, of products as tensors."""
    ops = _ops_per_step(ALL_RULES[rule], 4)
    assert "aten._local_scalar_dense.default" not in ops, ops
