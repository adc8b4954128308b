"""The seed documents' code cells, run on strided with only their import lines changed.

Each test is one seed's cells in order, copied as the seed writes them (data sets are cut to a few
hundred samples and epochs to one, so the suite stays fast; the full runs are in examples/). Where a
seed cell itself has a typo, the test checks the friendly error strided gives instead.
"""

import numpy as np
import pytest


def test_seed_000_convolutions_and_keras_models():
    # --- imports changed: from keras.models/layers -> strided
    from strided.layers import Conv2D, Dense, Flatten, MaxPool2D
    from strided.models import Sequential

    array = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    kernel = np.array([-1, 1])
    conv = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0])
    for ii in range(8):
        conv[ii] = (kernel * array[ii : ii + 2]).sum()
    assert conv.tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0]

    Conv2D(10, kernel_size=3, activation="relu")
    img_rows, img_cols = 28, 28
    model = Sequential()
    model.add(Conv2D(10, kernel_size=3, activation="relu", input_shape=(img_rows, img_cols, 1)))
    model.add(Flatten())
    model.add(Dense(3, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.RandomState(0)
    train_data = rng.rand(50, 28, 28, 1).astype("float32")
    train_labels = np.eye(3)[rng.randint(0, 3, 50)]
    assert train_data.shape == (50, 28, 28, 1)
    history = model.fit(train_data, train_labels, validation_split=0.2, epochs=3, verbose=0)
    assert len(history.history["val_loss"]) == 3
    test_data, test_labels = train_data[:10], train_labels[:10]
    # The seed's `evaluate(..., epochs=3)` is a typo: evaluate has no epochs.
    with pytest.raises(TypeError, match="epochs"):
        model.evaluate(test_data, test_labels, epochs=3)
    assert len(model.evaluate(test_data, test_labels, verbose=0)) == 2
    # The seed's misplaced `padding=` goes to model.add(): one friendly error.
    with pytest.raises(TypeError, match=r"inside the layer's parentheses.*padding='same'"):
        model.add(Conv2D(10, kernel_size=3, activation="relu", input_shape=(img_rows, img_cols, 1)), padding="same")
    with pytest.raises(ValueError, match="Did you mean padding='same'"):
        Conv2D(10, kernel_size=2, activation="relu", input_shape=(img_rows, img_cols, 1), padding="equal")
    with pytest.raises(TypeError, match="padding"):
        Dense(5, activation="relu", input_shape=(784,), padding="same")

    model = Sequential()
    model.add(Dense(10, activation="relu", input_shape=(784,)))
    model.add(Dense(10, activation="relu"))
    model.add(Dense(3, activation="softmax"))
    assert model.count_params() == 7993
    model = Sequential()
    model.add(Conv2D(5, kernel_size=3, activation="relu", input_shape=(img_rows, img_cols, 1)))
    model.add(MaxPool2D(2))
    model.add(Conv2D(15, kernel_size=3, activation="relu", input_shape=(img_rows, img_cols, 1)))
    model.add(MaxPool2D(2))
    model.add(Flatten())
    model.add(Dense(3, activation="softmax"))
    assert [l.output.shape for l in model.layers][:4] == [
        (None, 26, 26, 5),
        (None, 13, 13, 5),
        (None, 11, 11, 15),
        (None, 5, 5, 15),
    ]
    assert model.layers[-1].count_params() == 1128


def test_seed_001_mnist_kernel_matching():
    import strided as tf  # noqa: F401  (was: import tensorflow as tf)
    import strided.keras as keras
    import strided.keras.layers as layers
    import strided.keras.losses as losses
    import strided.keras.models as models
    import strided.keras.optimizers as optimizers

    dataset = keras.datasets.mnist.load_data()
    (x_train, y_train), (x_test, y_test) = dataset
    x_train = x_train / 255.0
    x_test = x_test / 255.0
    x0 = x_train[0]
    (c0, c1), (r0, r1) = (5, 10), (20, 25)
    kernel = x0[r0:r1, c0:c1]

    def conv2d(image, kernel):
        (w_i, h_i) = image.shape
        (w_k, h_k) = kernel.shape
        w, h = (w_i - w_k + 1), (h_i - h_k + 1)
        result = np.zeros((w, h))
        for i in range(w):
            for j in range(h):
                region = image[i : i + w_k, j : j + h_k]
                result[i, j] = np.sum(region * kernel)
        return result

    result = conv2d(x0, kernel)
    conv2d = layers.Conv2D(filters=1, kernel_size=kernel.shape)
    output = conv2d(x0.reshape(1, 28, 28, 1))
    assert tuple(output.shape) == (1, 24, 24, 1)
    (kernel_parameter, bias_parameter) = conv2d.get_weights()
    assert kernel_parameter.shape == (5, 5, 1, 1) and bias_parameter.shape == (1,)
    conv2d.set_weights([kernel.reshape(5, 5, 1, 1), np.array([0])])
    output = conv2d(x0.reshape(1, 28, 28, 1))
    np.testing.assert_allclose(output.numpy().squeeze(), result, rtol=1e-5, atol=1e-5)
    conv2d_padded = layers.Conv2D(filters=1, kernel_size=kernel.shape, padding="same")
    output = conv2d_padded(x0.reshape(1, 28, 28, 1))
    assert tuple(output.shape) == (1, 28, 28, 1)
    maxpooling = layers.MaxPooling2D(pool_size=(2, 2))
    output1 = conv2d(x0.reshape(1, 28, 28, 1)).numpy()
    output2 = maxpooling(output1).numpy()
    assert output2.shape == (1, 12, 12, 1)
    np.testing.assert_allclose(output2[0, 3, 4, 0], output1[0, 6:8, 8:10, 0].max(), rtol=1e-6)

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
    model.compile(loss=losses.SparseCategoricalCrossentropy(), optimizer=optimizers.Adam(), metrics=["acc"])
    history = model.fit(x_train[:2000], y_train[:2000], epochs=1, verbose=0)
    assert list(history.history) == ["loss", "acc"]
    loss, acc = model.evaluate(x_test[:500], y_test[:500], verbose=0)
    assert acc > 0.7  # 2,000 images, one epoch; the full run (examples/) reaches >= 98.2%


def test_seed_002_malaria_model_visualisation_and_applications():
    from strided import Model
    from strided import Sequential
    import strided as keras
    import strided as tf
    from strided.callbacks import EarlyStopping
    from strided.layers import AveragePooling2D, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from strided.preprocessing.image import ImageDataGenerator

    W = np.array([[0, 1, 0], [0, 1, 0], [0, 1, 0]])
    ny = np.random.RandomState(0).rand(40, 50) * 255
    ny4D = np.array([ny.reshape(ny.shape[0], ny.shape[1], 1)])
    W4d = W.reshape(W.shape[0], W.shape[0], 1, 1)
    ny_convolved = tf.nn.conv2d(ny4D, W4d, strides=1, padding="SAME")
    np.testing.assert_allclose(np.asarray(ny_convolved[0, 5, 7, 0]), ny[4:7, 7].sum(), rtol=1e-9)

    idg = ImageDataGenerator(
        rotation_range=30,
        zoom_range=0.15,
        width_shift_range=0.2,
        height_shift_range=0.2,
        shear_range=0.15,
        horizontal_flip=True,
        fill_mode="nearest",
    )
    ny_generator = idg.flow(ny4D, batch_size=1)
    nys = [ny_generator.next() for i in range(10)]
    assert nys[0].shape == (1, 40, 50, 1)

    rng = np.random.RandomState(1)
    X_train = rng.rand(200, 100, 100, 3).astype(np.float32)
    y_train = rng.randint(0, 2, 200)
    X_test, y_test = X_train[:50], y_train[:50]
    model = Sequential()
    model.add(
        Conv2D(filters=32, input_shape=(X_train.shape[1:]), kernel_size=(3, 3), padding="same", activation="relu")
    )
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(64, kernel_size=(3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dropout(0.5))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    assert model.count_params() == 56257
    callbacks = [EarlyStopping(monitor="val_loss", patience=5)]
    history = model.fit(
        X_train, y_train, batch_size=100, epochs=2, validation_split=0.1, callbacks=callbacks, verbose=0
    )
    import pandas as pd

    assert list(pd.DataFrame(history.history).columns) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    y_pred = (model.predict(X_test, verbose=0) > 0.5).astype(int).reshape(y_test.shape)
    assert 0 <= np.mean(y_pred == y_test) <= 1
    W, b = (
        model.get_layer("conv2d").get_weights() if model.layers[0].name == "conv2d" else model.layers[0].get_weights()
    )
    assert W.shape == (3, 3, 3, 32) and W[:, :, 0, 0].shape == (3, 3)
    cell = X_test[0, :, :, :].reshape(1, 100, 100, 3)
    model_1layer = Model(inputs=model.inputs, outputs=model.layers[0].output)
    feature_maps = model_1layer.predict(cell)
    assert feature_maps.shape == (1, 100, 100, 32)

    model = keras.Sequential()
    model.add(Conv2D(filters=6, kernel_size=(3, 3), activation="relu", input_shape=(32, 32, 1)))
    model.add(AveragePooling2D())
    model.add(Conv2D(16, kernel_size=(3, 3), activation="relu"))
    model.add(AveragePooling2D())
    model.add(Flatten())
    model.add(Dense(120, activation="relu"))
    model.add(Dense(84, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    assert model.output_shape == (None, 10) and model.count_params() == 81194

    from strided.applications.resnet50 import decode_predictions, preprocess_input

    johann = np.random.RandomState(2).rand(224, 224, 3).reshape(1, 224, 224, 3) * 255
    johann = preprocess_input(johann)
    assert johann.shape == (1, 224, 224, 3)
    johann_pred = np.zeros((1, 1000))
    johann_pred[0, 250] = 0.9  # ImageNet class 250 is the husky of the seed's example
    johann_breed = decode_predictions(johann_pred, top=5)
    assert johann_breed[0][0][1] == "Siberian_husky"


def test_seed_003_tf_style_convolution():
    import strided as tf
    from strided import keras

    tf.enable_eager_execution()
    assert tf.__version__ and keras.__version__
    image = tf.constant([[[[1], [2], [3]], [[4], [5], [6]], [[7], [8], [9]]]], dtype=np.float32)
    assert tuple(image.shape) == (1, 3, 3, 1)
    assert image.numpy().reshape(3, 3)[2, 2] == 9
    weight = np.array([[[[1.0]], [[1.0]]], [[[1.0]], [[1.0]]]])
    weight_init = tf.constant_initializer(weight)
    conv2d = keras.layers.Conv2D(filters=1, kernel_size=2, padding="VALID", kernel_initializer=weight_init)(image)
    assert tuple(conv2d.shape) == (1, 2, 2, 1)
    np.testing.assert_array_equal(conv2d.numpy().reshape(2, 2), [[12, 16], [24, 28]])
    conv2d = keras.layers.Conv2D(filters=1, kernel_size=2, padding="SAME", kernel_initializer=weight_init)(image)
    np.testing.assert_array_equal(conv2d.numpy().reshape(3, 3), [[12, 16, 9], [24, 28, 15], [15, 17, 9]])
    weight = np.array([[[[1.0, 10.0, -1.0]], [[1.0, 10.0, -1.0]]], [[[1.0, 10.0, -1.0]], [[1.0, 10.0, -1.0]]]])
    weight_init = tf.constant_initializer(weight)
    conv2d = keras.layers.Conv2D(filters=3, kernel_size=2, padding="SAME", kernel_initializer=weight_init)(image)
    feature_maps = np.swapaxes(conv2d, 0, 3)
    maps = [feature_map.reshape(3, 3) for feature_map in feature_maps]
    np.testing.assert_array_equal(maps[1], 10 * np.array([[12, 16, 9], [24, 28, 15], [15, 17, 9]]))
    np.testing.assert_array_equal(maps[2], -np.array([[12, 16, 9], [24, 28, 15], [15, 17, 9]]))


def test_seed_004_chollet_convnet():
    from strided import layers, models
    from strided.datasets import mnist
    from strided.utils import to_categorical

    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    assert model.count_params() == 55744
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    assert model.count_params() == 93322
    (train_images, train_labels), (test_images, test_labels) = mnist.load_data()
    train_images = train_images.reshape((60000, 28, 28, 1))
    train_images = train_images.astype("float32") / 255
    test_images = test_images.reshape((10000, 28, 28, 1))
    test_images = test_images.astype("float32") / 255
    train_labels = to_categorical(train_labels)
    test_labels = to_categorical(test_labels)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(train_images[:3000], train_labels[:3000], epochs=1, batch_size=64, verbose=0)
    test_loss, test_acc = model.evaluate(test_images[:1000], test_labels[:1000], verbose=0)
    assert test_acc > 0.8  # 3,000 images, one epoch; the full 5 epochs (examples/) reach >= 99.0%

    model_no_max_pool = models.Sequential()
    model_no_max_pool.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model_no_max_pool.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model_no_max_pool.add(layers.Conv2D(64, (3, 3), activation="relu"))
    assert model_no_max_pool.output_shape == (None, 22, 22, 64) and model_no_max_pool.count_params() == 55744
