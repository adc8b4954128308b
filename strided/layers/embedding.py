"""Embedding and ReversibleEmbedding: integer indices -> rows of a trainable ``(input_dim, output_dim)`` table.

Masks: with ``mask_zero=True`` the output tensor carries Keras's mask (``inputs != 0``) as its
``_keras_mask`` attribute, which the attention layers read as Keras's automatic masking does.
"""

import torch
import torch.nn.functional as F

from strided import config as _config
from strided.layers import _util, lora
from strided.layers.base import Layer
from strided.layers.quantization import QuantizationMixin
from strided.utils import validation


def _strict_positive(value, name):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r} (of type {type(value).__name__})."
        )
    return value


def set_keras_mask(tensor, mask):
    """Attaches ``mask`` to an eager output tensor (Keras's ``backend.set_keras_mask``)."""
    if isinstance(tensor, torch.Tensor) and not tensor.is_meta:
        tensor._keras_mask = mask
    return tensor


def get_keras_mask(tensor):
    return getattr(tensor, "_keras_mask", None) if isinstance(tensor, torch.Tensor) else None


class Embedding(QuantizationMixin, Layer):
    """Turns non-negative integers (indices) into dense vectors of fixed size.

    ``[[4], [20]] -> [[0.25, 0.1], [0.6, -0.2]]``: each index selects a row of the ``embeddings``
    table, shape ``(input_dim, output_dim)``.

    Args:
        input_dim: size of the vocabulary, i.e. the largest index + 1.
        output_dim: size of each embedding vector.
        embeddings_initializer: initializer of the table (default 'uniform': U(-0.05, 0.05)).
        embeddings_regularizer: optional regularizer of the table.
        embeddings_constraint: optional constraint of the table.
        activity_regularizer: optional regularizer of the output.
        mask_zero: whether index 0 is padding to be masked out; the output then carries the mask
            ``inputs != 0`` for the layers after it (so ``input_dim`` should be vocabulary size + 1).
        weights: optional initial table, an array of shape ``(input_dim, output_dim)`` (or a list of one).
        lora_rank: optional int; learns a low-rank update ``(lora_alpha / rank) * A @ B`` of a frozen table.
        lora_alpha: optional float, the numerator of the LoRA scale (default ``lora_rank``).
        quantization_config: the config of a quantized layer (see ``quantize``: int8 or int4 rows).

    Input shape:
        Integer tensor ``(batch, ...)``, most often ``(batch, sequence_length)``.

    Output shape:
        ``(batch, ..., output_dim)``: one vector per index.

    Example:

    >>> layer = keras.layers.Embedding(input_dim=1000, output_dim=8)
    >>> tuple(layer(np.array([[4, 20, 999]])).shape)
    (1, 3, 8)
    >>> bool((layer(np.array([[4]]))[0, 0].detach().numpy() == layer.get_weights()[0][4]).all())
    True
    >>> layer = keras.layers.Embedding(10, 2, mask_zero=True)
    >>> layer.compute_mask(np.array([[3, 5, 0, 0]])).tolist()
    [[True, True, False, False]]
    """

    _quantizable, _q_kind, _q_weight_name = True, "embedding", "embeddings"  # see strided.layers.quantization

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        _strict_positive(input_dim, "input_dim")
        _strict_positive(output_dim, "output_dim")
        kwargs["dtype"] = self._init_quantization(kwargs.get("dtype"), quantization_config)
        kwargs.pop("input_length", None)  # Keras 3 warns and ignores it
        self.input_dim, self.output_dim = input_dim, output_dim
        _util.set_weight_options(
            self, "embeddings", embeddings_initializer, embeddings_regularizer, embeddings_constraint
        )
        self.mask_zero = validation.boolean(mask_zero, "mask_zero")
        self.supports_masking = self.mask_zero
        lora.init_lora(self, lora_rank, lora_alpha)
        super().__init__(**kwargs)
        if weights is not None:
            if not (isinstance(weights, (list, tuple)) or hasattr(weights, "shape")):
                raise TypeError(
                    "Invalid type for argument `weights`. Expected the embedding table, an array of "
                    f"shape (input_dim, output_dim), or a list of one. Received weights={weights!r}."
                )
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    def build(self, input_shape=None):
        if self.built:
            return
        self._embeddings = _util.add_weight_with_options(self, "embeddings", (self.input_dim, self.output_dim))
        self.built = True
        self._build_pending_quantization()
        if self.lora_rank:
            self.enable_lora(self.lora_rank, self.lora_alpha)

    @property
    def embeddings(self):
        """The table in use: the stored one, plus the LoRA update when LoRA is enabled."""
        if not self.built:
            raise AttributeError("You must build the layer before accessing `embeddings`.")
        if not self.lora_enabled:
            return self._embeddings
        update = torch.matmul(self.lora_embeddings_a, self.lora_embeddings_b)
        return self._embeddings + (self.lora_alpha / self.lora_rank) * update

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"):
        """Freezes the table and learns ``(lora_alpha / rank) * A @ B`` instead (A: ``(input_dim, rank)``,
        He-uniform; B: ``(rank, output_dim)``, zeros, so the layer starts unchanged)."""
        rank = lora.check_lora(self, "embeddings", rank)
        shapes = (self.input_dim, rank), (rank, self.output_dim)
        lora.add_lora_factors(self, "embeddings", self._embeddings, *shapes, lora_alpha, a_initializer, b_initializer)

    # Files hold the merged table, as Keras's do; loading resets a LoRA update to zero.
    def _saved_arrays(self):
        if self.quantization_mode is not None:
            return QuantizationMixin._saved_arrays(self)
        with torch.no_grad():
            arrays = [self.embeddings.detach().cpu().numpy().copy()]
        extra = [w for w in self._tracked_weights if w._keras_name == "reverse_embeddings"]
        return arrays + [w.detach().cpu().numpy().copy() for w in extra]

    def _load_saved_arrays(self, arrays):
        if self.quantization_mode is not None:
            return QuantizationMixin._load_saved_arrays(self, arrays)
        params = [self._embeddings] + [w for w in self._tracked_weights if w._keras_name == "reverse_embeddings"]
        if len(arrays) != len(params):
            raise ValueError(f"Layer '{self.name}' expects {len(params)} saved arrays, received {len(arrays)}.")
        with torch.no_grad():
            for p, value in zip(params, arrays):
                p.copy_(torch.as_tensor(value, dtype=p.dtype, device=p.device))
            if self.lora_enabled:
                self.lora_embeddings_a.zero_()
                self.lora_embeddings_b.zero_()

    def _lookup(self, inputs):
        inputs = torch.as_tensor(inputs)
        if inputs.dtype not in (torch.int32, torch.int64):
            inputs = inputs.to(torch.int64)
        if self.quantization_mode is not None:
            if inputs.device != self._embeddings.device and not inputs.is_meta:
                inputs = inputs.to(self._embeddings.device)
            return self._quantized_lookup(inputs)
        table = self.embeddings
        if inputs.device != table.device and not inputs.is_meta and not table.is_meta:
            inputs = inputs.to(table.device)
        return F.embedding(inputs, table).to(_config.torch_dtype(self.dtype))

    def call(self, inputs):
        try:
            out = self._lookup(inputs)
        except (IndexError, RuntimeError):
            # torch's "index out of range in self" (on the CPU; CUDA asserts on the device instead):
            # name the layer, its input_dim and the offending indices. Checked only on failure, so the
            # fast path pays nothing.
            idx = torch.as_tensor(inputs)
            if idx.is_floating_point() or idx.dtype == torch.bool or idx.numel() == 0 or idx.is_meta:
                raise
            low, high = int(idx.min()), int(idx.max())
            if low >= 0 and high < self.input_dim:
                raise
            raise ValueError(
                f'Layer "{self.name}" (Embedding with input_dim={self.input_dim}) received indices '
                f"outside [0, {self.input_dim - 1}]: min {low}, max {high}. Make `input_dim` the "
                "vocabulary size (largest index + 1); indices must not be negative."
            ) from None
        if self.mask_zero:
            set_keras_mask(out, self.compute_mask(inputs))
        return out

    def compute_mask(self, inputs, mask=None):
        """``inputs != 0`` when ``mask_zero``, else None."""
        if not self.mask_zero:
            return None
        return torch.as_tensor(inputs) != 0

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.output_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                **_util.weight_options_config(self, "embeddings"),
                "mask_zero": self.mask_zero,
                "quantization_config": self._quantization_config_entry(),
            }
        )
        if self.lora_rank:
            config.update({"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha})
        return config


class ReversibleEmbedding(Embedding):
    """An Embedding that can also project back from ``output_dim`` to ``input_dim`` (``reverse=True``).

    The reverse projection uses the transposed table (tied weights) or, with ``tie_weights=False``,
    its own ``(output_dim, input_dim)`` weight ``reverse_embeddings``. No bias.

    Args:
        input_dim, output_dim, embeddings_initializer: as for ``Embedding``.
        embeddings_regularizer, embeddings_constraint, mask_zero: as for ``Embedding``.
        tie_weights: whether the reverse projection shares the embedding table.
        reverse_dtype: dtype of the reverse projection (default: the layer's dtype).
        logit_soft_cap: if set, reverse logits become ``tanh(logits / cap) * cap``.

    Call arguments: ``inputs``; ``reverse`` (default False): ``(batch, ..., output_dim)`` hidden
    states -> ``(batch, ..., input_dim)`` logits.

    Input shape:
        Integer tensor ``(batch, ...)``; with ``reverse=True``, a float tensor ``(batch, ..., output_dim)``.

    Output shape:
        ``(batch, ..., output_dim)``; with ``reverse=True``, logits ``(batch, ..., input_dim)``.

    Example:

    >>> layer = keras.layers.ReversibleEmbedding(input_dim=100, output_dim=8)
    >>> hidden = layer(np.array([[1, 2, 3]]))
    >>> tuple(hidden.shape), tuple(layer(hidden, reverse=True).shape)
    ((1, 3, 8), (1, 3, 100))
    """

    _quantization_unsupported = True  # strided does not quantize the reverse projection

    _config_keys = ("tie_weights", "reverse_dtype", "logit_soft_cap")

    def __init__(
        self,
        input_dim,
        output_dim,
        tie_weights=True,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        reverse_dtype=None,
        logit_soft_cap=None,
        **kwargs,
    ):
        self.tie_weights = validation.boolean(tie_weights, "tie_weights")
        self.reverse_dtype = getattr(reverse_dtype, "name", reverse_dtype)
        self.logit_soft_cap = (
            None
            if logit_soft_cap is None
            else validation.number(logit_soft_cap, "logit_soft_cap", low=0, low_inclusive=False)
        )
        super().__init__(
            input_dim,
            output_dim,
            embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            embeddings_constraint=embeddings_constraint,
            mask_zero=mask_zero,
            **kwargs,
        )

    def build(self, input_shape=None):
        if self.built:
            return
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
                name="reverse_embeddings",
            )

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        kernel = self.embeddings.t() if self.tie_weights else self.reverse_embeddings
        x = _util.cast_like(inputs, kernel)
        if self.reverse_dtype is not None:
            dtype = _config.torch_dtype(self.reverse_dtype)
            x, kernel = x.to(dtype), kernel.to(dtype)
        logits = torch.matmul(x, kernel)
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_output_shape(self, input_shape, reverse=False):
        shape = list(input_shape)
        if reverse:
            shape[-1] = self.input_dim
        else:
            shape.append(self.output_dim)
        return tuple(shape)
