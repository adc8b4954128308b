"""``pad_sequences``: lists of sequences of different lengths -> one padded NumPy array (Keras utility)."""

import numpy as np

from strided.utils import validation


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pads sequences to the same length.

    Transforms a list of ``num_samples`` sequences (lists of integers, or arrays whose first axis is the
    time axis) into an array of shape ``(num_samples, num_timesteps, ...)``, where ``num_timesteps`` is
    ``maxlen`` if given, else the length of the longest sequence. Shorter sequences are padded with
    ``value``; longer ones are truncated. Both happen at the start (``"pre"``, the default) or the end
    (``"post"``) of each sequence.

    Args:
        sequences: list of sequences (each a list or array).
        maxlen: optional int, the maximum length of all sequences.
        dtype: dtype of the output (default ``"int32"``); ``object`` for variable-length strings.
        padding: ``"pre"`` or ``"post"``: pad before or after each sequence.
        truncating: ``"pre"`` or ``"post"``: drop values at the beginning or at the end of sequences
            longer than ``maxlen``.
        value: the padding value (default 0.).

    Returns:
        NumPy array of shape ``(len(sequences), maxlen, ...)``.

    Example:

    >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
    array([[0, 0, 1], [0, 2, 3], [4, 5, 6]], dtype=int32)
    >>> pad_sequences([[1], [2, 3], [4, 5, 6]], padding="post", maxlen=2)
    array([[1, 0], [2, 3], [5, 6]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    maxlen = validation.positive_int(maxlen, "maxlen", allow_none=True)
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    lengths, sample_shape = [], None
    for x in sequences:
        try:
            lengths.append(len(x))
        except TypeError as e:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {x}") from e
        if sample_shape is None and len(x):
            sample_shape = np.asarray(x).shape[1:]  # from the first non-empty sequence
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )
    out = np.full((len(sequences), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s):
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {i} is different from "
                f"expected shape {sample_shape}"
            )
        if padding == "post":
            out[i, : len(kept)] = kept
        else:
            out[i, -len(kept) :] = kept
    return out
