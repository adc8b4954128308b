"""The training engine: `compile`, `fit`, `evaluate`, `predict` and the step functions.

`Trainer` is a mixin: `Model(Trainer, Layer)`. It knows a model only through `self(x, training=...)`,
`self.trainable_weights`, `self.weights` and `self.losses`, and never imports layers.

Speed rules: in-memory data is moved to the device once per call; batches are device slices;
metrics accumulate on the device and are read only at log boundaries (progress-bar redraws,
epoch ends); evaluation runs without autograd.
"""

import collections.abc
import contextlib
import functools
import gc
import inspect
import os
import signal
import threading
import warnings

import numpy as np
import torch

from strided import config
from strided.backend import deferred_updates
from strided.callbacks.callback_list import CallbackList
from strided.data.data_adapter import (
    EpochIterator,
    _local_share,
    _normalize_leaves,
    is_array_structure,
    make_adapter,
    train_validation_split,
)
from strided.distribution import distribution_lib as distribute
from strided.training import compile_utils
from strided.utils import tree
from strided.utils.batch import unpack_x_y_sample_weight
from strided.utils.general_utils import named_arguments
from strided.backend.variable import keras_view
from strided.utils import validation
from strided.optimizers.loss_scale import DynamicLossScale

_COMPILE_FIRST = (
    "You must call `compile()` before using the model. Call `model.compile(optimizer=..., loss=...)` first."
)


class _InterruptBetweenSteps:
    """Defers a KeyboardInterrupt (Ctrl-C, Jupyter's interrupt) during `fit` to the end of the current step.

    The first interrupt only raises a flag; `check()`, called after each step and each epoch, raises the
    KeyboardInterrupt there, so the weights are never left half-updated. A second interrupt raises at once.
    On the way out the progress bar line is ended and `model.history` is this run's History.
    """

    def __init__(self, model, callbacks, verbose):
        self.model, self.callbacks, self.verbose = model, callbacks, verbose
        self.requested = self.mid_epoch = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def check(self, mid_epoch=False):
        if self.requested:
            self.mid_epoch = mid_epoch
            raise KeyboardInterrupt

    def __enter__(self):
        # Only our own process's plain Ctrl-C handler is replaced (not a custom one, nor outside the main thread).
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            history = getattr(self.callbacks, "_history", None)
            if history is not None:
                self.model.history = history
            if self.verbose == 1 and self.mid_epoch:
                print()  # end the progress bar's open line before the traceback
        return False


class LazyLogs(dict):
    """Batch logs: a dict whose values are read from the device only when a callback looks at them."""

    def __init__(self, tensors):
        super().__init__()
        self._tensors = tensors
        self._ready = False

    def _materialize(self):
        if not self._ready:
            self._ready = True
            dict.update(self, to_python_logs(self._tensors))

    for _name in (
        "__getitem__",
        "__iter__",
        "__len__",
        "__contains__",
        "get",
        "items",
        "keys",
        "values",
        "__repr__",
        "copy",
        "__eq__",
    ):

        def _make(name):
            def method(self, *args, **kwargs):
                self._materialize()
                return getattr(dict, name)(self, *args, **kwargs)

            method.__name__ = name
            return method

        locals()[_name] = _make(_name)
    del _name, _make


class MetricResults(collections.abc.Mapping):
    """A read-only mapping ``metric name -> metric.result()`` evaluated on access (and then kept)."""

    def __init__(self, metrics):
        self._metrics = {m.name: m for m in metrics}
        self._values = {}

    def __getitem__(self, name):
        if name not in self._values:
            self._values[name] = self._metrics[name].result()
        return self._values[name]

    def __iter__(self):
        return iter(self._metrics)

    def __len__(self):
        return len(self._metrics)

    def __repr__(self):
        return repr(dict(self))


def _flat_logs(logs):
    """Nested result dicts (a metrics container's ``result()``) are merged in, as Keras does."""
    out = {}
    for k, v in dict(logs or {}).items():
        if isinstance(v, collections.abc.Mapping):
            out.update(_flat_logs(v))
        else:
            out[k] = v
    return out


def to_python_logs(logs):
    """Dict of tensors/numbers -> dict of Python floats, with one device synchronisation."""
    logs = _flat_logs(logs)
    keys = [k for k, v in logs.items() if torch.is_tensor(v) and v.numel() == 1]
    out = {}
    if keys:
        values = torch.stack([logs[k].detach().reshape(()).float() for k in keys]).cpu().tolist()
        out.update(zip(keys, values))
    for k, v in logs.items():
        if k in out:
            continue
        if torch.is_tensor(v):
            out[k] = v.detach().cpu().numpy()
        elif isinstance(v, (np.floating, np.integer)):
            out[k] = float(v)
        else:
            out[k] = v
    return {k: out[k] for k in logs}


def _loss_sources_cached(method):
    """While ``fit``/``evaluate`` run, the model finds the layers and regularized weights behind ``losses``
    once (at its first read), not at every step."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        outer = self.__dict__.get("_cache_loss_sources")
        self.__dict__["_cache_loss_sources"] = True
        try:
            return method(self, *args, **kwargs)
        finally:
            if not outer:
                self.__dict__.pop("_cache_loss_sources", None)
                self.__dict__.pop("_loss_sources", None)

    return wrapper


def _unexpected(method, kwargs):
    name = next(iter(kwargs))
    hint = ""
    if name == "epochs" and method != "fit":
        hint = (
            f" `{method}()` makes a single pass over the data; `epochs` is an argument of `fit()`. "
            f"Remove `epochs={kwargs[name]!r}` from the `{method}()` call."
        )
    elif name in ("nb_epoch",):
        hint = " Use `epochs` instead."
    raise TypeError(f"{method}() got an unexpected keyword argument '{name}'.{hint}")


def _check_steps(value, name):
    return validation.positive_int(value, name, allow_none=True)


def _check_callbacks(callbacks):
    """``callbacks`` is a list of Callback objects (a single callback is a common slip: Keras then fails
    with "object is not iterable")."""
    if callbacks is None or isinstance(callbacks, CallbackList):
        return callbacks
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(
            "Invalid type for argument `callbacks`. Expected a list of `keras.callbacks.Callback` "
            f"objects. Received callbacks={callbacks!r} of type {type(callbacks).__name__}"
            + (": wrap it in a list, `callbacks=[...]`." if hasattr(callbacks, "set_model") else ".")
        )
    for cb in callbacks:
        if not (hasattr(cb, "set_model") and hasattr(cb, "on_epoch_end")):
            raise TypeError(
                "Invalid type for argument `callbacks`. Expected a list of `keras.callbacks.Callback` "
                f"objects. Received callbacks={callbacks!r}, containing {cb!r} of type "
                f"{type(cb).__name__}."
            )
    return callbacks


def _check_x(x, method):
    """A string or bytes ``x`` is neither data nor a dataset (it would be iterated character by character)."""
    if isinstance(x, (str, bytes)):
        raise TypeError(
            f"Invalid type for argument `x` of `{method}()`. Expected NumPy arrays, tensors, lists/dicts "
            f"of them, a generator, a DataLoader or a Sequence. Received x={x!r} of type "
            f"{type(x).__name__}. (To train on text, pass an array of strings to a model starting with "
            "`Input(dtype='string')`.)"
        )


def _check_fit_arguments(
    *,
    epochs,
    initial_epoch,
    batch_size,
    steps_per_epoch,
    validation_steps,
    validation_batch_size,
    validation_freq,
    validation_data,
    shuffle,
    callbacks,
    **other_fit_arguments,
):
    """The argument checks of ``fit`` (Keras-style messages naming the argument); returns the normalized values.

    Takes all of ``fit``'s named arguments (``named_arguments(locals())``) and checks those named here.
    """
    epochs = validation.positive_int(epochs, "epochs", allow_zero=True)
    initial_epoch = validation.positive_int(initial_epoch, "initial_epoch", allow_zero=True)
    if initial_epoch > epochs:
        raise ValueError(
            f"Invalid value for argument `initial_epoch`. Expected at most `epochs` ({epochs}): `epochs` "
            f"is the index of the last epoch, not a count of further epochs. Received "
            f"initial_epoch={initial_epoch}, epochs={epochs}."
        )
    batch_size = validation.positive_int(batch_size, "batch_size", allow_none=True)
    _check_steps(steps_per_epoch, "steps_per_epoch")
    _check_steps(validation_steps, "validation_steps")
    validation.positive_int(validation_batch_size, "validation_batch_size", allow_none=True)
    if isinstance(validation_freq, (list, tuple)):
        for v in validation_freq:
            validation.positive_int(v, "validation_freq")
    elif isinstance(validation_freq, bool) or not isinstance(validation_freq, (int, np.integer)):
        raise TypeError(
            "Invalid type for argument `validation_freq`. Expected an integer or a list of epochs. "
            f"Received validation_freq={validation_freq!r} of type {type(validation_freq).__name__}."
        )
    else:
        validation_freq = validation.positive_int(validation_freq, "validation_freq")
    if validation_data is not None:
        if isinstance(validation_data, (np.ndarray, torch.Tensor)) or (
            isinstance(validation_data, (list, tuple))
            and len(validation_data) not in (2, 3)
            and (not validation_data or is_array_structure(validation_data[0]))
        ):
            got = (
                f"an array of shape {tuple(validation_data.shape)}"
                if hasattr(validation_data, "shape")
                else f"a {type(validation_data).__name__} of {len(validation_data)} items"
            )
            raise ValueError(
                "Invalid value for argument `validation_data`. Expected a tuple `(x_val, y_val)` or "
                f"`(x_val, y_val, val_sample_weight)`, or a dataset. Received {got}."
            )
    if not (isinstance(shuffle, (bool, np.bool_)) or shuffle == "batch"):
        raise TypeError(
            f"Invalid type for argument `shuffle`. Expected True, False or 'batch'. Received shuffle={shuffle!r}."
        )
    _check_callbacks(callbacks)
    return epochs, initial_epoch, batch_size, validation_freq


def _resolve_verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(
            f"Invalid value for argument `verbose`. Expected one of 0, 1, 2 or 'auto'. Received: verbose={verbose!r}"
        )
    return int(verbose)


class Trainer:
    """Mixin giving a model `compile`, `fit`, `evaluate`, `predict` and the `*_on_batch` methods."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.compiled_loss = None
        self.compiled_metrics = None
        self.stop_training = False
        self.history = None
        self._loss_tracker = None
        self._initial_epoch = None
        self._jit_compile = False
        self._compiled_step = None
        self._labels_checked = False
        self._loss_scale = None
        self.steps_per_execution = 1
        self.run_eagerly = False
        self.train_function = self.test_function = self.predict_function = None
        self._distributed = False  # set by fit/evaluate under torchrun (strided.distribution)
        self._constrained = None  # weights with constraints, found on the first update
        self._step_weights = None  # the trainable weights of the current fit
        self._last_batch_size = 1
        self._global_batch_size = 1  # under data parallelism: samples in the global batch of this step

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
        **kwargs,
    ):
        """Configures the model for training.

        Args:
            optimizer: name (`"adam"`, `"rmsprop"`...) or optimizer instance.
            loss: name, function or `Loss` instance; a list or dict for
                multi-output models (one per output).
            loss_weights: list or dict of scalars weighting each output's loss.
            metrics: list of metrics (names like `"accuracy"`/`"acc"`, functions or
                `Metric` instances); a list of lists or dict per output.
            weighted_metrics: metrics that receive `sample_weight`/`class_weight`.
            run_eagerly: accepted for Keras compatibility (strided always runs eagerly
                unless `jit_compile=True`).
            steps_per_execution: as in Keras, batch-level callbacks (and the progress bar) run once
                every this many batches, at the end of each group (fewer host round trips).
            jit_compile: `True` compiles the training step with `torch.compile`
                (falls back to eager execution with one warning if that fails); `"auto"` (the
                default) and `False` run eagerly, as `"auto"` does on Keras's torch backend.
            auto_scale_loss: under the `mixed_float16` policy, wrap the optimizer in a
                `LossScaleOptimizer` (dynamic loss scaling), as Keras does.
        """
        kwargs.pop("experimental_run_tf_function", None)
        kwargs.pop("sample_weight_mode", None)
        if kwargs:
            _unexpected("compile", kwargs)
        if optimizer is None:
            optimizer = "rmsprop"
        optimizers = compile_utils._module("optimizers")
        if not isinstance(optimizer, (str, dict, type)) and hasattr(optimizer, "apply"):
            self.optimizer = optimizer  # an optimizer instance is used as given
        else:
            if optimizers is None or not hasattr(optimizers, "get"):
                raise ImportError("strided.optimizers is not available; pass an optimizer instance.")
            self.optimizer = optimizers.get(optimizer)
        if isinstance(self.optimizer, type):
            self.optimizer = self.optimizer()
        if (
            auto_scale_loss
            and config.dtype_policy() == "mixed_float16"
            and optimizers is not None
            and isinstance(self.optimizer, optimizers.Optimizer)
            and not isinstance(self.optimizer, optimizers.LossScaleOptimizer)
        ):
            # As Keras: float16 training scales the loss dynamically through a LossScaleOptimizer.
            self.optimizer = optimizers.LossScaleOptimizer(self.optimizer, name="loss_scale_optimizer")
        if loss is not None and not isinstance(loss, (list, tuple, dict)) and not compile_utils.needs_shapes(loss):
            compile_utils.resolve_loss(loss)  # unknown names fail here, at compile time
        elif isinstance(loss, (list, tuple, dict)):
            for item in loss.values() if isinstance(loss, dict) else loss:
                if item is not None and not compile_utils.needs_shapes(item):
                    compile_utils.resolve_loss(item)
        self.loss = loss
        self.loss_weights = loss_weights
        output_names = list(getattr(self, "output_names", None) or [])
        self.compiled_loss = compile_utils.CompileLoss(loss, loss_weights, output_names) if loss is not None else None
        if metrics is not None and not isinstance(metrics, (list, tuple, dict)):
            metrics = [metrics]
        if weighted_metrics is not None and not isinstance(weighted_metrics, (list, tuple, dict)):
            weighted_metrics = [weighted_metrics]
        self.compiled_metrics = compile_utils.CompileMetrics(metrics, weighted_metrics, output_names, loss=loss)
        self._loss_tracker = compile_utils.MeanTracker("loss")
        self.run_eagerly = run_eagerly
        self.steps_per_execution = validation.positive_int(steps_per_execution, "steps_per_execution")
        if jit_compile not in (True, False, "auto", None):
            raise ValueError(
                f"Invalid value for argument `jit_compile`. Expected True or False. "
                f"Received: jit_compile={jit_compile!r}"
            )
        self._jit_compile = jit_compile is True
        self._compiled_step = None
        self.train_function = self.test_function = self.predict_function = None
        self._auto_scale_loss = auto_scale_loss
        self._loss_scale = None
        self._labels_checked = False
        self._step_weights = self._constrained = None
        self.stop_training = False
        self.compiled = True

    def _assert_compiled(self, method):
        if not getattr(self, "compiled", False):
            raise ValueError(
                f"You must call `compile()` before using the model (`{method}()` was called). "
                "Call `model.compile(optimizer=..., loss=..., metrics=[...])` first."
            )

    # ------------------------------------------------------------------ metrics
    @property
    def metrics(self):
        """The metric objects whose results form the logs: the loss tracker first, then compiled metrics."""
        out = []
        if getattr(self, "_loss_tracker", None) is not None:
            out.append(self._loss_tracker)
        cl = getattr(self, "compiled_loss", None)
        if cl is not None:
            out.extend(t for t in getattr(cl, "trackers", []) if t is not None)
        cm = getattr(self, "compiled_metrics", None)
        if cm is not None:
            # Before the first batch the compiled metrics are not resolved yet ('accuracy' depends on the
            # label shapes): the container stands in, so a custom train_step that updates every metric
            # in `self.metrics` builds it, as with Keras 3's `compile_metrics`.
            out.extend(cm.metrics if cm.built else ([cm] if cm.has_metrics else []))
        if getattr(type(self), "_metric_attributes", 0):  # metrics assigned as attributes of the model or its
            seen = {id(m) for m in out}  # layers, which Keras lists too
            out.extend(m for m in super().metrics if id(m) not in seen and not seen.add(id(m)))
        return out

    @property
    def metrics_variables(self):
        """The state tensors of every metric in ``metrics``, in order."""
        return [v for m in self.metrics for v in m.variables]

    @property
    def run_eagerly(self):
        """Accepted for Keras compatibility: strided steps always run eagerly unless ``jit_compile`` is set."""
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value):
        self._run_eagerly = value

    @property
    def jit_compile(self):
        """Whether the training step is compiled with ``torch.compile``; settable (the step is recompiled)."""
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value):
        if value not in (True, False, "auto", None):
            raise ValueError(
                f"Invalid value for argument `jit_compile`. Expected True or False. Received: jit_compile={value!r}"
            )
        self._jit_compile = value is True
        self._compiled_step = None

    # ------------------------------------------------------------------ step functions (Keras-torch)
    def _make_step_function(self, attr, step_name, with_grad, force):
        """``self.<attr>`` as Keras's torch trainer builds it (once, again with ``force``): ``f([batch])`` calls
        ``self.<step_name>(batch)`` (gradients off unless ``with_grad``) and returns its logs."""
        if getattr(self, attr, None) is None or force:

            def one_step_on_data(data):
                """Runs a single step on a batch of data."""
                with contextlib.nullcontext() if with_grad else torch.no_grad():
                    return getattr(self, step_name)(data[0])

            setattr(self, attr, one_step_on_data)
        return getattr(self, attr)

    def make_train_function(self, force=False):
        """The function ``fit`` runs per step: ``f([batch])`` calls ``train_step(batch)`` and returns its logs.
        Kept in ``self.train_function``."""
        return self._make_step_function("train_function", "train_step", True, force)

    def make_test_function(self, force=False):
        """The evaluation step function: ``f([batch])`` runs ``test_step(batch)`` without gradients."""
        return self._make_step_function("test_function", "test_step", False, force)

    def make_predict_function(self, force=False):
        """The prediction step function: ``f([batch])`` runs ``predict_step(batch)`` without gradients."""
        return self._make_step_function("predict_function", "predict_step", False, force)

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """Current metric values, name -> 0-d device tensor, each computed when first read.

        A training step returns this mapping; most steps nobody reads it (the progress bar looks a
        few times per second), so the result kernels run only when a value is actually needed.
        """
        return MetricResults(self.metrics)

    # ------------------------------------------------------------------ steps
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Total loss: the compiled loss plus the model's regularization losses (`self.losses`)."""
        total = None
        if self.compiled_loss is not None and y is not None:
            total = self.compiled_loss(y, y_pred, sample_weight)
        extra = [l for l in (getattr(self, "losses", None) or []) if l is not None]
        if extra:
            reg = torch.stack([torch.as_tensor(l).float().reshape(()) for l in extra]).sum()
            total = reg if total is None else total + reg
        if total is None:
            if self.compiled_loss is not None and y is None:
                raise ValueError(
                    "The model was compiled with a loss, but no targets `y` were given. "
                    "Pass `y` to `fit()`/`evaluate()` or yield `(x, y)` batches."
                )
            first = tree.flatten(y_pred, none_is_leaf=False)[0]
            total = torch.zeros((), device=first.device)
        return total

    def _compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Calls `compute_loss`, passing `training` only where it is accepted.

        An override of `compute_loss` written before Keras 3.3 has no `training` argument (the
        knowledge-distillation example): Keras calls such overrides without it, and so do we.
        """
        if _accepts_training(self.compute_loss):
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics and returns all metric results (device tensors)."""
        if y is not None and self.compiled_metrics is not None:
            self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def _track_loss(self, loss, x):
        if isinstance(x, torch.Tensor):
            batch = int(x.shape[0])
        else:
            leaves = tree.flatten(x, none_is_leaf=False)
            batch = int(leaves[0].shape[0]) if leaves else 1
        self.__dict__["_last_batch_size"] = batch  # (a plain attribute: no Module.__setattr__ at every step)
        self._loss_tracker.update_state(loss, sample_weight=batch)
        per_output = getattr(self.compiled_loss, "last_per_output", None) if self.compiled_loss else None
        if per_output and self.compiled_loss.trackers:
            for tracker, value in zip(self.compiled_loss.trackers, per_output):
                if tracker is not None and value is not None:
                    tracker.update_state(value, sample_weight=batch)

    def _autocast(self):
        policy = config.dtype_policy()
        if policy == "float32":
            return contextlib.nullcontext()
        first = next(iter(self.trainable_weights), None)
        device_type = first.device.type if first is not None else config.get_device().type
        dtype = torch.bfloat16 if policy == "mixed_bfloat16" else torch.float16
        return torch.autocast(device_type=device_type, dtype=dtype)

    def _check_labels_once(self, y, y_pred):
        if self._labels_checked or y is None or self.compiled_loss is None:
            return
        losses = compile_utils._module("losses")
        check = getattr(losses, "check_labels", None)
        if check is None:
            return
        if not self.compiled_loss.built:
            self.compiled_loss.build(y, y_pred)
        y = compile_utils.align_to_outputs(y, y_pred, getattr(self.compiled_loss, "names", None))
        for loss, yt, yp in zip(self.compiled_loss.losses, compile_utils._flat(y), compile_utils._flat(y_pred, like=y)):
            if loss is not None:
                check(loss, yt, yp)
        self._labels_checked = True  # once per fit/evaluate call, on its first batch

    def _forward_loss(self, x, y, sample_weight):
        with self._autocast():
            y_pred = self(x, training=True)
            loss = self._compute_loss(x, y, y_pred, sample_weight, training=True)
        return loss, y_pred

    @staticmethod
    def _compile_mode(x):
        """'reduce-overhead' (CUDA graphs: one launch replays the whole forward and backward) on a GPU,
        where a small network is bound by kernel launches; the default mode elsewhere.
        ``STRIDED_COMPILE_MODE`` overrides it."""
        mode = os.environ.get("STRIDED_COMPILE_MODE")
        if mode:
            return None if mode == "default" else mode
        leaves = tree.flatten(x, none_is_leaf=False)
        on_cuda = bool(leaves) and getattr(leaves[0], "is_cuda", False)
        return "reduce-overhead" if on_cuda else None

    def _run_forward_loss(self, x, y, sample_weight):
        if self._jit_compile and self._compiled_step is not False:
            if self._compiled_step is None:
                self._compiled_step = torch.compile(self._forward_loss, mode=self._compile_mode(x))
            try:
                return self._compiled_step(x, y, sample_weight)
            except Exception as e:  # noqa: BLE001 - any compiler failure falls back to eager
                warnings.warn(
                    f"jit_compile=True: torch.compile failed ({type(e).__name__}: {e}). "
                    "Falling back to eager execution.",
                    stacklevel=4,
                )
                self._compiled_step = False
        with deferred_updates.deferred():  # BatchNormalization's moving statistics: a few kernels per step
            return self._forward_loss(x, y, sample_weight)

    def _trainable_step_weights(self):
        if self._step_weights is None:  # found once per fit (Keras also reads `trainable` only when training starts)
            self._step_weights = [w for w in self.trainable_weights if getattr(w, "requires_grad", False)]
        return self._step_weights

    def _training_forward(self, x, y, sample_weight):
        """(loss, y_pred) of a training step; under data parallelism through DistributedDataParallel."""
        if not self._distributed:
            return self._run_forward_loss(x, y, sample_weight)
        return self._data_parallel_step(x)(x, y, sample_weight)

    def _data_parallel_step(self, x):
        """The DDP-wrapped step, built on the first step of a fit (the model is built by then) and again
        only when the set of trainable weights changed (a layer frozen or unfrozen between fits)."""
        weights = self._trainable_step_weights()
        key = tuple(id(w) for w in weights)
        cached = self.__dict__.get("_ddp_step")
        if cached is not None and cached[0] == key:
            return cached[1]
        if not weights and not self.weights:  # a lazily built model: build it before DDP reads its weights
            with torch.no_grad():
                self(x, training=False)
            self._step_weights = None
            weights = self._trainable_step_weights()
            key = tuple(id(w) for w in weights)
        # Stored in __dict__, not as an attribute, so the wrapper is not registered as a child module of
        # the model it wraps (a reference cycle in `modules()`, and no part of the saved model).
        if cached is not None:
            # The old wrapper's autograd hooks must be gone before the new one registers its own.
            self.__dict__["_ddp_step"] = cached = None
            gc.collect()
        self.__dict__["_ddp_step"] = (key, distribute.wrap_training_step(self, self._run_forward_loss))
        return self.__dict__["_ddp_step"][1]

    def _apply_gradients(self, loss):
        weights = self._trainable_step_weights()
        if not weights:
            warnings.warn("The model does not have any trainable weights.", stacklevel=3)
            return
        optimizer = self.optimizer
        if hasattr(optimizer, "built") and not optimizer.built and hasattr(optimizer, "build"):
            optimizer.build(weights)
        if hasattr(optimizer, "scale_loss"):
            # Keras: `loss_scale_factor`, or a LossScaleOptimizer's dynamic scale (which then also unscales
            # the gradients and skips non-finite steps itself, instead of the built-in scaling below)
            loss = optimizer.scale_loss(loss)
        scaling = (
            config.dtype_policy() == "mixed_float16"
            and getattr(self, "_auto_scale_loss", True)
            and not hasattr(optimizer, "inner_optimizer")
        )
        if scaling:
            if self._loss_scale is None:
                self._loss_scale = DynamicLossScale()
            loss = loss * self._loss_scale.scale
        if self._distributed:
            grads = self._data_parallel_gradients(loss, weights)
        else:
            grads = torch.autograd.grad(loss, weights, allow_unused=True)
        pairs = [(g, w) for g, w in zip(grads, weights) if g is not None]
        if not pairs:
            return
        grads, weights = [p[0] for p in pairs], [p[1] for p in pairs]
        if scaling:
            # As Keras's LossScaleOptimizer: unscale, or skip the step on inf/NaN and halve the scale.
            grads = self._loss_scale.unscale([g.float() if g.dtype != torch.float32 else g for g in grads])
            if grads is None:
                return
        with torch.no_grad():
            # Under data parallelism DDP has already averaged these gradients over the ranks.
            optimizer._gradients_reduced = self._distributed
            optimizer._gradients_checked = not scaling  # (unscaled gradients may be float32 for float16 weights)
            try:
                optimizer.apply(list(grads), list(weights))
            finally:
                optimizer._gradients_reduced = optimizer._gradients_checked = False
            self._apply_weight_constraints()

    def _apply_weight_constraints(self):
        """Projects constrained weights (max_norm, non_neg...) after each update, on their Keras layout."""
        if self._constrained is None:
            self._constrained = [w for w in self.trainable_weights if getattr(w, "_keras_constraint", None) is not None]
        for w in self._constrained:
            view = keras_view(w)
            view.copy_(w._keras_constraint(view.clone()))

    def _data_parallel_gradients(self, loss, weights):
        """Global-batch mean gradient, all-reduced by DistributedDataParallel during the backward pass.

        DDP averages the ranks' gradients. Scaling each rank's loss by (its samples x ranks / global
        batch samples) turns that average into the mean over the global batch, also for an uneven last
        batch; the global batch size comes from the sharding, so no extra collective is needed.
        """
        local = self._last_batch_size
        share = local * distribute.world_size() / max(self._global_batch_size, 1)
        if local == 0:
            # An empty share of a tiny last batch: its mean loss is NaN; contribute zero gradients.
            loss = torch.nan_to_num(loss)
        for w in weights:
            w.grad = None
        (loss * share).backward()
        grads = [w.grad for w in weights]
        for w in weights:
            w.grad = None
        return grads

    def _reduce_metrics_across_ranks(self):
        """Sums every metric's state over the ranks, so each rank's logs are the global values."""
        if self._distributed:
            distribute.all_reduce_sum_([v for m in self.metrics for v in m.variables])

    def train_step(self, data):
        """One training step on a batch; returns the logs (metric results as device tensors).

        Override it to customise training, as in Keras: compute the loss with
        `self.compute_loss`, apply gradients with `self.optimizer.apply`, update
        metrics and return `{m.name: m.result() for m in self.metrics}`.
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        if not self._labels_checked and y is not None:
            # Labels are checked against the model's outputs once, before any loss runs on them, so a
            # label out of range is a clear ValueError and not an indexing error deep inside the loss.
            with torch.no_grad(), self._autocast():
                self._check_labels_once(y, self(x, training=False))
        loss, y_pred = self._training_forward(x, y, sample_weight)
        if self.compiled_loss is None and not loss.requires_grad:
            # Keras's message: without it torch fails later with "element 0 of tensors does not require grad".
            raise ValueError(
                "No loss to compute. Provide a `loss` argument in `compile()` (e.g. "
                "`model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')`), or add "
                "losses with `add_loss()`."
            )
        self._track_loss(loss, x)
        self._apply_gradients(loss)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """One evaluation step; returns the logs (device tensors)."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with self._autocast():
            y_pred = self(x, training=False)
            self._check_labels_once(y, y_pred)
            loss = self._compute_loss(x, y, y_pred, sample_weight, training=False)
        self._track_loss(loss, x)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """One prediction step; returns the model outputs for the batch."""
        x, _, _ = unpack_x_y_sample_weight(data)
        with self._autocast():
            return self(x, training=False)

    # ------------------------------------------------------------------ fit
    @distribute.collective("fit")
    @_loss_sources_cached
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
        **kwargs,
    ):
        """Trains the model for a fixed number of epochs.

        Args:
            x, y: input data and targets: NumPy arrays or tensors (lists/dicts for
                multi-input/output models), or `x` alone as a generator, DataLoader
                or Sequence yielding `(x, y)` / `(x, y, sample_weight)` batches.
            batch_size: samples per gradient update (default 32).
            epochs: index of the last epoch to train.
            verbose: 0 silent, 1 progress bar, 2 one line per epoch, "auto" = 1.
            callbacks: list of `keras.callbacks.Callback`.
            validation_split: fraction of the data (the LAST samples, taken
                before shuffling) held out for validation.
            validation_data: `(x_val, y_val)`, `(x_val, y_val, sw_val)` or a dataset.
            shuffle: shuffle the training samples before each epoch (`"batch"`
                shuffles whole batches).
            class_weight: dict `{class index: weight}` scaling the loss per sample.
            sample_weight: array of per-sample loss weights.
            initial_epoch: epoch at which to start (to resume a run).
            steps_per_epoch: batches per epoch (default: one pass over the data).
            validation_steps, validation_batch_size, validation_freq: validation
                batches, batch size, and how often (an int: every N epochs, or a
                list of epochs) to validate.

        Returns:
            A `History` object; `history.history` maps `loss`, metric names and
            their `val_` counterparts to lists of per-epoch Python floats.
        """
        if kwargs:
            _unexpected("fit", kwargs)
        self._assert_compiled("fit")
        verbose = _resolve_verbose(verbose)
        _check_x(x, "fit")
        epochs, initial_epoch, batch_size, validation_freq = _check_fit_arguments(**named_arguments(locals()))
        validation.number(validation_split, "validation_split")
        if not (0.0 <= float(validation_split) < 1.0):
            raise ValueError(
                f"Invalid value for argument `validation_split`. Expected a float in [0, 1). "
                f"Received: validation_split={validation_split}"
            )
        device = self._data_device()
        if device.type == "cuda":
            config.prepare_cuda_for_training()
        self._step_weights = self._constrained = None
        self._labels_checked = False
        self._setup_distribution()
        if not distribute.is_chief():
            verbose = 0
        if validation_split and validation_data is None:
            if not is_array_structure(x):
                raise ValueError(
                    "`validation_split` is only supported for Tensors or NumPy arrays, "
                    f"found following types in the input: {type(x).__name__}"
                )
            (x, y, sample_weight), validation_data = train_validation_split(
                (
                    _normalize_leaves(x),
                    _normalize_leaves(y) if y is not None else None,
                    _normalize_leaves(sample_weight) if sample_weight is not None else None,
                ),
                validation_split,
            )
            validation_data = tuple(v for v in validation_data if v is not None) if y is not None else validation_data
        train_adapter = make_adapter(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=shuffle,
            class_weight=class_weight,
            device=device,
            num_classes=self._class_count(),
        )
        val_adapter = None
        if validation_data is not None:
            if (
                isinstance(validation_data, (list, tuple))
                and len(validation_data) in (2, 3)
                and is_array_structure(validation_data[0])
            ):
                vx, vy, vsw = unpack_x_y_sample_weight(tuple(validation_data))
                val_adapter = make_adapter(
                    vx,
                    vy,
                    vsw,
                    batch_size=validation_batch_size or batch_size,
                    shuffle=False,
                    device=device,
                    arg_prefix="validation_data ",
                )
            else:
                val_adapter = make_adapter(
                    validation_data, batch_size=validation_batch_size or batch_size, device=device
                )
        train_iter = EpochIterator(train_adapter, steps_per_epoch, shard=self._distributed)
        val_iter = (
            EpochIterator(val_adapter, validation_steps, shard=self._distributed) if val_adapter is not None else None
        )

        callbacks = self._callback_list(callbacks, verbose, epochs, train_iter.num_batches, add_history=True)
        self.stop_training = False
        self._initial_epoch = None
        callbacks.on_train_begin()
        if self._initial_epoch is not None:  # BackupAndRestore resumed a run
            initial_epoch = self._initial_epoch
            self._initial_epoch = None
        training_logs = None
        epoch_logs = {}
        # Ctrl-C / Jupyter's "interrupt kernel": stop between two steps, so that the weights are those of the last
        # completed step (never half-updated) and `model.history` holds every completed epoch.
        with _InterruptBetweenSteps(self, callbacks, verbose) as interrupt:
            for epoch in range(int(initial_epoch), epochs):
                self.reset_metrics()
                callbacks.on_epoch_begin(epoch)
                logs = None
                group, unreported = self.steps_per_execution, None
                for step, batch in train_iter.enumerate_epoch():
                    if step % group == 0:
                        callbacks.on_train_batch_begin(step)
                    if train_iter.global_batch_size is not None:
                        self._global_batch_size = train_iter.global_batch_size
                    logs = self.train_step(batch)
                    unreported = step
                    if (step + 1) % group == 0:
                        # Keras (steps_per_execution): one callback per group, with the group's last step
                        callbacks.on_train_batch_end(step, LazyLogs(logs))
                        unreported = None
                    interrupt.check(mid_epoch=True)
                    if self.stop_training:
                        break
                if unreported is not None:  # a last, shorter group
                    callbacks.on_train_batch_end(unreported, LazyLogs(logs))
                if logs is None:
                    if train_iter.ran_out or train_adapter.num_batches == 0:
                        if train_adapter.num_batches == 0:
                            raise ValueError(
                                "Unexpected result of `train_function` (Empty logs). The training data "
                                "is empty: `x` has 0 samples."
                            )
                        break
                    raise ValueError(
                        "Unexpected result of `train_function` (Empty logs). This could be due to "
                        "issues in input data: the data yielded no batch."
                    )
                if self._distributed:
                    self._reduce_metrics_across_ranks()
                    logs = self.get_metrics_result()
                epoch_logs = to_python_logs(logs)
                if val_iter is not None and _should_eval(epoch, validation_freq):
                    val_logs = self._evaluate_loop(val_iter, callbacks)
                    epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                callbacks.on_epoch_end(epoch, epoch_logs)
                training_logs = epoch_logs
                interrupt.check()
                if self.stop_training or train_iter.ran_out:
                    break
        if epochs > 0 and hasattr(self.optimizer, "finalize_variable_values"):
            # Keras: with use_ema=True the weights take their moving averages when fit ends.
            with torch.no_grad():
                self.optimizer.finalize_variable_values(self._trainable_step_weights())
        callbacks.on_train_end(logs=training_logs)
        return self.history

    def _class_count(self):
        """Number of classes of a single-output model (2 for one unit), for checking ``class_weight``; else None."""
        try:
            outputs = self.outputs
        except (AttributeError, ValueError):
            return None
        if isinstance(outputs, (list, tuple)):
            if len(outputs) != 1:
                return None
            outputs = outputs[0]
        shape = getattr(outputs, "shape", None)
        if not shape or not isinstance(shape[-1], int):
            return None
        return 2 if shape[-1] == 1 else int(shape[-1])

    def _setup_distribution(self):
        """Under torchrun: join the process group once and start every rank from rank 0's weights."""
        distributed = distribute.is_distributed()
        if distributed and not self._distributed:
            with torch.no_grad():
                distribute.broadcast_parameters(self.weights)
        self._distributed = distributed

    def _data_device(self):
        first = next(iter(getattr(self, "weights", None) or []), None)
        return first.device if first is not None and first.device.type != "meta" else config.get_device()

    def _callback_list(self, callbacks, verbose, epochs, steps, add_history=False):
        if isinstance(callbacks, CallbackList):
            callbacks.set_model(self)
            callbacks.set_params({"verbose": verbose, "epochs": epochs, "steps": steps})
            return callbacks
        if callbacks and not distribute.is_chief():
            # Only rank 0 writes files (checkpoints, CSV logs, TensorBoard events).
            callbacks = [c for c in callbacks if not getattr(c, "_writes_files", False)]
        cb = CallbackList(
            callbacks,
            add_history=add_history,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=epochs,
            steps=steps,
        )
        return cb

    # ------------------------------------------------------------------ evaluate
    def _evaluate_loop(self, epoch_iter, callbacks):
        self.reset_metrics()
        callbacks.on_test_begin()
        logs = None
        with torch.no_grad():
            for step, batch in epoch_iter.enumerate_epoch():
                callbacks.on_test_batch_begin(step)
                logs = self.test_step(batch)
                callbacks.on_test_batch_end(step, LazyLogs(logs))
        if self._distributed:
            self._reduce_metrics_across_ranks()
            logs = None
        logs = to_python_logs(logs if logs is not None else self.get_metrics_result())
        callbacks.on_test_end(logs)
        return logs

    @distribute.collective("evaluate")
    @_loss_sources_cached
    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
        **kwargs,
    ):
        """Returns the loss and metric values of the model on the given data.

        Args:
            x, y, sample_weight: as in `fit`.
            batch_size: samples per batch (default 32).
            verbose: 0 silent, 1 progress bar, 2 a single line.
            steps: number of batches to evaluate (default: all).
            callbacks: list of callbacks.
            return_dict: return `{name: value}` instead of a list.

        Returns:
            The scalar loss if the model has no metrics, else the list
            `[loss, metric1, ...]` (Python floats), or a dict with `return_dict=True`.
        """
        if kwargs:
            _unexpected("evaluate", kwargs)
        self._assert_compiled("evaluate")
        verbose = _resolve_verbose(verbose)
        _check_x(x, "evaluate")
        batch_size = validation.positive_int(batch_size, "batch_size", allow_none=True)
        _check_steps(steps, "steps")
        _check_callbacks(callbacks)
        self._setup_distribution()
        self._labels_checked = False
        if not distribute.is_chief():
            verbose = 0
        adapter = make_adapter(x, y, sample_weight, batch_size=batch_size, shuffle=False, device=self._data_device())
        epoch_iter = EpochIterator(adapter, steps, shard=self._distributed)
        callbacks = self._callback_list(callbacks, verbose, 1, epoch_iter.num_batches)
        logs = self._evaluate_loop(epoch_iter, callbacks)
        if return_dict:
            return logs
        return self._flatten_in_order(logs)

    def _flatten_in_order(self, logs):
        order = [n for n in self.metrics_names if n in logs] + [k for k in logs if k not in self.metrics_names]
        values = [logs[k] for k in order]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------ predict
    @distribute.collective("predict")
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, **kwargs):
        """Generates output predictions for the input samples.

        Args:
            x: input samples (arrays/tensors, or a dataset yielding `x` or `(x, ...)` batches).
            batch_size: samples per batch (default 32).
            verbose: 0 silent, 1 progress bar, 2 a single line.
            steps: number of batches (default: all).
            callbacks: list of callbacks.

        Returns:
            NumPy array(s) of predictions (a list/dict for multi-output models).
        """
        if kwargs:
            _unexpected("predict", kwargs)
        verbose = _resolve_verbose(verbose)
        _check_x(x, "predict")
        batch_size = validation.positive_int(batch_size, "batch_size", allow_none=True)
        _check_steps(steps, "steps")
        _check_callbacks(callbacks)
        self._setup_distribution()
        if not distribute.is_chief():
            verbose = 0
        adapter = make_adapter(
            x, None, None, batch_size=batch_size, shuffle=False, device=self._data_device(), check_nan=False
        )
        epoch_iter = EpochIterator(adapter, steps, shard=self._distributed)
        callbacks = self._callback_list(callbacks, verbose, 1, epoch_iter.num_batches)
        outputs, global_sizes = [], []
        callbacks.on_predict_begin()
        # inference_mode is faster, but tensors created under it (weights of a model built lazily
        # here) could never be trained afterwards, so an unbuilt model predicts under no_grad.
        mode = torch.inference_mode if getattr(self, "built", False) else torch.no_grad
        with mode():
            for step, batch in epoch_iter.enumerate_epoch():
                callbacks.on_predict_batch_begin(step)
                out = self.predict_step(batch)
                outputs.append(out)
                global_sizes.append(epoch_iter.global_batch_size)
                callbacks.on_predict_batch_end(step, {"outputs": out})
        callbacks.on_predict_end()
        if not outputs:
            raise ValueError("`predict()` received no data: the input yielded no batch.")
        if epoch_iter.shard:
            # Each rank predicted its share of every batch: every rank returns all rows, in input order.
            structure = outputs[0]
            leaves = [
                torch.cat([o.detach() for o in leaf])
                for leaf in zip(*[tree.flatten(o, none_is_leaf=False) for o in outputs])
            ]
            outputs = [
                tree.pack_sequence_as(structure, distribute.gather_batches(leaves, global_sizes), none_is_leaf=False)
            ]
        return _concat_to_numpy(outputs)

    # ------------------------------------------------------------------ single batches
    def _single_batch(self, x, y, sample_weight, class_weight=None):
        adapter = make_adapter(
            x,
            y,
            sample_weight,
            batch_size=max(_count(x), 1),
            shuffle=False,
            class_weight=class_weight,
            device=self._data_device(),
        )
        return next(iter(adapter.make_iterator()))

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """Runs a single gradient update on one batch; returns the loss/metrics of this batch.

        As in Keras 3, the metrics are reset first, so the values are those of this batch alone (not a
        running mean over calls): custom loops and GANs print and act on them.
        """
        self._assert_compiled("train_on_batch")
        self._setup_distribution()
        batch = self._single_batch(x, y, sample_weight, class_weight)
        self.reset_metrics()
        if self._distributed:
            # The batch is the global one, as in fit: each rank trains on its share of it.
            batch, self._global_batch_size = _local_share(batch)
        logs = to_python_logs(self.train_step(batch))
        return logs if return_dict else self._flatten_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Evaluates the model on one batch; returns the loss/metrics."""
        self._assert_compiled("test_on_batch")
        self.reset_metrics()
        with torch.no_grad():
            logs = to_python_logs(self.test_step(self._single_batch(x, y, sample_weight)))
        return logs if return_dict else self._flatten_in_order(logs)

    def predict_on_batch(self, x):
        """Returns the predictions for one batch as NumPy."""
        with torch.no_grad():
            out = self.predict_step(self._single_batch(x, None, None))
        return _concat_to_numpy([out])


def _accepts_training(method):
    """Whether a (bound) `compute_loss` takes a `training` argument; cached per function."""
    func = getattr(method, "__func__", method)
    cached = _SIGNATURES.get(func)
    if cached is None:
        try:
            params = inspect.signature(method).parameters.values()
        except (TypeError, ValueError):
            params = ()
        cached = any(p.name == "training" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
        _SIGNATURES[func] = cached
    return cached


_SIGNATURES = {}  # compute_loss function -> takes `training` (a plain dict: torch.compile traces through it)


def _count(x):
    leaves = tree.flatten(_normalize_leaves(x), none_is_leaf=False)
    return int(leaves[0].shape[0]) if leaves and leaves[0].ndim else 1


def _should_eval(epoch, validation_freq):
    epoch = epoch + 1
    if isinstance(validation_freq, int):
        return epoch % validation_freq == 0
    if isinstance(validation_freq, (list, tuple)):
        return epoch in validation_freq
    raise ValueError(
        "Expected `validation_freq` to be a list or int. "
        f"Received: validation_freq={validation_freq} of the type {type(validation_freq)}."
    )


def _concat_to_numpy(outputs):
    first = outputs[0]
    if isinstance(first, dict):
        return {k: _concat_to_numpy([o[k] for o in outputs]) for k in first}
    if isinstance(first, (list, tuple)):
        return [_concat_to_numpy([o[i] for o in outputs]) for i in range(len(first))]
    t = torch.cat([o.detach() for o in outputs], dim=0) if len(outputs) > 1 else outputs[0].detach()
    if t.dtype == torch.bfloat16 or t.dtype == torch.float16:
        t = t.to(config.torch_dtype())
    return t.cpu().numpy()
