"""Keras 3's PyTorch guide "Customizing what happens in fit()": a `keras.Model` subclass built as
`CustomModel(inputs, outputs)` with its own `train_step`/`test_step` runs unchanged and trains exactly
as the default step and as real Keras does."""

import numpy as np
import pytest
import torch

import strided

X = np.random.default_rng(0).random((64, 6)).astype("float32")
Y = np.random.default_rng(1).random((64, 1)).astype("float32")
SW = np.random.default_rng(2).random((64, 1)).astype("float32")


def guide_models(keras):
    """The guide's classes, written against whichever `keras` module is passed in."""

    class ComputeLossModel(keras.Model):  # the guide's first example (+ sample weights, its third)
        def train_step(self, data):
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                (x, y), sample_weight = data, None
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)
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

    class OwnMetricsModel(keras.Model):  # the guide's "going lower-level" example
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
            gradients = [v.value.grad for v in self.trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, self.trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    return ComputeLossModel, OwnMetricsModel


def build(keras, cls, weights=None):
    inputs = keras.Input(shape=(6,))
    outputs = keras.layers.Dense(1)(keras.layers.Dense(4, activation="tanh")(inputs))
    model = cls(inputs, outputs)
    if weights is not None:
        model.set_weights(weights)
    return model


def test_subclass_built_from_inputs_and_outputs_is_functional_with_its_own_methods():
    ComputeLossModel, _ = guide_models(strided)
    model = build(strided, ComputeLossModel)
    assert isinstance(model, strided.Model) and type(model) is ComputeLossModel
    assert len(model.layers) == 3 and len(model.trainable_weights) == 4
    assert model.name.startswith("compute_loss_model")
    assert type(model).train_step is not strided.Model.train_step
    np.testing.assert_allclose(model.predict(X[:3], verbose=0).shape, (3, 1))
    assert model.trainable_weights[0].value is model.trainable_weights[0]


def test_custom_train_step_equals_the_default_step():
    ComputeLossModel, _ = guide_models(strided)
    strided.utils.set_random_seed(3)
    custom = build(strided, ComputeLossModel)
    default = build(strided, strided.Model, custom.get_weights())
    for model in (custom, default):
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    h_custom = custom.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    h_default = default.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    assert set(h_custom) == {"loss", "mae"}
    for key in h_custom:
        np.testing.assert_allclose(h_custom[key], h_default[key], rtol=1e-6)
    # With sample weights the loss (and so the training) is the same; the guide's step also weights
    # `mae`, which compile(metrics=...) does not (only weighted_metrics are weighted).
    h_custom = custom.fit(X, Y, sample_weight=SW, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    h_default = default.fit(X, Y, sample_weight=SW, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h_custom["loss"], h_default["loss"], rtol=1e-6)
    for a, b in zip(custom.get_weights(), default.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(custom.evaluate(X, Y, verbose=0), default.evaluate(X, Y, verbose=0), rtol=1e-6)


@pytest.mark.keras
def test_guide_examples_match_real_keras(real_keras):
    ours_classes, keras_classes = guide_models(strided), guide_models(real_keras)
    for ours_cls, keras_cls, compile_kwargs in zip(
        ours_classes, keras_classes, ({"loss": "mse", "metrics": ["mae"]}, {})
    ):
        strided.utils.set_random_seed(5)
        ours = build(strided, ours_cls)
        theirs = build(real_keras, keras_cls, ours.get_weights())
        ours.compile(optimizer="adam", **compile_kwargs)
        theirs.compile(optimizer="adam", **compile_kwargs)
        h_ours = ours.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
        h_theirs = theirs.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
        assert set(h_ours) == set(h_theirs) == {"loss", "mae"}, (h_ours.keys(), h_theirs.keys())
        for key in h_theirs:
            np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=1e-5, err_msg=f"{ours_cls.__name__} {key}")
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_custom_model_saves_and_loads_with_its_class(tmp_path):
    ComputeLossModel, _ = guide_models(strided)
    model = build(strided, ComputeLossModel)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "custom.keras")
    model.save(path)
    restored = strided.models.load_model(path, custom_objects={"ComputeLossModel": ComputeLossModel})
    assert type(restored) is ComputeLossModel
    np.testing.assert_allclose(restored.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    restored.fit(X, Y, batch_size=16, epochs=1, verbose=0)  # its own train_step runs again
    with pytest.warns(UserWarning, match="not given in `custom_objects`"):
        plain = strided.models.load_model(path)
    assert type(plain).__name__ == "Functional"
    np.testing.assert_allclose(plain.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_guide_gan_with_two_optimizers_and_seed_generator_trains():
    # The guide's closing GAN: a subclassed model with its own compile(), two optimizers,
    # keras.random with a SeedGenerator, and losses tracked by its own metrics.
    keras, layers = strided, strided.layers
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
            keras.Input(shape=(6,)),
            layers.Dense(4 * 4 * 4),
            layers.Reshape((4, 4, 4)),
            layers.Conv2DTranspose(4, 4, strides=2, padding="same"),
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
            if isinstance(real_images, tuple):
                real_images = real_images[0]
            batch_size = real_images.shape[0]
            latent = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
            combined = torch.concat([self.generator(latent), real_images], axis=0)
            labels = torch.concat([torch.ones((batch_size, 1)), torch.zeros((batch_size, 1))], axis=0)
            labels += 0.05 * keras.random.uniform(labels.shape, seed=self.seed_generator)
            self.zero_grad()
            d_loss = self.loss_fn(labels, self.discriminator(combined))
            d_loss.backward()
            grads = [v.value.grad for v in self.discriminator.trainable_weights]
            with torch.no_grad():
                self.d_optimizer.apply(grads, self.discriminator.trainable_weights)
            latent = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
            self.zero_grad()
            g_loss = self.loss_fn(torch.zeros((batch_size, 1)), self.discriminator(self.generator(latent)))
            g_loss.backward()
            grads = [v.value.grad for v in self.generator.trainable_weights]
            with torch.no_grad():
                self.g_optimizer.apply(grads, self.generator.trainable_weights)
            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    strided.config.set_device("cpu")
    gan = GAN(discriminator, generator, latent_dim=6)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        g_optimizer=keras.optimizers.Adam(learning_rate=0.0003),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    g_before = [w.detach().clone() for w in generator.trainable_weights]
    d_before = [w.detach().clone() for w in discriminator.trainable_weights]
    images = np.random.default_rng(0).random((32, 8, 8, 1)).astype("float32")
    history = gan.fit(images, batch_size=8, epochs=2, verbose=0).history
    assert set(history) == {"d_loss", "g_loss"} and len(history["d_loss"]) == 2
    assert all(np.isfinite(history["d_loss"])) and all(np.isfinite(history["g_loss"]))
    assert all(not torch.equal(a, b) for a, b in zip(g_before, generator.trainable_weights))
    assert all(not torch.equal(a, b) for a, b in zip(d_before, discriminator.trainable_weights))


def test_keras_random_seeding_semantics():
    keras = strided
    a, b = keras.random.normal((3,), seed=7), keras.random.normal((3,), seed=7)
    torch.testing.assert_close(a, b)  # an int seed repeats
    stream = keras.random.SeedGenerator(1)
    assert not torch.equal(keras.random.uniform((3,), seed=stream), keras.random.uniform((3,), seed=stream))
    again = keras.random.SeedGenerator(1)
    torch.testing.assert_close(
        keras.random.uniform((3,), seed=again), keras.random.uniform((3,), seed=keras.random.SeedGenerator(1))
    )
    x = keras.random.normal((20000,), mean=2.0, stddev=3.0, seed=0)
    assert abs(float(x.mean()) - 2.0) < 0.1 and abs(float(x.std()) - 3.0) < 0.1
    t = keras.random.truncated_normal((20000,), stddev=2.0, seed=0)
    assert float(t.abs().max()) <= 4.0
    r = keras.random.randint((1000,), 3, 7, seed=0)
    assert r.dtype == torch.int32 and int(r.min()) == 3 and int(r.max()) == 6
    kept = keras.random.dropout(torch.ones(10000), 0.25, seed=0)
    assert (
        set(torch.unique(kept).tolist()) <= {0.0, float(np.float32(1 / 0.75))} and abs(float(kept.mean()) - 1.0) < 0.05
    )
    assert sorted(keras.random.shuffle(torch.arange(10), seed=3).tolist()) == list(range(10))
    draws = keras.random.categorical(torch.tensor([[0.0, 20.0], [20.0, 0.0]]), 5, seed=0)
    assert draws.tolist() == [[1] * 5, [0] * 5]
    with pytest.raises(ValueError, match="SeedGenerator"):
        keras.random.normal((2,), seed="abc")


def test_keras_random_distributions():
    keras = strided
    for fn, args, mean, var in (
        (keras.random.gamma, (3.0,), 3.0, 3.0),
        (keras.random.binomial, (10, 0.3), 3.0, 2.1),
        (keras.random.beta, (2.0, 5.0), 2 / 7, 10 / (49 * 8)),
    ):
        x = fn((40000,), *args, seed=3)
        torch.testing.assert_close(x, fn((40000,), *args, seed=3))  # an int seed repeats
        assert x.dtype == torch.float32
        assert abs(float(x.mean()) - mean) < 0.03 * max(mean, 1) and abs(float(x.var()) - var) < 0.06 * max(var, 1)


def test_metric_functions_and_initializer_names_as_keras(real_keras):
    y_true, y_pred = np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[0.2, 0.7], [0.9, 0.4]], "float32")
    for name in ("mean_squared_error", "binary_crossentropy", "hinge", "log_cosh", "poisson"):
        np.testing.assert_allclose(
            np.asarray(getattr(strided.metrics, name)(y_true, y_pred)),
            np.asarray(getattr(real_keras.metrics, name)(y_true, y_pred)),
            rtol=1e-5,
        )
    assert strided.initializers.OrthogonalInitializer is strided.initializers.Orthogonal
