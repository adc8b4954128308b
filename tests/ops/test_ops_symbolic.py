"""keras.ops functions and operators on symbolic tensors: graph nodes with Keras's shapes and numbers,
saved as Keras saves them (files interchange both ways)."""

import json
import re
import zipfile

import numpy as np
import pytest

import strided
from strided import ops
from strided.saving import saving_api

X = np.random.default_rng(11).normal(size=(3, 4, 6)).astype("float32")
W = np.random.default_rng(12).normal(size=(6, 2)).astype("float32")

# name -> graph of one Input (4, 6) built with a given keras-like module `ks` (strided or keras)
GRAPHS = {
    "reductions": lambda ks, o, i: [
        o.mean(i, axis=1),
        o.sum(i, axis=(1, 2), keepdims=True),
        o.max(i, axis=-1),
        o.std(i, axis=1),
    ],
    "shapes": lambda ks, o, i: [
        o.reshape(i, (-1, 24)),
        o.transpose(i, (0, 2, 1)),
        o.squeeze(o.expand_dims(i, 1), axis=1),
        i.reshape((-1, 2, 12)),
    ],
    "joins": lambda ks, o, i: [
        o.concatenate([o.mean(i, axis=1), o.reshape(i, (-1, 24))], axis=-1),
        o.stack([i, i * 2.0], axis=1),
        *o.split(i, 2, axis=-1),
    ],
    "activations": lambda ks, o, i: [
        o.relu(i),
        o.softmax(i, axis=1),
        o.gelu(i, approximate=False),
        o.sigmoid(o.clip(i, -0.5, 0.5)),
    ],
    "constants": lambda ks, o, i: [o.matmul(i, W), o.where(o.greater(i, 0.1), i, 0.0), i @ W, 2.0 / (abs(i) + 1.0)],
    "operators": lambda ks, o, i: [
        i**2,
        2.0**i,
        i // 0.5,
        i % 0.7,
        o.cast(i > 0, "float32"),
        o.cast((i < 0) | (i >= 1), "float32"),
        o.cast(~(i <= 0) & (i != 0.5), "float32"),
        round(i),
    ],
    "attention": lambda ks, o, i: [
        o.dot_product_attention(
            o.reshape(i, (-1, 4, 2, 3)), o.reshape(i, (-1, 4, 2, 3)), o.reshape(i, (-1, 4, 2, 3)), is_causal=True
        ),
        o.dot_product_attention(
            o.reshape(i, (-1, 4, 1, 6)), o.reshape(i, (-1, 4, 1, 6)), o.reshape(i, (-1, 4, 1, 6)), scale=0.5
        ),
    ],
    "with_layers": lambda ks, o, i: [ks.layers.Dense(3)(o.mean(ks.layers.Dense(5, activation="relu")(i), axis=1))],
}


def _both(real_keras, name):
    def build(ks, o):
        inputs = ks.Input((4, 6))
        return ks.Model(inputs, GRAPHS[name](ks, o, inputs))

    theirs = build(real_keras, real_keras.ops)
    ours = build(strided, ops)
    if ours.get_weights():
        ours.set_weights(theirs.get_weights())
    return ours, theirs


def _assert_outputs_equal(a, b, rtol=1e-5):
    a, b = (list(v) if isinstance(v, (list, tuple)) else [v] for v in (a, b))
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_allclose(np.asarray(u, dtype="float64"), np.asarray(v, dtype="float64"), rtol=rtol, atol=1e-6)


@pytest.mark.keras
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_ops_on_symbolic_tensors_match_keras(real_keras, name, tmp_path):
    ours, theirs = _both(real_keras, name)
    assert [tuple(t.shape) for t in ours.outputs] == [tuple(t.shape) for t in theirs.outputs]
    _assert_outputs_equal(ours.predict(X, verbose=0), theirs.predict(X, verbose=0))
    # Files interchange both ways, with the same entries Keras writes.
    ours.save(str(tmp_path / "ours.keras"))
    theirs.save(str(tmp_path / "theirs.keras"))

    def entries(path):
        layers = json.loads(zipfile.ZipFile(path).read("config.json"))["config"]["layers"]
        return [(l["module"], l["class_name"], l["config"]) for l in layers if l["module"].startswith("keras.src.ops")]

    ours_entries, theirs_entries = entries(str(tmp_path / "ours.keras")), entries(str(tmp_path / "theirs.keras"))
    assert [e[:2] for e in ours_entries] == [e[:2] for e in theirs_entries]
    _assert_outputs_equal(
        real_keras.models.load_model(str(tmp_path / "ours.keras")).predict(X, verbose=0), ours.predict(X, verbose=0)
    )
    _assert_outputs_equal(
        saving_api.load_model(str(tmp_path / "theirs.keras")).predict(X, verbose=0), theirs.predict(X, verbose=0)
    )


@pytest.mark.keras
def test_summary_names_the_keras_operation(real_keras, capsys):
    ours, _ = _both(real_keras, "with_layers")
    ours.summary()
    assert re.search(r"mean(_\d+)? \(Mean\)", capsys.readouterr().out)


def test_a_model_with_ops_trains_and_its_gradient_flows():
    inputs = strided.Input((4, 6))
    hidden = strided.layers.Dense(5)(inputs)
    outputs = strided.layers.Dense(1)(ops.mean(ops.relu(hidden), axis=1))
    model = strided.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(X, np.ones((3, 1), "float32"), epochs=2, verbose=0)
    assert all(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_real_tensors_still_take_the_direct_path():
    out = ops.mean(np.ones((2, 3), "float32"), axis=1)
    assert not isinstance(out, strided.layers.KerasTensor)
    np.testing.assert_allclose(np.asarray(out), [1.0, 1.0])


def test_an_op_keras_records_differently_cannot_be_saved_but_says_why(tmp_path):
    inputs = strided.Input((4, 6))
    model = strided.Model(inputs, ops.clip(inputs, x_min=0.0, x_max=inputs))  # a tensor where Keras keeps a constant
    np.testing.assert_allclose(np.asarray(model.predict(X, verbose=0)), np.clip(X, 0.0, X))
    with pytest.raises(NotImplementedError, match="ops.clip on symbolic tensors cannot be saved"):
        model.save(str(tmp_path / "m.keras"))
