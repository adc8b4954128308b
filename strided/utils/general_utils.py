"""Small Keras utilities: ``Config``, ``standardize_dtype``, and the interactive-logging switches that
decide where the progress bar writes."""

import copy
import difflib
import functools
import inspect
import json

import numpy as np

from strided import config

ALLOWED_DTYPES = (
    "float16",
    "float32",
    "float64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "bfloat16",
    "bool",
    "string",
    "float8_e4m3fn",
    "float8_e5m2",
    "complex64",
    "complex128",
)
# Python types as Keras's torch backend names them
_PYTHON_DTYPES = {bool: "bool", int: "int32", float: "float32", str: "string", "int": "int32", complex: "complex64"}

_STATE = {"interactive_logging": True}


def standardize_dtype(dtype):
    """The Keras name of a dtype: ``None`` -> ``floatx()``, ``float`` -> ``"float32"``, ``int`` -> ``"int32"``,
    ``np.float64`` / ``torch.float16`` / ``"float32"`` -> their names. Unknown dtypes raise a ValueError."""
    if dtype is None:
        return config.floatx()
    try:
        dtype = _PYTHON_DTYPES.get(dtype, dtype)
    except TypeError:  # unhashable
        pass
    if isinstance(dtype, np.dtype):
        dtype = dtype.name
    elif hasattr(dtype, "name") and isinstance(dtype.name, str):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    elif "torch" in str(dtype):
        dtype = str(dtype).split(".")[-1]
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return dtype


class Config:
    """A Config is a dict-like container for named values.

    It offers a few advantages over a plain dict: attribute-style access (``config.foo``), a ``freeze()``
    method that makes it immutable (any change then raises a ValueError), and a suggestion of the closest
    key when an attribute name is misspelled.

    Example:

    ```python
    config = keras.utils.Config(learning_rate=0.1, momentum=0.9)
    config.use_ema = True
    config.freeze()
    config.learning_rate      # 0.1
    config.as_dict()          # {'learning_rate': 0.1, 'momentum': 0.9, 'use_ema': True}
    ```

    Args:
        **kwargs: the initial values.
    """

    __attrs__ = None

    def __init__(self, **kwargs):
        self._config = kwargs
        self._frozen = False
        self.__attrs__ = set(dir(self))

    @property
    def frozen(self):
        """True if the config is frozen (immutable)."""
        return self._frozen

    def freeze(self):
        """Marks the config as frozen: it can no longer be changed."""
        self._frozen = True

    def unfreeze(self):
        self._frozen = False

    def _raise_if_frozen(self):
        if self._frozen:
            raise ValueError("Cannot mutate attribute(s) because the config is frozen.")

    def as_dict(self):
        return copy.copy(self._config)

    def to_json(self):
        return json.dumps(self._config)

    def keys(self):
        return self._config.keys()

    def values(self):
        return self._config.values()

    def items(self):
        return self._config.items()

    def pop(self, *args):
        self._raise_if_frozen()
        return self._config.pop(*args)

    def update(self, *args, **kwargs):
        self._raise_if_frozen()
        return self._config.update(*args, **kwargs)

    def get(self, keyname, value=None):
        return self._config.get(keyname, value)

    def __setattr__(self, name, value):
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            return object.__setattr__(self, name, value)
        self._raise_if_frozen()
        self._config[name] = value

    def __getattr__(self, name):
        attrs = object.__getattribute__(self, "__attrs__")
        if attrs is None or name in attrs:
            return object.__getattribute__(self, name)
        if name in self._config:
            return self._config[name]
        message = f"Unknown attribute: '{name}'."
        close = difflib.get_close_matches(name, self._config.keys(), n=1, cutoff=0.7)
        if close:
            message += f" Did you mean '{close[0]}'?"
        raise AttributeError(message)

    def __setitem__(self, key, item):
        self._raise_if_frozen()
        self._config[key] = item

    def __getitem__(self, key):
        return self._config[key]

    def __delitem__(self, key):
        self._raise_if_frozen()
        del self._config[key]

    def __contains__(self, item):
        return item in self._config

    def __iter__(self):
        yield from sorted(self._config.keys())

    def __len__(self):
        return len(self._config)

    def __repr__(self):
        return f"<Config {self._config}>"


def enable_interactive_logging():
    """Turn on interactive logging: the progress bar and logs go to stdout (the default), the best
    experience in a shell or a notebook."""
    _STATE["interactive_logging"] = True


def disable_interactive_logging():
    """Turn off interactive logging: the progress bar's lines go to Python's ``logging`` (logger
    ``"strided"``, level INFO) instead of stdout, one finished line at a time, as suits a training job on a
    server (Keras sends them to ``absl.logging``)."""
    _STATE["interactive_logging"] = False


def is_interactive_logging_enabled():
    """True if interactive logging (progress bar on stdout) is enabled; see ``disable_interactive_logging``."""
    return _STATE["interactive_logging"]


def named_arguments(constructor_locals):
    """The named arguments of a constructor, from its ``locals()`` taken before any other local is set
    (``self``, ``__class__`` and ``**kwargs`` left out).

    Constructors and methods that keep Keras's full signature (positional order included) hand all of it on at
    once with it, rather than restating every argument in the call to their base class or to the function that
    does the work (layers, losses, IoU metrics, ``Model.fit``'s checks, ``ImageDataGenerator.flow``):
    ``super().__init__(**named_arguments(locals()), **kwargs)``.
    """
    return {k: v for k, v in constructor_locals.items() if k not in ("self", "__class__", "kwargs")}


def reorder_positional(method, first):
    """``method`` taking the positional-or-keyword arguments ``first`` in that order, right after ``self``.

    For a class whose Keras constructor orders its base's arguments otherwise (Keras's ``Conv3DTranspose``
    takes ``data_format`` before ``output_padding``, its 1D and 2D siblings after): the base's ``__init__`` stays
    the one definition, and ``inspect.signature`` shows the class's own order.
    """
    signature = inspect.signature(method)
    parameters = list(signature.parameters.values())
    moved = [signature.parameters[name] for name in first]
    rest = [p for p in parameters[1:] if p.name not in first]
    signature = signature.replace(parameters=[parameters[0], *moved, *rest])
    var_keyword = next((p.name for p in rest if p.kind is p.VAR_KEYWORD), None)

    @functools.wraps(method)
    def reordered(*args, **kwargs):
        try:
            arguments = signature.bind(*args, **kwargs).arguments
        except TypeError as e:
            owner = f"{type(args[0]).__name__}." if args else ""
            raise TypeError(f"{owner}{method.__name__}() {e}") from None
        extra = arguments.pop(var_keyword, {}) if var_keyword else {}
        return method(**arguments, **extra)

    reordered.__signature__ = signature
    return reordered
