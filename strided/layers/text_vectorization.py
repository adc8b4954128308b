"""``TextVectorization``: strings -> token indices or bag-of-words vectors (Keras 3's layer, no TensorFlow).

Keras runs this layer through TensorFlow's string ops; strided does each step with NumPy and Python
strings, following those ops exactly:

- ``"lower"`` is ``tf.strings.lower``, which lowercases ASCII letters only (``"École"`` stays as is);
- ``"strip_punctuation"`` deletes the 32 ASCII punctuation characters (Keras's regular expression);
- ``"whitespace"`` splitting is ``tf.strings.split``: runs of ASCII whitespace separate tokens (a
  no-break space does not), leading and trailing whitespace gives no empty token;
- ``"character"`` splitting gives Unicode code points (``tf.strings.unicode_split``);
- ``ngrams`` joins consecutive tokens with a space, each width in the given order, widths longer than a
  sequence giving nothing (``tf.strings.ngrams``).

The tokens are then looked up by a ``StringLookup`` with ``mask_token=""``, so in ``"int"`` mode index 0 is
padding and index 1 the out-of-vocabulary token, as in Keras.
"""

import numpy as np
import torch

from strided.layers.categorical import HostLayer, is_meta, to_numpy
from strided.layers.lookup import StringLookup, _listify
from strided.backend.keras_tensor import unknown_dim
from strided.utils import object_registration

_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")
_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
# Keras's pattern [!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']: every ASCII punctuation character.
_PUNCTUATION = str.maketrans("", "", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_SPACE = " \t\n\v\f\r"


def _check_string_arg(value, allowed, arg, allow_callables=True):
    if value is None or (allow_callables and callable(value)):
        return
    if value not in allowed:
        raise ValueError(
            f"Unknown value for `{arg}` argument of TextVectorization. Allowed values are: "
            f"{allowed}. Received: {arg}={value}"
        )


def _whitespace_split(text):
    # str.split() would also split on Unicode spaces (U+00A0...); TensorFlow splits on ASCII ones only.
    for ch in _ASCII_SPACE[1:]:
        text = text.replace(ch, " ")
    return [t for t in text.split(" ") if t]


def _ngrams(tokens, widths):
    out = []
    for n in widths:
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


def _serialize_callable(fn):
    return {
        "module": "builtins",
        "class_name": "function",
        "config": object_registration.get_registered_name(fn),
        "registered_name": "function",
    }


def _deserialize_callable(value, arg):
    if not isinstance(value, dict):
        return value
    name = value.get("config")
    fn = object_registration.get_registered_object(name) if isinstance(name, str) else None
    if fn is None:
        raise ValueError(
            f"Could not find the function {name!r} given as `{arg}` of TextVectorization: register "
            "it with `keras.saving.register_keras_serializable()` or pass it in `custom_objects`."
        )
    return fn


class TextVectorization(HostLayer):
    """A preprocessing layer which maps text features to integer sequences or token vectors.

    Each string is standardized (lowercased, punctuation stripped), split into tokens (words or
    characters), optionally combined into ngrams, and each token looked up in a vocabulary, learned
    with ``adapt`` or given with ``vocabulary``. The result is either a padded sequence of token indices
    (``output_mode="int"``: 0 is padding, 1 out-of-vocabulary) or one vector per string
    (``"multi_hot"``, ``"count"``, ``"tf_idf"``). The layer runs on the host with NumPy; in a model it
    takes an ``Input(shape=(1,), dtype="string")`` (or ``shape=()``) and NumPy arrays or lists of
    strings in ``fit``, ``evaluate`` and ``predict``.

    Args:
        max_tokens: maximum vocabulary size, padding and OOV tokens included (``None``: no limit).
        standardize: ``"lower_and_strip_punctuation"`` (default), ``"lower"``, ``"strip_punctuation"``,
            ``None``, or a callable taking and returning a NumPy array of strings of the same shape.
            Lowercasing affects ASCII letters only, as in Keras (TensorFlow's ``strings.lower``).
        split: ``"whitespace"`` (default; ASCII whitespace), ``"character"``, ``None`` (each string is one
            token), or a callable taking a 1-D NumPy array of strings and returning one sequence of
            tokens per string.
        ngrams: ``None``, an integer ``n`` (ngrams of widths 1 to ``n``) or a tuple of widths.
        output_mode: ``"int"`` (default), ``"multi_hot"``, ``"count"`` or ``"tf_idf"``
            (``"binary"`` and ``"tf-idf"`` are accepted as old names).
        output_sequence_length: with ``"int"``, pad or cut every sequence to this length; ``None``
            pads to the longest sequence of the batch.
        pad_to_max_tokens: with the vector modes, make the output ``max_tokens`` wide whatever the
            vocabulary size.
        vocabulary: a list or array of strings, or the path of a text file with one token per line.
        idf_weights: with ``"tf_idf"`` and a ``vocabulary``, the inverse document frequencies.
        sparse: only ``False`` (sparse outputs need TensorFlow).
        ragged: only ``False`` (ragged outputs need TensorFlow).
        encoding: text encoding of byte-string inputs (default ``"utf-8"``).
        name: layer name.

    Input shape:
        ``(batch,)`` or ``(batch, 1)`` strings (any shape when ``split=None``).

    Output shape:
        ``"int"``: ``(batch, output_sequence_length)`` int64 (``(batch, None)`` when not set);
        vector modes: ``(batch, vocabulary_size)`` (``max_tokens`` with ``pad_to_max_tokens``), int64 for
        ``"multi_hot"``/``"count"`` and floatx for ``"tf_idf"`` (as Keras's eager outputs).

    Example:

    >>> layer = keras.layers.TextVectorization(output_sequence_length=4)
    >>> layer.adapt(["The cat sat.", "The dog ate!"])
    >>> layer.get_vocabulary()
    ['', '[UNK]', 'the', 'sat', 'dog', 'cat', 'ate']
    >>> layer(["the cat ate a fish"]).tolist()
    [[2, 5, 6, 1]]
    """

    def __init__(
        self,
        max_tokens=None,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        ngrams=None,
        output_mode="int",
        output_sequence_length=None,
        pad_to_max_tokens=False,
        vocabulary=None,
        idf_weights=None,
        sparse=False,
        ragged=False,
        encoding="utf-8",
        name=None,
        **kwargs,
    ):
        if ragged:
            raise ValueError("`ragged=True` can only be used with the TensorFlow backend.")
        _check_string_arg(standardize, _STANDARDIZE, "standardize")
        _check_string_arg(split, _SPLIT, "split")
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        _check_string_arg(output_mode, _OUTPUT_MODES, "output_mode", allow_callables=False)
        if output_mode is None:
            raise ValueError(
                f"Unknown value for `output_mode` argument of TextVectorization. Allowed values are: "
                f"{_OUTPUT_MODES}. Received: output_mode=None"
            )
        if not (
            ngrams is None
            or (isinstance(ngrams, int) and not isinstance(ngrams, bool))
            or isinstance(ngrams, tuple)
            and all(isinstance(n, int) for n in ngrams)
        ):
            raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={ngrams}")
        if output_mode == "int" and not (output_sequence_length is None or isinstance(output_sequence_length, int)):
            raise ValueError(
                "`output_sequence_length` must be either None or an integer when `output_mode` is "
                f"'int'. Received: output_sequence_length={output_sequence_length}"
            )
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                "`output_sequence_length` must not be set if `output_mode` is not 'int'. "
                f"Received output_sequence_length={output_sequence_length}."
            )
        if isinstance(ngrams, int) and ngrams < 1 or isinstance(ngrams, tuple) and any(n < 1 for n in ngrams):
            raise ValueError(f"`ngrams` widths must be positive. Received: ngrams={ngrams}")
        if isinstance(output_sequence_length, int) and output_sequence_length < 0:
            raise ValueError(
                "`output_sequence_length` must be either None or a non-negative integer. "
                f"Received: output_sequence_length={output_sequence_length}"
            )
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        kwargs.pop("dtype", None)  # the outputs' dtype follows output_mode
        super().__init__(name=name, **kwargs)
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._ragged = False
        self._has_input_vocabulary = has_input_vocabulary
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            mask_token="",
            output_mode=output_mode,
            sparse=sparse,
            has_input_vocabulary=has_input_vocabulary,
            encoding=encoding,
            vocabulary_size=vocabulary_size,
        )
        self.built = True

    # ------------------------------------------------------------------ vocabulary
    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary as a list of strings, index order; with ``include_special_tokens`` the padding
        (``""``, ``"int"`` mode only) and OOV (``"[UNK]"``) tokens come first, as their indices do."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """The size of the vocabulary, padding and OOV tokens included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (a list or array of strings, or a text file with one token per line) and, with
        ``output_mode="tf_idf"``, the ``idf_weights`` (same length as the vocabulary)."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # ------------------------------------------------------------------ adapt
    def adapt(self, data, batch_size=None, steps=None):
        """Computes a vocabulary of the most frequent tokens of ``data`` (ties broken by the larger token
        first), keeping at most ``max_tokens``; with ``output_mode="tf_idf"`` also the document frequencies.

        Args:
            data: a list or NumPy array of strings, or an iterable of such batches (a generator,
                ``text_dataset_from_directory(...).map(lambda x, y: x)``).
            batch_size: unused (accepted for Keras compatibility).
            steps: with an iterable, the number of batches to read (``None``: all).
        """
        self.reset_state()
        if hasattr(data, "__iter__") and not isinstance(data, (list, tuple, np.ndarray, torch.Tensor, str)):
            for i, batch in enumerate(data):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        else:
            data = self._as_strings(data)
            if data.ndim == 1:
                data = data[:, None]
            self.update_state(data)
        self.finalize_state()

    def update_state(self, data):
        self._lookup_layer.update_state(self._preprocess(data))

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    # ------------------------------------------------------------------ call
    def _as_strings(self, inputs):
        values = to_numpy(inputs)
        if values.dtype.kind == "S" or values.dtype == object:
            decode = np.vectorize(lambda v: v.decode(self._encoding) if isinstance(v, bytes) else str(v), otypes=[str])
            values = decode(values) if values.size else values.astype(str)
        elif values.dtype.kind != "U":
            raise TypeError(
                f"Layer '{self.name}' (TextVectorization) expects strings. Received inputs of dtype "
                f"{values.dtype} and shape {values.shape}."
            )
        return values

    def _standardized(self, values):
        if callable(self._standardize):
            out = np.asarray(self._standardize(values))
            if out.shape != values.shape:
                raise ValueError(
                    f"The `standardize` callable of layer '{self.name}' must return an array of the "
                    f"shape it received, {values.shape}. Received shape {out.shape}."
                )
            return out.astype(str)
        if self._standardize is None or not values.size:
            return values
        flat = values.reshape(-1).tolist()
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            flat = [s.translate(_ASCII_LOWER) for s in flat]
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            flat = [s.translate(_PUNCTUATION) for s in flat]
        return np.array(flat, dtype=str).reshape(values.shape)

    def _check_split_shape(self, shape):
        if len(shape) > 1 and shape[-1] != 1:
            raise ValueError(
                "When using `TextVectorization` to tokenize strings, the input rank must be 1 or the "
                f"last shape dimension must be 1. Received: inputs.shape={tuple(shape)} with "
                f"rank={len(shape)}"
            )

    def _preprocess(self, inputs):
        """Strings -> a dense array of tokens, padded with ``""`` (the mask token) on the last axis."""
        values = self._standardized(self._as_strings(inputs))
        if self._split is None:
            if self._ngrams is None:
                return values
            rows = values.reshape(-1, values.shape[-1]) if values.ndim else values.reshape(1, 1)
            lead = values.shape[:-1]
            tokens = [_ngrams(row, self._ngrams) for row in rows.tolist()]
        else:
            self._check_split_shape(values.shape)
            if values.ndim > 1:
                values = values[..., 0]
            lead = values.shape
            flat = values.reshape(-1).tolist()
            if self._split == "whitespace":
                tokens = [_whitespace_split(s) for s in flat]
            elif self._split == "character":
                tokens = [list(s) for s in flat]
            else:
                pieces = self._split(np.asarray(flat, dtype=str))
                tokens = [[str(t) for t in _listify(row)] for row in _listify(pieces)]
                if len(tokens) != len(flat):
                    raise ValueError(
                        f"The `split` callable of layer '{self.name}' must return one sequence of tokens "
                        f"per string: received {len(flat)} strings and {len(tokens)} sequences."
                    )
            if self._ngrams is not None:
                tokens = [_ngrams(t, self._ngrams) for t in tokens]
        width = max((len(t) for t in tokens), default=0)
        out = np.full((len(tokens), width), "", dtype=object)
        for i, row in enumerate(tokens):
            out[i, : len(row)] = row
        return out.astype(str).reshape(tuple(lead) + (width,))

    def _symbolic_tokens(self, inputs):
        """The meta stand-in of ``_preprocess``'s output: the token axis has a data-dependent length."""
        shape = tuple(inputs.shape)
        if self._split is None:
            if self._ngrams is not None:
                shape = shape[:-1] + (unknown_dim(),) if shape else (unknown_dim(),)
        else:
            self._check_split_shape(shape)
            shape = (shape[:-1] if len(shape) > 1 else shape) + (unknown_dim(),)
        return torch.empty(shape, dtype=torch.uint8, device="meta")

    def call(self, inputs):
        meta = is_meta(inputs)
        tokens = self._symbolic_tokens(inputs) if meta else self._preprocess(inputs)
        out = self._lookup_layer.call(tokens)
        if self._output_mode != "int" or self._output_sequence_length is None:
            return out
        length = self._output_sequence_length
        if meta:
            return torch.empty(tuple(out.shape[:-1]) + (length,), dtype=out.dtype, device="meta")
        if out.ndim == 0:
            out = out.reshape(1)
        out = out[..., :length]
        if out.shape[-1] < length:
            out = torch.nn.functional.pad(out, (0, length - out.shape[-1]))
        return out

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self._output_mode == "int":
            return (input_shape[0] if input_shape else None, self._output_sequence_length)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = input_shape + (1,)
        else:
            input_shape = input_shape + (None,)
        depth = self._lookup_layer._depth()
        return (input_shape[0],) + tuple(input_shape[2:-1]) + (depth,) if len(input_shape) > 1 else (depth,)

    # ------------------------------------------------------------------ config and assets
    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_tokens": self._lookup_layer.max_tokens,
                "standardize": _serialize_callable(self._standardize)
                if callable(self._standardize)
                else self._standardize,
                "split": _serialize_callable(self._split) if callable(self._split) else self._split,
                "ngrams": self._ngrams_arg,
                "output_mode": self._output_mode,
                "output_sequence_length": self._output_sequence_length,
                "pad_to_max_tokens": self._lookup_layer.pad_to_max_tokens,
                "sparse": False,
                "ragged": False,
                "vocabulary": _listify(self._lookup_layer.input_vocabulary),
                "idf_weights": _listify(self._lookup_layer.input_idf_weights),
                "encoding": self._encoding,
                "vocabulary_size": self.vocabulary_size(),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("standardize", "split"):
            if key in config:
                config[key] = _deserialize_callable(config[key], key)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def _saved_children(self):
        """Keras keeps the inner lookup layer under ``<layer>/_lookup_layer`` in weight and asset files."""
        return [("_lookup_layer", self._lookup_layer)]

    def save_assets(self, dir_path):
        """Writes an adapted vocabulary to ``dir_path/vocabulary.txt`` (Keras's asset file)."""
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        """Reads the vocabulary written by ``save_assets``."""
        self._lookup_layer.load_assets(dir_path)
