"""Argument validation with Keras-style messages.

Every check names the argument and echoes what was received, e.g.
"Invalid value for argument `filters`. Expected a strictly positive value. Received filters=0."
Library code raises through these helpers instead of using ``assert``.
"""
import numbers


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
            raise TypeError(f"Invalid type for argument `{name}`. Expected an integer. "
                            f"Received {name}={value!r} of type {type(value).__name__}.")
    if value < 0 or (value == 0 and not allow_zero):
        kind = "a non-negative" if allow_zero else "a strictly positive"
        raise ValueError(f"Invalid value for argument `{name}`. Expected {kind} value. Received {name}={value}.")
    return int(value)


def number(value, name, low=None, high=None, low_inclusive=True, high_inclusive=True):
    """Returns ``value`` as a float after checking its type and range."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"Invalid type for argument `{name}`. Expected a number. "
                        f"Received {name}={value!r} of type {type(value).__name__}.")
    bad_low = low is not None and (value < low if low_inclusive else value <= low)
    bad_high = high is not None and (value > high if high_inclusive else value >= high)
    if bad_low or bad_high:
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        lb, hb = ("[" if low_inclusive else "("), ("]" if high_inclusive else ")")
        raise ValueError(f"Invalid value for argument `{name}`. Expected a value in {lb}{lo}, {hi}{hb}. "
                         f"Received {name}={value}.")
    return float(value)


def one_of(value, name, choices, case_insensitive=True, hint=None):
    """Returns ``value`` (lower-cased when ``case_insensitive``) after checking it is one of ``choices``."""
    key = value.lower() if (case_insensitive and isinstance(value, str)) else value
    if key not in choices:
        msg = (f"Invalid value for argument `{name}`. Expected one of {list(choices)}. "
               f"Received {name}={value!r}.")
        if hint:
            msg += " " + hint
        raise ValueError(msg)
    return key


def boolean(value, name):
    if not isinstance(value, (bool,)) and not (_is_int(value) and value in (0, 1)):
        raise TypeError(f"Invalid type for argument `{name}`. Expected a boolean. Received {name}={value!r}.")
    return bool(value)
