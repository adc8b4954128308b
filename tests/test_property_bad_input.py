"""Property-based bad input (issue 16): generated constructor arguments and input shapes for every public
layer, optimizer and callback.

The property: constructing (and, for layers, calling on a generated input) either succeeds, or raises a
``ValueError``/``TypeError`` from strided's own code whose message names the argument (or, for a call, the
layer or its input); never an error raised inside torch/NumPy, never an AttributeError/KeyError/IndexError.

Examples are bounded (``STRIDED_HYPOTHESIS_EXAMPLES``, default 30 per layer, 3x that per optimizer and
callback) and derandomized so CI is reproducible; ``pytest -s`` prints how many cases ran.
"""

import inspect
import os
import traceback
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from strided import callbacks, layers, optimizers  # noqa: E402

EXAMPLES = int(os.environ.get("STRIDED_HYPOTHESIS_EXAMPLES", "30"))
COUNTS = {"cases": 0, "constructed": 0, "called": 0, "refused": 0}

# Classes that are not constructed from plain arguments (abstract bases, wrappers of whole models).
_SKIP = {
    "Layer",
    "InputSpec",
    "Optimizer",
    "Callback",
    "CallbackList",
    "MonitorCallback",
    "MultiOptimizer",
    "LossScaleOptimizer",
    "RemoteMonitor",
    "TensorBoard",
    "Functional",
    "Sequential",
    "Model",
    "Wrapper",
    "FeatureSpace",
    "Pipeline",
}


def _public(module, base):
    return sorted(
        n
        for n in dir(module)
        if inspect.isclass(getattr(module, n))
        and issubclass(getattr(module, n), base)
        and n not in _SKIP
        and not n.startswith(("_", "Base"))
    )


LAYERS = _public(layers, layers.Layer)
OPTIMIZERS = _public(optimizers, optimizers.Optimizer)
CALLBACKS = _public(callbacks, callbacks.Callback)

# ----------------------------------------------------------------------------- value strategies

_BAD_NUMBERS = st.sampled_from([-3, -1, 0, 0.0, -0.5, 1.5, 2, 1e9, float("nan"), float("inf")])
_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 6),
    st.floats(-2.0, 3.0, allow_nan=False),
    _BAD_NUMBERS,
    st.sampled_from(["x", "", "same", "valid", "auto", "relu", "max", "channels_first", "float32", "bogus"]),
    st.tuples(st.integers(-2, 4), st.integers(-2, 4)),
    st.tuples(st.floats(-1.0, 1.0, allow_nan=False), st.floats(-1.0, 1.0, allow_nan=False)),
    st.lists(st.integers(0, 3), max_size=4),
    st.just({"a": 1}),
    st.just(object()),
)
_SMALL_POSITIVE = st.integers(1, 4)

# Plausible values for the arguments without a default, by name, so the other arguments get exercised.
_REQUIRED = {
    "units": _SMALL_POSITIVE,
    "filters": _SMALL_POSITIVE,
    "kernel_size": st.sampled_from([1, 2, (1, 2)]),
    "pool_size": st.sampled_from([1, 2]),
    "rate": st.sampled_from([0.0, 0.5]),
    "output_dim": _SMALL_POSITIVE,
    "input_dim": st.integers(2, 6),
    "num_heads": st.integers(1, 2),
    "key_dim": _SMALL_POSITIVE,
    "factor": st.sampled_from([0.1, 0.5, (0.1, 0.2)]),
    "height_factor": st.sampled_from([0.1, (0.1, 0.2)]),
    "width_factor": st.sampled_from([0.1, (0.1, 0.2)]),
    "height": st.integers(1, 4),
    "width": st.integers(1, 4),
    "scale": st.sampled_from([0.5, 2.0]),
    "target_shape": st.sampled_from([(4,), (2, 2), (-1,)]),
    "dims": st.sampled_from([(1,), (2, 1)]),
    "n": st.integers(1, 3),
    "size": st.sampled_from([2, (1, 2)]),
    "padding": st.sampled_from([1, (1, 1)]),
    "cropping": st.sampled_from([0, 1]),
    "axes": st.sampled_from([1, -1]),
    "num_bins": st.integers(2, 5),
    "num_tokens": st.integers(2, 6),
    "max_tokens": st.integers(2, 6),
    "vocabulary": st.just(["a", "b"]),
    "output_mode": st.just("int"),
    "value_range": st.just((0, 255)),
    "equation": st.just("ab,bc->ac"),
    "output_shape": st.sampled_from([3, (3,)]),
    "stddev": st.just(0.1),
    "mode": st.sampled_from(["horizontal", "vertical"]),
    "layer": st.just(None),
    "cell": st.just(None),
    "function": st.just(None),
    "module": st.just(None),
    "num_classes": st.integers(2, 4),
    "heads": st.integers(1, 2),
    "alpha": st.just(0.5),
    "bounding_box_format": st.just("xyxy"),
    "filepath": st.just(None),
    "filename": st.just(None),
    "backup_dir": st.just(None),
    "schedule": st.just(None),
    "seed": st.just(None),
    "sequence_length": st.integers(1, 4),
    "fft_length": st.just(8),
    "sampling_rate": st.just(16000),
    "groups": st.just(1),
    "depth_multiplier": st.just(1),
    "learning_rate": st.sampled_from([0.01, 0.001]),
}


def _fill(name, value, tmp):
    """Object-valued required arguments (a wrapped layer, a cell, a function, a path)."""
    if value is not None or name not in (
        "layer",
        "cell",
        "function",
        "module",
        "filepath",
        "filename",
        "backup_dir",
        "schedule",
    ):
        return value
    return {
        "layer": lambda: layers.Dense(2),
        "cell": lambda: layers.SimpleRNNCell(2),
        "function": lambda: lambda x: x * 2.0,
        "module": lambda: __import__("torch").nn.Identity(),
        "filepath": lambda: os.path.join(tmp, "m.keras"),
        "filename": lambda: os.path.join(tmp, "log.csv"),
        "backup_dir": lambda: os.path.join(tmp, "backup"),
        "schedule": lambda: lambda epoch, lr: lr,
    }[name]()


def _parameters(cls):
    sig = inspect.signature(cls.__init__)
    return [p for p in sig.parameters.values() if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


@st.composite
def constructor_args(draw, cls):
    """Required arguments filled plausibly (sometimes badly), 1-3 arguments overridden with arbitrary values."""
    params = _parameters(cls)
    kwargs, changed = {}, []
    for p in params:
        if p.default is inspect.Parameter.empty:
            strategy = _REQUIRED.get(p.name, _SMALL_POSITIVE)
            kwargs[p.name] = draw(st.one_of(strategy, _ANY) if draw(st.integers(0, 4)) == 0 else strategy)
    optional = [p.name for p in params if p.default is not inspect.Parameter.empty and p.name not in ("name", "dtype")]
    if optional:
        for name in draw(st.lists(st.sampled_from(optional), min_size=0, max_size=3, unique=True)):
            kwargs[name] = draw(_ANY)
            changed.append(name)
    return kwargs, changed


# ----------------------------------------------------------------------------- the property


def _innermost_is_strided(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    path = frames[-1].filename.replace("\\", "/") if frames else ""
    return "/strided/" in path and "/site-packages/" not in path.split("/strided/")[0][-15:]


def check_error(exc, names, what):
    """The error is a named Keras-style ValueError/TypeError raised by strided (see the module docstring)."""
    COUNTS["refused"] += 1
    detail = f"{what}: {type(exc).__name__}: {exc}\n" + "".join(traceback.format_exception(exc)[-6:])
    assert isinstance(exc, (ValueError, TypeError, NotImplementedError)), detail
    assert not isinstance(exc, (KeyError, IndexError, AttributeError)), detail
    assert _innermost_is_strided(exc), "raised inside a dependency, not by strided: " + detail
    message = str(exc)
    assert any(n in message for n in names), f"the message names none of {sorted(names)}: " + detail


def construct(cls, kwargs, changed, tmp):
    kwargs = {k: _fill(k, v, tmp) for k, v in kwargs.items()}
    COUNTS["cases"] += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = cls(**kwargs)
    except Exception as e:  # noqa: BLE001 -- the property is about which exceptions
        # the argument at fault may be one left at its default (num_tokens=None with sparse=...)
        names = {p.name for p in _parameters(cls)} | set(kwargs) | {cls.__name__}
        check_error(e, names, f"{cls.__name__}(**{kwargs!r})")
        return None
    COUNTS["constructed"] += 1
    return obj


@pytest.mark.parametrize("name", LAYERS)
def test_layers_take_generated_arguments_and_inputs(name, tmp_path):
    cls = getattr(layers, name)

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(args=constructor_args(cls), rank=st.integers(1, 5), dims=st.lists(st.integers(1, 5), min_size=5, max_size=5))
    def run(args, rank, dims):
        layer = construct(cls, *args, str(tmp_path))
        if layer is None:
            return
        shape = (2,) + tuple(dims[: rank - 1])
        x = np.random.default_rng(0).random(shape).astype("float32")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                layer(x)
            COUNTS["called"] += 1
        except Exception as e:  # noqa: BLE001
            call_args = set(inspect.signature(cls.call).parameters) - {"self"} if hasattr(cls, "call") else set()
            check_error(
                e,
                {layer.name, "input", "shape", "ndim", "rank", name} | {p.name for p in _parameters(cls)} | call_args,
                f"{name}(**{args[0]!r})({shape})",
            )

    run()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizers_take_generated_arguments(name, tmp_path):
    cls = getattr(optimizers, name)

    @settings(
        max_examples=3 * EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(args=constructor_args(cls))
    def run(args):
        opt = construct(cls, *args, str(tmp_path))
        if opt is None:
            return
        dense = layers.Dense(2)
        dense.build((None, 3))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                opt.apply_gradients([(np.ones((3, 2), "float32"), dense.kernel), (np.ones(2, "float32"), dense.bias)])
        except Exception as e:  # noqa: BLE001
            check_error(e, {p.name for p in _parameters(cls)} | {name}, f"{name}(**{args[0]!r}).apply_gradients")

    run()


@pytest.mark.parametrize("name", CALLBACKS)
def test_callbacks_take_generated_arguments(name, tmp_path):
    cls = getattr(callbacks, name)

    @settings(
        max_examples=3 * EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(args=constructor_args(cls))
    def run(args):
        construct(cls, *args, str(tmp_path))

    run()


def test_report_generated_case_count():
    print(f"\nproperty-based bad input: {COUNTS}")
    assert COUNTS["cases"] > 0 or os.environ.get("PYTEST_XDIST_WORKER")
