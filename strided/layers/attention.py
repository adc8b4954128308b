"""Multi-head attention layers: MultiHeadAttention and GroupedQueryAttention (``GroupQueryAttention``).

Both project query, key and value with EinsumDense sublayers named as Keras names them (``query``,
``key``, ``value``, ``attention_output``, optional ``gate``), so ``get_weights`` and weight files
line up with Keras. Attention itself runs through ``torch.nn.functional.scaled_dot_product_attention``
(``strided.ops.dot_product_attention``) unless the scores are returned, dropout is active (training
with ``dropout > 0``), or attention spans several axes; then the explicit path computes
``softmax(Q K^T / sqrt(d))`` with Keras's masked softmax (masked entries exactly 0).

Masks follow Keras: a ``query``/``value``/``key`` tensor that carries a Keras mask (e.g. the output
of ``Embedding(mask_zero=True)``) masks attention automatically, the output carries the query's mask,
and ``attention_mask``, ``value_mask``, ``key_mask`` and ``use_causal_mask`` combine with it.
"""

import math
import string

import torch

from strided.layers import _util
from strided.layers.base import Layer, _shape_of, to_tensor, unique_name
from strided.layers.einsum_dense import EinsumDense
from strided.layers.embedding import get_keras_mask, set_keras_mask
from strided.layers.regularization import Dropout
from strided.backend.keras_tensor import KerasTensor
from strided.ops import attention_ops
from strided.utils import validation


def _letter(i):
    return string.ascii_lowercase[i]


def projection_equation(free_dims, bound_dims, output_dims):
    """``(equation, bias_axes, output rank)`` of a projection: keep ``free_dims``, contract ``bound_dims``."""
    free = "".join(_letter(i) for i in range(free_dims))
    bound = "".join(_letter(free_dims + i) for i in range(bound_dims))
    out = "".join(_letter(free_dims + bound_dims + i) for i in range(output_dims))
    return f"{free}{bound},{bound}{out}->{free}{out}", out, len(free) + len(out)


def attention_equations(rank, attn_axes):
    """Einsum equations of ``scores = key . query`` and ``output = scores . value`` for projected tensors
    ``(batch, <other dims>, <attention dims>, heads, channels)`` of ``rank`` axes; plus the scores' rank."""
    target = "".join(_letter(i) for i in range(rank))
    batch_dims = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    source, offset = "", rank
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += _letter(offset)
            offset += 1
    product = (
        "".join(target[i] for i in batch_dims)
        + "".join(target[i] for i in attn_axes)
        + "".join(source[i] for i in attn_axes)
    )
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _padded_output_shape(rank, known):
    return [None] * (rank - len(known)) + list(known)


def _shape(x):
    if x is None:
        return None
    return tuple(x.shape) if isinstance(x, (KerasTensor, torch.Tensor)) else _shape_of(x)


class _ProjectedAttention(Layer):
    """What MultiHeadAttention and GroupedQueryAttention share: the call convention ``layer(query, value,
    key=None, ...)``, building from the three shapes, Keras's mask algebra and the file layout."""

    _sublayer_attrs = ()  # (file name, attribute) pairs, as Keras's saving walks them
    # MultiHeadAttention (as Keras 3's) masks with the query's own Keras mask whatever `query_mask` says, and takes
    # the Keras masks off its inputs; GroupedQueryAttention fills only the masks not passed.
    _own_query_mask = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._query_dense = self._key_dense = self._value_dense = self._output_dense = self._gate_dense = None

    def __call__(self, query=None, value=None, key=None, **kwargs):
        if query is None:
            query = kwargs.pop("inputs", None)
        if query is None or value is None:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) must be called as layer(query, value) or "
                f"layer(query, value, key). Received: query={_shape(query)}, value={_shape(value)}."
            )
        kwargs["value"] = value
        if key is not None:
            kwargs["key"] = key
        if not self.built:
            shapes = {"query_shape": _shape(query), "value_shape": _shape(value)}
            if key is not None:
                shapes["key_shape"] = _shape(key)
            self.build(**{k: (None,) + tuple(s[1:]) for k, s in shapes.items()})
            self.built = True
        return super().__call__(query, **kwargs)

    def _record_build_shapes(self, query_shape, value_shape, key_shape):
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape}
        if key_shape is not None:
            self._build_shapes["key_shape"] = key_shape

    def _keras_build_config(self):
        """Keras writes the build shapes of a layer built from several inputs as ``shapes_dict``."""
        shapes = getattr(self, "_build_shapes", None)
        if not shapes:
            return None
        return {"shapes_dict": {k: [None] + list(s[1:]) for k, s in shapes.items()}}

    def _init_shared(self, arguments):
        """Checks and keeps the arguments MultiHeadAttention and GroupedQueryAttention share, the projections' kernel
        and bias options included, from the constructor's named arguments (``locals()``)."""
        sliding_window, flash_attention = arguments["sliding_window"], arguments["flash_attention"]
        activity_regularizer = arguments["activity_regularizer"]
        self._dropout_rate = _util.rate(arguments["dropout"], "dropout")
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or isinstance(sliding_window, bool) or sliding_window <= 0
        ):
            raise ValueError(
                f"`sliding_window` must be `None` or a positive integer. Received: sliding_window={sliding_window!r}"
            )
        if flash_attention and self._dropout_rate > 0:
            raise ValueError(
                "Dropout is not supported when flash attention is enabled. Please set dropout to 0.0 "
                "to use flash attention."
            )
        self._sliding_window_size = sliding_window
        self._flash_attention = flash_attention
        # The projections' activity regularizer (the layer's own output is not regularized).
        self._activity_regularizer_sub = (
            None
            if activity_regularizer is None
            else _util.get("regularizers", activity_regularizer, "activity_regularizer")
        )
        self.seed = arguments["seed"]
        _util.set_weight_options_from(self, arguments, "kernel", "bias")

    def build(self, query_shape, value_shape, key_shape=None):
        """Creates the projections for inputs of these shapes (called on the first call)."""
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        self._record_build_shapes(query_shape, value_shape, None if key_shape is None else tuple(key_shape))
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        self._check_build_shapes(query_shape, value_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                f"value_shape={value_shape} and key_shape={key_shape}"
            )
        # Created in Keras's order: query, key, gate, value, (softmax, dropout), output.
        self._query_dense = self._built_projection("query", query_shape)
        self._key_dense = self._built_projection("key", key_shape)
        if self.use_gate:
            self._gate_dense = self._built_projection("gate", query_shape, activation="sigmoid")
        self._value_dense = self._built_projection("value", value_shape)
        self._build_attention(len(value_shape) + 1)
        unique_name("softmax")  # Keras creates a Softmax sublayer here: keep the automatic names in step
        self._dropout_layer = Dropout(rate=self._dropout_rate, seed=self.seed, dtype=self.dtype)
        self._output_dense = self._built_projection("attention_output", self._heads_shape(query_shape))
        self.built = True

    def _check_build_shapes(self, query_shape, value_shape):
        """The layer's own checks of the input shapes, before the shared one of value and key."""

    def _projection_spec(self, name, input_shape):
        """``(equation, output_shape, bias_axes)`` of the ``name`` projection of inputs of ``input_shape``."""
        raise NotImplementedError

    def _heads_shape(self, query_shape):
        """The shape of the attended heads (the output projection's input) for queries of ``query_shape``."""
        raise NotImplementedError

    def _build_attention(self, rank):
        """Sets up the attention equations for projected tensors of ``rank`` axes (fixed ones need nothing)."""

    def _built_projection(self, name, input_shape, activation=None):
        equation, output_shape, bias_axes = self._projection_spec(name, input_shape)
        dense = EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            activation=activation,
            name=name,
            **self._common_sublayer_kwargs(),
        )
        dense.build(input_shape)
        return dense

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        value = self._as_input(value, query)
        key_given = key is not None
        key = value if key is None else self._as_input(key, query)
        # As Keras's automatic masking: inputs carrying a Keras mask fill the masks not passed.
        output_mask = get_keras_mask(query)
        query_mask = output_mask if query_mask is None or self._own_query_mask else query_mask
        value_mask = get_keras_mask(value) if value_mask is None else value_mask
        key_mask = get_keras_mask(key) if key_mask is None and key_given else key_mask
        if self._own_query_mask:
            for tensor in (query, value, key):  # handled here, not passed on
                if get_keras_mask(tensor) is not None:
                    tensor._keras_mask = None
        mask, causal_only = self._mask_and_causal(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )
        gate = self._gate_dense(query) if self._gate_dense is not None else None
        out, scores = self._attend(
            *self._projected(query, key, value), mask, causal_only, training, return_attention_scores
        )
        out = self._output_dense(out * gate if gate is not None else out)
        if output_mask is not None:
            set_keras_mask(out, output_mask)
        return (out, scores) if return_attention_scores else out

    def _projected(self, query, key, value):
        return self._query_dense(query), self._key_dense(key), self._value_dense(value)

    def _mask_and_causal(self, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask):
        """``(mask, causal_only)``: with only ``use_causal_mask`` set, no mask is built (the attention kernel applies
        the causal one itself)."""
        causal_only = (
            use_causal_mask
            and query_mask is None
            and value_mask is None
            and key_mask is None
            and attention_mask is None
            and self._sliding_window_size is None
        )
        if causal_only:
            return None, True
        return self._attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        ), False

    def _shared_config(self):
        return {
            "sliding_window": self._sliding_window_size,
            "dropout": self._dropout_rate,
            **_util.weight_options_config(self, "kernel", "bias"),
            "activity_regularizer": _util.serialize("regularizers", self._activity_regularizer_sub),
            "seed": self.seed,
        }

    def _common_sublayer_kwargs(self):
        def fresh(init):  # each sublayer gets its own initializer object, as in Keras
            return type(init).from_config(init.get_config()) if hasattr(init, "get_config") else init

        return dict(
            kernel_initializer=fresh(self.kernel_initializer),
            bias_initializer=fresh(self.bias_initializer),
            kernel_regularizer=self.kernel_regularizer,
            bias_regularizer=self.bias_regularizer,
            activity_regularizer=self._activity_regularizer_sub,
            kernel_constraint=self.kernel_constraint,
            bias_constraint=self.bias_constraint,
            dtype=self.dtype,
        )

    # Weight files: nothing of its own; each projection under '<layer>/<attribute>' as Keras saves it.
    def _saved_children(self):
        return [
            (name, getattr(self, attr)) for name, attr in self._sublayer_attrs if getattr(self, attr, None) is not None
        ]

    @staticmethod
    def _as_input(x, like):
        if x is None or isinstance(x, torch.Tensor):
            return x
        return to_tensor(x, device=like.device)

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask):
        """The ``(B, T, S)`` boolean mask combining the input masks, ``attention_mask``, the causal mask and
        the sliding window (Keras's ``_compute_attention_mask``), or None."""
        auto = None

        def both(a, b):
            return b if a is None else a & b

        if query_mask is not None:
            auto = torch.as_tensor(query_mask, device=query.device).bool().unsqueeze(-1)
        if value_mask is not None:
            auto = both(auto, torch.as_tensor(value_mask, device=query.device).bool().unsqueeze(-2))
        if key_mask is not None:
            auto = both(auto, torch.as_tensor(key_mask, device=query.device).bool().unsqueeze(-2))
        if use_causal_mask:
            auto = both(auto, attention_ops.causal_mask(query.shape[1], value.shape[1], query.device).unsqueeze(0))
        if self._sliding_window_size is not None:
            rows = torch.arange(query.shape[1], device=query.device).reshape(1, -1, 1)
            cols = torch.arange(value.shape[1], device=query.device).reshape(1, 1, -1)
            auto = both(auto, (rows - cols).abs() < self._sliding_window_size)
        if attention_mask is not None:
            attention_mask = torch.as_tensor(attention_mask, device=query.device).bool()
        if auto is not None:
            attention_mask = auto if attention_mask is None else attention_mask & auto
        return attention_mask

    def _attend(self, query, key, value, attention_mask, causal_only, training, return_attention_scores):
        """Attention of projected ``query``/``key``/``value``: ``(output, scores or None)``."""
        scale, n_attn_axes = self._scale, len(self._attention_axes)
        dropout_active = bool(training) and self._dropout_rate > 0
        if not (dropout_active or return_attention_scores or query.dim() != 4):
            mask = attention_mask
            if mask is not None:
                while mask.dim() < 4:
                    mask = mask.unsqueeze(-2 * n_attn_axes - 1)
            out = attention_ops.dot_product_attention(
                query, key, value, mask=mask, scale=scale, is_causal=causal_only, flash_attention=self._flash_attention
            )
            return out, None
        if causal_only:
            attention_mask = attention_ops.causal_mask(query.shape[1], key.shape[1], query.device).unsqueeze(0)
        scores = torch.einsum(self._dot_equation, key, query * scale)
        if attention_mask is not None:
            while attention_mask.dim() < scores.dim():
                attention_mask = attention_mask.unsqueeze(-2 * n_attn_axes - 1)
        scores = attention_ops.masked_softmax(scores, attention_mask, self._norm_axes)
        dropped = self._dropout_layer(scores, training=training) if dropout_active else scores
        return torch.einsum(self._combine_equation, dropped, value), scores


def _check_positive(name, value, optional=False):
    """Keras's check of the attention sizes (``num_heads``, ``key_dim``...): a positive int (or ``None``)."""
    if (value is None and optional) or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return
    expected = "a positive integer or `None`" if optional else "a positive integer"
    raise ValueError(
        f"Received an invalid value for argument `{name}`, expected {expected}. Received: {name}={value!r}"
    )


class MultiHeadAttention(_ProjectedAttention):
    """Multi-head attention (Vaswani et al., 2017, "Attention is all you need").

    ``query``, ``key`` and ``value`` are each projected into ``num_heads`` heads, the scaled dot
    products ``softmax(Q K^T / sqrt(key_dim))`` weight the value heads, and the concatenated heads are
    projected back to the query's last dimension (or to ``output_shape``). With ``query``, ``key`` and
    ``value`` the same tensor this is self-attention.

    Args:
        num_heads: number of attention heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default ``key_dim``).
        dropout: dropout rate of the attention probabilities (training only).
        use_bias: whether the projections have biases.
        output_shape: output shape besides the batch and sequence axes (default: the query's last dim).
        attention_axes: axes attention runs over (default: every axis but batch, heads and features).
        sliding_window: optional positive int: each query position sees keys within
            ``sliding_window - 1`` positions of itself.
        flash_attention: ``None`` (use torch's flash kernel where it applies), True (require it) or False.
        kernel_initializer: initializer of the projection kernels (default ``"glorot_uniform"``).
        bias_initializer: initializer of the projection biases (default ``"zeros"``).
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers of the projections.
        kernel_constraint, bias_constraint: optional constraints of the projections.
        use_gate: add a sigmoid gate computed from the query (gated attention) on the heads' output.
        seed: seed of the dropout.

    Call arguments:
        query: ``(B, T, dim)``. value: ``(B, S, dim)``. key: optional ``(B, S, dim)`` (default ``value``).
        attention_mask: optional boolean ``(B, T, S)``: True where query ``t`` may attend to key ``s``.
        value_mask, key_mask: optional boolean ``(B, S)`` (taken from the inputs' Keras masks when
            not given). As in Keras 3, the query's mask is always the Keras mask its tensor carries.
        return_attention_scores: also return the ``(B, num_heads, T, S)`` attention probabilities.
        training: whether dropout applies.
        use_causal_mask: query position ``i`` attends only to key positions ``j <= i``.

    Input shape:
        ``query`` ``(batch, T, dim)``, ``value`` ``(batch, S, dim_v)`` and optional ``key`` ``(batch, S, dim_k)``.

    Output shape:
        ``(batch, T, dim)`` (the query's last size, or ``(batch, T, *output_shape)``), and the attention scores
        ``(batch, num_heads, T, S)`` when ``return_attention_scores=True``.

    Example:

    >>> query = np.random.rand(2, 8, 16).astype("float32")
    >>> value = np.random.rand(2, 4, 16).astype("float32")
    >>> mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> out, scores = mha(query, value, return_attention_scores=True)
    >>> tuple(out.shape), tuple(scores.shape)
    ((2, 8, 16), (2, 2, 8, 4))
    """

    _own_query_mask = True
    _sublayer_attrs = (
        ("key_dense", "_key_dense"),
        ("output_dense", "_output_dense"),
        ("query_dense", "_query_dense"),
        ("value_dense", "_value_dense"),
        ("_dropout_layer", "_dropout_layer"),
        ("_gate_dense", "_gate_dense"),
    )

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_shape=None,
        attention_axes=None,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        _check_positive("num_heads", num_heads)
        if key_dim is None:
            raise ValueError(
                "Argument `key_dim` is required: the size of each attention head for query and key, "
                "a positive integer. Received: key_dim=None"
            )
        _check_positive("key_dim", key_dim)
        _check_positive("value_dim", value_dim, optional=True)
        self._init_shared(locals())
        if output_shape:
            output_shape = validation.shape(output_shape, "output_shape")
        if isinstance(attention_axes, int) and not isinstance(attention_axes, bool):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(
                f"`attention_axes` must be an int, list, or tuple. Received: attention_axes={attention_axes!r}"
            )
        self._num_heads, self._key_dim = num_heads, key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._use_bias = validation.boolean(use_bias, "use_bias")
        self._use_gate = validation.boolean(use_gate, "use_gate")
        self._output_shape = output_shape or None
        self._attention_axes = attention_axes
        self._scale = 1.0 / math.sqrt(float(key_dim))
        super().__init__(**kwargs)

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout_rate)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    use_gate = property(lambda self: self._use_gate)

    def _projection_spec(self, name, input_shape):
        if name == "attention_output":  # the heads (batch, <dims>, heads, value_dim) back to the output shape
            output_shape = self._output_shape or (self._build_shapes["query_shape"][-1],)
            equation, bias_axes, out_rank = projection_equation(len(input_shape) - 2, 2, len(output_shape))
            return equation, _padded_output_shape(out_rank - 1, output_shape), bias_axes
        size = self._key_dim if name in ("query", "key") else self._value_dim
        equation, bias_axes, out_rank = projection_equation(len(input_shape) - 1, 1, 2)
        return equation, _padded_output_shape(out_rank - 1, [self._num_heads, size]), bias_axes

    def _heads_shape(self, query_shape):
        projected = list(self._query_dense.compute_output_shape(query_shape))
        projected[-1] = self._value_dim
        return tuple(projected)

    def _build_attention(self, rank):
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else (rank - 1) + a for a in self._attention_axes)
        self._dot_equation, self._combine_equation, scores_rank = attention_equations(rank, self._attention_axes)
        self._norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))

    def compute_mask(self, inputs, mask=None):
        return get_keras_mask(inputs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self._num_heads,
                "key_dim": self._key_dim,
                "value_dim": self._value_dim,
                "use_bias": self._use_bias,
                "use_gate": self._use_gate,
                "output_shape": self._output_shape,
                "attention_axes": self._attention_axes,
                **self._shared_config(),
            }
        )
        return config


class GroupedQueryAttention(_ProjectedAttention):
    """Grouped-query attention (Ainslie et al., 2023): ``num_query_heads`` query heads share
    ``num_key_value_heads`` key/value heads, ``num_query_heads // num_key_value_heads`` per group.

    ``num_key_value_heads == num_query_heads`` is multi-head attention, ``num_key_value_heads == 1`` is
    multi-query attention. Exported as ``GroupQueryAttention`` too (Keras's public name).

    Args:
        head_dim: size of each attention head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key and value heads (must divide ``num_query_heads``).
        dropout: dropout rate of the attention probabilities (training only).
        use_bias: whether the projections have biases.
        sliding_window: optional positive int: each query position sees keys within
            ``sliding_window - 1`` positions of itself.
        flash_attention: ``None`` (use torch's flash kernel where it applies), True (require it) or False.
        kernel_initializer, bias_initializer: initializers of the projections.
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers of the projections.
        kernel_constraint, bias_constraint: optional constraints of the projections.
        use_gate: add a sigmoid gate computed from the query on the heads' output.
        seed: seed of the dropout.

    Call arguments: as ``MultiHeadAttention`` (``query``, ``value``, ``key``, ``query_mask``,
    ``value_mask``, ``key_mask``, ``attention_mask``, ``return_attention_scores``, ``training``,
    ``use_causal_mask``); ``query`` and ``value`` must have the same last dimension.

    Input shape:
        ``query`` ``(batch, T, dim)``, ``value`` ``(batch, S, dim)`` and optional ``key`` ``(batch, S, dim)``.

    Output shape:
        ``(batch, T, dim)``, and the scores ``(batch, num_query_heads, T, S)`` when ``return_attention_scores=True``.

    Example:

    >>> x = np.random.rand(2, 6, 32).astype("float32")
    >>> gqa = keras.layers.GroupedQueryAttention(head_dim=8, num_query_heads=4, num_key_value_heads=2)
    >>> tuple(gqa(x, x).shape)
    (2, 6, 32)
    """

    _keras_class_name = "GroupQueryAttention"  # Keras's public (and saved) name of this class
    _sublayer_attrs = (
        ("_dropout_layer", "_dropout_layer"),
        ("_gate_dense", "_gate_dense"),
        ("_key_dense", "_key_dense"),
        ("_output_dense", "_output_dense"),
        ("_query_dense", "_query_dense"),
        ("_value_dense", "_value_dense"),
    )

    def __init__(
        self,
        head_dim,
        num_query_heads,
        num_key_value_heads,
        dropout=0.0,
        use_bias=True,
        sliding_window=None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate=False,
        seed=None,
        **kwargs,
    ):
        for name, value in (
            ("head_dim", head_dim),
            ("num_query_heads", num_query_heads),
            ("num_key_value_heads", num_key_value_heads),
        ):
            _check_positive(name, value)
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError(
                "`num_query_heads` must be divisible by `num_key_value_heads`. Received: "
                f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}"
            )
        self._init_shared(locals())
        self.head_dim, self.num_query_heads, self.num_key_value_heads = head_dim, num_query_heads, num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.use_bias = validation.boolean(use_bias, "use_bias")
        self.use_gate = validation.boolean(use_gate, "use_gate")
        self._scale = 1.0 / math.sqrt(float(head_dim))
        super().__init__(**kwargs)

    dropout = property(lambda self: self._dropout_rate)
    sliding_window = property(lambda self: self._sliding_window_size)

    # Projected tensors are (batch, seq, heads, head_dim): one attention axis, fixed equations.
    _attention_axes = (1,)
    _dot_equation, _combine_equation, _norm_axes = "bkuh,bquh->buqk", "buqk,bkuh->bquh", (-1,)

    def _check_build_shapes(self, query_shape, value_shape):
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(
                "The last dimension of `query_shape` and `value_shape` must be equal, but are "
                f"{query_shape[-1]}, {value_shape[-1]}. Received: query_shape={query_shape}, "
                f"value_shape={value_shape}"
            )
        self.feature_dim = query_shape[-1]

    def _projection_spec(self, name, input_shape):
        if name == "attention_output":
            return "bquh,uhm->bqm", (None, self.feature_dim), "m"
        if name in ("query", "gate"):
            return "bqm,muh->bquh", (None, self.num_query_heads, self.head_dim), "uh"
        return "bkm,mvh->bkvh", (None, self.num_key_value_heads, self.head_dim), "vh"

    def _heads_shape(self, query_shape):
        return (None, None, self.num_query_heads, self.head_dim)

    def _projected(self, query, key, value):
        q, k, v = super()._projected(query, key, value)
        return q, k.repeat_interleave(self.num_repeats, dim=2), v.repeat_interleave(self.num_repeats, dim=2)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "head_dim": self.head_dim,
                "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads,
                "use_bias": self.use_bias,
                "use_gate": self.use_gate,
                **self._shared_config(),
            }
        )
        return config


GroupQueryAttention = GroupedQueryAttention
