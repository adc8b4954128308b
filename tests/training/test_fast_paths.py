"""Engine choices that keep training fast, pinned by value (not by time)."""

import numpy as np
import pytest
import torch

import strided as keras
from strided import layers, losses, models


def _seed_convnet():
    return models.Sequential(
        [
            layers.Input((28, 28, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def test_softmax_output_crossentropy_uses_the_logits():
    logits = torch.tensor([[30.0, 0.0, -30.0], [0.5, 0.2, 0.1]], requires_grad=True)
    probs = keras.activations.softmax(logits)
    y = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    exact = -(y * torch.log_softmax(logits, -1)).sum(-1)
    got = losses.categorical_crossentropy(y, probs)
    # Clipped probabilities would cap the first loss at -log(1e-7) = 16.1; the logits give 60.
    np.testing.assert_allclose(got.detach().numpy(), exact.detach().numpy(), rtol=1e-6)
    assert got[0].item() > 59
    sparse = losses.sparse_categorical_crossentropy(torch.tensor([2, 0]), probs)
    np.testing.assert_allclose(sparse.detach().numpy(), exact.detach().numpy(), rtol=1e-6)
    # Plain probabilities (no logits attached) keep Keras's clipping semantics.
    plain = losses.categorical_crossentropy(y, probs.detach().clone())
    assert abs(plain[0].item() - (-np.log(1e-7))) < 1e-3


def test_conv_kernels_are_channels_last_and_grads_match_their_strides():
    model = _seed_convnet()
    kernel = model.layers[0].kernel
    assert kernel.is_contiguous(memory_format=torch.channels_last)
    assert model.layers[0].get_weights()[0].shape == (3, 3, 1, 8)
    x = torch.rand(4, 28, 28, 1)
    model(x, training=True).sum().backward()
    for w in model.trainable_weights:
        # Strides of size-1 dimensions carry no layout information.
        same = all(a == b for a, b, n in zip(w.grad.stride(), w.stride(), w.shape) if n > 1)
        assert same, (w._keras_name, w.grad.stride(), w.stride())


def test_channels_last_kernel_round_trips_keras_layout():
    model = _seed_convnet()
    weights = [np.random.rand(*w.shape).astype("float32") for w in model.get_weights()]
    model.set_weights(weights)
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.gpu
def test_cpu_tensor_given_to_gpu_model_is_moved():
    keras.config.set_device("cuda")
    try:
        model = _seed_convnet()
        out = model(torch.rand(2, 28, 28, 1))
        assert out.device.type == "cuda" and tuple(out.shape) == (2, 10)
    finally:
        keras.config.set_device("auto")
