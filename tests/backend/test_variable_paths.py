"""Weights carry Keras's `name` and `path` ('sequential/dense/kernel'), as real Keras names them."""

import numpy as np
import pytest

import strided


def _paths(ks):
    out = {}
    m = ks.Sequential([ks.Input((3,)), ks.layers.Dense(2, name="enc"), ks.layers.Dense(1, name="head")], name="seq_a")
    out["sequential with an Input"] = [w.path for w in m.weights]
    m = ks.Sequential([ks.layers.Dense(2, name="enc2"), ks.layers.Dense(1, name="d2")], name="seq_b")
    m(np.zeros((1, 3), "float32"))
    out["sequential built on first call"] = [w.path for w in m.weights]
    i = ks.Input((3,))
    out["functional"] = [w.path for w in ks.Model(i, ks.layers.Dense(2, name="fd")(i)).weights]
    i = ks.Input((3,))
    inner = ks.Sequential([ks.layers.Dense(2, name="inner_d")], name="inner")
    out["nested model"] = [w.path for w in ks.Model(i, inner(i)).weights]
    lstm = ks.layers.LSTM(2, name="lstm")
    lstm.build((None, 4, 3))
    out["lstm"] = [w.path for w in lstm.weights]
    bi = ks.layers.Bidirectional(ks.layers.GRU(2, name="gru"), name="bi")
    bi.build((None, 4, 3))
    out["bidirectional"] = [w.path for w in bi.weights]
    q = ks.Input((4, 6))
    mha = ks.layers.MultiHeadAttention(2, 3, name="mha")
    mha(q, q)
    out["attention"] = [w.path for w in mha.weights]
    conv = ks.layers.Conv2D(2, 3, name="c")
    conv(np.zeros((1, 5, 5, 1), "float32"))
    out["eager call"] = [w.path for w in conv.weights]
    bn = ks.layers.BatchNormalization(name="bn")
    bn.build((None, 3))
    out["build called directly"] = [w.path for w in bn.weights]
    out["names"] = [w.name for w in bn.weights]
    return out


@pytest.mark.keras
def test_variable_paths_equal_keras(real_keras):
    theirs, ours = _paths(real_keras), _paths(strided)
    for case in theirs:
        assert ours[case] == theirs[case], case
