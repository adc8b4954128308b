"""The precomputed forward of Sequential and functional models: the same numbers as calling each layer, the
checks still on for shapes not seen before, and few dispatched ops."""

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import strided as keras
from strided import layers


class _Ops(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.names = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.append(str(func))
        return func(*args, **(kwargs or {}))


def _blocks(n=3, activation=None):
    out = []
    for _ in range(n):
        out += [
            layers.Conv2D(4, 3, padding="same", use_bias=False, activation=activation),
            layers.BatchNormalization(momentum=0.8),
            layers.ReLU(),
        ]
    return out


def test_sequential_run_on_channels_first_views_matches_layer_by_layer_calls():
    keras.utils.set_random_seed(0)
    stack = _blocks() + [layers.Flatten(), layers.Dense(3)]
    model = keras.Sequential([layers.Input((6, 6, 2))] + stack)
    twin = keras.Sequential([layers.Input((6, 6, 2))] + _blocks() + [layers.Flatten(), layers.Dense(3)])
    twin.set_weights(model.get_weights())
    x = torch.randn(5, 6, 6, 2)
    for training in (True, False):
        y = model(x, training=training)
        h = x
        for layer in twin.layers:  # each layer through its own checked __call__
            h = layer(h, training=training)
        torch.testing.assert_close(y, h)
    for a, b in zip(model.get_weights(), twin.get_weights()):  # moving statistics included
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    y = model(x, training=True)
    y.square().sum().backward()
    h = x
    for layer in twin.layers:
        h = layer(h, training=True)
    h.square().sum().backward()
    for a, b in zip(model.trainable_weights, twin.trainable_weights):
        torch.testing.assert_close(a.grad, b.grad)


def test_a_run_moves_axes_once_in_and_once_out():
    model = keras.Sequential([layers.Input((6, 6, 2))] + _blocks(4) + [layers.Flatten(), layers.Dense(3)])
    x = torch.randn(2, 6, 6, 2)
    model(x, training=False)
    with torch.no_grad(), _Ops() as ops:
        model(x, training=False)
    assert ops.names.count("aten.permute.default") == 2, ops.names
    assert ops.names.count("aten.convolution.default") == 4


def test_axis_dependent_activation_and_late_activity_regularizer_leave_the_run():
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            layers.Input((5, 5, 3)),
            layers.Conv2D(3, 3, padding="same", activation="softmax"),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Conv2D(2, 1),
        ]
    )
    x = torch.randn(2, 5, 5, 3)
    y = model(x, training=False)
    h = x
    for layer in model.layers:
        h = layer(h, training=False)
    torch.testing.assert_close(y, h)
    np.testing.assert_allclose(model.layers[0](x).sum(-1).detach().numpy(), 1.0, rtol=1e-5)  # softmax over channels
    model.layers[2].activity_regularizer = keras.regularizers.L2(0.1)  # after the plan was made
    model(x, training=False)
    assert len(model.losses) == 1 and model.losses[0].detach().item() > 0


def test_checked_signature_does_not_skip_checks_for_new_shapes():
    model = keras.Sequential([layers.Input((4,)), layers.Dense(2)])
    model(torch.randn(3, 4), training=False)
    model(torch.randn(3, 4), training=False)
    with pytest.raises(ValueError, match="incompatible"):
        model(torch.randn(3, 5), training=False)
    inputs = keras.Input((4,))
    functional = keras.Model(inputs, layers.Dense(2)(inputs))
    functional(torch.randn(3, 4), training=True)
    with pytest.raises(ValueError, match="incompatible"):
        functional(torch.randn(3, 7), training=True)


def test_functional_direct_calls_keep_activity_losses_and_masks():
    inputs = keras.Input((4,))
    hidden = layers.Dense(3, activity_regularizer="l2")(inputs)
    model = keras.Model(inputs, layers.Dense(1)(hidden))
    model(torch.ones(2, 4), training=True)
    assert len(model.losses) == 1
    tokens = keras.Input((5,), dtype="int64")
    masked = keras.Model(tokens, layers.Embedding(10, 4, mask_zero=True)(tokens))
    out = masked(torch.tensor([[1, 2, 0, 0, 0]]), training=False)
    assert out._keras_mask.tolist() == [[True, True, False, False, False]]


def test_fit_regularization_losses_follow_the_layers_of_each_fit():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([layers.Input((3,)), layers.Dense(2, kernel_regularizer=keras.regularizers.L2(1.0))])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    plain = float(np.mean(model.predict(x, verbose=0) ** 2))
    kernel = model.layers[0].get_weights()[0]
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], plain + float((kernel**2).sum()), rtol=1e-5)
    model.add(layers.Dense(1, kernel_regularizer=keras.regularizers.L2(1.0)))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    assert len(model.losses) == 2
    model.fit(x, np.zeros((4, 1), "float32"), batch_size=4, epochs=1, verbose=0)
    assert "_loss_sources" not in model.__dict__  # the cache lives only while fit runs


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_joins_the_channels_first_run(padding):
    """The seed convnet's Conv/MaxPooling/Conv/AveragePooling stack: one axis move in and out, same numbers."""
    keras.utils.set_random_seed(2)

    def stack():
        return [
            layers.Input((9, 9, 2)),
            layers.Conv2D(4, 3, activation="relu", padding=padding),
            layers.MaxPooling2D(2, padding=padding),
            layers.Conv2D(3, 2, padding=padding),
            layers.AveragePooling2D(2, padding=padding),
            layers.Flatten(),
            layers.Dense(2),
        ]

    model, twin = keras.Sequential(stack()), keras.Sequential(stack())
    twin.set_weights(model.get_weights())
    x = torch.randn(3, 9, 9, 2)
    with torch.no_grad(), _Ops() as ops:
        y = model(x)
    assert ops.names.count("aten.permute.default") == 2, ops.names
    h = x
    for layer in twin.layers:
        h = layer(h)
    torch.testing.assert_close(y, h)
    model(x).square().sum().backward()
    h = x
    for layer in twin.layers:
        h = layer(h)
    h.square().sum().backward()
    for a, b in zip(model.trainable_weights, twin.trainable_weights):
        torch.testing.assert_close(a.grad, b.grad)
