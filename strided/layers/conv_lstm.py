"""Convolutional LSTM: ConvLSTM1D, ConvLSTM2D, ConvLSTM3D (Keras 3).

An LSTM whose input and recurrent transformations are convolutions (Shi et al. 2015): the input of
each step is an image (or 1D/3D volume), the states ``h`` and ``c`` are feature maps. Weights keep
Keras's layout in ``get_weights`` (``kernel (*kernel_size, channels, 4 * filters)``, ``recurrent_kernel
(*kernel_size, filters, 4 * filters)``, ``bias (4 * filters,)``, gates ``i, f, c, o``) and are stored
as torch conv weights ``(4 * filters, channels, *kernel_size)``.

The input convolution of all time steps runs as one convolution over ``batch * timesteps`` images;
only the recurrent convolution ('same' padding, stride 1, no dilation, as in Keras) runs per step.
"""

import torch

from strided.layers import _util
from strided.layers.base import Layer
from strided.layers.convolutional import _torch_layout
from strided.layers.recurrent import RNN, _delegate
from strided.layers.rnn_cells import DropoutRNNCell, _state_tensor
from strided.ops import _kernels
from strided.utils import conv_utils, validation


class ConvLSTMCell(DropoutRNNCell, Layer):
    """One step of a convolutional LSTM (the cell of ``ConvLSTM1D/2D/3D``).

    Args:
        rank: 1, 2 or 3, the number of spatial dimensions.
        filters, kernel_size, strides, padding, data_format, dilation_rate: of the input convolution.
        activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
        bias_initializer, unit_forget_bias, kernel_regularizer, recurrent_regularizer, bias_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed: as in
        ``LSTMCell``.
    """

    _dropout_mask_count = 4

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        if rank not in (1, 2, 3):
            raise ValueError(f"Rank {rank} convolutions are not currently implemented. Received: rank={rank}")
        self.rank = rank
        self.filters = validation.positive_int(filters, "filters")
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, rank, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please provide "
                f"`strides=1` or `dilation_rate=1`. Received: strides={self.strides} and "
                f"dilation_rate={self.dilation_rate}"
            )
        self.activation = _util.get_activation(activation)
        self.recurrent_activation = _util.get_activation(recurrent_activation, "recurrent_activation")
        self.use_bias = validation.boolean(use_bias, "use_bias")
        self.unit_forget_bias = validation.boolean(unit_forget_bias, "unit_forget_bias")
        self.kernel_initializer = _util.get("initializers", kernel_initializer, "kernel_initializer")
        self.recurrent_initializer = _util.get("initializers", recurrent_initializer, "recurrent_initializer")
        self.bias_initializer = _util.get("initializers", bias_initializer, "bias_initializer")
        self.kernel_regularizer = _util.get("regularizers", kernel_regularizer, "kernel_regularizer")
        self.recurrent_regularizer = _util.get("regularizers", recurrent_regularizer, "recurrent_regularizer")
        self.bias_regularizer = _util.get("regularizers", bias_regularizer, "bias_regularizer")
        self.kernel_constraint = _util.get("constraints", kernel_constraint, "kernel_constraint")
        self.recurrent_constraint = _util.get("constraints", recurrent_constraint, "recurrent_constraint")
        self.bias_constraint = _util.get("constraints", bias_constraint, "bias_constraint")
        Layer.__init__(self, **kwargs)
        self._init_dropout(dropout, recurrent_dropout, seed)
        self.state_size = -1  # feature maps; the RNN asks get_initial_state for their shape

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else -(self.rank + 1)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"ConvLSTM cell '{self.name}' expects inputs of rank {self.rank + 2} (batch, "
                f"{'spatial..., channels' if self.data_format == 'channels_last' else 'channels, spatial...'}"
                f"). Received input_shape={input_shape}"
            )
        if self.data_format == "channels_last":
            spatial, channels = input_shape[1:-1], input_shape[-1]
        else:
            spatial, channels = input_shape[2:], input_shape[1]
        if None in spatial:
            raise ValueError(
                "ConvLSTM layers only support static input shapes for the spatial dimension. Received "
                f"invalid input shape: input_shape={input_shape}"
            )
        if channels is None:
            raise ValueError(
                "The channel dimension of the inputs (last axis) should be defined. Found None. Full "
                f"input shape received: input_shape={input_shape}"
            )
        self.spatial_dims, self.input_dim = tuple(spatial), int(channels)
        layout = _torch_layout(self.rank)
        f4 = 4 * self.filters
        self.kernel = self.add_weight(
            shape=self.kernel_size + (self.input_dim, f4),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
            torch_layout=layout,
        )
        self.recurrent_kernel = self.add_weight(
            shape=self.kernel_size + (self.filters, f4),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            name="recurrent_kernel",
            torch_layout=layout,
        )
        if self.use_bias:
            init = self.bias_initializer
            if self.unit_forget_bias:
                base, filters = self.bias_initializer, self.filters

                def init(shape, dtype=None):  # Keras: [bias_init(f), ones(f), bias_init(2 f)]
                    first = torch.as_tensor(base((filters,), dtype=dtype))
                    return torch.cat(
                        [
                            first,
                            torch.ones(filters, dtype=first.dtype),
                            torch.as_tensor(base((2 * filters,), dtype=dtype)),
                        ]
                    )

            self.bias = self.add_weight(
                shape=(f4,),
                initializer=init,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        else:
            self.bias = None
        super().build(input_shape)

    def _state_spatial(self):
        return tuple(
            conv_utils.conv_output_length(n, k, self.padding, s, d)
            for n, k, s, d in zip(self.spatial_dims, self.kernel_size, self.strides, self.dilation_rate)
        )

    def get_initial_state(self, batch_size=None):
        spatial = self._state_spatial()
        shape = (
            (batch_size,) + spatial + (self.filters,)
            if self.data_format == "channels_last"
            else (batch_size, self.filters) + spatial
        )
        like = self.kernel
        return [torch.zeros(shape, dtype=like.dtype, device=like.device) for _ in range(2)]

    def _conv(self, x, weight, bias, recurrent):
        weight, bias = _util.meta_weights(x, weight, bias)
        if recurrent:
            return _kernels.conv(x, weight, None, strides=1, padding="same", data_format=self.data_format)
        return _kernels.conv(
            x,
            weight,
            bias,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )

    def _project_inputs(self, x, dropout_mask=None):
        """Input convolution of ``x (..., *spatial, channels)`` for any leading axes (time folded into batch)."""
        lead = x.shape[: x.dim() - self.rank - 1]
        gates = [x] if dropout_mask is None else [x * m for m in dropout_mask]
        weights = [self.kernel] if dropout_mask is None else list(self.kernel.chunk(4, 0))
        biases = [self.bias] if dropout_mask is None or self.bias is None else list(self.bias.chunk(4, 0))
        if self.bias is None:
            biases = [None] * len(weights)
        outs = []
        for xg, w, b in zip(gates, weights, biases):
            y = self._conv(xg.reshape(-1, *xg.shape[len(lead) :]), w, b, recurrent=False)
            outs.append(y.reshape(*lead, *y.shape[1:]))
        return outs[0] if len(outs) == 1 else torch.cat(outs, dim=self._channel_axis)

    def _recurrent_step(self, projected, states, recurrent_mask=None):
        h, c = states[0], states[1]
        if recurrent_mask is None:
            rec = self._conv(h, self.recurrent_kernel, None, recurrent=True)
        else:
            rec = torch.cat(
                [
                    self._conv(h * m, w, None, recurrent=True)
                    for m, w in zip(recurrent_mask, self.recurrent_kernel.chunk(4, 0))
                ],
                dim=self._channel_axis,
            )
        z_i, z_f, z_c, z_o = (projected + rec).chunk(4, dim=self._channel_axis)
        act, ra = self.activation, self.recurrent_activation
        c = ra(z_f) * c + ra(z_i) * act(z_c)
        h = ra(z_o) * act(c)
        return h, [h, c]

    def call(self, inputs, states, training=False):
        states = [_state_tensor(s, self.kernel) for s in states]
        inputs = _util.cast_like(inputs, self.kernel)
        dp, rdp = self._step_masks(inputs, states[0], training)
        return self._recurrent_step(self._project_inputs(inputs, dp), states, rdp)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": _util.serialize_activation(self.activation),
                "recurrent_activation": _util.serialize_activation(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": _util.serialize("initializers", self.kernel_initializer),
                "recurrent_initializer": _util.serialize("initializers", self.recurrent_initializer),
                "bias_initializer": _util.serialize("initializers", self.bias_initializer),
                "unit_forget_bias": self.unit_forget_bias,
                "kernel_regularizer": _util.serialize("regularizers", self.kernel_regularizer),
                "recurrent_regularizer": _util.serialize("regularizers", self.recurrent_regularizer),
                "bias_regularizer": _util.serialize("regularizers", self.bias_regularizer),
                "kernel_constraint": _util.serialize("constraints", self.kernel_constraint),
                "recurrent_constraint": _util.serialize("constraints", self.recurrent_constraint),
                "bias_constraint": _util.serialize("constraints", self.bias_constraint),
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
            }
        )
        return config


_CONV_LSTM_PROPS = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "data_format",
    "dilation_rate",
    "activation",
    "recurrent_activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "unit_forget_bias",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
)


@_delegate(*_CONV_LSTM_PROPS)
class ConvLSTM(RNN):
    """Rank-generic convolutional LSTM layer; use ``ConvLSTM1D``, ``ConvLSTM2D`` or ``ConvLSTM3D``."""

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        **kwargs,
    ):
        cell = ConvLSTMCell(
            rank=rank,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            name="conv_lstm_cell",
            dtype=kwargs.get("dtype"),
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            **kwargs,
        )
        self._spec_ndim = rank + 3
        self._spec_min_ndim = None

    def get_config(self):
        config = self._rnn_config()
        cell = self.cell.get_config()
        for key in _CONV_LSTM_PROPS[:16]:
            config[key] = cell[key]
        config["activity_regularizer"] = _util.serialize("regularizers", self.activity_regularizer)
        for key in (
            "kernel_constraint",
            "recurrent_constraint",
            "bias_constraint",
            "dropout",
            "recurrent_dropout",
            "seed",
        ):
            config[key] = cell[key]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


_CONV_LSTM_DOC = """{n}D convolutional LSTM: an LSTM whose transformations are {n}D convolutions.

    Args:
        filters: positive integer, number of output feature maps (per gate).
        kernel_size: int or tuple of {n}, size of the convolution window.
        strides: int or tuple of {n} (default 1), strides of the input convolution.
        padding: ``'valid'`` (default) or ``'same'`` for the input convolution (the recurrent one is 'same').
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        dilation_rate: int or tuple of {n} (default 1), dilation of the input convolution.
        activation: default ``'tanh'``.
        recurrent_activation: default ``'sigmoid'``.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer, unit_forget_bias: as in ``LSTM``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer: as in ``LSTM``.
        kernel_constraint, recurrent_constraint, bias_constraint: as in ``LSTM``.
        dropout, recurrent_dropout, seed: as in ``LSTM``.
        return_sequences, return_state, go_backwards, stateful: as in ``RNN``.

    Input shape:
        ``(batch, time, {spatial}, channels)`` (``channels_last``) or ``(batch, time, channels, {spatial})``
        (``channels_first``).

    Output shape:
        ``(batch, {out}, filters)``, or ``(batch, time, {out}, filters)`` with ``return_sequences``
        (``channels_last``), where each spatial size ``n`` becomes, as in a convolution with kernel size ``k``,
        stride ``s`` and dilation ``d``: ``floor((n - d * (k - 1) - 1) / s) + 1`` with ``padding="valid"``,
        ``ceil(n / s)`` with ``"same"``.

    Weights (in ``layer.cell``): ``kernel (*kernel_size, channels, 4 * filters)``, ``recurrent_kernel
    (*kernel_size, filters, 4 * filters)``, ``bias (4 * filters,)``.

    Example:

    >>> x = np.random.rand(2, 5, *([6] * {n}), 3).astype("float32")  # (batch, time, {spatial}, channels)
    >>> y = keras.layers.ConvLSTM{n}D(4, 3)(x)
    >>> tuple(y.shape) == (2,) + (4,) * {n} + (4,)  # 'valid': 6 - 3 + 1 = 4 per spatial axis
    True
    >>> tuple(keras.layers.ConvLSTM{n}D(4, 3, padding="same", return_sequences=True)(x).shape)[:3]
    (2, 5, 6)
    """


def _conv_lstm_class(rank, spatial, out):
    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        **kwargs,
    ):
        ConvLSTM.__init__(
            self,
            rank,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            **kwargs,
        )

    name = f"ConvLSTM{rank}D"
    return type(
        name,
        (ConvLSTM,),
        {
            "__init__": __init__,
            "__module__": __name__,
            "__doc__": _CONV_LSTM_DOC.format(n=rank, spatial=spatial, out=out),
        },
    )


ConvLSTM1D = _conv_lstm_class(1, "steps", "new_steps")
ConvLSTM2D = _conv_lstm_class(2, "rows, cols", "new_rows, new_cols")
ConvLSTM3D = _conv_lstm_class(3, "dim1, dim2, dim3", "new_dim1, new_dim2, new_dim3")
