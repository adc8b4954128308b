"""Activation functions by name, as ``keras.activations``.

``get('relu')`` returns the function; ``serialize(fn)`` gives back its name and ``deserialize(name)``
the function. Defaults are Keras 3's, which differ from ``keras.ops`` in one place:
``activations.gelu`` is exact (``approximate=False``) while ``ops.gelu`` defaults to the tanh
approximation. ``hard_sigmoid`` is Keras 3's ``relu6(x + 3) / 6`` (tf.keras 2 used
``0.2 * x + 0.5``).
"""

from strided.ops import nn_functions as _f

__all__ = [
    "get",
    "serialize",
    "deserialize",
    "relu",
    "leaky_relu",
    "relu6",
    "softmax",
    "log_softmax",
    "elu",
    "selu",
    "celu",
    "softplus",
    "softsign",
    "squareplus",
    "sparse_plus",
    "soft_shrink",
    "hard_shrink",
    "silu",
    "swish",
    "gelu",
    "glu",
    "tanh",
    "tanh_shrink",
    "hard_tanh",
    "threshold",
    "sigmoid",
    "sparse_sigmoid",
    "hard_sigmoid",
    "log_sigmoid",
    "hard_silu",
    "hard_swish",
    "exponential",
    "linear",
    "mish",
    "sparsemax",
]


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit: ``max(x, 0)``, with Keras's options.

    Args:
        x: input tensor.
        negative_slope: slope below the threshold (default 0).
        max_value: clip the output at this value (default None, no clipping).
        threshold: values at or below it are set to zero (or to the negative slope line).

    Returns:
        A tensor of the shape of ``x``.
    """
    return _f.relu(x, negative_slope=negative_slope, max_value=max_value, threshold=threshold)


def leaky_relu(x, negative_slope=0.2):
    """``x`` for ``x >= 0`` else ``negative_slope * x`` (Keras 3 default slope 0.2)."""
    return _f.leaky_relu(x, negative_slope=negative_slope)


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return _f.relu6(x)


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``: each slice becomes a probability distribution.

    As in Keras, the logits are attached to the output (``output._keras_logits``) so that a
    crossentropy loss can use them for numerical stability.
    """
    output = _f.softmax(x, axis=axis)
    try:
        output._keras_logits = x
    except AttributeError:
        pass
    return output


def log_softmax(x, axis=-1):
    """``log(softmax(x))`` along ``axis``, computed stably."""
    return _f.log_softmax(x, axis=axis)


def elu(x, alpha=1.0):
    """``x`` for ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return _f.elu(x, alpha=alpha)


def selu(x):
    """Scaled exponential linear unit (``scale * elu(x, alpha)``, alpha=1.67326324, scale=1.05070098)."""
    return _f.selu(x)


def celu(x, alpha=1.0):
    """``x`` for ``x >= 0`` else ``alpha * (exp(x / alpha) - 1)``."""
    return _f.celu(x, alpha=alpha)


def softplus(x):
    """``log(exp(x) + 1)``."""
    return _f.softplus(x)


def softsign(x):
    """``x / (abs(x) + 1)``."""
    return _f.softsign(x)


def squareplus(x, b=4):
    """``(x + sqrt(x^2 + b)) / 2``."""
    return _f.squareplus(x, b=b)


def sparse_plus(x):
    """0 for ``x <= -1``, ``(x + 1)^2 / 4`` in between, ``x`` for ``x >= 1``."""
    return _f.sparse_plus(x)


def soft_shrink(x, threshold=0.5):
    """Shrinks towards 0 by ``threshold``; 0 inside ``[-threshold, threshold]``."""
    return _f.soft_shrink(x, threshold=threshold)


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    return _f.hard_shrink(x, threshold=threshold)


def silu(x):
    """Swish / SiLU: ``x * sigmoid(x)``."""
    return _f.silu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit ``x * P(X <= x)``; ``approximate=True`` uses the tanh formula."""
    return _f.gelu(x, approximate=approximate)


def glu(x, axis=-1):
    """Gated linear unit: ``a * sigmoid(b)`` with ``a, b`` the two halves of ``axis``."""
    return _f.glu(x, axis=axis)


def tanh(x):
    """Hyperbolic tangent."""
    return _f.tanh(x)


def tanh_shrink(x):
    """``x - tanh(x)``."""
    return _f.tanh_shrink(x)


def hard_tanh(x):
    """``clip(x, -1, 1)``."""
    return _f.hard_tanh(x)


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    return _f.threshold(x, threshold, default_value)


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    return _f.sigmoid(x)


def sparse_sigmoid(x):
    """0 below -1, 1 above 1, linear in between."""
    return _f.sparse_sigmoid(x)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid, Keras 3: 0 for ``x <= -3``, 1 for ``x >= 3``, ``x / 6 + 0.5`` between."""
    return _f.hard_sigmoid(x)


def log_sigmoid(x):
    """``log(sigmoid(x))``, computed stably."""
    return _f.log_sigmoid(x)


def hard_silu(x):
    """Hard swish: ``x * hard_sigmoid(x)``."""
    return _f.hard_silu(x)


def exponential(x):
    """``exp(x)``."""
    return _f.exponential(x)


def linear(x):
    """The identity, the activation of a layer with ``activation=None``."""
    return x


def mish(x):
    """``x * tanh(softplus(x))``."""
    return _f.mish(x)


def sparsemax(x, axis=-1):
    """Projection onto the probability simplex: like softmax, but exact zeros are allowed."""
    return _f.sparsemax(x, axis=axis)


swish = silu
hard_swish = hard_silu

# Keras's registry: the canonical functions by name, plus the two aliases.
_ALL = {
    fn.__name__: fn
    for fn in (
        relu,
        leaky_relu,
        relu6,
        softmax,
        celu,
        elu,
        selu,
        softplus,
        softsign,
        squareplus,
        soft_shrink,
        sparse_plus,
        silu,
        gelu,
        glu,
        tanh,
        tanh_shrink,
        threshold,
        sigmoid,
        sparse_sigmoid,
        exponential,
        hard_sigmoid,
        hard_silu,
        hard_tanh,
        hard_shrink,
        linear,
        mish,
        log_softmax,
        log_sigmoid,
        sparsemax,
    )
}
_ALIASES = {"swish": silu, "hard_swish": hard_silu}
_CUSTOM = {}


def _lookup(name):
    return _CUSTOM.get(name) or _ALL.get(name) or _ALIASES.get(name)


def _unknown(identifier):
    names = sorted(set(_ALL) | set(_ALIASES) | set(_CUSTOM))
    return ValueError(
        f"Could not interpret activation function identifier: {identifier!r}. Expected a callable or one of {names}."
    )


def get(identifier):
    """Returns the activation function for ``identifier``.

    Args:
        identifier: None (-> ``linear``), a name such as ``'relu'``, a serialized dict, or a callable
            (returned as is).

    Returns:
        A callable.

    Raises:
        ValueError: for an unknown name; the message lists the valid names.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        fn = _lookup(identifier) or _lookup(identifier.lower())
        if fn is None:
            raise _unknown(identifier)
        return fn
    if callable(identifier):
        return identifier
    raise _unknown(identifier)


def serialize(activation):
    """The name of a built-in activation (``serialize(relu) == 'relu'``).

    A custom function serializes to Keras's dict ``{'module', 'class_name': 'function', 'config',
    'registered_name'}``; an activation object with ``get_config`` to ``{'class_name', 'config'}``.
    """
    if activation is None:
        return "linear"
    for name, fn in _ALL.items():
        if activation is fn:
            return name
    for name, fn in _ALIASES.items():
        if activation is fn:
            return fn.__name__
    if hasattr(activation, "get_config"):
        return {
            "module": type(activation).__module__,
            "class_name": type(activation).__name__,
            "config": activation.get_config(),
            "registered_name": type(activation).__name__,
        }
    name = getattr(activation, "__name__", None)
    if name is None or name == "<lambda>":
        raise ValueError(
            f"Unknown activation function '{activation!r}' cannot be serialized: give it a name "
            "(a `def` function) or use one of the built-in names."
        )
    return {
        "module": getattr(activation, "__module__", None),
        "class_name": "function",
        "config": name,
        "registered_name": name,
    }


def deserialize(config, custom_objects=None):
    """The activation function for a name or a ``serialize`` dict.

    Args:
        config: a name (``'relu'``) or a dict from ``serialize``.
        custom_objects: optional ``{name: function}`` for custom activations.
    """
    custom_objects = custom_objects or {}
    if isinstance(config, dict):
        name = config.get("config") if config.get("class_name") == "function" else config.get("class_name")
        if isinstance(name, dict):  # a serialized activation object
            name = config.get("class_name")
        reg = config.get("registered_name")
        for key in (reg, name):
            if key in custom_objects:
                obj = custom_objects[key]
                if isinstance(obj, type) and isinstance(config.get("config"), dict):
                    return obj(**config["config"])
                return obj
        config = name
    if isinstance(config, str):
        if config in custom_objects:
            return custom_objects[config]
        fn = _lookup(config)
        if fn is None:
            raise _unknown(config)
        return fn
    raise _unknown(config)


def register(name, fn):
    """Registers a custom activation under ``name`` so that ``get(name)`` finds it."""
    _CUSTOM[name] = fn
    return fn


# Activations that act on each element alone: a layer may apply them to its output in any axis order (a run of
# layers on channels-first views, see models/sequential.py). Axis-dependent ones (softmax, glu...) are not here.
ELEMENTWISE = frozenset(
    {
        linear,
        relu,
        leaky_relu,
        relu6,
        elu,
        selu,
        celu,
        softplus,
        softsign,
        silu,
        gelu,
        tanh,
        sigmoid,
        hard_sigmoid,
        hard_silu,
        mish,
        exponential,
        log_sigmoid,
    }
)
