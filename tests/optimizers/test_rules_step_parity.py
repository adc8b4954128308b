"""Lion, Lamb, Adafactor, Ftrl, Muon and ScheduleFreeAdamW against real Keras: every step of `apply`, the
optimizer state, `fit`, configs, saving and argument checks."""

import warnings

import numpy as np
import pytest
import torch

from strided import optimizers as O

SHAPES = [(3, 4), (5,), (2, 3, 4)]
STEPS = 4

CASES = [
    ("Lion", {}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "weight_decay": 0.1}),
    ("Lamb", {}),
    ("Lamb", {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3, "clipnorm": 1.0}),
    ("Adafactor", {}),
    (
        "Adafactor",
        {"learning_rate": 0.5, "beta_2_decay": -0.5, "epsilon_2": 0.01, "clip_threshold": 0.5, "relative_step": False},
    ),
    ("Ftrl", {}),
    (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "learning_rate_power": -0.3,
            "initial_accumulator_value": 0.5,
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.1,
            "l2_shrinkage_regularization_strength": 0.05,
            "beta": 0.2,
        },
    ),
    ("Muon", {}),
    (
        "Muon",
        {
            "learning_rate": 0.02,
            "nesterov": False,
            "rms_rate": None,
            "ns_steps": 3,
            "adam_lr_ratio": 0.5,
            "exclude_layers": ["v0"],
            "momentum": 0.9,
            "adam_weight_decay": None,
            "weight_decay": 0.05,
        },
    ),
    ("ScheduleFreeAdamW", {}),
    (
        "ScheduleFreeAdamW",
        {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "warmup_steps": 3, "weight_decay": 0.1},
    ),
]


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


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i % 2}" for i, (n, _) in enumerate(CASES)])
def test_every_step_and_state_match_real_keras(real_keras, name, kwargs, dtype):
    w0, grads = _data()
    ours, params = getattr(O, name)(**kwargs), _params(w0, dtype)
    theirs, kvars = getattr(real_keras.optimizers, name)(**kwargs), _keras_vars(real_keras, w0, dtype)
    for step, g in enumerate(grads):
        ours.apply([torch.tensor(x.astype(dtype)) for x in g], params)
        theirs.apply([real_keras.ops.convert_to_tensor(x.astype(dtype)) for x in g], kvars)
        for p, v in zip(params, kvars):
            assert p.dtype == getattr(torch, dtype)
            np.testing.assert_allclose(
                p.detach().numpy(), _np(real_keras, v), rtol=1e-6, atol=1e-6, err_msg=f"{name} step {step}"
            )
    # the whole state, in Keras's order and shapes (Adafactor's factored r/c, Muon's per-variable slots)
    keras_state = [_np(real_keras, v) for v in theirs.variables]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in keras_state]
    for a, b in zip(ours.get_weights(), keras_state):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert int(ours.iterations) == STEPS
    # the same config as Keras
    ours_cfg, keras_cfg = ours.get_config(), theirs.get_config()
    assert set(ours_cfg) == set(keras_cfg)
    for key in keras_cfg:
        if key not in ("learning_rate", "name"):  # Keras numbers repeated names: lion_1...
            assert ours_cfg[key] == keras_cfg[key], key
    assert ours_cfg["learning_rate"] == pytest.approx(keras_cfg["learning_rate"])


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("Adafactor", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.8, "gradient_accumulation_steps": 2}),
        ("Muon", {"learning_rate": 0.05, "gradient_accumulation_steps": 3, "global_clipnorm": 2.0}),
        ("Lion", {"learning_rate": 0.05, "use_ema": True, "ema_overwrite_frequency": 2, "clipvalue": 0.5}),
        ("ScheduleFreeAdamW", {"learning_rate": 0.05, "use_ema": True, "gradient_accumulation_steps": 2}),
    ],
)
def test_base_features_go_through_the_new_rules(real_keras, name, kwargs):
    # EMA, gradient accumulation and clipping come from the base class; the state keeps Keras's order.
    w0, grads = _data(5, steps=6)
    ours, params = getattr(O, name)(**kwargs), _params(w0, "float64")
    theirs, kvars = getattr(real_keras.optimizers, name)(**kwargs), _keras_vars(real_keras, w0, "float64")
    for g in grads:
        ours.apply([torch.tensor(x) for x in g], params)
        theirs.apply([real_keras.ops.convert_to_tensor(x) for x in g], kvars)
    for p, v in zip(params, kvars):
        np.testing.assert_allclose(p.detach().numpy(), _np(real_keras, v), rtol=1e-6, atol=1e-6)
    keras_state = [_np(real_keras, v) for v in theirs.variables]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in keras_state]
    for a, b in zip(ours.get_weights(), keras_state):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_state_restores_into_a_new_optimizer_and_continues_identically():
    w0, grads = _data(1, steps=6)
    for name, kwargs in CASES:
        ref_opt, ref = getattr(O, name)(**kwargs), _params(w0, "float64")
        for g in grads:
            ref_opt.apply([torch.tensor(x) for x in g], ref)
        opt, params = getattr(O, name)(**kwargs), _params(w0, "float64")
        for g in grads[:3]:
            opt.apply([torch.tensor(x) for x in g], params)
        state = opt.get_state()
        again, params2 = getattr(O, name)(**kwargs), [torch.nn.Parameter(p.detach().clone()) for p in params]
        for p, q in zip(params, params2):
            q.path = p.path
        again.set_state(state)  # before build: applied when built (the learning rate comes back as float32)
        again.build(params2)
        for g in grads[3:]:
            again.apply([torch.tensor(x) for x in g], params2)
        for a, b in zip(params2, ref):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-9, err_msg=name)


def test_adafactor_factors_a_conv_kernel_over_its_keras_axes(real_keras):
    # A conv kernel stored in torch layout (out, in, kh, kw) is factored as Keras factors (kh, kw, in, out).
    rng = np.random.default_rng(2)
    keras_shape = (2, 2, 3, 4)
    w0 = rng.normal(size=keras_shape)
    grads = [rng.normal(size=keras_shape) for _ in range(3)]
    to_torch = (3, 2, 0, 1)
    p = torch.nn.Parameter(torch.tensor(w0).permute(*to_torch).contiguous())
    p._keras_layout = tuple(int(i) for i in np.argsort(to_torch))
    ours = O.Adafactor(learning_rate=0.1)
    theirs, kv = real_keras.optimizers.Adafactor(learning_rate=0.1), real_keras.Variable(w0, dtype="float64")
    for g in grads:
        ours.apply([torch.tensor(g).permute(*to_torch).contiguous()], [p])
        theirs.apply([real_keras.ops.convert_to_tensor(g)], [kv])
        np.testing.assert_allclose(
            p.detach().permute(*p._keras_layout).numpy(), _np(real_keras, kv), rtol=1e-6, atol=1e-7
        )
    r, c = ours._slots["r"][0], ours._slots["c"][0]
    assert tuple(r.shape) == (2, 2, 3) and tuple(c.shape) == (2, 2, 4)
    np.testing.assert_allclose(r.numpy(), _np(real_keras, theirs.variables[2]), rtol=1e-6)
    np.testing.assert_allclose(c.numpy(), _np(real_keras, theirs.variables[3]), rtol=1e-6)


def test_muon_orthogonalizes_matrices_and_splits_weight_decay():
    # A Muon step of a matrix is close to lr * sqrt(max(n, m)) * rms_rate * U V^T (SVD of the gradient).
    g = torch.randn(6, 4, dtype=torch.float64)
    w = torch.nn.Parameter(torch.zeros(6, 4, dtype=torch.float64))
    opt = O.Muon(learning_rate=1.0, weight_decay=None, momentum=0.0, nesterov=False, ns_steps=5, rms_rate=None)
    opt.apply([g], [w])
    u, s, vh = torch.linalg.svd(-g, full_matrices=False)
    update = w.detach()
    cos = float((update * (u @ vh)).sum() / (update.norm() * (u @ vh).norm()))
    assert cos > 0.95
    sv = torch.linalg.svdvals(update)
    assert float(sv.min()) > 0.5 and float(sv.max()) < 1.3  # singular values pulled towards 1
    # weight decay: `weight_decay` for Muon variables, `adam_weight_decay` for the others
    mat, vec = torch.nn.Parameter(torch.ones(3, 3)), torch.nn.Parameter(torch.ones(3))
    opt = O.Muon(learning_rate=0.1, weight_decay=0.5, adam_weight_decay=None)
    opt.apply([torch.zeros(3, 3), torch.zeros(3)], [mat, vec])
    torch.testing.assert_close(mat.detach(), torch.full((3, 3), 0.95))
    torch.testing.assert_close(vec.detach(), torch.ones(3))
    assert opt._uses_adamw == [False, True]
    excluded = torch.nn.Parameter(torch.ones(3, 3))
    excluded.path = "output_dense/kernel"
    opt = O.Muon(exclude_layers=["output_dense"])
    opt.build([excluded, torch.nn.Parameter(torch.ones(2, 2))])
    assert opt._uses_adamw == [True, False]
    assert [tuple(v.shape) for v in opt.variables[2:]] == [(3, 3), (3, 3), (2, 2)]  # momentum, velocity, momentum


# ----------------------------------------------------------------------------- registry, configs, errors
@pytest.mark.parametrize(
    "name,cls",
    [
        ("lion", "Lion"),
        ("Lamb", "Lamb"),
        ("adafactor", "Adafactor"),
        ("FTRL", "Ftrl"),
        ("muon", "Muon"),
        ("ScheduleFreeAdamW", "ScheduleFreeAdamW"),
    ],
)
def test_get_and_config_round_trip(real_keras, name, cls):
    opt = O.get(name)
    assert type(opt) is getattr(O, cls)
    assert opt.name == {"Ftrl": "ftrl", "ScheduleFreeAdamW": "schedule_free_adam_w"}.get(cls, cls.lower())
    kwargs = dict(CASES[[n for n, _ in CASES].index(cls) + 1][1])
    configured = getattr(O, cls)(**kwargs)
    back = O.deserialize(O.serialize(configured))
    assert type(back) is type(configured) and back.get_config() == configured.get_config()
    # Keras's own serialized dict loads into the strided class with the same config
    kser = real_keras.optimizers.serialize(getattr(real_keras.optimizers, cls)(**kwargs))
    loaded = O.deserialize(kser)
    for key, value in configured.get_config().items():
        if key not in ("learning_rate", "name"):
            assert loaded.get_config()[key] == value, key


@pytest.mark.parametrize(
    "cls,kwargs,match",
    [
        ("Lion", {"beta_1": 0.0}, r"`beta_1` must be in the \[0, 1\] range.*Received: beta_1=0.0"),
        ("Lion", {"beta_1": 1.5}, "beta_1=1.5"),
        ("Lamb", {"beta_2": 1.5}, "beta_2=1.5"),
        ("Lamb", {"epsilon": -1.0}, "epsilon=-1.0"),
        ("Adafactor", {"clip_threshold": 0.0}, "clip_threshold=0.0"),
        ("Adafactor", {"epsilon_1": "small"}, "epsilon_1='small'"),
        ("Ftrl", {"learning_rate_power": 0.5}, "`learning_rate_power` needs to be negative or zero.*=0.5"),
        ("Ftrl", {"l1_regularization_strength": -0.1}, "l1_regularization_strength=-0.1"),
        ("Ftrl", {"initial_accumulator_value": -1.0}, "initial_accumulator_value=-1.0"),
        ("Muon", {"exclude_layers": "dense"}, "exclude_layers='dense'"),
        ("Muon", {"ns_steps": 2.5}, "ns_steps=2.5"),
        ("ScheduleFreeAdamW", {"warmup_steps": -1}, "warmup_steps=-1"),
        ("ScheduleFreeAdamW", {"beta_1": 0.0}, "beta_1=0.0"),
        ("Lion", {"learning_rate": "fast"}, "learning_rate='fast'"),
    ],
)
def test_bad_arguments_raise(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(O, cls)(**kwargs)


# ----------------------------------------------------------------------------- fit
FIT_CASES = [
    ("Lion", {"learning_rate": 0.01}),
    ("Lamb", {"learning_rate": 0.05}),
    ("Adafactor", {}),
    ("Ftrl", {"learning_rate": 0.5, "l1_regularization_strength": 0.001}),
    ("Muon", {"learning_rate": 0.02}),
    ("ScheduleFreeAdamW", {"learning_rate": 0.05, "warmup_steps": 2}),
    ("LossScaleOptimizer", {}),
    ("SGD", {"learning_rate": 0.5, "loss_scale_factor": 8.0}),
]  # fit scales the loss with the factor


@pytest.mark.parametrize("name,kwargs", FIT_CASES, ids=[n for n, _ in FIT_CASES])
def test_fit_matches_real_keras_fit(real_keras, name, kwargs):
    import strided as keras
    from strided import layers, models

    keras.utils.set_random_seed(1)
    x = np.random.default_rng(0).normal(size=(48, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    model = models.Sequential(
        [layers.Input((4,)), layers.Dense(3, activation="tanh"), layers.Dense(1, activation="sigmoid")]
    )
    kmodel = real_keras.Sequential(
        [
            real_keras.Input((4,)),
            real_keras.layers.Dense(3, activation="tanh"),
            real_keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    kmodel.set_weights(model.get_weights())
    if name == "LossScaleOptimizer":
        opt = O.LossScaleOptimizer(O.SGD(0.5, momentum=0.5), initial_scale=2.0**10, dynamic_growth_steps=2)
        kopt = real_keras.optimizers.LossScaleOptimizer(
            real_keras.optimizers.SGD(0.5, momentum=0.5), initial_scale=2.0**10, dynamic_growth_steps=2
        )
    else:
        opt, kopt = getattr(O, name)(**kwargs), getattr(real_keras.optimizers, name)(**kwargs)
    model.compile(optimizer=opt, loss="binary_crossentropy")
    kmodel.compile(optimizer=kopt, loss="binary_crossentropy")
    ours = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history["loss"]
    theirs = kmodel.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert ours[-1] != ours[0]  # it trained
    for a, b in zip(model.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    if name == "LossScaleOptimizer":
        assert float(opt.dynamic_scale) == float(_np(real_keras, kopt.dynamic_scale)) == 2.0**13


def test_keras_file_keeps_the_optimizer_state(real_keras, tmp_path):
    # A conv model trained with Adafactor (factored slots of a torch-layout kernel) saves and loads with its
    # optimizer state, in strided and in real Keras.
    import strided as keras
    from strided import layers, models
    from strided.saving import keras_format

    keras.utils.set_random_seed(2)
    x = np.random.default_rng(1).normal(size=(8, 5, 5, 2)).astype("float32")
    y = np.random.default_rng(2).normal(size=(8, 1)).astype("float32")
    model = models.Sequential([layers.Input((5, 5, 2)), layers.Conv2D(3, 3), layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer=O.LossScaleOptimizer(O.Adafactor(learning_rate=0.1)), loss="mse")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    state = model.optimizer.get_weights()
    back = models.load_model(path)
    assert isinstance(back.optimizer, O.LossScaleOptimizer) and isinstance(back.optimizer.inner_optimizer, O.Adafactor)
    for a, b in zip(back.optimizer.get_weights(), state):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Skipping variable loading": the inner optimizer is in the file too
        kmodel = real_keras.saving.load_model(path)
    kstate = [_np(real_keras, v) for v in kmodel.optimizer.variables]
    store = {str(i): w for i, w in enumerate(state)}
    as_keras = keras_format.optimizer_store_layout(model.optimizer, store, to_keras=True)
    assert len(kstate) == len(state) == 14  # Keras tracks no bias placeholders under a LossScaleOptimizer
    for i, b in enumerate(kstate):
        np.testing.assert_allclose(as_keras[str(i)], b, rtol=1e-6)
    # the next step is the same in both
    ours = back.train_on_batch(x[:4], y[:4])
    theirs = kmodel.train_on_batch(x[:4], y[:4])
    assert float(ours) == pytest.approx(float(theirs), rel=1e-5)
    for a, b in zip(back.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
