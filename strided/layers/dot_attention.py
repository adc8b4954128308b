"""Single-head attention over a list of inputs: Attention (dot-product, Luong) and AdditiveAttention (Bahdanau).

Both are called on ``[query, value]`` or ``[query, value, key]`` and take ``mask=[query_mask, value_mask]``
(filled from the inputs' Keras masks when not given, as Keras's automatic masking does). Dot-product
scores without dropout and without returned scores run through
``torch.nn.functional.scaled_dot_product_attention``; the masked positions get Keras's ``-1e9``.
"""

import torch
import torch.nn.functional as F

from strided.layers import _util
from strided.layers.base import Layer
from strided.layers.embedding import get_keras_mask, set_keras_mask
from strided.ops import attention_ops
from strided.utils import validation


def _is_shape(value):
    return isinstance(value, tuple) and all(d is None or isinstance(d, int) for d in value)


# The shapes of both attention layers' docstrings.
_SHAPES_DOC = """Input shape:
    A list ``[query, value]`` or ``[query, value, key]`` of shapes ``(batch, Tq, dim)``, ``(batch, Tv, dim)``
    and ``(batch, Tv, dim)``.

Output shape:
    ``(batch, Tq, dim)``, and the distribution ``(batch, Tq, Tv)`` when ``return_attention_scores=True``."""


@_util.shared_doc(shapes=_SHAPES_DOC)
class Attention(Layer):
    """Dot-product attention layer, a.k.a. Luong-style attention.

    Inputs are ``[query, value]`` or ``[query, value, key]`` with ``query`` ``(batch, Tq, dim)``,
    ``value`` ``(batch, Tv, dim)`` and ``key`` (default ``value``) ``(batch, Tv, dim)``:
    ``scores = query @ key^T`` (``(batch, Tq, Tv)``), ``distribution = softmax(scores)`` and
    ``output = distribution @ value`` (``(batch, Tq, dim)``).

    Args:
        use_scale: if True, a trainable scalar ``scale`` (initialised to 1) multiplies the scores.
        score_mode: ``"dot"`` (query-key dot products) or ``"concat"`` (``concat_score_weight *
            sum(tanh(scale * (query + key)))``, with a trainable scalar weight).
        dropout: dropout rate of the attention distribution (training only).
        seed: seed of the dropout.

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``.
        mask: ``[query_mask, value_mask]``: boolean ``(batch, Tq)`` (outputs at False positions are 0)
            and ``(batch, Tv)`` (False positions take no part in the attention).
        training: whether dropout applies.
        return_attention_scores: also return the ``(batch, Tq, Tv)`` distribution.
        use_causal_mask: query position ``i`` attends only to value positions ``j <= i``.

    {{shapes}}

    Example:

    >>> query = np.array([[[1.0, 0.0]]], dtype="float32")
    >>> value = np.array([[[1.0, 0.0], [0.0, 1.0]]], dtype="float32")
    >>> out, scores = keras.layers.Attention()([query, value], return_attention_scores=True)
    >>> print(scores.numpy().round(4), out.numpy().round(4))
    [[[0.7311 0.2689]]] [[[0.7311 0.2689]]]
    """

    _config_keys = ("use_scale", "score_mode", "dropout", "seed")

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        self.use_scale = validation.boolean(use_scale, "use_scale")
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode!r}"
            )
        self.score_mode = score_mode
        self.dropout = _util.rate(dropout, "dropout")
        self.seed = validation.positive_int(seed, "seed", allow_none=True, allow_zero=True)
        self._generators = {}
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ checks
    def _validate_inputs(self, inputs, mask=None, shapes=False):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or (shapes and _is_shape(inputs)):
            raise ValueError(
                f"{name} layer must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: inputs={inputs}."
            )
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(
                f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
                f"[query, value, key]. Received length: {len(inputs)}."
            )
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(
                    f"{name} layer mask must be a list, namely [query_mask, value_mask]. Received: mask={mask}."
                )
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(f"{name} layer accepts mask list of length 2 or 3. Received: mask={mask}.")

    def _check_dims(self, shapes):
        query, value = tuple(shapes[0]), tuple(shapes[1])
        key = tuple(shapes[2]) if len(shapes) > 2 else value
        if query[-1] is not None and key[-1] is not None and query[-1] != key[-1]:
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}': the last dimension of `query` and "
                f"`key` (`value` when no key is given) must be equal. Received: query shape={query}, "
                f"value shape={value}" + (f", key shape={key}" if len(shapes) > 2 else "") + "."
            )
        if value[1:-1] != key[1:-1]:
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}': `value` and `key` must have the same "
                f"length. Received: value shape={value}, key shape={key}."
            )

    def _check_build_shape(self, input_shape):
        self._validate_inputs(input_shape, shapes=True)
        self._check_dims(input_shape)

    def check_input(self, shapes):
        self._validate_inputs(shapes, shapes=True)
        self._check_dims(shapes)

    # ------------------------------------------------------------------ weights
    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(), initializer="ones") if self.use_scale else None
        self.concat_score_weight = (
            self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
            if self.score_mode == "concat"
            else None
        )
        super().build(input_shape)

    # ------------------------------------------------------------------ computation
    def _calculate_scores(self, query, key):
        """``(batch, Tq, Tv)`` scores of ``query`` against ``key``."""
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-2, -1))
            return scores * self.scale if self.scale is not None else scores
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)
        if self.scale is not None:
            summed = self.scale * summed
        return self.concat_score_weight * torch.tanh(summed).sum(-1)

    @staticmethod
    def _scores_mask(q_len, v_len, v_mask, use_causal_mask, device):
        """Boolean mask broadcastable to ``(batch, Tq, Tv)``, or None."""
        if v_mask is not None:
            v_mask = torch.as_tensor(v_mask, device=device).bool().unsqueeze(-2)
        if not use_causal_mask:
            return v_mask
        causal = attention_ops.causal_mask(q_len, v_len, device).unsqueeze(0)
        return causal if v_mask is None else v_mask & causal

    def _dropout(self, weights):
        gen = None
        if self.seed is not None and not weights.is_meta:
            gen = self._generators.get(str(weights.device))
            if gen is None:
                gen = self._generators[str(weights.device)] = torch.Generator(device=weights.device)
                gen.manual_seed(self.seed)
        keep = 1.0 - self.dropout
        if gen is None:
            return F.dropout(weights, self.dropout, True)
        return weights * torch.empty_like(weights).bernoulli_(keep, generator=gen) / keep

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        inputs = [torch.as_tensor(x) if not isinstance(x, torch.Tensor) else x for x in inputs]
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        if mask is None and any(get_keras_mask(x) is not None for x in inputs):
            mask = [get_keras_mask(x) for x in inputs]
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        scores_mask = self._scores_mask(q.shape[-2], k.shape[-2], v_mask, use_causal_mask, q.device)
        dropout_active = bool(training) and self.dropout > 0
        if self.score_mode == "dot" and not (dropout_active or return_attention_scores):
            out = self._fused(q, k, v, scores_mask)
            weights = None
        else:
            scores = self._calculate_scores(q, k)
            if scores_mask is not None:
                # Keras subtracts 1e9 (65504 in float16) from the masked scores.
                big = 65504.0 if scores.dtype == torch.float16 else 1.0e9
                scores = torch.where(scores_mask, scores, scores - big)
            weights = torch.softmax(scores, dim=-1)
            out = torch.matmul(self._dropout(weights) if dropout_active else weights, v)
        if q_mask is not None:
            q_mask = torch.as_tensor(q_mask, device=out.device).bool().unsqueeze(-1)
            out = torch.where(q_mask, out, torch.zeros((), dtype=out.dtype, device=out.device))
            set_keras_mask(out, mask[0])
        return (out, weights) if return_attention_scores else out

    def _fused(self, q, k, v, scores_mask):
        """``softmax(q k^T * scale - 1e9 * ~mask) v`` with torch's fused kernel (dot score mode)."""
        if self.scale is not None:
            q = q * self.scale
        bias = None
        if scores_mask is not None:
            big = 65504.0 if q.dtype == torch.float16 else 1.0e9
            bias = torch.where(
                scores_mask,
                torch.zeros((), dtype=q.dtype, device=q.device),
                torch.tensor(-big, dtype=q.dtype, device=q.device),
            )
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=1.0)

    def compute_mask(self, inputs, mask=None):
        """The query's mask (the output keeps the query's positions)."""
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return torch.as_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])


@_util.shared_doc(shapes=_SHAPES_DOC)
class AdditiveAttention(Attention):
    """Additive attention layer, a.k.a. Bahdanau-style attention.

    Inputs are ``[query, value]`` or ``[query, value, key]`` (shapes as for ``Attention``):
    ``scores = sum(scale * tanh(query + key), axis=-1)`` over every (query step, key step) pair,
    ``distribution = softmax(scores)`` and ``output = distribution @ value``.

    Args:
        use_scale: if True (default), a trainable ``(dim,)`` vector ``scale`` (Glorot-uniform)
            weights the ``tanh`` terms; otherwise they are summed.
        dropout: dropout rate of the attention distribution (training only).
        seed: seed of the dropout.

    Call arguments: as ``Attention`` (``inputs``, ``mask``, ``training``, ``return_attention_scores``,
    ``use_causal_mask``).

    {{shapes}}

    Example:

    >>> query = np.random.rand(2, 3, 4).astype("float32")
    >>> value = np.random.rand(2, 5, 4).astype("float32")
    >>> out, scores = keras.layers.AdditiveAttention()([query, value], return_attention_scores=True)
    >>> tuple(out.shape), tuple(scores.shape)
    ((2, 3, 4), (2, 3, 5))
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)
        self.score_mode = "additive"

    def build(self, input_shape):
        dim = tuple(input_shape[0])[-1]
        self.scale = (
            self.add_weight(name="scale", shape=(dim,), initializer="glorot_uniform") if self.use_scale else None
        )
        self.concat_score_weight = None
        Layer.build(self, input_shape)

    def _calculate_scores(self, query, key):
        terms = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        if self.scale is not None:
            terms = self.scale * terms
        return terms.sum(-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
