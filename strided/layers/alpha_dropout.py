"""``AlphaDropout``: dropout that keeps the self-normalizing property of SELU networks (Keras layer)."""

import torch

from strided.layers import _util
from strided.utils import validation
from strided.layers.regularization import _RandomLayer

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


@_util.shared_doc
class AlphaDropout(_RandomLayer):
    """Applies Alpha Dropout to the input.

    Alpha Dropout keeps the mean and variance of its inputs at their original values, so that SELU
    networks stay self-normalizing: dropped units are set to SELU's negative saturation value
    ``-alpha * scale`` and the result is transformed by ``a * x + b`` with
    ``a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5`` and ``b = -a * alpha_p * rate``.

    Args:
        rate: float in [0, 1], the drop probability.
        noise_shape: optional shape of the binary keep/drop mask (``None`` entries take the input's size).
        seed: optional integer seed for this layer's own random generator.

    Call arguments: ``inputs``, ``training`` (dropout applies only when True).

    {{same_shape}}

    Example:

    >>> x = np.random.default_rng(0).normal(size=(200, 200)).astype("float32")
    >>> y = keras.layers.AlphaDropout(0.2, seed=1)(x, training=True).numpy()
    >>> round(float(y.mean()), 1), round(float(y.std()), 1)  # mean and variance kept
    (0.0, 1.0)
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    _config_keys = ("rate", "noise_shape")

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                f"Received: rate={rate!r}"
            )
        self.rate = rate
        self.noise_shape = (
            None
            if noise_shape is None
            else tuple(validation.sequence_of(noise_shape, "noise_shape", "integers or None"))
        )
        self._init_seed(seed)
        super().__init__(**kwargs)

    def call(self, inputs, training=False):
        if not training or self.rate <= 0:
            return inputs
        x = _util.cast_float(inputs, self.dtype) if not inputs.is_floating_point() else inputs
        shape = (
            tuple(x.shape)
            if self.noise_shape is None
            else tuple(d if n is None else n for n, d in zip(self.noise_shape, x.shape))
        )
        gen = None if x.is_meta else self._generator(x.device)
        kept = (torch.empty(shape, dtype=x.dtype, device=x.device).uniform_(generator=gen) >= self.rate).to(x.dtype)
        return self.alpha_transform(x, kept, self.rate)

    @staticmethod
    def alpha_transform(x, kept, rate):
        """The transformation for a given keep mask (1 kept, 0 dropped), Keras's formula."""
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * rate
        return a * (x * kept + alpha_p * (1 - kept)) + b
