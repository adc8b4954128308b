"""register_keras_serializable / custom_object_scope: custom layers, losses and model subclasses
saved in a file are found again on load without `custom_objects`, as in Keras."""

import numpy as np
import pytest
import torch

import strided as keras
from strided import layers

X = np.random.default_rng(0).random((8, 4)).astype("float32")
Y = np.random.default_rng(1).random((8, 1)).astype("float32")


@keras.saving.register_keras_serializable(package="StridedTests")
class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="StridedTests")
def doubled_mse(y_true, y_pred):
    return 2.0 * torch.mean((y_true - y_pred) ** 2, dim=-1)


class Unregistered(Scale):
    pass


def model_with(layer):
    return keras.Sequential([keras.Input((4,)), layer, layers.Dense(1)])


def test_registered_layer_and_loss_load_without_custom_objects(tmp_path):
    model = model_with(Scale(3.0))
    model.compile("sgd", loss=doubled_mse)
    model.fit(X, Y, epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    assert keras.saving.get_registered_name(Scale) == "StridedTests>Scale"
    assert keras.saving.get_custom_objects()["StridedTests>Scale"] is Scale
    restored = keras.models.load_model(path)
    assert isinstance(restored.layers[0], Scale) and restored.layers[0].factor == 3.0
    np.testing.assert_allclose(restored.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    # the compiled loss came back too: the same value as the original model's
    assert restored.evaluate(X, Y, verbose=0) == pytest.approx(model.evaluate(X, Y, verbose=0), rel=1e-6)
    # the string name works in compile too, as a Keras user writes it
    restored.compile("sgd", loss="doubled_mse")
    plain = float(np.mean((restored.predict(X, verbose=0) - Y) ** 2))
    assert restored.evaluate(X, Y, verbose=0) == pytest.approx(2 * plain, rel=1e-5)


def test_unregistered_layer_needs_custom_objects_or_a_scope(tmp_path):
    model = model_with(Unregistered(0.5))
    path = str(tmp_path / "m.keras")
    model.save(path)
    with pytest.raises(ValueError, match="Unknown layer: 'Unregistered'.*custom_objects"):
        keras.models.load_model(path)
    with keras.saving.custom_object_scope({"Unregistered": Unregistered}):
        inside = keras.models.load_model(path)
    assert isinstance(inside.layers[0], Unregistered)
    direct = keras.models.load_model(path, custom_objects={"Unregistered": Unregistered})
    np.testing.assert_allclose(direct.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_registration_errors():
    with pytest.raises(ValueError, match="does not have a get_config"):
        keras.saving.register_keras_serializable()(type("NoConfig", (), {}))
    with pytest.raises(ValueError, match="already been registered"):
        keras.saving.register_keras_serializable(package="StridedTests", name="Scale")(Unregistered)


@pytest.mark.keras
def test_registered_layer_file_loads_in_real_keras(real_keras, tmp_path):
    model = model_with(Scale(3.0))
    path = str(tmp_path / "m.keras")
    model.save(path)

    @real_keras.saving.register_keras_serializable(package="StridedTests")
    class Scale_(real_keras.layers.Layer):  # the same layer written for Keras, under the same name
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    theirs = real_keras.models.load_model(path, custom_objects={"StridedTests>Scale": Scale_})
    np.testing.assert_allclose(theirs.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_keras_utils_graph_helpers():
    inputs = keras.Input((3,))
    hidden = layers.Dense(2)(inputs)
    assert keras.utils.is_keras_tensor(hidden) and not keras.utils.is_keras_tensor(np.ones(3))
    assert keras.utils.get_source_inputs(hidden) == [inputs]
    x, y, sw = keras.utils.unpack_x_y_sample_weight(keras.utils.pack_x_y_sample_weight(X, Y))
    assert x is X and y is Y and sw is None
