"""Attention layers, EinsumDense, Embedding and ops.dot_product_attention against real Keras 3 (torch backend).

Each layer is built in both libraries, Keras's weights are copied across with get_weights/set_weights
(which also checks the weight order and shapes), and outputs, attention scores, masks and gradients
are compared. A tiny ViT-like model is trained one step in both and its `.keras` files interchange.
"""

import numpy as np
import pytest
import torch

import strided
from strided import layers

RTOL = ATOL = 1e-5


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _close(a, b, tol=ATOL):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _copy(src, dst):
    dst.set_weights(src.get_weights())


def _grads(layer, outputs, inputs):
    """d(sum(out * fixed weights))/d(weights and inputs) through torch autograd (either library)."""
    out = outputs[0] if isinstance(outputs, (tuple, list)) else outputs
    w = torch.linspace(-1, 1, out.numel()).reshape(out.shape)
    (out * w).sum().backward()
    return [_np(v.value.grad) for v in layer.trainable_weights] + [_np(t.grad) for t in inputs]


def _inputs(*arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays]


# ------------------------------------------------------------------------------------------ EinsumDense
@pytest.mark.parametrize(
    "equation,output_shape,bias_axes,in_shape",
    [
        ("abc,cd->abd", (None, 5), "d", (2, 3, 4)),
        ("...b,bc->...c", 6, "c", (2, 3, 4)),
        ("abc,cde->abde", (None, 2, 3), "de", (2, 3, 4)),
        ("ab...,bc->ac...", (5,), "c", (2, 4, 3)),
        ("ab,bc->ac", 3, None, (2, 4)),
    ],
)
def test_einsum_dense_matches_keras(real_keras, equation, output_shape, bias_axes, in_shape):
    x = _rand(*in_shape)
    theirs = real_keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, activation="tanh")
    ours = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, activation="tanh")
    theirs.build(in_shape)
    ours.build(in_shape)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    _copy(theirs, ours)
    xt, xo = _inputs(x), _inputs(x)
    out_t, out_o = theirs(xt[0]), ours(xo[0])
    _close(out_o, out_t)
    for a, b in zip(_grads(ours, out_o, xo), _grads(theirs, out_t, xt)):
        _close(a, b)
    assert ours.compute_output_shape((None,) + in_shape[1:]) == tuple(
        theirs.compute_output_shape((None,) + in_shape[1:])
    )
    clone = layers.EinsumDense.from_config(ours.get_config())
    assert clone.get_config() == ours.get_config()
    assert real_keras.layers.EinsumDense.from_config(ours.get_config()).equation == equation


def test_einsum_dense_fans_and_errors(real_keras):
    layer = layers.EinsumDense("abc,cde->abde", (None, 4, 8), kernel_initializer="glorot_uniform")
    layer.build((None, 3, 16))
    # Keras counts fans over the input letter (16) and the output letters (4 * 8): limit sqrt(6 / 48)
    assert np.abs(layer.get_weights()[0]).max() <= np.sqrt(6 / 48) + 1e-6
    assert np.abs(layer.get_weights()[0]).max() > np.sqrt(6 / 48) * 0.8
    with pytest.raises(ValueError, match="Invalid einsum equation 'abc->ab'"):
        layers.EinsumDense("abc->ab", 3).build((None, 2, 3))
    with pytest.raises(ValueError, match="Bias dimension 'q'"):
        layers.EinsumDense("ab,bc->ac", 3, bias_axes="q").build((None, 2))
    with pytest.raises(ValueError, match=r"output_shape=\[0\]"):
        layers.EinsumDense("ab,bc->ac", [0])


def test_einsum_dense_lora_files_hold_the_merged_kernel():
    layer = layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="de", lora_rank=2)
    x = _rand(2, 3, 4)
    layer(x)
    assert [w.shape for w in layer.trainable_weights] == [(2, 3), (4, 2, 2), (2, 3)]
    with torch.no_grad():
        layer.lora_kernel_b.add_(0.5)
    out = layer(x)
    kernel, bias = layer._saved_arrays()
    _close(out, np.einsum("abc,cde->abde", x, kernel) + bias)


# ------------------------------------------------------------------------------------------ Embedding
def test_embedding_matches_keras_with_mask(real_keras):
    ids = np.array([[1, 5, 0, 0], [3, 0, 9, 2]])
    theirs = real_keras.layers.Embedding(10, 4, mask_zero=True)
    ours = layers.Embedding(10, 4, mask_zero=True)
    theirs.build()
    ours.build()
    _copy(theirs, ours)
    out_t = theirs(torch.tensor(ids))
    out_o = ours(torch.tensor(ids))
    _close(out_o, out_t)
    np.testing.assert_array_equal(_np(out_o._keras_mask), _np(out_t._keras_mask))
    np.testing.assert_array_equal(_np(ours.compute_mask(ids)), _np(theirs.compute_mask(torch.tensor(ids))))
    assert layers.Embedding(10, 4).compute_mask(ids) is None
    # gradient: rows are summed per use
    out_o.sum().backward()
    expected = np.zeros((10, 4), "float32")
    np.add.at(expected, ids.ravel(), 1.0)
    _close(ours.embeddings.grad, expected)
    config = ours.get_config()
    assert config == {**layers.Embedding.from_config(config).get_config(), "name": config["name"]}
    assert real_keras.layers.Embedding.from_config(config).mask_zero
    with pytest.raises(ValueError, match=r"Received: input_dim=0"):
        layers.Embedding(0, 4)
    with pytest.raises(ValueError, match=r"Received: output_dim='4'"):
        layers.Embedding(10, "4")


def test_embedding_weights_argument_and_lora():
    table = _rand(6, 3)
    layer = layers.Embedding(6, 3, weights=table)
    _close(layer(np.array([[2, 5]]))[0], table[[2, 5]])
    layer.enable_lora(2)
    assert len(layer.trainable_weights) == 2
    with torch.no_grad():
        layer.lora_embeddings_b.fill_(1.0)
    merged = table + layer.lora_embeddings_a.detach().numpy() @ np.ones((2, 3), "float32")
    _close(layer(np.array([[2, 5]]))[0], merged[[2, 5]])
    _close(layer._saved_arrays()[0], merged)


@pytest.mark.parametrize("tie_weights,soft_cap", [(True, None), (False, 3.0)])
def test_reversible_embedding_matches_keras(real_keras, tie_weights, soft_cap):
    theirs = real_keras.layers.ReversibleEmbedding(12, 4, tie_weights=tie_weights, logit_soft_cap=soft_cap)
    ours = layers.ReversibleEmbedding(12, 4, tie_weights=tie_weights, logit_soft_cap=soft_cap)
    theirs.build()
    ours.build()
    assert len(ours.get_weights()) == len(theirs.get_weights()) == (1 if tie_weights else 2)
    _copy(theirs, ours)
    ids = np.array([[1, 2, 11]])
    _close(ours(ids), theirs(torch.tensor(ids)))
    h = _rand(2, 3, 4)
    _close(ours(h, reverse=True), theirs(torch.tensor(h), reverse=True))
    assert ours.compute_output_shape((None, 3, 4), reverse=True) == (None, 3, 12)
    assert layers.ReversibleEmbedding.from_config(ours.get_config()).get_config() == {
        **ours.get_config(),
        "name": layers.ReversibleEmbedding.from_config(ours.get_config()).name,
    }


# ------------------------------------------------------------------------------------------ MultiHeadAttention
def _mha_pair(real_keras, q_shape, v_shape, k_shape=None, **kwargs):
    theirs = real_keras.layers.MultiHeadAttention(**kwargs)
    ours = layers.MultiHeadAttention(**kwargs)
    theirs.build(q_shape, v_shape, k_shape)
    ours.build(q_shape, v_shape, k_shape)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    _copy(theirs, ours)
    return theirs, ours


@pytest.mark.parametrize(
    "kwargs,use_key",
    [
        (dict(num_heads=2, key_dim=4), False),
        (dict(num_heads=3, key_dim=2, value_dim=5, output_shape=7, use_bias=False), True),
        (dict(num_heads=2, key_dim=3, use_gate=True), False),
        (dict(num_heads=2, key_dim=3, sliding_window=2), False),
    ],
)
def test_multi_head_attention_matches_keras(real_keras, kwargs, use_key):
    q, v, k = _rand(2, 5, 6, seed=1), _rand(2, 7, 8, seed=2), _rand(2, 7, 3, seed=3)
    theirs, ours = _mha_pair(real_keras, (None, 5, 6), (None, 7, 8), (None, 7, 3) if use_key else None, **kwargs)
    mask = np.random.default_rng(4).random((2, 5, 7)) > 0.3
    for extra in (
        {},
        {"attention_mask": mask},
        {"use_causal_mask": True},
        {"attention_mask": mask, "use_causal_mask": True},
    ):
        ti, oi = _inputs(q, v, k), _inputs(q, v, k)
        args_t = (ti[0], ti[1], ti[2]) if use_key else (ti[0], ti[1])
        args_o = (oi[0], oi[1], oi[2]) if use_key else (oi[0], oi[1])
        kw_t = {k_: torch.tensor(v_) if isinstance(v_, np.ndarray) else v_ for k_, v_ in extra.items()}
        out_t, scores_t = theirs(*args_t, return_attention_scores=True, **kw_t)
        out_o, scores_o = ours(*args_o, return_attention_scores=True, **extra)
        _close(out_o, out_t)
        _close(scores_o, scores_t)
        # the fused (scaled_dot_product_attention) path gives the explicit path's numbers
        _close(ours(*args_o, **extra), out_o)
        _close(ours(*args_o, **extra), theirs(*args_t, **kw_t))
        for a, b in zip(_grads(ours, out_o, oi[: len(args_o)]), _grads(theirs, out_t, ti[: len(args_t)])):
            _close(a, b, 1e-4)


def test_multi_head_attention_fused_path_gradients_match_keras(real_keras):
    q = _rand(3, 4, 8)
    theirs, ours = _mha_pair(real_keras, (None, 4, 8), (None, 4, 8), num_heads=2, key_dim=4)
    ti, oi = _inputs(q, q), _inputs(q, q)
    out_t = theirs(ti[0], ti[1], use_causal_mask=True)
    out_o = ours(oi[0], oi[1], use_causal_mask=True)
    _close(out_o, out_t)
    for a, b in zip(_grads(ours, out_o, oi), _grads(theirs, out_t, ti)):
        _close(a, b, 1e-4)


def test_multi_head_attention_over_two_axes_matches_keras(real_keras):
    q = _rand(2, 3, 4, 6)
    theirs, ours = _mha_pair(
        real_keras, (None, 3, 4, 6), (None, 3, 4, 6), num_heads=2, key_dim=3, attention_axes=(1, 2)
    )
    out_t, s_t = theirs(torch.tensor(q), torch.tensor(q), return_attention_scores=True)
    out_o, s_o = ours(q, q, return_attention_scores=True)
    assert tuple(s_o.shape) == (2, 2, 3, 4, 3, 4)
    _close(out_o, out_t)
    _close(s_o, s_t)
    assert ours.get_config()["attention_axes"] == (1, 2)


def test_multi_head_attention_keras_masks_from_inputs(real_keras):
    """A query/value carrying a Keras mask (Embedding(mask_zero=True)) masks attention as in Keras."""
    q, v = _rand(2, 4, 6), _rand(2, 5, 6)
    q_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    v_mask = np.array([[1, 1, 1, 1, 0], [1, 0, 1, 0, 0]], bool)
    theirs, ours = _mha_pair(real_keras, (None, 4, 6), (None, 5, 6), num_heads=2, key_dim=3)
    for scores in (True, False):
        tq, tv, oq, ov = torch.tensor(q), torch.tensor(v), torch.tensor(q), torch.tensor(v)
        tq._keras_mask, tv._keras_mask = torch.tensor(q_mask), torch.tensor(v_mask)
        oq._keras_mask, ov._keras_mask = torch.tensor(q_mask), torch.tensor(v_mask)
        out_t = theirs(tq, tv, return_attention_scores=scores)
        out_o = ours(oq, ov, return_attention_scores=scores)
        if scores:
            _close(out_o[1], out_t[1])
            out_t, out_o = out_t[0], out_o[0]
        _close(out_o, out_t)
        np.testing.assert_array_equal(_np(out_o._keras_mask), q_mask)
    # an explicit value_mask counts too
    out_t = theirs(torch.tensor(q), torch.tensor(v), value_mask=torch.tensor(v_mask))
    out_o = ours(q, v, value_mask=v_mask)
    _close(out_o, out_t)


def test_multi_head_attention_dropout_only_in_training(real_keras):
    q = _rand(2, 4, 6)
    theirs, ours = _mha_pair(real_keras, (None, 4, 6), (None, 4, 6), num_heads=2, key_dim=3, dropout=0.5, seed=1)
    _close(ours(q, q), theirs(torch.tensor(q), torch.tensor(q)))
    trained = ours(torch.tensor(q), torch.tensor(q), training=True)
    assert not np.allclose(_np(trained), _np(ours(q, q)), atol=1e-4)


def test_multi_head_attention_errors_and_config(real_keras):
    with pytest.raises(ValueError, match=r"`num_heads`.*Received: num_heads=0"):
        layers.MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(TypeError, match=r"missing 1 required positional argument: 'key_dim'"):
        layers.MultiHeadAttention(num_heads=2)  # required, as in Keras
    with pytest.raises(ValueError, match=r"`key_dim` is required.*Received: key_dim=None"):
        layers.MultiHeadAttention(num_heads=2, key_dim=None)
    with pytest.raises(ValueError, match=r"Received: key_dim=-3"):
        layers.MultiHeadAttention(2, -3)
    with pytest.raises(ValueError, match=r"Received: dropout=1.5"):
        layers.MultiHeadAttention(2, 2, dropout=1.5)
    with pytest.raises(ValueError, match=r"sliding_window=0"):
        layers.MultiHeadAttention(2, 2, sliding_window=0)
    with pytest.raises(ValueError, match=r"value_shape=\(None, 3, 4\) and key_shape=\(None, 5, 4\)"):
        layers.MultiHeadAttention(2, 2)(_rand(1, 2, 4), _rand(1, 3, 4), _rand(1, 5, 4))
    with pytest.raises(ValueError, match="must be called as layer\\(query, value\\)"):
        layers.MultiHeadAttention(2, 2)(_rand(1, 2, 4))
    layer = layers.MultiHeadAttention(2, 3, value_dim=4, output_shape=(5,), dropout=0.1, name="mha")
    config = layer.get_config()
    assert config == layers.MultiHeadAttention.from_config(config).get_config()
    keras_config = real_keras.layers.MultiHeadAttention(
        2, 3, value_dim=4, output_shape=(5,), dropout=0.1, name="mha"
    ).get_config()
    assert set(config) == set(keras_config)
    for key in (
        "num_heads",
        "key_dim",
        "value_dim",
        "dropout",
        "use_bias",
        "use_gate",
        "output_shape",
        "attention_axes",
        "sliding_window",
        "seed",
    ):
        assert config[key] == keras_config[key], key


# ------------------------------------------------------------------------------------------ GroupQueryAttention
def test_group_query_attention_matches_keras(real_keras):
    q, v = _rand(2, 5, 8), _rand(2, 6, 8, seed=1)
    mask = np.random.default_rng(2).random((2, 5, 6)) > 0.3
    theirs = real_keras.layers.GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)
    ours = layers.GroupQueryAttention(head_dim=3, num_query_heads=4, num_key_value_heads=2)
    theirs.build((None, 5, 8), (None, 6, 8))
    ours.build((None, 5, 8), (None, 6, 8))
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    _copy(theirs, ours)
    for extra in ({}, {"use_causal_mask": True}, {"attention_mask": mask}):
        kw_t = {k: torch.tensor(x) if isinstance(x, np.ndarray) else x for k, x in extra.items()}
        ti, oi = _inputs(q, v), _inputs(q, v)
        out_t, s_t = theirs(ti[0], ti[1], return_attention_scores=True, **kw_t)
        out_o, s_o = ours(oi[0], oi[1], return_attention_scores=True, **extra)
        _close(out_o, out_t)
        _close(s_o, s_t)
        _close(ours(q, v, **extra), out_o)  # fused path
        for a, b in zip(_grads(ours, out_o, oi), _grads(theirs, out_t, ti)):
            _close(a, b, 1e-4)
    with pytest.raises(ValueError, match="must be divisible"):
        layers.GroupQueryAttention(2, 3, 2)
    with pytest.raises(ValueError, match=r"Received: num_key_value_heads=0"):
        layers.GroupQueryAttention(2, 3, 0)
    with pytest.raises(ValueError, match=r"query_shape=\(None, 5, 8\), value_shape=\(None, 6, 4\)"):
        layers.GroupQueryAttention(2, 4, 2)(_rand(1, 5, 8), _rand(1, 6, 4))
    config = ours.get_config()
    assert layers.GroupedQueryAttention.from_config(config).get_config() == config
    assert set(config) == set(theirs.get_config())


# ------------------------------------------------------------------------------------------ Attention layers
@pytest.mark.parametrize(
    "cls,kwargs",
    [
        ("Attention", {}),
        ("Attention", {"use_scale": True}),
        ("Attention", {"score_mode": "concat"}),
        ("Attention", {"use_scale": True, "score_mode": "concat"}),
        ("AdditiveAttention", {}),
        ("AdditiveAttention", {"use_scale": False}),
    ],
)
def test_dot_and_additive_attention_match_keras(real_keras, cls, kwargs):
    q, v, k = _rand(2, 4, 5), _rand(2, 6, 5, seed=1), _rand(2, 6, 5, seed=2)
    q_mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 1, 1, 0, 0], [1, 0, 1, 1, 1, 1]], bool)
    theirs, ours = getattr(real_keras.layers, cls)(**kwargs), getattr(layers, cls)(**kwargs)
    theirs.build([(None, 4, 5), (None, 6, 5), (None, 6, 5)])
    ours.build([(None, 4, 5), (None, 6, 5), (None, 6, 5)])
    if ours.get_weights():
        # random draws: use one set of numbers in both
        values = [w + 0.3 for w in theirs.get_weights()]
        theirs.set_weights(values)
        ours.set_weights(values)
    for extra in ({}, {"use_causal_mask": True}, {"mask": [q_mask, v_mask]}):
        kw_t = dict(extra)
        if "mask" in extra:
            kw_t["mask"] = [torch.tensor(m) for m in extra["mask"]]
        ti, oi = _inputs(q, v, k), _inputs(q, v, k)
        out_t, s_t = theirs([ti[0], ti[1], ti[2]], return_attention_scores=True, **kw_t)
        out_o, s_o = ours([oi[0], oi[1], oi[2]], return_attention_scores=True, **extra)
        _close(out_o, out_t)
        _close(s_o, s_t)
        _close(ours([q, v, k], **extra), out_o)  # the fused path (dot mode) agrees with the explicit one
        for a, b in zip(_grads(ours, out_o, oi), _grads(theirs, out_t, ti)):
            _close(a, b, 1e-4)
    config = ours.get_config()
    assert getattr(layers, cls).from_config(config).get_config() == config
    assert set(config) == set(theirs.get_config())


def test_attention_errors():
    with pytest.raises(ValueError, match=r"score_mode='add'"):
        layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match="must be called on a list of inputs"):
        layers.Attention()(_rand(2, 3, 4))
    with pytest.raises(ValueError, match=r"Received length: 4"):
        layers.Attention()([_rand(2, 3, 4)] * 4)
    with pytest.raises(ValueError, match=r"query shape=\(None, 3, 4\), value shape=\(None, 5, 6\)"):
        layers.Attention()([_rand(2, 3, 4), _rand(2, 5, 6)])
    with pytest.raises(ValueError, match=r"Received: dropout=-0.1"):
        layers.AdditiveAttention(dropout=-0.1)


# ------------------------------------------------------------------------------------------ ops
def test_dot_product_attention_matches_keras_and_the_explicit_formula(real_keras):
    q, k, v = _rand(2, 5, 4, 3), _rand(2, 6, 2, 3, seed=1), _rand(2, 6, 2, 3, seed=2)
    mask = np.random.default_rng(3).random((2, 1, 5, 6)) > 0.4
    bias = _rand(1, 4, 5, 6, seed=4)
    for kw in (
        {},
        {"is_causal": True},
        {"mask": mask},
        {"mask": mask, "is_causal": True},
        {"bias": bias},
        {"scale": 0.3},
    ):
        theirs = real_keras.ops.dot_product_attention(
            torch.tensor(q),
            torch.tensor(k),
            torch.tensor(v),
            **{a: torch.tensor(b) if isinstance(b, np.ndarray) else b for a, b in kw.items()},
        )
        ours = strided.ops.dot_product_attention(q, k, v, **kw)
        _close(ours, theirs)
    # the explicit formula in float64 (grouped heads: each key/value head serves two query heads)
    k2, v2 = np.repeat(k, 2, axis=2).astype("float64"), np.repeat(v, 2, axis=2).astype("float64")
    logits = np.einsum("btnh,bsnh->bnts", q.astype("float64"), k2) / np.sqrt(3) + bias
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    _close(strided.ops.dot_product_attention(q, k, v, bias=bias), np.einsum("bnts,bsnh->btnh", probs, v2))
    with pytest.raises(ValueError, match="only supports 4D inputs"):
        strided.ops.dot_product_attention(q[0], k[0], v[0])
    with pytest.raises(ValueError, match="Only one of `bias` and `mask`"):
        strided.ops.dot_product_attention(q, k, v, bias=bias, mask=mask)
    with pytest.raises(ValueError, match="attn_logits_soft_cap=50"):
        strided.ops.dot_product_attention(q, k, v, attn_logits_soft_cap=50)
    # symbolic tensors: a graph node with the right shape
    x = strided.Input((5, 4, 3))
    assert strided.ops.dot_product_attention(x, x, x).shape == (None, 5, 4, 3)


# ------------------------------------------------------------------------------------------ a tiny ViT
def _vit(lib, patch=4, dim=8, num_patches=4):
    L = lib.layers
    images = lib.Input((8, 8, 1))
    positions = lib.Input((num_patches,), dtype="int32")
    x = L.Conv2D(dim, patch, strides=patch)(images)
    x = L.Reshape((num_patches, dim))(x)
    x = L.Add()([x, L.Embedding(num_patches, dim)(positions)])
    x = L.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.0)(x, x)
    x = L.LayerNormalization(epsilon=1e-6)(x)
    x = L.GlobalAveragePooling1D()(x)
    outputs = L.Dense(3, activation="softmax")(x)
    return lib.Model([images, positions], outputs)


def test_vit_like_model_predicts_trains_and_files_interchange(real_keras, tmp_path):
    theirs, ours = _vit(real_keras), _vit(strided)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    ours.set_weights(theirs.get_weights())
    images = np.random.default_rng(0).random((6, 8, 8, 1)).astype("float32")
    positions = np.tile(np.arange(4, dtype="int32"), (6, 1))
    labels = np.array([0, 1, 2, 0, 1, 2])
    _close(ours.predict([images, positions], verbose=0), theirs.predict([images, positions], verbose=0))
    for model, lib in ((theirs, real_keras), (ours, strided)):
        model.compile(optimizer=lib.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    theirs.fit([images, positions], labels, batch_size=6, epochs=1, shuffle=False, verbose=0)
    ours.fit([images, positions], labels, batch_size=6, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        _close(a, b, 1e-4)
    expected = theirs.predict([images, positions], verbose=0)

    ours.save(tmp_path / "ours.keras")
    loaded = real_keras.models.load_model(tmp_path / "ours.keras")
    _close(loaded.predict([images, positions], verbose=0), expected, 1e-4)
    theirs.save(tmp_path / "theirs.keras")
    back = strided.models.load_model(tmp_path / "theirs.keras")
    _close(back.predict([images, positions], verbose=0), expected, 1e-4)


def test_attention_models_files_interchange_both_ways(real_keras, tmp_path):
    """Cross attention called as layer(query, value, key), GQA, Attention and EinsumDense in one model."""

    def build(lib):
        L = lib.layers
        q, v = lib.Input((5, 8)), lib.Input((6, 8))
        a = L.MultiHeadAttention(2, 4, use_gate=True)(q, v, v, use_causal_mask=True)
        b = L.GroupQueryAttention(4, 4, 2)(q, v)
        c = L.Attention(use_scale=True)([q, v])
        d = L.AdditiveAttention()([q, v])
        e = L.EinsumDense("abc,cd->abd", (None, 8), bias_axes="d")(L.Add()([a, b, c, d]))
        return lib.Model([q, v], e)

    theirs, ours = build(real_keras), build(strided)
    values = [w + 0.1 for w in theirs.get_weights()]
    theirs.set_weights(values)
    ours.set_weights(values)
    x = [_rand(3, 5, 8), _rand(3, 6, 8, seed=1)]
    expected = theirs.predict(x, verbose=0)
    _close(ours.predict(x, verbose=0), expected)
    ours.save(tmp_path / "ours.keras")
    _close(real_keras.models.load_model(tmp_path / "ours.keras").predict(x, verbose=0), expected)
    theirs.save(tmp_path / "theirs.keras")
    back = strided.models.load_model(tmp_path / "theirs.keras")
    _close(back.predict(x, verbose=0), expected)
    assert [type(layer).__name__ for layer in back.layers] == [type(layer).__name__ for layer in ours.layers]
