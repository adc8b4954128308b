"""Vocabulary lookup layers: ``StringLookup`` and ``IntegerLookup`` (Keras 3's ``IndexLookup`` family).

A vocabulary maps tokens to indices. Index layout, as in Keras: ``[mask] [oov x num_oov_indices]
[tokens...]``, the mask index present only with a ``mask_token`` in ``"int"`` mode. Unknown tokens go to
the OOV index (several OOV indices: by hash for strings, by ``value % num_oov_indices`` for integers).
``adapt`` counts tokens and keeps the most frequent (ties: the larger token first, as Keras sorts).
The lookup runs with NumPy on the host: inputs may be lists, NumPy arrays of strings or integers, or
tensors, and outputs are torch tensors (``invert=True`` on strings gives a NumPy array of strings).
"""

import collections
import os

import numpy as np
import torch

from strided import config
from strided.utils import validation
from strided.utils.general_utils import named_arguments
from strided.layers.categorical import (
    HostLayer,
    _check_choice,
    _salt_pair,
    encode_categorical,
    encoded_shape,
    hash_to_buckets,
    is_meta,
    to_numpy,
)

_INT64_MAX = np.iinfo(np.int64).max


def _listify(x):
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        x = x.tolist()
    return x


class IndexLookup(HostLayer):
    """Shared machinery of ``StringLookup`` and ``IntegerLookup`` (not a public Keras name)."""

    def __init__(
        self,
        max_tokens,
        num_oov_indices,
        mask_token,
        oov_token,
        vocabulary_dtype,
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        name=None,
        salt=None,
        **kwargs,
    ):
        caller = type(self).__name__
        validation.positive_int(max_tokens, "max_tokens", allow_none=True)
        validation.positive_int(num_oov_indices, "num_oov_indices", allow_zero=True)
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError(
                f"`num_oov_indices` must be greater than or equal to 0. Received: num_oov_indices={num_oov_indices}"
            )
        _check_choice(oov_method, ("floormod", "farmhash"), "oov_method", caller)
        if salt is not None and vocabulary_dtype != "string" and oov_method != "farmhash":
            raise ValueError(f"`salt` can only be used when `oov_method='farmhash'`. Received: oov_method={oov_method}")
        salt = _salt_pair(salt, "IndexLookup")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        _check_choice(output_mode, ("int", "one_hot", "multi_hot", "count", "tf_idf"), "output_mode", caller)
        if invert and output_mode != "int":
            raise ValueError(
                f"`output_mode` must be `'int'` when `invert` is true. Received: output_mode={output_mode}"
            )
        if sparse:
            raise ValueError(
                "`sparse=True` can only be used with the TensorFlow backend. "
                f"Received: sparse={sparse} and output_mode={output_mode}"
            )
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(
                "`idf_weights` should only be set if `output_mode` is `'tf_idf'`. "
                f"Received: idf_weights={idf_weights} and output_mode={output_mode}"
            )
        frozen_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        self.invert = bool(invert)
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self._frozen_vocab_size = frozen_size
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, str) else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens = []  # learned/given tokens, in index order from _token_start_index()
        self._table = {}
        self.idf_weights = None
        if output_mode == "tf_idf" and self._has_input_vocabulary and idf_weights is None:
            raise ValueError(
                "When specifying the `vocabulary` argument, in TF-IDF output mode, the `idf_weights` "
                "argument must also be provided."
            )
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self._reset_counts()
        self.built = True

    # ------------------------------------------------------------------ index layout
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def _default_index(self):
        return self._oov_start_index() if self.num_oov_indices == 1 else -1

    def _to_token(self, value):
        """A vocabulary entry in this layer's token type (str or int)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ vocabulary
    def vocabulary_size(self):
        """The size of the vocabulary, special tokens (mask and OOV) included."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary as a list, index order; with ``include_special_tokens`` the mask and OOV tokens
        come first, as the indices do."""
        vocab = [self.oov_token] * self._token_start_index() + list(self._tokens)
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        if not include_special_tokens:
            vocab = vocab[self._token_start_index() :]
        return vocab

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (a list or array of tokens, or a text file with one token per line) and,
        for ``output_mode="tf_idf"``, the ``idf_weights``."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(
                "`idf_weights` should only be set if output_mode is `'tf_idf'`. "
                f"Received: output_mode={self.output_mode} and idf_weights={idf_weights}"
            )
        if isinstance(vocabulary, (str, os.PathLike)):
            if not os.path.exists(vocabulary):
                raise ValueError(
                    f"Invalid value for argument `vocabulary`: the vocabulary file {vocabulary!r} does not "
                    "exist (a string is read as the path of a file with one token per line)."
                )
            if self.output_mode == "tf_idf":
                raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary from file.")
            with open(vocabulary, encoding="utf-8") as f:
                lines = f.read().splitlines()
            while lines and lines[-1] == "":
                lines.pop()
            vocabulary = lines
        if not isinstance(vocabulary, (list, tuple, np.ndarray, torch.Tensor)):
            raise TypeError(
                "Invalid type for argument `vocabulary`. Expected a list or array of tokens, or the path "
                f"of a text file with one token per line. Received vocabulary={vocabulary!r}."
            )
        vocabulary = [self._to_token(v) for v in _listify(vocabulary)]
        if not vocabulary:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        token_start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        found_special = vocabulary[:token_start] == special
        tokens = vocabulary[token_start:] if found_special else vocabulary
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(
                "The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                f"The repeated terms are: {repeated}"
            )
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(
                "Found reserved mask token at unexpected location in `vocabulary`. Note that passed "
                "`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask "
                "and OOV tokens, or include them only at the start of the vocabulary in precisely this "
                f"order: {special}. Received: mask_token={self.mask_token} at vocabulary index "
                f"{len(vocabulary) - 1 - vocabulary[::-1].index(self.mask_token)}"
            )
        if self.oov_token is not None and self.invert and self.oov_token in tokens:
            raise ValueError(
                "Found reserved OOV token at unexpected location in `vocabulary`. Note that passed "
                "`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask "
                "and OOV tokens, or include them only at the start of the vocabulary in precisely this "
                f"order: {special}. Received: oov_token={self.oov_token} at vocabulary index "
                f"{len(vocabulary) - 1 - vocabulary[::-1].index(self.oov_token)}"
            )
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError(
                "Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary "
                f"size is {token_start + len(tokens)}; `max_tokens` is {self.max_tokens}."
            )
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf" and idf_weights is not None:
            idf_weights = np.asarray(_listify(idf_weights), dtype="float64")
            if len(vocabulary) != len(idf_weights):
                raise ValueError(
                    f"`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                    f"{len(idf_weights)}; len(vocabulary) is {len(vocabulary)}"
                )
            if idf_weights.ndim != 1:
                raise ValueError(
                    f"TF-IDF data must be a 1-index array. Received: idf_weights of shape {idf_weights.shape}"
                )
            front, front_value = (0, 0) if found_special else (token_start, np.average(idf_weights))
            back = self.max_tokens - front - len(idf_weights) if self.pad_to_max_tokens else 0
            self.idf_weights = np.pad(idf_weights, (front, back), "constant", constant_values=(front_value, 0)).astype(
                config.floatx()
            )

    def _set_tokens(self, tokens):
        start = self._token_start_index()
        self._tokens = list(tokens)
        self._table = {t: i + start for i, t in enumerate(self._tokens)}
        self._record_vocabulary_size()

    def _record_vocabulary_size(self):
        if (
            self.output_mode != "int"
            and not self.pad_to_max_tokens
            and self._frozen_vocab_size is not None
            and self.vocabulary_size() != self._frozen_vocab_size
        ):
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, the "
                "vocabulary size cannot be changed after the layer is called. Old vocab size is "
                f"{self._frozen_vocab_size}, new vocab size is {self.vocabulary_size()}"
            )
        self._frozen_vocab_size = self.vocabulary_size()

    # ------------------------------------------------------------------ adapt
    def _reset_counts(self):
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0

    def reset_state(self):
        if not self._has_input_vocabulary:
            self._reset_counts()

    def adapt(self, data, steps=None):
        """Computes a vocabulary of the most frequent tokens of ``data`` (an array, a list, a tensor, or an
        iterable of batches); with ``output_mode="tf_idf"`` also the inverse document frequencies."""
        self.reset_state()
        if hasattr(data, "__iter__") and not isinstance(data, (list, tuple, np.ndarray, torch.Tensor)):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            data = to_numpy(data)
            if data.ndim == 1:
                data = data[:, None]
            self.update_state(data)
        self.finalize_state()

    def update_state(self, data):
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                "`vocabulary` argument or `set_vocabulary()` method."
            )
        data = to_numpy(data)
        if data.ndim == 0:
            data = data[None]
        if data.ndim == 1:
            data = data[None]
        tokens, counts = np.unique(data.reshape(-1), return_counts=True)
        self._token_counts.update(dict(zip((self._to_token(t) for t in tokens.tolist()), counts.tolist())))
        if self.output_mode == "tf_idf":
            for row in data.reshape(data.shape[0], -1):
                self._document_counts.update(self._to_token(t) for t in np.unique(row).tolist())
            self._num_documents += data.shape[0]

    def finalize_state(self):
        if self._has_input_vocabulary or not self._token_counts:
            return
        counts = dict(self._token_counts)
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(special, None)
        tokens = list(counts)
        order = np.lexsort((np.array(tokens), np.array([counts[t] for t in tokens])))[::-1]
        token_start = self._token_start_index()
        if self.max_tokens:
            order = order[: self.max_tokens - token_start]
        tokens = [tokens[i] for i in order]
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            doc_counts = np.array([self._document_counts[t] for t in tokens], dtype="float64")
            idf = np.log(1 + self._num_documents / (1 + doc_counts)).astype(config.floatx())
            idf = np.pad(idf, (token_start, 0), constant_values=np.mean(idf))
            if self.pad_to_max_tokens and self.max_tokens is not None:
                idf = np.pad(idf, (0, self.max_tokens - idf.size), constant_values=0)
            self.idf_weights = idf.astype(config.floatx())
        self._reset_counts()

    # ------------------------------------------------------------------ call
    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size

    def _lookup(self, values):
        """Token array -> int64 index array (forward direction)."""
        uniques, inverse = np.unique(values.reshape(-1), return_inverse=True)
        default = self._default_index()
        found = np.array([self._table.get(self._to_token(t), default) for t in uniques.tolist()], dtype="int64")
        out = found[inverse.reshape(-1)].reshape(values.shape)
        if self.mask_token is not None:
            out = np.where(values == self.mask_token, 0 if self.output_mode == "int" else _INT64_MAX, out)
        if self.num_oov_indices == 0:
            missing = out == -1
            if missing.any():
                raise ValueError(
                    "When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                    f"{values[missing].tolist()}, consider setting `num_oov_indices=1`."
                )
        elif self.num_oov_indices > 1:
            oov = out == -1
            if oov.any():
                if self.vocabulary_dtype != "string" and self.oov_method != "farmhash":
                    buckets = np.mod(values.astype("int64"), self.num_oov_indices)
                else:
                    buckets = hash_to_buckets(values, self.num_oov_indices, self.salt)
                out = np.where(oov, buckets + self._oov_start_index(), out)
        return out

    def _inverse(self, values):
        """Index array -> token array (``invert=True``)."""
        values = values.astype("int64")
        vocab = self.get_vocabulary()
        start = self._token_start_index()
        out = np.empty(values.shape, dtype=object)
        flat = values.reshape(-1)
        res = out.reshape(-1)
        for i, v in enumerate(flat.tolist()):
            res[i] = vocab[v] if start <= v < len(vocab) else self.oov_token
        if self.mask_token is not None:
            out = np.where(values == 0, self.mask_token, out)
        return out

    def call(self, inputs):
        if self.output_mode != "int" and not self.pad_to_max_tokens and self._frozen_vocab_size is None:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you must "
                "set the layer's vocabulary before calling it. Either pass a `vocabulary` argument to "
                "the layer, or call `adapt` with some sample data."
            )
        if is_meta(inputs):
            dtype = torch.int64 if self.output_mode == "int" else config.torch_dtype(None)
            if self.invert and self.vocabulary_dtype == "string":
                raise ValueError(
                    f"Layer '{self.name}' (StringLookup with invert=True) returns strings, which a "
                    "symbolic model cannot carry."
                )
            return torch.empty(encoded_shape(inputs.shape, self.output_mode, self._depth()), dtype=dtype, device="meta")
        values = to_numpy(inputs)
        if self.invert:
            tokens = self._inverse(values)
            if self.vocabulary_dtype == "string":
                return tokens.astype(str)
            return torch.from_numpy(tokens.astype("int64")).to(self._device_of(inputs))
        indices = torch.from_numpy(self._lookup(values))
        if self.output_mode == "int":
            return indices.to(self._device_of(inputs))
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        out = encode_categorical(indices, mode, self._depth(), "int64")
        if self.output_mode == "tf_idf":
            if self.idf_weights is None:
                raise ValueError("When `output_mode` is `'tf_idf'`, `idf_weights` must be provided.")
            out = out.to(config.torch_dtype(None)) * torch.from_numpy(np.asarray(self.idf_weights))
        return out.to(self._device_of(inputs))

    # ------------------------------------------------------------------ config and assets
    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "invert": self.invert,
                "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices,
                "oov_token": self.oov_token,
                "mask_token": self.mask_token,
                "output_mode": self.output_mode,
                "sparse": self.sparse,
                "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": self.vocabulary_dtype,
                "idf_weights": _listify(self.input_idf_weights),
                "vocabulary": _listify(self.input_vocabulary),
                "vocabulary_size": self._frozen_vocab_size,
                "oov_method": self.oov_method,
                "salt": self.salt,
            }
        )
        return config

    def save_assets(self, dir_path):
        """Writes an adapted vocabulary to ``dir_path/vocabulary.txt`` (Keras's asset file); a vocabulary
        given to the constructor is in the config instead."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(str(w) for w in self.get_vocabulary(include_special_tokens=True)))

    def load_assets(self, dir_path):
        """Reads the vocabulary written by ``save_assets``."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        self._has_input_vocabulary = False
        if self.output_mode == "tf_idf":
            self.set_vocabulary(lines, idf_weights=self.idf_weights)
        else:
            self.set_vocabulary(lines)


class StringLookup(IndexLookup):
    """A preprocessing layer that maps strings to (possibly encoded) indices.

    Args:
        max_tokens: maximum vocabulary size, special tokens included (``None``: no limit).
        num_oov_indices: number of out-of-vocabulary indices (default 1); with more than one, an unknown
            string goes to the OOV index chosen by its FarmHash64 (or SipHash with ``salt``); with 0 an
            unknown string is an error.
        mask_token: a token meaning "masked", mapped to index 0 in ``"int"`` mode (``None``: no mask).
        oov_token: the token returned for unknown indices when ``invert=True`` (default ``"[UNK]"``).
        vocabulary: a list or array of strings, or the path of a text file with one token per line;
            otherwise call ``adapt``.
        idf_weights: with ``output_mode="tf_idf"`` and a ``vocabulary``, the inverse document frequencies.
        invert: map indices back to strings.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: encode to width ``max_tokens`` even when the vocabulary is smaller.
        sparse: only ``False``.
        encoding: text encoding of byte-string inputs (default ``"utf-8"``).
        salt: integer or pair of integers keying the OOV hash.

    Input shape:
        Strings, any shape.

    Output shape:
        Same shape as the input (indices, ``int64``) for ``output_mode="int"``; ``(batch, vocabulary size)``
        for the ``"one_hot"`` (per element, trailing axis), ``"multi_hot"``, ``"count"`` and ``"tf_idf"`` modes.

    Example:

    >>> vocab = ["a", "b", "c", "d"]
    >>> layer = keras.layers.StringLookup(vocabulary=vocab)
    >>> layer(np.array([["a", "c", "d"], ["d", "z", "b"]])).tolist()
    [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token="[UNK]",
        vocabulary=None,
        idf_weights=None,
        invert=False,
        output_mode="int",
        pad_to_max_tokens=False,
        sparse=False,
        encoding="utf-8",
        name=None,
        salt=None,
        **kwargs,
    ):
        arguments = named_arguments(locals())
        self.encoding = arguments.pop("encoding")
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(**arguments, vocabulary_dtype="string", **kwargs)

    def _to_token(self, value):
        if isinstance(value, (bytes, np.bytes_)):
            return bytes(value).decode(self.encoding)
        return str(value)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config


class IntegerLookup(IndexLookup):
    """A preprocessing layer that maps integers to (possibly encoded) indices.

    Args:
        max_tokens: maximum vocabulary size, special tokens included (``None``: no limit).
        num_oov_indices: number of out-of-vocabulary indices (default 1); with more than one, an unknown
            value ``v`` goes to OOV index ``v % num_oov_indices`` (``oov_method="floormod"``) or by hash
            (``"farmhash"``); with 0 an unknown value is an error.
        mask_token: an integer meaning "masked", mapped to index 0 in ``"int"`` mode (``None``: no mask).
        oov_token: the value returned for unknown indices when ``invert=True`` (default -1).
        vocabulary: a list or array of integers, or a text file with one per line; otherwise ``adapt``.
        vocabulary_dtype: only ``"int64"``.
        idf_weights: with ``output_mode="tf_idf"`` and a ``vocabulary``, the inverse document frequencies.
        invert: map indices back to the vocabulary's integers.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        sparse: only ``False``.
        pad_to_max_tokens: encode to width ``max_tokens`` even when the vocabulary is smaller.
        oov_method: ``"floormod"`` or ``"farmhash"``.
        salt: integer or pair of integers keying the OOV hash (``oov_method="farmhash"`` only).

    Input shape:
        Integers, any shape.

    Output shape:
        Same shape as the input (indices) for ``output_mode="int"``; ``(batch, vocabulary size)`` for the
        ``"one_hot"`` (per element, trailing axis), ``"multi_hot"``, ``"count"`` and ``"tf_idf"`` modes.

    Example:

    >>> layer = keras.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer([[12, 1138, 42], [42, 1000, 36]]).tolist()
    [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(
        self,
        max_tokens=None,
        num_oov_indices=1,
        mask_token=None,
        oov_token=-1,
        vocabulary=None,
        vocabulary_dtype="int64",
        idf_weights=None,
        invert=False,
        output_mode="int",
        sparse=False,
        pad_to_max_tokens=False,
        oov_method="floormod",
        salt=None,
        name=None,
        **kwargs,
    ):
        arguments = named_arguments(locals())
        validation.positive_int(max_tokens, "max_tokens", allow_none=True)
        validation.positive_int(num_oov_indices, "num_oov_indices", allow_zero=True)
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                "If `max_tokens` is set for `IntegerLookup`, it must be greater than 1. "
                f"Received: max_tokens={max_tokens}"
            )
        if num_oov_indices < 0:
            raise ValueError(
                "The value of `num_oov_indices` argument for `IntegerLookup` must >= 0. "
                f"Received: num_oov_indices={num_oov_indices}"
            )
        if vocabulary_dtype != "int64":
            raise ValueError(
                "Only `vocabulary_dtype='int64'` is supported at this time. "
                f"Received: vocabulary_dtype={vocabulary_dtype}"
            )
        super().__init__(**arguments, **kwargs)

    def _to_token(self, value):
        return int(value)

    def get_config(self):
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
