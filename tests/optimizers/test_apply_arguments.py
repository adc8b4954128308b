"""apply()'s arguments are checked in one place (Optimizer._apply_arguments) for every optimizer, the wrappers
included: each keeps its message, and a call refused for its gradient count leaves the optimizer unbuilt."""

import pytest
import torch

from strided import optimizers as O


def _params():
    return [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))]


def _multi():
    return O.MultiOptimizer(lambda v: O.SGD() if v.shape[0] == 2 else O.Adam())


@pytest.mark.parametrize(
    "make, given, own",
    [
        (O.SGD, "Received 1 gradients for 2 variables", "the optimizer is tracking 2 trainable variables"),
        (lambda: O.LossScaleOptimizer(O.SGD()), "Received 1 gradients for 2 variables", "is tracking 2 trainable"),
        (_multi, "Received 1 gradients and 2 variables", "Received 1 gradients and 2 variables"),
    ],
)
def test_gradient_count_is_checked_before_building(make, given, own):
    opt, params = make(), _params()
    with pytest.raises(ValueError, match=given):
        opt.apply([torch.ones(2)], params)
    assert not opt.built
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([torch.ones(2)])
    opt.build(params)
    with pytest.raises(ValueError, match=own):
        opt.apply([torch.ones(2)])
    opt.apply([])  # no gradients: nothing to do
    opt.apply([torch.ones(2), torch.ones(3)])
    assert float(params[0].detach()[0]) < 1.0 and float(params[1].detach()[0]) < 1.0
