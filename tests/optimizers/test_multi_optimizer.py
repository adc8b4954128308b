"""optimizers.MultiOptimizer and OptimizerMap against real Keras 3.15: variable assignment by path,
fit numbers (weights and optimizer variables), errors, configs, callbacks and `.keras` files both ways."""

import io
import json
import zipfile

import numpy as np
import pytest
import torch

import strided as keras
from strided import optimizers
from strided.saving import keras_format

X = np.random.default_rng(0).normal(size=(32, 6, 6, 1)).astype("float32")
Y = np.random.default_rng(1).normal(size=(32, 2)).astype("float32")


def _net(lib, sequential=False):
    """An encoder (conv, flatten, dense) and a dense head; paths 'encoder/...' in the functional model,
    'net/encoder/...' in the Sequential one (as Keras names them)."""
    L = lib.layers
    encoder = lib.Sequential(
        [L.Conv2D(3, 3, name="conv"), L.Flatten(name="flat"), L.Dense(4, activation="relu", name="d1")], name="encoder"
    )
    head = L.Dense(2, name="head")
    if sequential:
        return lib.Sequential([lib.Input((6, 6, 1)), encoder, head], name="net")
    inp = lib.Input((6, 6, 1))
    return lib.Model(inp, head(encoder(inp)), name="net")


def _pair(real_keras, sequential=False):
    keras.utils.set_random_seed(3)
    ours, theirs = _net(keras, sequential), _net(real_keras, sequential)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def _map_opt(lib, pattern="encoder/.*", loss_scale_factor=None):
    O = lib.optimizers
    return O.MultiOptimizer(
        O.OptimizerMap(O.SGD(0.05, momentum=0.9), {pattern: O.Adam(0.01)}), loss_scale_factor=loss_scale_factor
    )


def _callable_opt(lib):
    adam, rms = lib.optimizers.Adam(0.01, amsgrad=True), lib.optimizers.RMSprop(0.005, momentum=0.5)

    def selector(variable):  # by layer name: Keras's loaded models drop the outer scopes from the paths
        return adam if variable.path.split("/")[-2] in ("conv", "d1") else rms

    return lib.optimizers.MultiOptimizer(selector)


def _var(lib, value, name):
    """A variable named ``name`` (its path too): ``keras.Variable`` in Keras, a strided weight here."""
    value = np.asarray(value, "float32")
    if lib is keras:
        v = keras.Variable(torch.tensor(value))
        v._keras_name = v._keras_path = name
        return v
    return lib.Variable(value, name=name)


def _our_state(opt):
    """Our optimizer variables in Keras layout (conv slots transposed, as they are saved)."""
    store = {}
    opt.save_own_variables(store)
    store = keras_format.optimizer_store_layout(opt, store, to_keras=True)
    return [np.asarray(store[str(i)]) for i in range(len(store))]


def _keras_state(real_keras, opt):
    return [real_keras.ops.convert_to_numpy(v) for v in opt.variables]


def _assert_same(ours, theirs, rtol=1e-5, atol=1e-6):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64"), rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------------- OptimizerMap
def test_optimizer_map_lookup_matches_keras(real_keras):
    for lib in (keras, real_keras):
        O = lib.optimizers
        adam, sgd, rms = O.Adam(), O.SGD(), O.RMSprop()
        m = O.OptimizerMap(default_optimizer=rms)
        m["encoder/layer_0/dense"] = adam
        m["encoder/.*"] = sgd
        m["decoder"] = adam
        assert m["decoder"] is adam and m["encoder/layer_0/dense"] is adam  # exact keys first
        assert m["encoder/layer_0/attention/query"] is sgd
        assert m["decoder/layer_0/dense"] is rms and m["xencoder/a"] is rms  # fullmatch, not search
        assert len(m) == 3 and list(m) == ["encoder/layer_0/dense", "encoder/.*", "decoder"]
        del m["decoder"]
        assert m["decoder"] is rms and m.default_optimizer is rms
        twice = O.OptimizerMap(rms, {"a.*": adam, ".*b": sgd})
        with pytest.raises(ValueError, match="^Multiple optimizers assigned to variable ab.$"):
            twice["ab"]


def _message(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e), str(e)
    return None, None


def test_optimizer_map_errors_match_keras(real_keras):
    def cases(lib):
        O = lib.optimizers
        m = O.OptimizerMap(O.SGD(), {"a": O.Adam()})
        return [
            lambda: O.OptimizerMap("sgd"),
            lambda: O.OptimizerMap(O.SGD(), [1]),
            lambda: m.__setitem__(1, O.SGD()),
            lambda: m.__setitem__("b", "sgd"),
            lambda: m.__setitem__("c", O.LossScaleOptimizer(O.SGD())),
            lambda: m.__setitem__("d", O.MultiOptimizer(m)),
            lambda: m.__setitem__("a", O.SGD()),
        ]

    for ours, theirs in zip(cases(keras), cases(real_keras)):
        (t1, m1), (t2, m2) = _message(ours), _message(theirs)
        assert t1 is t2 is not None
        if "already exists" in m2:  # the message echoes the optimizer's repr
            assert m1.startswith("'a' already exists in the OptimizerMap with value") and m1.endswith(
                "Please make sure to not use duplicated keys."
            )
        else:
            assert m1 == m2


# ---------------------------------------------------------------------------------------------- fit
@pytest.mark.parametrize(
    "kind, sequential",
    [
        ("map", False),  # encoder/.* -> Adam, head -> SGD with momentum
        ("map", True),  # Sequential paths start with 'net/': the pattern matches nothing, all SGD (Keras)
        ("map_any", True),  # '.*encoder/.*' matches in the Sequential model
        ("callable", False),  # a selector function; inner optimizers found while building
        ("scaled", False),  # loss_scale_factor on the MultiOptimizer, passed to the inner optimizers
    ],
)
def test_fit_matches_keras(real_keras, kind, sequential):
    ours, theirs = _pair(real_keras, sequential)

    def make(lib):
        if kind == "callable":
            return _callable_opt(lib)
        return _map_opt(lib, ".*encoder/.*" if kind == "map_any" else "encoder/.*", 4.0 if kind == "scaled" else None)

    opt, kopt = make(keras), make(real_keras)
    ours.compile(optimizer=opt, loss="mse")
    theirs.compile(optimizer=kopt, loss="mse")
    h1 = ours.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
    h2 = theirs.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h1, h2, rtol=1e-5)
    _assert_same(ours.get_weights(), theirs.get_weights())
    _assert_same(_our_state(opt), _keras_state(real_keras, kopt))
    assert int(opt.iterations) == int(real_keras.ops.convert_to_numpy(kopt.iterations)) == 8
    assert [type(o).__name__ for o in opt.optimizers] == [type(o).__name__ for o in kopt.optimizers]
    for a, b in zip(opt.optimizers, kopt.optimizers):
        assert int(a.iterations) == int(real_keras.ops.convert_to_numpy(b.iterations))
        assert a.built == b.built
    if kind == "map" and sequential:
        assert int(opt.optimizers[0].iterations) == 0  # the Adam got no variable
    if kind == "scaled":
        assert all(o.loss_scale_factor == 4.0 for o in opt.optimizers)
        np.testing.assert_allclose(float(opt.scale_loss(torch.tensor(2.0))), 8.0)


def test_ema_inner_optimizer_and_swap_callback_match_keras(real_keras):
    ours, theirs = _pair(real_keras)

    def make(lib):
        O = lib.optimizers
        return O.MultiOptimizer(O.OptimizerMap(O.SGD(0.05), {"encoder/.*": O.SGD(0.1, use_ema=True, ema_momentum=0.5)}))

    opt, kopt = make(keras), make(real_keras)
    ours.compile(optimizer=opt, loss="mse")
    theirs.compile(optimizer=kopt, loss="mse")
    ours.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    theirs.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    _assert_same(ours.get_weights(), theirs.get_weights())  # finalize_variable_values: the encoder's averages
    _assert_same(_our_state(opt), _keras_state(real_keras, kopt))
    # SwapEMAWeights swaps only the weights of the inner optimizer that keeps averages
    ema = opt.optimizers[0]
    with torch.no_grad():
        ema._slots["average"][0].fill_(9.0)
    head_before = ours.layers[-1].get_weights()
    kernel_before = ours.get_layer("encoder").get_layer("conv").kernel.detach().clone()
    swap = keras.callbacks.SwapEMAWeights()
    swap.set_model(ours)
    swap.on_test_begin()
    assert torch.all(ours.get_layer("encoder").get_layer("conv").kernel == 9.0)
    _assert_same(ours.layers[-1].get_weights(), head_before)
    swap.on_test_end()
    torch.testing.assert_close(ours.get_layer("encoder").get_layer("conv").kernel.detach(), kernel_before)
    plain = keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(keras.optimizers.SGD()))
    ours.compile(optimizer=plain, loss="mse")
    with pytest.raises(ValueError, match="at least one inner optimizer has `use_ema=True`"):
        swap.on_test_begin()


def test_learning_rate_callbacks_update_each_inner_optimizer_as_keras(real_keras):
    results = []
    for lib in (keras, real_keras):
        model = _pair(real_keras)[0] if lib is keras else _pair(real_keras)[1]
        opt = _map_opt(lib)
        model.compile(optimizer=opt, loss="mse")
        callbacks = [
            lib.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5),
            lib.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.1, patience=0, min_delta=100.0),
        ]
        history = model.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=callbacks).history
        lrs = [float(lib.ops.convert_to_numpy(o.learning_rate)) for o in opt.optimizers]
        logged = [history[f"learning_rate_{o.name}"] for o in opt.optimizers]
        results.append((history["loss"], lrs, logged, model.get_weights()))
    (l1, lr1, log1, w1), (l2, lr2, log2, w2) = results
    np.testing.assert_allclose(l1, l2, rtol=1e-5)
    np.testing.assert_allclose(lr1, lr2, rtol=1e-6)
    np.testing.assert_allclose(log1, log2, rtol=1e-6)
    np.testing.assert_allclose(lr1, [0.01 * 0.25 * 0.1, 0.05 * 0.25 * 0.1], rtol=1e-6)
    _assert_same(w1, w2)


# ---------------------------------------------------------------------------------------------- errors
def test_errors_match_keras(real_keras):
    def cases(lib):
        O = lib.optimizers
        w = _var(lib, np.ones((2,)), "w")
        built = O.MultiOptimizer(O.OptimizerMap(O.SGD()))
        built.build([w])
        one = np.ones((2,), "float32")
        return [
            lambda: O.MultiOptimizer(lambda v: O.LossScaleOptimizer(O.SGD())).build([w]),
            lambda: O.MultiOptimizer(lambda v: O.MultiOptimizer(O.OptimizerMap(O.SGD()))).build([w]),
            lambda: O.MultiOptimizer(O.OptimizerMap(O.SGD())).apply([one]),
            lambda: built.apply([one, one]),
            lambda: O.MultiOptimizer(O.OptimizerMap(O.SGD())).set_weights([]),
            lambda: built.learning_rate,
            lambda: setattr(built, "learning_rate", 0.1),
        ]

    for ours, theirs in zip(cases(keras), cases(real_keras)):
        (t1, m1), (t2, m2) = _message(ours), _message(theirs)
        assert t1 is t2 is not None
        assert m1 == m2
    assert not hasattr(_map_opt(keras), "learning_rate") and not hasattr(_map_opt(keras), "lr")
    # a selector returning something else than an optimizer: the message names the variable and the value
    w = _var(keras, np.ones((2,)), "w")
    with pytest.raises(ValueError, match=r"^Optimizer for variable w is not an Optimizer instance. Received: 'sgd'"):
        optimizers.MultiOptimizer(lambda v: "sgd").build([w])
    with pytest.raises(TypeError, match=r"`optimizer_map` must be .*Received: optimizer_map='adam'"):
        optimizers.MultiOptimizer("adam")
    with pytest.raises(ValueError, match="Unknown variable"):
        opt = _map_opt(keras)
        opt.build([w])
        opt.apply([torch.ones(2)], [_var(keras, np.ones((2,)), "other")])


def test_apply_loss_scaling_and_loss_scale_optimizer_as_keras(real_keras):
    """Keras's own MultiOptimizer tests: unscaling by loss_scale_factor, a LossScaleOptimizer around it."""
    for lib in (keras, real_keras):
        O = lib.optimizers
        sgd = O.SGD(0.1, loss_scale_factor=2.0)
        multi = O.MultiOptimizer(O.OptimizerMap(sgd, {".*": sgd}), loss_scale_factor=5.0)
        w = _var(lib, np.full((1, 2), 2.0), "kernel")
        multi.apply([lib.ops.convert_to_tensor(np.full((1, 2), 10.0, "float32"))], [w])
        np.testing.assert_allclose(lib.ops.convert_to_numpy(w), [[1.8, 1.8]], rtol=1e-6)
        assert len(multi.optimizers) == 1 and sgd.loss_scale_factor == 5.0

        o1, o2 = O.SGD(0.1), O.SGD(0.1)
        selector = {"a": o1, "b": o2}
        inner = O.MultiOptimizer(lambda v: selector[v.name], loss_scale_factor=5.0)
        lso = O.LossScaleOptimizer(inner, initial_scale=10.0, dynamic_growth_steps=1000)
        wa, wb = _var(lib, np.full((1, 2), 2.0), "a"), _var(lib, np.full((1, 2), 2.0), "b")
        lso.build([wa, wb])
        assert inner.loss_scale_factor is None and o1.loss_scale_factor is None and o2.loss_scale_factor is None
        g = lib.ops.convert_to_tensor(np.full((1, 2), 10.0, "float32"))
        lso.apply([g, g], [wa, wb])
        for v in (wa, wb):
            np.testing.assert_allclose(lib.ops.convert_to_numpy(v), [[1.9, 1.9]], rtol=1e-6)
        assert int(lib.ops.convert_to_numpy(inner.iterations)) == 1


def test_weights_and_state_round_trip():
    w1, w2 = _var(keras, np.ones((2, 3)), "a"), _var(keras, np.ones((3,)), "b")
    adam, sgd, unused = optimizers.Adam(0.1), optimizers.SGD(0.1, momentum=0.5), optimizers.Adagrad()
    opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(sgd, {"a": adam, "zzz": unused}))
    for _ in range(3):
        opt.apply([torch.full((2, 3), 0.5), torch.full((3,), 0.25)], [w1, w2])
    assert [int(o.iterations) for o in opt.optimizers] == [3, 0, 3] and int(opt.iterations) == 3
    assert not unused.built
    saved = opt.get_weights()
    assert len(saved) == len(opt.variables) == 2 + 4 + 2 + 3  # own, Adam on a, unbuilt Adagrad, SGD on b
    state = opt.get_state()
    copy = optimizers.MultiOptimizer.from_config(opt.get_config())
    copy.set_state(state)  # kept until built
    copy.build([w1, w2])
    _assert_same(copy.get_weights(), saved)
    with pytest.raises(ValueError, match="has 11 variables but 2 weights were given"):
        copy.set_weights(saved[:2])
    bad = list(saved)
    bad[4] = np.zeros((5,))
    with pytest.raises(ValueError, match=r"not compatible with provided weight shape \(5,\)"):
        copy.set_weights(bad)
    _assert_same(copy.get_weights(), saved)  # nothing assigned


# ---------------------------------------------------------------------------------------------- config
def _normalize(config):
    """Inner optimizers: Keras writes their backend module; learning rates are float32 there."""
    if isinstance(config, dict):
        out = {k: _normalize(v) for k, v in config.items() if k not in ("name",)}
        if out.get("class_name") in ("SGD", "Adam", "RMSprop"):
            out.pop("module", None)
            out.pop("registered_name", None)
        if isinstance(out.get("learning_rate"), float):
            out["learning_rate"] = round(out["learning_rate"], 6)
        return out
    return config


def test_config_round_trip_both_ways(real_keras):
    opt, kopt = _map_opt(keras, loss_scale_factor=2.0), _map_opt(real_keras, loss_scale_factor=2.0)
    ours, theirs = optimizers.serialize(opt), real_keras.optimizers.serialize(kopt)
    assert _normalize(ours) == _normalize(theirs)
    assert ours["config"]["name"] == "multi_optimizer"
    back = optimizers.deserialize(json.loads(json.dumps(theirs)))  # a Keras config read by strided
    assert isinstance(back, optimizers.MultiOptimizer) and back.loss_scale_factor == 2.0
    assert [type(o).__name__ for o in back.optimizers] == ["Adam", "SGD"]
    assert back.optimizers[1].get_config()["momentum"] == 0.9
    assert _normalize(optimizers.serialize(back)) == _normalize(ours)
    kback = real_keras.optimizers.deserialize(json.loads(json.dumps(ours)))  # and the other way
    assert [type(o).__name__ for o in kback.optimizers] == ["Adam", "SGD"]
    assert _normalize(real_keras.optimizers.serialize(kback)) == _normalize(theirs)

    def selector(variable):
        return variable

    fn_config = optimizers.MultiOptimizer(selector).get_config()
    assert fn_config["optimizer_map"] == real_keras.optimizers.MultiOptimizer(selector).get_config()["optimizer_map"]
    with pytest.raises(ValueError, match="Could not locate the optimizer selector function 'selector'"):
        optimizers.MultiOptimizer.from_config(fn_config)
    assert optimizers.MultiOptimizer.from_config(fn_config, {"selector": selector})._optimizer_map is selector


# ---------------------------------------------------------------------------------------------- .keras files
def _h5_layout(path):
    import h5py

    with zipfile.ZipFile(path) as z:
        f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
        out = {}
        f["optimizer"].visititems(lambda name, obj: out.__setitem__(name, getattr(obj, "shape", None)))
        compile_config = json.loads(z.read("config.json"))["compile_config"]
        return out, compile_config


@pytest.mark.parametrize("kind", ["map", "callable"])
def test_keras_file_both_ways(real_keras, tmp_path, kind):
    ours, theirs = _pair(real_keras)
    # the layers' own names: a model Keras loads has paths 'conv/kernel', not 'encoder/conv/kernel'
    make = _callable_opt if kind == "callable" else (lambda lib: _map_opt(lib, ".*(conv|d1)/.*"))
    opt, kopt = make(keras), make(real_keras)
    ours.compile(optimizer=opt, loss="mse")
    theirs.compile(optimizer=kopt, loss="mse")
    ours.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    theirs.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    layout, cc = _h5_layout(tmp_path / "ours.keras")
    klayout, kcc = _h5_layout(tmp_path / "theirs.keras")
    assert layout == klayout  # optimizer/vars (all) and optimizer/optimizers/<adam, sgd...>/vars
    assert _normalize(cc["optimizer"]) == _normalize(kcc["optimizer"])
    # a fresh selector: the saved one returns optimizers already built on the first model's weights
    custom = {"selector": _callable_opt(keras)._optimizer_map} if kind == "callable" else None
    kcustom = {"selector": _callable_opt(real_keras)._optimizer_map} if kind == "callable" else None

    # strided -> Keras, and Keras -> strided: weights and optimizer state, then one more step alike
    k_loaded = real_keras.saving.load_model(tmp_path / "ours.keras", custom_objects=kcustom)
    s_loaded = keras.saving.load_model(tmp_path / "theirs.keras", custom_objects=custom)
    assert isinstance(s_loaded.optimizer, optimizers.MultiOptimizer)
    _assert_same(_keras_state(real_keras, k_loaded.optimizer), _our_state(opt))
    _assert_same(_our_state(s_loaded.optimizer), _keras_state(real_keras, kopt))
    for a, b in zip(s_loaded.optimizer.optimizers, k_loaded.optimizer.optimizers):
        assert int(a.iterations) == int(real_keras.ops.convert_to_numpy(b.iterations))
    h1 = s_loaded.fit(X, Y, batch_size=32, epochs=1, shuffle=False, verbose=0).history["loss"]
    h2 = k_loaded.fit(X, Y, batch_size=32, epochs=1, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h1, h2, rtol=1e-5)
    _assert_same(s_loaded.get_weights(), k_loaded.get_weights())
    _assert_same(_our_state(s_loaded.optimizer), _keras_state(real_keras, k_loaded.optimizer))


def test_keras_file_with_an_unused_inner_optimizer(real_keras, tmp_path):
    """A pattern that matches nothing: Keras still saves the unbuilt Adam's counter and rate."""
    ours, theirs = _pair(real_keras, sequential=True)
    opt, kopt = _map_opt(keras, "decoder/.*"), _map_opt(real_keras, "decoder/.*")
    ours.compile(optimizer=opt, loss="mse")
    theirs.compile(optimizer=kopt, loss="mse")
    ours.fit(X, Y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    theirs.fit(X, Y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    theirs.save(tmp_path / "theirs.keras")
    ours.save(tmp_path / "ours.keras")
    assert _h5_layout(tmp_path / "ours.keras")[0] == _h5_layout(tmp_path / "theirs.keras")[0]
    loaded = keras.saving.load_model(tmp_path / "theirs.keras")
    _assert_same(_our_state(loaded.optimizer), _keras_state(real_keras, kopt))
    assert not loaded.optimizer.optimizers[0].built
    k_loaded = real_keras.saving.load_model(tmp_path / "ours.keras")
    _assert_same(_keras_state(real_keras, k_loaded.optimizer), _our_state(opt))


def test_loss_scale_optimizer_around_multi_optimizer_fit_and_files(real_keras, tmp_path):
    ours, theirs = _pair(real_keras)

    def make(lib):
        return lib.optimizers.LossScaleOptimizer(_map_opt(lib, ".*(conv|d1)/.*"), initial_scale=8.0)

    opt, kopt = make(keras), make(real_keras)
    ours.compile(optimizer=opt, loss="mse")
    theirs.compile(optimizer=kopt, loss="mse")
    ours.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    theirs.fit(X, Y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    _assert_same(ours.get_weights(), theirs.get_weights())
    _assert_same(_our_state(opt), _keras_state(real_keras, kopt))
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    layout, klayout = _h5_layout(tmp_path / "ours.keras")[0], _h5_layout(tmp_path / "theirs.keras")[0]
    assert layout == klayout and "inner_optimizer/optimizers/sgd/vars/2" in layout
    k_loaded = real_keras.saving.load_model(tmp_path / "ours.keras")
    s_loaded = keras.saving.load_model(tmp_path / "theirs.keras")
    _assert_same(_keras_state(real_keras, k_loaded.optimizer), _our_state(opt))
    _assert_same(_our_state(s_loaded.optimizer), _keras_state(real_keras, kopt))
