"""The Layer base, symbolic tensors, Sequential/functional/subclassed models and summary().

Layers here are tiny ones defined in the test, so these tests pin the base machinery itself.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from strided.layers import Input, InputLayer, KerasTensor, Layer
from strided.backend.name_scope import clear_session, to_snake_case, unique_name
from strided.models import Model, Sequential


class TinyDense(Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        # Stored torch-style (out, in); Keras layout (in, out) through get_weights.
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="glorot_uniform", name="kernel", torch_layout=(1, 0)
        )
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, x):
        return F.linear(x, self.kernel, self.bias)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class TinyConv(Layer):
    """3x3 'valid' conv, channels_last, kernel stored (out, in, kh, kw)."""

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(3, 3, input_shape[-1], self.filters), name="kernel", torch_layout=(3, 2, 0, 1)
        )

    def call(self, x):
        return F.conv2d(x.movedim(-1, 1), self.kernel).movedim(1, -1)


class TinyFlatten(Layer):
    def call(self, x):
        return x.reshape(x.shape[0], -1)


class Doubler(Layer):
    def call(self, x, training=False):
        return x * 2 if training else x


def test_snake_case_names_and_uniqueness():
    assert to_snake_case("MaxPooling2D") == "max_pooling2d"
    assert to_snake_case("Conv2D") == "conv2d"
    assert to_snake_case("GlobalAveragePooling2D") == "global_average_pooling2d"
    assert to_snake_case("BatchNormalization") == "batch_normalization"
    base = unique_name("zz_probe")
    assert base == "zz_probe" and unique_name("zz_probe") == "zz_probe_1"
    a, b = TinyDense(2), TinyDense(2)
    assert a.name != b.name and b.name.startswith("tiny_dense")


def test_clear_session_resets_names():
    clear_session()
    assert TinyDense(1).name == "tiny_dense"
    assert TinyDense(1).name == "tiny_dense_1"
    clear_session()
    assert TinyDense(1).name == "tiny_dense"


def test_weights_keras_layout_round_trip():
    layer = TinyConv(4)
    x = np.random.rand(2, 6, 6, 3).astype("float32")
    out = layer(x)
    assert tuple(out.shape) == (2, 4, 4, 4)
    kernel = layer.get_weights()[0]
    assert kernel.shape == (3, 3, 3, 4)
    # The Keras-layout kernel computes the same output as an explicit NumPy correlation.
    ref = np.zeros((2, 4, 4, 4))
    for i in range(4):
        for j in range(4):
            ref[:, i, j, :] = np.einsum("nhwc,hwco->no", x[:, i : i + 3, j : j + 3, :], kernel)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-5)
    new = np.random.rand(3, 3, 3, 4).astype("float32")
    layer.set_weights([new])
    np.testing.assert_array_equal(layer.get_weights()[0], new)
    assert layer.kernel.shape == (4, 3, 3, 3)  # stored torch-native


def test_set_weights_errors_name_layer_and_shapes():
    layer = TinyDense(3, name="probe_dense")
    layer(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="probe_dense.*length 1.*expecting 2"):
        layer.set_weights([np.zeros((4, 3))])
    with pytest.raises(ValueError, match=r"probe_dense.*\(4, 3\).*\(3, 4\)"):
        layer.set_weights([np.zeros((3, 4)), np.zeros(3)])


def test_unknown_kwarg_gets_hint():
    with pytest.raises(TypeError, match="Unrecognized keyword arguments passed to TinyDense.*padding"):
        TinyDense(3, padding="same")


def test_eager_call_on_numpy_returns_student_friendly_tensor():
    layer = TinyDense(2)
    out = layer(np.ones((1, 3)))
    assert isinstance(out.numpy(), np.ndarray)
    assert np.swapaxes(out, 0, 1).shape == (2, 1)
    assert out.device.type == "cpu"


def test_sequential_shapes_known_before_data():
    model = Sequential()
    model.add(TinyDense(10, input_shape=(784,)))
    model.add(TinyDense(10))
    model.add(TinyDense(3))
    assert [l.output.shape for l in model.layers] == [(None, 10), (None, 10), (None, 3)]
    assert model.count_params() == 7993
    # The seed-002 feature-map recipe on a never-trained model.
    sub = Model(inputs=model.inputs, outputs=model.layers[0].output)
    out = sub(np.ones((2, 784), dtype="float32"))
    assert tuple(out.shape) == (2, 10)
    np.testing.assert_allclose(out.numpy(), model.layers[0](np.ones((2, 784))).numpy(), rtol=1e-6)
    multi = Model(model.input, [l.output for l in model.layers])
    assert [tuple(o.shape) for o in multi(np.ones((1, 784)))] == [(1, 10), (1, 10), (1, 3)]


def test_sequential_with_input_and_lazy_build_and_pop():
    model = Sequential([Input(shape=(6, 6, 2)), TinyConv(3), TinyFlatten(), TinyDense(5)])
    assert model.output_shape == (None, 5)
    assert model.count_params() == 3 * 3 * 2 * 3 + 16 * 3 * 5 + 5
    model.pop()
    assert model.output_shape == (None, 48)
    lazy = Sequential([TinyDense(4), TinyDense(2)])
    assert not lazy.built
    with pytest.raises(ValueError, match="not yet been built"):
        lazy.summary()
    assert tuple(lazy(np.ones((5, 7))).shape) == (5, 2)
    assert lazy.layers[0].output.shape == (None, 4)


def test_sequential_rejects_wrong_input_shape():
    model = Sequential([Input(shape=(4,)), TinyDense(2)])
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(3, 5\)"):
        model(np.ones((3, 5)))


def test_functional_multi_input_output_shared_layer():
    a, b = Input(shape=(4,), name="in_a"), Input(shape=(4,), name="in_b")
    shared = TinyDense(3)
    ya, yb = shared(a), shared(b)
    total = ya + yb
    model = Model(inputs=[a, b], outputs=[total, ya])
    assert model.output_shape == [(None, 3), (None, 3)]
    xa, xb = np.random.rand(2, 4).astype("float32"), np.random.rand(2, 4).astype("float32")
    out_total, out_a = model([xa, xb])
    k, bias = shared.get_weights()
    np.testing.assert_allclose(out_a.numpy(), xa @ k + bias, rtol=1e-5)
    np.testing.assert_allclose(out_total.numpy(), xa @ k + xb @ k + 2 * bias, rtol=1e-5)
    assert len(model.weights) == 2  # the shared layer counts once


def test_functional_nested_model_and_training_flag():
    inner_in = Input(shape=(3,))
    inner = Model(inner_in, Doubler()(inner_in))
    outer_in = Input(shape=(3,))
    outer = Model(outer_in, TinyDense(1)(inner(outer_in)))
    x = torch.ones(2, 3)
    dense = outer.layers[-1]
    k, b = dense.get_weights()
    np.testing.assert_allclose(outer(x, training=False).detach().cpu().numpy(), np.ones((2, 3)) @ k + b, rtol=1e-6)
    np.testing.assert_allclose(outer(x, training=True).detach().cpu().numpy(), 2 * np.ones((2, 3)) @ k + b, rtol=1e-6)


def test_graph_disconnected_error():
    a, b = Input(shape=(2,)), Input(shape=(2,))
    out = a + b
    with pytest.raises(ValueError, match="Graph disconnected"):
        Model(inputs=a, outputs=out)


def test_symbolic_unknown_dims_stay_unknown():
    x = Input(shape=(None, None, 3))
    y = TinyConv(2)(x)
    assert y.shape == (None, None, None, 2)
    fixed = TinyConv(2)(Input(shape=(10, None, 3)))
    assert fixed.shape == (None, 8, None, 2)


def test_keras_tensor_has_no_values():
    with pytest.raises(ValueError, match="symbolic tensor"):
        Input(shape=(2,)).numpy()


def test_subclassed_model_build_and_weights():
    class Net(Model):
        def __init__(self):
            super().__init__()
            self.hidden = TinyDense(4)
            self.out = TinyDense(2)

        def call(self, x):
            return self.out(torch.relu(self.hidden(x)))

    net = Net()
    net.build((None, 3))
    assert net.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    assert [w.shape for w in net.get_weights()] == [(3, 4), (4,), (4, 2), (2,)]
    assert tuple(net(np.ones((5, 3))).shape) == (5, 2)


def test_freezing_removes_trainable_weights():
    model = Sequential([Input(shape=(3,)), TinyDense(2), TinyDense(1)])
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    assert not model.layers[0].kernel.requires_grad
    model.trainable = False
    assert model.trainable_weights == []


def test_summary_text_pinned():
    clear_session()
    model = Sequential()
    model.add(TinyDense(10, input_shape=(784,)))
    model.add(TinyDense(10))
    model.add(TinyDense(3))
    lines = []
    model.summary(print_fn=lines.append)
    expected = [
        'Model: "sequential"',
        "_" * 65,
        "Layer (type)                 Output Shape              Param #   ",
        "=" * 65,
        "tiny_dense (TinyDense)       (None, 10)                7850      ",
        "_" * 65,
        "tiny_dense_1 (TinyDense)     (None, 10)                110       ",
        "_" * 65,
        "tiny_dense_2 (TinyDense)     (None, 3)                 33        ",
        "=" * 65,
        "Total params: 7,993",
        "Trainable params: 7,993",
        "Non-trainable params: 0",
        "_" * 65,
    ]
    assert lines == expected


def test_summary_truncates_long_names_like_tf_keras():
    class MaxPooling2D(Layer):  # a stand-in with the long class name of seed 000's table
        def call(self, x):
            return x

    clear_session()
    model = Sequential([Input(shape=(4,)), MaxPooling2D(), MaxPooling2D()])
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[6].startswith("max_pooling2d_1 (MaxPooling2 (None, 4)")


def test_input_layer_validation():
    with pytest.raises(ValueError, match="shape"):
        InputLayer()
    with pytest.raises(ValueError, match="shape"):
        Input(shape=(-1, 3))
    assert isinstance(Input(shape=5), KerasTensor) and Input(shape=5).shape == (None, 5)


def test_summary_extra_columns_and_plot_model():
    from strided.layers import Conv2D
    from strided.utils import plot_model

    clear_session()
    inputs = Input(shape=(8, 8, 1))
    x = Conv2D(2, 3)(inputs)
    y = Conv2D(3, 3)(x)
    model = Model(inputs, y)
    lines = []
    model.summary(print_fn=lines.append, show_flops=True, show_receptive_field=True)
    text = "\n".join(lines)
    # Two stacked 3x3 convs: 5x5 receptive field; MACs = output positions x kernel size.
    assert "5 / stride 1" in text and "3 / stride 1" in text
    assert f"{4 * 4 * 3 * 3 * 2 * 3:,}" in text and f"{6 * 6 * 3 * 3 * 1 * 2:,}" in text
    graph = plot_model(model)
    assert "conv2d_1 (Conv2D) (None, 4, 4, 3)  <- conv2d" in graph


def test_summary_expand_nested():
    clear_session()
    inner = Sequential([Input(shape=(4,)), TinyDense(3), TinyDense(2)], name="inner")
    outer_in = Input(shape=(4,))
    outer = Model(outer_in, TinyDense(1)(inner(outer_in)))
    lines = []
    outer.summary(print_fn=lines.append, expand_nested=True)
    text = "\n".join(lines)
    assert "inner (Sequential)" in text and "| tiny_dense (TinyDense)" in text and "| tiny_dense_1 (TinyDense)" in text
    flat = []
    outer.summary(print_fn=flat.append)
    assert "| tiny_dense" not in "\n".join(flat)
    assert "Total params: 26" in text  # 4*3+3 + 3*2+2 + 2*1+1


def test_deepcopy_gives_an_independent_working_model():
    import copy
    import strided as keras

    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Conv2D(2, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(2, kernel_constraint="max_norm"),
        ]
    )
    clone = copy.deepcopy(model)
    x = np.random.default_rng(0).random((3, 4, 4, 1)).astype("float32")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]  # Keras layout kept
    clone.compile("sgd", "mse")
    clone.fit(x, np.ones((3, 2)), verbose=0)
    assert not np.array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))  # the original untouched


def test_pickled_model_round_trips():
    import pickle
    import strided as keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    clone = pickle.loads(pickle.dumps(model))
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    assert clone.weights[0].value is clone.weights[0] and clone.get_weights()[0].shape == (3, 2)


def test_functional_model_takes_nested_dict_inputs():
    import strided as keras

    inputs = {"image": keras.Input((3,)), "extra": {"a": keras.Input((2,)), "b": keras.Input((1,))}}
    merged = keras.layers.Concatenate()([inputs["image"], inputs["extra"]["a"], inputs["extra"]["b"]])
    model = keras.Model(inputs, keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")(merged))
    x = {
        "extra": {"b": np.full((2, 1), 100.0, "float32"), "a": np.ones((2, 2), "float32")},
        "image": np.zeros((2, 3), "float32"),
    }
    np.testing.assert_allclose(np.asarray(model.predict(x, verbose=0)), [[102.0], [102.0]])
    with pytest.raises(ValueError, match=r"keys \['a', 'b'\]"):
        model({"image": x["image"], "extra": {"a": x["extra"]["a"]}})


@pytest.mark.keras
def test_inputs_one_rank_off_are_adjusted_as_keras_does(real_keras):
    import strided as keras

    def build(ks):
        a, b = ks.Input((1,), name="a"), ks.Input((3,), name="b")
        return ks.Model({"a": a, "b": b}, ks.layers.Dense(1)(ks.layers.Concatenate()([a, b])))

    ours, theirs = build(keras), build(real_keras)
    ours.set_weights(theirs.get_weights())
    x = {"a": np.arange(4, dtype="float32"), "b": np.ones((4, 3, 1), "float32")}  # (n,) and (n, 3, 1)
    np.testing.assert_allclose(np.asarray(ours.predict(x, verbose=0)), theirs.predict(x, verbose=0), rtol=1e-6)
    seq = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2)])
    assert tuple(seq.predict(np.arange(3.0), verbose=0).shape) == (3, 2)
    with pytest.raises(ValueError, match="incompatible"):
        ours({"a": np.zeros((4, 2), "float32"), "b": x["b"]})
