"""TorchModuleWrapper: a torch.nn.Module trains inside a Keras model exactly as in real Keras, its
state_dict (buffers included) survives save/load, and misuse gets clear errors."""

import copy

import numpy as np
import pytest
import torch

import strided as keras
from strided import layers

X = np.random.default_rng(0).random((96, 16)).astype("float32")
Y = ((X[:, 0] > 0.5).astype("int64") + (X[:, 1] > 0.5)).astype("int64")


def backbone(seed=0):
    # No bias before the BatchNorm: its gradient would be pure rounding noise, which Adam amplifies.
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(16, 32, bias=False), torch.nn.BatchNorm1d(32), torch.nn.ReLU())


def model_around(module, ks=keras):
    return ks.Sequential(
        [ks.Input((16,)), ks.layers.TorchModuleWrapper(module), ks.layers.Dense(3, activation="softmax")]
    )


def test_wrapped_module_is_a_layer_with_its_parameters_as_weights():
    module = backbone()
    model = model_around(module)
    wrapper = model.layers[0]
    assert model.output_shape == (None, 3) and wrapper.output_shape == (None, 32)
    assert len(wrapper.trainable_weights) == 3 and model.count_params() == 16 * 32 + 64 + 99
    assert all(w is p for w, p in zip(wrapper.weights, module.parameters()))
    before = [p.detach().clone() for p in module.parameters()]
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
    assert all(not torch.equal(a, p) for a, p in zip(before, module.parameters()))  # fit trains the module
    assert float(module[1].running_mean.abs().sum()) > 0  # training mode inside fit: BN statistics move
    stats = module[1].running_mean.clone()
    model.predict(X, verbose=0)  # inference mode inside predict: they stay
    torch.testing.assert_close(module[1].running_mean, stats)


@pytest.mark.keras
def test_training_matches_real_keras_torch_module_wrapper(real_keras):
    ours = model_around(backbone(3))
    theirs = model_around(copy.deepcopy(backbone(3)), real_keras)
    theirs(X[:2], training=False)  # Keras builds the Dense after the wrapper on the first call
    theirs.layers[1].set_weights(ours.layers[1].get_weights())
    for m in (ours, theirs):
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h_ours = ours.fit(X, Y, epochs=3, batch_size=16, shuffle=False, verbose=0).history
    h_theirs = theirs.fit(X, Y, epochs=3, batch_size=16, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h_ours["loss"], h_theirs["loss"], rtol=1e-5)
    np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0), atol=1e-5)


def test_weights_file_holds_the_state_dict_with_buffers(tmp_path):
    model = model_around(backbone(0))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    fresh = model_around(backbone(1))
    fresh.load_weights(path)
    np.testing.assert_allclose(fresh.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    torch.testing.assert_close(fresh.layers[0].module[1].running_var, model.layers[0].module[1].running_var)


def test_channels_first_modules_and_declared_output_shapes():
    inputs = keras.Input((1, 12, 12))
    conv = layers.TorchModuleWrapper(torch.nn.Conv2d(1, 4, 3))
    assert conv(inputs).shape == (None, 4, 10, 10)
    declared = layers.TorchModuleWrapper(torch.nn.Flatten(), output_shape=(144,))
    assert declared(inputs).shape == (None, 144)
    x = torch.rand(2, 1, 12, 12)
    torch.testing.assert_close(declared(x), x.flatten(1))


def test_misuse_is_explained(tmp_path):
    with pytest.raises(TypeError, match="expects a torch.nn.Module"):
        layers.TorchModuleWrapper(lambda x: x)
    with pytest.raises(ValueError, match="LazyModules are not supported"):
        layers.TorchModuleWrapper(torch.nn.LazyLinear(4))
    model = model_around(backbone())
    with pytest.raises(NotImplementedError, match="save the model's weights with `save_weights`"):
        model.save(str(tmp_path / "m.keras"))
    assert not (tmp_path / "m.keras").exists()
