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

import inspect

from strided import activations
from strided.layers import _util
from strided.layers.lora import LoRAMixin
from strided import ops
from strided.backend.variable import keras_view
from strided.ops import _kernels
from strided.utils import conv_utils, validation
from strided.utils.general_utils import reorder_positional
from strided.utils.docstrings import fill_doc


def _torch_layout(rank):
    """Keras ``(*k, a, b)`` -> torch ``(b, a, *k)``."""
    return (rank + 1, rank) + tuple(range(rank))


# ---------------------------------------------------------------- docstrings, written once for every class

# A class's docstring is its own summary and example around its family's text (the ``_doc_*`` attributes of the
# family's base class), filled in for its rank by ``_documented``.
_DOC = """{{about}}

Args:
    {{args}}

Input shape:
    {{input_shape}}

Output shape:
    {{output_shape}}

    {{size_rule}}"""

_ARG_DOCS = {
    "rank": "int, the number of spatial dimensions (1, 2 or 3); ``Conv2D`` and the like fix it.",
    "filters": "int, the number of output channels, strictly positive.",
    "kernel_size": "int or tuple of {{ints}}, the size of the convolution window.",
    "strides": "int or tuple of {{ints}}, the step of the window (default 1).{{strides_note}}",
    "padding": '``"valid"`` (no padding), ``"same"`` (zeros added so that the output size is {{same_size}}; an '
    "odd total goes after, as in TensorFlow){{causal}}. Case-insensitive.",
    "data_format": '``"channels_last"`` (channels as the last axis, the default) or ``"channels_first"``.',
    "dilation_rate": "int or tuple of {{ints}}, the spacing between the taps of the {{kernel}} (atrous convolution).",
    "groups": "int, the number of channel groups; the input channels and ``filters`` must both divide by it (each "
    "group of filters sees only its group of input channels).",
    "output_padding": "optional int or tuple of {{ints}}, the extra size added at the end of each spatial axis; each "
    "entry must be smaller than the stride. ``None`` infers the size (see below).",
    "depth_multiplier": "int, the number of depthwise output channels per input channel (default 1).",
    "activation": "activation function or its name; ``None`` applies none (linear).",
    "use_bias": "bool, whether to add a bias vector (default ``True``).",
    "activity_regularizer": "optional regularizer applied to the output.",
    "lora_rank": "optional int; adds a trainable low-rank (LoRA) update of this rank to the frozen kernel.",
    "lora_alpha": "optional float scaling the LoRA update by ``lora_alpha / lora_rank`` (default ``lora_rank``).",
}
for _part, _weight in (("kernel", "kernel"), ("depthwise", "depthwise kernel"), ("pointwise", "pointwise kernel")):
    _ARG_DOCS[f"{_part}_initializer"] = f'initializer of the {_weight} (default ``"glorot_uniform"``).'
    _ARG_DOCS[f"{_part}_regularizer"] = f"optional regularizer applied to the {_weight}."
    _ARG_DOCS[f"{_part}_constraint"] = f"optional constraint applied to the {_weight} after each update."
_ARG_DOCS["bias_initializer"] = 'initializer of the bias (default ``"zeros"``).'
_ARG_DOCS["bias_regularizer"] = "optional regularizer applied to the bias."
_ARG_DOCS["bias_constraint"] = "optional constraint applied to the bias after each update."

_CONV_SIZE_RULE = """Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s`` and dilation ``d``:

- ``padding="valid"``: ``floor((n - d * (k - 1) - 1) / s) + 1``; with ``d = 1`` this is the lessons'
  ``O = (I - K + 2P) / S + 1`` with ``P = 0``;
- ``padding="same"``{{causal_too}}: ``ceil(n / s)``."""


def _arg_fields(cls):
    """The fields of ``_ARG_DOCS`` and of the size rules, for ``cls``'s family and rank."""
    causal = cls._allow_causal and cls.rank in (None, 1)
    return {
        "ints": _util.ints_doc(cls.rank),
        "strides_note": " A stride above 1 cannot be combined with a dilation_rate above 1."
        if cls._exclusive_strides_dilation
        else "",
        "same_size": cls._doc_same_size,
        "causal": ', or ``"causal"`` (zeros before the sequence only, so that step ``t`` never sees later steps)'
        if causal
        else "",
        "causal_too": ' (and ``"causal"``)' if causal else "",
        "kernel": cls._doc_kernel,
    }


def _args_doc(cls):
    """One line per argument of ``cls.__init__``, in its order (``rank`` first where it is an argument)."""
    names = [name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "rank", "kwargs")]
    names = (["rank"] if cls.rank is None else []) + names
    return "\n".join(_util.wrap_doc(f"{name}: {fill_doc(_ARG_DOCS[name], **_arg_fields(cls))}") for name in names)


_documented = _util.document_family(
    _DOC,
    about=lambda cls: _util.wrap_doc(cls._doc_about, indent=""),
    args=_args_doc,
    output_shape=lambda cls: _util.spatial_shape_doc(
        cls.rank, cls._doc_out_channels, _util.spatial_axes_doc(cls.rank, new=True)
    ),
    size_rule=lambda cls: fill_doc(cls._doc_size_rule, **_arg_fields(cls)),
)


# ---------------------------------------------------------------- the layers


class _ConvBase(_util.SpecLayer):
    """Argument handling shared by every convolution kind.

    ``rank`` is a class attribute of the 1D/2D/3D classes, and the ``rank`` argument of the ``Base*`` classes.
    """

    rank = None
    _allow_causal = False
    _exclusive_strides_dilation = True  # a stride above 1 with a dilation above 1 is refused (not by transposes)
    _doc_kernel = "kernel"
    _doc_same_size = "``ceil(n / strides)``"
    _doc_size_rule = _CONV_SIZE_RULE
    _kernel_parts = ("kernel",)  # the kernels whose weight options the kind takes (`kernel_initializer`...)
    _config_keys = ("kernel_size", "strides", "padding", "data_format", "dilation_rate", "use_bias")

    def _common_init(self, arguments):
        """Sets the arguments every convolution kind shares, and the weight options of its ``_kernel_parts`` and of the
        bias, from the constructor's named arguments (``locals()``)."""
        fixed = type(self).rank
        # Conv2D(rank=2) is harmless; Conv2D(rank=3) or BaseConv() without a rank is refused, naming `rank`.
        rank = validation.one_of(arguments["rank"], "rank", (1, 2, 3) if fixed is None else (None, fixed))
        self.rank = r = rank or fixed
        for name in ("kernel_size", "strides", "dilation_rate"):
            setattr(self, name, conv_utils.normalize_tuple(arguments[name], r, name))
        self.padding = conv_utils.normalize_padding(arguments["padding"], allow_causal=self._allow_causal and r == 1)
        self.data_format = conv_utils.normalize_data_format(arguments["data_format"])
        self.activation = _util.get_activation(arguments["activation"])
        self.use_bias = validation.boolean(arguments["use_bias"], "use_bias")
        self._spec_ndim = r + 2
        _util.set_weight_options_from(self, arguments, *self._kernel_parts, "bias")
        if self._exclusive_strides_dilation and max(self.strides) > 1 and max(self.dilation_rate) > 1:
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

    def _add_kernel(self, part, keras_shape, name, torch_layout, **kwargs):
        """The ``part`` kernel in Keras layout ``keras_shape``, stored in ``torch_layout``."""
        return _util.add_weight_with_options(self, part, keras_shape, name=name, torch_layout=torch_layout, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["activation"] = _util.serialize_activation(self.activation)
        config.update(_util.weight_options_config(self, *self._kernel_parts, "bias"))
        return config


@_documented
class BaseConv(LoRAMixin, _ConvBase):
    """N-D convolution layer (the base of ``Conv1D``, ``Conv2D`` and ``Conv3D``), rank given as an argument.

    Example:

    >>> layer = keras.layers.BaseConv(rank=2, filters=8, kernel_size=3)
    >>> tuple(layer(np.zeros((1, 9, 9, 2), "float32")).shape)
    (1, 7, 7, 8)
    """

    _allow_causal = True
    _config_keys = ("filters", "groups")
    _doc_about = (
        "Slides ``filters`` kernels over the input and computes ``activation(conv(inputs, kernel) + bias)``. The "
        "kernel has shape ``(*kernel_size, input_channels // groups, filters)`` (Keras layout)."
    )
    _doc_out_channels = "filters"

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
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        *,
        rank=None,
        **kwargs,
    ):
        self.filters = validation.positive_int(filters, "filters")
        self.groups = validation.positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}."
            )
        self._common_init(locals())
        self._init_lora(lora_rank, lora_alpha)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {channels} channels (full input "
                f"shape is {tuple(input_shape)})."
            )
        shape = self.kernel_size + (channels // self.groups, self.filters)
        # Stored torch-native and channels_last in memory (see Layer.add_weight).
        self.kernel = self._add_kernel(
            "kernel", shape, "kernel", _torch_layout(self.rank), memory_format="channels_last"
        )
        self.bias = _util.add_bias(self, self.filters)
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
        config = super().get_config()
        config.update(self._lora_config())
        return config


@_documented
class Conv1D(BaseConv):
    """1D temporal convolution over sequences, e.g. ``Conv1D(32, 3, activation="relu")``.

    Example:

    >>> x = np.random.rand(4, 10, 128).astype("float32")
    >>> tuple(keras.layers.Conv1D(32, 3, activation="relu")(x).shape)
    (4, 8, 32)
    >>> tuple(keras.layers.Conv1D(32, 3, padding="causal", dilation_rate=2)(x).shape)
    (4, 10, 32)
    """

    rank = 1


@_documented
class Conv2D(BaseConv):
    """2D convolution over images, e.g. ``Conv2D(32, 3, activation="relu")``.

    Example:

    >>> x = np.random.rand(4, 28, 28, 1).astype("float32")
    >>> tuple(keras.layers.Conv2D(32, 3, activation="relu")(x).shape)
    (4, 26, 26, 32)
    >>> tuple(keras.layers.Conv2D(32, 3, strides=2, padding="same")(x).shape)
    (4, 14, 14, 32)
    """

    rank = 2


@_documented
class Conv3D(BaseConv):
    """3D convolution over volumes, e.g. ``Conv3D(32, 3, activation="relu")``.

    Example:

    >>> x = np.random.rand(2, 8, 8, 8, 3).astype("float32")
    >>> tuple(keras.layers.Conv3D(16, 3, activation="relu")(x).shape)
    (2, 6, 6, 6, 16)
    """

    rank = 3


@_documented
class BaseConvTranspose(_ConvBase):
    """N-D transposed convolution (the base of ``Conv1DTranspose``, ``Conv2DTranspose`` and ``Conv3DTranspose``).

    Example:

    >>> layer = keras.layers.BaseConvTranspose(rank=2, filters=4, kernel_size=2, strides=2)
    >>> tuple(layer(np.zeros((1, 5, 5, 3), "float32")).shape)
    (1, 10, 10, 4)
    """

    _exclusive_strides_dilation = False
    _config_keys = ("filters", "output_padding")
    _doc_about = (
        "The gradient of a convolution with respect to its input: each input position adds a copy of the kernel, "
        "weighted by its value, into the output. The kernel has shape ``(*kernel_size, filters, input_channels)`` "
        "(Keras layout)."
    )
    _doc_out_channels = "filters"
    _doc_same_size = "``n * strides``"
    _doc_size_rule = """Each spatial size ``n`` becomes, with kernel size ``k``, stride ``s``, dilation ``d`` and the dilated kernel
size ``k' = k + (k - 1) * (d - 1)``:

- ``output_padding=None``: ``n * s + max(k' - s, 0)`` with ``"valid"``, ``n * s`` with ``"same"``;
- ``output_padding=p``: ``(n - 1) * s + k' + p`` with ``"valid"``, ``(n - 1) * s + k' - 2 * (k' // 2) + p``
  with ``"same"``.

This inverts the size change of a ``Conv`` with the same arguments."""

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
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        *,
        rank=None,
        **kwargs,
    ):
        self.filters = validation.positive_int(filters, "filters")
        self._common_init(locals())
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = conv_utils.normalize_tuple(
                output_padding, self.rank, "output_padding", allow_zero=True
            )
            for p, s in zip(self.output_padding, self.strides):
                if p >= s:
                    raise ValueError(
                        f"Strides {self.strides} must be greater than output padding "
                        f"{self.output_padding}. Received: output_padding={output_padding}"
                    )
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        shape = self.kernel_size + (self.filters, channels)
        self.kernel = self._add_kernel(
            "kernel", shape, "kernel", _torch_layout(self.rank), memory_format="channels_last"
        )
        self.bias = _util.add_bias(self, self.filters)
        super().build(input_shape)

    def call(self, inputs):
        kernel, bias = _util.meta_weights(inputs, self.kernel, self.bias)
        y = _kernels.conv_transpose(
            inputs, kernel, bias, self.strides, self.padding, self.output_padding, self.data_format, self.dilation_rate
        )
        return self.activation(y)


@_documented
class Conv1DTranspose(BaseConvTranspose):
    """1D transposed convolution ("deconvolution"), the layer that upsamples in decoders.

    Example:

    >>> x = np.random.rand(4, 10, 8).astype("float32")
    >>> tuple(keras.layers.Conv1DTranspose(16, 3, strides=2)(x).shape)
    (4, 21, 16)
    """

    rank = 1


@_documented
class Conv2DTranspose(BaseConvTranspose):
    """2D transposed convolution ("deconvolution"), the layer that upsamples in decoders.

    Example:

    >>> x = np.random.rand(4, 7, 7, 64).astype("float32")
    >>> tuple(keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same")(x).shape)
    (4, 14, 14, 32)
    >>> tuple(keras.layers.Conv2DTranspose(32, 3)(x).shape)
    (4, 9, 9, 32)
    """

    rank = 2


@_documented
class Conv3DTranspose(BaseConvTranspose):
    """3D transposed convolution ("deconvolution"), the layer that upsamples in decoders.

    Example:

    >>> x = np.random.rand(2, 4, 4, 4, 8).astype("float32")
    >>> tuple(keras.layers.Conv3DTranspose(4, 2, strides=2)(x).shape)
    (2, 8, 8, 8, 4)
    """

    rank = 3
    # Keras 3's Conv3DTranspose alone takes data_format before output_padding.
    __init__ = reorder_positional(
        BaseConvTranspose.__init__, ("filters", "kernel_size", "strides", "padding", "data_format", "output_padding")
    )


def _depthwise_layout(rank):
    """Keras ``(*k, in, mult)`` -> stored ``(in, mult, *k)``: a pure permutation, and a free view as torch's
    grouped-conv weight ``(in * mult, 1, *k)``."""
    return (rank, rank + 1) + tuple(range(rank))


@_documented
class BaseDepthwiseConv(_ConvBase):
    """N-D depthwise convolution (the base of ``DepthwiseConv1D`` and ``DepthwiseConv2D``).

    Example:

    >>> layer = keras.layers.BaseDepthwiseConv(rank=2, kernel_size=3)
    >>> tuple(layer(np.zeros((1, 9, 9, 2), "float32")).shape)
    (1, 7, 7, 2)
    """

    _doc_about = (
        "Each input channel gets ``depth_multiplier`` kernels of its own, and the channels are never mixed: the "
        "output has ``input_channels * depth_multiplier`` channels. The kernel has shape "
        "``(*kernel_size, input_channels, depth_multiplier)`` (Keras layout)."
    )
    _doc_out_channels = "channels * depth_multiplier"
    _doc_kernel = "depthwise kernel"
    _kernel_parts = ("depthwise",)
    _config_keys = ("depth_multiplier",)

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
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        *,
        rank=None,
        **kwargs,
    ):
        self.depth_multiplier = validation.positive_int(depth_multiplier, "depth_multiplier")
        self._common_init(locals())
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        shape = self.kernel_size + (channels, self.depth_multiplier)
        self.kernel = self._add_kernel("depthwise", shape, "kernel", _depthwise_layout(self.rank))
        self.bias = _util.add_bias(self, channels * self.depth_multiplier)
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


@_documented
class DepthwiseConv1D(BaseDepthwiseConv):
    """1D depthwise convolution: each input channel is convolved with its own kernels.

    Example:

    >>> x = np.random.rand(4, 10, 3).astype("float32")
    >>> tuple(keras.layers.DepthwiseConv1D(3, depth_multiplier=2)(x).shape)
    (4, 8, 6)
    """

    rank = 1


@_documented
class DepthwiseConv2D(BaseDepthwiseConv):
    """2D depthwise convolution: each input channel is convolved with its own kernels.

    Example:

    >>> x = np.random.rand(4, 28, 28, 3).astype("float32")
    >>> tuple(keras.layers.DepthwiseConv2D(3, depth_multiplier=2)(x).shape)
    (4, 26, 26, 6)
    """

    rank = 2


@_documented
class BaseSeparableConv(_ConvBase):
    """N-D separable convolution (the base of ``SeparableConv1D`` and ``SeparableConv2D``).

    Example:

    >>> layer = keras.layers.BaseSeparableConv(rank=2, filters=4, kernel_size=3)
    >>> tuple(layer(np.zeros((1, 9, 9, 2), "float32")).shape)
    (1, 7, 7, 4)
    """

    _doc_about = (
        "The depthwise step convolves each input channel with ``depth_multiplier`` kernels of its own; the "
        "pointwise step mixes the ``input_channels * depth_multiplier`` results into ``filters`` channels. Far "
        "fewer parameters than a full convolution. Weights (Keras order): ``depthwise_kernel`` "
        "``(*kernel_size, input_channels, depth_multiplier)``, ``pointwise_kernel`` "
        "``(1, ..., input_channels * depth_multiplier, filters)``, ``bias``."
    )
    _doc_out_channels = "filters"
    _doc_kernel = "depthwise kernel"
    _kernel_parts = ("depthwise", "pointwise")
    _config_keys = ("filters", "depth_multiplier")

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
        *,
        rank=None,
        **kwargs,
    ):
        self.filters = validation.positive_int(filters, "filters")
        self.depth_multiplier = validation.positive_int(depth_multiplier, "depth_multiplier")
        self._common_init(locals())
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        r = self.rank
        depthwise_shape = self.kernel_size + (channels, self.depth_multiplier)
        self.depthwise_kernel = self._add_kernel("depthwise", depthwise_shape, "depthwise_kernel", _depthwise_layout(r))
        pointwise_shape = (1,) * r + (channels * self.depth_multiplier, self.filters)
        self.pointwise_kernel = self._add_kernel("pointwise", pointwise_shape, "pointwise_kernel", _torch_layout(r))
        self.bias = _util.add_bias(self, self.filters)
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


@_documented
class SeparableConv1D(BaseSeparableConv):
    """1D separable convolution: a depthwise convolution, then a pointwise (1x1) one.

    Example:

    >>> x = np.random.rand(4, 10, 3).astype("float32")
    >>> tuple(keras.layers.SeparableConv1D(16, 3)(x).shape)
    (4, 8, 16)
    """

    rank = 1


@_documented
class SeparableConv2D(BaseSeparableConv):
    """2D separable convolution: a depthwise convolution, then a pointwise (1x1) one.

    Example:

    >>> x = np.random.rand(4, 28, 28, 3).astype("float32")
    >>> layer = keras.layers.SeparableConv2D(16, 3, padding="same")
    >>> tuple(layer(x).shape)
    (4, 28, 28, 16)
    >>> layer.count_params()  # 3*3*3 depthwise + 3*16 pointwise + 16 bias
    91
    """

    rank = 2


# Keras aliases.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
