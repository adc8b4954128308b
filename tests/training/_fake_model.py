"""A tiny model implementing the Model contract the trainer relies on (no strided layers)."""

import numpy as np
import torch

from strided.training import Trainer


class FakeModel(Trainer, torch.nn.Module):
    """Dense layer `act(x @ w + b)`; weights in Keras layout (in, out)."""

    def __init__(self, n_in=4, n_out=3, activation="softmax", seed=0, l2=0.0):
        torch.nn.Module.__init__(self)
        Trainer.__init__(self)
        g = torch.Generator().manual_seed(seed)
        self.w = torch.nn.Parameter(torch.randn(n_in, n_out, generator=g) * 0.1)
        self.b = torch.nn.Parameter(torch.zeros(n_out))
        self.activation = activation
        self.l2 = l2
        self.built = True
        self.name = "fake"
        self.output_names = ["dense"]
        self._losses = []
        self.seen = []  # inputs of every training-mode call, to see which samples were used

    def forward(self, x, training=False):
        if training:
            self.seen.append(x.detach().clone())
        z = x.to(self.w.dtype) @ self.w + self.b
        self._losses = [self.l2 * (self.w**2).sum()] if self.l2 else []
        if self.activation == "softmax":
            return torch.softmax(z, -1)
        if self.activation == "sigmoid":
            return torch.sigmoid(z)
        return z

    @property
    def losses(self):
        return self._losses

    @property
    def trainable_weights(self):
        return [self.w, self.b]

    @property
    def non_trainable_weights(self):
        return []

    @property
    def weights(self):
        return [self.w, self.b]

    def get_weights(self):
        return [w.detach().cpu().numpy().copy() for w in self.weights]

    def set_weights(self, weights):
        with torch.no_grad():
            for w, v in zip(self.weights, weights):
                w.copy_(torch.as_tensor(np.asarray(v)))

    def save_weights(self, filepath, overwrite=True):
        with open(filepath, "wb") as f:
            np.savez(f, *self.get_weights())

    def load_weights(self, filepath):
        data = np.load(filepath)
        self.set_weights([data[f"arr_{i}"] for i in range(len(data.files))])

    def save(self, filepath, overwrite=True):
        self.save_weights(filepath)


class SGD:
    """Plain SGD with the optimizer contract (until strided.optimizers lands)."""

    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate
        self.iterations = 0
        self.built = False

    def build(self, variables):
        self.built = True

    def apply(self, grads, variables):
        for g, v in zip(grads, variables):
            v.sub_(self.learning_rate * g)
        self.iterations += 1

    def get_config(self):
        return {"learning_rate": self.learning_rate}
