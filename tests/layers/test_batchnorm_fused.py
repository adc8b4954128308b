"""BatchNormalization's training step through torch's fused kernel, with the moving-variance fix-ups of all
layers applied together at the end of the forward pass: Keras's numbers, and few dispatched ops."""

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import strided as keras
from strided import layers
from strided.backend import deferred_updates


def _model(channels=3, blocks=2, momentum=0.99):
    seq = [layers.Input((5, 5, channels))]
    for _ in range(blocks):
        seq += [
            layers.Conv2D(channels, 3, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=momentum),
            layers.ReLU(),
        ]
    return keras.Sequential(seq + [layers.Flatten(), layers.Dense(4)])


def _keras_moving_stats(x, mean, var, momentum):
    """Keras's update from the biased batch variance, in float64."""
    axes = tuple(range(x.ndim - 1))
    mu, v = x.mean(axis=axes), x.var(axis=axes)
    return mean * momentum + mu * (1 - momentum), var * momentum + v * (1 - momentum)


def test_deferred_update_equals_the_direct_call():
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.standard_normal((6, 4, 4, 3)).astype("float32") * 2 + 1)
    direct, deferred = layers.BatchNormalization(momentum=0.9), layers.BatchNormalization(momentum=0.9)
    direct(x), deferred(x)
    for _ in range(3):
        y1 = direct(x, training=True)
        with deferred_updates.deferred():
            y2 = deferred(x, training=True)
            (y2 * y2).sum()  # the moving statistics are fixed up when the block ends
        torch.testing.assert_close(y2, y1)
        for a, b in zip(direct.get_weights(), deferred.get_weights()):
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
    mean, var = _keras_moving_stats(x.double().numpy(), np.zeros(3), np.ones(3), 0.9)
    for _ in range(2):
        mean, var = _keras_moving_stats(x.double().numpy(), mean, var, 0.9)
    np.testing.assert_allclose(deferred.moving_mean.detach().numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(deferred.moving_variance.detach().numpy(), var, rtol=1e-5)


def test_layer_called_twice_in_one_deferred_forward_updates_in_sequence():
    rng = np.random.default_rng(1)
    a = torch.as_tensor(rng.standard_normal((8, 3)).astype("float32"))
    b = torch.as_tensor(rng.standard_normal((8, 3)).astype("float32") * 3 - 1)
    shared = layers.BatchNormalization(momentum=0.8)
    shared(a)
    w = torch.ones(3, requires_grad=True)
    with deferred_updates.deferred():
        loss = (shared(a * w, training=True) ** 2).sum() + (shared(b * w, training=True) ** 3).sum()
    loss.backward()  # the fix-ups write through `.data`: the graph's saved tensors stay valid
    assert w.grad is not None
    mean, var = _keras_moving_stats(a.double().numpy(), np.zeros(3), np.ones(3), 0.8)
    mean, var = _keras_moving_stats(b.double().numpy(), mean, var, 0.8)
    np.testing.assert_allclose(shared.moving_mean.detach().numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(shared.moving_variance.detach().numpy(), var, rtol=1e-5)


class _Ops(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.names = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.append(str(func))
        return func(*args, **(kwargs or {}))


def test_fit_step_moving_variance_fix_up_is_constant_in_the_number_of_layers():
    x = np.random.default_rng(2).standard_normal((8, 5, 5, 3)).astype("float32")
    y = np.arange(8) % 4
    counts = {}
    for blocks in (2, 6):
        model = _model(blocks=blocks)
        model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.train_on_batch(x, y)
        with _Ops() as ops:
            model.train_on_batch(x, y)
        counts[blocks] = ops.names
    for blocks, names in counts.items():
        assert names.count("aten.native_batch_norm.default") == blocks
        # no per-layer copy or update of the moving statistics: one kernel per layer, then the grouped fix-up
        assert "aten.clone.default" not in names and "aten.copy_.default" not in names
    # the fix-ups of all layers (one shape: one group) and the optimizer: the same multi-tensor kernels
    foreach = {blocks: [n for n in names if n.startswith("aten._foreach")] for blocks, names in counts.items()}
    assert foreach[2] == foreach[6] and "aten._foreach_zero_.default" in foreach[6]


@pytest.mark.keras
def test_fit_moving_statistics_match_keras(real_keras):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 5, 5, 3)).astype("float32") * 2 + 0.5
    y = rng.integers(0, 4, 16)
    ours = _model(momentum=0.9)
    theirs = real_keras.Sequential(
        [real_keras.Input((5, 5, 3))]
        + [
            layer
            for _ in range(2)
            for layer in (
                real_keras.layers.Conv2D(3, 3, padding="same", use_bias=False),
                real_keras.layers.BatchNormalization(momentum=0.9),
                real_keras.layers.ReLU(),
            )
        ]
        + [real_keras.layers.Flatten(), real_keras.layers.Dense(4)]
    )
    theirs.set_weights(ours.get_weights())
    for model, lib in ((ours, keras), (theirs, real_keras)):
        model.compile(
            optimizer=lib.optimizers.SGD(0.05, momentum=0.9),
            loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-5)
