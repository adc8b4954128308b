"""Short programs of our own, each following one Keras 3 guide or keras.io example (issue 19).

Every program is a function ``program(keras)`` using the API surface its guide uses, the way the guide uses
it, at quick sizes on synthetic offline data. It runs against ``strided`` (``import strided as keras``) and
against real Keras 3 on the torch backend; where the guide uses ``tf.data``, the program asks
:func:`tf_data` for it (``strided.data`` on strided, TensorFlow's on Keras). Each program checks what it
computes with asserts and returns nothing.

``PROGRAMS`` lists ``(name, guide, function)``; tests/test_real_programs.py runs them and
tools/real_programs_table.py writes the table of docs/keras_compat.md.
"""

import os
import tempfile

import numpy as np
import torch


def tf_data(keras):
    """The ``tf.data`` module a program uses: ``strided.data`` on strided, TensorFlow's on Keras."""
    if keras.__name__.split(".")[0] == "strided":
        return keras.data
    import tensorflow as tf  # Keras's own datasets are tf.data pipelines

    return tf.data


def _rng(seed=0):
    return np.random.RandomState(seed)


def _image_folder(classes=("cat", "dog"), per_class=6, size=20, seed=0):
    """A folder of small PNG images, one subfolder per class (as the keras.io image examples download)."""
    from PIL import Image

    root = tempfile.mkdtemp(prefix="strided_programs_")
    rng = _rng(seed)
    for k, name in enumerate(classes):
        os.makedirs(os.path.join(root, name))
        for i in range(per_class):
            pixels = (rng.rand(size, size, 3) * 100 + 120 * k).clip(0, 255).astype("uint8")
            Image.fromarray(pixels).save(os.path.join(root, name, f"{i}.png"))
    return root


# ============================================================================================ guides
def sequential_model(keras):
    """guides/sequential_model.py: incremental add/pop, summary, feature extraction, freezing for transfer."""
    layers = keras.layers
    model = keras.Sequential()
    model.add(keras.Input(shape=(16, 16, 3)))
    model.add(layers.Conv2D(4, 3, strides=2, activation="relu"))
    model.add(layers.Conv2D(4, 3, activation="relu"))
    model.add(layers.MaxPooling2D(2))
    model.add(layers.Dense(2))
    model.pop()
    assert len(model.layers) == 3
    model.add(layers.GlobalMaxPooling2D())
    model.add(layers.Dense(3))
    lines = []
    model.summary(print_fn=lambda line, **kw: lines.append(line))
    assert any("Total params" in line for line in lines)
    extractor = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    features = extractor(np.ones((2, 16, 16, 3), "float32"))
    assert len(features) == 5 and tuple(features[-1].shape) == (2, 3)
    for layer in model.layers[:-1]:
        layer.trainable = False
    assert len(model.trainable_weights) == 2
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    frozen = model.layers[0].get_weights()[0].copy()
    model.fit(_rng().rand(8, 16, 16, 3).astype("float32"), np.arange(8) % 3, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], frozen)


def functional_multi_io(keras):
    """guides/functional_api.py: a multi-input, multi-output ticket model fit on dicts keyed by Input names."""
    layers = keras.layers
    title_in = keras.Input(shape=(None,), name="title")
    body_in = keras.Input(shape=(None,), name="body")
    tags_in = keras.Input(shape=(5,), name="tags")
    title = layers.LSTM(8)(layers.Embedding(50, 8)(title_in))
    body = layers.LSTM(4)(layers.Embedding(50, 8)(body_in))
    x = layers.concatenate([title, body, tags_in])
    priority = layers.Dense(1, name="priority")(x)
    department = layers.Dense(3, name="department")(x)
    model = keras.Model(inputs=[title_in, body_in, tags_in], outputs={"priority": priority, "department": department})
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )
    rng = _rng()
    data = {
        "title": rng.randint(50, size=(16, 6)),
        "body": rng.randint(50, size=(16, 9)),
        "tags": rng.randint(2, size=(16, 5)).astype("float32"),
    }
    targets = {"priority": rng.rand(16, 1), "department": np.eye(3)[rng.randint(3, size=16)]}
    history = model.fit(data, targets, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def functional_save_reload(keras):
    """guides/functional_api.py: save a model compiled with loss/metric objects, reload it with load_model."""
    layers = keras.layers
    inputs = keras.Input(shape=(12,))
    x = layers.Dense(16, activation="relu")(inputs)
    outputs = layers.Dense(4)(layers.Dense(8, activation="relu")(x))
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    x_train, y_train = _rng().rand(32, 12).astype("float32"), np.arange(32) % 4
    model.fit(x_train, y_train, batch_size=8, epochs=1, validation_split=0.25, verbose=0)
    path = os.path.join(tempfile.mkdtemp(), "my_model.keras")
    model.save(path)
    del model
    model = keras.models.load_model(path)
    loss, acc = model.evaluate(x_train, y_train, verbose=0)
    assert np.isfinite(loss) and 0 <= acc <= 1
    model.fit(x_train, y_train, epochs=1, verbose=0)


def functional_toy_resnet(keras):
    """guides/functional_api.py: a toy ResNet (skip connections with add), shared layers, reused graphs."""
    layers = keras.layers
    inputs = keras.Input(shape=(16, 16, 3), name="img")
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    block_1 = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(block_1)
    block_2 = layers.add([x, block_1])
    x = layers.GlobalAveragePooling2D()(block_2)
    outputs = layers.Dense(5)(layers.Dropout(0.5)(x))
    model = keras.Model(inputs, outputs, name="toy_resnet")
    shared = layers.Embedding(100, 4)
    a, b = keras.Input(shape=(None,), dtype="int32"), keras.Input(shape=(None,), dtype="int32")
    assert tuple(shared(a).shape)[-1] == tuple(shared(b).shape)[-1] == 4
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["acc"],
    )
    x_train = _rng().rand(12, 16, 16, 3).astype("float32")
    y_train = keras.utils.to_categorical(np.arange(12) % 5, 5)
    model.fit(x_train, y_train, batch_size=4, epochs=1, validation_split=0.25, verbose=0)
    nested = keras.Model(inputs, model(inputs))  # a model called like a layer
    assert nested.predict(x_train, verbose=0).shape == (12, 5)


def subclassing_layers(keras):
    """guides/making_new_layers_and_models_via_subclassing.py: add_weight, lazy build, non-trainable weights,
    nested layers, get_config, add_loss cleared per outermost call."""
    layers, ops = keras.layers, keras.ops

    class Linear(layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    class ComputeSum(layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

        def call(self, inputs):
            self.total.assign_add(ops.sum(inputs, axis=0))
            return self.total

    class ActivityRegularizationLayer(layers.Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.mean(inputs))
            return inputs

    class OuterLayer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.activity_reg = ActivityRegularizationLayer(1e-2)

        def call(self, inputs):
            return self.activity_reg(inputs)

    linear = Linear(4)
    y = linear(ops.ones((2, 2)))
    assert tuple(y.shape) == (2, 4) and len(linear.weights) == 2
    restored = Linear.from_config(linear.get_config())
    assert restored.units == 4
    summer = ComputeSum(2)
    summer(ops.ones((2, 2)))
    out = summer(ops.ones((2, 2)))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), [4.0, 4.0])
    assert len(summer.weights) == 1 and len(summer.trainable_weights) == 0
    layer = OuterLayer()
    assert len(layer.losses) == 0
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1
    _ = layer(ops.zeros((1, 1)))
    assert len(layer.losses) == 1  # the losses of the previous call are gone


def subclassing_vae(keras):
    """guides/making_new_layers_and_models_via_subclassing.py: a VAE model with add_loss, trained with fit."""
    layers, ops = keras.layers, keras.ops

    class Sampling(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            epsilon = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    class Encoder(layers.Layer):
        def __init__(self, latent_dim=2, intermediate_dim=16, **kwargs):
            super().__init__(**kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_mean = layers.Dense(latent_dim)
            self.dense_log_var = layers.Dense(latent_dim)
            self.sampling = Sampling()

        def call(self, inputs):
            x = self.dense_proj(inputs)
            z_mean, z_log_var = self.dense_mean(x), self.dense_log_var(x)
            return z_mean, z_log_var, self.sampling((z_mean, z_log_var))

    class VariationalAutoEncoder(keras.Model):
        def __init__(self, original_dim, **kwargs):
            super().__init__(**kwargs)
            self.encoder = Encoder()
            self.decoder = layers.Dense(original_dim, activation="sigmoid")

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            reconstructed = self.decoder(z)
            kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
            self.add_loss(kl_loss)
            return reconstructed

    vae = VariationalAutoEncoder(24)
    vae.compile(keras.optimizers.Adam(learning_rate=1e-3), loss=keras.losses.MeanSquaredError())
    x_train = _rng().rand(64, 24).astype("float32")
    history = vae.fit(x_train, x_train, epochs=2, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert len(vae.losses) == 1


def builtin_custom_losses_metrics(keras):
    """guides/training_with_built_in_methods.py: a custom loss function, a Loss subclass, and a Metric
    subclass whose state comes from add_variable and is updated with assign_add."""
    layers, ops = keras.layers, keras.ops

    def custom_mean_squared_error(y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1)

    class CustomMSE(keras.losses.Loss):
        def __init__(self, regularization_factor=0.1, name="custom_mse"):
            super().__init__(name=name)
            self.regularization_factor = regularization_factor

        def call(self, y_true, y_pred):
            mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
            reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
            return mse + reg * self.regularization_factor

    class CategoricalTruePositives(keras.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
            values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
            values = ops.cast(values, "float32")
            if sample_weight is not None:
                values = ops.multiply(values, ops.cast(sample_weight, "float32"))
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    inputs = keras.Input(shape=(10,))
    outputs = layers.Dense(4)(layers.Dense(8, activation="relu")(inputs))
    model = keras.Model(inputs, outputs)
    x, y = _rng().rand(32, 10).astype("float32"), np.arange(32) % 4
    y_onehot = keras.utils.to_categorical(y, 4)
    model.compile(optimizer="adam", loss=custom_mean_squared_error)
    model.fit(x, y_onehot, batch_size=8, epochs=1, verbose=0)
    model.compile(optimizer="adam", loss=CustomMSE())
    model.fit(x, y_onehot, batch_size=8, epochs=1, verbose=0)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[CategoricalTruePositives()],
    )
    history = model.fit(x, y.reshape(-1, 1), batch_size=8, epochs=2, verbose=0)
    ctp = history.history["categorical_true_positives"]
    assert all(0 <= v <= 32 for v in ctp)


def builtin_add_loss_layers(keras):
    """guides/training_with_built_in_methods.py: an ActivityRegularizationLayer (add_loss) in a functional
    model, and a LogisticEndpoint layer taking (targets, logits) with a model compiled without a loss."""
    layers, ops = keras.layers, keras.ops

    class ActivityRegularizationLayer(layers.Layer):
        def call(self, inputs):
            self.add_loss(ops.sum(inputs) * 0.1)
            return inputs

    inputs = keras.Input(shape=(8,), name="digits")
    x = layers.Dense(16, activation="relu", name="dense_1")(inputs)
    x = ActivityRegularizationLayer()(x)
    x = layers.Dense(16, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(4, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x_train, y_train = _rng().rand(32, 8).astype("float32"), np.arange(32) % 4
    model.fit(x_train, y_train, batch_size=8, epochs=2, verbose=0)

    class LogisticEndpoint(keras.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            loss = self.loss_fn(targets, logits, sample_weights)
            self.add_loss(loss)
            return ops.softmax(logits)

    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)
    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")  # no loss: it comes from add_loss
    data = {"inputs": _rng().random_sample((6, 3)), "targets": _rng().random_sample((6, 10))}
    history = model.fit(data, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def builtin_weights_and_outputs(keras):
    """guides/training_with_built_in_methods.py: class_weight, sample_weight, validation_split, multi-output
    compile with loss lists, loss_weights and per-output metrics."""
    layers = keras.layers
    inputs = keras.Input(shape=(6,))
    h = layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, layers.Dense(3)(h))
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    x, y = _rng().rand(30, 6).astype("float32"), np.arange(30) % 3
    class_weight = {0: 1.0, 1: 1.0, 2: 2.0}
    model.fit(x, y, class_weight=class_weight, batch_size=10, epochs=1, verbose=0)
    sample_weight = np.ones(len(y))
    sample_weight[y == 2] = 2.0
    history = model.fit(x, y, sample_weight=sample_weight, batch_size=10, epochs=1, validation_split=0.2, verbose=0)
    assert "val_sparse_categorical_accuracy" in history.history
    image_input = keras.Input(shape=(8, 8, 3), name="img_input")
    timeseries_input = keras.Input(shape=(None, 4), name="ts_input")
    x1 = layers.GlobalMaxPooling2D()(layers.Conv2D(3, 3)(image_input))
    x2 = layers.GlobalMaxPooling1D()(layers.Conv1D(3, 3)(timeseries_input))
    x = layers.concatenate([x1, x2])
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)
    model = keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()],
        metrics=[
            [keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
            [keras.metrics.CategoricalAccuracy()],
        ],
        loss_weights=[1.0, 1.0],
    )
    rng = _rng()
    img_data, ts_data = rng.random_sample((8, 8, 8, 3)), rng.random_sample((8, 6, 4))
    score_targets, class_targets = rng.random_sample((8, 1)), rng.random_sample((8, 5))
    history = model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def builtin_callbacks_and_schedules(keras):
    """guides/training_with_built_in_methods.py: EarlyStopping, ModelCheckpoint, a learning-rate schedule
    object given to the optimizer, and a custom callback collecting per-batch losses."""
    layers = keras.layers

    class LossHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs):
            self.per_batch_losses = []

        def on_batch_end(self, batch, logs):
            self.per_batch_losses.append(logs.get("loss"))

    lr_schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.96, staircase=True)
    model = keras.Sequential([keras.Input((5,)), layers.Dense(8, activation="relu"), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=lr_schedule), loss="mse", metrics=["mae"])
    folder = tempfile.mkdtemp()
    history_cb = LossHistory()
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=1, verbose=0),
        keras.callbacks.ModelCheckpoint(
            filepath=os.path.join(folder, "mymodel_{epoch}.keras"), save_best_only=True, monitor="val_loss", verbose=0
        ),
        history_cb,
    ]
    x, y = _rng().rand(40, 5).astype("float32"), _rng(1).rand(40, 1).astype("float32")
    model.fit(x, y, epochs=4, batch_size=10, callbacks=callbacks, validation_split=0.25, verbose=0)
    assert len(history_cb.per_batch_losses) >= 3
    saved = sorted(os.listdir(folder))
    assert saved and all(name.endswith(".keras") for name in saved)
    keras.models.load_model(os.path.join(folder, saved[0]))


def builtin_tf_data(keras):
    """guides/training_with_built_in_methods.py: training from tf.data Datasets (from_tensor_slices, shuffle,
    batch, a validation dataset, steps_per_epoch)."""
    data = tf_data(keras)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    x, y = _rng().rand(48, 6).astype("float32"), np.arange(48) % 3
    train_dataset = data.Dataset.from_tensor_slices((x, y)).shuffle(buffer_size=48).batch(8)
    val_dataset = data.Dataset.from_tensor_slices((x[:16], y[:16])).batch(8)
    history = model.fit(train_dataset, epochs=2, validation_data=val_dataset, verbose=0)
    assert len(history.history["val_loss"]) == 2
    model.fit(train_dataset.repeat(), epochs=1, steps_per_epoch=3, verbose=0)
    result = model.evaluate(val_dataset, return_dict=True, verbose=0)
    assert set(result) >= {"loss", "sparse_categorical_accuracy"}


def builtin_pydataset(keras):
    """guides/training_with_built_in_methods.py: a keras.utils.PyDataset subclass and a torch DataLoader."""

    class ExamplePyDataset(keras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):
            return int(np.ceil(len(self.x) / float(self.batch_size)))

        def __getitem__(self, idx):
            batch_x = self.x[idx * self.batch_size : (idx + 1) * self.batch_size]
            batch_y = self.y[idx * self.batch_size : (idx + 1) * self.batch_size]
            return batch_x, batch_y

    x, y = _rng().rand(40, 4).astype("float32"), np.arange(40) % 2
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["sparse_categorical_accuracy"],
    )
    train = ExamplePyDataset(x, y, batch_size=16)
    model.fit(train, epochs=1, validation_data=ExamplePyDataset(x[:8], y[:8], batch_size=8), verbose=0)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=16, shuffle=True
    )
    model.fit(loader, epochs=1, verbose=0)
    assert model.predict(train, verbose=0).shape == (40, 2)


def own_callbacks(keras):
    """guides/writing_your_own_callbacks.py: every hook reads logs.keys(); early stopping at the minimal loss
    with get_weights/set_weights; a learning-rate scheduler assigning the optimizer's learning rate."""
    seen = {}

    class CustomCallback(keras.callbacks.Callback):
        def _log(self, hook, logs):
            seen.setdefault(hook, list(logs.keys()))

        def on_train_begin(self, logs=None):
            self._log("on_train_begin", logs)

        def on_train_end(self, logs=None):
            self._log("on_train_end", logs)

        def on_epoch_begin(self, epoch, logs=None):
            self._log("on_epoch_begin", logs)

        def on_epoch_end(self, epoch, logs=None):
            self._log("on_epoch_end", logs)

        def on_test_begin(self, logs=None):
            self._log("on_test_begin", logs)

        def on_test_end(self, logs=None):
            self._log("on_test_end", logs)

        def on_predict_begin(self, logs=None):
            self._log("on_predict_begin", logs)

        def on_predict_end(self, logs=None):
            self._log("on_predict_end", logs)

        def on_train_batch_begin(self, batch, logs=None):
            self._log("on_train_batch_begin", logs)

        def on_train_batch_end(self, batch, logs=None):
            self._log("on_train_batch_end", logs)

        def on_test_batch_begin(self, batch, logs=None):
            self._log("on_test_batch_begin", logs)

        def on_test_batch_end(self, batch, logs=None):
            self._log("on_test_batch_end", logs)

        def on_predict_batch_begin(self, batch, logs=None):
            self._log("on_predict_batch_begin", logs)

        def on_predict_batch_end(self, batch, logs=None):
            self._log("on_predict_batch_end", logs)

    class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
        def __init__(self, patience=0):
            super().__init__()
            self.patience = patience
            self.best_weights = None

        def on_train_begin(self, logs=None):
            self.wait, self.stopped_epoch, self.best = 0, 0, np.inf

        def on_epoch_end(self, epoch, logs=None):
            current = logs.get("loss")
            if np.less(current, self.best):
                self.best, self.wait = current, 0
                self.best_weights = self.model.get_weights()
            else:
                self.wait += 1
                if self.wait >= self.patience:
                    self.stopped_epoch = epoch
                    self.model.stop_training = True
                    self.model.set_weights(self.best_weights)

    class CustomLearningRateScheduler(keras.callbacks.Callback):
        def __init__(self, schedule):
            super().__init__()
            self.schedule = schedule

        def on_epoch_begin(self, epoch, logs=None):
            lr = float(np.array(self.model.optimizer.learning_rate))
            self.model.optimizer.learning_rate = self.schedule(epoch, lr)

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    x, y = _rng().rand(32, 4).astype("float32"), _rng(1).rand(32, 1).astype("float32")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, validation_split=0.5, callbacks=[CustomCallback()])
    model.evaluate(x, y, batch_size=16, verbose=0, callbacks=[CustomCallback()])
    model.predict(x, batch_size=16, verbose=0, callbacks=[CustomCallback()])
    assert len(seen) == 14 and seen["on_train_begin"] == [] and "loss" in seen["on_epoch_end"]
    model.fit(
        x,
        y,
        batch_size=16,
        epochs=6,
        verbose=0,
        callbacks=[
            EarlyStoppingAtMinLoss(patience=1),
            CustomLearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr),
        ],
    )
    assert float(np.array(model.optimizer.learning_rate)) < 0.1


def custom_train_step(keras):
    """guides/custom_train_step_in_torch.py: train_step with compute_loss, zero_grad/backward, v.value.grad,
    optimizer.apply, metrics; a lower-level variant with its own metric trackers; a custom test_step."""

    class CustomModel(keras.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input(shape=(8,))
    model = CustomModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = _rng().random_sample((64, 8)).astype("float32"), _rng(1).random_sample((64, 1)).astype("float32")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(result) == {"loss", "mae"}

    class LowLevelModel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = keras.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    inputs = keras.Input(shape=(8,))
    model = LowLevelModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam")
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "mae"}


def custom_train_step_gan(keras):
    """guides/custom_train_step_in_torch.py: a GAN with a custom compile (two optimizers), a SeedGenerator,
    two backward passes per train_step and Mean trackers in the `metrics` property."""
    layers = keras.layers
    latent_dim = 4
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Conv2D(4, 3, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(4 * 4 * 4),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((4, 4, 4)),
            layers.Conv2DTranspose(4, 4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator, self.generator, self.latent_dim = discriminator, generator, latent_dim
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.seed_generator = keras.random.SeedGenerator(1337)
            self.built = True

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

        def train_step(self, real_images):
            if isinstance(real_images, (tuple, list)):  # a DataLoader of a TensorDataset yields [images]
                real_images = real_images[0]
            batch_size = real_images.shape[0]
            noise = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
            generated_images = self.generator(noise)
            real_images = torch.as_tensor(real_images).to(generated_images.device)
            combined_images = torch.concat([generated_images, real_images], axis=0)
            labels = torch.concat([torch.ones((batch_size, 1)), torch.zeros((batch_size, 1))], axis=0)
            labels = labels.to(combined_images.device)
            labels += 0.05 * keras.random.uniform(labels.shape, seed=self.seed_generator)
            self.zero_grad()
            d_loss = self.loss_fn(labels, self.discriminator(combined_images))
            d_loss.backward()
            grads = [v.value.grad for v in self.discriminator.trainable_weights]
            with torch.no_grad():
                self.d_optimizer.apply(grads, self.discriminator.trainable_weights)
            noise = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
            misleading_labels = torch.zeros((batch_size, 1)).to(combined_images.device)
            self.zero_grad()
            g_loss = self.loss_fn(misleading_labels, self.discriminator(self.generator(noise)))
            g_loss.backward()
            grads = [v.value.grad for v in self.generator.trainable_weights]
            with torch.no_grad():
                self.g_optimizer.apply(grads, self.generator.trainable_weights)
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=3e-4),
        g_optimizer=keras.optimizers.Adam(learning_rate=3e-4),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    images = _rng().rand(32, 8, 8, 1).astype("float32")
    dataloader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(images)), batch_size=8, shuffle=True
    )
    history = gan.fit(dataloader, epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss"} and np.isfinite(history.history["d_loss"]).all()


def custom_training_loop(keras):
    """guides/writing_a_custom_training_loop_in_torch.py: a loop with loss.backward(), optimizer.apply,
    metric update_state/result/reset_state, and a validation loop."""
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3)])
    optimizer = keras.optimizers.Adam(learning_rate=1e-2)
    loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.CategoricalAccuracy()
    val_acc_metric = keras.metrics.CategoricalAccuracy()
    x = _rng().rand(64, 6).astype("float32")
    y = keras.utils.to_categorical(x.argmax(axis=1) % 3, 3)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    train_dataloader = torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=True)
    losses = []
    for epoch in range(3):
        for step, (inputs, targets) in enumerate(train_dataloader):
            logits = model(inputs)
            loss = loss_fn(targets, logits)
            model.zero_grad()
            loss.backward()
            trainable_weights = [v for v in model.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                optimizer.apply(gradients, trainable_weights)
            train_acc_metric.update_state(targets, logits)
            losses.append(float(loss.detach().cpu()))
        train_acc = float(train_acc_metric.result())
        assert 0.0 <= train_acc <= 1.0
        train_acc_metric.reset_state()
        for inputs, targets in train_dataloader:
            val_acc_metric.update_state(targets, model(inputs, training=False))
        val_acc_metric.reset_state()
    assert np.mean(losses[-4:]) < np.mean(losses[:4])
    assert optimizer.iterations.numpy() == 12 if hasattr(optimizer.iterations, "numpy") else True


def transfer_learning(keras):
    """guides/transfer_learning.py: trainable flags (weights moving between lists, recursively), a frozen
    base called with training=False, then fine-tuning after unfreezing and recompiling."""
    layers = keras.layers
    layer = layers.BatchNormalization()
    layer.build((None, 4))
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2
    dense = layers.Dense(3)
    dense.build((None, 4))
    dense.trainable = False
    assert len(dense.trainable_weights) == 0 and len(dense.non_trainable_weights) == 2
    inner = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(3, activation="relu")])
    outer = keras.Sequential([keras.Input(shape=(3,)), inner, layers.Dense(3, activation="sigmoid")])
    outer.trainable = False
    assert inner.trainable_weights == []

    base_model = keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            layers.Conv2D(4, 3),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.GlobalAveragePooling2D(),
        ],
        name="base",
    )
    base_model.trainable = False
    inputs = keras.Input(shape=(12, 12, 3))
    scale_layer = keras.layers.Rescaling(scale=1 / 127.5, offset=-1)
    x = base_model(scale_layer(inputs), training=False)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    x_train = (_rng().rand(16, 12, 12, 3) * 255).astype("float32")
    y_train = (np.arange(16) % 2).astype("float32")
    frozen = [w.copy() for w in base_model.get_weights()]
    model.fit(x_train, y_train, epochs=1, batch_size=8, verbose=0)
    for before, after in zip(frozen, base_model.get_weights()):
        np.testing.assert_array_equal(before, after)  # moving statistics included: inference mode
    base_model.trainable = True
    model.compile(
        optimizer=keras.optimizers.Adam(1e-5),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    model.fit(x_train, y_train, epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(frozen[0], base_model.get_weights()[0])


def transfer_learning_application(keras):
    """guides/transfer_learning.py with a keras.applications backbone: weights=None, include_top=False,
    the base frozen, a new head, then the top layers unfrozen for fine-tuning."""
    base_model = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), include_top=False, alpha=0.35)
    base_model.trainable = False
    inputs = keras.Input(shape=(32, 32, 3))
    x = base_model(inputs, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2)(x)
    model = keras.Model(inputs, outputs)
    assert len(model.trainable_weights) == 2
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x_train, y_train = _rng().rand(4, 32, 32, 3).astype("float32"), np.array([0, 1, 0, 1])
    model.fit(x_train, y_train, epochs=1, verbose=0)
    base_model.trainable = True
    for layer in base_model.layers[:-10]:
        layer.trainable = False
    assert 2 < len(model.trainable_weights) < len(model.weights)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-5), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.fit(x_train, y_train, epochs=1, verbose=0)


def masking_and_padding(keras):
    """guides/understanding_masking_and_padding.py: pad_sequences, Embedding(mask_zero=True), compute_mask,
    masks flowing into an LSTM, and a custom layer that supports masking."""
    layers, ops = keras.layers, keras.ops
    raw_inputs = [[711, 632, 71], [73, 8, 3215, 55, 927], [83, 91, 1, 645, 1253, 927]]
    padded_inputs = keras.utils.pad_sequences(raw_inputs, padding="post")
    assert padded_inputs.shape == (3, 6) and padded_inputs[0, -1] == 0
    embedding = layers.Embedding(input_dim=5000, output_dim=8, mask_zero=True)
    mask = embedding.compute_mask(padded_inputs)
    np.testing.assert_array_equal(ops.convert_to_numpy(mask), padded_inputs != 0)

    class MyActivation(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):
            return ops.relu(inputs)

    class TemporalSoftmax(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None
            broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
            inputs_exp = ops.exp(inputs) * broadcast_float_mask
            inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1, keepdims=True)
            return inputs_exp / inputs_sum

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    x = MyActivation()(x)
    x = layers.Dense(1)(x)
    outputs = TemporalSoftmax()(x)
    model = keras.Model(inputs, outputs)
    y = model(padded_inputs)
    assert tuple(y.shape) == (3, 6, 1)
    lstm_in = keras.Input(shape=(None,), dtype="int32")
    h = layers.LSTM(4)(layers.Embedding(input_dim=5000, output_dim=8, mask_zero=True)(lstm_in))
    lstm_model = keras.Model(lstm_in, layers.Dense(1)(h))
    lstm_model.compile(optimizer="adam", loss="mse")
    lstm_model.fit(padded_inputs, np.ones((3, 1)), epochs=1, verbose=0)
    short = lstm_model.predict(keras.utils.pad_sequences([[711, 632, 71]], maxlen=6, padding="post"), verbose=0)
    unpadded = lstm_model.predict(np.array([[711, 632, 71]]), verbose=0)
    np.testing.assert_allclose(short, unpadded, rtol=1e-4, atol=1e-5)  # the padding is masked


# ============================================================================================ keras.io examples
def mnist_convnet(keras):
    """examples/vision/mnist_convnet.py: to_categorical, a small convnet, fit with validation_split, evaluate."""
    layers = keras.layers
    num_classes, input_shape = 10, (28, 28, 1)
    x_train = _rng().rand(40, 28, 28).astype("float32")
    y_train = np.arange(40) % 10
    x_train = np.expand_dims(x_train, -1)
    y_train = keras.utils.to_categorical(y_train, num_classes)
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=16, epochs=2, validation_split=0.1, verbose=0)
    score = model.evaluate(x_train, y_train, verbose=0)
    assert len(score) == 2 and np.isfinite(score[0])


def image_classification_from_scratch(keras):
    """examples/vision/image_classification_from_scratch.py: image_dataset_from_directory, an augmentation
    function mapped with num_parallel_calls=AUTOTUNE, prefetch, Rescaling, SeparableConv2D residual blocks."""
    data = tf_data(keras)
    layers = keras.layers
    root = _image_folder()
    train_ds, val_ds = keras.utils.image_dataset_from_directory(
        root, validation_split=0.25, subset="both", seed=1337, image_size=(16, 16), batch_size=4
    )
    assert train_ds.class_names == ["cat", "dog"]
    data_augmentation_layers = [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)]

    def data_augmentation(images):
        for layer in data_augmentation_layers:
            images = layer(images)
        return images

    for images, _ in train_ds.take(1):
        augmented = data_augmentation(images)
        assert tuple(augmented.shape)[1:] == (16, 16, 3)
    train_ds = train_ds.map(lambda img, label: (data_augmentation(img), label), num_parallel_calls=data.AUTOTUNE)
    train_ds = train_ds.prefetch(data.AUTOTUNE)
    val_ds = val_ds.prefetch(data.AUTOTUNE)

    inputs = keras.Input(shape=(16, 16, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(8, 3, strides=2, padding="same")(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    previous_block_activation = x
    for size in [8, 16]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])
        previous_block_activation = x
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(1, activation=None)(layers.Dropout(0.25)(x))
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(3e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(name="acc")],
    )
    history = model.fit(train_ds, epochs=1, validation_data=val_ds, verbose=0)
    assert "val_acc" in history.history
    img = keras.utils.load_img(os.path.join(root, "cat", "0.png"), target_size=(16, 16))
    img_array = keras.ops.expand_dims(keras.utils.img_to_array(img), 0)
    score = float(keras.ops.sigmoid(model.predict(img_array, verbose=0)[0][0]))
    assert 0.0 <= score <= 1.0


def knowledge_distillation(keras):
    """examples/vision/knowledge_distillation.py: a Distiller whose compute_loss override has no `training`
    argument, a custom compile, and a teacher called with training=False."""
    layers, ops = keras.layers, keras.ops

    class Distiller(keras.Model):
        def __init__(self, student, teacher):
            super().__init__()
            self.teacher, self.student = teacher, student

        def compile(self, optimizer, metrics, student_loss_fn, distillation_loss_fn, alpha=0.1, temperature=3):
            super().compile(optimizer=optimizer, metrics=metrics)
            self.student_loss_fn, self.distillation_loss_fn = student_loss_fn, distillation_loss_fn
            self.alpha, self.temperature = alpha, temperature

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False):
            teacher_pred = self.teacher(x, training=False)
            student_loss = self.student_loss_fn(y, y_pred)
            distillation_loss = self.distillation_loss_fn(
                ops.softmax(teacher_pred / self.temperature, axis=1), ops.softmax(y_pred / self.temperature, axis=1)
            ) * (self.temperature**2)
            return self.alpha * student_loss + (1 - self.alpha) * distillation_loss

        def call(self, x):
            return self.student(x)

    def convnet(filters, name):
        return keras.Sequential(
            [
                keras.Input(shape=(12, 12, 1)),
                layers.Conv2D(filters, (3, 3), strides=(2, 2), padding="same"),
                layers.LeakyReLU(negative_slope=0.2),
                layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
                layers.Flatten(),
                layers.Dense(4),
            ],
            name=name,
        )

    teacher, student = convnet(8, "teacher"), convnet(4, "student")
    x_train = _rng().rand(32, 12, 12, 1).astype("float32")
    y_train = np.arange(32) % 4
    teacher.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    teacher.fit(x_train, y_train, epochs=1, verbose=0)
    distiller = Distiller(student=student, teacher=teacher)
    distiller.compile(
        optimizer=keras.optimizers.Adam(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        student_loss_fn=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        distillation_loss_fn=keras.losses.KLDivergence(),
        alpha=0.1,
        temperature=10,
    )
    history = distiller.fit(x_train, y_train, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    result = distiller.evaluate(x_train, y_train, verbose=0, return_dict=True)
    assert "sparse_categorical_accuracy" in result


def supervised_contrastive_learning(keras):
    """examples/vision/supervised-contrastive-learning.py: a Loss subclass normalizing feature vectors with
    keras.utils.normalize inside the training step, then a classifier on the frozen encoder."""
    layers, ops = keras.layers, keras.ops

    class SupervisedContrastiveLoss(keras.losses.Loss):
        def __init__(self, temperature=1, name=None):
            super().__init__(name=name)
            self.temperature = temperature

        def __call__(self, labels, feature_vectors, sample_weight=None):
            feature_vectors_normalized = keras.utils.normalize(feature_vectors, axis=1, order=2)
            logits = ops.divide(
                ops.matmul(feature_vectors_normalized, ops.transpose(feature_vectors_normalized)), self.temperature
            )
            labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
            same = ops.cast(ops.equal(ops.expand_dims(labels, 0), ops.expand_dims(labels, 1)), "float32")
            targets = same / ops.sum(same, axis=1, keepdims=True)
            return ops.mean(keras.losses.categorical_crossentropy(targets, logits, from_logits=True))

    encoder = keras.Sequential(
        [keras.Input((10,)), layers.Dense(16, activation="relu"), layers.Dense(8)], name="encoder"
    )
    inputs = keras.Input(shape=(10,))
    outputs = layers.Dense(4, activation="relu")(encoder(inputs))
    encoder_with_projection_head = keras.Model(inputs=inputs, outputs=outputs, name="encoder_with_head")
    encoder_with_projection_head.compile(optimizer=keras.optimizers.Adam(1e-3), loss=SupervisedContrastiveLoss(0.05))
    x_train, y_train = _rng().rand(32, 10).astype("float32"), np.arange(32) % 3
    history = encoder_with_projection_head.fit(x=x_train, y=y_train, batch_size=16, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    encoder.trainable = False
    inputs = keras.Input(shape=(10,))
    features = layers.Dropout(0.5)(encoder(inputs))
    classifier = keras.Model(inputs=inputs, outputs=layers.Dense(3, activation="softmax")(features))
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    classifier.fit(x=x_train, y=y_train, batch_size=16, epochs=1, verbose=0)


def mixup(keras):
    """examples/vision/mixup.py: two shuffled tf.data datasets zipped, a mix function sampling from a Beta
    distribution (keras.random.gamma) mapped over the pairs, then fit on the mixed batches."""
    data = tf_data(keras)
    ops = keras.ops
    x = _rng().rand(32, 8, 8, 1).astype("float32")
    y = keras.utils.to_categorical(np.arange(32) % 4, 4)
    train_ds_one = data.Dataset.from_tensor_slices((x, y)).shuffle(32).batch(8)
    train_ds_two = data.Dataset.from_tensor_slices((x, y)).shuffle(32).batch(8)
    train_ds = data.Dataset.zip((train_ds_one, train_ds_two))

    def sample_beta_distribution(size, concentration_0=0.2, concentration_1=0.2):
        gamma_1_sample = keras.random.gamma(shape=[size], alpha=concentration_1)
        gamma_2_sample = keras.random.gamma(shape=[size], alpha=concentration_0)
        return gamma_1_sample / (gamma_1_sample + gamma_2_sample)

    def mix_up(ds_one, ds_two, alpha=0.2):
        images_one, labels_one = ds_one
        images_two, labels_two = ds_two
        batch_size = ops.shape(images_one)[0]
        lam = sample_beta_distribution(batch_size, alpha, alpha)
        x_l = ops.reshape(lam, (batch_size, 1, 1, 1))
        y_l = ops.reshape(lam, (batch_size, 1))
        images = images_one * x_l + images_two * (1 - x_l)
        labels = labels_one * y_l + labels_two * (1 - y_l)
        return (images, labels)

    train_ds_mu = train_ds.map(
        lambda ds_one, ds_two: mix_up(ds_one, ds_two, alpha=0.2), num_parallel_calls=data.AUTOTUNE
    )
    sample_images, sample_labels = next(iter(train_ds_mu.take(1)))
    assert np.allclose(ops.convert_to_numpy(ops.sum(sample_labels, axis=1)), 1.0, atol=1e-5)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(train_ds_mu, epochs=1, verbose=0)


def antirectifier(keras):
    """examples/keras_recipes/antirectifier.py: a custom layer with build/call/get_config, trained, saved and
    reloaded with custom_objects."""
    layers, ops = keras.layers, keras.ops

    class Antirectifier(layers.Layer):
        def __init__(self, initializer="he_normal", **kwargs):
            super().__init__(**kwargs)
            self.initializer = keras.initializers.get(initializer)

        def build(self, input_shape):
            output_dim = input_shape[-1]
            self.kernel = self.add_weight(
                shape=(output_dim * 2, output_dim), initializer=self.initializer, name="kernel", trainable=True
            )

        def call(self, inputs):
            inputs -= ops.mean(inputs, axis=-1, keepdims=True)
            pos = ops.relu(inputs)
            neg = ops.relu(-inputs)
            concatenated = ops.concatenate([pos, neg], axis=-1)
            return ops.matmul(concatenated, self.kernel)

        def get_config(self):
            base_config = super().get_config()
            config = {"initializer": keras.initializers.serialize(self.initializer)}
            return dict(list(base_config.items()) + list(config.items()))

    model = keras.Sequential(
        [
            keras.Input(shape=(12,)),
            layers.Dense(8),
            Antirectifier(),
            layers.Dense(8),
            Antirectifier(),
            layers.Dropout(0.5),
            layers.Dense(4),
        ]
    )
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    x, y = _rng().rand(32, 12).astype("float32"), np.arange(32) % 4
    model.fit(x, y, batch_size=8, epochs=1, validation_split=0.25, verbose=0)
    path = os.path.join(tempfile.mkdtemp(), "antirectifier.keras")
    model.save(path)
    restored = keras.models.load_model(path, custom_objects={"Antirectifier": Antirectifier})
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def endpoint_layer_pattern(keras):
    """examples/keras_recipes/endpoint_layer_pattern.py: a layer computing the loss (add_loss) and a metric from
    (targets, logits), a model compiled without loss, fit on a dict, and an inference model without targets."""
    layers = keras.layers

    class LogisticEndpoint(layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
            self.accuracy_fn = keras.metrics.BinaryAccuracy()

        def call(self, logits, targets=None, sample_weight=None):
            if targets is not None:
                loss = self.loss_fn(targets, logits, sample_weight)
                self.add_loss(loss)
                self.accuracy_fn.update_state(targets, logits, sample_weight)
            return keras.ops.softmax(logits)

    inputs = keras.Input((5,), name="inputs")
    targets = keras.Input((4,), name="targets")
    logits = layers.Dense(4)(inputs)
    predictions = LogisticEndpoint()(logits, targets)
    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")
    rng = _rng()
    data = {
        "inputs": rng.random_sample((12, 5)).astype("float32"),
        "targets": (rng.random_sample((12, 4)) > 0.5).astype("float32"),
    }
    history = model.fit(data, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    inference_model = keras.Model(inputs, LogisticEndpoint()(logits))
    probs = inference_model.predict(data["inputs"], verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def reproducibility(keras):
    """examples/keras_recipes/reproducibility_recipes.py: keras.utils.set_random_seed makes initialisation,
    dropout and shuffling repeat exactly."""

    def train():
        keras.utils.set_random_seed(812)
        model = keras.Sequential(
            [
                keras.Input((6,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dropout(0.3),
                keras.layers.Dense(1),
            ]
        )
        model.compile(optimizer="adam", loss="mse")
        x, y = _rng().rand(32, 6).astype("float32"), _rng(1).rand(32, 1).astype("float32")
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=True, verbose=0)
        return history.history["loss"], model.get_weights()

    loss_a, weights_a = train()
    loss_b, weights_b = train()
    assert loss_a == loss_b
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    keras.utils.set_random_seed(1)
    first = keras.ops.convert_to_numpy(keras.random.uniform((3,)))
    keras.utils.set_random_seed(1)
    np.testing.assert_array_equal(first, keras.ops.convert_to_numpy(keras.random.uniform((3,))))


def imbalanced_classification(keras):
    """examples/structured_data/imbalanced_classification_with_keras.py: Normalization-free float features,
    class_weight from counts, confusion-matrix metrics (FN/FP/TN/TP), Precision and Recall."""
    rng = _rng()
    features = rng.normal(size=(200, 6)).astype("float32")
    targets = (rng.rand(200) < 0.1).astype("float32").reshape(-1, 1)
    counts = np.bincount(targets[:, 0].astype(int))
    mean = np.mean(features, axis=0)
    features = (features - mean) / np.std(features, axis=0)
    model = keras.Sequential(
        [
            keras.Input(shape=features.shape[1:]),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    metrics = [
        keras.metrics.FalseNegatives(name="fn"),
        keras.metrics.FalsePositives(name="fp"),
        keras.metrics.TrueNegatives(name="tn"),
        keras.metrics.TruePositives(name="tp"),
        keras.metrics.Precision(name="precision"),
        keras.metrics.Recall(name="recall"),
    ]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=metrics)
    class_weight = {0: 1.0 / counts[0], 1: 1.0 / counts[1]}
    history = model.fit(
        features,
        targets,
        batch_size=64,
        epochs=2,
        verbose=0,
        class_weight=class_weight,
        validation_data=(features[:50], targets[:50]),
    )
    last = {k: v[-1] for k, v in history.history.items()}
    assert last["fn"] + last["fp"] + last["tn"] + last["tp"] == 200, last
    assert last["val_fn"] + last["val_fp"] + last["val_tn"] + last["val_tp"] == 50


def timeseries_forecasting(keras):
    """examples/timeseries/timeseries_weather_forecasting.py: timeseries_dataset_from_array windows (with a
    sampling_rate), an LSTM regressor, ModelCheckpoint + EarlyStopping, and predictions on a taken batch."""
    series = np.stack([np.sin(np.arange(300) / 7.0), np.cos(np.arange(300) / 11.0)], axis=1).astype("float32")
    past, future, step = 24, 6, 2
    x_train, y_train = series[:200], series[past + future : 200 + past + future, :1]
    dataset_train = keras.utils.timeseries_dataset_from_array(
        x_train, y_train, sequence_length=past // step, sampling_rate=step, batch_size=32
    )
    dataset_val = keras.utils.timeseries_dataset_from_array(
        series[200:260],
        series[200 + past + future :, :1],
        sequence_length=past // step,
        sampling_rate=step,
        batch_size=32,
    )
    for batch in dataset_train.take(1):
        inputs, targets = batch
    assert tuple(inputs.shape)[1:] == (past // step, 2) and tuple(targets.shape)[1:] == (1,)
    model_inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
    lstm_out = keras.layers.LSTM(8)(model_inputs)
    model = keras.Model(inputs=model_inputs, outputs=keras.layers.Dense(1)(lstm_out))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2), loss="mse")
    path = os.path.join(tempfile.mkdtemp(), "model_checkpoint.weights.h5")
    es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=2)
    modelckpt_callback = keras.callbacks.ModelCheckpoint(
        monitor="val_loss", filepath=path, verbose=0, save_weights_only=True, save_best_only=True
    )
    history = model.fit(
        dataset_train, epochs=2, validation_data=dataset_val, callbacks=[es_callback, modelckpt_callback], verbose=0
    )
    assert os.path.exists(path) and len(history.history["val_loss"]) == 2
    for x, y in dataset_val.take(1):
        assert model.predict(x, verbose=0).shape == (len(y), 1)


def text_classification_from_scratch(keras):
    """examples/nlp/text_classification_from_scratch.py: text_dataset_from_directory, a TextVectorization
    layer adapted on text_ds = raw_train_ds.map(lambda x, y: x), vectorized datasets with cache/prefetch."""
    data = tf_data(keras)
    layers = keras.layers
    root = tempfile.mkdtemp(prefix="strided_text_")
    rng = _rng()
    words = {"neg": ["awful", "boring", "bad", "dull"], "pos": ["great", "fun", "good", "moving"]}
    for label, vocab in words.items():
        os.makedirs(os.path.join(root, label))
        for i in range(8):
            text = " ".join(rng.choice(vocab + ["the", "film", "was"], size=8))
            with open(os.path.join(root, label, f"{i}.txt"), "w") as f:
                f.write(text + " <br />")
    raw_train_ds = keras.utils.text_dataset_from_directory(
        root, batch_size=4, validation_split=0.25, subset="training", seed=1337
    )
    raw_val_ds = keras.utils.text_dataset_from_directory(
        root, batch_size=4, validation_split=0.25, subset="validation", seed=1337
    )
    max_features, sequence_length = 50, 10
    vectorize_layer = keras.layers.TextVectorization(
        max_tokens=max_features, output_mode="int", output_sequence_length=sequence_length
    )
    text_ds = raw_train_ds.map(lambda x, y: x)
    vectorize_layer.adapt(text_ds)

    def vectorize_text(text, label):
        return vectorize_layer(text), label

    train_ds = raw_train_ds.map(vectorize_text).cache().prefetch(buffer_size=10)
    val_ds = raw_val_ds.map(vectorize_text).cache().prefetch(buffer_size=10)
    inputs = keras.Input(shape=(sequence_length,), dtype="int64")
    x = layers.Embedding(max_features, 8)(inputs)
    x = layers.Conv1D(8, 3, padding="valid", activation="relu", strides=1)(x)
    x = layers.GlobalMaxPooling1D()(x)
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(layers.Dropout(0.5)(x))
    model = keras.Model(inputs, predictions)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(train_ds, validation_data=val_ds, epochs=2, verbose=0)
    assert len(history.history["val_accuracy"]) == 2
    del data


def train_on_batch_loop(keras):
    """examples/generative/dcgan-style loops and the custom-loop guides: train_on_batch / test_on_batch in a
    Python loop, acting on the values of each batch (Keras 3 returns this batch's values)."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    x, y = _rng().rand(64, 4).astype("float32"), _rng(1).rand(64, 1).astype("float32")
    seen = []
    for step in range(8):
        batch = slice(8 * step, 8 * step + 8)
        loss, mae = model.train_on_batch(x[batch], y[batch])
        seen.append(loss)
        assert np.isfinite(loss) and mae >= 0
    logs = model.test_on_batch(x[:8], y[:8], return_dict=True)
    expected = float(np.mean((model.predict(x[:8], verbose=0) - y[:8]) ** 2))
    assert abs(logs["loss"] - expected) < 1e-5
    # the value of one batch, not a mean over the calls: a repeated batch after training reports its own loss
    again = model.train_on_batch(x[:8], y[:8])[0]
    assert abs(again - expected) < 1e-5


def image_dataset_pipeline(keras):
    """examples/keras_recipes (tf.data pipelines in the image examples): an unbatched directory dataset
    re-batched, mapped with keras.ops resize and one_hot on a thread pool, cached, shuffled, take/skip
    splits, repeat with steps_per_epoch."""
    data = tf_data(keras)
    ops = keras.ops
    root = _image_folder(classes=("a", "b", "c"), per_class=4, size=12)
    ds = keras.utils.image_dataset_from_directory(root, image_size=(12, 12), batch_size=None, shuffle=True, seed=3)
    num_classes = len(ds.class_names)

    def preprocess(image, label):
        image = ops.image.resize(image, (8, 8)) / 255.0
        return image, ops.one_hot(label, num_classes)

    ds = ds.map(preprocess, num_parallel_calls=data.AUTOTUNE).cache()
    val_ds = ds.take(3).batch(3)
    train_ds = ds.skip(3).shuffle(16).batch(3).prefetch(data.AUTOTUNE)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(num_classes),
        ]
    )
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(train_ds, validation_data=val_ds, epochs=2, verbose=0)
    model.fit(train_ds.repeat(), steps_per_epoch=2, epochs=1, verbose=0)
    images, labels = next(iter(val_ds))
    assert tuple(images.shape) == (3, 8, 8, 3) and tuple(labels.shape) == (3, 3)


def subclassing_conv_layers(keras):
    """examples/keras_recipes/subclassing_conv_layers.py: a Conv2D subclass overriding convolution_op to
    standardize its kernel (moments over the kernel axes), trained in a small convnet."""
    ops = keras.ops

    class StandardizedConv2DWithOverride(keras.layers.Conv2D):
        def convolution_op(self, inputs, kernel):
            mean, var = ops.moments(kernel, axes=[0, 1, 2], keepdims=True)
            return ops.conv(
                inputs,
                (kernel - mean) / ops.sqrt(var + 1e-10),
                padding="valid",
                strides=list(self.strides),
                dilation_rate=self.dilation_rate,
            )

    layer = StandardizedConv2DWithOverride(4, 3)
    x = _rng().rand(2, 8, 8, 3).astype("float32")
    y = ops.convert_to_numpy(layer(x))
    kernel = layer.get_weights()[0]
    standardized = (kernel - kernel.mean(axis=(0, 1, 2), keepdims=True)) / np.sqrt(
        kernel.var(axis=(0, 1, 2), keepdims=True) + 1e-10
    )
    plain = keras.layers.Conv2D(4, 3)
    plain.build((None, 8, 8, 3))
    plain.set_weights([standardized, layer.get_weights()[1]])
    np.testing.assert_allclose(y, ops.convert_to_numpy(plain(x)), rtol=1e-4, atol=1e-4)
    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 3)),
            StandardizedConv2DWithOverride(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(_rng().rand(16, 8, 8, 3).astype("float32"), np.arange(16) % 2, batch_size=8, epochs=1, verbose=0)


def grad_cam(keras):
    """examples/vision/grad_cam.py (with torch autograd for the gradient, as on the torch backend): a model from
    the last conv layer's output and the predictions, the class-channel gradients pooled into a heatmap."""
    ops = keras.ops
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv_a")(inputs)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="last_conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, name="predictions")(x))
    model.layers[-1].activation = None
    grad_model = keras.Model(model.inputs, [model.get_layer("last_conv").output, model.output])
    img_array = _rng().rand(1, 16, 16, 3).astype("float32")
    last_conv_layer_output, preds = grad_model(torch.tensor(img_array))
    pred_index = int(ops.convert_to_numpy(ops.argmax(preds[0])))
    class_channel = preds[:, pred_index]
    grads = torch.autograd.grad(class_channel.sum(), last_conv_layer_output)[0]
    pooled_grads = ops.mean(grads, axis=(0, 1, 2))
    heatmap = ops.squeeze(last_conv_layer_output[0] @ pooled_grads[..., None])
    heatmap = ops.maximum(heatmap, 0) / (ops.max(heatmap) + 1e-12)
    heatmap = ops.convert_to_numpy(heatmap)
    assert heatmap.shape == (12, 12) and heatmap.min() >= 0 and heatmap.max() <= 1 + 1e-6


def timeseries_classification(keras):
    """examples/timeseries/timeseries_classification_from_scratch.py: a fully convolutional Conv1D network,
    ModelCheckpoint(save_best_only) + ReduceLROnPlateau + EarlyStopping, then load_model of the best file."""
    layers = keras.layers
    rng = _rng()
    x_train = rng.normal(size=(40, 32, 1)).astype("float32")
    y_train = (x_train[:, :16, 0].mean(axis=1) > 0).astype("int64")
    num_classes = len(np.unique(y_train))
    input_layer = keras.layers.Input(x_train.shape[1:])
    x = input_layer
    for _ in range(2):
        x = layers.ReLU()(layers.BatchNormalization()(layers.Conv1D(filters=8, kernel_size=3, padding="same")(x)))
    gap = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inputs=input_layer, outputs=layers.Dense(num_classes, activation="softmax")(gap))
    path = os.path.join(tempfile.mkdtemp(), "best_model.keras")
    callbacks = [
        keras.callbacks.ModelCheckpoint(path, save_best_only=True, monitor="val_loss"),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=0.0001),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, verbose=0),
    ]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    history = model.fit(x_train, y_train, batch_size=8, epochs=4, callbacks=callbacks, validation_split=0.2, verbose=0)
    assert "learning_rate" in history.history
    best = keras.models.load_model(path)
    test_loss, test_acc = best.evaluate(x_train, y_train, verbose=0)
    assert np.isfinite(test_loss) and 0 <= test_acc <= 1


def image_segmentation_unet(keras):
    """examples/vision/oxford_pets_image_segmentation.py: a U-Net-like Xception-style model (SeparableConv2D,
    Conv2DTranspose, UpSampling2D, residual adds), per-pixel sparse categorical crossentropy."""
    layers = keras.layers
    img_size, num_classes = (16, 16), 3
    inputs = keras.Input(shape=img_size + (3,))
    x = layers.Activation("relu")(layers.BatchNormalization()(layers.Conv2D(8, 3, strides=2, padding="same")(inputs)))
    previous_block_activation = x
    for filters in [8, 16]:
        x = layers.Activation("relu")(x)
        x = layers.BatchNormalization()(layers.SeparableConv2D(filters, 3, padding="same")(x))
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])
        previous_block_activation = x
    for filters in [16, 8, 8]:
        x = layers.Activation("relu")(x)
        x = layers.BatchNormalization()(layers.Conv2DTranspose(filters, 3, padding="same")(x))
        x = layers.UpSampling2D(2)(x)
        residual = layers.UpSampling2D(2)(previous_block_activation)
        residual = layers.Conv2D(filters, 1, padding="same")(residual)
        x = layers.add([x, residual])
        previous_block_activation = x
    outputs = layers.Conv2D(num_classes, 3, activation="softmax", padding="same")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    images = _rng().rand(6, 16, 16, 3).astype("float32")
    masks = (images.mean(axis=-1, keepdims=True) * 3).astype("uint8").clip(0, 2)
    model.fit(images, masks, batch_size=3, epochs=1, verbose=0)
    preds = model.predict(images, verbose=0)
    assert preds.shape == (6, 16, 16, 3)
    mask = np.argmax(preds[0], axis=-1)
    assert mask.shape == (16, 16)


def trainer_pattern(keras):
    """examples/keras_recipes/trainer_pattern.py: trainer models wrapping one shared model, each with its own
    optimizer, loss, metrics property and train_step/test_step (torch gradients)."""

    class MyTrainer(keras.Model):
        def __init__(self, model):
            super().__init__()
            self.model = model
            self.loss_fn = keras.losses.SparseCategoricalCrossentropy()
            self.accuracy_metric = keras.metrics.SparseCategoricalAccuracy()

        @property
        def metrics(self):
            return [self.accuracy_metric]

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self.model(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            trainable_vars = self.trainable_variables
            with torch.no_grad():
                self.optimizer.apply([v.value.grad for v in trainable_vars], trainable_vars)
            for metric in self.metrics:
                metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            x, y = data
            y_pred = self.model(x, training=False)
            for metric in self.metrics:
                metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

        def call(self, x):
            return self.model(x)

    model = keras.Sequential(
        [
            keras.Input(shape=(8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )
    trainer_1, trainer_2 = MyTrainer(model), MyTrainer(model)
    trainer_1.compile(optimizer=keras.optimizers.SGD())
    trainer_2.compile(optimizer=keras.optimizers.Adam())
    x, y = _rng().rand(32, 8).astype("float32"), np.arange(32) % 4
    before = model.get_weights()[0].copy()
    trainer_1.fit(x, y, epochs=1, batch_size=8, validation_data=(x, y), verbose=0)
    after_1 = model.get_weights()[0].copy()
    trainer_2.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(before, after_1) and not np.array_equal(after_1, model.get_weights()[0])
    assert set(trainer_2.evaluate(x, y, verbose=0, return_dict=True)) == {"sparse_categorical_accuracy"}


def structured_data_feature_space(keras):
    """examples/structured_data/structured_data_classification_with_feature_space.py: a tf.data dataset of
    dict rows, a FeatureSpace (normalized floats, categorical ints and strings, a crossing) adapted on the
    features, mapped over the dataset, and a model on the encoded features."""
    data = tf_data(keras)
    rng = _rng()
    n = 48
    frame = {
        "age": rng.randint(20, 80, n).astype("float32"),
        "thal": rng.choice(["fixed", "normal", "rev"], n),
        "sex": rng.randint(0, 2, n).astype("int64"),
        "chol": rng.normal(240, 40, n).astype("float32"),
    }
    labels = (frame["age"] > 50).astype("int64")
    train_ds = data.Dataset.from_tensor_slices((frame, labels)).batch(16)
    feature_space = keras.utils.FeatureSpace(
        features={
            "sex": keras.utils.FeatureSpace.integer_categorical(num_oov_indices=0),
            "thal": keras.utils.FeatureSpace.string_categorical(num_oov_indices=0),
            "age": keras.utils.FeatureSpace.float_discretized(num_bins=4),
            "chol": keras.utils.FeatureSpace.float_normalized(),
        },
        crosses=[keras.utils.FeatureSpace.cross(feature_names=("sex", "age"), crossing_dim=16)],
        output_mode="concat",
    )
    train_ds_with_no_labels = train_ds.map(lambda x, _: x)
    feature_space.adapt(train_ds_with_no_labels)
    for x, _ in train_ds.take(1):
        preprocessed_x = feature_space(x)
    preprocessed_train_ds = train_ds.map(lambda x, y: (feature_space(x), y), num_parallel_calls=data.AUTOTUNE)
    preprocessed_train_ds = preprocessed_train_ds.prefetch(data.AUTOTUNE)
    encoded_features = feature_space.get_encoded_features()
    assert tuple(encoded_features.shape)[1] == tuple(preprocessed_x.shape)[1]
    x = keras.layers.Dense(8, activation="relu")(encoded_features)
    predictions = keras.layers.Dense(1, activation="sigmoid")(keras.layers.Dropout(0.5)(x))
    training_model = keras.Model(inputs=encoded_features, outputs=predictions)
    training_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    training_model.fit(preprocessed_train_ds, epochs=2, verbose=0)
    inference_model = keras.Model(inputs=feature_space.get_inputs(), outputs=predictions)
    sample = {"age": 60.0, "thal": "fixed", "sex": 1, "chol": 233.0}
    input_dict = {name: np.asarray([value]) for name, value in sample.items()}
    assert inference_model.predict(input_dict, verbose=0).shape == (1, 1)


PROGRAMS = [
    ("sequential_model", "guides/sequential_model.py", sequential_model),
    ("functional_multi_io", "guides/functional_api.py (multi-input/output)", functional_multi_io),
    ("functional_save_reload", "guides/functional_api.py (save/load)", functional_save_reload),
    ("functional_toy_resnet", "guides/functional_api.py (toy ResNet, shared layers)", functional_toy_resnet),
    ("subclassing_layers", "guides/making_new_layers_and_models_via_subclassing.py", subclassing_layers),
    ("subclassing_vae", "guides/making_new_layers_and_models_via_subclassing.py (VAE)", subclassing_vae),
    (
        "builtin_custom_losses_metrics",
        "guides/training_with_built_in_methods.py (custom losses/metrics)",
        builtin_custom_losses_metrics,
    ),
    (
        "builtin_add_loss_layers",
        "guides/training_with_built_in_methods.py (add_loss, LogisticEndpoint)",
        builtin_add_loss_layers,
    ),
    (
        "builtin_weights_and_outputs",
        "guides/training_with_built_in_methods.py (weights, multi-output)",
        builtin_weights_and_outputs,
    ),
    (
        "builtin_callbacks_and_schedules",
        "guides/training_with_built_in_methods.py (callbacks, schedules)",
        builtin_callbacks_and_schedules,
    ),
    ("builtin_tf_data", "guides/training_with_built_in_methods.py (tf.data)", builtin_tf_data),
    ("builtin_pydataset", "guides/training_with_built_in_methods.py (PyDataset, DataLoader)", builtin_pydataset),
    ("own_callbacks", "guides/writing_your_own_callbacks.py", own_callbacks),
    ("custom_train_step", "guides/custom_train_step_in_torch.py", custom_train_step),
    ("custom_train_step_gan", "guides/custom_train_step_in_torch.py (GAN)", custom_train_step_gan),
    ("custom_training_loop", "guides/writing_a_custom_training_loop_in_torch.py", custom_training_loop),
    ("transfer_learning", "guides/transfer_learning.py", transfer_learning),
    (
        "transfer_learning_application",
        "guides/transfer_learning.py (keras.applications backbone)",
        transfer_learning_application,
    ),
    ("masking_and_padding", "guides/understanding_masking_and_padding.py", masking_and_padding),
    ("mnist_convnet", "examples/vision/mnist_convnet.py", mnist_convnet),
    (
        "image_classification_from_scratch",
        "examples/vision/image_classification_from_scratch.py",
        image_classification_from_scratch,
    ),
    ("knowledge_distillation", "examples/vision/knowledge_distillation.py", knowledge_distillation),
    (
        "supervised_contrastive_learning",
        "examples/vision/supervised-contrastive-learning.py",
        supervised_contrastive_learning,
    ),
    ("mixup", "examples/vision/mixup.py", mixup),
    ("antirectifier", "examples/keras_recipes/antirectifier.py", antirectifier),
    ("endpoint_layer_pattern", "examples/keras_recipes/endpoint_layer_pattern.py", endpoint_layer_pattern),
    ("reproducibility", "examples/keras_recipes/reproducibility_recipes.py", reproducibility),
    ("imbalanced_classification", "examples/structured_data/imbalanced_classification.py", imbalanced_classification),
    ("timeseries_forecasting", "examples/timeseries/timeseries_weather_forecasting.py", timeseries_forecasting),
    (
        "text_classification_from_scratch",
        "examples/nlp/text_classification_from_scratch.py",
        text_classification_from_scratch,
    ),
    ("train_on_batch_loop", "examples/generative (train_on_batch loops)", train_on_batch_loop),
    ("image_dataset_pipeline", "examples/vision (tf.data image pipelines)", image_dataset_pipeline),
    ("subclassing_conv_layers", "examples/keras_recipes/subclassing_conv_layers.py", subclassing_conv_layers),
    ("grad_cam", "examples/vision/grad_cam.py", grad_cam),
    (
        "timeseries_classification",
        "examples/timeseries/timeseries_classification_from_scratch.py",
        timeseries_classification,
    ),
    ("image_segmentation_unet", "examples/vision/oxford_pets_image_segmentation.py", image_segmentation_unet),
    ("trainer_pattern", "examples/keras_recipes/trainer_pattern.py", trainer_pattern),
    (
        "structured_data_feature_space",
        "examples/structured_data/structured_data_classification_with_feature_space.py",
        structured_data_feature_space,
    ),
]


# Programs that fail on Keras 3.15 [torch] for a reason of Keras's own (not TensorFlow), and why.
KNOWN_KERAS_ISSUES = {
    "imbalanced_classification": "Keras bug: the epoch logs of TruePositives/FalseNegatives... alias the metric "
    "variables, so after validation the training counts show the validation counts",
    "image_segmentation_unet": "Keras [torch] error, not TensorFlow: the backward pass of this U-Net raises "
    "`RuntimeError: grad_input must be contiguous` (not reduced to one layer)",
}


def needs_tensorflow(error):
    """Whether an exception comes from a missing TensorFlow (Keras's tf.data utilities import it)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ImportError) and "tensorflow" in str(error).lower():
            return True
        error = error.__cause__ or error.__context__
    return False


def run(program, keras):
    """Runs ``program`` on ``keras``; returns ``("pass", "")``, ``("needs TensorFlow", why)`` or ``("fail", why)``."""
    keras.utils.set_random_seed(0)
    try:
        program(keras)
    except Exception as e:  # noqa: BLE001 - the table records how each program ends
        if needs_tensorflow(e):
            return "needs TensorFlow", f"{type(e).__name__}: {e}"
        return "fail", f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    return "pass", ""
