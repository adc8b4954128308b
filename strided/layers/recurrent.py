"""Recurrent layers: RNN (any cell), SimpleRNN, LSTM, GRU and the Bidirectional wrapper (Keras 3).

Sequences are ``(batch, timesteps, features)``. With ``go_backwards`` the sequence is read from the end
and, as in Keras, ``return_sequences`` gives the outputs in that (reversed) processing order.

Masks follow Keras: an explicit ``mask=`` argument, or the ``_keras_mask`` an upstream layer attached
to its output (``Masking``, ``Embedding(mask_zero=True)``). At a masked step the states are carried
over unchanged and the output repeats the previous one (zeros with ``zero_output_for_mask``);
``return_sequences`` outputs carry the mask on.

Speed: LSTM, GRU (``reset_after=True``) and SimpleRNN (tanh) with Keras's default activations, no mask
and no recurrent dropout run through torch's fused kernels (``torch._VF.lstm``/``gru``/``rnn_tanh``,
cuDNN on a GPU). Keras's LSTM gate order ``i, f, c, o`` is torch's, so the stored ``(4 * units, in)``
kernels are handed over as they are; GRU's ``z, r, h`` rows are reordered to torch's ``r, z, n``
(torch's GRU is Keras's ``reset_after=True`` formula). Everything else runs a step loop, with the
input projection of all time steps done in one matrix product before it.
"""

import torch

from strided.layers import _util
from strided.layers.base import Layer, to_tensor
from strided.layers.rnn_cells import (
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
    _call_cell,
    _is_nested,
    reset_cell_dropout,
)
from strided.saving import serialization_lib
from strided.backend.name_scope import to_snake_case
from strided.utils import tree, validation
from strided.utils.docstrings import fill_doc
from strided.utils.general_utils import named_arguments
from strided import activations


def _input_mask(sequences, mask):
    """The explicit ``mask`` or the one an upstream layer attached to ``sequences``, as booleans."""
    if mask is None:
        mask = getattr(sequences, "_keras_mask", None)
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    if mask is None:
        return None
    mask = torch.as_tensor(mask, device=sequences.device)
    return mask if mask.dtype == torch.bool else mask.to(torch.bool)


def _as_state(state, like):
    """An initial state on ``like``'s device (meta during shape inference) and in its dtype."""
    if not isinstance(state, torch.Tensor):
        state = to_tensor(state, device=like.device if not like.is_meta else None)
    return state.to(device=like.device, dtype=like.dtype)


def _where_step(keep, new, old):
    """``new`` where the step is kept, else ``old``. ``keep`` is ``(batch,)``, or ``(batch, *spatial)`` for a
    Masking layer on feature maps (Keras then masks element by element)."""
    return torch.where(keep.reshape(tuple(keep.shape) + (1,) * (new.dim() - keep.dim())), new, old)


class RNN(Layer):
    """Base class for recurrent layers: runs ``cell`` over the time axis.

    Args:
        cell: an RNN cell (``call(inputs_t, states) -> (output_t, new_states)`` and ``state_size``), or a list
            of cells, stacked with ``StackedRNNCells``.
        return_sequences: return the whole output sequence instead of the last output (default False).
        return_state: also return the last states (``output, *states``).
        go_backwards: read the sequence backwards (and return the outputs in that order).
        stateful: the last states of a batch are the initial states of the next one (``reset_state()``
            clears them).
        unroll: accepted for Keras compatibility (torch runs the loop eagerly either way).
        zero_output_for_mask: masked steps give zeros in the output sequence instead of the previous output.

    Call arguments:
        sequences: ``(batch, timesteps, ...)`` tensor.
        initial_state: optional list of initial state tensors.
        mask: optional ``(batch, timesteps)`` booleans, True for the steps to use.
        training: whether dropout is active.

    Input shape:
        3D tensor ``(batch, timesteps, features)`` (more axes for convolutional cells).

    Output shape:
        ``(batch, output_size)``, or ``(batch, timesteps, output_size)`` with ``return_sequences=True``; with
        ``return_state=True`` a tuple ``(output, *states)``.

    Example:

    >>> x = np.random.rand(4, 10, 8).astype("float32")
    >>> tuple(keras.layers.RNN(keras.layers.SimpleRNNCell(16))(x).shape)
    (4, 16)
    >>> cells = [keras.layers.LSTMCell(16), keras.layers.LSTMCell(4)]
    >>> tuple(keras.layers.RNN(cells, return_sequences=True)(x).shape)
    (4, 10, 4)
    """

    _spec_ndim = None
    _spec_min_ndim = 3

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if not hasattr(cell, "state_size"):
            raise ValueError(
                "The RNN cell should have a `state_size` attribute (single integer or list of integers, "
                f"one integer per RNN state). Received: cell={cell}"
            )
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = validation.boolean(return_sequences, "return_sequences")
        self.return_state = validation.boolean(return_state, "return_state")
        self.go_backwards = validation.boolean(go_backwards, "go_backwards")
        self.stateful = validation.boolean(stateful, "stateful")
        self.unroll = validation.boolean(unroll, "unroll")
        self.zero_output_for_mask = validation.boolean(zero_output_for_mask, "zero_output_for_mask")
        state_size = cell.state_size
        if not isinstance(state_size, (list, tuple, int)):
            raise ValueError(
                "state_size must be an integer, or a list/tuple of integers (one for each state "
                f"tensor). Received: state_size={state_size!r}"
            )
        self.single_state = isinstance(state_size, int)
        self.state_size = [state_size] if self.single_state else list(state_size)
        self.states = None

    # ------------------------------------------------------------------ shapes and building
    def _check_rank(self, shape):
        if isinstance(shape, tuple) and shape and not isinstance(shape[0], tuple):
            _util.check_spec(self, shape, ndim=self._spec_ndim, min_ndim=self._spec_min_ndim)

    def _maybe_build(self, input_shape):
        shape = tuple(input_shape)
        try:
            self._check_rank(shape)
        except ValueError:
            return  # not built: check_input raises with the shape as received (batch size included)
        super()._maybe_build(shape)

    def check_input(self, shape):
        self._check_rank(shape)

    def build(self, sequences_shape, initial_state_shape=None):
        # A dense cell steps over (batch, timesteps, features): Keras's InputSpec(min_ndim=3); the cells of
        # the other ranks (ConvLSTM) declare theirs.
        rank = getattr(self.cell, "_input_rank", None)  # None: a user's cell, which may take any rank
        if (
            rank is not None
            and isinstance(sequences_shape, (tuple, list))
            and len(sequences_shape)
            and not isinstance(sequences_shape[0], (tuple, list))
            and len(sequences_shape) != rank
        ):
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected ndim={rank} '
                f"(batch, timesteps{', features' if rank == 3 else ', ...'}), found "
                f"ndim={len(sequences_shape)}. Full shape received: {tuple(sequences_shape)}"
            )
        step_shape = (sequences_shape[0],) + tuple(sequences_shape[2:])
        if isinstance(self.cell, Layer):
            self.cell._maybe_build(step_shape)
        elif callable(getattr(self.cell, "build", None)):
            self.cell.build(step_shape)
        if self.stateful and sequences_shape[0] is not None and self.states is None:
            self.states = self.get_initial_state(sequences_shape[0])
        super().build(sequences_shape)

    def _saved_children(self):
        """Keras keeps the cell's variables under ``<layer>/cell`` in weight files."""
        if not isinstance(self.cell, Layer):
            return []
        return [("cell", self.cell)]

    # ------------------------------------------------------------------ states
    def get_initial_state(self, batch_size):
        """Zero initial states for a batch of ``batch_size`` sequences (the cell's own, when it has one)."""
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is not None:
            state = fn(batch_size=batch_size)
            return list(state) if _is_nested(state) else [state]
        return [torch.zeros((batch_size, d)) for d in self.state_size]

    def reset_state(self):
        """Sets the states of a stateful layer back to zeros."""
        if self.states is not None:
            self.states = tree.map_structure(torch.zeros_like, self.states)

    reset_states = reset_state

    def _stored_states(self, batch):
        if self.states is None:
            self.states = self.get_initial_state(batch)
        expected = tree.flatten(self.states)[0].shape[0]
        if expected != batch:
            raise ValueError(
                "If an RNN is stateful, the batch size of the input sequences must be the same as the "
                f"batch size of the initial state. \n- Expected batch size: {expected}\n- Received batch "
                f"size: {batch}"
            )
        return self.states

    # ------------------------------------------------------------------ calling
    def _cast(self, x):
        kernel = getattr(self.cell, "kernel", None)
        if isinstance(kernel, torch.Tensor):
            return _util.cast_like(x, kernel)
        return _util.cast_float(x, self.dtype)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        mask = _input_mask(sequences, mask)
        x = self._cast(sequences)
        batch = x.shape[0]
        if initial_state is None:
            states = self._stored_states(batch) if self.stateful and not x.is_meta else self.get_initial_state(batch)
        else:
            states = list(initial_state) if _is_nested(initial_state) else [initial_state]
        states = tree.map_structure(lambda s: _as_state(s, x), states)
        reset_cell_dropout(self.cell)
        try:
            last, outputs, states = self._run(x, states, mask, bool(training))
        finally:
            reset_cell_dropout(self.cell)
        if self.stateful and not x.is_meta:
            self.states = tree.map_structure(lambda s: s.detach(), states)
        output = outputs if self.return_sequences else last
        if self.return_sequences and mask is not None:
            output._keras_mask = mask
        if self.return_state:
            return (output, *states)
        return output

    def compute_mask(self, inputs, mask=None):
        """The time-step mask for a ``return_sequences`` output, else None; states carry no mask (Keras)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.state_size)
        return output_mask

    def _run(self, x, states, mask, training):
        """The step loop: returns ``(last_output, outputs or None, states)``."""
        cell = self.cell
        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        steps = x.shape[1]
        if hasattr(cell, "_project_inputs"):
            dp, rdp = cell._step_masks(x[:, 0], tree.flatten(states)[0], training)
            if dp is not None:
                dp = [m.unsqueeze(1) for m in dp] if isinstance(dp, list) else dp.unsqueeze(1)
            projected = cell._project_inputs(x, dp)  # all time steps in one product

            def step(t, st):
                return cell._recurrent_step(projected[:, t], st, rdp)
        else:

            def step(t, st):
                out, new = _call_cell(cell, x[:, t], list(st), training)
                return out, (list(new) if _is_nested(new) else [new])

        outputs, previous = [], None
        for t in range(steps):
            out, new_states = step(t, states)
            if mask is not None:
                keep = mask[:, t]
                fallback = torch.zeros_like(out) if (previous is None or self.zero_output_for_mask) else previous
                out = _where_step(keep, out, fallback)
                new_states = tree.pack_sequence_as(
                    new_states,
                    [_where_step(keep, n, o) for n, o in zip(tree.flatten(new_states), tree.flatten(states))],
                )
            states, previous = list(new_states), out
            if self.return_sequences:
                outputs.append(out)
        return previous, (torch.stack(outputs, dim=1) if self.return_sequences else None), states

    # ------------------------------------------------------------------ config
    def _rnn_config(self):
        config = Layer.get_config(self)
        config.update(
            {
                "return_sequences": self.return_sequences,
                "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "stateful": self.stateful,
                "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
            }
        )
        return config

    def get_config(self):
        config = self._rnn_config()
        config["cell"] = serialization_lib.serialize_layer(self.cell)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = serialization_lib.deserialize_layer(config.pop("cell"), custom_objects)
        return cls(cell, **config)


def _delegate(*names):
    """Read-only properties forwarding to the cell (``lstm.units`` is ``lstm.cell.units``), as in Keras."""

    def decorate(cls):
        for name in names:
            setattr(cls, name, property(lambda self, n=name: getattr(self.cell, n)))
        return cls

    return decorate


_COMMON = (
    "units",
    "activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
)


# The arguments of a layer like LSTM that are the RNN's own; the others are its cell's.
_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "activity_regularizer")


class _CellRNN(RNN):
    """An RNN that makes its own cell (``_cell_class``) from its arguments: SimpleRNN, LSTM, GRU, ConvLSTM2D...

    Its config is flat, as in Keras: the RNN's arguments, then the cell's (less ``_config_leaves_out``).
    """

    _cell_class = None
    _config_leaves_out = ()

    def __init__(self, arguments, kwargs):
        """``arguments``: the subclass's named arguments (``named_arguments(locals())``); ``kwargs``: its
        ``**kwargs``."""
        layer_args = {k: arguments.pop(k) for k in _RNN_ARGS if k in arguments}
        if self._cell_class._gates > 1 and "implementation" in kwargs:
            arguments["implementation"] = kwargs.pop("implementation")
        cell = self._cell_class(
            **arguments,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name=to_snake_case(self._cell_class.__name__),
        )
        super().__init__(cell, **layer_args, **kwargs)

    def get_config(self):
        config = self._rnn_config()
        cell = self.cell.get_config()
        for key in Layer.get_config(self.cell):
            cell.pop(key, None)
        for key in self._config_leaves_out:
            cell.pop(key)
        # Keras's order: activity_regularizer after the cell's regularizers
        keys = list(cell)
        at = keys.index("bias_regularizer") + 1
        config.update({k: cell[k] for k in keys[:at]})
        config["activity_regularizer"] = _util.serialize("regularizers", self.activity_regularizer)
        config.update({k: cell[k] for k in keys[at:]})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


class _FusedRNN(_CellRNN):
    """An RNN over a built-in cell, with the fused torch kernel when the configuration allows it."""

    _spec_ndim = 3
    _spec_min_ndim = None

    def __init__(self, arguments, kwargs):
        use_cudnn = arguments.pop("use_cudnn", "auto")
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                "Invalid valid received for argument `use_cudnn`. Expected one of {'auto', True, "
                f"False}}. Received: use_cudnn={use_cudnn}"
            )
        super().__init__(arguments, kwargs)
        self.use_cudnn = use_cudnn

    def _can_fuse(self, mask, training):
        cell = self.cell
        if self.use_cudnn is False or mask is not None:
            return False
        if training and 0.0 < cell.recurrent_dropout < 1.0:
            return False
        if training and 0.0 < cell.dropout < 1.0 and cell._dropout_mask_count is not None:
            return False  # one input mask per gate (implementation 1): only the step loop can apply them
        if cell.activation is not activations.get("tanh"):
            return False
        rec = getattr(cell, "recurrent_activation", None)
        return rec is None or rec is activations.get("sigmoid")

    def _run(self, x, states, mask, training):
        if not self._can_fuse(mask, training):
            if self.use_cudnn is True:
                raise ValueError(
                    "use_cudnn=True was specified, but cuDNN is not supported for this layer "
                    "configuration with this backend. Pass use_cudnn='auto' to fallback to a non-cuDNN "
                    "implementation."
                )
            return super()._run(x, states, mask, training)
        cell = self.cell
        if training and 0.0 < cell.dropout < 1.0:
            x = x * cell.get_dropout_mask(x[:, 0]).unsqueeze(1)
        if self.go_backwards:
            x = x.flip(1)
        outputs, states = self._fused(x.contiguous(), states, torch.is_grad_enabled())
        return outputs[:, -1], outputs, states

    def _fused(self, x, states, train):
        raise NotImplementedError


@_delegate(*_COMMON)
class SimpleRNN(_FusedRNN):
    """Fully-connected RNN whose output is fed back as its state: ``h_t = activation(x_t W + h_{t-1} U + b)``.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: default ``'tanh'`` (runs torch's fused ``rnn_tanh`` kernel when possible).
        {{layer_args}}

    Weights (in ``layer.cell``): ``kernel (features, units)``, ``recurrent_kernel (units, units)``,
    ``bias (units,)``.

    {{shapes}}

    Example:

    >>> x = np.random.rand(4, 10, 8).astype("float32")
    >>> tuple(keras.layers.SimpleRNN(16)(x).shape)
    (4, 16)
    >>> tuple(keras.layers.SimpleRNN(16, return_sequences=True)(x).shape)
    (4, 10, 16)
    """

    _cell_class = SimpleRNNCell
    _config_leaves_out = ("seed",)  # Keras's SimpleRNN config has no seed

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
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,  # last, as in Keras 3.15's SimpleRNN
        **kwargs,
    ):
        super().__init__(named_arguments(locals()), kwargs)

    def _fused(self, x, states, train):
        cell = self.cell
        params = [cell.kernel, cell.recurrent_kernel]
        if cell.bias is not None:
            params += [cell.bias, torch.zeros_like(cell.bias)]
        out, h = torch._VF.rnn_tanh(
            x, states[0].unsqueeze(0).contiguous(), params, cell.bias is not None, 1, 0.0, train, False, True
        )
        return out, [h[0]]


@_delegate(*_COMMON, "recurrent_activation", "unit_forget_bias")
class LSTM(_FusedRNN):
    """Long Short-Term Memory layer (Hochreiter 1997), Keras 3's arguments and weights.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: default ``'tanh'``. recurrent_activation: default ``'sigmoid'``.
        use_bias: default True. unit_forget_bias: add 1 to the forget-gate bias at initialization (default True).
        kernel_initializer, recurrent_initializer, bias_initializer: defaults ``'glorot_uniform'``,
            ``'orthogonal'``, ``'zeros'``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: optional constraints.
        dropout, recurrent_dropout: fractions of the input / recurrent units dropped in training.
        seed: seed of the dropout masks.
        return_sequences, return_state, go_backwards, stateful, unroll: as in ``RNN``.
        use_cudnn: ``'auto'`` (default) uses torch's fused kernel (cuDNN on a GPU) when the configuration
            allows (tanh/sigmoid, no mask, no recurrent dropout); ``False`` always runs the step loop;
            ``True`` raises when the fused kernel cannot be used.

    Weights (in ``layer.cell``, gate order ``i, f, c, o``): ``kernel (features, 4 * units)``,
    ``recurrent_kernel (units, 4 * units)``, ``bias (4 * units,)``.

    {{shapes}}

    Example:

    >>> x = np.random.rand(4, 10, 8).astype("float32")
    >>> tuple(keras.layers.LSTM(16)(x).shape)
    (4, 16)
    >>> out, h, c = keras.layers.LSTM(16, return_sequences=True, return_state=True)(x)
    >>> tuple(out.shape), tuple(h.shape), tuple(c.shape)
    ((4, 10, 16), (4, 16), (4, 16))
    """

    _cell_class = LSTMCell

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
        unroll=False,
        use_cudnn="auto",
        **kwargs,
    ):
        super().__init__(named_arguments(locals()), kwargs)

    def _fused(self, x, states, train):
        cell = self.cell
        params = [cell.kernel, cell.recurrent_kernel]  # stored (4 * units, in): torch's layout and gate order
        if cell.bias is not None:
            params += [cell.bias, torch.zeros_like(cell.bias)]
        h0, c0 = (s.unsqueeze(0).contiguous() for s in states)
        out, h, c = torch._VF.lstm(x, (h0, c0), params, cell.bias is not None, 1, 0.0, train, False, True)
        return out, [h[0], c[0]]


def _torch_gru_order(w, units):
    """Keras's GRU gate blocks ``z, r, h`` (first axis) -> torch's ``r, z, n``."""
    return torch.cat([w[units : 2 * units], w[:units], w[2 * units :]])


@_delegate(*_COMMON, "recurrent_activation", "reset_after")
class GRU(_FusedRNN):
    """Gated Recurrent Unit layer (Cho 2014), Keras 3's arguments and weights.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: default ``'tanh'``. recurrent_activation: default ``'sigmoid'``.
        {{layer_args}}
        reset_after: apply the reset gate after the recurrent matrix product (default True, cuDNN's and
            torch's formula; only this variant runs the fused kernel).
        use_cudnn: as in ``LSTM``.

    Weights (in ``layer.cell``, gate order ``z, r, h``): ``kernel (features, 3 * units)``,
    ``recurrent_kernel (units, 3 * units)``, ``bias (2, 3 * units)`` (``(3 * units,)`` without reset_after).

    {{shapes}}

    Example:

    >>> x = np.random.rand(4, 10, 8).astype("float32")
    >>> tuple(keras.layers.GRU(16)(x).shape)
    (4, 16)
    >>> layer = keras.layers.GRU(16)
    >>> _ = layer(x)
    >>> [w.shape for w in layer.get_weights()]  # kernel, recurrent_kernel, bias (reset_after=True)
    [(8, 48), (16, 48), (2, 48)]
    """

    _cell_class = GRUCell

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
        unroll=False,
        reset_after=True,
        use_cudnn="auto",
        **kwargs,
    ):
        super().__init__(named_arguments(locals()), kwargs)

    def _can_fuse(self, mask, training):
        return self.cell.reset_after and super()._can_fuse(mask, training)

    def _fused(self, x, states, train):
        cell, units = self.cell, self.cell.units
        params = [_torch_gru_order(cell.kernel, units), _torch_gru_order(cell.recurrent_kernel, units)]
        if cell.bias is not None:
            params += [_torch_gru_order(cell.bias[0], units), _torch_gru_order(cell.bias[1], units)]
        out, h = torch._VF.gru(
            x, states[0].unsqueeze(0).contiguous(), params, cell.bias is not None, 1, 0.0, train, False, True
        )
        return out, [h[0]]


_LAYER_ARGS_DOC = """use_bias, kernel_initializer, recurrent_initializer, bias_initializer: as in ``{{cell}}``.
kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer: as in ``{{cell}}``.
kernel_constraint, recurrent_constraint, bias_constraint: as in ``{{cell}}``.
dropout, recurrent_dropout, seed: as in ``{{cell}}``.
return_sequences, return_state, go_backwards, stateful, unroll: as in ``RNN``."""

_SHAPES_DOC = """Input shape:
    3D tensor ``(batch, timesteps, features)``.

Output shape:
    ``(batch, units)``, or ``(batch, timesteps, units)`` with ``return_sequences=True``; ``return_state=True``
    adds the last {{states}}."""

for _layer, _cell, _states in (
    (SimpleRNN, "SimpleRNNCell", "state ``(batch, units)``"),
    (LSTM, "LSTM", "``h`` and ``c``, each ``(batch, units)``"),
    (GRU, "LSTM", "state ``(batch, units)``"),
):
    _layer.__doc__ = fill_doc(
        _layer.__doc__, layer_args=fill_doc(_LAYER_ARGS_DOC, cell=_cell), shapes=fill_doc(_SHAPES_DOC, states=_states)
    )

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the two outputs.

    Args:
        layer: the recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN``, ``ConvLSTM2D``...). It is
            copied from its config into ``forward_layer`` (named ``forward_<name>``) and, with
            ``go_backwards=True``, into ``backward_layer`` (``backward_<name>``).
        merge_mode: ``'concat'`` (default), ``'sum'``, ``'mul'``, ``'ave'`` or ``None`` (a list of the two).
        weights: optional initial weights (forward layer's, then backward layer's).
        backward_layer: optional layer to use for the backward direction (must have ``go_backwards=True``).

    The backward outputs are reversed back into time order before merging when ``return_sequences``.
    With ``return_state`` the result is ``(output, *forward_states, *backward_states)``.

    Input shape:
        The wrapped layer's input shape, e.g. ``(batch, timesteps, features)``.

    Output shape:
        The wrapped layer's output shape, with the last axis doubled for ``merge_mode="concat"``.

    Example:

    >>> x = np.random.rand(4, 10, 8).astype("float32")
    >>> tuple(keras.layers.Bidirectional(keras.layers.LSTM(16))(x).shape)
    (4, 32)
    >>> tuple(keras.layers.Bidirectional(keras.layers.GRU(16, return_sequences=True), merge_mode="sum")(x).shape)
    (4, 10, 16)
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: {backward_layer}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}' + f" (argument `merge_mode`={merge_mode!r})."
            )
        for attr in ("go_backwards", "return_sequences", "return_state", "stateful"):
            if not hasattr(layer, attr):
                raise ValueError(
                    f"`Bidirectional` needs a recurrent layer (one with `{attr}`). Received: layer={layer}"
                )
        super().__init__(weights=weights, **kwargs)
        self.forward_layer = self._copy(layer, "forward", go_backwards=None)
        if backward_layer is None:
            self.backward_layer = self._copy(layer, "backward", go_backwards=True)
        else:
            self.backward_layer = backward_layer
        if hasattr(layer, "use_cudnn"):
            self.forward_layer.use_cudnn = layer.use_cudnn
            self.backward_layer.use_cudnn = layer.use_cudnn
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    @staticmethod
    def _copy(layer, direction, go_backwards):
        config = serialization_lib.serialize_layer(layer)
        config = dict(config, config=dict(config["config"]))
        name = layer.name[len(direction) + 1 :] if layer.name.startswith(direction + "_") else layer.name
        config["config"]["name"] = f"{direction}_{name}"
        config["config"].pop("batch_input_shape", None)
        if go_backwards is not None:
            config["config"]["go_backwards"] = go_backwards
        return serialization_lib.deserialize_layer(config)

    def _verify_layer_config(self):
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. Received: "
                f"forward_layer.go_backwards {fwd.go_backwards}, backward_layer.go_backwards="
                f"{bwd.go_backwards}"
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, attr) != getattr(bwd, attr):
                raise ValueError(
                    f"Forward layer and backward layer are expected to have the same value for attribute "
                    f'"{attr}", got "{getattr(fwd, attr)}" for forward layer and "{getattr(bwd, attr)}" '
                    "for backward layer"
                )

    def _saved_children(self):
        """Keras's weight files: ``<bidirectional>/forward_layer/...`` and ``<bidirectional>/backward_layer/...``."""
        return [("forward_layer", self.forward_layer), ("backward_layer", self.backward_layer)]

    def check_input(self, shape):
        self.forward_layer.check_input(shape)

    def _check_build_shape(self, input_shape):
        self.forward_layer._check_build_shape(input_shape)

    def build(self, sequences_shape, initial_state_shape=None):
        self.forward_layer._maybe_build(tuple(sequences_shape))
        self.backward_layer._maybe_build(tuple(sequences_shape))
        super().build(sequences_shape)

    @property
    def states(self):
        fwd, bwd = getattr(self.forward_layer, "states", None), getattr(self.backward_layer, "states", None)
        if fwd and bwd:
            return tuple(fwd) + tuple(bwd)
        return None

    def reset_state(self):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    reset_states = reset_state

    def call(self, sequences, initial_state=None, mask=None, training=False):
        mask = _input_mask(sequences, mask)
        forward_state = backward_state = None
        if initial_state is not None:
            initial_state = list(initial_state)
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer._invoke(sequences, training, {"initial_state": forward_state, "mask": mask})
        y_rev = self.backward_layer._invoke(sequences, training, {"initial_state": backward_state, "mask": mask})
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        if self.merge_mode == "concat":
            output = torch.cat([y, y_rev], dim=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_sequences and mask is not None:
            for out in output if isinstance(output, tuple) else (output,):
                out._keras_mask = mask
        if self.return_state:
            return (output + states) if isinstance(output, tuple) else (output,) + states
        return output

    def compute_mask(self, inputs, mask=None):
        """The time-step mask for ``return_sequences`` outputs (each of the pair when ``merge_mode=None``), else
        None; states carry no mask (Keras)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        if not self.return_sequences:
            mask = None
        return (mask, mask) if self.merge_mode is None else mask

    def get_config(self):
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["layer"] = serialization_lib.serialize_layer(self.forward_layer)
        config["backward_layer"] = serialization_lib.serialize_layer(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = serialization_lib.deserialize_layer(config["layer"], custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = serialization_lib.deserialize_layer(backward, custom_objects)
        return cls(**config)
