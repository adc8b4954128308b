"""Bad input gets a named Keras-style error (issue 16): one test per class of mistake.

Each case checks the error type, that the message names the argument (or the offending name), and that it
is raised by strided's own code, never from inside torch/NumPy.
"""

import traceback

import numpy as np
import pytest

import strided as keras
from strided import callbacks, layers, models, optimizers


def raised_by_strided(excinfo):
    """The innermost frame of the traceback is strided's own code."""
    frames = traceback.extract_tb(excinfo.tb)
    return "strided" in frames[-1].filename.replace("\\", "/").split("/site-packages/")[-1]


def check(make, exc, *fragments):
    with pytest.raises(exc) as info:
        make()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert raised_by_strided(info), traceback.format_exception(info.value)
    return message


# ------------------------------------------------------------------ constructor ranges


@pytest.mark.parametrize(
    "make, exc, fragments",
    [
        (lambda: layers.RandomRotation((0.5, 0.1)), ValueError, ("`factor`", "(0.5, 0.1)")),
        (lambda: layers.RandomZoom((0.5, 0.1)), ValueError, ("`height_factor`", "(0.5, 0.1)")),
        (lambda: layers.RandomTranslation(0.1, (0.4, -0.2)), ValueError, ("`width_factor`", "(0.4, -0.2)")),
        (lambda: layers.RandomContrast((0.5, 0.1)), ValueError, ("`factor`",)),
        (lambda: layers.RandomBrightness(0.1, value_range=(255, 0)), ValueError, ("`value_range`", "(255, 0)")),
        (lambda: layers.RandomSaturation((0.9, 0.2)), ValueError, ("`factor`",)),
        (lambda: layers.LSTM(3, dropout=1.5), ValueError, ("`dropout`", "dropout=1.5")),
        (lambda: layers.GRU(3, recurrent_dropout=-0.1), ValueError, ("`recurrent_dropout`", "-0.1")),
        (lambda: layers.SimpleRNN(3, dropout="x"), TypeError, ("`dropout`",)),
        (lambda: layers.Dropout(0.5, noise_shape=5), TypeError, ("`noise_shape`",)),
        (lambda: layers.Dropout(0.5, noise_shape=(1, -2)), ValueError, ("`noise_shape`",)),
        (lambda: layers.Input((3,), batch_size=-1), ValueError, ("`batch_size`", "batch_size=-1")),
        (lambda: layers.Input((3,), dtype="floaty"), ValueError, ("dtype='floaty'",)),
    ],
)
def test_layer_constructor_ranges(make, exc, fragments):
    check(make, exc, *fragments)


def test_dropout_noise_shape_of_the_wrong_rank_is_named_at_call():
    layer = layers.Dropout(0.5, noise_shape=(1, 1, 1))
    check(lambda: layer(np.ones((2, 4), "float32"), training=True), ValueError, "`noise_shape`", "(1, 1, 1)")


@pytest.mark.parametrize(
    "make, exc, name",
    [
        (lambda: optimizers.Adam(learning_rate=-1), ValueError, "learning_rate"),
        (lambda: optimizers.SGD(learning_rate="fast"), ValueError, "learning_rate"),
        (lambda: optimizers.Adam(beta_1=1.5), ValueError, "beta_1"),
        (lambda: optimizers.Adam(beta_2=1.0), ValueError, "beta_2"),
        (lambda: optimizers.Adamax(beta_2=-1), ValueError, "beta_2"),
        (lambda: optimizers.Nadam(epsilon=-1e-3), ValueError, "epsilon"),
        (lambda: optimizers.RMSprop(rho=2), ValueError, "rho"),
        (lambda: optimizers.RMSprop(momentum="a"), TypeError, "momentum"),
        (lambda: optimizers.Adadelta(rho=-0.5), ValueError, "rho"),
        (lambda: optimizers.Adagrad(initial_accumulator_value=-1), ValueError, "initial_accumulator_value"),
        (lambda: optimizers.Adam(loss_scale_factor=0), ValueError, "loss_scale_factor"),
    ],
)
def test_optimizer_constructor_ranges(make, exc, name):
    check(make, exc, f"`{name}`", f"{name}=")


def test_optimizer_hyperparameters_may_still_be_callables():
    opt = optimizers.Adam(beta_1=lambda: 0.9)  # Keras documents callables for the decay rates
    assert callable(opt.beta_1)


@pytest.mark.parametrize(
    "make, exc, name",
    [
        (lambda: callbacks.EarlyStopping(patience=-1), ValueError, "patience"),
        (lambda: callbacks.EarlyStopping(patience=1.5), TypeError, "patience"),
        (lambda: callbacks.EarlyStopping(min_delta="x"), TypeError, "min_delta"),
        (lambda: callbacks.EarlyStopping(mode="bogus"), ValueError, "mode"),
        (lambda: callbacks.EarlyStopping(start_from_epoch=-2), ValueError, "start_from_epoch"),
        (lambda: callbacks.EarlyStopping(baseline="high"), TypeError, "baseline"),
        (lambda: callbacks.ReduceLROnPlateau(min_lr=-1), ValueError, "min_lr"),
        (lambda: callbacks.ReduceLROnPlateau(cooldown=-1), ValueError, "cooldown"),
        (lambda: callbacks.ReduceLROnPlateau(factor="half"), TypeError, "factor"),
        (lambda: callbacks.ModelCheckpoint("m.keras", mode="bogus"), ValueError, "mode"),
        (lambda: callbacks.ModelCheckpoint(42), TypeError, "filepath"),
        (lambda: callbacks.LearningRateScheduler(42), TypeError, "schedule"),
        (lambda: callbacks.LambdaCallback(on_epoch_end="x"), TypeError, "on_epoch_end"),
        (lambda: callbacks.CSVLogger(3), TypeError, "filename"),
        (lambda: callbacks.BackupAndRestore(3), TypeError, "backup_dir"),
    ],
)
def test_callback_constructor_ranges(make, exc, name):
    check(make, exc, f"`{name}`", f"{name}=")


# ------------------------------------------------------------------ fit / evaluate / predict arguments

X = np.random.default_rng(0).random((16, 4)).astype("float32")
Y = np.random.default_rng(1).integers(0, 3, 16)


def small_model():
    model = keras.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize(
    "kwargs, exc, name",
    [
        ({"epochs": -1}, ValueError, "epochs"),
        ({"epochs": 1.5}, TypeError, "epochs"),
        ({"epochs": "2"}, TypeError, "epochs"),
        ({"epochs": 1, "initial_epoch": 3}, ValueError, "initial_epoch"),
        ({"steps_per_epoch": 0}, ValueError, "steps_per_epoch"),
        ({"steps_per_epoch": -2}, ValueError, "steps_per_epoch"),
        ({"validation_freq": 0, "validation_data": (X, Y)}, ValueError, "validation_freq"),
        ({"validation_data": (X,)}, ValueError, "validation_data"),
        ({"validation_data": (X, Y, None, Y)}, ValueError, "validation_data"),
        ({"validation_data": X}, ValueError, "validation_data"),
        ({"class_weight": {"a": 1.0}}, TypeError, "class_weight"),
        ({"class_weight": {7: 1.0}}, ValueError, "class_weight"),
        ({"sample_weight": np.ones((16, 2, 2))}, ValueError, "sample_weight"),
        ({"shuffle": "yes"}, TypeError, "shuffle"),
        ({"callbacks": callbacks.EarlyStopping(monitor="loss")}, TypeError, "callbacks"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"validation_split": "0.2"}, TypeError, "validation_split"),
    ],
)
def test_fit_arguments(kwargs, exc, name):
    check(lambda: small_model().fit(X, Y, verbose=0, **kwargs), exc, f"`{name}`")


def test_evaluate_and_predict_arguments():
    model = small_model()
    check(lambda: model.predict(X, batch_size=0, verbose=0), ValueError, "`batch_size`", "batch_size=0")
    check(lambda: model.predict(X, steps=0, verbose=0), ValueError, "`steps`")
    check(lambda: model.evaluate(X, Y, batch_size=-3, verbose=0), ValueError, "`batch_size`", "batch_size=-3")
    check(lambda: model.fit("hello", verbose=0), TypeError, "`x`", "'hello'")
    check(lambda: model.predict("hello", verbose=0), TypeError, "`x`")


def test_inputs_that_do_not_match_the_model():
    inp = layers.Input((4,), name="pixels")
    model = models.Model(inp, layers.Dense(3)(inp))
    model.compile("adam", "mse")
    check(lambda: model.fit({"pixel": X}, np.ones((16, 3)), verbose=0), ValueError, "'pixels'", "'pixel'")
    model.fit({"pixels": X}, np.ones((16, 3)), verbose=0)  # Keras matches a dict by Input name
    check(lambda: model.fit([X, X], np.ones((16, 3)), verbose=0), ValueError, "expects 1 input")
    seq = small_model()
    check(lambda: seq.fit([X, X], Y, verbose=0), ValueError, "expects 1 input")

    def batches():
        while True:
            yield {"a": X}, Y

    check(lambda: seq.fit(batches(), steps_per_epoch=1, verbose=0), ValueError, "'a'")


def test_losses_and_targets_that_do_not_match_the_outputs():
    no_loss = keras.Sequential([layers.Input((4,)), layers.Dense(3)])
    no_loss.compile("adam")
    check(lambda: no_loss.fit(X, Y, verbose=0), ValueError, "`loss`")
    long_weights = keras.Sequential([layers.Input((4,)), layers.Dense(3)])
    long_weights.compile("adam", "mse", loss_weights=[1.0, 2.0])
    check(lambda: long_weights.fit(X, np.ones((16, 3)), verbose=0), ValueError, "`loss_weights`", "[1.0, 2.0]")
    wrong_width = keras.Sequential([layers.Input((4,)), layers.Dense(3)])
    wrong_width.compile("adam", "mse")
    check(lambda: wrong_width.fit(X, np.ones((16, 5)), verbose=0), ValueError, "(16, 5)", "(16, 3)")

    inp = layers.Input((4,))
    heads = [layers.Dense(3, name="a")(inp), layers.Dense(2, name="b")(inp)]

    def two_heads():
        model = models.Model(inp, heads)
        model.compile("adam", {"a": "mse", "b": "mse"})
        return model

    check(lambda: two_heads().fit(X, {"a": np.ones((16, 3)), "c": np.ones((16, 2))}, verbose=0), ValueError, "'c'")
    check(lambda: two_heads().fit(X, {"a": np.ones((16, 3))}, verbose=0), ValueError, "'b'")
    # a dict of targets in another order than the outputs is matched by name
    history = two_heads().fit(X, {"b": np.ones((16, 2)), "a": np.zeros((16, 3))}, verbose=0)
    assert set(history.history) >= {"a_loss", "b_loss"}


# ------------------------------------------------------------------ monitors that do not exist


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: callbacks.EarlyStopping(monitor="val_acuracy", mode="max"),
        lambda tmp: callbacks.ReduceLROnPlateau(monitor="val_los"),
        lambda tmp: callbacks.ModelCheckpoint(str(tmp / "m.keras"), monitor="val_los", save_best_only=True),
    ],
)
def test_a_monitor_missing_from_the_logs_raises_after_the_first_epoch(make, tmp_path):
    model = small_model()
    seen = []
    counter = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs=None: seen.append(epoch))
    message = check(
        lambda: model.fit(X, Y, epochs=5, verbose=0, validation_data=(X, Y), callbacks=[counter, make(tmp_path)]),
        ValueError,
        "val_lo",
    )
    assert seen == [0]  # raised at the end of the first epoch, not after training ran to the end
    assert "Available names" in message and "val_loss" in message and "'accuracy'" in message


def test_default_val_loss_monitor_without_validation_data_says_so():
    message = check(
        lambda: small_model().fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.EarlyStopping()]),
        ValueError,
        "val_loss",
        "validation_data",
    )
    assert "Available names" in message


# ------------------------------------------------------------------ call-time errors that came from torch


def test_call_time_errors_are_named():
    check(lambda: layers.Embedding(5, 2)(np.array([[7]])), ValueError, "input_dim=5", "max 7")
    check(lambda: layers.Embedding(5, 2)(np.array([[-1, 2]])), ValueError, "input_dim=5", "min -1")
    check(lambda: layers.Rescaling(0.5)(np.array(["a", "b"])), TypeError, "Rescaling", "strings")
    check(lambda: layers.Flatten()([[1, 2], [3]]), ValueError, "ragged")
    dense = layers.Dense(2)
    dense.build((None, 3))
    check(lambda: dense.set_weights([np.array([["a"] * 2] * 3), np.zeros(2)]), TypeError, "kernel", "<U1")
    check(lambda: keras.preprocessing.image.ImageDataGenerator(rotation_range="x"), TypeError, "`rotation_range`")
    check(
        lambda: keras.preprocessing.image.ImageDataGenerator(brightness_range=(1.5, 0.5)),
        ValueError,
        "`brightness_range`",
    )
    check(lambda: keras.utils.img_to_array("hello"), TypeError, "`img`", "load_img")
    check(lambda: keras.utils.pad_sequences([[1, 2]], maxlen=-1), ValueError, "`maxlen`", "maxlen=-1")
    opt = optimizers.SGD()
    check(lambda: opt.apply_gradients([(np.ones((2, 2)), dense.kernel)]), ValueError, "expected shape (3, 2)")


def test_never_called_layer_output_keeps_keras_attribute_error_with_its_message():
    # Keras raises AttributeError here (so `hasattr(layer, "output")` is False); strided keeps that, with the
    # message naming the layer instead of torch's generic "'Dense' object has no attribute 'output'".
    with pytest.raises(AttributeError, match="has never been called"):
        layers.Dense(2).output
    assert not hasattr(layers.Dense(2), "output")


def test_numpy_gradients_are_accepted_in_keras_layout():
    dense = layers.Dense(2)
    dense.build((None, 3))
    before = dense.get_weights()[0]
    optimizers.SGD(learning_rate=1.0).apply_gradients([(np.ones((3, 2), "float32"), dense.kernel)])
    np.testing.assert_allclose(dense.get_weights()[0], before - 1.0, rtol=1e-6)


# ------------------------------------------------------------------ model building


def test_duplicate_layer_names_are_refused_at_build():
    inp = layers.Input((4,))
    hidden = layers.Dense(3, name="d")(inp)
    out = layers.Dense(3, name="d")(hidden)
    check(lambda: models.Model(inp, out), ValueError, "'d'", "2 times")
    check(
        lambda: keras.Sequential([layers.Input((4,)), layers.Dense(3, name="d"), layers.Dense(3, name="d")]),
        ValueError,
        "'d'",
        "unique names",
    )


# ------------------------------------------------------------------ tf.keras 2 leniencies kept on purpose


def test_tf_keras_2_spellings_are_kept(tmp_path):
    with pytest.warns(UserWarning, match="`lr` argument is deprecated"):
        opt = optimizers.Adam(lr=0.01)
    assert opt.learning_rate == pytest.approx(0.01)
    model = keras.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics="accuracy")
    history = model.fit(X, Y, verbose=0)
    assert "accuracy" in history.history
    model.save_weights(str(tmp_path / "w.h5"))  # the Keras 2 layout
    model.load_weights(str(tmp_path / "w.h5"))
