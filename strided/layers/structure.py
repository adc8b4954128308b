"""Layer plumbing from Keras 3: ``InputSpec``, the ``Wrapper`` base class, ``Pipeline``, and the
``layers.serialize`` / ``layers.deserialize`` functions."""

import torch

from strided.layers.base import Layer
from strided.saving import serialization_lib
from strided.utils.registry import FromConfig


class InputSpec(FromConfig):
    """Specifies the rank, dtype and shape of every input to a layer.

    Layers can expose (if appropriate) an ``input_spec`` attribute: an instance of ``InputSpec``, or a
    nested structure of them (one per input). A ``None`` entry in a shape is compatible with any size.

    Args:
        dtype: expected dtype of the input.
        shape: expected shape of the input (may include ``None`` for dynamic axes), batch size included.
        ndim: expected rank of the input.
        max_ndim: maximum rank of the input.
        min_ndim: minimum rank of the input.
        axes: dictionary mapping integer axes to a specific dimension value.
        allow_last_axis_squeeze: if True, allow inputs of rank N+1 as long as the last axis of the input
            is 1, as well as inputs of rank N-1 as long as the last axis of the spec is 1.
        name: expected key corresponding to this input when passing data as a dictionary.
        optional: whether the input is optional.

    Example:

    ```python
    class MyLayer(Layer):
        def __init__(self):
            super().__init__()
            # The layer will accept inputs with shape (*, 28, 28) & (*, 28, 28, 1)
            # and raise an appropriate error message otherwise.
            self.input_spec = InputSpec(shape=(None, 28, 28, 1), allow_last_axis_squeeze=True)
    ```
    """

    _config_keys = ("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes", "optional")

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype = getattr(dtype, "name", dtype)
        if shape is not None:
            self.shape = tuple(shape)
            self.ndim = len(self.shape)
        else:
            self.ndim = ndim
            self.shape = None
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError):
            raise TypeError(f"Argument `axes` must be a dict with integer keys. Received: axes={axes}") from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            max_axis = max(self.axes)
            if max_axis > max_dim:
                raise ValueError(f"Axis {max_axis} is greater than the maximum allowed value: {max_dim}")

    def __repr__(self):
        spec = [
            f"dtype={self.dtype}" if self.dtype else "",
            f"shape={self.shape}" if self.shape else "",
            f"ndim={self.ndim}" if self.ndim else "",
            f"max_ndim={self.max_ndim}" if self.max_ndim else "",
            f"min_ndim={self.min_ndim}" if self.min_ndim else "",
            f"axes={self.axes}" if self.axes else "",
        ]
        return f"InputSpec({', '.join(x for x in spec if x)})"

    def check(self, shape, layer_name="layer"):
        """Raises a ValueError naming ``layer_name`` when an input of ``shape`` does not fit this spec."""
        shape = tuple(shape)
        rank = len(shape)
        if self.ndim is not None and not self.allow_last_axis_squeeze and rank != self.ndim:
            raise ValueError(
                f'Input of layer "{layer_name}" is incompatible with the layer: expected ndim={self.ndim}, '
                f"found ndim={rank}. Full shape received: {shape}"
            )
        if self.max_ndim is not None and rank > self.max_ndim:
            raise ValueError(
                f'Input of layer "{layer_name}" is incompatible with the layer: expected '
                f"max_ndim={self.max_ndim}, found ndim={rank}"
            )
        if self.min_ndim is not None and rank < self.min_ndim:
            raise ValueError(
                f'Input of layer "{layer_name}" is incompatible with the layer: expected '
                f"min_ndim={self.min_ndim}, found ndim={rank}. Full shape received: {shape}"
            )
        for axis, value in self.axes.items():
            if value is not None and -rank <= axis < rank and shape[axis] not in (value, None):
                raise ValueError(
                    f'Input of layer "{layer_name}" is incompatible with the layer: expected axis {axis} '
                    f"of input shape to have value {value}, but received input with shape {shape}"
                )
        if self.shape is not None and not self.allow_last_axis_squeeze and rank == len(self.shape):
            for spec_dim, dim in zip(self.shape, shape):
                if spec_dim is not None and dim is not None and spec_dim != dim:
                    raise ValueError(
                        f'Input of layer "{layer_name}" is incompatible with the layer: expected '
                        f"shape={self.shape}, found shape={shape}"
                    )


class Wrapper(Layer):
    """Abstract wrapper base class: a layer that augments another layer (``TimeDistributed``,
    ``Bidirectional``...). Subclasses override ``call``; by default the wrapped layer is called as is.

    Args:
        layer: the ``keras.layers.Layer`` instance to be wrapped.

    Input shape:
        The wrapped layer's input shape (subclasses may add axes).

    Output shape:
        The wrapped layer's output shape (subclasses may change it).

    Example:

    >>> wrapper = keras.layers.Wrapper(keras.layers.Dense(4))
    >>> tuple(wrapper(np.ones((2, 3), "float32")).shape)  # by default the wrapped layer is called as is
    (2, 4)
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Layer {layer} supplied to Wrapper isn't a supported layer type. Please ensure "
                "wrapped layer is a valid Keras layer."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer._maybe_build(input_shape)
            self.layer.built = True
        super().build(input_shape)

    def call(self, inputs, *args, **kwargs):
        return self.layer(inputs, *args, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["layer"] = serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = deserialize(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)


class Pipeline(Layer):
    """Applies a series of layers to an input, as one layer.

    Unlike a ``Sequential`` model, a ``Pipeline`` is not a model: it has no ``fit``; it is meant for
    preprocessing, e.g. an augmentation chain applied to each batch, or lookups before an encoding. It
    passes ``training`` to the layers that take it (default ``True``, as Keras's ``Pipeline.call``).

    Args:
        layers: a list of layers.
        name: the layer's name.

    Input shape:
        What the first layer accepts.

    Output shape:
        What the last layer returns.

    Example:

    >>> pipeline = keras.layers.Pipeline([keras.layers.RandomFlip(seed=1), keras.layers.RandomRotation(0.2, seed=1)])
    >>> images = np.random.rand(4, 32, 32, 3).astype("float32")
    >>> tuple(pipeline(images).shape)
    (4, 32, 32, 3)
    """

    _direct_call_training = True

    def __init__(self, layers, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        layers = list(layers)
        bad = [layer for layer in layers if not isinstance(layer, Layer)]
        if bad:
            raise TypeError(
                f"Invalid value for argument `layers` of Pipeline. Expected a list of layers. "
                f"Received: layers={layers!r}"
            )
        self._pipeline_layers = torch.nn.ModuleList(layers)

    @property
    def layers(self):
        return list(self._pipeline_layers)

    def _eager_call(self, inputs, kwargs):
        # The layers convert their own inputs (strings stay strings for the lookup layers).
        kwargs = dict(kwargs)
        training = kwargs.pop("training", None)
        self.built = True
        return self.call(inputs, training=self._direct_call_training if training is None else training, **kwargs)

    def call(self, inputs, training=True, mask=None):
        for layer in self._pipeline_layers:
            kwargs = {}
            if layer._call_takes_mask and mask is not None:
                kwargs["mask"] = mask
            if layer._call_takes_training and training is not None:
                kwargs["training"] = training
            inputs = layer(inputs, **kwargs)
        return inputs

    def get_config(self):
        return {"layers": [serialize(layer) for layer in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "`Pipeline` config must contain a `layers` key mapping to a list of serialized layers. "
                f"Received config with layers={layers}."
            )
        config["layers"] = [deserialize(x) for x in layers]
        return cls(**config)


def serialize(layer):
    """Returns the layer configuration as a Python dict (Keras 3's layout: ``module``, ``class_name``,
    ``config``, ``registered_name``, and ``build_config`` once built).

    Args:
        layer: a ``keras.layers.Layer`` instance to serialize.
    """
    if not isinstance(layer, Layer):
        raise TypeError(
            f"`keras.layers.serialize` expects a layer. Received: layer={layer!r} of type {type(layer).__name__}"
        )
    return serialization_lib.serialize_layer(layer)


def deserialize(config, custom_objects=None):
    """Returns a Keras layer object via its configuration.

    Args:
        config: a Python dict containing a serialized layer configuration.
        custom_objects: optional dictionary mapping names (strings) to custom objects (classes and
            functions) to be considered during deserialization.
    """
    obj = serialization_lib.deserialize_layer(config, custom_objects=custom_objects)
    if not isinstance(obj, Layer):
        raise ValueError(
            "`keras.layers.deserialize` was passed a `config` object that is not a "
            f"`keras.layers.Layer`. Received: {config}"
        )
    return obj
