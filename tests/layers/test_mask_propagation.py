"""Keras 3's automatic mask propagation (``Layer.__call__``): masks reach ``call(mask=...)``, pass through the
layers that support masking (values and output masks equal real Keras), are dropped with one warning by the
others; losses, gradients and ``fit`` of masked models equal Keras's; ``supports_masking`` flags as Keras."""

import warnings

import numpy as np
import pytest
import torch

import strided as keras

RNG = np.random.default_rng(5)
TOKENS = np.array([[3, 5, 2, 0, 0, 0], [7, 1, 0, 0, 0, 0], [4, 4, 4, 4, 9, 2], [8, 0, 0, 0, 0, 0]], dtype="int32")
LABELS = np.array([[0, 1, 2, 0, 0, 0], [2, 2, 0, 0, 0, 0], [1, 0, 2, 1, 1, 0], [1, 0, 0, 0, 0, 0]], dtype="int32")
DROP_WARNING = "does not support masking and will therefore destroy the mask information"


def _np(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _mask(x):
    return getattr(x, "_keras_mask", None)


def _close(ours, theirs, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol)


def _same_mask(ours, theirs):
    if _mask(theirs) is None:
        assert _mask(ours) is None
    else:
        assert _mask(ours) is not None
        np.testing.assert_array_equal(_np(_mask(ours)), _np(_mask(theirs)))


def _masked(values, mask):
    """The same float tensor with the same mask attached, for strided and for Keras (both torch tensors)."""
    t = torch.tensor(values)
    if mask is not None:
        t._keras_mask = torch.tensor(mask)
    return t


def _keras_layout_grad(w):
    layout = getattr(w, "_keras_layout", None)
    return w.grad.permute(*layout) if layout else w.grad


# ---------------------------------------------------------------------------------------------- models


def test_embedding_dropout_dense_lstm_dense_predict_matches_keras(real_keras):
    def build(k):
        return k.Sequential(
            [
                k.Input((6,), dtype="int32"),
                k.layers.Embedding(10, 4, mask_zero=True),
                k.layers.Dropout(0.3),
                k.layers.Dense(5, activation="tanh"),
                k.layers.LSTM(3),
                k.layers.Dense(2),
            ]
        )

    ours, theirs = build(keras), build(real_keras)
    ours.set_weights(theirs.get_weights())
    out = ours.predict(TOKENS, verbose=0)
    _close(out, theirs.predict(TOKENS, verbose=0))
    # The mask is what makes the numbers equal: without it the padded steps change the LSTM's last output.
    unmasked = torch.tensor(_np(ours.layers[0](TOKENS)))
    for layer in ours.layers[1:]:
        unmasked = layer(unmasked)
    assert not np.allclose(_np(unmasked), out, atol=1e-4)
    # Layer by layer, the masks on the way are Keras's.
    x_ours, x_theirs = TOKENS, TOKENS
    for lo, lt in zip(ours.layers, theirs.layers):
        x_ours, x_theirs = lo(x_ours), lt(x_theirs)
        _same_mask(x_ours, x_theirs)
        _close(x_ours, x_theirs)


def test_masked_sequence_loss_and_gradients_match_keras(real_keras):
    def build(k):
        inp = k.Input((6,), dtype="int32")
        x = k.layers.Embedding(10, 4, mask_zero=True)(inp)
        x = k.layers.LSTM(5, return_sequences=True)(x)
        x = k.layers.Dense(6, activation="relu")(x)
        return k.Model(inp, k.layers.Dense(3)(x))

    ours, theirs = build(keras), build(real_keras)
    ours.set_weights(theirs.get_weights())
    out_t = theirs(TOKENS)
    loss_t = real_keras.losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, out_t)
    loss_t.backward()
    out_o = ours(torch.as_tensor(TOKENS))
    _same_mask(out_o, out_t)
    loss_o = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, out_o)
    loss_o.backward()
    _close(loss_o, loss_t)
    # the loss averages over the 14 real steps only
    assert not np.isclose(
        _np(loss_o),
        _np(
            torch.nn.functional.cross_entropy(
                out_o.detach().reshape(-1, 3), torch.as_tensor(LABELS, dtype=torch.long).reshape(-1)
            )
        ),
        atol=1e-4,
    )
    for w_o, w_t in zip(ours.trainable_weights, theirs.trainable_weights):
        _close(_keras_layout_grad(w_o), w_t.value.grad, atol=1e-6)


def test_fit_of_a_masked_model_matches_keras(real_keras):
    def build(k):
        model = k.Sequential(
            [
                k.Input((6,), dtype="int32"),
                k.layers.Embedding(10, 4, mask_zero=True),
                k.layers.GRU(4, return_sequences=True),
                k.layers.LayerNormalization(),
                k.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(optimizer=k.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    ours, theirs = build(keras), build(real_keras)
    ours.set_weights(theirs.get_weights())
    h_t = theirs.fit(TOKENS, LABELS, batch_size=2, epochs=3, shuffle=False, verbose=0)
    h_o = ours.fit(TOKENS, LABELS, batch_size=2, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(h_o.history["loss"], h_t.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(h_o.history["accuracy"], h_t.history["accuracy"], rtol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_functional_branches_merge_and_pool_like_keras(real_keras):
    def build(k):
        inp = k.Input((6,), dtype="int32")
        emb = k.layers.Embedding(10, 4, mask_zero=True)(inp)
        seq = k.layers.SimpleRNN(4, return_sequences=True)(emb)
        dense = k.layers.Dense(4)(emb)
        merged = k.layers.Maximum()([seq, k.layers.ReLU()(dense)])
        both = k.layers.Concatenate()([merged, k.layers.BatchNormalization()(emb)])
        return k.Model(inp, k.layers.Dense(2)(k.layers.GlobalAveragePooling1D()(both)))

    ours, theirs = build(keras), build(real_keras)
    ours.set_weights(theirs.get_weights())
    _close(ours.predict(TOKENS, verbose=0), theirs.predict(TOKENS, verbose=0))


def test_masked_model_saves_and_loads_both_ways(real_keras, tmp_path):
    def build(k):
        return k.Sequential(
            [
                k.Input((6,), dtype="int32"),
                k.layers.Embedding(10, 4, mask_zero=True),
                k.layers.Dense(4),
                k.layers.GlobalAveragePooling1D(),
                k.layers.Dense(2),
            ]
        )

    ours, theirs = build(keras), build(real_keras)
    ours.set_weights(theirs.get_weights())
    expected = theirs.predict(TOKENS, verbose=0)
    ours.save(tmp_path / "s.keras")
    _close(keras.saving.load_model(tmp_path / "s.keras").predict(TOKENS, verbose=0), expected)
    _close(real_keras.saving.load_model(tmp_path / "s.keras").predict(TOKENS, verbose=0), expected)
    theirs.save(tmp_path / "k.keras")
    _close(keras.saving.load_model(tmp_path / "k.keras").predict(TOKENS, verbose=0), expected)


# ---------------------------------------------------------------------------------------------- layers


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling1d_masked_mean(real_keras, keepdims):
    ours = keras.layers.GlobalAveragePooling1D(keepdims=keepdims)
    theirs = real_keras.layers.GlobalAveragePooling1D(keepdims=keepdims)
    emb_t = real_keras.layers.Embedding(10, 3, mask_zero=True)
    emb_o = keras.layers.Embedding(10, 3, mask_zero=True)
    x_t = emb_t(TOKENS)
    emb_o(TOKENS)
    emb_o.set_weights(emb_t.get_weights())
    out_o, out_t = ours(emb_o(TOKENS)), theirs(x_t)
    _close(out_o, out_t)
    assert _mask(out_o) is None and _mask(out_t) is None
    assert not np.allclose(_np(out_o), _np(x_t).mean(axis=1, keepdims=keepdims), atol=1e-4)
    chw = keras.layers.GlobalAveragePooling1D(data_format="channels_first")
    x = _masked(RNG.normal(size=(2, 3, 5)).astype("float32"), [[True, True, False], [True, False, False]])
    _close(
        chw(x, mask=torch.tensor([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)),
        real_keras.layers.GlobalAveragePooling1D(data_format="channels_first")(
            x, mask=torch.tensor([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=torch.bool)
        ),
    )


MASK_A = [[True, True, False, False], [True, False, False, False]]
MASK_B = [[True, False, True, False], [False, False, True, True]]


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("Add", {}),
        ("Subtract", {}),
        ("Multiply", {}),
        ("Average", {}),
        ("Maximum", {}),
        ("Minimum", {}),
        ("Concatenate", {}),
        ("Concatenate", {"axis": 1}),
        ("Dot", {"axes": 2}),
    ],
)
@pytest.mark.parametrize("masks", [(MASK_A, MASK_B), (MASK_A, None), (None, MASK_B), (None, None)])
def test_merge_layers_values_and_masks_match_keras(real_keras, name, kwargs, masks):
    a = RNG.normal(size=(2, 4, 3)).astype("float32")
    b = RNG.normal(size=(2, 4, 3)).astype("float32")
    out_o = getattr(keras.layers, name)(**kwargs)([_masked(a, masks[0]), _masked(b, masks[1])])
    out_t = getattr(real_keras.layers, name)(**kwargs)([_masked(a, masks[0]), _masked(b, masks[1])])
    _close(out_o, out_t)
    _same_mask(out_o, out_t)


def test_maximum_and_multiply_masked_values_differ_from_plain(real_keras):
    a = -np.ones((1, 2, 2), "float32")
    b = np.full((1, 2, 2), -5.0, "float32")
    out = keras.layers.Maximum()([_masked(a, [[True, False]]), _masked(b, [[True, True]])])
    np.testing.assert_array_equal(_np(out), [[[-1, -1], [-5, -5]]])  # the masked -1 loses to -5
    np.testing.assert_array_equal(_np(_mask(out)), [[True, True]])
    out = keras.layers.Multiply()([_masked(a, [[True, False]]), _masked(b, [[False, True]])])
    np.testing.assert_array_equal(_np(out), [[[-1, -1], [-5, -5]]])  # a masked factor counts as 1
    out = keras.layers.Multiply()([_masked(a, [[True, False]]), _masked(b, [[False, False]])])
    np.testing.assert_array_equal(_np(out), [[[-1, -1], [0, 0]]])  # ... and steps masked everywhere give 0
    with pytest.raises(ValueError, match="`mask` should be a list"):
        keras.layers.Add().compute_mask([a, b], torch.ones(1, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="should have the same length"):
        keras.layers.Concatenate().compute_mask([a, b], [None])


def test_softmax_with_a_mask_matches_keras(real_keras):
    scores = RNG.normal(size=(2, 3, 4)).astype("float32")
    ours, theirs = keras.layers.Softmax(), real_keras.layers.Softmax()
    bool_mask = np.array([[[1, 1, 0, 0]], [[0, 0, 0, 0]]], dtype=bool)  # (2, 1, 4); a fully masked row
    _close(ours(scores, mask=bool_mask), theirs(scores, mask=bool_mask))
    assert np.all(_np(ours(scores, mask=bool_mask))[1] == 0)
    float_mask = RNG.random((2, 3, 4)).astype("float32")
    _close(ours(scores, mask=float_mask), theirs(scores, mask=float_mask))
    # the mask attached to the input reaches `call`, and stays on the output
    x = _masked(scores[:, 0], [[True, True, True, False], [True, False, False, False]])
    out_o, out_t = ours(x), theirs(_masked(scores[:, 0], _np(_mask(x))))
    _close(out_o, out_t)
    _same_mask(out_o, out_t)
    _close(
        keras.layers.Softmax(axis=[1, 2])(scores, mask=bool_mask),
        real_keras.layers.Softmax(axis=[1, 2])(scores, mask=bool_mask),
    )
    with pytest.raises(ValueError, match="must be broadcastable"):
        ours(scores, mask=np.ones((2, 3), bool))


def test_batch_normalization_masked_moments_in_training(real_keras):
    x = RNG.normal(2.0, 3.0, size=(3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    ours = keras.layers.BatchNormalization(momentum=0.8)
    theirs = real_keras.layers.BatchNormalization(momentum=0.8)
    theirs(x), ours(x)
    for step in range(2):  # the mask attached to the input, then passed explicitly
        given = {} if step == 0 else {"mask": torch.tensor(mask)}
        out_t = theirs(_masked(x, mask), training=True, **given)
        out_o = ours(_masked(x, mask), training=True, **given)
        _close(out_o, out_t, atol=1e-5)
        _same_mask(out_o, out_t)
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    plain = keras.layers.BatchNormalization(momentum=0.8)
    plain(x, training=True)
    assert not np.allclose(plain.get_weights()[2], ours.get_weights()[2])
    # in inference the mask changes nothing but rides along
    _close(ours(_masked(x, mask), training=False), theirs(_masked(x, mask), training=False), atol=1e-5)
    with pytest.raises(ValueError, match="one dimension less than the inputs"):
        ours(x, training=True, mask=np.ones((3, 5, 4), bool))


def test_layers_without_mask_support_drop_it_and_warn_once(real_keras):
    for make in (lambda k: k.layers.Flatten(), lambda k: k.layers.Conv1D(2, 3)):
        ours, theirs = make(keras), make(real_keras)
        x = RNG.normal(size=(2, 5, 3)).astype("float32")
        mask = [[True] * 5, [True, False, False, False, False]]
        with pytest.warns(UserWarning, match=DROP_WARNING) as record_o:
            out_o = ours(_masked(x, mask))
        with pytest.warns(UserWarning, match=DROP_WARNING):
            out_t = theirs(_masked(x, mask))
        assert _mask(out_o) is None and _mask(out_t) is None
        assert f"Layer '{ours.name}' (of type {type(ours).__name__})" in str(record_o[0].message)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours(_masked(x, [[True] * 5, [True] * 5]))  # once per layer
            ours(x)


def test_rnn_and_bidirectional_output_masks_match_keras(real_keras):
    x_np = RNG.normal(size=(2, 4, 3)).astype("float32")
    for make in (
        lambda k: k.layers.LSTM(2, return_sequences=True, return_state=True),
        lambda k: k.layers.GRU(2, return_state=True),
        lambda k: k.layers.Bidirectional(k.layers.SimpleRNN(2, return_sequences=True), merge_mode=None),
        lambda k: k.layers.Bidirectional(k.layers.SimpleRNN(2)),
        lambda k: k.layers.Bidirectional(k.layers.LSTM(2, return_sequences=True, return_state=True)),
    ):
        ours, theirs = make(keras), make(real_keras)
        out_t = theirs(_masked(x_np, MASK_A))
        ours(x_np)
        ours.set_weights(theirs.get_weights())
        out_o = ours(_masked(x_np, MASK_A))
        flat_o = out_o if isinstance(out_o, (list, tuple)) else [out_o]
        flat_t = out_t if isinstance(out_t, (list, tuple)) else [out_t]
        assert len(flat_o) == len(flat_t)
        for o, t in zip(flat_o, flat_t):
            _close(o, t, atol=1e-5)
            _same_mask(o, t)


def test_time_distributed_passes_step_masks_and_keeps_the_mask(real_keras):
    x = RNG.normal(size=(2, 3, 4, 5)).astype("float32")
    step_mask = RNG.random((2, 3, 4)) > 0.3
    step_mask[..., 0] = True
    ours = keras.layers.TimeDistributed(keras.layers.GlobalAveragePooling1D())
    theirs = real_keras.layers.TimeDistributed(real_keras.layers.GlobalAveragePooling1D())
    out_o, out_t = ours(x, mask=torch.tensor(step_mask)), theirs(x, mask=torch.tensor(step_mask))
    _close(out_o, out_t)
    dense_o, dense_t = (
        keras.layers.TimeDistributed(keras.layers.Dense(2)),
        real_keras.layers.TimeDistributed(real_keras.layers.Dense(2)),
    )
    seq = RNG.normal(size=(2, 4, 3)).astype("float32")
    out_t = dense_t(_masked(seq, MASK_A))
    dense_o(seq)
    dense_o.set_weights(dense_t.get_weights())
    out_o = dense_o(_masked(seq, MASK_A))
    _close(out_o, out_t)
    _same_mask(out_o, out_t)
    with pytest.raises(ValueError, match="must be at least 2D"):
        ours(x, mask=torch.ones(2, dtype=torch.bool))
    with pytest.raises(ValueError, match="incompatible with the input shape"):
        ours(x, mask=torch.ones(2, 5, dtype=torch.bool))


def test_lambda_mask_argument_and_function_mask(real_keras):
    def fn(x, mask=None):
        return x * 2.0 if mask is None else x * mask[..., None].to(x.dtype)

    x = RNG.normal(size=(2, 4, 3)).astype("float32")
    for mask_arg in (None, lambda inputs, mask: mask, torch.tensor([[True, True, True, True], [False] * 4])):
        ours, theirs = keras.layers.Lambda(fn, mask=mask_arg), real_keras.layers.Lambda(fn, mask=mask_arg)
        assert ours.supports_masking == theirs.supports_masking == (mask_arg is not None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out_o, out_t = ours(_masked(x, MASK_A)), theirs(_masked(x, MASK_A))
        _close(out_o, out_t)
        _same_mask(out_o, out_t)
    config = keras.layers.Lambda(fn, mask=mask_arg).get_config()
    assert keras.layers.Lambda.from_config(config).supports_masking


def test_custom_layers_follow_keras_rules(real_keras):
    def classes(k):
        class Seen(k.layers.Layer):
            def call(self, inputs, mask=None):
                self.seen = mask
                return inputs + 1.0

        class Halve(k.layers.Layer):
            def call(self, inputs):
                return inputs[:, ::2]

            def compute_mask(self, inputs, mask=None):
                return None if mask is None else mask[:, ::2]

        return Seen, Halve

    (seen_o, halve_o), (seen_t, halve_t) = classes(keras), classes(real_keras)
    x = RNG.normal(size=(2, 4, 3)).astype("float32")
    a, b = seen_o(), seen_t()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_o, out_t = a(_masked(x, MASK_A)), b(_masked(x, MASK_A))
    np.testing.assert_array_equal(_np(a.seen), _np(b.seen))
    assert a.supports_masking is False and b.supports_masking is False
    _same_mask(out_o, out_t)
    a.supports_masking = b.supports_masking = True  # settable, as in Keras: now the mask passes
    out_o, out_t = a(_masked(x, MASK_A)), b(_masked(x, MASK_A))
    _same_mask(out_o, out_t)
    assert _mask(out_o) is not None
    explicit = torch.tensor([[False, True, True, True], [True, True, True, True]])
    out_o, out_t = a(_masked(x, MASK_A), mask=explicit), b(_masked(x, MASK_A), mask=explicit)
    np.testing.assert_array_equal(_np(a.seen), _np(explicit))
    _same_mask(out_o, out_t)  # an explicit mask is the one carried on
    np.testing.assert_array_equal(_np(_mask(out_o)), _np(explicit))
    h_o, h_t = halve_o(), halve_t()
    assert h_o.supports_masking and h_t.supports_masking
    out_o, out_t = h_o(_masked(x, MASK_A)), h_t(_masked(x, MASK_A))
    _same_mask(out_o, out_t)


def test_multi_head_attention_takes_the_masks_off_its_inputs(real_keras):
    emb = RNG.normal(size=(2, 4, 4)).astype("float32")
    ours, theirs = keras.layers.MultiHeadAttention(2, 2), real_keras.layers.MultiHeadAttention(2, 2)
    q_t, q_o = _masked(emb, MASK_A), _masked(emb, MASK_A)
    out_t = theirs(q_t, q_t)
    ours(emb, emb)
    ours.set_weights(theirs.get_weights())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no sublayer warns about a mask it cannot carry
        out_o = ours(q_o, q_o)
    _close(out_o, out_t, atol=1e-5)
    _same_mask(out_o, out_t)
    assert _mask(q_o) is None and _mask(q_t) is None


SUPPORTS = [
    ("Activation", {"activation": "relu"}),
    ("ActivityRegularization", {}),
    ("Add", {}),
    ("AlphaDropout", {"rate": 0.1}),
    ("Attention", {}),
    ("Average", {}),
    ("BatchNormalization", {}),
    ("Concatenate", {}),
    ("Conv1D", {"filters": 2, "kernel_size": 2}),
    ("Dense", {"units": 2}),
    ("Dot", {"axes": 1}),
    ("Dropout", {"rate": 0.1}),
    ("ELU", {}),
    ("EinsumDense", {"equation": "ab,bc->ac", "output_shape": 2}),
    ("Embedding", {"input_dim": 3, "output_dim": 2}),
    ("Embedding", {"input_dim": 3, "output_dim": 2, "mask_zero": True}),
    ("Flatten", {}),
    ("GRU", {"units": 2}),
    ("GaussianDropout", {"rate": 0.1}),
    ("GaussianNoise", {"stddev": 0.1}),
    ("GlobalAveragePooling1D", {}),
    ("GlobalAveragePooling2D", {}),
    ("GlobalMaxPooling1D", {}),
    ("GroupNormalization", {"groups": 1}),
    ("Identity", {}),
    ("LSTM", {"units": 2}),
    ("Lambda", {"function": abs}),
    ("LayerNormalization", {}),
    ("LeakyReLU", {}),
    ("Masking", {}),
    ("MaxPooling1D", {}),
    ("Maximum", {}),
    ("Minimum", {}),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 2}),
    ("Multiply", {}),
    ("Normalization", {}),
    ("PReLU", {}),
    ("RMSNormalization", {}),
    ("ReLU", {}),
    ("Rescaling", {"scale": 2.0}),
    ("Reshape", {"target_shape": (2,)}),
    ("SimpleRNN", {"units": 2}),
    ("Softmax", {}),
    ("SpatialDropout1D", {"rate": 0.1}),
    ("Subtract", {}),
    ("UnitNormalization", {}),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": 2}),
]


def test_supports_masking_flags_match_keras(real_keras):
    for name, kwargs in SUPPORTS:
        if not hasattr(keras.layers, name):
            continue
        ours, theirs = getattr(keras.layers, name)(**kwargs), getattr(real_keras.layers, name)(**kwargs)
        assert bool(ours.supports_masking) == bool(theirs.supports_masking), name
    for wrapper in ("TimeDistributed", "Bidirectional"):
        inner = "Dense" if wrapper == "TimeDistributed" else "LSTM"
        ours = getattr(keras.layers, wrapper)(getattr(keras.layers, inner)(2))
        assert ours.supports_masking is True
