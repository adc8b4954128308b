"""``TimeDistributed``: applies one layer to every time step of a sequence (e.g. a CNN to video frames)."""

import torch

from strided.layers.base import Layer
from strided.layers.structure import Wrapper


class TimeDistributed(Wrapper):
    """Applies ``layer`` to every slice ``inputs[:, t]`` along axis 1, with the same weights.

    For a batch of videos ``(batch, frames, height, width, channels)``,
    ``TimeDistributed(Conv2D(16, 3))`` convolves each frame. Each step is a separate call, as in Keras,
    so a BatchNormalization inside sees per-frame statistics.

    Args:
        layer: the layer to apply (a ``keras.layers.Layer`` instance).

    Call arguments: ``inputs``, ``training``, optional ``mask`` ``(batch, timesteps, ...)`` (by default the mask
    an upstream layer attached): ``mask[:, t]`` is passed to a wrapped layer whose ``call`` takes a mask, and the
    output keeps the input's mask, as in Keras.

    Input shape:
        ``(batch, time, ...)``: the wrapped layer's input shape with a time axis after the batch axis.

    Output shape:
        ``(batch, time, ...)``: the wrapped layer's output shape for one step, with the time axis.

    Example:

    >>> videos = np.random.rand(2, 5, 28, 28, 3).astype("float32")  # (batch, frames, height, width, channels)
    >>> tuple(keras.layers.TimeDistributed(keras.layers.Conv2D(16, 3))(videos).shape)
    (2, 5, 26, 26, 16)
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        super().__init__(layer, **kwargs)

    def _child_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(
                f"`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                f"received: {input_shape}"
            )
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        if not self.layer.built:
            self.layer._maybe_build(self._child_shape(tuple(input_shape)))
        super().build(input_shape)

    def call(self, inputs, training=None, mask=None):
        self._child_shape(tuple(inputs.shape))
        if mask is not None:
            mask = torch.as_tensor(mask, device=inputs.device)
            if mask.ndim < 2:
                raise ValueError(
                    "The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                    f"`(batch_size, timesteps)`), but it has {mask.ndim} dimension(s) with shape "
                    f"{tuple(mask.shape)}."
                )
            if tuple(mask.shape[:2]) != tuple(inputs.shape[:2]):
                raise ValueError(
                    f"The `mask` passed to the `TimeDistributed` layer has a shape {tuple(mask.shape)} "
                    f"that is incompatible with the input shape {tuple(inputs.shape)}. The first two "
                    "dimensions of the mask (batch size and timesteps) must match the input's first "
                    f"two dimensions. Expected mask shape prefix: {tuple(inputs.shape[:2])}."
                )
        pass_mask = mask is not None and self.layer._call_takes_mask
        steps = [
            self.layer(inputs[:, t], training=training, **({"mask": mask[:, t]} if pass_mask else {}))
            for t in range(inputs.shape[1])
        ]
        return torch.stack(steps, dim=1)
