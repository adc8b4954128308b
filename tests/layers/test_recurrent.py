"""Recurrent layers equal real Keras: SimpleRNN/LSTM/GRU (+ cells, StackedRNNCells, RNN), Bidirectional,
Masking, ConvLSTM1D/2D/3D; outputs and states, masks, go_backwards, the fused torch kernels against the
step loop, gradients, a CNN-LSTM in predict and fit, configs and `.keras` files both ways."""

import numpy as np
import pytest
import torch

import strided as keras

RNG = np.random.default_rng(11)


def _np(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def _flat(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _close(ours, theirs, rtol=1e-5, atol=1e-6):
    ours, theirs = _flat(ours), _flat(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


def _seq(*shape):
    return RNG.normal(size=shape).astype("float32")


def _pair(real_keras, name, x, **kwargs):
    ours = getattr(keras.layers, name)(**kwargs)
    theirs = getattr(real_keras.layers, name)(**kwargs)
    theirs(x)
    ours(x)
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    return ours, theirs


LAYERS = [
    ("SimpleRNN", {}),
    ("LSTM", {}),
    ("GRU", {}),
    ("GRU", {"reset_after": False}),
    ("LSTM", {"use_bias": False, "unit_forget_bias": False}),
    ("SimpleRNN", {"activation": "relu"}),
]


@pytest.mark.parametrize("name,extra", LAYERS)
@pytest.mark.parametrize(
    "flags", [{}, {"return_sequences": True, "return_state": True}, {"go_backwards": True, "return_sequences": True}]
)
def test_layers_match_keras(real_keras, name, extra, flags):
    x = _seq(3, 6, 4)
    ours, theirs = _pair(real_keras, name, x, units=5, **extra, **flags)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    _close(ours(x), theirs(x))
    # an explicit initial state
    states = [_seq(3, 5) for _ in range(2 if name == "LSTM" else 1)]
    _close(ours(x, initial_state=states), theirs(x, initial_state=states))


def test_weight_shapes_and_initial_values(real_keras):
    for name in ("LSTM", "GRU", "SimpleRNN"):
        ours = getattr(keras.layers, name)(4)
        theirs = getattr(real_keras.layers, name)(4)
        ours(_seq(2, 3, 6)), theirs(_seq(2, 3, 6))
        names = [w._keras_name for w in ours.weights]
        assert names == [w.name for w in theirs.weights] == ["kernel", "recurrent_kernel", "bias"]
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            assert a.shape == tuple(b.shape)
        # bias: zeros, LSTM's forget gate ones (unit_forget_bias); the recurrent kernel is orthogonal
        np.testing.assert_array_equal(ours.get_weights()[2], _np(theirs.get_weights()[2]))
        rk = ours.get_weights()[1]
        np.testing.assert_allclose(rk @ rk.T, np.eye(4), atol=1e-5)


@pytest.mark.parametrize("cell", ["SimpleRNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_keras(real_keras, cell):
    x, h = _seq(3, 4), _seq(3, 5)
    states = [h, _seq(3, 5)] if cell == "LSTMCell" else [h]
    ours, theirs = getattr(keras.layers, cell)(5), getattr(real_keras.layers, cell)(5)
    theirs(x, states)
    ours(x, states)
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    out_o, st_o = ours(x, states)
    out_t, st_t = theirs(x, states)
    _close(out_o, out_t)
    _close(st_o, st_t)
    # the RNN layer over a cell equals Keras's RNN over that cell
    seq = _seq(3, 6, 4)
    ours_rnn = keras.layers.RNN(getattr(keras.layers, cell)(5), return_sequences=True, return_state=True)
    theirs_rnn = real_keras.layers.RNN(getattr(real_keras.layers, cell)(5), return_sequences=True, return_state=True)
    theirs_rnn(seq), ours_rnn(seq)
    ours_rnn.set_weights([_np(w) for w in theirs_rnn.get_weights()])
    _close(ours_rnn(seq), theirs_rnn(seq))


def test_stacked_cells_match_keras(real_keras):
    seq = _seq(2, 5, 3)

    def cells(k):
        return [k.layers.SimpleRNNCell(4), k.layers.LSTMCell(3), k.layers.GRUCell(2)]

    ours = keras.layers.RNN(cells(keras), return_sequences=True, return_state=True, go_backwards=True)
    theirs = real_keras.layers.RNN(cells(real_keras), return_sequences=True, return_state=True, go_backwards=True)
    theirs(seq), ours(seq)
    assert isinstance(ours.cell, keras.layers.StackedRNNCells)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    out_o, out_t = ours(seq), theirs(seq)
    _close(out_o[0], out_t[0])
    _close([s for st in out_o[1:] for s in _flat(st)], [s for st in out_t[1:] for s in _flat(st)])


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("zero_output", [False, True])
def test_masks_match_keras(real_keras, name, zero_output):
    x = _seq(4, 7, 3)
    mask = np.ones((4, 7), bool)
    mask[0, 5:] = False  # post-padding
    mask[1, :2] = False  # pre-padding
    mask[2, 3] = False  # a hole
    kw = dict(units=5, return_sequences=True, return_state=True, zero_output_for_mask=zero_output)
    ours = getattr(keras.layers, name)(**{k: v for k, v in kw.items() if k != "zero_output_for_mask"})
    theirs = getattr(real_keras.layers, name)(**{k: v for k, v in kw.items() if k != "zero_output_for_mask"})
    ours.zero_output_for_mask = theirs.zero_output_for_mask = zero_output
    theirs(x), ours(x)
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    _close(ours(x, mask=mask), theirs(x, mask=torch.tensor(mask)))
    out = ours(torch.tensor(x), mask=torch.tensor(mask))
    assert out[0]._keras_mask.tolist() == mask.tolist()  # return_sequences carries the mask on
    # masked steps change nothing: a masked hole equals the same sequence without that step
    unmasked = ours(np.delete(x[2:3], 3, axis=1))
    np.testing.assert_allclose(_np(out[1][2]), _np(unmasked[1][0]), rtol=1e-5, atol=1e-6)


def test_masking_layer_in_models_matches_keras(real_keras):
    x = _seq(3, 6, 4)
    x[0, 4:] = 0.0
    x[1, :2] = 0.0

    def build(k):
        return k.Sequential(
            [
                k.Input((6, 4)),
                k.layers.Masking(mask_value=0.0),
                k.layers.LSTM(5, return_sequences=True),
                k.layers.GRU(3, go_backwards=True),
                k.layers.Dense(2),
            ]
        )

    ours, theirs = build(keras), build(real_keras)
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    _close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    # the mask matters: without Masking the numbers differ
    plain = keras.Sequential(
        [
            keras.Input((6, 4)),
            keras.layers.LSTM(5, return_sequences=True),
            keras.layers.GRU(3, go_backwards=True),
            keras.layers.Dense(2),
        ]
    )
    plain.set_weights(ours.get_weights())
    assert not np.allclose(_np(plain.predict(x, verbose=0))[:2], _np(ours.predict(x, verbose=0))[:2], atol=1e-4)
    # the Masking layer itself
    m = keras.layers.Masking(mask_value=0.0)
    out = m(x)
    np.testing.assert_array_equal(_np(out._keras_mask), _np(real_keras.layers.Masking().compute_mask(x)))
    np.testing.assert_array_equal(_np(out), _np(real_keras.layers.Masking()(x)))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("inner", ["LSTM", "GRU"])
def test_bidirectional_matches_keras(real_keras, merge_mode, inner):
    x = _seq(3, 5, 4)
    ours = keras.layers.Bidirectional(
        getattr(keras.layers, inner)(3, return_sequences=True, return_state=True), merge_mode=merge_mode
    )
    theirs = real_keras.layers.Bidirectional(
        getattr(real_keras.layers, inner)(3, return_sequences=True, return_state=True), merge_mode=merge_mode
    )
    theirs(x), ours(x)
    assert ours.forward_layer.name.startswith("forward_") and ours.backward_layer.name.startswith("backward_")
    assert ours.backward_layer.go_backwards and not ours.forward_layer.go_backwards
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    flat_o = [t for o in _flat(ours(x)) for t in _flat(o)]
    flat_t = [t for o in _flat(theirs(x)) for t in _flat(o)]
    _close(flat_o, flat_t)
    # with a mask (zero_output_for_mask is forced on for return_sequences, as in Keras)
    mask = np.ones((3, 5), bool)
    mask[0, 3:] = False
    flat_o = [t for o in _flat(ours(x, mask=mask)) for t in _flat(o)]
    flat_t = [t for o in _flat(theirs(x, mask=torch.tensor(mask))) for t in _flat(o)]
    _close(flat_o, flat_t)


def test_embedding_mask_zero_reaches_the_rnn(real_keras):
    if not hasattr(keras.layers, "Embedding"):
        pytest.skip("strided has no Embedding layer yet")
    ids = np.array([[3, 1, 2, 0, 0], [1, 2, 3, 4, 1]])

    def build(k):
        return k.Sequential(
            [
                k.Input((5,), dtype="int32"),
                k.layers.Embedding(6, 3, mask_zero=True),
                k.layers.GRU(2, return_sequences=True),
                k.layers.LSTM(2),
            ]
        )

    ours, theirs = build(keras), build(real_keras)
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    _close(ours.predict(ids, verbose=0), theirs.predict(ids, verbose=0))


def test_bidirectional_last_output_and_config(real_keras):
    x = _seq(2, 4, 3)
    ours = keras.layers.Bidirectional(keras.layers.SimpleRNN(3), merge_mode="sum")
    theirs = real_keras.layers.Bidirectional(real_keras.layers.SimpleRNN(3), merge_mode="sum")
    theirs(x), ours(x)
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    _close(ours(x), theirs(x))
    config = ours.get_config()
    assert set(config) == set(theirs.get_config())
    again = keras.layers.Bidirectional.from_config(config)
    again(x)
    again.set_weights(ours.get_weights())
    _close(again(x), ours(x))


@pytest.mark.parametrize(
    "name,extra",
    [("LSTM", {}), ("GRU", {}), ("SimpleRNN", {}), ("LSTM", {"use_bias": False}), ("GRU", {"use_bias": False})],
)
def test_fused_kernel_equals_step_loop_values_and_gradients(monkeypatch, name, extra):
    x = torch.tensor(_seq(3, 8, 4))
    fused = getattr(keras.layers, name)(6, return_sequences=True, return_state=True, go_backwards=True, **extra)
    fused(x)
    calls = []
    kernel = {"LSTM": "lstm", "GRU": "gru", "SimpleRNN": "rnn_tanh"}[name]
    original = getattr(torch._VF, kernel)

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(torch._VF, kernel, counting)
    results = []
    initial = [torch.tensor(_seq(3, 6)) for _ in range(2 if name == "LSTM" else 1)]
    for use_fused in (True, False):
        fused.use_cudnn = "auto" if use_fused else False
        for w in fused.trainable_weights:
            w.grad = None
        outs = fused(x, initial_state=initial)
        sum((o**2).sum() for o in outs).backward()
        results.append(([_np(o) for o in outs], [_np(w.grad) for w in fused.trainable_weights]))
    assert len(calls) == 1  # the first run went through torch's fused kernel, the second did not
    _close(results[0][0], results[1][0], rtol=1e-5, atol=1e-6)
    _close(results[0][1], results[1][1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_fused_and_loop_agree_with_dropout_in_training(name):
    x = torch.tensor(_seq(4, 5, 6))
    layer = getattr(keras.layers, name)(3, dropout=0.5, return_sequences=True)
    layer(x)
    torch.manual_seed(3)
    fused = _np(layer(x, training=True))
    layer.use_cudnn = False
    torch.manual_seed(3)
    loop = _np(layer(x, training=True))
    np.testing.assert_allclose(fused, loop, rtol=1e-5, atol=1e-6)
    assert not np.allclose(fused, _np(layer(x)), atol=1e-4)  # dropout did something
    # recurrent dropout: the step loop; inference ignores it
    rec = getattr(keras.layers, name)(3, recurrent_dropout=0.5, return_sequences=True)
    rec(x)
    rec2 = getattr(keras.layers, name)(3, return_sequences=True)
    rec2(x)
    rec2.set_weights(rec.get_weights())
    np.testing.assert_allclose(_np(rec(x)), _np(rec2(x)), rtol=1e-5, atol=1e-6)
    assert not np.allclose(_np(rec(x, training=True)), _np(rec2(x)), atol=1e-4)


def test_use_cudnn_true_refuses_a_mask():
    layer = keras.layers.LSTM(3, use_cudnn=True)
    layer(_seq(2, 4, 3))
    with pytest.raises(ValueError, match="use_cudnn=True"):
        layer(_seq(2, 4, 3), mask=np.ones((2, 4), bool))


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_gradients_match_keras(real_keras, name):
    x = _seq(3, 6, 4)
    ours, theirs = _pair(real_keras, name, x, units=5, return_sequences=True)
    grads = []
    for layer in (ours, theirs):
        out = layer(torch.tensor(x))
        (out**2 * torch.linspace(0.5, 1.5, 5)).sum().backward()
        grads.append(layer.trainable_weights)
    for ow, tw in zip(*grads):
        g = ow.grad.permute(*ow._keras_layout) if ow._keras_layout else ow.grad
        np.testing.assert_allclose(_np(g), _np(tw.value.grad), rtol=1e-4, atol=1e-5)
        assert float(g.abs().max()) > 0


CONV_CASES = [
    ("ConvLSTM1D", (2, 3, 7, 2), dict(filters=3, kernel_size=3)),
    ("ConvLSTM2D", (2, 3, 6, 5, 2), dict(filters=2, kernel_size=(3, 2), padding="same", return_sequences=True)),
    ("ConvLSTM2D", (2, 3, 7, 7, 2), dict(filters=2, kernel_size=3, strides=2, return_state=True, go_backwards=True)),
    ("ConvLSTM2D", (2, 3, 2, 6, 6), dict(filters=2, kernel_size=3, data_format="channels_first", padding="same")),
    ("ConvLSTM3D", (1, 2, 4, 4, 4, 1), dict(filters=2, kernel_size=2, dilation_rate=2, padding="same")),
]


@pytest.mark.parametrize("name,shape,kwargs", CONV_CASES)
def test_conv_lstm_matches_keras(real_keras, name, shape, kwargs):
    x = _seq(*shape)
    ours, theirs = _pair(real_keras, name, x, **kwargs)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    _close(ours(x), theirs(x), rtol=1e-4, atol=1e-5)
    assert set(ours.get_config()) == set(theirs.get_config())


def test_conv_lstm_mask_gradients_and_step_masks(real_keras):
    x = _seq(2, 4, 5, 5, 2)
    ours, theirs = _pair(real_keras, "ConvLSTM2D", x, filters=2, kernel_size=3, padding="same", return_sequences=True)
    mask = np.array([[1, 1, 0, 1], [1, 1, 1, 0]], bool)
    _close(ours(x, mask=mask), theirs(x, mask=torch.tensor(mask)), rtol=1e-4, atol=1e-5)
    grads = []
    for layer in (ours, theirs):
        (layer(torch.tensor(x)) ** 2).sum().backward()
        grads.append(layer.trainable_weights)
    for ow, tw in zip(*grads):
        g = ow.grad.permute(*ow._keras_layout) if ow._keras_layout else ow.grad
        np.testing.assert_allclose(_np(g), _np(tw.value.grad), rtol=1e-4, atol=1e-5)
    # dropout with per-gate masks runs in training only
    drop = keras.layers.ConvLSTM2D(2, 3, dropout=0.3, recurrent_dropout=0.3)
    drop(x)
    assert not np.allclose(_np(drop(x, training=True)), _np(drop(x)), atol=1e-5)


def test_stateful_layer_carries_states_across_batches():
    x = torch.tensor(_seq(2, 6, 3))
    whole = keras.layers.LSTM(4, return_sequences=True)
    whole(x)
    stateful = keras.layers.LSTM(4, return_sequences=True, stateful=True)
    stateful(x[:, :3])
    stateful.reset_state()
    stateful.set_weights(whole.get_weights())
    first, second = stateful(x[:, :3]), stateful(x[:, 3:])
    np.testing.assert_allclose(np.concatenate([_np(first), _np(second)], axis=1), _np(whole(x)), rtol=1e-5, atol=1e-6)
    stateful.reset_state()
    np.testing.assert_allclose(_np(stateful(x[:, :3])), _np(first), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="batch size"):
        stateful(x[:1])


def test_symbolic_shapes_and_functional_model(real_keras):
    inp = keras.Input((7, 3))
    out, h, c = keras.layers.LSTM(4, return_sequences=True, return_state=True)(inp)
    assert out.shape == (None, 7, 4) and h.shape == (None, 4) and c.shape == (None, 4)
    bi = keras.layers.Bidirectional(keras.layers.GRU(2, return_sequences=True))(out)
    assert bi.shape == (None, 7, 4)
    conv = keras.layers.ConvLSTM2D(3, 3, return_sequences=True)(keras.Input((4, 8, 8, 2)))
    assert conv.shape == (None, 4, 6, 6, 3)
    model = keras.Model(inp, [bi, h])
    x = _seq(2, 7, 3)
    y = model.predict(x, verbose=0)
    assert y[0].shape == (2, 7, 4) and y[1].shape == (2, 4)


def _cnn_lstm(k):
    k.utils.set_random_seed(1)
    return k.Sequential(
        [
            k.Input((4, 8, 8, 1)),
            k.layers.TimeDistributed(k.layers.Conv2D(4, 3, activation="relu")),
            k.layers.TimeDistributed(k.layers.GlobalAveragePooling2D()),
            k.layers.LSTM(5),
            k.layers.Dense(3, activation="softmax"),
        ]
    )


def test_cnn_lstm_matches_keras_in_predict_and_fit(real_keras):
    x = RNG.random(size=(6, 4, 8, 8, 1)).astype("float32")
    y = RNG.integers(0, 3, size=(6,))
    ours, theirs = _cnn_lstm(keras), _cnn_lstm(real_keras)
    ours.set_weights([_np(w) for w in theirs.get_weights()])
    _close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0))
    for m, k in ((ours, keras), (theirs, real_keras)):
        m.compile(optimizer=k.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
        m.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, _np(b), rtol=1e-4, atol=1e-5)
    _close(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


def _rnn_zoo(k):
    inp = k.Input((5, 3))
    a = k.layers.LSTM(4, return_sequences=True)(inp)
    b = k.layers.Bidirectional(k.layers.GRU(2))(a)
    c = k.layers.RNN([k.layers.SimpleRNNCell(3), k.layers.LSTMCell(2), k.layers.LSTMCell(2)])(a)
    d = k.layers.SimpleRNN(2, go_backwards=True)(a)
    return k.Model(inp, [b, c, d])


def _conv_seq(k):
    return k.Sequential(
        [
            k.Input((3, 6, 6, 2)),
            k.layers.Masking(),
            k.layers.ConvLSTM2D(2, 3, padding="same"),
            k.layers.Flatten(),
            k.layers.Dense(2),
        ]
    )


def _masked_functional(k):
    inp = k.Input((5, 3))
    masked = k.layers.Masking()(inp)
    return k.Model(inp, k.layers.Bidirectional(k.layers.LSTM(3, return_sequences=True), merge_mode="ave")(masked))


def _initial_state_model(k):
    inp, h, c = k.Input((5, 3)), k.Input((4,)), k.Input((4,))
    return k.Model([inp, h, c], k.layers.LSTM(4, go_backwards=True)(inp, initial_state=[h, c]))


@pytest.mark.parametrize("build", [_rnn_zoo, _conv_seq, _masked_functional, _initial_state_model])
def test_keras_files_both_ways(real_keras, tmp_path, build):
    x = _seq(2, 3, 6, 6, 2) if build is _conv_seq else _seq(2, 5, 3)
    x[0, 3:] = 0.0  # padding the Masking layers see
    if build is _initial_state_model:
        x = [x, _seq(2, 4), _seq(2, 4)]
    theirs = build(real_keras)
    theirs.save(tmp_path / "k.keras")
    loaded = keras.saving.load_model(tmp_path / "k.keras")
    _close(loaded.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    ours = build(keras)
    ours.save(tmp_path / "s.keras")
    back = real_keras.saving.load_model(tmp_path / "s.keras")
    _close(back.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    again = keras.saving.load_model(tmp_path / "s.keras")
    _close(again.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("SimpleRNN", dict(units=3, dropout=0.1, go_backwards=True)),
        ("LSTM", dict(units=3, recurrent_dropout=0.2, return_state=True)),
        ("GRU", dict(units=2, reset_after=False, kernel_regularizer="l2")),
        ("SimpleRNNCell", dict(units=3)),
        ("LSTMCell", dict(units=3, unit_forget_bias=False)),
        ("GRUCell", dict(units=3, seed=4)),
        ("Masking", dict(mask_value=-1.0)),
        ("ConvLSTM1D", dict(filters=2, kernel_size=3, padding="same")),
    ],
)
def test_configs_match_keras_and_round_trip(real_keras, name, kwargs):
    ours = getattr(keras.layers, name)(**kwargs)
    theirs = getattr(real_keras.layers, name)(**kwargs)
    oc, tc = ours.get_config(), theirs.get_config()
    assert set(oc) == set(tc)
    for key, value in tc.items():
        if key in ("name", "dtype") or isinstance(value, dict):
            continue
        assert oc[key] == (list(value) if isinstance(oc[key], list) else value), key
    again = type(ours).from_config(oc)
    assert again.get_config() == oc
    rnn = keras.layers.RNN.from_config(keras.layers.RNN(keras.layers.LSTMCell(3), return_sequences=True).get_config())
    assert isinstance(rnn.cell, keras.layers.LSTMCell) and rnn.return_sequences


def test_bad_arguments_raise_keras_style_errors():
    for cls in (keras.layers.LSTM, keras.layers.GRU, keras.layers.SimpleRNN, keras.layers.LSTMCell):
        with pytest.raises(ValueError, match=r"units.*Received units=0"):
            cls(0)
        with pytest.raises(ValueError, match="units"):
            cls(-3)
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=2. Full shape received: \(4, 5\)"):
        keras.layers.LSTM(3)(np.zeros((4, 5), "float32"))
    with pytest.raises(ValueError, match=r"ndim=3.*\(None, 5\)"):
        keras.layers.GRU(3)(keras.Input((5,)))
    with pytest.raises(ValueError, match=r"ndim=5, found ndim=4"):
        keras.layers.ConvLSTM2D(2, 3)(np.zeros((1, 3, 6, 6), "float32"))
    with pytest.raises(ValueError, match="merge mode.*Received: max"):
        keras.layers.Bidirectional(keras.layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="Bidirectional"):
        keras.layers.Bidirectional("lstm")
    with pytest.raises(ValueError, match="use_cudnn"):
        keras.layers.LSTM(2, use_cudnn="yes")
    with pytest.raises(ValueError, match="filters"):
        keras.layers.ConvLSTM2D(0, 3)
    with pytest.raises(TypeError, match="dropout"):
        keras.layers.GRU(2, dropout="half")
    with pytest.raises(ValueError, match="`call` method"):
        keras.layers.RNN(object())
    with pytest.raises(TypeError, match="mask_value"):
        keras.layers.Masking(mask_value="zero")
