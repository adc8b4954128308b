"""Recurrent cells: SimpleRNNCell, LSTMCell, GRUCell and StackedRNNCells (Keras 3).

A cell computes one time step: ``cell(inputs_t, states) -> (output_t, new_states)``; the ``RNN``
layer (``strided.layers.recurrent``) runs it over a sequence. Weights keep Keras's names, shapes and
gate order in ``get_weights`` (``kernel (input_dim, gates * units)``, ``recurrent_kernel
(units, gates * units)``, ``bias``; LSTM gates ``i, f, c, o``, GRU gates ``z, r, h``) and are stored
transposed, ``(gates * units, input_dim)``, the layout of ``F.linear`` and of torch's fused LSTM/GRU.

Besides ``call``, the built-in cells split a step in two so that an RNN can project the inputs of
all time steps in one matrix product before the loop (the part that does not depend on the state):
``_project_inputs(x, dropout_mask)`` and ``_recurrent_step(projected_t, states, recurrent_mask)``.
"""

import torch
import torch.nn.functional as F

from strided.layers import _util
from strided.layers.base import Layer
from strided.layers.regularization import SeededRandom
from strided.utils import validation
from strided.utils.general_utils import named_arguments
from strided.saving import serialization_lib
from strided.backend.name_scope import to_snake_case
from strided.utils.docstrings import fill_doc


def _rate(value, name):
    """A dropout rate in [0, 1).

    Keras clips the rate into [0, 1], and its cells apply dropout only when ``0 < rate < 1``: ``dropout=1.5``
    or ``dropout=1`` silently trains with no dropout at all. strided refuses them instead.
    """
    return validation.number(value, name, 0.0, 1.0, high_inclusive=False)


def _state_tensor(state, like):
    """A state given as an array (a direct cell call) becomes a tensor like the cell's weights."""
    if not isinstance(state, torch.Tensor):
        state = torch.as_tensor(state, dtype=like.dtype)
    return _util.cast_like(state, like)


def _is_nested(x):
    return isinstance(x, (list, tuple))


# Keras's default initializer of each weight of a cell (``{part}_initializer``; regularizers and constraints
# default to None), set and serialized by the shared weight-option helpers of ``_util``.
_DEFAULT_INITIALIZERS = {"kernel": "glorot_uniform", "recurrent": "orthogonal", "bias": "zeros"}


def _forget_bias_initializer(base, units):
    """Keras's ``unit_forget_bias``: the bias of an LSTM's gates ``i, f, c, o`` starts as ``base`` with the
    forget gate's ``units`` entries set to one."""

    def init(shape, dtype=None):
        first = torch.as_tensor(base((units,), dtype=dtype))
        rest = torch.as_tensor(base((2 * units,), dtype=dtype))
        return torch.cat([first, torch.ones(units, dtype=first.dtype), rest])

    return init


class DropoutRNNCell(SeededRandom):
    """Mixin giving a cell Keras's per-sequence dropout masks.

    One mask (or, with ``_dropout_mask_count`` set, one per gate) is drawn for the inputs and one for
    the recurrent state at the first step of a sequence and reused at every step, as Keras does;
    the RNN layer clears them after each call.
    """

    _dropout_mask_count = None

    def _init_dropout(self, dropout, recurrent_dropout, seed):
        self.dropout = _rate(dropout, "dropout")
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout")
        self._init_seed(seed)
        self._dropout_mask = None
        self._recurrent_dropout_mask = None

    def _create_dropout_mask(self, like, rate):
        keep = 1.0 - rate

        def draw():
            mask = torch.empty(like.shape, dtype=like.dtype, device=like.device)
            return mask.bernoulli_(keep, generator=self._generator(like.device)).div_(keep)

        count = self._dropout_mask_count
        return draw() if count is None else [draw() for _ in range(count)]

    def get_dropout_mask(self, step_input):
        """The input dropout mask(s) of the current sequence (drawn on first use)."""
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = self._create_dropout_mask(step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_state):
        """The recurrent dropout mask(s) of the current sequence (drawn on first use)."""
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._create_dropout_mask(step_state, self.recurrent_dropout)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None

    def _step_masks(self, inputs, state, training):
        dp = self.get_dropout_mask(inputs) if training and 0.0 < self.dropout < 1.0 else None
        rdp = self.get_recurrent_dropout_mask(state) if training and 0.0 < self.recurrent_dropout < 1.0 else None
        return dp, rdp


def _gate_linear(x, weight, bias, gates, masks):
    """``F.linear`` of ``x`` with ``weight (gates * units, in)``; with per-gate masks, gate by gate."""
    if masks is None:
        return F.linear(x, weight, bias)
    if not isinstance(masks, (list, tuple)):
        return F.linear(x * masks, weight, bias)
    w = weight.chunk(gates, 0)
    b = bias.chunk(gates, 0) if bias is not None else [None] * gates
    return torch.cat([F.linear(x * m, wg, bg) for m, wg, bg in zip(masks, w, b)], dim=-1)


_CELL_ARGS_DOC = """kernel_initializer, recurrent_initializer, bias_initializer: defaults ``'glorot_uniform'``,
    ``'orthogonal'``, ``'zeros'``.
kernel_regularizer, recurrent_regularizer, bias_regularizer: optional regularizers.
kernel_constraint, recurrent_constraint, bias_constraint: optional constraints.
dropout, recurrent_dropout: fractions of the input / recurrent units to drop in training (one mask per
    sequence).
seed: seed of the dropout masks."""


class _RecurrentCell(DropoutRNNCell, Layer):
    """Weights and arguments shared by SimpleRNNCell, LSTMCell, GRUCell and ConvLSTMCell.

    The weight arguments (``{kernel,recurrent,bias}_{initializer,regularizer,constraint}``) come as keywords. A cell with gates (``_gates > 1``) also takes
    ``recurrent_activation`` and Keras's ``implementation`` (1: one input dropout mask per gate), an LSTM
    cell (4 gates) ``unit_forget_bias``.
    """

    _input_rank = 3  # the RNN running it takes (batch, timesteps, features)

    _gates = 1

    def __init__(self, units, activation, use_bias, dropout, recurrent_dropout, seed, **kwargs):
        self.units = validation.positive_int(units, "units")
        self.activation = _util.get_activation(activation)
        if self._gates > 1:
            recurrent_activation = kwargs.pop("recurrent_activation", "sigmoid")
            self.recurrent_activation = _util.get_activation(recurrent_activation, "recurrent_activation")
            self.implementation = kwargs.pop("implementation", 2)
        self.use_bias = validation.boolean(use_bias, "use_bias")
        if self._gates == 4:  # an LSTM: i, f, c, o
            self.unit_forget_bias = validation.boolean(kwargs.pop("unit_forget_bias", True), "unit_forget_bias")
        for part, initializer in _DEFAULT_INITIALIZERS.items():
            options = [kwargs.pop(f"{part}_{option}", None) for option in ("regularizer", "constraint")]
            _util.set_weight_options(self, part, kwargs.pop(f"{part}_initializer", initializer), *options)
        Layer.__init__(self, **kwargs)
        self._init_dropout(dropout, recurrent_dropout, seed)
        if self._gates > 1:
            if self.recurrent_dropout != 0.0:
                self.implementation = 1
            if self.implementation == 1:
                self._dropout_mask_count = self._gates  # one mask per gate, as Keras's implementation 1

    def _check_build_shape(self, input_shape):
        if not _is_nested(input_shape) or not input_shape or input_shape[-1] is None:
            raise ValueError(
                f"The last dimension of the input of cell '{self.name}' must be known. "
                f"Received input_shape={input_shape}"
            )

    def _add_kernels(self, kernel_shape, recurrent_shape, torch_layout=(1, 0), bias_shape=None):
        """``kernel``, ``recurrent_kernel`` and (with ``use_bias``) ``bias``, in Keras's shapes, each with the
        options named after it (``recurrent_kernel``: ``recurrent_initializer``...)."""
        self.kernel = _util.add_weight_with_options(self, "kernel", kernel_shape, torch_layout=torch_layout)
        self.recurrent_kernel = _util.add_weight_with_options(
            self, "recurrent", recurrent_shape, name="recurrent_kernel", torch_layout=torch_layout
        )
        if not self.use_bias:
            self.bias = None
        elif self._gates == 4 and self.unit_forget_bias:
            forget_bias = _forget_bias_initializer(self.bias_initializer, self.units)
            self.bias = self.add_weight(
                shape=(self._gates * self.units,),
                initializer=forget_bias,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        else:
            self.bias = _util.add_weight_with_options(self, "bias", bias_shape or (self._gates * self.units,))

    def build(self, input_shape, bias_shape=None):
        self._check_build_shape(input_shape)
        g = self._gates * self.units
        self._add_kernels((int(input_shape[-1]), g), (self.units, g), bias_shape=bias_shape)
        Layer.build(self, input_shape)

    def get_initial_state(self, batch_size=None):
        """Zero states, one ``(batch_size, size)`` tensor per entry of ``state_size``."""
        sizes = self.state_size if _is_nested(self.state_size) else [self.state_size]
        like = self.kernel
        return [torch.zeros((batch_size, s), dtype=like.dtype, device=like.device) for s in sizes]

    def _input_bias(self):
        return self.bias

    def _project_inputs(self, x, dropout_mask=None):
        """Input part of the gates for ``x`` (any leading shape), input bias included."""
        return _gate_linear(x, self.kernel, self._input_bias(), self._gates, dropout_mask)

    def call(self, inputs, states, training=False):
        nested = _is_nested(states)
        states = [_state_tensor(s, self.kernel) for s in (states if nested else [states])]
        inputs = _util.cast_like(inputs, self.kernel)
        dp, rdp = self._step_masks(inputs, states[0], training)
        output, new_states = self._recurrent_step(self._project_inputs(inputs, dp), states, rdp)
        return output, self._pack_states(new_states, nested)

    def _pack_states(self, new_states, nested):
        return new_states if nested else new_states[0]

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "activation": _util.serialize_activation(self.activation)})
        if self._gates > 1:
            config["recurrent_activation"] = _util.serialize_activation(self.recurrent_activation)
        config["use_bias"] = self.use_bias
        if self._gates == 4:
            config["unit_forget_bias"] = self.unit_forget_bias
        config.update(_util.weight_options_config(self, "kernel", "recurrent", "bias", activity=False))
        config.update({"dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed})
        return config


class SimpleRNNCell(_RecurrentCell):
    """Cell of a fully-connected RNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation function (default ``'tanh'``; ``None`` means linear).
        use_bias: whether the cell uses a bias vector.
        {{cell_args}}

    Call arguments: ``inputs (batch, features)``, ``states`` (a tensor or a one-element list of
    ``(batch, units)``), ``training``. Returns ``(output, new_states)``.

    Input shape:
        ``inputs`` ``(batch, features)`` (one time step) and ``states``, a list of ``(batch, units)`` tensors.

    Output shape:
        ``(output, new_states)``: ``output`` ``(batch, units)`` and the list ``[output]``.

    Example:

    >>> cell = keras.layers.SimpleRNNCell(8)
    >>> out, states = cell(np.ones((2, 3), "float32"), [np.zeros((2, 8), "float32")])
    >>> tuple(out.shape), len(states)
    ((2, 8), 1)
    >>> tuple(keras.layers.RNN(cell)(np.ones((2, 5, 3), "float32")).shape)  # the cell over 5 steps
    (2, 8)
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
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
        super().__init__(**named_arguments(locals()), **kwargs)
        self.state_size = self.units
        self.output_size = self.units

    def _recurrent_step(self, projected, states, recurrent_mask=None):
        h = states[0]
        if recurrent_mask is not None:
            h = h * recurrent_mask
        output = self.activation(projected + F.linear(h, self.recurrent_kernel))
        return output, [output]


class LSTMCell(_RecurrentCell):
    """Cell of the Long Short-Term Memory layer (Hochreiter 1997), Keras's gate order ``i, f, c, o``.

    ``z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias``, split in four: ``i, f, o =
    recurrent_activation(z_i, z_f, z_o)``, ``c_t = f * c_{t-1} + i * activation(z_c)``,
    ``h_t = o * activation(c_t)``.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation of the candidate and the output (default ``'tanh'``).
        recurrent_activation: activation of the gates (default ``'sigmoid'``).
        use_bias: whether the cell uses a bias vector.
        unit_forget_bias: add 1 to the forget-gate bias at initialization (default True).
        {{cell_args}}

    Weights: ``kernel (input_dim, 4 * units)``, ``recurrent_kernel (units, 4 * units)``, ``bias (4 * units,)``.
    States: ``[h, c]``, each ``(batch, units)``.

    Input shape:
        ``inputs`` ``(batch, features)`` (one time step) and ``states`` ``[h, c]``, each ``(batch, units)``.

    Output shape:
        ``(h, [h, c])``: the new hidden state ``(batch, units)`` and the new states.

    Example:

    >>> cell = keras.layers.LSTMCell(8)
    >>> h, (h2, c) = cell(np.ones((2, 3), "float32"), [np.zeros((2, 8), "float32"), np.zeros((2, 8), "float32")])
    >>> tuple(h.shape), tuple(c.shape)
    ((2, 8), (2, 8))
    """

    _gates = 4

    def __init__(
        self,
        units,
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
        super().__init__(**named_arguments(locals()), **kwargs)
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def _recurrent_step(self, projected, states, recurrent_mask=None):
        h, c = states[0], states[1]
        z = projected + _gate_linear(h, self.recurrent_kernel, None, 4, recurrent_mask)
        z_i, z_f, z_c, z_o = z.chunk(4, dim=-1)
        act, rec = self.activation, self.recurrent_activation
        c = rec(z_f) * c + rec(z_i) * act(z_c)
        h = rec(z_o) * act(c)
        return h, [h, c]

    def _pack_states(self, new_states, nested):
        return new_states


class GRUCell(_RecurrentCell):
    """Cell of the Gated Recurrent Unit layer (Cho 2014), Keras's gate order ``z, r, h``.

    ``z, r = recurrent_activation(...)``, candidate ``hh = activation(x_h + r * (h_{t-1} @ U_h + b_rh))``
    with ``reset_after=True`` (the default, cuDNN's and torch's formula) or ``activation(x_h + (r *
    h_{t-1}) @ U_h)`` with ``reset_after=False``; ``h_t = z * h_{t-1} + (1 - z) * hh``.

    Args:
        units: positive integer, dimensionality of the output space.
        activation, recurrent_activation: defaults ``'tanh'`` and ``'sigmoid'``.
        use_bias: whether the cell uses biases.
        reset_after: apply the reset gate after the recurrent matrix product (default True).
        {{cell_args}}

    Weights: ``kernel (input_dim, 3 * units)``, ``recurrent_kernel (units, 3 * units)``, ``bias``
    ``(2, 3 * units)`` (input and recurrent biases) with ``reset_after`` else ``(3 * units,)``.

    Input shape:
        ``inputs`` ``(batch, features)`` (one time step) and ``states``, a list of ``(batch, units)`` tensors.

    Output shape:
        ``(output, [output])``: the new state ``(batch, units)``.

    Example:

    >>> cell = keras.layers.GRUCell(8)
    >>> out, states = cell(np.ones((2, 3), "float32"), [np.zeros((2, 8), "float32")])
    >>> tuple(out.shape)
    (2, 8)
    """

    _gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        reset_after=True,
        seed=None,
        **kwargs,
    ):
        args = named_arguments(locals())
        self.reset_after = validation.boolean(args.pop("reset_after"), "reset_after")
        super().__init__(**args, **kwargs)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        super().build(input_shape, bias_shape=(2, 3 * self.units) if self.reset_after else None)

    def _input_bias(self):
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def _recurrent_step(self, projected, states, recurrent_mask=None):
        h = states[0]
        units, rk = self.units, self.recurrent_kernel
        masks = recurrent_mask if isinstance(recurrent_mask, (list, tuple)) else [recurrent_mask] * 3
        hz, hr, hh_in = (h if m is None else h * m for m in masks)
        rec_bias = self.bias[1] if (self.bias is not None and self.reset_after) else None
        rb = rec_bias.chunk(3) if rec_bias is not None else (None, None, None)
        x_z, x_r, x_h = projected.chunk(3, dim=-1)
        if recurrent_mask is None or not isinstance(recurrent_mask, (list, tuple)):
            if self.reset_after:
                inner = F.linear(hz, rk, rec_bias)
                r_z, r_r, r_h = inner.chunk(3, dim=-1)
            else:
                r_z, r_r = F.linear(hz, rk[: 2 * units]).chunk(2, dim=-1)
        else:
            r_z = F.linear(hz, rk[:units], rb[0])
            r_r = F.linear(hr, rk[units : 2 * units], rb[1])
            if self.reset_after:
                r_h = F.linear(hh_in, rk[2 * units :], rb[2])
        z = self.recurrent_activation(x_z + r_z)
        r = self.recurrent_activation(x_r + r_r)
        if self.reset_after:
            candidate = self.activation(x_h + r * r_h)
        else:
            candidate = self.activation(x_h + F.linear(r * hh_in, rk[2 * units :]))
        h = z * h + (1 - z) * candidate
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        config["seed"] = config.pop("seed")  # Keras's key order
        return config


class StackedRNNCells(Layer):
    """Wraps a list of cells so that an ``RNN`` runs them as one cell, each feeding the next.

    Args:
        cells: list of RNN cells (objects with ``call(inputs, states)`` and ``state_size``).

    ``state_size`` is the list of the cells' state sizes; ``output_size`` is the last cell's.

    Input shape:
        ``inputs`` ``(batch, features)`` and the list of every cell's states.

    Output shape:
        ``(output, new_states)``: the last cell's output and every cell's new states.

    Example:

    >>> cells = keras.layers.StackedRNNCells([keras.layers.LSTMCell(16), keras.layers.LSTMCell(4)])
    >>> cells.state_size, cells.output_size
    ([[16, 16], [4, 4]], 4)
    >>> tuple(keras.layers.RNN(cells)(np.ones((2, 5, 3), "float32")).shape)
    (2, 4)
    """

    def __init__(self, cells, **kwargs):
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(f"Argument `cells` should be a non-empty list of RNN cells. Received: cells={cells!r}")
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError(f"All cells must have a `call` method. Received cell without a `call` method: {cell}")
            if not hasattr(cell, "state_size"):
                raise ValueError(
                    f"All cells must have a `state_size` attribute. Received cell without a `state_size`: {cell}"
                )
        super().__init__(**kwargs)
        self.cells = torch.nn.ModuleList(cells) if all(isinstance(c, Layer) for c in cells) else list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        return last.state_size[0] if _is_nested(last.state_size) else last.state_size

    def get_initial_state(self, batch_size=None):
        states = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                states.append(fn(batch_size=batch_size))
            else:
                sizes = cell.state_size if _is_nested(cell.state_size) else [cell.state_size]
                zeros = [torch.zeros((batch_size, s)) for s in sizes]
                states.append(zeros if _is_nested(cell.state_size) else zeros[0])
        return states

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._maybe_build(tuple(input_shape))
            size = getattr(cell, "output_size", None)
            if size is None:
                size = cell.state_size[0] if _is_nested(cell.state_size) else cell.state_size
            input_shape = (input_shape[0], size)
        super().build(input_shape)

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            was_list = _is_nested(cell_states)
            cell_states = list(cell_states) if was_list else [cell_states]
            inputs, cell_states = _call_cell(cell, inputs, cell_states, training)
            if not _is_nested(cell_states):
                cell_states = [cell_states]
            new_states.append(cell_states if (was_list or len(cell_states) > 1) else cell_states[0])
        return inputs, new_states

    def _saved_children(self):
        """Keras's weight files: ``<cell>/cells/<cell class>`` (``lstm_cell``, ``lstm_cell_1``...)."""
        used, out = {}, []
        for cell in self.cells:
            if not isinstance(cell, Layer):
                continue
            base = to_snake_case(type(cell).__name__)
            used[base] = used.get(base, -1) + 1
            out.append((f"cells/{base}" + (f"_{used[base]}" if used[base] else ""), cell))
        return out

    def get_config(self):
        config = super().get_config()
        config["cells"] = [serialization_lib.serialize_layer(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [serialization_lib.deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


def _call_cell(cell, inputs, states, training):
    """One step of any cell: strided cells go straight to ``call`` (no per-step ``__call__`` overhead)."""
    if isinstance(cell, Layer):
        if not cell.built:
            cell._maybe_build((None,) + tuple(inputs.shape[1:]))
        kwargs = {"training": bool(training)} if cell._call_takes_training else {}
        return cell.call(inputs, states, **kwargs)
    return cell.call(inputs, states)


def reset_cell_dropout(cell):
    """Clears the per-sequence dropout masks of ``cell`` (and of stacked cells)."""
    if isinstance(cell, DropoutRNNCell):
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
    for inner in getattr(cell, "cells", None) or ():
        reset_cell_dropout(inner)


for _cell in (SimpleRNNCell, LSTMCell, GRUCell):
    _cell.__doc__ = fill_doc(_cell.__doc__, cell_args=_CELL_ARGS_DOC)
