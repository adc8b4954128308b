"""LossScaleOptimizer against real Keras: dynamic scaling step by step, configs and the registry, argument
checks, and training under the mixed_float16 policy."""

import numpy as np
import pytest
import torch

from strided import optimizers as O

SHAPES = [(3, 4), (5,), (2, 3, 4)]
STEPS = 4


def _data(seed=0, shapes=SHAPES, steps=STEPS):
    rng = np.random.default_rng(seed)
    w0 = [rng.normal(size=s) for s in shapes]
    grads = [[rng.normal(size=s) for s in shapes] for _ in range(steps)]
    return w0, grads


def _params(w0, dtype):
    params = [torch.nn.Parameter(torch.tensor(w.astype(dtype))) for w in w0]
    for i, p in enumerate(params):
        p.path = f"v{i}"  # the Keras variable path (Muon's exclusions read it)
    return params


def _keras_vars(real_keras, w0, dtype):
    return [real_keras.Variable(w.astype(dtype), dtype=dtype, name=f"v{i}") for i, w in enumerate(w0)]


def _np(real_keras, v):
    return real_keras.ops.convert_to_numpy(v)


def test_loss_scale_optimizer_matches_real_keras(real_keras):
    w0, grads = _data(4, steps=7)
    grads[2][1][0] = np.inf  # a skipped step: the scale halves
    grads[5][0][1, 1] = np.nan
    ours = O.LossScaleOptimizer(O.Adam(learning_rate=0.1), initial_scale=16.0, dynamic_growth_steps=2)
    theirs = real_keras.optimizers.LossScaleOptimizer(
        real_keras.optimizers.Adam(learning_rate=0.1), initial_scale=16.0, dynamic_growth_steps=2
    )
    assert float(ours.scale_loss(torch.tensor(2.0))) == float(_np(real_keras, theirs.scale_loss(2.0))) == 32.0
    params, kvars = _params(w0, "float64"), _keras_vars(real_keras, w0, "float64")
    for step, g in enumerate(grads):
        scaled = [x * float(ours.dynamic_scale) if ours.built else x * 16.0 for x in g]
        ours.apply([torch.tensor(x) for x in scaled], params)
        theirs.apply([real_keras.ops.convert_to_tensor(x) for x in scaled], kvars)
        for p, v in zip(params, kvars):
            np.testing.assert_allclose(
                p.detach().numpy(), _np(real_keras, v), rtol=1e-6, atol=1e-6, err_msg=f"step {step}"
            )
        assert float(ours.dynamic_scale) == float(_np(real_keras, theirs.dynamic_scale)), step
        assert int(ours.step_counter) == int(_np(real_keras, theirs.step_counter)), step
        assert int(ours.iterations) == int(_np(real_keras, theirs.iterations)), step
    assert int(ours.iterations) == 5  # the two non-finite steps were skipped
    keras_state = [_np(real_keras, v) for v in theirs.variables]
    assert len(ours.variables) == len(keras_state)
    for a, b in zip(ours.get_weights(), keras_state):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert ours.learning_rate == pytest.approx(0.1)
    ours.learning_rate = 0.05
    assert ours.inner_optimizer.learning_rate == pytest.approx(0.05)


def test_loss_scale_optimizer_config_and_registry(real_keras):
    opt = O.LossScaleOptimizer(O.SGD(0.1, momentum=0.9), initial_scale=128.0, dynamic_growth_steps=10)
    kopt = real_keras.optimizers.LossScaleOptimizer(
        real_keras.optimizers.SGD(0.1, momentum=0.9), initial_scale=128.0, dynamic_growth_steps=10
    )
    cfg, kcfg = opt.get_config(), kopt.get_config()
    assert set(cfg) == set(kcfg) and cfg["name"] == "loss_scale_optimizer"
    assert cfg["inner_optimizer"]["class_name"] == "SGD"
    assert cfg["inner_optimizer"]["config"]["momentum"] == 0.9
    back = O.deserialize(O.serialize(opt))
    assert isinstance(back, O.LossScaleOptimizer) and isinstance(back.inner_optimizer, O.SGD)
    assert back.initial_scale == 128.0 and back.dynamic_growth_steps == 10
    assert back.inner_optimizer.momentum == 0.9
    # a config written by Keras itself
    from_keras = O.deserialize(real_keras.optimizers.serialize(kopt))
    assert isinstance(from_keras, O.LossScaleOptimizer) and isinstance(from_keras.inner_optimizer, O.SGD)
    assert from_keras.inner_optimizer.learning_rate == pytest.approx(0.1)
    # the wrapper owns the loss scaling: a factor on the inner optimizer is dropped, as in Keras
    inner = O.Adam(loss_scale_factor=4.0)
    O.LossScaleOptimizer(inner)
    assert inner.loss_scale_factor is None


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"clipnorm": 1.0}, "does not support `clipnorm`. Instead, set `clipnorm` on the `inner_optimizer`"),
        ({"dynamic": False}, "no longer supports `dynamic=False`"),
        ({"foo": 1}, "does not support arguments: `foo`"),
        ({"initial_scale": -1.0}, "initial_scale=-1.0"),
        ({"dynamic_growth_steps": 0}, "dynamic_growth_steps=0"),
    ],
)
def test_loss_scale_optimizer_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        O.LossScaleOptimizer(O.SGD(), **kwargs)
    with pytest.raises(ValueError, match="inner_optimizer='adam'"):
        O.LossScaleOptimizer("adam")


def test_fit_under_mixed_float16_with_a_loss_scale_optimizer():
    import strided as keras
    from strided import config, layers, models

    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    config.set_dtype_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(3)
        model = models.Sequential(
            [layers.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid")]
        )
        opt = O.LossScaleOptimizer(O.SGD(0.1))
        model.compile(optimizer=opt, loss="binary_crossentropy")
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False).history["loss"]
    finally:
        config.set_dtype_policy("float32")
    assert np.isfinite(history).all() and history[-1] < history[0]
    # each float16 overflow skipped a step and halved the scale; the other steps were applied
    skipped = int(round(np.log2(2.0**15 / float(opt.dynamic_scale))))
    assert 0 <= skipped <= 2 and int(opt.iterations) == 8 - skipped
    assert int(opt.step_counter) <= 8 - skipped


@pytest.mark.keras
def test_compile_under_mixed_float16_wraps_the_optimizer_as_keras_does(real_keras):
    from strided import config, layers, models

    x = np.random.default_rng(1).normal(size=(32, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")

    def run(ks, set_policy, seq, dense, inp):
        set_policy("mixed_float16")
        try:
            model = seq([inp((4,)), dense(8, activation="relu"), dense(1, activation="sigmoid")])
            model.compile(optimizer=ks.optimizers.SGD(0.1), loss="binary_crossentropy")
            wrapped = model.optimizer
            unscaled = None
            if ks is not real_keras:
                model.compile(optimizer=ks.optimizers.SGD(0.1), loss="binary_crossentropy", auto_scale_loss=False)
                unscaled = model.optimizer
                model.compile(optimizer=ks.optimizers.SGD(0.1), loss="binary_crossentropy")
        finally:
            set_policy("float32")
        return model, wrapped, unscaled

    k_model, k_opt, _ = run(
        real_keras,
        real_keras.mixed_precision.set_global_policy,
        real_keras.Sequential,
        real_keras.layers.Dense,
        real_keras.Input,
    )
    import strided

    model, opt, unscaled = run(strided, config.set_dtype_policy, models.Sequential, layers.Dense, layers.Input)
    assert type(opt).__name__ == type(k_opt).__name__ == "LossScaleOptimizer"
    assert opt.name == k_opt.name and type(opt.inner_optimizer).__name__ == "SGD"
    assert type(unscaled).__name__ == "SGD"  # auto_scale_loss=False keeps the optimizer as given
    model.set_weights(k_model.get_weights())
    config.set_dtype_policy("mixed_float16")
    real_keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        ours = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False).history["loss"]
        theirs = k_model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False).history["loss"]
    finally:
        config.set_dtype_policy("float32")
        real_keras.mixed_precision.set_global_policy("float32")
    np.testing.assert_allclose(ours, theirs, rtol=1e-2)
    assert float(model.optimizer.dynamic_scale) == pytest.approx(float(k_model.optimizer.dynamic_scale))
    for a, b in zip(model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-2)
