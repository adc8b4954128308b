"""Argument validation with Keras-style messages.

Every check names the argument and echoes what was received, e.g.
"Invalid value for argument `filters`. Expected a strictly positive value. Received filters=0."
Library code raises through these helpers instead of using ``assert``.
"""

import numbers
import os


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value, name, allow_none=False, allow_zero=False):
    """Returns ``value`` as an int after checking it is a (strictly) positive integer."""
    if value is None and allow_none:
        return None
    if not _is_int(value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise TypeError(
                f"Invalid type for argument `{name}`. Expected an integer. "
                f"Received {name}={value!r} of type {type(value).__name__}."
            )
    if value < 0 or (value == 0 and not allow_zero):
        kind = "a non-negative" if allow_zero else "a strictly positive"
        raise ValueError(f"Invalid value for argument `{name}`. Expected {kind} value. Received {name}={value}.")
    return int(value)


def number(value, name, low=None, high=None, low_inclusive=True, high_inclusive=True):
    """Returns ``value`` as a float after checking its type and range."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected a number. "
            f"Received {name}={value!r} of type {type(value).__name__}."
        )
    bad_low = low is not None and (value < low if low_inclusive else value <= low)
    bad_high = high is not None and (value > high if high_inclusive else value >= high)
    if bad_low or bad_high:
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        lb, hb = ("[" if low_inclusive else "("), ("]" if high_inclusive else ")")
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a value in {lb}{lo}, {hi}{hb}. Received {name}={value}."
        )
    return float(value)


def one_of(value, name, choices, case_insensitive=True, hint=None):
    """Returns ``value`` (lower-cased when ``case_insensitive``) after checking it is one of ``choices``."""
    key = value.lower() if (case_insensitive and isinstance(value, str)) else value
    if key not in choices:
        msg = f"Invalid value for argument `{name}`. Expected one of {list(choices)}. Received {name}={value!r}."
        if hint:
            msg += " " + hint
        raise ValueError(msg)
    return key


def boolean(value, name):
    if not isinstance(value, (bool,)) and not (_is_int(value) and value in (0, 1)):
        raise TypeError(f"Invalid type for argument `{name}`. Expected a boolean. Received {name}={value!r}.")
    return bool(value)


def optional_number(value, name, low=None, high=None, low_inclusive=True, high_inclusive=True):
    """``number`` that lets ``None`` through (optional arguments such as ``min_delta=None``)."""
    if value is None:
        return None
    return number(value, name, low, high, low_inclusive, high_inclusive)


def hyperparameter(value, name, low=None, high=None, low_inclusive=True, high_inclusive=True):
    """A float hyperparameter in a range; callables and 0-d tensors (Keras accepts both) pass unchecked/converted."""
    if callable(value) and not isinstance(value, numbers.Number):
        return value
    if hasattr(value, "numel") and hasattr(value, "item") and value.numel() == 1:  # a 0-d/1-element tensor
        value = value.item()
    return number(value, name, low, high, low_inclusive, high_inclusive)


def callable_or_none(value, name, what="a callable"):
    """Checks ``value`` is callable (or ``None``), e.g. the hooks of ``LambdaCallback``."""
    if value is not None and not callable(value):
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected {what} or None. "
            f"Received {name}={value!r} of type {type(value).__name__}."
        )
    return value


def path(value, name):
    """A file or folder path (``str`` or ``os.PathLike``), returned as ``os.fspath(value)``."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected a path (str or os.PathLike). "
            f"Received {name}={value!r} of type {type(value).__name__}."
        )
    return os.fspath(value)


def shape(value, name):
    """A shape argument as a tuple of non-negative ints: an int means ``(value,)``; a list, tuple, ``torch.Size`` or
    array of ints is taken as it is (initializer and ``strided.random`` shapes, ``output_shape``)."""
    dims = (value,) if _is_int(value) else value
    try:
        dims = None if isinstance(dims, str) else tuple(int(d) for d in dims)
    except (TypeError, ValueError):
        dims = None
    if dims is None or any(d < 0 for d in dims):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a tuple of non-negative integers. "
            f"Received: {name}={value!r}"
        )
    return dims


def one_per_variable(values, variables, name, owner, attribute):
    """Checks that the ``values`` handed to a stateless method (``stateless_call``, ``stateless_apply``...) are one per
    variable of ``owner.<attribute>`` (Keras's message)."""
    if len(values) != len(variables):
        raise ValueError(
            f"Argument `{name}` must be a list of tensors corresponding 1:1 to "
            f"{type(owner).__name__}().{attribute}. Received list with length {len(values)}, "
            f"but expected {len(variables)} variables."
        )


def ordered_pair(low, high, name, value=None):
    """Checks ``low <= high`` for a ``(lower, upper)`` argument (random factors, value ranges)."""
    if low > high:
        shown = value if value is not None else (low, high)
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected the lower bound to be at most the upper "
            f"bound. Received {name}={shown!r} (lower={low}, upper={high})."
        )


def factor(value, name, low=None, high=None, symmetric=True):
    """A Keras random-augmentation factor: a number ``f`` (meaning ``(-f, f)``, or ``(0, f)`` when not
    ``symmetric``) or a ``(lower, upper)`` pair of numbers with ``lower <= upper``, each within
    ``[low, high]``. Returns ``(lower, upper)`` as floats."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected a float or a tuple of 2 floats "
                f"(lower, upper). Received {name}={value!r}."
            )
        lo = number(value[0], name, low, high)
        hi = number(value[1], name, low, high)
        ordered_pair(lo, hi, name, value)
        return lo, hi
    v = number(value, name)
    lo, hi = (-abs(v), abs(v)) if symmetric else (0.0, v)
    for bound in (lo, hi):
        number(bound, name, low, high)
    return lo, hi


def sequence_of(value, name, kind=None, length=None):
    """Checks ``value`` is a list/tuple (of ``length`` items, when given); returns it as a list."""
    if not isinstance(value, (list, tuple)):
        what = "a list" if length is None else f"a list or tuple of {length} items"
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected {what}"
            f"{'' if kind is None else ' of ' + kind}. Received {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if length is not None and len(value) != length:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected {length} items. "
            f"Received {name} with {len(value)} items: {value!r}."
        )
    return list(value)
