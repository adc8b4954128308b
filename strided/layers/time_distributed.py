"""``TimeDistributed``: applies one layer to every time step of a sequence (e.g. a CNN to video frames)."""
import torch

from strided.layers.base import Layer


class TimeDistributed(Layer):
    """Applies ``layer`` to every slice ``inputs[:, t]`` along axis 1, with the same weights.

    For a batch of videos ``(batch, frames, height, width, channels)``,
    ``TimeDistributed(Conv2D(16, 3))`` convolves each frame. Each step is a separate call, as in Keras,
    so a BatchNormalization inside sees per-frame statistics.

    Args:
        layer: the layer to apply (a ``keras.layers.Layer`` instance).
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer}")
        super().__init__(**kwargs)
        self.layer = layer

    def _child_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                             f"received: {input_shape}")
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        if not self.layer.built:
            self.layer._maybe_build(self._child_shape(tuple(input_shape)))
        super().build(input_shape)

    def call(self, inputs, training=None):
        self._child_shape(tuple(inputs.shape))
        steps = [self.layer(inputs[:, t], training=training) for t in range(inputs.shape[1])]
        return torch.stack(steps, dim=1)

    def get_config(self):
        from strided.saving import serialization
        config = super().get_config()
        config["layer"] = serialization.serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from strided.saving import serialization
        config = dict(config)
        config["layer"] = serialization.deserialize_layer(config["layer"], custom_objects)
        return cls(**config)
