"""The base keyword arguments (weight_decay, clipnorm... name) that every optimizer passes on to
``Optimizer.__init__`` through ``**kwargs``: still accepted, stored, listed in the signature and documented
by every optimizer, and the same argument names and defaults as Keras's optimizers."""

import inspect

import pytest

from strided import optimizers as O
from strided.optimizers.base import base_keyword_defaults

# every update rule of the package (the wrappers pass these arguments to their inner optimizers)
RULES = [
    name
    for name in O.__all__
    if inspect.isclass(getattr(O, name))
    and issubclass(getattr(O, name), O.Optimizer)
    and name not in ("Optimizer", "LossScaleOptimizer", "MultiOptimizer")
]
# a value other than the default for each base argument (clipnorm alone: the clip arguments exclude each other)
NON_DEFAULT = {
    "weight_decay": 0.01,
    "clipnorm": 1.0,
    "use_ema": True,
    "ema_momentum": 0.9,
    "ema_overwrite_frequency": 3,
    "loss_scale_factor": 8.0,
    "gradient_accumulation_steps": 2,
    "name": "opt_x",
}


@pytest.mark.parametrize("name", RULES)
def test_base_keyword_args_reach_the_base_class(name):
    opt = getattr(O, name)(**NON_DEFAULT)
    config = opt.get_config()
    for arg, value in NON_DEFAULT.items():
        assert config[arg] == value, arg
    assert getattr(O, name)(clipvalue=0.5).clipvalue == 0.5
    assert getattr(O, name)(global_clipnorm=2.0).get_config()["global_clipnorm"] == 2.0


@pytest.mark.parametrize("name", RULES)
def test_signature_and_docstring_list_every_base_argument(name):
    cls = getattr(O, name)
    parameters = inspect.signature(cls).parameters
    for arg, default in {**base_keyword_defaults(), "name": None}.items():
        assert arg in parameters, arg
        if arg != "weight_decay" or name not in ("AdamW", "Muon"):  # their own default, 0.004
            assert parameters[arg].default == default, arg
        assert f"\n        {arg}:" in cls.__doc__, arg
    assert "{{" not in cls.__doc__


@pytest.mark.parametrize("name", RULES)
def test_unknown_keyword_is_refused_by_name(name):
    with pytest.raises(ValueError, match="not recognized.*bogus_arg"):
        getattr(O, name)(bogus_arg=1)


def test_rule_arguments_stay_positional_in_keras_order():
    opt = O.SGD(0.1, 0.9, True, clipnorm=1.0)
    assert (opt.learning_rate, opt.momentum, opt.nesterov, opt.clipnorm) == (0.1, 0.9, True, 1.0)
    opt = O.AdamW(0.01, 0.1, 0.8, 0.9, 1e-6, True)
    assert (opt.weight_decay, opt.beta_1, opt.beta_2, opt.epsilon, opt.amsgrad) == (0.1, 0.8, 0.9, 1e-6, True)


@pytest.mark.parametrize("name", RULES)
def test_argument_names_and_defaults_match_keras(real_keras, name):
    ours = inspect.signature(getattr(O, name)).parameters
    theirs = inspect.signature(getattr(real_keras.optimizers, name)).parameters
    assert set(ours) == set(theirs)
    for arg, p in theirs.items():
        if p.default is not inspect.Parameter.empty:
            assert ours[arg].default == p.default, arg
