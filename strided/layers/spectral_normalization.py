"""``SpectralNormalization``: divides a wrapped layer's kernel by its largest singular value (Miyato et
al., 2018), estimated by power iteration, to bound the layer's Lipschitz constant (GAN discriminators)."""

import numbers

import torch

from strided import initializers
from strided.layers import _util
from strided.layers.structure import Wrapper


def _l2_normalize(x):
    # Keras's ops.normalize(x, axis=None): x * min(rsqrt(sum(x^2)), 1 / epsilon), so zeros stay zeros.
    inv_norm = torch.rsqrt(x.square().sum())
    return x * torch.clamp(inv_norm, max=1.0 / 1e-7)


class SpectralNormalization(Wrapper):
    """Spectral normalization of the ``kernel`` of a wrapped layer (``Dense``, ``Conv2D``...).

    In training (``training=True``), each call runs ``power_iterations`` steps of power iteration
    on the kernel seen as a matrix ``W`` of shape ``(-1, kernel.shape[-1])`` (Keras layout):
    ``v = normalize(u W^T)``, ``u = normalize(v W)``; then ``sigma = v W u^T`` estimates the largest
    singular value, the kernel variable itself is replaced by ``kernel / sigma`` and the vector
    ``u`` is stored in the non-trainable weight ``vector_u`` (shape ``(1, kernel.shape[-1])``,
    initialised from a truncated normal with stddev 0.02). The wrapped layer is then called with
    the normalised kernel; gradients do not flow through the normalisation. In inference the
    kernel is used as it is (already normalised by the last training step). An all-zero kernel is
    left unchanged. As in Keras, ``weights`` are ``[kernel, vector_u, <the other weights of the
    wrapped layer>]``.

    Args:
        layer: a ``keras.layers.Layer`` instance with a ``kernel`` (or ``embeddings``) weight.
        power_iterations: the number of power-iteration steps per training call (an integer > 0, 1).
        **kwargs: base layer arguments (``name``, ``trainable``, ``dtype``...).

    Input shape:
        That of the wrapped layer (its last axis is fixed when the layer is built).

    Output shape:
        That of the wrapped layer.

    Example:

    >>> x = np.random.rand(1, 10, 10, 1)
    >>> conv2d = keras.layers.SpectralNormalization(keras.layers.Conv2D(2, 2))
    >>> tuple(conv2d(x).shape)
    (1, 9, 9, 2)
    """

    _config_keys = ("power_iterations",)

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if (
            isinstance(power_iterations, bool)
            or not isinstance(power_iterations, numbers.Integral)
            or power_iterations <= 0
        ):
            raise ValueError(
                f"`power_iterations` should be greater than zero. Received: `power_iterations={power_iterations}`"
            )
        self.power_iterations = int(power_iterations)

    # ------------------------------------------------------------------ weights
    @property
    def kernel(self):
        """The wrapped layer's kernel (or embeddings) variable, which training normalises in place."""
        for attr in ("kernel", "embeddings"):
            weight = getattr(self.layer, attr, None)
            if isinstance(weight, torch.Tensor):
                return weight
        return None

    @property
    def weights(self):
        # Keras tracks the wrapped kernel as the wrapper's own (first) variable: [kernel, vector_u, ...].
        out = super().weights
        kernel = self.kernel if self.built else None
        if kernel is None:
            return out
        return [kernel] + [w for w in out if w is not kernel]

    def _saved_arrays(self):
        # A Keras file stores the wrapper's own variables (kernel, vector_u) under '<wrapper>/vars' and the
        # wrapped layer's under '<wrapper>/layer/vars'.
        return [
            self._to_keras_layout_live(self.kernel).detach().cpu().numpy().copy(),
            self.vector_u.detach().cpu().numpy().copy(),
        ]

    def _load_saved_arrays(self, values):
        kernel, vector_u = values
        with torch.no_grad():
            self._to_keras_layout_live(self.kernel).copy_(torch.as_tensor(kernel, dtype=self.kernel.dtype))
            self.vector_u.copy_(torch.as_tensor(vector_u, dtype=self.vector_u.dtype))

    # ------------------------------------------------------------------ building and calling
    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if not self.layer.built:
            self.layer._maybe_build(input_shape)
            self.layer._build_input_shape = input_shape  # Keras writes it in the wrapped layer's config
        kernel = self.kernel
        if kernel is None:
            raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor 'embeddings'")
        units = self._keras_shape(kernel)[-1]
        self.vector_u = self.add_weight(
            shape=(1, units),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False,
            name="vector_u",
            dtype=str(kernel.dtype).replace("torch.", ""),
        )
        self._input_last_dim = input_shape[-1] if input_shape else None
        super().build(input_shape)

    def check_input(self, shape):
        _util.check_spec(self, shape, min_ndim=1, axes={-1: getattr(self, "_input_last_dim", None)})

    def normalized_weights(self):
        """One power-iteration update: returns ``(new vector_u, kernel / sigma)``, the kernel in Keras layout.

        Nothing is assigned and no gradient flows; ``call(..., training=True)`` assigns both.
        """
        with torch.no_grad():
            kernel = self._to_keras_layout_live(self.kernel)
            w = kernel.reshape(-1, kernel.shape[-1])
            u = self.vector_u.to(w.dtype)
            for _ in range(self.power_iterations):
                v = _l2_normalize(u @ w.T)
                u = _l2_normalize(v @ w)
            sigma = (v @ w) @ u.T
            return u.to(self.vector_u.dtype), kernel / sigma

    def call(self, inputs, training=False):
        if training and not getattr(inputs, "is_meta", False):
            new_u, new_kernel = self.normalized_weights()
            with torch.no_grad():
                kernel = self._to_keras_layout_live(self.kernel)
                all_zero = (kernel == 0).all()  # selected on the device: no host sync
                kernel.copy_(torch.where(all_zero, kernel, new_kernel))
                self.vector_u.copy_(torch.where(all_zero, self.vector_u, new_u))
        outputs = self.layer(inputs, training=training)
        return (
            outputs.to(inputs.dtype) if isinstance(outputs, torch.Tensor) and outputs.dtype != inputs.dtype else outputs
        )

    # ------------------------------------------------------------------ config
