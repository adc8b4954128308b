"""Core layers: Dense, Activation, Lambda, Identity."""

import inspect

import torch.nn.functional as F

from strided import activations
from strided.layers import _util
from strided.layers.base import Layer
from strided.layers.lora import LoRAMixin
from strided.layers.quantization import QuantizationMixin
from strided.utils import validation


class Dense(QuantizationMixin, LoRAMixin, _util.SpecLayer):
    """Densely-connected layer: ``output = activation(dot(input, kernel) + bias)``.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation function or name (default: none, i.e. linear).
        use_bias: whether the layer uses a bias vector.
        kernel_initializer: initializer of the kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        kernel_regularizer: optional regularizer applied to the kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        kernel_constraint: optional constraint applied to the kernel after each update.
        bias_constraint: optional constraint applied to the bias after each update.
        lora_rank: optional int; trains a low-rank update of this rank of a frozen kernel (see ``enable_lora``).
        lora_alpha: optional float scaling the LoRA update by ``lora_alpha / lora_rank``.
        quantization_config: the config of a quantized layer (see ``quantize``; set by a quantized
            model's config, with a dtype such as ``"int8_from_float32"``).

    The kernel is ``(input_dim, units)`` in ``get_weights`` (stored ``(units, input_dim)`` for F.linear); the
    layer has ``input_dim * units + units`` parameters (the lessons' ``784 * 10 + 10 = 7850``).

    Input shape:
        N-D tensor ``(batch, ..., input_dim)``, most often 2D ``(batch, input_dim)``.

    Output shape:
        N-D tensor ``(batch, ..., units)``: only the last axis changes.

    Example:

    >>> layer = keras.layers.Dense(10, activation="relu")
    >>> tuple(layer(np.zeros((32, 784), dtype="float32")).shape)
    (32, 10)
    >>> layer.count_params()
    7850
    >>> tuple(keras.layers.Dense(3)(np.zeros((2, 5, 16), dtype="float32")).shape)
    (2, 5, 3)
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    _spec_min_ndim = 2
    _quantizable, _q_kind = True, "dense"  # `quantize("int8" | "int4")`, see strided.layers.quantization

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        kwargs["dtype"] = self._init_quantization(kwargs.get("dtype"), quantization_config)
        self.units = validation.positive_int(units, "units")
        self.activation = _util.get_activation(activation)
        self.use_bias = validation.boolean(use_bias, "use_bias")
        _util.set_weight_options_from(self, locals(), "kernel", "bias")
        self._init_lora(lora_rank, lora_alpha)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"The last dimension of the input of Dense layer '{self.name}' must be known. "
                f"Received input_shape={tuple(input_shape)}"
            )
        self.kernel = _util.add_weight_with_options(self, "kernel", (input_dim, self.units), torch_layout=(1, 0))
        self.bias = _util.add_bias(self, self.units)
        self._built_axes = {-1: int(input_dim)}
        super().build(input_shape)
        self._build_pending_quantization()
        if self.lora_rank:
            self.enable_lora(self.lora_rank, self.lora_alpha)

    def call(self, inputs):
        if self.quantization_mode is not None:
            return self._quantized_dense_call(inputs)
        x = _util.cast_like(inputs, self.kernel)
        if not self.lora_enabled:
            return self.activation(F.linear(x, self.kernel, self.bias))
        # The frozen product plus the low-rank path: cheaper than merging (input_dim x units) every step.
        update = (x @ self.lora_kernel_a) @ self.lora_kernel_b
        return self.activation(F.linear(x, self.kernel, self.bias) + (self.lora_alpha / self.lora_rank) * update)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": _util.serialize_activation(self.activation),
                "use_bias": self.use_bias,
                **_util.weight_options_config(self, "kernel", "bias"),
            }
        )
        config.update(self._lora_config())
        return config


@_util.shared_doc
class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: activation function or name, e.g. ``'relu'`` or ``strided.ops.relu``.

    {{same_shape}}

    Example:

    >>> x = np.array([-1.0, 0.0, 2.0], dtype="float32")
    >>> keras.layers.Activation("relu")(x).numpy().tolist()
    [0.0, 0.0, 2.0]
    >>> print(keras.layers.Activation(keras.activations.sigmoid)(x).numpy().round(4))
    [0.2689 0.5    0.8808]
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _util.get_activation(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def _channels_first_call(self):
        """An elementwise activation runs on a channels-first view as on the input (see
        ``BaseConv._channels_first_call``)."""
        return (self.call, False) if self.activation in activations.ELEMENTWISE else None

    def get_config(self):
        config = super().get_config()
        config["activation"] = _util.serialize_activation(self.activation)
        return config


class Lambda(Layer):
    """Wraps an arbitrary function of tensors as a layer.

    Args:
        function: the function to apply, ``function(inputs, **arguments)``; it also gets ``mask`` and
            ``training`` when its signature names them.
        output_shape: ignored (shapes are inferred); accepted for Keras compatibility.
        mask: the output mask: a tensor, or a callable ``mask(inputs, previous_mask)`` computing it. With
            a mask the layer supports masking (the output carries it); without one, an input mask is
            dropped, as in Keras.
        arguments: optional dict of keyword arguments passed to ``function``.

    Input shape:
        Whatever ``function`` accepts.

    Output shape:
        Whatever ``function`` returns (inferred by calling it).

    Example:

    >>> double = keras.layers.Lambda(lambda x: 2 * x)
    >>> double(np.array([[1.0, 2.0]], dtype="float32")).numpy().tolist()
    [[2.0, 4.0]]
    >>> keras.layers.Lambda(lambda x: x[:, :2])(keras.Input((5,))).shape
    (None, 2)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        if not callable(function):
            raise TypeError(
                f"Invalid type for argument `function`. Expected a callable. Received function={function!r}."
            )
        super().__init__(**kwargs)
        self.function = function
        self.output_shape_arg = output_shape
        self.mask = mask
        self.supports_masking = mask is not None
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(
                "Invalid type for argument `arguments`. Expected a dict of keyword arguments for "
                f"`function`. Received arguments={arguments!r}."
            )
        self.arguments = dict(arguments or {})
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # some builtins have no signature
            params = {}
        self._fn_takes_mask = "mask" in params
        self._fn_takes_training = "training" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        """``mask(inputs, mask)`` for a callable ``mask`` argument, else the ``mask`` argument itself."""
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        # The function object itself: a Lambda config round-trips in-process (Keras pickles bytecode).
        config = super().get_config()
        config.update(
            {
                "function": self.function,
                "output_shape": self.output_shape_arg,
                "mask": self.mask,
                "arguments": self.arguments,
            }
        )
        return config


@_util.shared_doc
class Identity(Layer):
    """Returns its input unchanged (a placeholder layer).

    Args:
        **kwargs: the standard layer arguments (``name``, ``dtype``, ``trainable``).

    {{same_shape}}

    Example:

    >>> x = np.array([[1.0, 2.0]], dtype="float32")
    >>> keras.layers.Identity()(x).numpy().tolist()
    [[1.0, 2.0]]
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    def call(self, inputs):
        return inputs
