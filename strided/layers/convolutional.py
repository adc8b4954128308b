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
from strided.layers import _util
from strided.layers.lora import LoRAMixin
from strided import ops
from strided.backend.variable import keras_view
from strided.ops import kernels
from strided.utils import conv_utils, validation


def _torch_layout(rank):
    """Keras ``(*k, a, b)`` -> torch ``(b, a, *k)``."""
    return (rank + 1, rank) + tuple(range(rank))


class _ConvBase(_util.SpecLayer):
    """Argument handling shared by every convolution kind."""

    rank = None

    def _common_init(self, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                     bias_initializer, bias_regularizer, bias_constraint, allow_causal):
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
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _input_channels(self, input_shape):
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(f"The channel dimension of the inputs of layer '{self.name}' must be known "
                             f"(data_format='{self.data_format}'). Received input_shape={tuple(input_shape)}")
        self._built_axes = {self._channel_axis: int(channels)}
        return int(channels)

    def _add_kernel(self, keras_shape):
        """The kernel in Keras layout ``keras_shape``, stored torch-native and channels_last in memory."""
        self.kernel = self.add_weight(shape=keras_shape, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel", torch_layout=_torch_layout(self.rank), memory_format="channels_last")

    def _kernel_config(self):
        return {"kernel_initializer": _util.serialize("initializers", self.kernel_initializer),
                "kernel_regularizer": _util.serialize("regularizers", self.kernel_regularizer),
                "kernel_constraint": _util.serialize("constraints", self.kernel_constraint)}

    def _add_bias(self, size):
        if self.use_bias:
            self.bias = self.add_weight(shape=(size,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        name="bias")
        else:
            self.bias = None

    def _common_config(self):
        config = super().get_config()
        config.update({
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
        })
        return config


class BaseConv(LoRAMixin, _ConvBase):
    """N-D convolution: ``activation(conv(inputs, kernel) + bias)``.

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        filters: number of output channels (strictly positive).
        kernel_size: int or tuple of ``rank`` ints, the window size.
        strides: int or tuple, the step of the window (default 1).
        padding: 'valid' (no padding) or 'same' (TensorFlow's split, odd pixel after), any case;
            'causal' for 1D.
        data_format: 'channels_last' (``(batch, *spatial, channels)``, default) or 'channels_first'.
        dilation_rate: int or tuple, spacing of the kernel taps (cannot be > 1 together with strides > 1).
        groups: number of channel groups (input channels and filters must both divide by it).
        activation: activation function or name (default: linear).
        use_bias: whether to add a bias.
        kernel_initializer, bias_initializer: default 'glorot_uniform', 'zeros'.
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint.

    Output size per spatial axis: 'valid' ``floor((n - (k - 1) * d - 1) / s) + 1``; 'same'/'causal'
    ``ceil(n / s)`` (the seeds' ``O = (I - K + 2P) / S + 1``).
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None, **kwargs):
        self.rank = rank
        self.filters = validation.positive_int(filters, "filters")
        self.groups = validation.positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError("The number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={self.groups}, filters={self.filters}.")
        self._common_init(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                          bias_initializer, bias_regularizer, bias_constraint, allow_causal=True)
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
            raise ValueError("The number of input channels must be evenly divisible by the number of groups. "
                             f"Received groups={self.groups}, but the input has {channels} channels (full input "
                             f"shape is {tuple(input_shape)}).")
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
        return ops.conv(inputs, kernel, strides=list(self.strides), padding=self.padding,
                        dilation_rate=self.dilation_rate, data_format=self.data_format)

    def call(self, inputs):
        kernel, bias = _util.meta_weights(inputs, self._merged_kernel(), self.bias)
        if type(self).convolution_op is not BaseConv.convolution_op:
            y = self.convolution_op(inputs, keras_view(self.kernel, kernel))
            if bias is not None:
                shape = (1,) * (self.rank + 1) + (-1,) if self.data_format == "channels_last" else \
                    (1, -1) + (1,) * self.rank
                y = y + bias.reshape(shape)
            return self.activation(y)
        y = kernels.conv(inputs, kernel, bias, self.strides, self.padding, self.data_format,
                         self.dilation_rate, self.groups)
        return self.activation(y)

    def get_config(self):
        config = self._common_config()
        config.update({
            "filters": self.filters,
            "groups": self.groups,
            **self._kernel_config(),
            **self._lora_config(),
        })
        return config


class Conv1D(BaseConv):
    """1D convolution (temporal), e.g. ``Conv1D(16, 3)`` on ``(batch, steps, channels)``.

    Args: as ``BaseConv`` (padding may also be 'causal').
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(1, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, groups=groups, activation=activation, use_bias=use_bias,
                         **kwargs)


class Conv2D(BaseConv):
    """2D convolution over images, e.g. ``Conv2D(32, (3, 3), activation='relu')``.

    Input ``(batch, rows, cols, channels)`` (channels_last); output ``(batch, new_rows, new_cols, filters)``.
    Args: as ``BaseConv``.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(2, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, groups=groups, activation=activation, use_bias=use_bias,
                         **kwargs)


class Conv3D(BaseConv):
    """3D convolution over volumes ``(batch, d1, d2, d3, channels)``. Args: as ``BaseConv``."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(3, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, groups=groups, activation=activation, use_bias=use_bias,
                         **kwargs)


class BaseConvTranspose(_ConvBase):
    """N-D transposed convolution (the gradient of a convolution with respect to its input).

    Args:
        rank, filters, kernel_size, strides, padding ('valid'/'same'), data_format, dilation_rate, activation,
        use_bias, initializers, regularizers, constraints: as ``BaseConv``.
        output_padding: int or tuple, extra length added at the end of each spatial axis; each entry must be
            smaller than the stride (None: inferred as Keras does).

    Output size per axis: 'valid' ``n * s + max(k' - s, 0)``, 'same' ``n * s`` (``k'`` the dilated
    kernel); with ``output_padding`` p: ``(n - 1) * s + k' - 2 * (k' // 2 if 'same' else 0) + p``.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        self.rank = rank
        self.filters = validation.positive_int(filters, "filters")
        self._common_init(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                          bias_initializer, bias_regularizer, bias_constraint, allow_causal=False)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = conv_utils.normalize_tuple(output_padding, rank, "output_padding", allow_zero=True)
            for p, s in zip(self.output_padding, self.strides):
                if p >= s:
                    raise ValueError(f"Strides {self.strides} must be greater than output padding "
                                     f"{self.output_padding}. Received: output_padding={output_padding}")
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
        y = kernels.conv_transpose(inputs, kernel, bias, self.strides, self.padding, self.output_padding,
                                   self.data_format, self.dilation_rate)
        return self.activation(y)

    def get_config(self):
        config = self._common_config()
        config.update({
            "filters": self.filters,
            "output_padding": self.output_padding,
            **self._kernel_config(),
        })
        return config


class Conv1DTranspose(BaseConvTranspose):
    """1D transposed convolution. Args: as ``BaseConvTranspose``."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(1, filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, **kwargs)


class Conv2DTranspose(BaseConvTranspose):
    """2D transposed convolution ("deconvolution"), e.g. ``Conv2DTranspose(16, 3, strides=2, padding='same')``
    doubles the height and width. Args: as ``BaseConvTranspose``."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(2, filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    """3D transposed convolution. Args: as ``BaseConvTranspose``."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(3, filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, **kwargs)


class BaseDepthwiseConv(_ConvBase):
    """N-D depthwise convolution: each input channel convolved with its own ``depth_multiplier`` filters.

    Args:
        rank, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias: as ``BaseConv``.
        depth_multiplier: output channels per input channel (output has ``in * depth_multiplier`` channels).
        depthwise_initializer, depthwise_regularizer, depthwise_constraint: for the kernel
            (Keras layout ``(*kernel_size, in, depth_multiplier)``).
        bias_initializer, bias_regularizer, bias_constraint, activity_regularizer.
    """

    def __init__(self, rank, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        self.rank = rank
        self.depth_multiplier = validation.positive_int(depth_multiplier, "depth_multiplier")
        self._common_init(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                          bias_initializer, bias_regularizer, bias_constraint, allow_causal=False)
        self._check_strides_dilation()
        self.depthwise_initializer = _util.get("initializers", depthwise_initializer, "depthwise_initializer")
        self.depthwise_regularizer = _util.get("regularizers", depthwise_regularizer, "depthwise_regularizer")
        self.depthwise_constraint = _util.get("constraints", depthwise_constraint, "depthwise_constraint")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        r = self.rank
        # Stored (in, mult, *k): a pure permutation of Keras's (*k, in, mult), and a free view as (in*mult, 1, *k).
        self.kernel = self.add_weight(shape=self.kernel_size + (channels, self.depth_multiplier),
                                      initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
                                      constraint=self.depthwise_constraint, name="kernel",
                                      torch_layout=(r, r + 1) + tuple(range(r)))
        self._add_bias(channels * self.depth_multiplier)
        super().build(input_shape)

    def call(self, inputs):
        kernel, bias = _util.meta_weights(inputs, self.kernel, self.bias)
        y = kernels.depthwise_conv(inputs, kernel.reshape(-1, 1, *self.kernel_size), bias, self.strides, self.padding, self.data_format,
                                   self.dilation_rate)
        return self.activation(y)

    def get_config(self):
        config = self._common_config()
        config.update({
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": _util.serialize("initializers", self.depthwise_initializer),
            "depthwise_regularizer": _util.serialize("regularizers", self.depthwise_regularizer),
            "depthwise_constraint": _util.serialize("constraints", self.depthwise_constraint),
        })
        return config


class DepthwiseConv1D(BaseDepthwiseConv):
    """1D depthwise convolution. Args: as ``BaseDepthwiseConv``."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(1, kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, **kwargs)


class DepthwiseConv2D(BaseDepthwiseConv):
    """2D depthwise convolution. Args: as ``BaseDepthwiseConv``."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(2, kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, **kwargs)


class BaseSeparableConv(_ConvBase):
    """Depthwise convolution followed by a pointwise (1x1) convolution mixing the channels.

    Args:
        rank, filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias:
            as ``BaseConv`` (strides and dilation apply to the depthwise step).
        depth_multiplier: depthwise output channels per input channel.
        depthwise_initializer, pointwise_initializer, bias_initializer; depthwise_regularizer,
        pointwise_regularizer, bias_regularizer, activity_regularizer; depthwise_constraint,
        pointwise_constraint, bias_constraint.

    Weights (Keras order): depthwise_kernel ``(*k, in, mult)``, pointwise_kernel ``(1, .., in*mult, filters)``, bias.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        self.rank = rank
        self.filters = validation.positive_int(filters, "filters")
        self.depth_multiplier = validation.positive_int(depth_multiplier, "depth_multiplier")
        self._common_init(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                          bias_initializer, bias_regularizer, bias_constraint, allow_causal=False)
        self._check_strides_dilation()
        for part in ("depthwise", "pointwise"):
            setattr(self, f"{part}_initializer",
                    _util.get("initializers", locals()[f"{part}_initializer"], f"{part}_initializer"))
            setattr(self, f"{part}_regularizer",
                    _util.get("regularizers", locals()[f"{part}_regularizer"], f"{part}_regularizer"))
            setattr(self, f"{part}_constraint",
                    _util.get("constraints", locals()[f"{part}_constraint"], f"{part}_constraint"))
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        r = self.rank
        self.depthwise_kernel = self.add_weight(
            shape=self.kernel_size + (channels, self.depth_multiplier), initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint, name="depthwise_kernel",
            torch_layout=(r, r + 1) + tuple(range(r)))
        self.pointwise_kernel = self.add_weight(
            shape=(1,) * r + (channels * self.depth_multiplier, self.filters), initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint, name="pointwise_kernel",
            torch_layout=_torch_layout(r))
        self._add_bias(self.filters)
        super().build(input_shape)

    def call(self, inputs):
        depthwise, pointwise, bias = _util.meta_weights(inputs, self.depthwise_kernel, self.pointwise_kernel,
                                                        self.bias)
        y = kernels.separable_conv(inputs, depthwise.reshape(-1, 1, *self.kernel_size), pointwise, bias, self.strides, self.padding,
                                   self.data_format, self.dilation_rate)
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
    """1D separable convolution. Args: as ``BaseSeparableConv``."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, **kwargs):
        super().__init__(1, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, depth_multiplier=depth_multiplier, activation=activation,
                         use_bias=use_bias, **kwargs)


class SeparableConv2D(BaseSeparableConv):
    """2D separable convolution. Args: as ``BaseSeparableConv``."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True, **kwargs):
        super().__init__(2, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, depth_multiplier=depth_multiplier, activation=activation,
                         use_bias=use_bias, **kwargs)


# Keras aliases.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
