"""Categorical preprocessing layers: ``CategoryEncoding``, ``Discretization``, ``Hashing``, ``HashedCrossing``.

Numbers follow Keras 3. Keras runs ``Hashing`` and ``HashedCrossing`` through TensorFlow's string ops
(FarmHash ``Fingerprint64``, SipHash with a salt, ``FingerprintCat64`` for crosses); strided computes the
same hashes with NumPy (``strided.utils.farmhash``), so these layers need no TensorFlow and give the same
bins. Layers that take strings (``Hashing``, ``HashedCrossing``, the lookups) work on the host: they
accept Python lists, NumPy arrays (numbers or strings) and tensors, and return torch tensors.
"""

import numpy as np
import torch
import torch.nn.functional as F

from strided import config
from strided.layers.base import Layer
from strided.utils import farmhash, validation

_ENCODING_MODES = ("int", "one_hot", "multi_hot", "count")
_CROSS_HASH_KEY = 0xDECAFCAFFE  # tf.sparse.cross_hashed's default hash key


def _check_num_bins(num_bins, message):
    """A hashing layer's ``num_bins``: a positive int, else a ValueError with ``message`` (Keras's, per layer)."""
    if num_bins is None or isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or num_bins <= 0:
        raise ValueError(f"{message}Received: num_bins={num_bins!r}.")


def _check_choice(value, choices, arg, caller):
    if value not in choices:
        raise ValueError(
            f"Invalid value for argument `{arg}` of {caller}. Expected one of {list(choices)}. "
            f"Received: {arg}={value!r}"
        )


def one_hot(indices, depth, dtype):
    """One-hot rows of ``depth`` for integer ``indices``; out-of-range indices give rows of zeros (as TF)."""
    indices = indices.long()
    valid = (indices >= 0) & (indices < depth)
    out = F.one_hot(indices.clamp(0, max(depth - 1, 0)), depth)
    return (out * valid.unsqueeze(-1)).to(config.torch_dtype(dtype))


def encode_categorical(indices, output_mode, depth, dtype, count_weights=None):
    """Keras's ``encode_categorical_inputs``: integer indices -> ``int`` / ``one_hot`` / ``multi_hot`` /
    ``count`` outputs of width ``depth``.

    ``one_hot`` drops a trailing axis of size 1 first; ``multi_hot`` and ``count`` reduce axis 1 (axis 0 of
    a vector), as Keras does, so ``(batch, tokens)`` becomes ``(batch, depth)``.
    """
    if output_mode == "int":
        return indices.to(config.torch_dtype(dtype))
    if indices.ndim == 0:
        indices = indices.unsqueeze(-1)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices.squeeze(-1)
        return one_hot(indices, depth, dtype)
    axis = 1 if indices.ndim > 1 else 0
    if output_mode == "multi_hot":
        return one_hot(indices, depth, dtype).amax(dim=axis)
    if count_weights is not None:
        encoded = one_hot(indices, depth, count_weights.dtype) * count_weights.unsqueeze(-1)
    else:
        encoded = one_hot(indices, depth, dtype)
    return encoded.sum(dim=axis)


def encoded_shape(shape, output_mode, depth):
    """The output shape of ``encode_categorical`` for indices of ``shape``."""
    shape = tuple(shape)
    if output_mode == "int":
        return shape
    if not shape:
        return (depth,)
    if output_mode == "one_hot":
        return (shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape) + (depth,)
    return ((shape[0],) + shape[2:] if len(shape) > 1 else ()) + (depth,)


# ---------------------------------------------------------------------------- host-side layers
def to_numpy(x):
    """A layer input (list, NumPy array, tensor) as a NumPy array; byte strings decoded to ``str``."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype.kind == "S" or (arr.dtype == object and arr.size and isinstance(arr.reshape(-1)[0], bytes)):
        arr = np.vectorize(lambda b: b.decode("utf-8") if isinstance(b, bytes) else str(b), otypes=[object])(arr)
        arr = arr.astype(str)
    elif arr.dtype == object:
        arr = arr.astype(str)
    return arr


def is_meta(x):
    return isinstance(x, torch.Tensor) and x.is_meta


class HostLayer(Layer):
    """A layer computed with NumPy on the host (strings, hashes, vocabularies).

    Eager calls take lists, NumPy arrays of numbers or strings, and tensors; the output is a torch
    tensor on the input tensor's device (the CPU for NumPy or list input). In a graph, ``call`` sees meta
    tensors and only reports the output shape.
    """

    def _eager_call(self, inputs, kwargs):
        kwargs = dict(kwargs)
        kwargs.pop("training", None)
        kwargs.pop("mask", None)
        leaves = inputs if isinstance(inputs, (list, tuple)) and self._takes_list else [inputs]
        shapes = [tuple(np.shape(x)) if not isinstance(x, torch.Tensor) else tuple(x.shape) for x in leaves]
        if not self.built:
            shape = shapes if self._takes_list else shapes[0]
            self._maybe_build(shape)
            self.built = True
        return self.call(inputs, **kwargs)

    _takes_list = False

    @staticmethod
    def _device_of(*inputs):
        for x in inputs:
            if isinstance(x, torch.Tensor):
                return x.device
        return _OUTPUT_DEVICE[0] or torch.device("cpu")


# The device of a model running on string (NumPy) inputs: host layers inside it put their outputs there,
# next to the model's weights (set by Model for the duration of such a call; direct calls give CPU tensors).
_OUTPUT_DEVICE = [None]


class outputs_on:
    """Context manager: host layers called on NumPy inputs return tensors on ``device``."""

    def __init__(self, device):
        self.device = device

    def __enter__(self):
        self.previous = _OUTPUT_DEVICE[0]
        _OUTPUT_DEVICE[0] = self.device

    def __exit__(self, *exc):
        _OUTPUT_DEVICE[0] = self.previous


# ---------------------------------------------------------------------------- CategoryEncoding
class CategoryEncoding(Layer):
    """A preprocessing layer which encodes integer features.

    Turns integer indices in ``[0, num_tokens)`` into dense one-hot, multi-hot or count vectors.

    Args:
        num_tokens: the total number of tokens the layer should support; inputs must be in
            ``[0, num_tokens)``.
        output_mode: ``"multi_hot"`` (default; a 1 for each index present in a sample, the last axis
            being the sample), ``"one_hot"`` (one vector per input element; a trailing axis of size 1 is
            replaced by the encoding), or ``"count"`` (like multi-hot, with the number of occurrences).
            ``"binary"`` is accepted as ``"multi_hot"``.
        sparse: only ``False`` (sparse outputs need the TensorFlow backend in Keras).

    Call arguments:
        inputs: integer tensor of shape ``(batch,)`` or ``(batch, tokens)`` (or more, for one-hot).
        count_weights: weights of the same shape as ``inputs``, summed instead of counting 1 per
            occurrence (``output_mode="count"`` only).

    Input shape:
        Integer tensor ``(batch,)`` or ``(batch, tokens)`` (more axes for ``"one_hot"``).

    Output shape:
        ``(batch, num_tokens)`` for ``"multi_hot"`` and ``"count"``; for ``"one_hot"``, the input shape with a
        trailing ``num_tokens`` axis (replacing a trailing axis of size 1).

    Example:

    >>> layer = keras.layers.CategoryEncoding(num_tokens=4, output_mode="count")
    >>> layer(np.array([[0, 1], [0, 0], [1, 2], [3, 1]])).tolist()
    [[1.0, 1.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
    """

    _config_keys = ("num_tokens", "output_mode")

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        _check_choice(output_mode, ("count", "one_hot", "multi_hot"), "output_mode", "CategoryEncoding")
        if num_tokens is None:
            raise ValueError(
                "num_tokens must be set to use this layer. If the number of tokens is not known "
                "beforehand, use the IntegerLookup layer instead."
            )
        if not isinstance(num_tokens, (int, np.integer)) or isinstance(num_tokens, bool) or num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens!r}.")
        if sparse:
            raise ValueError(
                "`sparse=True` is not supported by strided (dense tensors only; in Keras it needs "
                f"the TensorFlow backend). Received: sparse={sparse!r}"
            )
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    "`count_weights` is not used when `output_mode` is not `'count'`. "
                    f"Received `count_weights={count_weights}`."
                )
            count_weights = torch.as_tensor(count_weights, device=inputs.device).to(config.torch_dtype(self.dtype))
        if inputs.is_floating_point():
            inputs = inputs.long()
        return encode_categorical(inputs, self.output_mode, self.num_tokens, self.dtype, count_weights)


# ---------------------------------------------------------------------------- Discretization
def _summarize(values, epsilon):
    """A weighted quantile summary of ``values``: every ``step``-th sorted value, weighted ``step``."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(values.size / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1) :: int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def _compress_summary(summary, epsilon):
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


def _merge_summaries(prev, new, epsilon):
    merged = np.concatenate((prev, new), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return _compress_summary(merged, epsilon)


class Discretization(Layer):
    """A preprocessing layer which buckets continuous features by ranges.

    Each value ``x`` becomes the index ``i`` of its bucket, ``bin_boundaries[i-1] <= x < bin_boundaries[i]``
    (``0`` below the first boundary, ``len(bin_boundaries)`` from the last one on).

    Args:
        bin_boundaries: sorted list of boundaries (the buckets' edges), or ``None`` to learn ``num_bins``
            buckets of roughly equal counts with ``adapt()``.
        num_bins: number of buckets to learn with ``adapt()`` (exclusive with ``bin_boundaries``).
        epsilon: error tolerance of the quantile approximation used by ``adapt()`` (default 0.01).
        output_mode: ``"int"`` (bucket indices, int32), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: only ``False``.

    Input shape:
        Any numeric tensor.

    Output shape:
        Same shape as the input (bin indices) for ``output_mode="int"``; the encodings add a trailing axis of
        size ``num_bins`` (one-hot) or replace the last axis (multi-hot, count).

    Example:

    >>> layer = keras.layers.Discretization(bin_boundaries=[0., 1., 2.])
    >>> layer(np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])).tolist()
    [[0, 2, 3, 1], [1, 3, 2, 1]]
    """

    def __init__(
        self,
        bin_boundaries=None,
        num_bins=None,
        epsilon=0.01,
        output_mode="int",
        sparse=False,
        dtype=None,
        name=None,
        **kwargs,
    ):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise ValueError(f"`sparse=True` cannot be used with backend torch. Received: sparse={sparse!r}")
        _check_choice(output_mode, _ENCODING_MODES, "output_mode", "Discretization")
        validation.positive_int(num_bins, "num_bins", allow_none=True, allow_zero=True)
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Both `num_bins` and `bin_boundaries` should not be set. Received: "
                f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        if bin_boundaries is not None and (
            not isinstance(bin_boundaries, (list, tuple, np.ndarray))
            or not all(isinstance(b, (int, float, np.number)) and not isinstance(b, bool) for b in bin_boundaries)
        ):
            raise TypeError(
                "Invalid type for argument `bin_boundaries`. Expected a sorted list of numbers. "
                f"Received bin_boundaries={bin_boundaries!r}."
            )
        self.bin_boundaries = None if bin_boundaries is None else [float(b) for b in bin_boundaries]
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = False
        self.summary = None if self.bin_boundaries else np.array([[], []], dtype="float32")

    @property
    def output_dtype(self):
        return self.dtype if self.output_mode != "int" else "int32"

    def adapt(self, data, steps=None):
        """Learns ``num_bins`` quantile boundaries from ``data`` (an array, a tensor, or an iterable of batches)."""
        if self.num_bins is None:
            raise ValueError(
                "Cannot adapt a Discretization layer that has been initialized with "
                "`bin_boundaries`, use `num_bins` instead."
            )
        self.reset_state()
        if hasattr(data, "__iter__") and not isinstance(data, (np.ndarray, torch.Tensor, list, tuple)):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch[0] if isinstance(batch, tuple) else batch)
        else:
            self.update_state(data)
        self.finalize_state()

    def update_state(self, data):
        data = to_numpy(data).astype("float32")
        self.summary = _merge_summaries(_summarize(data, self.epsilon), self.summary, self.epsilon)

    def finalize_state(self):
        if self.num_bins is None:
            return
        self.bin_boundaries = _compress_summary(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def reset_state(self):
        if self.num_bins is not None:
            self.summary = np.array([[], []], dtype="float32")

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                "You need to either pass the `bin_boundaries` argument at construction time or "
                "call `adapt(dataset)` before you can start using the `Discretization` layer."
            )
        if not inputs.is_floating_point():
            inputs = inputs.to(config.torch_dtype(None))
        boundaries = torch.tensor(self.bin_boundaries, dtype=inputs.dtype, device=inputs.device)
        # np.digitize(x, b) == bucketize(x, b, right=True): b[i-1] <= x < b[i]
        indices = torch.bucketize(inputs, boundaries, right=True)
        return encode_categorical(indices, self.output_mode, len(self.bin_boundaries) + 1, self.output_dtype)

    def get_config(self):
        # Keras's exact keys (no `trainable`: Keras's Discretization does not accept it back)
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            # an adapted layer: rebuilt with num_bins, then given its learned boundaries
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = [float(b) for b in boundaries]
            return layer
        return cls(**config)


# ---------------------------------------------------------------------------- Hashing
def _salt_pair(salt, caller):
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2:
        return [int(s) for s in salt]
    if isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
        return [int(salt), int(salt)]
    raise ValueError(
        f"The `salt` argument for `{caller}` can only be a tuple of size 2 integers, or a single "
        f"integer. Received: salt={salt!r}."
    )


def hash_to_buckets(values, num_buckets, salt=None):
    """Hashes ``values`` (strings, or numbers hashed as their decimal text) into ``[0, num_buckets)``:
    ``tf.strings.to_hash_bucket_fast`` (FarmHash) or, with a ``salt`` pair, ``to_hash_bucket_strong``."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        values = values.astype("int64")
    if salt is None:
        hashes = farmhash.hash_unique(values, farmhash.fingerprint64)
    else:
        hashes = farmhash.hash_unique(values, lambda v: farmhash.siphash64(v, salt))
    return (hashes % np.uint64(num_buckets)).astype("int64")


class Hashing(HostLayer):
    """A preprocessing layer which hashes and bins categorical features.

    Each string or integer is hashed into one of ``num_bins`` bins with FarmHash64 (TensorFlow's
    ``Fingerprint64``, the same numbers as Keras on every platform), or with SipHash64 keyed by ``salt``.
    Integers are hashed as their decimal text, floats are truncated to integers first.

    Args:
        num_bins: number of hash bins, including the ``mask_value`` bin when one is set.
        mask_value: a value mapped to bin 0 (the other values then hash into bins 1..num_bins-1);
            ``None`` for no mask.
        salt: ``None`` (FarmHash64), or one integer / a pair of integers keying SipHash64.
        output_mode: ``"int"`` (bin indices, int64), ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
        sparse: only ``False``.

    Input shape:
        Strings or integers, any shape (most often ``(batch, 1)``).

    Output shape:
        Same shape as the input (bin indices) for ``output_mode="int"``; the other modes encode as
        ``CategoryEncoding`` does, with ``num_bins`` tokens.

    Example:

    >>> layer = keras.layers.Hashing(num_bins=3)
    >>> layer([["A"], ["B"], ["C"], ["D"], ["E"]]).tolist()
    [[1], [0], [1], [1], [2]]
    """

    _config_keys = ("num_bins", "salt", "mask_value", "output_mode", "sparse")

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else config.floatx()
        super().__init__(**kwargs)
        _check_num_bins(num_bins, "The `num_bins` for `Hashing` cannot be `None` or non-positive values. ")
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError(
                "When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or 'int64'. "
                f"Received: dtype={self.dtype}"
            )
        _check_choice(output_mode, _ENCODING_MODES, "output_mode", "Hashing")
        if sparse:
            raise ValueError(
                "`sparse` is not supported by strided (dense outputs only). "
                f"Received: sparse={sparse} and output_mode={output_mode}"
            )
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.salt = _salt_pair(salt, "Hashing")
        self.strong_hash = self.salt is not None
        self.output_mode = output_mode
        self.sparse = False

    def _hash(self, values):
        bins, mask = self.num_bins, None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = values == self.mask_value
        out = hash_to_buckets(values, bins, self.salt)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def call(self, inputs):
        if is_meta(inputs):
            return torch.empty(
                encoded_shape(inputs.shape, self.output_mode, self.num_bins),
                dtype=config.torch_dtype(self.dtype),
                device="meta",
            )
        values = to_numpy(inputs)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        indices = torch.from_numpy(np.asarray(self._hash(values), dtype="int64"))
        out = encode_categorical(indices, self.output_mode, self.num_bins, self.dtype)
        return out.to(self._device_of(inputs))


# ---------------------------------------------------------------------------- HashedCrossing
class HashedCrossing(HostLayer):
    """A preprocessing layer which crosses features using the "hashing trick".

    Each sample's feature values (strings or integers) are combined into one cross and hashed into
    ``num_bins`` bins, with the fingerprints and combination of ``tf.sparse.cross_hashed`` (the numbers
    of Keras). Strings are fingerprinted with FarmHash64; integers enter as their own 64-bit value.

    Args:
        num_bins: number of hash bins.
        output_mode: ``"int"`` (bin indices, int64) or ``"one_hot"``.
        sparse: only ``False``.

    Call arguments:
        inputs: a list or tuple of at least two inputs of equal shape ``()``, ``(batch,)`` or
            ``(batch, 1)``, each of integers or strings.

    Input shape:
        A tuple of feature tensors of the same shape ``(batch,)`` (or scalars).

    Output shape:
        Same shape as one feature (bin indices) for ``output_mode="int"``, or ``(batch, num_bins)`` for
        ``"one_hot"``.

    Example:

    >>> layer = keras.layers.HashedCrossing(num_bins=5)
    >>> layer((np.array(["A", "B", "A"]), np.array([101, 101, 102]))).tolist()
    [1, 4, 3]
    """

    _takes_list = True

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None, **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend.")
        _check_choice(output_mode, ("int", "one_hot"), "output_mode", "HashedCrossing")
        _check_num_bins(num_bins, "Invalid value for argument `num_bins`. Expected a positive integer. ")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = False

    @staticmethod
    def _feature_hashes(values):
        if values.dtype.kind in "US":
            return farmhash.hash_unique(values, farmhash.fingerprint64)
        if values.dtype.kind not in "iu":
            raise ValueError(
                "All `HashedCrossing` inputs should have an integer or string dtype. "
                f"Received: inputs with dtype {values.dtype}"
            )
        return values.astype("int64").view("uint64")

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"`HashedCrossing` should be called on a list or tuple of inputs. Received: inputs={inputs}"
            )
        if len(inputs) < 2:
            raise ValueError(f"`HashedCrossing` should be called on at least two inputs. Received: inputs={inputs}")
        shapes = [tuple(x.shape) if isinstance(x, torch.Tensor) else np.shape(x) for x in inputs]
        first = shapes[0]
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError(
                "All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or "
                f"`(batch_size, 1)`. Received: shapes {shapes}"
            )
        if any(s != first for s in shapes[1:]):
            raise ValueError(f"All `HashedCrossing` inputs should have equal shape. Received: shapes {shapes}")
        dtype = config.torch_dtype(self.dtype)
        if any(is_meta(x) for x in inputs):
            return torch.empty(encoded_shape(first, self.output_mode, self.num_bins), dtype=dtype, device="meta")
        crossed = np.full(int(np.prod(first)) if first else 1, _CROSS_HASH_KEY, dtype=np.uint64)
        for x in inputs:
            crossed = farmhash.fingerprint_cat64(crossed, self._feature_hashes(to_numpy(x)).reshape(-1))
        indices = (crossed % np.uint64(self.num_bins)).astype("int64").reshape(first)
        out = encode_categorical(torch.from_numpy(indices), self.output_mode, self.num_bins, self.dtype)
        return out.to(self._device_of(*inputs))

    def get_config(self):
        # Keras's exact keys (its HashedCrossing does not accept `trainable` back)
        return {
            "num_bins": self.num_bins,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }
