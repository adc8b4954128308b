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
from strided.layers.recurrent import _CellRNN, _delegate
from strided.layers.rnn_cells import _RecurrentCell
from strided.ops import _kernels
from strided.utils import conv_utils, validation
from strided.utils.docstrings import fill_doc
from strided.utils.general_utils import named_arguments


class ConvLSTMCell(_RecurrentCell):
    """One step of a convolutional LSTM (the cell of ``ConvLSTM1D/2D/3D``).

    Args:
        rank: 1, 2 or 3, the number of spatial dimensions.
        filters, kernel_size, strides, padding, data_format, dilation_rate: of the input convolution.
        **kwargs: ``activation``, ``recurrent_activation``, ``use_bias``, ``unit_forget_bias``, the weight
            arguments, ``dropout``, ``recurrent_dropout`` and ``seed``, as in ``LSTMCell``.
    """

    _gates = 4
    _dropout_mask_count = 4  # one input (and recurrent) mask per gate, as Keras's ConvLSTMCell

    def __init__(
        self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, **kwargs
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
        super().__init__(
            self.filters,  # the base's ``units``: the channels of the states
            kwargs.pop("activation", "tanh"),
            kwargs.pop("use_bias", True),
            kwargs.pop("dropout", 0.0),
            kwargs.pop("recurrent_dropout", 0.0),
            kwargs.pop("seed", None),
            **kwargs,
        )
        self.state_size = -1  # feature maps; the RNN asks get_initial_state for their shape

    @property
    def _input_rank(self):  # the RNN running it takes (batch, timesteps, *spatial, channels)
        return self.rank + 3

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
        f4 = 4 * self.filters
        self._add_kernels(
            self.kernel_size + (self.input_dim, f4), self.kernel_size + (self.filters, f4), _torch_layout(self.rank)
        )
        Layer.build(self, input_shape)

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

    def _pack_states(self, new_states, nested):
        return new_states

    def get_config(self):
        config = super().get_config()
        del config["units"]
        conv = {
            k: getattr(self, k)
            for k in ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate")
        }
        base = Layer.get_config(self)
        return {**base, **conv, **{k: v for k, v in config.items() if k not in base}}


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


_CONV_LSTM_DOC = """{{rank}}D convolutional LSTM: an LSTM whose transformations are {{rank}}D convolutions.

    Args:
        filters: positive integer, number of output feature maps (per gate).
        kernel_size: int or tuple of {{rank}}, size of the convolution window.
        strides: int or tuple of {{rank}} (default 1), strides of the input convolution.
        padding: ``'valid'`` (default) or ``'same'`` for the input convolution (the recurrent one is 'same').
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        dilation_rate: int or tuple of {{rank}} (default 1), dilation of the input convolution.
        activation: default ``'tanh'``.
        recurrent_activation: default ``'sigmoid'``.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer, unit_forget_bias: as in ``LSTM``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer: as in ``LSTM``.
        kernel_constraint, recurrent_constraint, bias_constraint: as in ``LSTM``.
        dropout, recurrent_dropout, seed: as in ``LSTM``.
        return_sequences, return_state, go_backwards, stateful: as in ``RNN``.

    Input shape:
        ``(batch, time, {{spatial}}, channels)`` (``channels_last``) or ``(batch, time, channels, {{spatial}})``
        (``channels_first``).

    Output shape:
        ``(batch, {{out}}, filters)``, or ``(batch, time, {{out}}, filters)`` with ``return_sequences``
        (``channels_last``), where each spatial size ``n`` becomes, as in a convolution with kernel size ``k``,
        stride ``s`` and dilation ``d``: ``floor((n - d * (k - 1) - 1) / s) + 1`` with ``padding="valid"``,
        ``ceil(n / s)`` with ``"same"``.

    Weights (in ``layer.cell``): ``kernel (*kernel_size, channels, 4 * filters)``, ``recurrent_kernel
    (*kernel_size, filters, 4 * filters)``, ``bias (4 * filters,)``.

    Example:

    >>> x = np.random.rand(2, 5, *([6] * {{rank}}), 3).astype("float32")  # (batch, time, {{spatial}}, channels)
    >>> y = keras.layers.ConvLSTM{{rank}}D(4, 3)(x)
    >>> tuple(y.shape) == (2,) + (4,) * {{rank}} + (4,)  # 'valid': 6 - 3 + 1 = 4 per spatial axis
    True
    >>> tuple(keras.layers.ConvLSTM{{rank}}D(4, 3, padding="same", return_sequences=True)(x).shape)[:3]
    (2, 5, 6)
    """


@_delegate(*_CONV_LSTM_PROPS)
class ConvLSTM(_CellRNN):
    """Rank-generic convolutional LSTM layer; ``ConvLSTM1D``, ``ConvLSTM2D`` and ``ConvLSTM3D`` set ``rank``."""

    rank = None
    _cell_class = ConvLSTMCell

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
        super().__init__(dict(named_arguments(locals()), rank=self.rank), kwargs)
        self._spec_ndim = self.rank + 3
        self._spec_min_ndim = None


class ConvLSTM1D(ConvLSTM):
    __doc__ = fill_doc(_CONV_LSTM_DOC, rank=1, spatial="steps", out="new_steps")
    rank = 1


class ConvLSTM2D(ConvLSTM):
    __doc__ = fill_doc(_CONV_LSTM_DOC, rank=2, spatial="rows, cols", out="new_rows, new_cols")
    rank = 2


class ConvLSTM3D(ConvLSTM):
    __doc__ = fill_doc(_CONV_LSTM_DOC, rank=3, spatial="dim1, dim2, dim3", out="new_dim1, new_dim2, new_dim3")
    rank = 3
