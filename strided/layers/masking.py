"""``Masking``: marks the time steps whose features all equal ``mask_value`` as padding."""

import numbers

import torch

from strided.layers.base import Layer


class Masking(Layer):
    """Masks a sequence by using a mask value to skip time steps.

    For each time step of ``inputs (batch, timesteps, ...)``, if all features equal ``mask_value``
    the step is masked: its output is zeros and the boolean mask ``(batch, timesteps)`` attached to
    the output (``output._keras_mask``, False at masked steps) makes downstream recurrent layers
    skip it, as in Keras.

    Args:
        mask_value: the padding value (default 0.0).

    Input shape:
        ``(batch, timesteps, ...)``.

    Output shape:
        the same.

    Example:

    >>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 4.0]]], dtype="float32")
    >>> layer = keras.layers.Masking(mask_value=0.0)
    >>> layer.compute_mask(x).tolist()  # the middle step is all mask_value
    [[True, False, True]]
    >>> tuple(keras.layers.LSTM(4)(layer(x)).shape)  # the LSTM skips the masked step
    (1, 4)
    """

    _config_keys = ("mask_value",)

    def __init__(self, mask_value=0.0, **kwargs):
        if not isinstance(mask_value, numbers.Number) or isinstance(mask_value, bool):
            raise TypeError(
                f"Invalid type for argument `mask_value`. Expected a number. Received: mask_value={mask_value!r}"
            )
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        """``(batch, timesteps)`` booleans: True where some feature differs from ``mask_value``."""
        return torch.as_tensor(inputs).ne(self.mask_value).any(dim=-1)

    def call(self, inputs):
        keep = inputs.ne(self.mask_value).any(dim=-1, keepdim=True)
        outputs = torch.where(keep, inputs, torch.zeros((), dtype=inputs.dtype, device=inputs.device))
        outputs._keras_mask = keep.squeeze(-1)
        return outputs
