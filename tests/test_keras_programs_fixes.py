"""API differences found by running Keras guides and keras.io examples on strided (issue 19).

Each test reproduces one difference that made a real Keras program fail, and fails on the code before the fix.
"""

import numpy as np
import pytest
import torch

import strided as keras
from strided import layers, ops


def _xy(n=32, d=4, classes=3, seed=0):
    rng = np.random.RandomState(seed)
    return rng.rand(n, d).astype("float32"), rng.randint(0, classes, n)


def _mlp(d=4, classes=3):
    inputs = keras.Input((d,))
    return keras.Model(inputs, layers.Dense(classes)(layers.Dense(8, activation="relu")(inputs)))


# ---------------------------------------------------------------- compute_loss overrides (knowledge distillation)
class _OldStyleLoss(keras.Model):
    """A `compute_loss` override without `training` (written before Keras 3.3)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(3)
        self.calls = 0

    def call(self, x):
        return self.dense(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False):
        self.calls += 1
        return keras.losses.sparse_categorical_crossentropy(y, y_pred, from_logits=True).mean()


def test_compute_loss_override_without_training_argument():
    model = _OldStyleLoss()
    model.compile(optimizer="sgd")
    x, y = _xy()
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert model.calls == 2 + 1  # two training batches of 16, one evaluation batch of 32
    assert np.isfinite(history.history["loss"][0])


def test_compute_loss_override_with_training_argument_gets_it():
    seen = []

    class WithTraining(_OldStyleLoss):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            seen.append(training)
            return super().compute_loss(x, y, y_pred, sample_weight)

    model = WithTraining()
    model.compile(optimizer="sgd")
    x, y = _xy(16)
    model.fit(x, y, batch_size=16, verbose=0)
    model.evaluate(x, y, batch_size=16, verbose=0)
    assert seen == [True, False]


# ---------------------------------------------------------------- Metric.add_variable
class _CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="ctp", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(ops.cast(y_true, "int32") == ops.cast(y_pred, "int32"), "float32")
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_metric_add_variable_gives_an_assignable_variable():
    metric = _CategoricalTruePositives()
    assert isinstance(metric.true_positives, keras.Variable)
    assert not metric.true_positives.trainable
    metric.update_state(np.array([[0], [1], [2]]), np.eye(3)[[0, 1, 0]])
    assert float(metric.result()) == 2.0
    metric.update_state(np.array([[1]]), np.eye(3)[[1]])
    assert float(metric.result()) == 3.0
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert metric.variables[0] is metric.true_positives


def test_metric_add_variable_in_fit():
    model = _mlp()
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[_CategoricalTruePositives()],
    )
    x, y = _xy(40)
    history = model.fit(x, y.reshape(-1, 1), batch_size=8, epochs=2, verbose=0)
    counts = history.history["ctp"]
    assert all(0 <= c <= 40 and float(c).is_integer() for c in counts)


def test_metric_add_variable_initializer_object_and_number():
    class M(keras.metrics.Metric):
        def __init__(self):
            super().__init__(name="m")
            self.a = self.add_variable((2,), initializer=keras.initializers.Ones(), name="a")
            self.b = self.add_weight(shape=(), initializer=3.0, name="b")

        def result(self):
            return self.a.sum() + self.b

    assert float(M().result()) == 5.0


# ---------------------------------------------------------------- callbacks get logs dicts
class _KeysRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = {}

    def _record(self, hook, logs):
        self.seen[hook] = sorted(logs.keys())

    def on_train_begin(self, logs=None):
        self._record("train_begin", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._record("epoch_begin", logs)

    def on_test_begin(self, logs=None):
        self._record("test_begin", logs)

    def on_predict_begin(self, logs=None):
        self._record("predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._record("predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._record("train_batch_begin", logs)


def test_callbacks_receive_logs_dicts_everywhere():
    model = _mlp()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _xy(16)
    cb = _KeysRecorder()
    model.fit(x, y, batch_size=8, verbose=0, callbacks=[cb])
    model.evaluate(x, y, verbose=0, callbacks=[cb])
    model.predict(x, verbose=0, callbacks=[cb])
    assert set(cb.seen) == {
        "train_begin",
        "epoch_begin",
        "test_begin",
        "predict_begin",
        "predict_end",
        "train_batch_begin",
    }
    assert cb.seen["train_begin"] == []


# ---------------------------------------------------------------- add_loss tracking
class _ActivityLoss(layers.Layer):
    def __init__(self, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.sum(inputs))
        return inputs


class _Outer(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = _ActivityLoss(1e-2)

    def call(self, inputs):
        return self.inner(inputs)


def test_add_loss_cleared_at_each_outermost_eager_call():
    layer = _Outer()
    layer(torch.zeros(2, 2))
    assert len(layer.losses) == 1
    layer(torch.ones(2, 2))
    assert len(layer.losses) == 1  # not two: the inner layer's loss of the first call is gone
    assert float(layer.losses[0]) == pytest.approx(0.04)
    assert len(layer.inner.losses) == 1


def test_add_loss_shared_sublayer_records_each_call():
    class Twice(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = _ActivityLoss(1.0)

        def call(self, x):
            return self.inner(self.inner(x))

    layer = Twice()
    layer(torch.ones(1, 2))
    layer(torch.ones(1, 2))
    assert [float(v) for v in layer.losses] == [2.0, 2.0]


def test_add_loss_in_functional_fit_trains_many_steps():
    """The add_loss section of the "training with built-in methods" guide."""
    inputs = keras.Input((4,))
    h = layers.Dense(8, activation="relu")(inputs)
    h = _ActivityLoss(0.1)(h)
    model = keras.Model(inputs, layers.Dense(3)(h))
    assert model.losses == []  # nothing from the symbolic build
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _xy(64)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert len(model.losses) == 1


class _Sampling(layers.Layer):
    def call(self, inputs):
        mean, log_var = inputs
        return mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean))


class _VAE(keras.Model):
    """The subclassed VAE of the "making new layers and models via subclassing" guide: add_loss in call."""

    def __init__(self, dim=6, latent=2, **kwargs):
        super().__init__(**kwargs)
        self.enc = layers.Dense(8, activation="relu")
        self.mean = layers.Dense(latent)
        self.log_var = layers.Dense(latent)
        self.sampling = _Sampling()
        self.dec = layers.Dense(dim, activation="sigmoid")

    def call(self, inputs):
        h = self.enc(inputs)
        mean, log_var = self.mean(h), self.log_var(h)
        z = self.sampling((mean, log_var))
        self.add_loss(-0.5 * ops.mean(log_var - ops.square(mean) - ops.exp(log_var) + 1))
        return self.dec(z)


def test_subclassed_vae_with_add_loss_fits_after_a_build():
    vae = _VAE()
    vae.build((None, 6))  # a shape-only call: it must leave no (meta) loss behind
    assert vae.losses == []
    vae.compile(optimizer="adam", loss="mse")
    x = np.random.rand(48, 6).astype("float32")
    history = vae.fit(x, x, batch_size=16, epochs=2, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    assert len(vae.losses) == 1 and not vae.losses[0].is_meta


def test_activity_regularizer_losses_do_not_pile_up():
    layer = layers.Dense(2, activity_regularizer="l2")
    layer(np.ones((3, 2), "float32"))
    layer(np.ones((3, 2), "float32"))
    assert len(layer.losses) == 1


# ---------------------------------------------------------------- saving a model compiled with a loss object
def test_model_compiled_with_loss_object_saves_and_reloads(tmp_path):
    model = _mlp()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    x, y = _xy()
    model.fit(x, y, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    assert isinstance(restored.loss, keras.losses.SparseCategoricalCrossentropy)
    assert restored.loss.from_logits
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(restored.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-5)
    restored.fit(x, y, verbose=0)


def test_per_output_loss_dicts_of_loss_objects_reload(tmp_path):
    inputs = keras.Input((4,))
    a = layers.Dense(1, name="score")(inputs)
    b = layers.Dense(3, name="kind")(inputs)
    model = keras.Model(inputs, {"score": a, "kind": b})
    model.compile(
        optimizer="adam",
        loss={
            "score": keras.losses.MeanSquaredError(),
            "kind": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
    )
    path = str(tmp_path / "two.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    assert isinstance(restored.loss["score"], keras.losses.MeanSquaredError)
    assert isinstance(restored.loss["kind"], keras.losses.SparseCategoricalCrossentropy)


# ---------------------------------------------------------------- dict inputs keyed by Input names
def test_fit_with_dict_keyed_by_the_input_name():
    inputs = keras.Input((4,), name="features")
    model = keras.Model(inputs, layers.Dense(3)(inputs))
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _xy()
    model.fit({"features": x}, y, verbose=0)
    np.testing.assert_allclose(model.predict({"features": x}, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_fit_two_inputs_with_dict_in_any_key_order():
    a, b = keras.Input((3,), name="title"), keras.Input((2,), name="body")
    model = keras.Model([a, b], layers.Dense(1)(layers.concatenate([a, b])))
    model.compile(optimizer="sgd", loss="mse")
    xa, xb = np.random.rand(8, 3).astype("float32"), np.random.rand(8, 2).astype("float32")
    model.fit({"body": xb, "title": xa}, np.ones((8, 1)), verbose=0)
    np.testing.assert_allclose(
        model.predict({"body": xb, "title": xa}, verbose=0), model.predict([xa, xb], verbose=0), rtol=1e-6
    )
    with pytest.raises(ValueError, match="missing \\['body'\\]"):
        model.predict({"title": xa}, verbose=0)


# ---------------------------------------------------------------- train_on_batch returns this batch's values
def test_train_on_batch_returns_this_batch_not_a_running_mean():
    model = _mlp()
    model.compile(
        optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    x1, y1 = _xy(16, seed=1)
    x2, y2 = _xy(16, seed=2)
    model.train_on_batch(x1, y1)
    logits = model.predict(x2, verbose=0)  # the weights the second update starts from (predict keeps metrics)
    expected_loss = float(ops.mean(keras.losses.sparse_categorical_crossentropy(y2, logits, from_logits=True)))
    expected_acc = float(np.mean(logits.argmax(-1) == y2))
    loss, acc = model.train_on_batch(x2, y2)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert acc == pytest.approx(expected_acc)


@pytest.mark.keras
def test_train_on_batch_matches_keras(real_keras):
    def run(k):
        k.utils.set_random_seed(0)
        inputs = k.Input((4,))
        model = k.Model(inputs, k.layers.Dense(3)(inputs))
        model.compile(optimizer=k.optimizers.SGD(0.5), loss=k.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.set_weights([np.full((4, 3), 0.1, "float32") * np.arange(3), np.zeros(3, "float32")])
        x1, y1 = _xy(16, seed=1)
        x2, y2 = _xy(16, seed=2)
        return [model.train_on_batch(x1, y1), model.train_on_batch(x2, y2)]

    np.testing.assert_allclose(run(keras), run(real_keras), rtol=1e-5)


# ---------------------------------------------------------------- keras.utils.normalize in a train step
def test_normalize_on_a_tensor_that_requires_grad():
    x = torch.randn(4, 3, requires_grad=True)
    y = keras.utils.normalize(x, axis=-1)
    assert isinstance(y, torch.Tensor) and y.requires_grad
    y[:, 0].sum().backward()
    assert x.grad is not None
    np.testing.assert_allclose(y.detach().numpy(), keras.utils.normalize(x.detach().numpy(), axis=-1), rtol=1e-6)
    assert isinstance(keras.utils.normalize(np.ones((2, 2))), np.ndarray)


# ---------------------------------------------------------------- found by the real-program suite
def test_symbolic_call_sees_the_mask_of_its_input():
    """The TemporalSoftmax of the masking guide uses `mask` in call(): it must be there while the model is built."""
    seen = []

    class TemporalSoftmax(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            seen.append(mask is not None)
            weights = ops.expand_dims(ops.cast(mask, "float32"), -1)
            exp = ops.exp(inputs) * weights
            return exp / ops.sum(exp, axis=-1, keepdims=True)

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(50, 4, mask_zero=True)(inputs)
    x = layers.Dense(1)(x)
    model = keras.Model(inputs, TemporalSoftmax()(x))
    assert seen and all(seen)
    out = model(np.array([[3, 4, 0]]))
    assert tuple(out.shape) == (1, 3, 1)


def test_symbolic_call_falls_back_when_call_cannot_take_a_meta_mask():
    class NeedsValues(layers.Layer):
        def call(self, inputs, mask=None):
            if mask is not None and bool(mask.all()):  # a value-dependent branch: impossible on the meta device
                return inputs
            return inputs * 1.0

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(50, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, NeedsValues()(x))
    assert tuple(model(np.array([[1, 2, 0]])).shape) == (1, 3, 4)


def test_layer_called_with_two_positional_tensors():
    """`LogisticEndpoint()(targets, logits)` with `call(self, targets, logits, sample_weights=None)`."""

    class Endpoint(layers.Layer):
        def call(self, targets, logits, sample_weights=None):
            self.add_loss(ops.mean(ops.square(targets - logits)))
            return logits

    x_in, t_in = keras.Input((3,), name="x"), keras.Input((2,), name="t")
    out = Endpoint()(t_in, layers.Dense(2)(x_in))
    model = keras.Model([x_in, t_in], out)
    model.compile(optimizer="sgd")
    history = model.fit({"x": np.ones((4, 3)), "t": np.zeros((4, 2))}, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_metric_updated_inside_call_is_untouched_by_the_model_build():
    accuracy = keras.metrics.BinaryAccuracy()

    class Tracking(layers.Layer):
        def call(self, logits, targets=None):
            if targets is not None:
                accuracy.update_state(targets, logits)
            return logits

    x_in, t_in = keras.Input((2,)), keras.Input((2,))
    model = keras.Model([x_in, t_in], Tracking()(x_in, t_in))
    assert float(accuracy.count) == 0.0 and accuracy.total.device.type != "meta"
    model([np.ones((2, 2), "float32"), np.ones((2, 2), "float32")])
    assert float(accuracy.result()) == 1.0


def test_conv_convolution_op_override_changes_the_kernel():
    """The "subclassing conv layers" recipe: a Conv2D whose convolution_op standardizes the kernel."""

    class Standardized(layers.Conv2D):
        def convolution_op(self, inputs, kernel):
            mean, var = ops.moments(kernel, axes=[0, 1, 2], keepdims=True)
            return ops.conv(
                inputs, (kernel - mean) / ops.sqrt(var + 1e-10), padding=self.padding, strides=list(self.strides)
            )

    x = np.random.rand(2, 6, 6, 3).astype("float32")
    layer = Standardized(4, 3, padding="same")
    out = ops.convert_to_numpy(layer(x))
    kernel, bias = layer.get_weights()
    plain = layers.Conv2D(4, 3, padding="same")
    plain.build((None, 6, 6, 3))
    plain.set_weights(
        [
            (kernel - kernel.mean((0, 1, 2), keepdims=True)) / np.sqrt(kernel.var((0, 1, 2), keepdims=True) + 1e-10),
            bias + 1.0,
        ]
    )
    np.testing.assert_allclose(out + 1.0, ops.convert_to_numpy(plain(x)), rtol=1e-4, atol=1e-4)


def test_setting_activation_to_none_removes_it():
    """Grad-CAM: `model.layers[-1].activation = None` turns a softmax head into logits."""
    dense = layers.Dense(3, activation="softmax")
    x = np.random.rand(2, 4).astype("float32")
    probs = ops.convert_to_numpy(dense(x))
    dense.activation = None
    logits = ops.convert_to_numpy(dense(x))
    np.testing.assert_allclose(probs, ops.convert_to_numpy(ops.softmax(logits)), rtol=1e-5)
    assert not np.allclose(logits.sum(axis=1), 1.0)


def test_model_with_string_inputs_expands_numeric_columns():
    """FeatureSpace inference models take {"name": np.array([value])} for Input((1,)) of numbers and strings."""
    num, text = keras.Input((1,), name="num"), keras.Input((1,), name="text", dtype="string")
    lookup = layers.StringLookup(vocabulary=["a", "b"], output_mode="one_hot")
    encoded = layers.concatenate([num, ops.reshape(lookup(text), (-1, 3))])
    model = keras.Model({"num": num, "text": text}, layers.Dense(1)(encoded))
    assert model.predict({"num": np.array([2.0]), "text": np.array(["a"])}, verbose=0).shape == (1, 1)
