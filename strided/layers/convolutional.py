"""Convolution layers: one rank-generic base per kind, thin 1D/2D/3D classes on top.

Kernels are stored in torch's layout and shown in Keras's through ``get_weights``:

=======================  ================================  ==============================
layer                    Keras layout (``get_weights``)    stored (torch)
=======================  ================================  ==============================
ConvND                   ``(*k, in // groups, filters)``   ``(filters, in // groups, *k)``
ConvNDTranspose          ``(*k, filters, in)``             ``(in, filters, *k)``
DepthwiseConvND          ``(*k, in, multiplier)``          ``(in, multiplier, *k)``
SeparableConvND          depthwise as above, pointwise ``(1.., in * multiplier, filters)``
=======================  ================================  ==============================

The depthwise weight ``(in, multiplier, *k)`` is viewed (no copy) as torch's grouped-conv weight
``(in * multiplier, 1, *k)``: output channel ``c * multiplier + m`` is input channel ``c`` with its
``m``-th filter, TensorFlow's ordering. The maths is in ``strided.ops.kernels``.
"""

from strided import activations
from strided.layers import _util
from strided.layers.lora import LoRAMixin
from strided import ops
from strided.backend.variable import keras_view
from strided.ops import _kernels
from strided.utils import conv_utils, validation


def _torch_layout(rank):
    """Keras ``(*k, a, b)`` -> torch ``(b, a, *k)``."""
    return (rank + 1, rank) + tuple(range(rank))


class _ConvBase(_util.SpecLayer):
    """Argument handling shared by every convolution kind."""

    rank = None

    def _common_init(
        self,
        kernel_size,
        strides,
        padding,
        data_format,
        dilation_rate,
        activation,
        use_bias,
        bias_initializer,
        bias_regularizer,
        bias_constraint,
        allow_causal,
    ):
        r = self.rank
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, r, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, r, "strides")
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, r, "dilation_rate")
        self.padding = conv_utils.normalize_padding(padding, allow_causal=allow_causal and r == 1)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.activation = _util.get_activation(activation)
        self.use_bias = validation.boolean(use_bias, "use_bias")
        self.bias_initializer = _util.get("initializers", bias_initializer, "bias_initializer")
        self.bias_regularizer = _util.get("regularizers", bias_regularizer, "bias_regularizer")
        self.bias_constraint = _util.get("constraints", bias_constraint, "bias_constraint")
        self._spec_ndim = r + 2

    def _check_strides_dilation(self):
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _input_channels(self, input_shape):
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(
                f"The channel dimension of the inputs of layer '{self.name}' must be known "
                f"(data_format='{self.data_format}'). Received input_shape={tuple(input_shape)}"
            )
        self._built_axes = {self._channel_axis: int(channels)}
        return int(channels)

    def _add_kernel(self, keras_shape):
        """The kernel in Keras layout ``keras_shape``, stored torch-native and channels_last in memory."""
        self.kernel = self.add_weight(
            shape=keras_shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
            torch_layout=_torch_layout(self.rank),
            memory_format="channels_last",
        )

    def _kernel_config(self):
        return {
            "kernel_initializer": _util.serialize("initializers", self.kernel_initializer),
            "kernel_regularizer": _util.serialize("regularizers", self.kernel_regularizer),
            "kernel_constraint": _util.serialize("constraints", self.kernel_constraint),
        }

    def _add_bias(self, size):
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(size,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        else:
            self.bias = None

    def _common_config(self):
        config = super().get_config()
        config.update(
            {
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": _util.serialize_activation(self.activation),
                "use_bias": self.use_bias,
                "bias_initializer": _util.serialize("initializers", self.bias_initializer),
                "bias_regularizer": _util.serialize("regularizers", self.bias_regularizer),
                "activity_regularizer": _util.serialize("regularizers", self.activity_regularizer),
                "bias_constraint": _util.serialize("constraints", self.bias_constraint),
            }
        )
        return config


class BaseConv(LoRAMixin, _ConvBase):
    """N-D convolution layer (the base of ``Conv1D``, ``Conv2D`` and ``Conv3D``), rank given as an argument.

    Slides ``filters`` kernels over the input and computes ``activation(conv(inputs, kernel) + bias)``. The
    kernel has shape ``(*kernel_size, input_channels // groups, filters)`` (Keras layout).

    Args:
        rank: int, the number of spatial dimensions (1, 2 or 3).
        filters: int, the number of output channels (kernels), strictly positive.
        kernel_size: int or tuple of 2 ints, the size of the convolution window.
        strides: int or tuple of 2 ints, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``ceil(n / strides)``; an odd total goes after, as in TensorFlow), or ``"causal"`` (zeros
            before the sequence only, so that step ``t`` never sees later steps). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 2 ints, the spacing between the taps of the kernel
            (atrous convolution).
        groups: int, the number of channel groups; the input channels and ``filters`` must both divide by it
            (each group of filters sees only its group of input channels).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        kernel_initializer: initializer of the kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        kernel_regularizer: optional regularizer applied to the kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        kernel_constraint: optional constraint applied to the kernel after each update.
        bias_constraint: optional constraint applied to the bias after each update.
        lora_rank: optional int; adds a trainable low-rank (LoRA) update of this rank to the frozen kernel.
        lora_alpha: optional float scaling the LoRA update by ``lora_alpha / lora_rank`` (default ``lora_rank``).

    Input shape:
        ``(batch, *spatial, channels)`` (``channels_last``) or ``(batch, channels, *spatial)``, ``rank`` spatial axes.

    Output shape:
        ``(batch, *new_spatial, filters)`` (``channels_last``) or ``(batch, filters, *new_spatial)``.

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s`` and dilation ``d``:

        - ``padding="valid"``: ``floor((n - d * (k - 1) - 1) / s) + 1``; with ``d = 1`` this is the lessons'
          ``O = (I - K + 2P) / S + 1`` with ``P = 0``;
        - ``padding="same"`` (and ``"causal"``): ``ceil(n / s)``.

    Example:

    >>> layer = keras.layers.BaseConv(rank=2, filters=8, kernel_size=3)
    >>> tuple(layer(np.zeros((1, 9, 9, 2), "float32")).shape)
    (1, 7, 7, 8)
    """

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
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
        **kwargs,
    ):
        self.rank = rank
        self.filters = validation.positive_int(filters, "filters")
        self.groups = validation.positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}."
            )
        self._common_init(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
            allow_causal=True,
        )
        self._check_strides_dilation()
        self.kernel_initializer = _util.get("initializers", kernel_initializer, "kernel_initializer")
        self.kernel_regularizer = _util.get("regularizers", kernel_regularizer, "kernel_regularizer")
        self.kernel_constraint = _util.get("constraints", kernel_constraint, "kernel_constraint")
        self.lora_rank = None if lora_rank is None else validation.positive_int(lora_rank, "lora_rank")
        self.lora_alpha = lora_alpha if lora_alpha is not None else self.lora_rank
        self.lora_enabled = False
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {channels} channels (full input "
                f"shape is {tuple(input_shape)})."
            )
        self._add_kernel(self.kernel_size + (channels // self.groups, self.filters))
        self._add_bias(self.filters)
        super().build(input_shape)
        if self.lora_rank:
            self.enable_lora(self.lora_rank, self.lora_alpha)

    def convolution_op(self, inputs, kernel):
        """The convolution of ``inputs`` with ``kernel`` in Keras layout ``(*kernel_size, in, filters)``.

        Override it to change the kernel used, as Keras allows (the weight-standardized convolution of the
        "subclassing conv layers" recipe); the bias and activation are applied after it.
        """
        return ops.conv(
            inputs,
            kernel,
            strides=list(self.strides),
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )

    def call(self, inputs):
        kernel, bias = self._merged_kernel(), self.bias
        if getattr(inputs, "is_meta", False):
            kernel, bias = _util.meta_weights(inputs, kernel, bias)
        if type(self).convolution_op is not BaseConv.convolution_op:
            y = self.convolution_op(inputs, keras_view(self.kernel, kernel))
            if bias is not None:
                shape = (
                    (1,) * (self.rank + 1) + (-1,)
                    if self.data_format == "channels_last"
                    else (1, -1) + (1,) * self.rank
                )
                y = y + bias.reshape(shape)
            return self.activation(y)
        y = _kernels.conv(
            inputs, kernel, bias, self.strides, self.padding, self.data_format, self.dilation_rate, self.groups
        )
        return y if self.activation is activations.linear else self.activation(y)

    def _channels_first_call(self):
        """``(function, takes_training)`` running this layer on the ``(batch, channels, *spatial)`` view of its
        channels_last input and returning that view of its output, or None. A Sequential model runs a chain of
        such layers on one view (two axis moves for the chain instead of two per layer)."""
        if (
            self.data_format != "channels_last"
            or self.activation not in activations.ELEMENTWISE
            or type(self).convolution_op is not BaseConv.convolution_op
        ):  # (a user's own convolution)
            return None
        return self._call_channels_first, False

    def _call_channels_first(self, xt):
        y = _kernels.conv(
            xt,
            self._merged_kernel(),
            self.bias,
            self.strides,
            self.padding,
            "channels_first",
            self.dilation_rate,
            self.groups,
        )
        return y if self.activation is activations.linear else self.activation(y)

    def get_config(self):
        config = self._common_config()
        config.update({"filters": self.filters, "groups": self.groups, **self._kernel_config(), **self._lora_config()})
        return config


class Conv1D(BaseConv):
    """1D temporal convolution over sequences, e.g. ``Conv1D(32, 3, activation="relu")``.

    Slides ``filters`` kernels over the input and computes ``activation(conv(inputs, kernel) + bias)``. The
    kernel has shape ``(*kernel_size, input_channels // groups, filters)`` (Keras layout).

    Args:
        filters: int, the number of output channels (kernels), strictly positive.
        kernel_size: int or tuple of 1 int, the size of the convolution window.
        strides: int or tuple of 1 int, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``ceil(n / strides)``; an odd total goes after, as in TensorFlow), or ``"causal"`` (zeros
            before the sequence only, so that step ``t`` never sees later steps). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 1 int, the spacing between the taps of the kernel
            (atrous convolution).
        groups: int, the number of channel groups; the input channels and ``filters`` must both divide by it
            (each group of filters sees only its group of input channels).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        kernel_initializer: initializer of the kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        kernel_regularizer: optional regularizer applied to the kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        kernel_constraint: optional constraint applied to the kernel after each update.
        bias_constraint: optional constraint applied to the bias after each update.
        lora_rank: optional int; adds a trainable low-rank (LoRA) update of this rank to the frozen kernel.
        lora_alpha: optional float scaling the LoRA update by ``lora_alpha / lora_rank`` (default ``lora_rank``).

    Input shape:
        3D tensor ``(batch, steps, channels)`` with ``data_format="channels_last"`` (the default), or
        ``(batch, channels, steps)`` with ``"channels_first"``.

    Output shape:
        3D tensor ``(batch, new_steps, filters)`` (``channels_last``) or
        ``(batch, filters, new_steps)`` (``channels_first``).

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s`` and dilation ``d``:

        - ``padding="valid"``: ``floor((n - d * (k - 1) - 1) / s) + 1``; with ``d = 1`` this is the lessons'
          ``O = (I - K + 2P) / S + 1`` with ``P = 0``;
        - ``padding="same"`` (and ``"causal"``): ``ceil(n / s)``.

    Example:

    >>> x = np.random.rand(4, 10, 128).astype("float32")
    >>> tuple(keras.layers.Conv1D(32, 3, activation="relu")(x).shape)
    (4, 8, 32)
    >>> tuple(keras.layers.Conv1D(32, 3, padding="causal", dilation_rate=2)(x).shape)
    (4, 10, 32)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            1,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )


class Conv2D(BaseConv):
    """2D convolution over images, e.g. ``Conv2D(32, 3, activation="relu")``.

    Slides ``filters`` kernels over the input and computes ``activation(conv(inputs, kernel) + bias)``. The
    kernel has shape ``(*kernel_size, input_channels // groups, filters)`` (Keras layout).

    Args:
        filters: int, the number of output channels (kernels), strictly positive.
        kernel_size: int or tuple of 2 ints, the size of the convolution window.
        strides: int or tuple of 2 ints, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``ceil(n / strides)``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 2 ints, the spacing between the taps of the kernel
            (atrous convolution).
        groups: int, the number of channel groups; the input channels and ``filters`` must both divide by it
            (each group of filters sees only its group of input channels).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        kernel_initializer: initializer of the kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        kernel_regularizer: optional regularizer applied to the kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        kernel_constraint: optional constraint applied to the kernel after each update.
        bias_constraint: optional constraint applied to the bias after each update.
        lora_rank: optional int; adds a trainable low-rank (LoRA) update of this rank to the frozen kernel.
        lora_alpha: optional float scaling the LoRA update by ``lora_alpha / lora_rank`` (default ``lora_rank``).

    Input shape:
        4D tensor ``(batch, height, width, channels)`` with ``data_format="channels_last"`` (the default), or
        ``(batch, channels, height, width)`` with ``"channels_first"``.

    Output shape:
        4D tensor ``(batch, new_height, new_width, filters)`` (``channels_last``) or
        ``(batch, filters, new_height, new_width)`` (``channels_first``).

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s`` and dilation ``d``:

        - ``padding="valid"``: ``floor((n - d * (k - 1) - 1) / s) + 1``; with ``d = 1`` this is the lessons'
          ``O = (I - K + 2P) / S + 1`` with ``P = 0``;
        - ``padding="same"``: ``ceil(n / s)``.

    Example:

    >>> x = np.random.rand(4, 28, 28, 1).astype("float32")
    >>> tuple(keras.layers.Conv2D(32, 3, activation="relu")(x).shape)
    (4, 26, 26, 32)
    >>> tuple(keras.layers.Conv2D(32, 3, strides=2, padding="same")(x).shape)
    (4, 14, 14, 32)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            2,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )


class Conv3D(BaseConv):
    """3D convolution over volumes, e.g. ``Conv3D(32, 3, activation="relu")``.

    Slides ``filters`` kernels over the input and computes ``activation(conv(inputs, kernel) + bias)``. The
    kernel has shape ``(*kernel_size, input_channels // groups, filters)`` (Keras layout).

    Args:
        filters: int, the number of output channels (kernels), strictly positive.
        kernel_size: int or tuple of 3 ints, the size of the convolution window.
        strides: int or tuple of 3 ints, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``ceil(n / strides)``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 3 ints, the spacing between the taps of the kernel
            (atrous convolution).
        groups: int, the number of channel groups; the input channels and ``filters`` must both divide by it
            (each group of filters sees only its group of input channels).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        kernel_initializer: initializer of the kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        kernel_regularizer: optional regularizer applied to the kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        kernel_constraint: optional constraint applied to the kernel after each update.
        bias_constraint: optional constraint applied to the bias after each update.
        lora_rank: optional int; adds a trainable low-rank (LoRA) update of this rank to the frozen kernel.
        lora_alpha: optional float scaling the LoRA update by ``lora_alpha / lora_rank`` (default ``lora_rank``).

    Input shape:
        5D tensor ``(batch, dim1, dim2, dim3, channels)`` with ``data_format="channels_last"`` (the default), or
        ``(batch, channels, dim1, dim2, dim3)`` with ``"channels_first"``.

    Output shape:
        5D tensor ``(batch, new_dim1, new_dim2, new_dim3, filters)`` (``channels_last``) or
        ``(batch, filters, new_dim1, new_dim2, new_dim3)`` (``channels_first``).

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s`` and dilation ``d``:

        - ``padding="valid"``: ``floor((n - d * (k - 1) - 1) / s) + 1``; with ``d = 1`` this is the lessons'
          ``O = (I - K + 2P) / S + 1`` with ``P = 0``;
        - ``padding="same"``: ``ceil(n / s)``.

    Example:

    >>> x = np.random.rand(2, 8, 8, 8, 3).astype("float32")
    >>> tuple(keras.layers.Conv3D(16, 3, activation="relu")(x).shape)
    (2, 6, 6, 6, 16)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            3,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            groups=groups,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )


class BaseConvTranspose(_ConvBase):
    """N-D transposed convolution (the base of ``Conv1DTranspose``, ``Conv2DTranspose`` and ``Conv3DTranspose``).

    The gradient of a convolution with respect to its input: each input position adds a copy of the kernel,
    weighted by its value, into the output. The kernel has shape ``(*kernel_size, filters, input_channels)``
    (Keras layout).

    Args:
        rank: int, the number of spatial dimensions (1, 2 or 3).
        filters: int, the number of output channels, strictly positive.
        kernel_size: int or tuple of 2 ints, the size of the convolution window.
        strides: int or tuple of 2 ints, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``n * strides``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 2 ints, the spacing between the taps of the kernel
            (atrous convolution).
        output_padding: optional int or tuple of 2 ints, the extra size added at the end of each spatial axis;
            each entry must be smaller than the stride. ``None`` infers the size (see below).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        kernel_initializer: initializer of the kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        kernel_regularizer: optional regularizer applied to the kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        kernel_constraint: optional constraint applied to the kernel after each update.
        bias_constraint: optional constraint applied to the bias after each update.

    Input shape:
        ``(batch, *spatial, channels)`` (``channels_last``) or ``(batch, channels, *spatial)``, ``rank`` spatial axes.

    Output shape:
        ``(batch, *new_spatial, filters)`` (``channels_last``) or ``(batch, filters, *new_spatial)``.

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s``, dilation ``d`` and the dilated kernel
        size ``k' = k + (k - 1) * (d - 1)``:

        - ``output_padding=None``: ``n * s + max(k' - s, 0)`` with ``"valid"``, ``n * s`` with ``"same"``;
        - ``output_padding=p``: ``(n - 1) * s + k' + p`` with ``"valid"``, ``(n - 1) * s + k' - 2 * (k' // 2) + p``
          with ``"same"``.

        This inverts the size change of a ``Conv`` with the same arguments.

    Example:

    >>> layer = keras.layers.BaseConvTranspose(rank=2, filters=4, kernel_size=2, strides=2)
    >>> tuple(layer(np.zeros((1, 5, 5, 3), "float32")).shape)
    (1, 10, 10, 4)
    """

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        self.rank = rank
        self.filters = validation.positive_int(filters, "filters")
        self._common_init(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
            allow_causal=False,
        )
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = conv_utils.normalize_tuple(output_padding, rank, "output_padding", allow_zero=True)
            for p, s in zip(self.output_padding, self.strides):
                if p >= s:
                    raise ValueError(
                        f"Strides {self.strides} must be greater than output padding "
                        f"{self.output_padding}. Received: output_padding={output_padding}"
                    )
        self.kernel_initializer = _util.get("initializers", kernel_initializer, "kernel_initializer")
        self.kernel_regularizer = _util.get("regularizers", kernel_regularizer, "kernel_regularizer")
        self.kernel_constraint = _util.get("constraints", kernel_constraint, "kernel_constraint")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._add_kernel(self.kernel_size + (self.filters, channels))
        self._add_bias(self.filters)
        super().build(input_shape)

    def call(self, inputs):
        kernel, bias = _util.meta_weights(inputs, self.kernel, self.bias)
        y = _kernels.conv_transpose(
            inputs, kernel, bias, self.strides, self.padding, self.output_padding, self.data_format, self.dilation_rate
        )
        return self.activation(y)

    def get_config(self):
        config = self._common_config()
        config.update({"filters": self.filters, "output_padding": self.output_padding, **self._kernel_config()})
        return config


class Conv1DTranspose(BaseConvTranspose):
    """1D transposed convolution ("deconvolution"), the layer that upsamples in decoders.

    The gradient of a convolution with respect to its input: each input position adds a copy of the kernel,
    weighted by its value, into the output. The kernel has shape ``(*kernel_size, filters, input_channels)``
    (Keras layout).

    Args:
        filters: int, the number of output channels, strictly positive.
        kernel_size: int or tuple of 1 int, the size of the convolution window.
        strides: int or tuple of 1 int, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``n * strides``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 1 int, the spacing between the taps of the kernel
            (atrous convolution).
        output_padding: optional int or tuple of 1 int, the extra size added at the end of each spatial axis;
            each entry must be smaller than the stride. ``None`` infers the size (see below).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        kernel_initializer: initializer of the kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        kernel_regularizer: optional regularizer applied to the kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        kernel_constraint: optional constraint applied to the kernel after each update.
        bias_constraint: optional constraint applied to the bias after each update.

    Input shape:
        3D tensor ``(batch, steps, channels)`` with ``data_format="channels_last"`` (the default), or
        ``(batch, channels, steps)`` with ``"channels_first"``.

    Output shape:
        3D tensor ``(batch, new_steps, filters)`` (``channels_last``) or
        ``(batch, filters, new_steps)`` (``channels_first``).

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s``, dilation ``d`` and the dilated kernel
        size ``k' = k + (k - 1) * (d - 1)``:

        - ``output_padding=None``: ``n * s + max(k' - s, 0)`` with ``"valid"``, ``n * s`` with ``"same"``;
        - ``output_padding=p``: ``(n - 1) * s + k' + p`` with ``"valid"``, ``(n - 1) * s + k' - 2 * (k' // 2) + p``
          with ``"same"``.

        This inverts the size change of a ``Conv`` with the same arguments.

    Example:

    >>> x = np.random.rand(4, 10, 8).astype("float32")
    >>> tuple(keras.layers.Conv1DTranspose(16, 3, strides=2)(x).shape)
    (4, 21, 16)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            1,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            output_padding=output_padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )


class Conv2DTranspose(BaseConvTranspose):
    """2D transposed convolution ("deconvolution"), the layer that upsamples in decoders.

    The gradient of a convolution with respect to its input: each input position adds a copy of the kernel,
    weighted by its value, into the output. The kernel has shape ``(*kernel_size, filters, input_channels)``
    (Keras layout).

    Args:
        filters: int, the number of output channels, strictly positive.
        kernel_size: int or tuple of 2 ints, the size of the convolution window.
        strides: int or tuple of 2 ints, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``n * strides``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 2 ints, the spacing between the taps of the kernel
            (atrous convolution).
        output_padding: optional int or tuple of 2 ints, the extra size added at the end of each spatial axis;
            each entry must be smaller than the stride. ``None`` infers the size (see below).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        kernel_initializer: initializer of the kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        kernel_regularizer: optional regularizer applied to the kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        kernel_constraint: optional constraint applied to the kernel after each update.
        bias_constraint: optional constraint applied to the bias after each update.

    Input shape:
        4D tensor ``(batch, height, width, channels)`` with ``data_format="channels_last"`` (the default), or
        ``(batch, channels, height, width)`` with ``"channels_first"``.

    Output shape:
        4D tensor ``(batch, new_height, new_width, filters)`` (``channels_last``) or
        ``(batch, filters, new_height, new_width)`` (``channels_first``).

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s``, dilation ``d`` and the dilated kernel
        size ``k' = k + (k - 1) * (d - 1)``:

        - ``output_padding=None``: ``n * s + max(k' - s, 0)`` with ``"valid"``, ``n * s`` with ``"same"``;
        - ``output_padding=p``: ``(n - 1) * s + k' + p`` with ``"valid"``, ``(n - 1) * s + k' - 2 * (k' // 2) + p``
          with ``"same"``.

        This inverts the size change of a ``Conv`` with the same arguments.

    Example:

    >>> x = np.random.rand(4, 7, 7, 64).astype("float32")
    >>> tuple(keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same")(x).shape)
    (4, 14, 14, 32)
    >>> tuple(keras.layers.Conv2DTranspose(32, 3)(x).shape)
    (4, 9, 9, 32)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            2,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            output_padding=output_padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )


class Conv3DTranspose(BaseConvTranspose):
    """3D transposed convolution ("deconvolution"), the layer that upsamples in decoders.

    The gradient of a convolution with respect to its input: each input position adds a copy of the kernel,
    weighted by its value, into the output. The kernel has shape ``(*kernel_size, filters, input_channels)``
    (Keras layout).

    Args:
        filters: int, the number of output channels, strictly positive.
        kernel_size: int or tuple of 3 ints, the size of the convolution window.
        strides: int or tuple of 3 ints, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``n * strides``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 3 ints, the spacing between the taps of the kernel
            (atrous convolution).
        output_padding: optional int or tuple of 3 ints, the extra size added at the end of each spatial axis;
            each entry must be smaller than the stride. ``None`` infers the size (see below).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        kernel_initializer: initializer of the kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        kernel_regularizer: optional regularizer applied to the kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        kernel_constraint: optional constraint applied to the kernel after each update.
        bias_constraint: optional constraint applied to the bias after each update.

    Input shape:
        5D tensor ``(batch, dim1, dim2, dim3, channels)`` with ``data_format="channels_last"`` (the default), or
        ``(batch, channels, dim1, dim2, dim3)`` with ``"channels_first"``.

    Output shape:
        5D tensor ``(batch, new_dim1, new_dim2, new_dim3, filters)`` (``channels_last``) or
        ``(batch, filters, new_dim1, new_dim2, new_dim3)`` (``channels_first``).

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s``, dilation ``d`` and the dilated kernel
        size ``k' = k + (k - 1) * (d - 1)``:

        - ``output_padding=None``: ``n * s + max(k' - s, 0)`` with ``"valid"``, ``n * s`` with ``"same"``;
        - ``output_padding=p``: ``(n - 1) * s + k' + p`` with ``"valid"``, ``(n - 1) * s + k' - 2 * (k' // 2) + p``
          with ``"same"``.

        This inverts the size change of a ``Conv`` with the same arguments.

    Example:

    >>> x = np.random.rand(2, 4, 4, 4, 8).astype("float32")
    >>> tuple(keras.layers.Conv3DTranspose(4, 2, strides=2)(x).shape)
    (2, 8, 8, 8, 4)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1, 1),
        activation=None,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            3,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            output_padding=output_padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )


class BaseDepthwiseConv(_ConvBase):
    """N-D depthwise convolution (the base of ``DepthwiseConv1D`` and ``DepthwiseConv2D``).

    Each input channel gets ``depth_multiplier`` kernels of its own, and the channels are never mixed: the
    output has ``input_channels * depth_multiplier`` channels. The kernel has shape
    ``(*kernel_size, input_channels, depth_multiplier)`` (Keras layout).

    Args:
        rank: int, the number of spatial dimensions (1 or 2).
        kernel_size: int or tuple of 2 ints, the size of the convolution window.
        strides: int or tuple of 2 ints, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``ceil(n / strides)``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 2 ints, the spacing between the taps of the depthwise kernel
            (atrous convolution).
        depth_multiplier: int, the number of output channels per input channel (default 1).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        depthwise_initializer: initializer of the depthwise kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        depthwise_regularizer: optional regularizer applied to the depthwise kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        depthwise_constraint: optional constraint applied to the depthwise kernel.
        bias_constraint: optional constraint applied to the bias.

    Input shape:
        ``(batch, *spatial, channels)`` (``channels_last``) or ``(batch, channels, *spatial)``, ``rank`` spatial axes.

    Output shape:
        ``(batch, *new_spatial, channels * depth_multiplier)`` (``channels_last``) or
        ``(batch, channels * depth_multiplier, *new_spatial)``.

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s`` and dilation ``d``:

        - ``padding="valid"``: ``floor((n - d * (k - 1) - 1) / s) + 1``; with ``d = 1`` this is the lessons'
          ``O = (I - K + 2P) / S + 1`` with ``P = 0``;
        - ``padding="same"``: ``ceil(n / s)``.

    Example:

    >>> layer = keras.layers.BaseDepthwiseConv(rank=2, kernel_size=3)
    >>> tuple(layer(np.zeros((1, 9, 9, 2), "float32")).shape)
    (1, 7, 7, 2)
    """

    def __init__(
        self,
        rank,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        self.rank = rank
        self.depth_multiplier = validation.positive_int(depth_multiplier, "depth_multiplier")
        self._common_init(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
            allow_causal=False,
        )
        self._check_strides_dilation()
        self.depthwise_initializer = _util.get("initializers", depthwise_initializer, "depthwise_initializer")
        self.depthwise_regularizer = _util.get("regularizers", depthwise_regularizer, "depthwise_regularizer")
        self.depthwise_constraint = _util.get("constraints", depthwise_constraint, "depthwise_constraint")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        r = self.rank
        # Stored (in, mult, *k): a pure permutation of Keras's (*k, in, mult), and a free view as (in*mult, 1, *k).
        self.kernel = self.add_weight(
            shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            name="kernel",
            torch_layout=(r, r + 1) + tuple(range(r)),
        )
        self._add_bias(channels * self.depth_multiplier)
        super().build(input_shape)

    def call(self, inputs):
        kernel, bias = _util.meta_weights(inputs, self.kernel, self.bias)
        y = _kernels.depthwise_conv(
            inputs,
            kernel.reshape(-1, 1, *self.kernel_size),
            bias,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
        )
        return self.activation(y)

    def get_config(self):
        config = self._common_config()
        config.update(
            {
                "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": _util.serialize("initializers", self.depthwise_initializer),
                "depthwise_regularizer": _util.serialize("regularizers", self.depthwise_regularizer),
                "depthwise_constraint": _util.serialize("constraints", self.depthwise_constraint),
            }
        )
        return config


class DepthwiseConv1D(BaseDepthwiseConv):
    """1D depthwise convolution: each input channel is convolved with its own kernels.

    Each input channel gets ``depth_multiplier`` kernels of its own, and the channels are never mixed: the
    output has ``input_channels * depth_multiplier`` channels. The kernel has shape
    ``(*kernel_size, input_channels, depth_multiplier)`` (Keras layout).

    Args:
        kernel_size: int or tuple of 1 int, the size of the convolution window.
        strides: int or tuple of 1 int, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``ceil(n / strides)``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 1 int, the spacing between the taps of the depthwise kernel
            (atrous convolution).
        depth_multiplier: int, the number of output channels per input channel (default 1).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        depthwise_initializer: initializer of the depthwise kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        depthwise_regularizer: optional regularizer applied to the depthwise kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        depthwise_constraint: optional constraint applied to the depthwise kernel.
        bias_constraint: optional constraint applied to the bias.

    Input shape:
        3D tensor ``(batch, steps, channels)`` with ``data_format="channels_last"`` (the default), or
        ``(batch, channels, steps)`` with ``"channels_first"``.

    Output shape:
        3D tensor ``(batch, new_steps, channels * depth_multiplier)`` (``channels_last``) or
        ``(batch, channels * depth_multiplier, new_steps)`` (``channels_first``).

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s`` and dilation ``d``:

        - ``padding="valid"``: ``floor((n - d * (k - 1) - 1) / s) + 1``; with ``d = 1`` this is the lessons'
          ``O = (I - K + 2P) / S + 1`` with ``P = 0``;
        - ``padding="same"``: ``ceil(n / s)``.

    Example:

    >>> x = np.random.rand(4, 10, 3).astype("float32")
    >>> tuple(keras.layers.DepthwiseConv1D(3, depth_multiplier=2)(x).shape)
    (4, 8, 6)
    """

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            1,
            kernel_size,
            strides=strides,
            padding=padding,
            depth_multiplier=depth_multiplier,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )


class DepthwiseConv2D(BaseDepthwiseConv):
    """2D depthwise convolution: each input channel is convolved with its own kernels.

    Each input channel gets ``depth_multiplier`` kernels of its own, and the channels are never mixed: the
    output has ``input_channels * depth_multiplier`` channels. The kernel has shape
    ``(*kernel_size, input_channels, depth_multiplier)`` (Keras layout).

    Args:
        kernel_size: int or tuple of 2 ints, the size of the convolution window.
        strides: int or tuple of 2 ints, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``ceil(n / strides)``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 2 ints, the spacing between the taps of the depthwise kernel
            (atrous convolution).
        depth_multiplier: int, the number of output channels per input channel (default 1).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        depthwise_initializer: initializer of the depthwise kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        depthwise_regularizer: optional regularizer applied to the depthwise kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        depthwise_constraint: optional constraint applied to the depthwise kernel.
        bias_constraint: optional constraint applied to the bias.

    Input shape:
        4D tensor ``(batch, height, width, channels)`` with ``data_format="channels_last"`` (the default), or
        ``(batch, channels, height, width)`` with ``"channels_first"``.

    Output shape:
        4D tensor ``(batch, new_height, new_width, channels * depth_multiplier)`` (``channels_last``) or
        ``(batch, channels * depth_multiplier, new_height, new_width)`` (``channels_first``).

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s`` and dilation ``d``:

        - ``padding="valid"``: ``floor((n - d * (k - 1) - 1) / s) + 1``; with ``d = 1`` this is the lessons'
          ``O = (I - K + 2P) / S + 1`` with ``P = 0``;
        - ``padding="same"``: ``ceil(n / s)``.

    Example:

    >>> x = np.random.rand(4, 28, 28, 3).astype("float32")
    >>> tuple(keras.layers.DepthwiseConv2D(3, depth_multiplier=2)(x).shape)
    (4, 26, 26, 6)
    """

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            2,
            kernel_size,
            strides=strides,
            padding=padding,
            depth_multiplier=depth_multiplier,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )


class BaseSeparableConv(_ConvBase):
    """N-D separable convolution (the base of ``SeparableConv1D`` and ``SeparableConv2D``).

    The depthwise step convolves each input channel with ``depth_multiplier`` kernels of its own; the
    pointwise step mixes the ``input_channels * depth_multiplier`` results into ``filters`` channels. Far
    fewer parameters than a full convolution. Weights (Keras order): ``depthwise_kernel``
    ``(*kernel_size, input_channels, depth_multiplier)``, ``pointwise_kernel``
    ``(1, ..., input_channels * depth_multiplier, filters)``, ``bias``.

    Args:
        rank: int, the number of spatial dimensions (1 or 2).
        filters: int, the number of output channels, strictly positive.
        kernel_size: int or tuple of 2 ints, the size of the convolution window.
        strides: int or tuple of 2 ints, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``ceil(n / strides)``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 2 ints, the spacing between the taps of the depthwise kernel
            (atrous convolution).
        depth_multiplier: int, the depthwise output channels per input channel (default 1).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        depthwise_initializer: initializer of the depthwise kernel (default ``"glorot_uniform"``).
        pointwise_initializer: initializer of the pointwise kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        depthwise_regularizer: optional regularizer applied to the depthwise kernel.
        pointwise_regularizer: optional regularizer applied to the pointwise kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        depthwise_constraint: optional constraint applied to the depthwise kernel.
        pointwise_constraint: optional constraint applied to the pointwise kernel.
        bias_constraint: optional constraint applied to the bias.

    Input shape:
        ``(batch, *spatial, channels)`` (``channels_last``) or ``(batch, channels, *spatial)``, ``rank`` spatial axes.

    Output shape:
        ``(batch, *new_spatial, filters)`` (``channels_last``) or ``(batch, filters, *new_spatial)``.

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s`` and dilation ``d``:

        - ``padding="valid"``: ``floor((n - d * (k - 1) - 1) / s) + 1``; with ``d = 1`` this is the lessons'
          ``O = (I - K + 2P) / S + 1`` with ``P = 0``;
        - ``padding="same"``: ``ceil(n / s)``.

    Example:

    >>> layer = keras.layers.BaseSeparableConv(rank=2, filters=4, kernel_size=3)
    >>> tuple(layer(np.zeros((1, 9, 9, 2), "float32")).shape)
    (1, 7, 7, 4)
    """

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        self.rank = rank
        self.filters = validation.positive_int(filters, "filters")
        self.depth_multiplier = validation.positive_int(depth_multiplier, "depth_multiplier")
        self._common_init(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
            allow_causal=False,
        )
        self._check_strides_dilation()
        for part in ("depthwise", "pointwise"):
            setattr(
                self,
                f"{part}_initializer",
                _util.get("initializers", locals()[f"{part}_initializer"], f"{part}_initializer"),
            )
            setattr(
                self,
                f"{part}_regularizer",
                _util.get("regularizers", locals()[f"{part}_regularizer"], f"{part}_regularizer"),
            )
            setattr(
                self,
                f"{part}_constraint",
                _util.get("constraints", locals()[f"{part}_constraint"], f"{part}_constraint"),
            )
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        r = self.rank
        self.depthwise_kernel = self.add_weight(
            shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            name="depthwise_kernel",
            torch_layout=(r, r + 1) + tuple(range(r)),
        )
        self.pointwise_kernel = self.add_weight(
            shape=(1,) * r + (channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
            name="pointwise_kernel",
            torch_layout=_torch_layout(r),
        )
        self._add_bias(self.filters)
        super().build(input_shape)

    def call(self, inputs):
        depthwise, pointwise, bias = _util.meta_weights(inputs, self.depthwise_kernel, self.pointwise_kernel, self.bias)
        y = _kernels.separable_conv(
            inputs,
            depthwise.reshape(-1, 1, *self.kernel_size),
            pointwise,
            bias,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
        )
        return self.activation(y)

    def get_config(self):
        config = self._common_config()
        config.update({"filters": self.filters, "depth_multiplier": self.depth_multiplier})
        for part in ("depthwise", "pointwise"):
            config[f"{part}_initializer"] = _util.serialize("initializers", getattr(self, f"{part}_initializer"))
            config[f"{part}_regularizer"] = _util.serialize("regularizers", getattr(self, f"{part}_regularizer"))
            config[f"{part}_constraint"] = _util.serialize("constraints", getattr(self, f"{part}_constraint"))
        return config


class SeparableConv1D(BaseSeparableConv):
    """1D separable convolution: a depthwise convolution, then a pointwise (1x1) one.

    The depthwise step convolves each input channel with ``depth_multiplier`` kernels of its own; the
    pointwise step mixes the ``input_channels * depth_multiplier`` results into ``filters`` channels. Far
    fewer parameters than a full convolution. Weights (Keras order): ``depthwise_kernel``
    ``(*kernel_size, input_channels, depth_multiplier)``, ``pointwise_kernel``
    ``(1, ..., input_channels * depth_multiplier, filters)``, ``bias``.

    Args:
        filters: int, the number of output channels, strictly positive.
        kernel_size: int or tuple of 1 int, the size of the convolution window.
        strides: int or tuple of 1 int, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``ceil(n / strides)``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 1 int, the spacing between the taps of the depthwise kernel
            (atrous convolution).
        depth_multiplier: int, the depthwise output channels per input channel (default 1).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        depthwise_initializer: initializer of the depthwise kernel (default ``"glorot_uniform"``).
        pointwise_initializer: initializer of the pointwise kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        depthwise_regularizer: optional regularizer applied to the depthwise kernel.
        pointwise_regularizer: optional regularizer applied to the pointwise kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        depthwise_constraint: optional constraint applied to the depthwise kernel.
        pointwise_constraint: optional constraint applied to the pointwise kernel.
        bias_constraint: optional constraint applied to the bias.

    Input shape:
        3D tensor ``(batch, steps, channels)`` with ``data_format="channels_last"`` (the default), or
        ``(batch, channels, steps)`` with ``"channels_first"``.

    Output shape:
        3D tensor ``(batch, new_steps, filters)`` (``channels_last``) or
        ``(batch, filters, new_steps)`` (``channels_first``).

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s`` and dilation ``d``:

        - ``padding="valid"``: ``floor((n - d * (k - 1) - 1) / s) + 1``; with ``d = 1`` this is the lessons'
          ``O = (I - K + 2P) / S + 1`` with ``P = 0``;
        - ``padding="same"``: ``ceil(n / s)``.

    Example:

    >>> x = np.random.rand(4, 10, 3).astype("float32")
    >>> tuple(keras.layers.SeparableConv1D(16, 3)(x).shape)
    (4, 8, 16)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            1,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            depth_multiplier=depth_multiplier,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )


class SeparableConv2D(BaseSeparableConv):
    """2D separable convolution: a depthwise convolution, then a pointwise (1x1) one.

    The depthwise step convolves each input channel with ``depth_multiplier`` kernels of its own; the
    pointwise step mixes the ``input_channels * depth_multiplier`` results into ``filters`` channels. Far
    fewer parameters than a full convolution. Weights (Keras order): ``depthwise_kernel``
    ``(*kernel_size, input_channels, depth_multiplier)``, ``pointwise_kernel``
    ``(1, ..., input_channels * depth_multiplier, filters)``, ``bias``.

    Args:
        filters: int, the number of output channels, strictly positive.
        kernel_size: int or tuple of 2 ints, the size of the convolution window.
        strides: int or tuple of 2 ints, the step of the window (default 1). A stride above 1 cannot be combined
            with a dilation_rate above 1.
        padding: ``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is
            ``ceil(n / strides)``; an odd total goes after, as in TensorFlow). Case-insensitive.
        data_format: ``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.
        dilation_rate: int or tuple of 2 ints, the spacing between the taps of the depthwise kernel
            (atrous convolution).
        depth_multiplier: int, the depthwise output channels per input channel (default 1).
        activation: activation function or its name; ``None`` applies none (linear).
        use_bias: bool, whether to add a bias vector (default ``True``).
        depthwise_initializer: initializer of the depthwise kernel (default ``"glorot_uniform"``).
        pointwise_initializer: initializer of the pointwise kernel (default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        depthwise_regularizer: optional regularizer applied to the depthwise kernel.
        pointwise_regularizer: optional regularizer applied to the pointwise kernel.
        bias_regularizer: optional regularizer applied to the bias.
        activity_regularizer: optional regularizer applied to the output.
        depthwise_constraint: optional constraint applied to the depthwise kernel.
        pointwise_constraint: optional constraint applied to the pointwise kernel.
        bias_constraint: optional constraint applied to the bias.

    Input shape:
        4D tensor ``(batch, height, width, channels)`` with ``data_format="channels_last"`` (the default), or
        ``(batch, channels, height, width)`` with ``"channels_first"``.

    Output shape:
        4D tensor ``(batch, new_height, new_width, filters)`` (``channels_last``) or
        ``(batch, filters, new_height, new_width)`` (``channels_first``).

        Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s`` and dilation ``d``:

        - ``padding="valid"``: ``floor((n - d * (k - 1) - 1) / s) + 1``; with ``d = 1`` this is the lessons'
          ``O = (I - K + 2P) / S + 1`` with ``P = 0``;
        - ``padding="same"``: ``ceil(n / s)``.

    Example:

    >>> x = np.random.rand(4, 28, 28, 3).astype("float32")
    >>> layer = keras.layers.SeparableConv2D(16, 3, padding="same")
    >>> tuple(layer(x).shape)
    (4, 28, 28, 16)
    >>> layer.count_params()  # 3*3*3 depthwise + 3*16 pointwise + 16 bias
    91
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(
            2,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            depth_multiplier=depth_multiplier,
            activation=activation,
            use_bias=use_bias,
            **kwargs,
        )


# Keras aliases.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
