"""The seed documents' models and recipes, with only the imports changed (``import strided as keras``).

Expected parameter counts are the seeds' printed totals, and each layer's count is written as the
hand formula (kh * kw * in * out + out, in * out + out) so a wrong count is traced to a layer.
"""

import numpy as np
import pytest
import torch

import strided
import strided as keras
from strided import layers, models
from strided.layers import AveragePooling2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D, MaxPooling2D
from strided.models import Model, Sequential


@pytest.fixture(autouse=True)
def _fresh_names():
    layers.clear_session()
    yield


def _rows(model):
    return [(type(l).__name__, l.output.shape, l.count_params()) for l in model.layers]


def _conv(k, cin, cout):
    return k * k * cin * cout + cout


def _dense(n_in, n_out):
    return n_in * n_out + n_out


def test_seed000_dense_model_7993():
    model = Sequential()
    model.add(Dense(10, activation="relu", input_shape=(784,)))
    model.add(Dense(10, activation="relu"))
    model.add(Dense(3, activation="softmax"))
    assert _rows(model) == [
        ("Dense", (None, 10), _dense(784, 10)),
        ("Dense", (None, 10), _dense(10, 10)),
        ("Dense", (None, 3), _dense(10, 3)),
    ]
    assert model.count_params() == 7993


@pytest.mark.parametrize("f1, f2, total", [(10, 10, 24533), (5, 15, 36023)])
def test_seed000_cnn_same_padding(f1, f2, total):
    model = Sequential()
    model.add(Conv2D(f1, kernel_size=3, activation="relu", input_shape=(28, 28, 1), padding="same"))
    model.add(Conv2D(f2, kernel_size=3, activation="relu", padding="same"))
    model.add(Flatten())
    model.add(Dense(3, activation="softmax"))
    assert _rows(model) == [
        ("Conv2D", (None, 28, 28, f1), _conv(3, 1, f1)),
        ("Conv2D", (None, 28, 28, f2), _conv(3, f1, f2)),
        ("Flatten", (None, 28 * 28 * f2), 0),
        ("Dense", (None, 3), _dense(28 * 28 * f2, 3)),
    ]
    assert model.count_params() == total
    lines = []
    model.summary(print_fn=lines.append)
    assert f"Total params: {total:,}" in lines


def test_seed000_max_pool_model():
    img_rows = img_cols = 28
    model = Sequential()
    model.add(Conv2D(5, kernel_size=3, activation="relu", input_shape=(img_rows, img_cols, 1)))
    model.add(MaxPool2D(2))
    model.add(Conv2D(15, kernel_size=3, activation="relu", input_shape=(img_rows, img_cols, 1)))
    model.add(MaxPool2D(2))
    model.add(Flatten())
    model.add(Dense(3, activation="softmax"))
    assert _rows(model) == [
        ("Conv2D", (None, 26, 26, 5), 50),
        ("MaxPooling2D", (None, 13, 13, 5), 0),
        ("Conv2D", (None, 11, 11, 15), 690),
        ("MaxPooling2D", (None, 5, 5, 15), 0),
        ("Flatten", (None, 375), 0),
        ("Dense", (None, 3), 1128),
    ]
    out = model(np.random.rand(2, 28, 28, 1).astype("float32"))
    np.testing.assert_allclose(out.numpy().sum(axis=1), 1.0, rtol=1e-6)


def test_seed000_typos_get_friendly_errors():
    with pytest.raises(TypeError, match="padding.*belongs to convolution"):
        Dense(5, activation="relu", input_shape=(784,), padding="same")
    with pytest.raises(ValueError, match=r"Did you mean padding='same'\?"):
        Conv2D(10, kernel_size=2, activation="relu", input_shape=(28, 28, 1), padding="equal")


def test_seed002_malaria_model_56257_and_feature_maps():
    x_train_shape = (2000, 100, 100, 3)
    model = Sequential()
    model.add(
        Conv2D(filters=32, input_shape=(x_train_shape[1:]), kernel_size=(3, 3), padding="same", activation="relu")
    )
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(64, kernel_size=(3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dropout(0.5))
    model.add(Dense(1, activation="sigmoid"))
    assert _rows(model) == [
        ("Conv2D", (None, 100, 100, 32), _conv(3, 3, 32)),
        ("MaxPooling2D", (None, 50, 50, 32), 0),
        ("Conv2D", (None, 48, 48, 64), _conv(3, 32, 64)),
        ("MaxPooling2D", (None, 24, 24, 64), 0),
        ("Flatten", (None, 36864), 0),
        ("Dropout", (None, 36864), 0),
        ("Dense", (None, 1), _dense(36864, 1)),
    ]
    assert model.count_params() == 56257
    assert [l.name for l in model.layers] == [
        "conv2d",
        "max_pooling2d",
        "conv2d_1",
        "max_pooling2d_1",
        "flatten",
        "dropout",
        "dense",
    ]
    W, b = model.get_layer("conv2d").get_weights()
    assert W.shape == (3, 3, 3, 32) and b.shape == (32,)

    # Feature maps of a never-trained model (seed 002): a sub-model up to the first layer.
    cell = np.random.rand(1, 100, 100, 3).astype("float32")
    model_1layer = Model(inputs=model.inputs, outputs=model.layers[0].output)
    feature_maps = np.asarray(model_1layer(cell))
    assert feature_maps.shape == (1, 100, 100, 32)
    want = np.maximum(keras.ops.reference.conv(cell.astype("float64"), W, padding="same") + b, 0)
    np.testing.assert_allclose(feature_maps, want, rtol=1e-5, atol=1e-5)
    if hasattr(model_1layer, "predict"):
        np.testing.assert_allclose(model_1layer.predict(cell, verbose=0), feature_maps, rtol=1e-6, atol=1e-6)


def test_seed002_lenet5():
    model = keras.Sequential()
    model.add(Conv2D(filters=6, kernel_size=(3, 3), activation="relu", input_shape=(32, 32, 1)))
    model.add(AveragePooling2D())
    model.add(Conv2D(16, kernel_size=(3, 3), activation="relu"))
    model.add(AveragePooling2D())
    model.add(Flatten())
    model.add(Dense(120, activation="relu"))
    model.add(Dense(84, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    expected = [
        ("Conv2D", (None, 30, 30, 6), _conv(3, 1, 6)),
        ("AveragePooling2D", (None, 15, 15, 6), 0),
        ("Conv2D", (None, 13, 13, 16), _conv(3, 6, 16)),
        ("AveragePooling2D", (None, 6, 6, 16), 0),
        ("Flatten", (None, 576), 0),
        ("Dense", (None, 120), _dense(576, 120)),
        ("Dense", (None, 84), _dense(120, 84)),
        ("Dense", (None, 10), _dense(84, 10)),
    ]
    assert _rows(model) == expected
    assert model.count_params() == sum(r[2] for r in expected) == 81194


def _seed004_convnet(pool=True):
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    if pool:
        model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    if pool:
        model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    return model


def test_seed004_convnets_55744():
    model = _seed004_convnet()
    assert _rows(model) == [
        ("Conv2D", (None, 26, 26, 32), 320),
        ("MaxPooling2D", (None, 13, 13, 32), 0),
        ("Conv2D", (None, 11, 11, 64), 18496),
        ("MaxPooling2D", (None, 5, 5, 64), 0),
        ("Conv2D", (None, 3, 3, 64), 36928),
    ]
    assert model.count_params() == 55744
    no_pool = _seed004_convnet(pool=False)
    assert _rows(no_pool) == [
        ("Conv2D", (None, 26, 26, 32), 320),
        ("Conv2D", (None, 24, 24, 64), 18496),
        ("Conv2D", (None, 22, 22, 64), 36928),
    ]
    assert no_pool.count_params() == 55744


SUMMARY_93322 = """\
Model: "sequential"
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
conv2d (Conv2D)              (None, 26, 26, 32)        320       
_________________________________________________________________
max_pooling2d (MaxPooling2D) (None, 13, 13, 32)        0         
_________________________________________________________________
conv2d_1 (Conv2D)            (None, 11, 11, 64)        18496     
_________________________________________________________________
max_pooling2d_1 (MaxPooling2 (None, 5, 5, 64)          0         
_________________________________________________________________
conv2d_2 (Conv2D)            (None, 3, 3, 64)          36928     
_________________________________________________________________
flatten (Flatten)            (None, 576)               0         
_________________________________________________________________
dense (Dense)                (None, 64)                36928     
_________________________________________________________________
dense_1 (Dense)              (None, 10)                650       
=================================================================
Total params: 93,322
Trainable params: 93,322
Non-trainable params: 0
_________________________________________________________________"""


def test_seed004_full_summary_text_93322():
    model = _seed004_convnet()
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines) == SUMMARY_93322
    assert model.count_params() == 93322


def test_seed001_reshape_model_and_layer_recipes():
    model = models.Sequential(
        [
            layers.Input(shape=(28, 28)),
            layers.Reshape((28, 28, 1)),
            layers.Conv2D(32, (3, 3), padding="same"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(16, (3, 3), padding="same"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    assert _rows(model) == [
        ("Reshape", (None, 28, 28, 1), 0),
        ("Conv2D", (None, 28, 28, 32), _conv(3, 1, 32)),
        ("MaxPooling2D", (None, 14, 14, 32), 0),
        ("Conv2D", (None, 14, 14, 16), _conv(3, 32, 16)),
        ("MaxPooling2D", (None, 7, 7, 16), 0),
        ("Flatten", (None, 784), 0),
        ("Dense", (None, 10), _dense(784, 10)),
    ]
    probs = model(np.random.rand(3, 28, 28))
    np.testing.assert_allclose(np.asarray(probs).sum(axis=1), 1.0, rtol=1e-6)


def _conv2d_loop(image, kernel):  # the seed-001 NumPy loop
    (w_i, h_i) = image.shape
    (w_k, h_k) = kernel.shape
    w, h = (w_i - w_k + 1), (h_i - h_k + 1)
    result = np.zeros((w, h))
    for i in range(w):
        for j in range(h):
            result[i, j] = np.sum(image[i : i + w_k, j : j + h_k] * kernel)
    return result


def test_seed001_conv2d_set_weights_reproduces_numpy_loop():
    x0 = np.random.default_rng(1).random((28, 28))  # float64, like x_train / 255.
    (c0, c1), (r0, r1) = (5, 10), (20, 25)
    kernel = x0[r0:r1, c0:c1]
    conv2d = layers.Conv2D(filters=1, kernel_size=kernel.shape)
    output = conv2d(x0.reshape(1, 28, 28, 1))
    assert tuple(output.shape) == (1, 24, 24, 1)
    (kernel_parameter, bias_parameter) = conv2d.get_weights()
    assert kernel_parameter.shape == (5, 5, 1, 1) and bias_parameter.shape == (1,)
    conv2d.set_weights([kernel.reshape(5, 5, 1, 1), np.array([0])])
    output = conv2d(x0.reshape(1, 28, 28, 1))
    np.testing.assert_allclose(output.numpy().squeeze(), _conv2d_loop(x0, kernel), rtol=1e-5, atol=1e-5)

    conv2d_padded = layers.Conv2D(filters=1, kernel_size=kernel.shape, padding="same")
    assert tuple(conv2d_padded(x0.reshape(1, 28, 28, 1)).shape) == (1, 28, 28, 1)

    maxpooling = layers.MaxPooling2D(pool_size=(2, 2))
    output1 = conv2d(x0.reshape(1, 28, 28, 1)).numpy()
    output2 = maxpooling(output1).numpy()
    want = output1[0, :, :, 0].reshape(12, 2, 12, 2).max(axis=(1, 3))
    np.testing.assert_array_equal(output2.squeeze(), want)


def test_seed003_constant_initializer_valid_and_same():
    image = np.array([[[[1], [2], [3]], [[4], [5], [6]], [[7], [8], [9]]]], dtype=np.float32)
    weight = np.array([[[[1.0]], [[1.0]]], [[[1.0]], [[1.0]]]])
    assert weight.shape == (2, 2, 1, 1)
    weight_init = keras.initializers.Constant(weight)
    conv2d = keras.layers.Conv2D(filters=1, kernel_size=2, padding="VALID", kernel_initializer=weight_init)(image)
    assert tuple(conv2d.shape) == (1, 2, 2, 1)
    np.testing.assert_array_equal(conv2d.numpy().reshape(2, 2), [[12, 16], [24, 28]])
    conv2d = keras.layers.Conv2D(
        filters=1, kernel_size=2, padding="SAME", kernel_initializer=strided.constant_initializer(weight)
    )(image)
    np.testing.assert_array_equal(conv2d.numpy().reshape(3, 3), [[12, 16, 9], [24, 28, 15], [15, 17, 9]])

    weight = np.array([[[[1.0, 10.0, -1.0]], [[1.0, 10.0, -1.0]]], [[[1.0, 10.0, -1.0]], [[1.0, 10.0, -1.0]]]])
    assert weight.shape == (2, 2, 1, 3)
    conv2d = keras.layers.Conv2D(
        filters=3, kernel_size=2, padding="SAME", kernel_initializer=keras.initializers.Constant(weight)
    )(image)
    assert tuple(conv2d.shape) == (1, 3, 3, 3)
    feature_maps = np.swapaxes(conv2d, 0, 3)
    base = np.array([[12, 16, 9], [24, 28, 15], [15, 17, 9]])
    got = [np.asarray(feature_map.reshape(3, 3)) for feature_map in feature_maps]
    assert len(got) == 3
    for fm, scale in zip(got, (1, 10, -1)):
        np.testing.assert_array_equal(fm, base * scale)


def test_bad_arguments_give_keras_style_errors():
    with pytest.raises(
        ValueError,
        match=r"Invalid value for argument `filters`. Expected a strictly positive "
        r"value. Received filters=0.",
    ):
        Conv2D(0, 3)
    with pytest.raises(ValueError, match=r"`units`.*Received units=-1"):
        Dense(-1)
    with pytest.raises(TypeError, match=r"`units`.*Received units='10'"):
        Dense("10")
    with pytest.raises(ValueError, match="relux"):
        Dense(3, activation="relux")
    with pytest.raises(ValueError, match="glorot_unifrom"):
        Conv2D(3, 3, kernel_initializer="glorot_unifrom")
    with pytest.raises(ValueError, match=r"`kernel_size`.*Received kernel_size=\(3, 3, 3\)"):
        Conv2D(3, (3, 3, 3))
    with pytest.raises(ValueError, match=r"strides > 1.*dilation_rate > 1"):
        Conv2D(3, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"`rate`.*Received: rate=1.5"):
        Dropout(1.5)


def test_bad_inputs_name_layer_and_shapes():
    conv = Conv2D(4, 3, name="my_conv")
    conv(np.zeros((1, 8, 8, 3), "float32"))
    with pytest.raises(ValueError, match=r'"my_conv".*expected ndim=4, found ndim=3.*\(8, 8, 3\)'):
        conv(np.zeros((8, 8, 3), "float32"))
    with pytest.raises(ValueError, match=r'"my_conv".*axis -1 of input shape to have value 3.*\(1, 8, 8, 1\)'):
        conv(np.zeros((1, 8, 8, 1), "float32"))
    dense = Dense(2, name="my_dense")
    with pytest.raises(ValueError, match=r'"my_dense".*min_ndim=2'):
        dense(np.zeros((3,), "float32"))
    model = Sequential([layers.Input((28, 28, 1)), Conv2D(2, 3)])
    with pytest.raises(ValueError, match=r"expected axis -1.*value 1.*\(None, 28, 28, 3\)"):
        model.layers[0](layers.Input((28, 28, 3)))


def test_set_weights_errors_name_layer():
    conv = Conv2D(4, 3, name="c")
    conv(np.zeros((1, 5, 5, 2), "float32"))
    with pytest.raises(ValueError, match=r"layer 'c'.*length 1.*expecting 2"):
        conv.set_weights([np.zeros((3, 3, 2, 4))])
    with pytest.raises(ValueError, match=r"'c' weight 'kernel' has shape \(3, 3, 2, 4\).*\(4, 2, 3, 3\)"):
        conv.set_weights([np.zeros((4, 2, 3, 3)), np.zeros(4)])
    before = conv.get_weights()
    np.testing.assert_array_equal(conv.get_weights()[0], before[0])  # a failed set_weights changed nothing


def test_flatten_is_channels_last_so_keras_dense_weights_port():
    x = np.arange(2 * 3 * 2 * 4, dtype="float32").reshape(2, 3, 2, 4)
    np.testing.assert_array_equal(Flatten()(x).numpy(), x.reshape(2, -1))
    np.testing.assert_array_equal(
        Flatten(data_format="channels_first")(x.transpose(0, 3, 1, 2)).numpy(), x.reshape(2, -1)
    )


def test_dropout_uses_seeded_torch_rng_and_is_identity_in_inference():
    x = torch.ones(4, 1000)
    layer = Dropout(0.3)
    np.testing.assert_array_equal(layer(x).numpy() if not layer(x).requires_grad else layer(x).detach().numpy(), 1)
    strided.set_random_seed(5)
    a = layer(x, training=True).detach().numpy()
    strided.set_random_seed(5)
    b = layer(x, training=True).detach().numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.7)}
    assert 0.25 < (a == 0).mean() < 0.35
