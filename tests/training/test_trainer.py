"""Training engine tests with a tiny fake model (see tests/training/_fake_model.py)."""

import contextlib
import io
import re
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _fake_model import SGD, FakeModel  # noqa: E402

import strided  # noqa: E402
from strided import config  # noqa: E402


def _data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = ((x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)).astype("int64")
    return x, y


def _np_softmax(z):
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def _np_sparse_ce(model, x, y):
    w, b = (a.astype("float64") for a in model.get_weights())
    p = np.clip(_np_softmax(x.astype("float64") @ w + b), 1e-7, 1 - 1e-7)
    return -np.log(p[np.arange(len(y)), y]), p


def _compiled(lr=0.5, metrics=("acc",), **kw):
    m = FakeModel(**kw)
    m.compile(SGD(lr), "sparse_categorical_crossentropy", metrics=list(metrics))
    return m


def test_fit_reduces_loss_and_history_is_python_floats():
    x, y = _data()
    m = _compiled()
    h = m.fit(x, y, epochs=4, batch_size=8, verbose=0)
    assert list(h.history) == ["loss", "acc"]
    assert all(type(v) is float for vals in h.history.values() for v in vals)
    assert len(h.history["loss"]) == 4 and h.epoch == [0, 1, 2, 3]
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert m.history is h
    import pandas as pd

    assert pd.DataFrame(h.history).shape == (4, 2)


def test_evaluate_matches_manual_computation_with_partial_batch():
    x, y = _data(n=10)
    m = _compiled()
    loss, acc = m.evaluate(x, y, batch_size=4, verbose=0)  # batches of 4, 4, 2
    per_sample, p = _np_sparse_ce(m, x, y)
    assert loss == pytest.approx(per_sample.mean(), rel=1e-5)
    assert acc == pytest.approx(np.mean(p.argmax(-1) == y))
    d = m.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    assert set(d) == {"loss", "acc"} and d["loss"] == pytest.approx(loss)


def test_sample_weight_in_evaluate_is_sum_over_batch_size():
    x, y = _data(n=10)
    sw = np.linspace(0.0, 2.0, 10).astype("float32")
    m = _compiled(metrics=())
    loss = m.evaluate(x, y, sample_weight=sw, batch_size=3, verbose=0)
    per_sample, _ = _np_sparse_ce(m, x, y)
    assert loss == pytest.approx((per_sample * sw).sum() / len(y), rel=1e-5)


def test_class_weight_equals_hand_computed_step():
    x, y = _data(n=12)
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    m = _compiled(lr=0.1, metrics=())
    w0, b0 = (a.astype("float64") for a in m.get_weights())
    m.fit(x, y, batch_size=12, epochs=1, class_weight=cw, shuffle=False, verbose=0)
    # Hand gradient of mean_i(cw[y_i] * CE_i) for a softmax-dense model.
    weights = np.array([cw[int(c)] for c in y])
    p = _np_softmax(x.astype("float64") @ w0 + b0)
    d = p.copy()
    d[np.arange(len(y)), y] -= 1
    d *= weights[:, None] / len(y)
    w1, b1 = m.get_weights()
    np.testing.assert_allclose(w1, w0 - 0.1 * x.T.astype("float64") @ d, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(b1, b0 - 0.1 * d.sum(0), rtol=1e-4, atol=1e-6)
    m2 = _compiled(lr=0.1, metrics=())
    m2.fit(x, y, batch_size=12, sample_weight=weights.astype("float32"), shuffle=False, verbose=0)
    np.testing.assert_allclose(m2.get_weights()[0], w1, rtol=1e-6)


def test_validation_split_takes_last_samples_before_shuffling():
    x = np.arange(40, dtype="float32").reshape(10, 4) / 40
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    m = _compiled(lr=0.0)  # weights fixed: val numbers depend only on which samples are used
    h = m.fit(x, y, validation_split=0.2, epochs=1, batch_size=3, shuffle=True, verbose=0)
    seen = torch.cat(m.seen).cpu().numpy()
    assert sorted(map(tuple, seen)) == sorted(map(tuple, x[:8]))
    loss, acc = m.evaluate(x[8:], y[8:], verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(loss, rel=1e-6)
    assert set(h.history) == {"loss", "acc", "val_loss", "val_acc"}


def test_shuffle_false_keeps_order_and_shuffle_true_permutes():
    x, y = _data(n=20)
    m = _compiled()
    m.fit(x, y, shuffle=False, batch_size=6, epochs=1, verbose=0)
    np.testing.assert_array_equal(torch.cat(m.seen).cpu().numpy(), x)
    assert [len(s) for s in m.seen] == [6, 6, 6, 2]
    m.seen.clear()
    m.fit(x, y, shuffle=True, batch_size=6, epochs=1, verbose=0)
    seen = torch.cat(m.seen).cpu().numpy()
    assert not np.array_equal(seen, x)
    assert sorted(map(tuple, seen)) == sorted(map(tuple, x))


def test_predict_values_and_batches():
    x, _ = _data(n=7)
    m = _compiled()
    out = m.predict(x, batch_size=3, verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (7, 3)
    _, p = _np_sparse_ce(m, x, np.zeros(7, dtype=int))
    np.testing.assert_allclose(
        out, _np_softmax(x.astype("float64") @ m.get_weights()[0] + m.get_weights()[1]), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(m.predict_on_batch(x), out, rtol=1e-6)


def test_generator_sequence_and_dataloader_inputs_match_arrays():
    x, y = _data(n=12)
    ref = _compiled()
    ref.fit(x, y, batch_size=4, shuffle=False, epochs=1, verbose=0)

    class Seq:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[i * 4 : (i + 1) * 4], y[i * 4 : (i + 1) * 4]

    def gen():
        for i in range(3):
            yield x[i * 4 : (i + 1) * 4], y[i * 4 : (i + 1) * 4]

    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=4, shuffle=False
    )
    for data in (Seq(), gen(), loader):
        m = _compiled()
        m.fit(data, epochs=1, shuffle=False, verbose=0)
        np.testing.assert_allclose(m.get_weights()[0], ref.get_weights()[0], rtol=1e-6)


def test_steps_per_epoch_continues_the_iterator_across_epochs():
    x, y = _data(n=12)
    m = _compiled()
    with pytest.warns(UserWarning, match="ran out of data"):
        h = m.fit(x, y, batch_size=4, steps_per_epoch=2, epochs=3, shuffle=False, verbose=0)
    # Keras: epoch 2 continues where epoch 1 stopped and is cut short when the data ends.
    starts = [s[0, 0].item() for s in m.seen]
    assert starts == pytest.approx([x[0, 0], x[4, 0], x[8, 0], x[0, 0], x[4, 0]])
    assert len(h.history["loss"]) == 3


def test_regularization_losses_are_added():
    x, y = _data(n=8)
    m = _compiled(metrics=(), l2=0.3)
    loss = m.evaluate(x, y, verbose=0)
    per_sample, _ = _np_sparse_ce(m, x, y)
    assert loss == pytest.approx(per_sample.mean() + 0.3 * (m.get_weights()[0].astype("float64") ** 2).sum(), rel=1e-5)


def test_accuracy_resolution_from_shapes():
    x, y = _data(n=16)
    one_hot = np.eye(3, dtype="float32")[y]
    m = FakeModel()
    m.compile(SGD(0.0), "categorical_crossentropy", metrics=["accuracy"])
    _, acc = m.evaluate(x, one_hot, verbose=0)
    _, p = _np_sparse_ce(m, x, y)
    assert acc == pytest.approx(np.mean(p.argmax(-1) == y))
    mb = FakeModel(n_out=1, activation="sigmoid")
    yb = (x[:, 0] > 0).astype("float32")[:, None]
    mb.compile(SGD(0.0), "binary_crossentropy", metrics=["accuracy"])
    _, acc_b = mb.evaluate(x, yb, verbose=0)
    pb = 1 / (1 + np.exp(-(x @ mb.get_weights()[0] + mb.get_weights()[1])))
    assert acc_b == pytest.approx(np.mean((pb > 0.5) == yb))


def test_bad_inputs_raise_before_training():
    x, y = _data(n=10)
    m = FakeModel()
    with pytest.raises(ValueError, match="compile"):
        m.fit(x, y, verbose=0)
    m.compile(SGD(0.5), "sparse_categorical_crossentropy")
    w0 = m.get_weights()[0].copy()
    with pytest.raises(ValueError, match="cardinality"):
        m.fit(x, y[:7], verbose=0)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        m.fit(bad, y, verbose=0)
    with pytest.raises(ValueError):  # one-hot labels with a sparse loss
        m.fit(x, np.eye(3, dtype="float32")[y], verbose=0)
    np.testing.assert_array_equal(m.get_weights()[0], w0)
    with pytest.raises(TypeError, match="epochs"):
        m.evaluate(x, y, epochs=3)
    with pytest.raises(ValueError):
        FakeModel().compile(SGD(), loss="not_a_loss")
    with pytest.raises(ValueError, match="validation_split"):
        m.fit(x, y, validation_split=1.5, verbose=0)


def test_fit_is_deterministic_with_seed():
    x, y = _data(n=40)
    results = []
    for _ in range(2):
        strided.utils.set_random_seed(123)
        config.enable_determinism()
        m = _compiled()
        m.fit(x, y, batch_size=7, epochs=3, shuffle=True, verbose=0)
        results.append(m.get_weights())
    config.disable_determinism()
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_progress_output_matches_seed_shape():
    x, y = _data(n=20)
    m = _compiled()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        m.fit(x, y, batch_size=8, epochs=2)
        m.evaluate(x, y)
    lines = buf.getvalue().strip().split("\n")
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    pattern = r"^3/3 \[={30}\] - \d+s \d+(s|ms|us)/step - loss: \d\.\d{4} - acc: \d\.\d{4}$"
    assert re.match(pattern, lines[1]) and re.match(pattern, lines[3])
    assert re.match(r"^1/1 \[={30}\] - \d+s \d+(s|ms|us)/step - loss: \d\.\d{4} - acc: \d\.\d{4}$", lines[4])


def test_multi_output_losses_weights_and_names():
    class Two(FakeModel):
        def __init__(self):
            super().__init__(activation="linear")
            self.output_names = ["a", "b"]

        def forward(self, x, training=False):
            z = super().forward(x, training)
            return [z[:, :1], z[:, 1:]]

    x, _ = _data(n=8)
    ya = np.ones((8, 1), "float32")
    yb = np.zeros((8, 2), "float32")
    m = Two()
    m.compile(SGD(0.0), loss={"a": "mse", "b": "mae"}, loss_weights={"a": 2.0, "b": 0.5})
    logs = m.evaluate(x, [ya, yb], verbose=0, return_dict=True)
    z = x @ m.get_weights()[0] + m.get_weights()[1]
    la, lb = np.mean((z[:, :1] - 1) ** 2), np.mean(np.abs(z[:, 1:]))
    assert logs["a_loss"] == pytest.approx(la, rel=1e-5) and logs["b_loss"] == pytest.approx(lb, rel=1e-5)
    assert logs["loss"] == pytest.approx(2 * la + 0.5 * lb, rel=1e-5)


def test_train_on_batch_and_test_on_batch():
    x, y = _data(n=6)
    m = _compiled(lr=0.0)
    loss, acc = m.test_on_batch(x, y)
    per_sample, p = _np_sparse_ce(m, x, y)
    assert loss == pytest.approx(per_sample.mean(), rel=1e-5)
    out = m.train_on_batch(x, y, return_dict=True)
    assert out["loss"] == pytest.approx(per_sample.mean(), rel=1e-5)


@pytest.mark.skipif(
    not hasattr(__import__("importlib").util.find_spec("strided.optimizers") or object(), "name")
    or not hasattr(__import__("importlib").import_module("strided.optimizers"), "get"),
    reason="strided.optimizers not available yet",
)
def test_matches_hand_written_torch_loop_with_real_sgd():
    x, y = _data(n=16)
    m = FakeModel()
    m.compile(strided.optimizers.get("sgd"), "sparse_categorical_crossentropy")
    lr = float(m.optimizer.learning_rate)
    w = torch.tensor(m.get_weights()[0], requires_grad=True)
    b = torch.tensor(m.get_weights()[1], requires_grad=True)
    for i in range(2):
        xb, yb = torch.from_numpy(x[i * 8 : (i + 1) * 8]), torch.from_numpy(y[i * 8 : (i + 1) * 8])
        p = torch.softmax(xb @ w + b, -1).clamp(1e-7, 1 - 1e-7)
        loss = -torch.log(p[torch.arange(8), yb]).mean()
        gw, gb = torch.autograd.grad(loss, [w, b])
        with torch.no_grad():
            w -= lr * gw
            b -= lr * gb
    m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(m.get_weights()[0], w.detach().numpy(), rtol=1e-5, atol=1e-7)
    loss_eval = m.evaluate(x, y, verbose=0)
    with torch.no_grad():
        p = torch.softmax(torch.from_numpy(x) @ w + b, -1).clamp(1e-7, 1 - 1e-7)
    assert loss_eval == pytest.approx(float(-torch.log(p[torch.arange(16), torch.from_numpy(y)]).mean()), rel=1e-5)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_policies_train_close_to_float32(policy):
    x, y = _data(n=32)
    ref = _compiled(metrics=())
    ref.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    config.set_dtype_policy(policy)
    try:
        m = _compiled(metrics=())
        h = m.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    finally:
        config.set_dtype_policy("float32")
    assert np.isfinite(h.history["loss"]).all()
    tol = 2e-2 if policy == "mixed_bfloat16" else 2e-3
    np.testing.assert_allclose(m.get_weights()[0], ref.get_weights()[0], atol=tol)
    if policy == "mixed_float16":
        assert (
            m._loss_scale.scale == 2.0**15
        )  # no overflow: the scale keeps its initial value (an optimizer that is not
        # a strided Optimizer is not wrapped: the trainer scales the loss itself)


@pytest.mark.gpu
def test_fit_on_cuda_keeps_data_on_device():
    x, y = _data(n=64)
    m = FakeModel().to("cuda")
    m.compile(SGD(0.5), "sparse_categorical_crossentropy", metrics=["acc"])
    h = m.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25)
    assert all(s.device.type == "cuda" for s in m.seen)
    cpu = FakeModel()
    cpu.compile(SGD(0.5), "sparse_categorical_crossentropy", metrics=["acc"])
    loss_gpu = m.evaluate(x, y, verbose=0)[0]
    cpu.set_weights(m.get_weights())
    assert loss_gpu == pytest.approx(cpu.evaluate(x, y, verbose=0)[0], rel=1e-4)
    assert len(h.history["val_loss"]) == 2


def test_labels_out_of_range_are_a_clear_error_before_training():
    from strided import layers, models

    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="label value of 12"):
        model.fit(np.zeros((8, 4), "float32"), np.full(8, 12), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="label value of 7"):
        model.evaluate(np.zeros((8, 4), "float32"), np.full(8, 7), verbose=0)


def test_steps_per_execution_groups_batch_callbacks_as_keras():
    import strided as keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", steps_per_execution=3)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda b, logs=None: seen.append(("begin", b)),
        on_train_batch_end=lambda b, logs=None: seen.append(("end", b)),
    )
    model.fit(np.ones((14, 2)), np.ones((14, 1)), batch_size=2, epochs=1, verbose=0, callbacks=[record])
    # 7 batches in groups of 3: callbacks at the group boundaries, the last group shorter
    assert seen == [("begin", 0), ("end", 2), ("begin", 3), ("end", 5), ("begin", 6), ("end", 6)]
    assert int(model.optimizer.iterations) == 7  # every batch still trains
    with pytest.raises(ValueError, match="steps_per_execution"):
        model.compile("sgd", "mse", steps_per_execution=0)
