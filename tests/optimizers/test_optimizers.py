"""Optimizers: updates vs NumPy implementations of the Keras formulas and vs real Keras; schedules;
clipping, weight decay, state save/restore, registry."""

import math

import numpy as np
import pytest
import torch

from strided import optimizers as O
from strided.optimizers import schedules as S

RNG = np.random.default_rng(3)
SHAPES = [(3, 4), (5,)]
STEPS = 4


def _data():
    w0 = [RNG.normal(size=s).astype("float64") for s in SHAPES]
    grads = [[RNG.normal(size=s).astype("float64") for s in SHAPES] for _ in range(STEPS)]
    return w0, grads


def _run_ours(opt, w0, grads, dtype=torch.float64):
    params = [torch.nn.Parameter(torch.tensor(w, dtype=dtype)) for w in w0]
    for g in grads:
        opt.apply([torch.tensor(x, dtype=dtype) for x in g], params)
    return [p.detach().numpy() for p in params]


# NumPy implementations of the Keras update rules (one variable)
def np_sgd(w, gs, lr=0.01, momentum=0.0, nesterov=False):
    m = np.zeros_like(w)
    for g in gs:
        if momentum:
            m = m * momentum - lr * g
            w = w + (m * momentum - lr * g if nesterov else m)
        else:
            w = w - lr * g
    return w


def np_rmsprop(w, gs, lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    v, a, mo = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in gs:
        v = rho * v + (1 - rho) * g * g
        if centered:
            a = rho * a + (1 - rho) * g
            d = v - a * a + eps
        else:
            d = v + eps
        inc = lr * g / np.sqrt(d)
        if momentum:
            mo = momentum * mo + inc
            w = w - mo
        else:
            w = w - inc
    return w


def np_adam(w, gs, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None):
    m, v, vh = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(gs, 1):
        if wd:
            w = w - w * wd * lr
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        vv = v
        if amsgrad:
            vh = np.maximum(vh, v)
            vv = vh
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        w = w - m * alpha / (np.sqrt(vv) + eps)
    return w


def np_adagrad(w, gs, lr=0.001, init=0.1, eps=1e-7):
    acc = np.full_like(w, init)
    for g in gs:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + eps)
    return w


def np_adadelta(w, gs, lr=0.001, rho=0.95, eps=1e-7):
    eg, ed = np.zeros_like(w), np.zeros_like(w)
    for g in gs:
        eg = rho * eg + (1 - rho) * g * g
        d = -np.sqrt(ed + eps) * g / np.sqrt(eg + eps)
        ed = rho * ed + (1 - rho) * d * d
        w = w + lr * d
    return w


def np_adamax(w, gs, lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    m, u = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(gs, 1):
        m = m + (g - m) * (1 - b1)
        u = np.maximum(b2 * u, np.abs(g))
        w = w - lr * m / ((1 - b1**t) * (u + eps))
    return w


def np_nadam(w, gs, lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    m, v, up = np.zeros_like(w), np.zeros_like(w), 1.0
    for t, g in enumerate(gs, 1):
        u_t = b1 * (1 - 0.5 * 0.96**t)
        u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        up = up * u_t
        up1 = up * u_t1
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        m_hat = u_t1 * m / (1 - up1) + (1 - u_t) * g / (1 - up)
        v_hat = v / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


CASES = [
    ("SGD", {}, np_sgd, {}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}, np_sgd, {"lr": 0.1, "momentum": 0.9}),
    (
        "SGD",
        {"learning_rate": 0.1, "momentum": 0.8, "nesterov": True},
        np_sgd,
        {"lr": 0.1, "momentum": 0.8, "nesterov": True},
    ),
    ("RMSprop", {}, np_rmsprop, {}),
    (
        "RMSprop",
        {"momentum": 0.5, "centered": True, "rho": 0.8},
        np_rmsprop,
        {"momentum": 0.5, "centered": True, "rho": 0.8},
    ),
    ("Adam", {"learning_rate": 0.01}, np_adam, {"lr": 0.01}),
    ("Adam", {"amsgrad": True, "beta_1": 0.8}, np_adam, {"amsgrad": True, "b1": 0.8}),
    ("AdamW", {"learning_rate": 0.01}, np_adam, {"lr": 0.01, "wd": 0.004}),
    ("Adagrad", {"learning_rate": 0.05}, np_adagrad, {"lr": 0.05}),
    ("Adadelta", {"learning_rate": 1.0}, np_adadelta, {"lr": 1.0}),
    ("Adamax", {"learning_rate": 0.01}, np_adamax, {"lr": 0.01}),
    ("Nadam", {"learning_rate": 0.01}, np_nadam, {"lr": 0.01}),
]


@pytest.mark.parametrize("name,kwargs,ref,ref_kwargs", CASES)
def test_update_matches_numpy_keras_formula(name, kwargs, ref, ref_kwargs):
    w0, grads = _data()
    got = _run_ours(getattr(O, name)(**kwargs), w0, grads)
    for k, w in enumerate(w0):
        want = ref(w, [g[k] for g in grads], **ref_kwargs)
        np.testing.assert_allclose(got[k], want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "name,kwargs,ref,ref_kwargs",
    CASES
    + [
        ("Adam", {"clipnorm": 0.5}, None, None),
        ("SGD", {"global_clipnorm": 0.7}, None, None),
        ("RMSprop", {"clipvalue": 0.3}, None, None),
        ("Adam", {"weight_decay": 0.1, "learning_rate": 0.05}, None, None),
    ],
)
def test_update_matches_real_keras(real_keras, name, kwargs, ref, ref_kwargs):
    w0, grads = _data()
    w0 = [w.astype("float32") for w in w0]
    got = _run_ours(getattr(O, name)(**kwargs), w0, grads, dtype=torch.float32)
    kopt = getattr(real_keras.optimizers, name)(**kwargs)
    kvars = [real_keras.Variable(w) for w in w0]
    for g in grads:
        kopt.apply([real_keras.ops.convert_to_tensor(x.astype("float32")) for x in g], kvars)
    for a, v in zip(got, kvars):
        np.testing.assert_allclose(a, real_keras.ops.convert_to_numpy(v), rtol=1e-5, atol=1e-6)
    # same state layout as Keras
    ours = getattr(O, name)(**kwargs)
    ours.build([torch.nn.Parameter(torch.tensor(w)) for w in w0])
    assert [tuple(v.shape) for v in ours.variables] == [tuple(v.shape) for v in kopt.variables]
    ours_cfg, keras_cfg = ours.get_config(), kopt.get_config()
    for key in keras_cfg:
        if key not in ("name", "learning_rate"):
            assert ours_cfg[key] == keras_cfg[key], key
    assert ours_cfg["learning_rate"] == pytest.approx(keras_cfg["learning_rate"])


def test_schedule_learning_rate_is_read_at_current_iteration(real_keras):
    w0, grads = _data()
    sched = dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5)
    got = _run_ours(O.SGD(learning_rate=S.ExponentialDecay(**sched)), w0, grads)
    want = w0[0].copy()
    for t, g in enumerate(grads):
        want = want - 0.1 * 0.5 ** (t / 2) * g[0]
    np.testing.assert_allclose(got[0], want, rtol=1e-6)


@pytest.mark.parametrize(
    "cls,kwargs",
    [
        ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.7)),
        ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.7, staircase=True)),
        ("PiecewiseConstantDecay", dict(boundaries=[2, 5], values=[1.0, 0.5, 0.1])),
        ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=6, power=2.0)),
        ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=4, cycle=True)),
        ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5, staircase=True)),
        ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=8, alpha=0.1)),
        ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=8, warmup_target=0.1, warmup_steps=3)),
        ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=3, t_mul=2.0, m_mul=0.8)),
    ],
)
def test_schedules_match_keras(real_keras, cls, kwargs):
    ours = getattr(S, cls)(**kwargs)
    ref = getattr(real_keras.optimizers.schedules, cls)(**kwargs)
    for step in range(0, 14):
        want = float(real_keras.ops.convert_to_numpy(ref(step)))
        assert float(ours(step)) == pytest.approx(want, rel=1e-5, abs=1e-7), step
        assert float(ours(torch.tensor(step))) == pytest.approx(want, rel=1e-5, abs=1e-7)
    assert ours.get_config() == ref.get_config()
    assert S.deserialize(S.serialize(ours)).get_config() == ours.get_config()


def test_cosine_decay_golden():
    s = S.CosineDecay(1.0, decay_steps=4)
    assert float(s(2)) == pytest.approx(0.5)
    assert float(s(4)) == pytest.approx(0.0, abs=1e-7) and float(s(10)) == pytest.approx(0.0, abs=1e-7)


def test_clipping_goldens():
    g = torch.tensor([3.0, 4.0])
    p = torch.nn.Parameter(torch.zeros(2))
    O.SGD(learning_rate=1.0, clipnorm=1.0).apply([g], [p])
    torch.testing.assert_close(p.detach(), torch.tensor([-0.6, -0.8]))
    p = torch.nn.Parameter(torch.zeros(2))
    O.SGD(learning_rate=1.0, clipvalue=3.5).apply([g], [p])
    torch.testing.assert_close(p.detach(), torch.tensor([-3.0, -3.5]))
    p1, p2 = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    O.SGD(learning_rate=1.0, global_clipnorm=2.5).apply([torch.tensor([3.0]), torch.tensor([4.0])], [p1, p2])
    torch.testing.assert_close(torch.cat([p1, p2]).detach(), torch.tensor([-1.5, -2.0]))
    assert torch.equal(g, torch.tensor([3.0, 4.0]))  # gradients are not modified in place


def test_learning_rate_property_and_setter():
    opt = O.Adam()
    assert opt.learning_rate == pytest.approx(0.001)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5 and opt.get_config()["learning_rate"] == 0.5
    sched = O.SGD(learning_rate=S.PiecewiseConstantDecay([1], [1.0, 0.1]))
    with pytest.raises(TypeError, match="not settable"):
        sched.learning_rate = 0.3
    with pytest.raises(ValueError, match="learning_rate"):
        O.Adam(learning_rate="fast")


def test_iterations_variables_and_state_round_trip():
    w0, grads = _data()
    opt = O.RMSprop(momentum=0.5, centered=True)
    params = [torch.nn.Parameter(torch.tensor(w)) for w in w0]
    for g in grads[:2]:
        opt.apply([torch.tensor(x) for x in g], params)
    assert int(opt.iterations) == 2
    assert len(opt.variables) == 2 + 3 * len(params)
    state = opt.get_state()
    snapshot = [p.detach().clone() for p in params]
    for g in grads[2:]:
        opt.apply([torch.tensor(x) for x in g], params)
    after = [p.detach().clone() for p in params]
    # a fresh optimizer restored from the snapshot continues identically
    params2 = [torch.nn.Parameter(s.clone()) for s in snapshot]
    opt2 = O.RMSprop(momentum=0.5, centered=True)
    opt2.load_state_dict(state)  # before build: applied at build time
    for g in grads[2:]:
        opt2.apply([torch.tensor(x) for x in g], params2)
    for a, b in zip(after, params2):
        torch.testing.assert_close(a, b.detach())
    assert int(opt2.iterations) == 4


def test_apply_without_variables_and_apply_gradients():
    p = torch.nn.Parameter(torch.ones(2))
    opt = O.SGD(learning_rate=0.5)
    with pytest.raises(ValueError, match="build"):
        opt.apply([torch.ones(2)])
    opt.build([p])
    opt.apply([torch.ones(2)])
    opt.apply_gradients(zip([torch.ones(2)], [p]))
    torch.testing.assert_close(p.detach(), torch.zeros(2))
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([torch.ones(1)], [torch.nn.Parameter(torch.ones(1))])
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        q = torch.nn.Parameter(torch.ones(2))
        opt2 = O.SGD(learning_rate=1.0)
        opt2.apply([None, torch.ones(2)], [p, q])
    torch.testing.assert_close(q.detach(), torch.zeros(2))


def test_exclude_from_weight_decay():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = O.AdamW(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[b])
    z = torch.zeros(2)
    opt.apply([z, z], [a, b])
    torch.testing.assert_close(a.detach(), torch.full((2,), 0.95))
    torch.testing.assert_close(b.detach(), torch.ones(2))


def test_registry_and_config_round_trip():
    assert isinstance(O.get("adam"), O.Adam) and isinstance(O.get("RMSprop"), O.RMSprop)
    assert isinstance(O.get("sgd"), O.SGD)
    opt = O.Adam(learning_rate=S.CosineDecay(0.1, 10), amsgrad=True, clipnorm=1.0)
    back = O.deserialize(O.serialize(opt))
    assert isinstance(back, O.Adam) and back.amsgrad and back.clipnorm == 1.0
    assert back.learning_rate == pytest.approx(0.1)
    inst = O.SGD()
    assert O.get(inst) is inst
    with pytest.raises(ValueError, match="Did you mean.*Received: optimizer='adamm'"):
        O.get("adamm")
    with pytest.raises(ValueError, match="momentum"):
        O.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="Only one of"):
        O.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        O.AdamW(weight_decay=None)


def test_trains_a_small_problem():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    for name in ("SGD", "RMSprop", "Adam", "Nadam", "Adamax", "Adagrad"):
        w = torch.nn.Parameter(torch.zeros(3, 1))
        opt = getattr(O, name)(learning_rate=0.5 if name == "Adagrad" else 0.1)
        for _ in range(150):
            loss = ((x @ w - y) ** 2).mean()
            (g,) = torch.autograd.grad(loss, [w])
            opt.apply([g], [w])
        assert float(((x @ w.detach() - y) ** 2).mean()) < 0.05, name
    assert math.isfinite(float(loss.detach()))


# ----------------------------------------------------------------------------- accumulation and EMA
LONG_STEPS = 9


def _keras_run(real_keras, name, kwargs, w0, grads):
    kopt = getattr(real_keras.optimizers, name)(**kwargs)
    kvars = [real_keras.Variable(w) for w in w0]
    for g in grads:
        kopt.apply([real_keras.ops.convert_to_tensor(x) for x in g], kvars)
    return kopt, [real_keras.ops.convert_to_numpy(v) for v in kvars]


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "gradient_accumulation_steps": 3}),
        ("Adam", {"learning_rate": 0.05, "gradient_accumulation_steps": 2, "weight_decay": 0.1, "clipnorm": 0.8}),
        ("RMSprop", {"gradient_accumulation_steps": 4}),
        ("Adam", {"learning_rate": 0.05, "use_ema": True}),
        ("SGD", {"learning_rate": 0.1, "use_ema": True, "ema_momentum": 0.5, "ema_overwrite_frequency": 3}),
        (
            "Nadam",
            {
                "learning_rate": 0.05,
                "use_ema": True,
                "ema_momentum": 0.8,
                "gradient_accumulation_steps": 2,
                "ema_overwrite_frequency": 2,
            },
        ),
        (
            "SGD",
            {"learning_rate": S.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5), "gradient_accumulation_steps": 2},
        ),
        # Adagrad's accumulators start at initial_accumulator_value; its EMA and gradient-accumulation slots at 0.
        ("Adagrad", {"learning_rate": 0.05, "gradient_accumulation_steps": 2, "use_ema": True}),
    ],
)
def test_accumulation_and_ema_match_real_keras(real_keras, name, kwargs):
    rng = np.random.default_rng(11)
    w0 = [rng.normal(size=s).astype("float32") for s in SHAPES]
    grads = [[rng.normal(size=s).astype("float32") for s in SHAPES] for _ in range(LONG_STEPS)]
    ours_opt = getattr(O, name)(**kwargs)
    ours = _run_ours(ours_opt, w0, grads, dtype=torch.float32)
    k_kwargs = dict(kwargs)
    if isinstance(kwargs["learning_rate"] if "learning_rate" in kwargs else None, S.ExponentialDecay):
        k_kwargs["learning_rate"] = real_keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    kopt, want = _keras_run(real_keras, name, k_kwargs, w0, grads)
    for a, b in zip(ours, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # The whole state (raw step count, weight averages, accumulators, slots) equals Keras's, in Keras order.
    keras_state = [real_keras.ops.convert_to_numpy(v) for v in kopt.variables]
    assert len(ours_opt.variables) == len(keras_state)
    for a, b in zip(ours_opt.get_weights(), keras_state):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(ours_opt.iterations) == int(real_keras.ops.convert_to_numpy(kopt.iterations))


def test_gradient_accumulation_equals_one_step_on_the_mean_gradient():
    # Accumulating k gradients then updating = one update with their mean (SGD, momentum included).
    rng = np.random.default_rng(5)
    w0 = [rng.normal(size=(4,))]
    grads = [[rng.normal(size=(4,))] for _ in range(6)]
    accumulated = _run_ours(O.SGD(0.1, momentum=0.9, gradient_accumulation_steps=3), w0, grads)
    means = [[np.mean([g[0] for g in grads[:3]], axis=0)], [np.mean([g[0] for g in grads[3:]], axis=0)]]
    plain = _run_ours(O.SGD(0.1, momentum=0.9), w0, means)
    np.testing.assert_allclose(accumulated[0], plain[0], rtol=1e-12)
    # between updates the weights do not move
    partial = _run_ours(O.SGD(0.1, gradient_accumulation_steps=3), w0, grads[:2])
    np.testing.assert_array_equal(partial[0], w0[0])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"gradient_accumulation_steps": 1}, "gradient_accumulation_steps` must be an integer >= 2"),
        ({"gradient_accumulation_steps": 2.5}, "gradient_accumulation_steps=2.5"),
        ({"use_ema": True, "ema_momentum": 1.5}, r"ema_momentum` must be in the range \[0, 1\]"),
        ({"use_ema": True, "ema_overwrite_frequency": 0.5}, "ema_overwrite_frequency=0.5"),
    ],
)
def test_accumulation_and_ema_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        O.SGD(0.1, **kwargs)


@pytest.mark.parametrize(
    "opt_kwargs",
    [
        {"use_ema": True, "ema_momentum": 0.9},
        {"gradient_accumulation_steps": 3, "momentum": 0.5},
        {"use_ema": True, "ema_momentum": 0.7, "ema_overwrite_frequency": 2, "gradient_accumulation_steps": 2},
    ],
)
def test_fit_with_accumulation_and_ema_matches_real_keras_fit(real_keras, opt_kwargs):
    import strided as keras
    from strided import layers, models

    keras.utils.set_random_seed(1)
    x = np.random.default_rng(0).normal(size=(80, 4)).astype("float32")
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
    opt = keras.optimizers.SGD(0.5, **opt_kwargs)
    model.compile(optimizer=opt, loss="binary_crossentropy")
    kmodel.compile(optimizer=real_keras.optimizers.SGD(0.5, **opt_kwargs), loss="binary_crossentropy")
    ours = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False).history["loss"]
    theirs = kmodel.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    for a, b in zip(model.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    if opt_kwargs.get("use_ema"):
        # fit ends on the moving averages (Keras's finalize_variable_values)
        for w, avg in zip(model.trainable_weights, opt._slots["average"]):
            torch.testing.assert_close(w.detach(), avg)
