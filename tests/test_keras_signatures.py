"""strided's public classes take Keras 3's constructor arguments: a Keras program may pass them by position.

For every class that both libraries export from the eight modules below, and for the ``Model`` methods a
program calls, the Keras signature (``inspect.signature``) is compared with strided's:

- Keras's positional-or-keyword parameters are a prefix of strided's, in order (strided's own extra
  parameters come after them, or are keyword-only, and have defaults);
- the defaults are equal, or equal in meaning (``1`` and ``(1, 1)``, ``1`` and ``((1, 1), (1, 1))``);
- every Keras parameter is accepted: named in strided's signature or in a base class's ``__init__`` that
  the class's ``**kwargs`` reaches.

``DEVIATIONS`` lists the differences kept on purpose, each with its reason; an entry that no longer
matches a difference fails too, so the list stays exact.
"""

import inspect

import pytest

import strided

MODULES = ("layers", "losses", "metrics", "optimizers", "callbacks", "initializers", "regularizers", "constraints")
MODEL_METHODS = (
    "compile",
    "fit",
    "evaluate",
    "predict",
    "train_on_batch",
    "test_on_batch",
    "predict_on_batch",
    "save",
    "save_weights",
    "load_weights",
    "summary",
)

P = inspect.Parameter
_VARIADIC = (P.VAR_POSITIONAL, P.VAR_KEYWORD)

# The arguments every optimizer shares; strided takes them keyword-only (docs/keras_compat.md).
_OPTIMIZER_BASE_ARGS = {
    name
    for name, p in inspect.signature(strided.optimizers.Optimizer.__init__).parameters.items()
    if name not in ("self", "learning_rate") and p.kind not in _VARIADIC
}
_OPTIMIZER_REASON = (
    "the base optimizer arguments (weight_decay, clipnorm, ... name) are keyword-only in strided, as Keras "
    "documents them; Keras also takes them by position after the optimizer's own (docs/keras_compat.md)"
)
_POOL_SIZE_REASON = "tf.keras 2 (the seed notebooks) defaults pool_size to 2; Keras 3 requires it; both calls work"

# "module.Class" (Keras's class name) or "Model.method" -> {parameter: reason}. The special parameter
# "*optimizer base arguments*" stands for every argument of _OPTIMIZER_BASE_ARGS being keyword-only.
DEVIATIONS = {
    **{
        f"optimizers.{name}": {"*optimizer base arguments*": _OPTIMIZER_REASON}
        for name in (
            "Adadelta",
            "Adafactor",
            "Adagrad",
            "Adam",
            "AdamW",
            "Adamax",
            "Ftrl",
            "Lamb",
            "Lion",
            "Muon",
            "Nadam",
            "RMSprop",
            "SGD",
            "ScheduleFreeAdamW",
        )
    },
    **{f"layers.AveragePooling{rank}D": {"pool_size": _POOL_SIZE_REASON} for rank in (1, 2, 3)},
}


def _flat(value):
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


def _same_meaning(keras_default, strided_default):
    """Equal, or an int against a (nested) tuple of that int only (``strides=1`` and ``(1, 1)``)."""
    if keras_default == strided_default:
        return True
    if isinstance(keras_default, list) or isinstance(strided_default, list):
        return _same_meaning(_tuple(keras_default), _tuple(strided_default))
    for one, many in ((keras_default, strided_default), (strided_default, keras_default)):
        if isinstance(one, int) and not isinstance(one, bool) and isinstance(many, tuple):
            leaves = _flat(many)
            return bool(leaves) and all(type(v) is int and v == one for v in leaves)
    return False


def _tuple(value):
    return tuple(_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


def _parameters(callable_):
    return [p for p in inspect.signature(callable_).parameters.values() if p.name != "self"]


def _names_reached_by_kwargs(cls):
    """Argument names a base ``__init__`` takes, when the class's own ``__init__`` passes ``**kwargs`` on."""
    names = set()
    if not isinstance(cls, type) or not any(p.kind is P.VAR_KEYWORD for p in _parameters(cls)):
        return names
    for base in cls.__mro__[1:]:
        init = base.__dict__.get("__init__")
        if init is None or base is object:
            continue
        names.update(p.name for p in _parameters(init) if p.kind not in _VARIADIC)
    if issubclass(cls, strided.layers.Layer):
        names.update(strided.saving.serialization_lib.BASE_LAYER_KWARGS)
    return names


def compare(key, keras_callable, strided_callable, owner=None):
    """The differences between the two signatures, as ``(parameter, message)`` pairs."""
    theirs, ours = _parameters(keras_callable), _parameters(strided_callable)
    ours_by_name = {p.name: p for p in ours}
    problems = []
    keras_positional = [p.name for p in theirs if p.kind is P.POSITIONAL_OR_KEYWORD]
    if key.startswith("optimizers."):
        keyword_only = [
            n
            for n in keras_positional
            if n in _OPTIMIZER_BASE_ARGS and ours_by_name.get(n, P("x", P.KEYWORD_ONLY)).kind is P.KEYWORD_ONLY
        ]
        if keyword_only:
            problems.append(("*optimizer base arguments*", f"keyword-only in strided: {keyword_only}"))
            keras_positional = [n for n in keras_positional if n not in keyword_only]
    our_positional = [p.name for p in ours if p.kind is P.POSITIONAL_OR_KEYWORD]
    if our_positional[: len(keras_positional)] != keras_positional:
        mismatch = next(
            (i for i, n in enumerate(keras_positional) if i >= len(our_positional) or our_positional[i] != n), 0
        )
        problems.append(
            (
                keras_positional[mismatch],
                f"positional order: Keras {keras_positional[mismatch:]}, strided {our_positional[mismatch:]}",
            )
        )
    keras_names = {p.name for p in theirs}
    keras_takes_args = any(p.kind is P.VAR_POSITIONAL for p in theirs)  # keras.optimizers.Optimizer(*args, **kwargs)
    for p in ours:
        if p.name not in keras_names and p.kind not in _VARIADIC and p.default is P.empty and not keras_takes_args:
            problems.append((p.name, "strided requires an argument Keras does not have"))
    reached = None
    for p in theirs:
        if p.kind in _VARIADIC:
            continue
        q = ours_by_name.get(p.name)
        if q is None:
            reached = _names_reached_by_kwargs(owner) if reached is None else reached
            if p.name not in reached:
                problems.append((p.name, "not accepted"))
            continue
        if not _same_meaning(p.default, q.default):
            problems.append((p.name, f"default: Keras {p.default!r}, strided {q.default!r}"))
    return problems


def _pairs(keras_module_name, keras):
    keras_module, our_module = getattr(keras, keras_module_name), getattr(strided, keras_module_name)
    for name in sorted(dir(keras_module)):
        theirs, ours = getattr(keras_module, name), getattr(our_module, name, None)
        if inspect.isclass(theirs) and inspect.isclass(ours):
            # Aliases (AvgPool2D) share their class's entry.
            yield f"{keras_module_name}.{theirs.__name__}", theirs, ours


def _check(items):
    """Unexpected differences and the DEVIATIONS entries among ``items`` that matched nothing."""
    unexpected, used = [], set()
    for key, theirs, ours, owner in items:
        allowed = DEVIATIONS.get(key, {})
        for parameter, message in compare(key, theirs, ours, owner):
            if parameter in allowed:
                used.add((key, parameter))
            else:
                unexpected.append(f"{key}({parameter}): {message}")
    stale = [
        f"{key}({parameter})"
        for key, _, _, _ in items
        for parameter in DEVIATIONS.get(key, {})
        if (key, parameter) not in used
    ]
    return sorted(set(unexpected)), sorted(set(stale))


@pytest.mark.keras
@pytest.mark.parametrize("module", MODULES)
def test_classes_take_keras_arguments(real_keras, module):
    items = [(key, theirs, ours, ours) for key, theirs, ours in _pairs(module, real_keras)]
    assert len(items) >= 5
    unexpected, stale = _check(items)
    assert not unexpected, "signatures that differ from Keras 3:\n" + "\n".join(unexpected)
    assert not stale, "DEVIATIONS entries that no longer differ (remove them):\n" + "\n".join(stale)


@pytest.mark.keras
def test_model_methods_take_keras_arguments(real_keras):
    items = [(f"Model.{m}", getattr(real_keras.Model, m), getattr(strided.Model, m), None) for m in MODEL_METHODS]
    unexpected, stale = _check(items)
    assert not unexpected, "Model methods that differ from Keras 3:\n" + "\n".join(unexpected)
    assert not stale


@pytest.mark.keras
def test_every_deviation_names_a_compared_class(real_keras):
    compared = {key for module in MODULES for key, _, _ in _pairs(module, real_keras)}
    compared |= {f"Model.{m}" for m in MODEL_METHODS}
    assert set(DEVIATIONS) <= compared
    assert all(reason for entry in DEVIATIONS.values() for reason in entry.values())


def _signature(*parameters):
    def function(*args, **kwargs):
        return args, kwargs

    function.__signature__ = inspect.Signature(list(parameters))
    return function


def _arg(name, default=P.empty, kind=P.POSITIONAL_OR_KEYWORD):
    return P(name, kind, default=default)


def test_the_comparison_finds_each_kind_of_difference():
    # The checker itself: each difference the Keras comparison looks for is reported.
    keras_like = _signature(_arg("k", 5), _arg("name", "top_k"))
    assert compare("metrics.X", keras_like, _signature(_arg("name", "top_k"), _arg("k", 5))) == [
        ("k", "positional order: Keras ['k', 'name'], strided ['name', 'k']")
    ]
    assert compare("metrics.X", keras_like, _signature(_arg("k", 3), _arg("name", "top_k"))) == [
        ("k", "default: Keras 5, strided 3")
    ]
    assert compare("metrics.X", keras_like, _signature(_arg("k", 5))) == [
        ("name", "positional order: Keras ['name'], strided []"),
        ("name", "not accepted"),
    ]
    extra_required = _signature(_arg("k", 5), _arg("name", "top_k"), _arg("extra", kind=P.KEYWORD_ONLY))
    assert compare("metrics.X", keras_like, extra_required) == [
        ("extra", "strided requires an argument Keras does not have")
    ]
    strides = _signature(_arg("strides", (1, 1)), _arg("cropping", ((1, 1), (1, 1))))
    assert compare("layers.X", strides, _signature(_arg("strides", 1), _arg("cropping", 1))) == []
    assert compare("layers.X", strides, _signature(_arg("strides", 2), _arg("cropping", (1, 2)))) == [
        ("strides", "default: Keras (1, 1), strided 2"),
        ("cropping", "default: Keras ((1, 1), (1, 1)), strided (1, 2)"),
    ]
