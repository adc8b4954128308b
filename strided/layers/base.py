"""The Layer base class: a ``torch.nn.Module`` with the Keras layer API.

Keras semantics kept here: lazy ``build(input_shape)`` on first call, per-process unique names
(``conv2d``, ``conv2d_1``...), ``add_weight``, ``trainable``, weights in Keras order and Keras layout
through ``get_weights``/``set_weights``, ``get_config``/``from_config``, activity and weight
regularization losses, and ``__call__`` on NumPy arrays, torch tensors and symbolic tensors.

Weights are stored in torch's native layout (a conv kernel is ``(out, in, *k)``); each weight
remembers the permutation back to its Keras layout (``(*k, in, out)``), applied by get/set_weights.
"""

import functools
import inspect
import numbers
import threading
import warnings

import numpy as np
import torch
from torch.utils import _pytree as pytree

from strided import config
from strided.backend import keras_tensor as symbolic
from strided.backend import remat as _remat
from strided.backend.keras_tensor import KerasTensor, Node
from strided.backend.name_scope import current_scope_stack, name_scope_of, to_snake_case, unique_name  # noqa: F401
from strided.backend.variable import _VARIABLE_AGGREGATIONS, Variable, keras_shape, keras_view, stored_view
from strided.utils.registry import FromConfig
from strided.saving import serialization_lib
from strided import activations, regularizers
from strided import constraints, initializers
from strided.layers import layer_api

# Keyword arguments every Keras layer accepts besides its own.
# Arguments seen in tutorials on the wrong layer, with a hint that says what to write instead.
_MISPLACED_HINTS = {
    "padding": "`padding` belongs to convolution and pooling layers (Conv2D(..., padding='same')), and goes "
    "inside the layer's parentheses, not in `model.add(...)`.",
    "epochs": "`epochs` is an argument of `model.fit()`.",
}


def is_array_like(x):
    return isinstance(x, (np.ndarray, np.generic, list, tuple, int, float)) and not isinstance(x, bool)


def is_plain_data(x):
    """NumPy data or a ``strided.constant`` (seed 003's ``tf.constant``): values a student wants to look at."""
    return is_array_like(x) or getattr(x, "_strided_constant", False)


def to_tensor(x, dtype=None, device=None):
    """NumPy/list/scalar -> torch tensor on the layer device; floats become floatx, ints stay ints."""
    if isinstance(x, torch.Tensor):
        if getattr(x, "_strided_constant", False) and x.is_floating_point():
            return x.to(config.torch_dtype(dtype))  # tf.constant(...) data follows floatx like NumPy input
        return x
    arr = np.asarray(x)
    if dtype is None:
        dtype = config.floatx() if arr.dtype.kind in "fc" or arr.dtype.kind == "u" and arr.dtype.itemsize == 1 else None
    t = (
        torch.from_numpy(np.ascontiguousarray(arr).reshape(arr.shape))
        if arr.dtype != object
        else torch.tensor(arr.tolist())
    )
    if dtype is not None:
        t = t.to(config.torch_dtype(dtype))
    elif t.dtype in (torch.int32, torch.int16, torch.int8, torch.uint8):
        t = t.long()
    return t.to(device or config.get_device())


def _shape_of(x):
    if isinstance(x, (torch.Tensor, KerasTensor)):
        return tuple(x.shape)
    return tuple(np.shape(x))


def _channels_last_copy(value):
    """``value`` (out, in, *spatial) with channels-last strides, written out explicitly.

    ``contiguous(memory_format=channels_last)`` keeps the default strides when ``in`` is 1 (both layouts
    are then "contiguous"), yet the kernel's gradient comes back with channels-last strides; a
    mismatch that makes DistributedDataParallel copy that gradient at every step.
    """
    out, channels, *spatial = value.shape
    strides, step = [], channels
    for size in reversed(spatial):
        strides.insert(0, step)
        step *= size
    laid_out = torch.empty_strided(value.shape, (step, 1, *strides), dtype=value.dtype)
    return laid_out.copy_(value)


def _in_name_scope(build):
    """Wraps a ``build`` method so that weights made inside get the layer's name in their path."""

    @functools.wraps(build)
    def scoped_build(self, *args, **kwargs):
        stack = current_scope_stack()
        if stack and stack[-1][0] is self:  # a subclass's build calling super().build: one scope
            return build(self, *args, **kwargs)
        stack.append((self, self.name))
        self.__dict__["_keras_layer_path"] = "/".join(name for _, name in stack)  # Keras's `layer.path`
        if args and "_keras_build_shape" not in self.__dict__:
            self.__dict__["_keras_build_shape"] = args[0]  # for get_build_config
        try:
            out = build(self, *args, **kwargs)
        finally:
            stack.pop()
        self.built = True  # as Keras's build wrapper: a build that returns has built the layer
        return out

    return scoped_build


# The trainer's own metric attributes, which Model.metrics lists itself.
# Keras clears the `add_loss` losses of a layer and its sublayers at the start of each outermost call, so
# `layer.losses` holds the losses of the latest call only. `_CALL_DEPTH.value` counts the eager calls in
# progress in this thread (a dataset's map threads call augmentation layers while the trainer's thread runs
# the model); `_LOSS_HOLDERS` names the layers holding losses, so a call clears (walks the sublayers) only when
# there is something to clear.
_LOSS_HOLDERS = set()  # id() of the layers holding `add_loss` losses (set operations are atomic across threads)
_CALL_DEPTH = threading.local()

_TRAINER_METRIC_ATTRIBUTES = frozenset({"_loss_tracker", "compiled_metrics", "compiled_loss"})


def _config_list(value):
    """A tuple or an array as the list a Keras config holds (other values as they are)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    return list(value) if isinstance(value, tuple) else value


class Layer(torch.nn.Module, FromConfig):
    """Base class of all layers.

    Args:
        trainable: whether the layer's weights are updated in training.
        name: layer name; unique default derived from the class name (``conv2d``, ``conv2d_1``...).
        dtype: compute and weight dtype name (default ``strided.config.floatx()``).
        input_shape: shape of one sample, e.g. ``(28, 28, 1)``; lets Sequential know shapes before data.
        batch_size: fixed batch size for the input shape (rarely needed).
        activity_regularizer: regularizer applied to the layer output, added to ``layer.losses``.

    Input shape:
        Whatever ``call`` accepts; ``build(input_shape)`` creates the weights on the first call.

    Output shape:
        Whatever ``call`` returns; ``compute_output_shape`` gives it without running the layer.

    Example:

    >>> class Scale(keras.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
    ...     def call(self, inputs):
    ...         return inputs * self.w
    >>> layer = Scale()
    >>> layer(np.array([[1.0, 2.0]], dtype="float32")).tolist()
    [[1.0, 2.0]]
    >>> [w.shape for w in layer.get_weights()]
    [(2,)]
    """

    # `training` when a user calls the layer directly without saying (fit/evaluate/predict always say).
    # Keras's random augmentation layers augment on a direct call, so users can look at the result.
    _direct_call_training = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:  # as Keras, `build` runs in the layer's name scope (variable paths)
            cls.build = _in_name_scope(cls.__dict__["build"])
        serialization_lib.register_layer_class(cls)  # configs find the class by its Keras name

    def __init__(self, trainable=True, name=None, dtype=None, activity_regularizer=None, **kwargs):
        super().__init__()
        unknown = [k for k in kwargs if k not in serialization_lib.BASE_LAYER_KWARGS]
        if unknown:
            hints = " ".join(_MISPLACED_HINTS[k] for k in unknown if k in _MISPLACED_HINTS)
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                f"{ {k: kwargs[k] for k in unknown} }." + (f" {hints}" if hints else "")
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Invalid type for argument `name`. Expected a string. Received name={name!r}.")
        self.name = name or unique_name(self._default_name())
        self._trainable = bool(trainable)
        self.dtype = getattr(dtype, "name", dtype) or config.floatx()
        self.built = False
        self._tracked_weights = []  # creation order (Keras order)
        self._inbound_nodes = []
        self._losses = []  # `add_loss` and activity regularization losses of the latest outermost call
        self.activity_regularizer = (
            regularizers.get(activity_regularizer, "activity_regularizer") if activity_regularizer is not None else None
        )
        batch_input_shape = kwargs.get("batch_input_shape")
        input_shape = kwargs.get("input_shape")
        if input_shape is None and kwargs.get("input_dim") is not None:
            input_shape = (kwargs["input_dim"],)
        if batch_input_shape is None and input_shape is not None:
            if isinstance(input_shape, int):
                input_shape = (input_shape,)
            batch_input_shape = (kwargs.get("batch_size"),) + tuple(input_shape)
        self._batch_input_shape = tuple(batch_input_shape) if batch_input_shape is not None else None
        self._initial_weights = kwargs.get("weights")
        if self._initial_weights is not None and not isinstance(self._initial_weights, (list, tuple)):
            raise TypeError(
                "Invalid type for argument `weights`. Expected a list of arrays (as `get_weights()` "
                f"returns). Received weights={self._initial_weights!r}."
            )
        self._call_takes_training = "training" in self._call_params()
        self._call_takes_mask = "mask" in self._call_params()
        # A layer with its own compute_mask may make a mask from unmasked inputs (Embedding, Masking).
        self._own_compute_mask = type(self).compute_mask is not Layer.compute_mask
        if _remat.get_current_remat_mode() is not None:  # made inside a RematScope
            _remat.attach(self)

    # ------------------------------------------------------------------ naming, config
    @classmethod
    def _default_name(cls):
        return to_snake_case(cls.__name__)

    def _call_params(self):
        return inspect.signature(self.call).parameters

    # Among the `_config_keys`, those a layer holds as tuples or arrays (ranges, windows) and Keras's config
    # gives as lists; a family of layers names them once.
    _config_list_keys = ()

    def get_config(self):
        """The constructor arguments that recreate this layer (Keras ``get_config``): the base ones, then the
        ``_config_keys`` of the class and of its bases."""
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            cfg["batch_input_shape"] = self._batch_input_shape
        cfg.update(self._keys_config())
        for key in self._config_list_keys:
            if key in cfg:
                cfg[key] = _config_list(cfg[key])
        return cfg

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    # ------------------------------------------------------------------ weights
    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self._flatten_layers(include_self=False):
            layer._trainable = bool(value)
        for w in self._all_own_weights():
            w.requires_grad_(bool(value) and w._keras_trainable and not getattr(w, "_keras_frozen", False))

    def add_weight(
        self,
        shape=None,
        initializer="glorot_uniform",
        dtype=None,
        trainable=True,
        regularizer=None,
        constraint=None,
        name=None,
        torch_layout=None,
        memory_format=None,
        autocast=True,
        aggregation="none",
        overwrite_with_gradient=False,
    ):
        """Creates a weight of Keras-layout ``shape`` and tracks it.

        Args:
            shape: the weight's shape in Keras layout (what ``get_weights`` returns).
            initializer: name or initializer object (called on the Keras-layout shape).
            trainable: whether the optimizer updates it.
            regularizer, constraint: names or objects, as in Keras.
            torch_layout: optional permutation of the Keras axes giving the stored layout, e.g.
                ``(3, 2, 0, 1)`` stores a ``(kh, kw, in, out)`` conv kernel as torch's ``(out, in, kh, kw)``.
            memory_format: ``'channels_last'`` stores a 4D/5D conv kernel channels-last in memory, the
                layout cuDNN and oneDNN use with channels_last activations: the conv then needs no weight
                copy each step, and the gradients and optimizer slots share the parameter's strides, so
                the optimizer's multi-tensor (foreach) kernels take their fast path.
            autocast: accepted for Keras compatibility (the trainer applies mixed precision).
            aggregation: the variable's ``aggregation`` annotation (``'none'``, ``'mean'``, ``'sum'``...).
            overwrite_with_gradient: optimizers replace the weight by its gradient (``Variable``).
        """
        shape = tuple(int(s) for s in (shape or ()))
        if initializer is None:  # Keras: glorot_uniform for float weights, zeros for the others
            initializer = "glorot_uniform" if "float" in str(dtype or self.dtype) else "zeros"
        init = initializers.get(initializer, "initializer")
        value = init(shape, dtype=dtype or self.dtype)
        value = torch.as_tensor(value, dtype=config.torch_dtype(dtype or self.dtype))
        if torch_layout is not None:
            value = value.permute(*torch_layout)
        value = value.contiguous()
        if memory_format == "channels_last" and value.dim() in (4, 5):
            value = _channels_last_copy(value)
        param = Variable(value.to(config.get_device()), requires_grad=bool(trainable) and self._trainable)
        param._keras_trainable = bool(trainable)
        param._keras_name = name or f"variable_{len(self._tracked_weights)}"
        # Keras's variable path: the name scopes open when the weight is made (a model building its
        # layers opens its own: 'sequential/dense/kernel'), else the layer's name ('dense/kernel').
        scopes = [name for _, name in current_scope_stack()] or [self.name]
        param._keras_path = "/".join(scopes + [param._keras_name])
        param._keras_layout = None if torch_layout is None else tuple(int(i) for i in np.argsort(torch_layout))
        param._keras_regularizer = regularizers.get(regularizer) if regularizer is not None else None
        param._keras_constraint = constraints.get(constraint) if constraint is not None else None
        if aggregation != "none":
            if aggregation not in _VARIABLE_AGGREGATIONS:
                raise ValueError(
                    "Invalid value for argument `aggregation`. Expected one of `None`, `'none'`, "
                    f"`'mean'`, `'sum'`, `'only_first_replica'`. Received: aggregation={aggregation}"
                )
            param._keras_aggregation = aggregation or "none"
        if overwrite_with_gradient:
            param.overwrite_with_gradient = overwrite_with_gradient
        attr = param._keras_name
        while attr in self._parameters or hasattr(type(self), attr):
            attr = "_" + attr
        self.register_parameter(attr, param)
        self._tracked_weights.append(param)
        return param

    def _all_own_weights(self):
        return list(self._tracked_weights)

    def _flatten_layers(self, include_self=True):
        """This layer and its sublayers, depth first, each once."""
        seen, out = set(), []

        def visit(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for child in layer._sublayers():
                visit(child)

        if include_self:
            visit(self)
        else:
            seen.add(id(self))
            for child in self._sublayers():
                visit(child)
        return out

    def _sublayers(self):
        """Direct sublayers, in the order they were assigned."""
        out = []
        for module in self._modules.values():
            if isinstance(module, Layer):
                out.append(module)
            elif isinstance(module, (torch.nn.ModuleList, torch.nn.Sequential)):
                out.extend(m for m in module if isinstance(m, Layer))
        return out

    @property
    def weights(self):
        """All weights in Keras order: own trainable, own non-trainable, then sublayers'."""
        own = self._all_own_weights()
        return self._with_sublayers(
            [w for w in own if w._keras_trainable] + [w for w in own if not w._keras_trainable], "weights"
        )

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        # (a frozen weight, such as a kernel under LoRA, keeps its place in `weights` but is not trained)
        own = [w for w in self._all_own_weights() if w._keras_trainable and not getattr(w, "_keras_frozen", False)]
        return self._with_sublayers(own, "trainable_weights")

    def _with_sublayers(self, own, attr):
        """``own`` followed by the sublayers' ``attr`` (``weights``...), a weight shared by several only once."""
        seen = {id(w) for w in own}
        for layer in self._sublayers():
            for w in getattr(layer, attr):
                if id(w) not in seen:
                    seen.add(id(w))
                    own.append(w)
        return own

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def variables(self):
        return self.weights

    def count_params(self):
        """Total number of scalars in the layer's weights."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(w.numel() for w in self.weights))

    @staticmethod
    def _to_keras_layout(w):
        return keras_view(w, w.detach())

    def get_weights(self):
        """The weights as NumPy arrays in Keras layout (conv kernels ``(kh, kw, in, out)``)."""
        out = []
        for w in self.weights:
            out.append(keras_view(w, w.detach()).cpu().numpy().copy())
        return out

    def set_weights(self, weights):
        """Sets the weights from NumPy arrays in Keras layout (the inverse of ``get_weights``)."""
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of length "
                f"{len(weights)}, but the layer was expecting {len(params)} weights"
                + ("" if self.built else " (the layer is not built yet: call it on data or `build()` it first)")
                + f". Expected shapes: {[tuple(self._keras_shape(p)) for p in params]}."
            )
        converted = []
        for p, value in zip(params, weights):
            arr = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
            expected = tuple(self._keras_shape(p))
            if arr.shape != expected:
                raise ValueError(
                    f"Layer '{self.name}' weight '{p._keras_name}' has shape {expected}, but the array "
                    f"given has shape {arr.shape}."
                )
            if arr.dtype.kind not in "biuf":
                raise TypeError(
                    f"Layer '{self.name}' weight '{p._keras_name}' takes numbers, but the array given has "
                    f"dtype {arr.dtype} (e.g. {arr.reshape(-1)[:1].tolist()})."
                )
            t = torch.as_tensor(arr.copy(order="C"), dtype=p.dtype)  # (ascontiguousarray makes 0-d arrays 1-d)
            converted.append(stored_view(p, t))
        with torch.no_grad():
            for p, t in zip(params, converted):
                p.copy_(t)

    @staticmethod
    def _keras_shape(p):
        return keras_shape(p)

    # ------------------------------------------------------------------ losses and constraints
    @property
    def losses(self):
        """Activity losses of the latest call plus weight regularization losses, as scalar tensors."""
        sources = self.__dict__.get("_loss_sources")
        if sources is None:
            sources = self._find_loss_sources()
            if self.__dict__.get("_cache_loss_sources") and self.built:
                self.__dict__["_loss_sources"] = sources
        out = []
        for layer, regularized in sources:
            if layer._losses:
                out.extend(layer._losses)
            for w in regularized:
                if w.requires_grad:
                    out.append(w._keras_regularizer(self._to_keras_layout_live(w)))
        return out

    def _find_loss_sources(self):
        """``(layer, its regularized weights)`` for this layer and its sublayers, in ``losses`` order.

        Found at each ``losses`` read, or once per ``fit``/``evaluate`` while the trainer sets
        ``_cache_loss_sources`` (the layer structure does not change during a training step)."""
        return [
            (layer, [w for w in layer._all_own_weights() if w._keras_regularizer is not None])
            for layer in self._flatten_layers()
        ]

    @staticmethod
    def _to_keras_layout_live(w):
        return keras_view(w)

    def add_loss(self, loss):
        """Adds a loss (a scalar tensor, or a list of them) to ``layer.losses``, as Keras's ``add_loss``.

        Call it inside ``call``: the losses of a layer and of its sublayers are cleared at the start of
        each outermost call, so ``losses`` holds those of the latest call, and ``fit`` adds them to the
        compiled loss. Losses met while only shapes are inferred (a symbolic call, on the meta device)
        are not recorded.
        """
        if isinstance(loss, (list, tuple)):
            for item in loss:
                self.add_loss(item)
            return
        if isinstance(loss, torch.Tensor) and loss.is_meta:
            return
        _LOSS_HOLDERS.add(id(self))
        self._losses.append(loss)

    def _clear_losses(self):
        """Forgets the ``add_loss`` losses of this layer and its sublayers (Keras's ``_clear_losses``)."""
        if not _LOSS_HOLDERS:
            return
        for layer in self._flatten_layers():
            if layer._losses:
                layer._losses = []
                _LOSS_HOLDERS.discard(id(layer))

    def _apply_constraints(self):
        """Projects weights with constraints after an optimizer step (called by the trainer)."""
        with torch.no_grad():
            for layer in self._flatten_layers():
                for w in layer._all_own_weights():
                    if w._keras_constraint is not None:
                        keras_view = self._to_keras_layout_live(w)
                        keras_view.copy_(w._keras_constraint(keras_view.clone()))

    # ------------------------------------------------------------------ building
    def build(self, input_shape):
        """Creates the weights for ``input_shape``; subclasses override and call ``super().build``."""
        self.built = True

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape``, inferred by a shape-only (meta device) run of ``call``."""
        specs = pytree.tree_map(
            lambda s: KerasTensor(s, self.dtype),
            input_shape,
            is_leaf=lambda s: isinstance(s, tuple) and all(d is None or isinstance(d, int) for d in s),
        )
        self._maybe_build(input_shape)
        out = symbolic.infer_outputs(lambda *a: self._invoke(a[0], False, {}), (specs,), {})
        return pytree.tree_map(
            lambda pair: pair[0], out, is_leaf=lambda p: isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], str)
        )

    def _maybe_build(self, input_shape):
        if self.built:
            return
        self._check_build_shape(input_shape)
        self.__dict__["_keras_build_shape"] = input_shape
        self.build(input_shape)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _check_build_shape(self, input_shape):
        """Hook for input checks before build (rank, channels); raises a ValueError naming the layer."""

    def check_input(self, shape):
        """Hook for per-call input checks; subclasses raise ValueError naming the layer and shapes."""

    # ------------------------------------------------------------------ calling
    def call(self, inputs, *args, **kwargs):
        return inputs

    def forward(self, *args, **kwargs):  # so torch tools (torch.compile, hooks) see the Keras call
        return self.call(*args, **kwargs)

    def _invoke(self, inputs, training, kwargs):
        """Runs ``call`` with the arguments its signature takes; records activity losses; carries masks.

        Masks follow Keras 3's ``Layer.__call__``: a ``call`` taking ``mask`` gets the mask attached to
        its input (a list of masks for a list input) when none is passed, and the outputs of a layer
        that ``supports_masking`` get ``compute_mask(inputs, previous_mask)`` attached.
        """
        if isinstance(inputs, torch.Tensor):
            mask = getattr(inputs, "_keras_mask", None)
        elif isinstance(inputs, (list, tuple, dict)):
            mask = _input_masks(inputs)
        else:
            mask = None
        explicit = kwargs.get("mask") if kwargs else None
        if kwargs and any(_is_tensor_argument(v) for v in kwargs.values()):
            kwargs = self._named_masks(inputs, mask, kwargs)
        elif mask is not None and explicit is None and self._call_takes_mask:
            kwargs = dict(kwargs, mask=mask)
        if not self._call_takes_mask and "mask" in kwargs:
            kwargs = dict(kwargs)
            del kwargs["mask"]
        if self._call_takes_training and "training" not in kwargs:
            kwargs = dict(kwargs, training=bool(training))
        outputs = self.call(inputs, **kwargs)
        if self.activity_regularizer is not None:
            for o in pytree.tree_leaves(outputs):
                if isinstance(o, torch.Tensor):
                    self.add_loss(self.activity_regularizer(o) / o.shape[0])
        previous_mask = explicit if explicit is not None else mask
        if previous_mask is not None or self._own_compute_mask:
            self._set_mask_metadata(inputs, outputs, previous_mask)
        return outputs

    def _named_masks(self, inputs, mask, kwargs):
        """Keras's rule for a call with several tensor arguments: ``<argument>_mask`` parameters left at None
        get the mask of ``<argument>`` (``query_mask`` from ``query``...); ``mask`` itself is not filled in."""
        names = self.__dict__.get("_mask_parameters")
        if names is None:
            params = list(self._call_params())
            names = self._mask_parameters = (
                params[0] if params else None,
                frozenset(p for p in params if p.endswith("_mask")),
            )
        first, mask_params = names
        if not mask_params:
            return kwargs
        kwargs = dict(kwargs)
        arguments = [(first, inputs, mask)] + [(k, v, None) for k, v in list(kwargs.items()) if _is_tensor_argument(v)]
        for name, value, value_mask in arguments:
            key = f"{name}_mask"
            if key in mask_params and kwargs.get(key) is None:
                if value_mask is None:
                    value_mask = (
                        getattr(value, "_keras_mask", None)
                        if isinstance(value, torch.Tensor)
                        else _input_masks(value)
                        if isinstance(value, (list, tuple, dict))
                        else None
                    )
                if value_mask is not None:
                    kwargs[key] = value_mask
        return kwargs

    @property
    def supports_masking(self):
        """Whether the layer carries masks to its outputs through ``compute_mask`` (Keras's property).

        True by default for a layer that overrides ``compute_mask``; settable. A layer that does not support
        masking drops the mask of its input (with a warning, once).
        """
        value = self.__dict__.get("_supports_masking")
        if value is None:
            return type(self).compute_mask is not Layer.compute_mask
        return value

    @supports_masking.setter
    def supports_masking(self, value):
        self.__dict__["_supports_masking"] = bool(value)

    def compute_mask(self, inputs, previous_mask=None):
        """The mask of the outputs for ``inputs`` whose incoming mask is ``previous_mask`` (Keras's default:
        ``previous_mask`` itself). Layers that change the time axis or drop it override this."""
        return previous_mask

    def _set_mask_metadata(self, inputs, outputs, previous_mask):
        if previous_mask is None and isinstance(inputs, (list, tuple, dict)):
            previous_mask = _input_masks(inputs, keep_none=True)
        if not self.supports_masking:
            if (
                previous_mask is not None
                and not self.__dict__.get("_mask_warning_shown")
                and any(m is not None for m in pytree.tree_leaves(previous_mask))
            ):
                self.__dict__["_mask_warning_shown"] = True
                warnings.warn(
                    f"Layer '{self.name}' (of type {type(self).__name__}) was passed an input with a mask "
                    "attached to it. However, this layer does not support masking and will therefore "
                    "destroy the mask information. Downstream layers will not see the mask.",
                    stacklevel=2,
                )
            return
        flat_outputs = pytree.tree_leaves(outputs)
        if all(getattr(t, "_keras_mask", None) is not None for t in flat_outputs):
            return
        meta = any(isinstance(t, torch.Tensor) and t.is_meta for t in flat_outputs)
        try:
            output_masks = self.compute_mask(inputs, previous_mask)
        except Exception:
            if not meta:
                raise
            return  # a mask that needs values: known once the model runs on data
        if output_masks is None:
            return
        for tensor, m in zip(flat_outputs, pytree.tree_leaves(output_masks)):
            if (
                m is not None
                and isinstance(tensor, torch.Tensor)
                and (not tensor.is_meta or (isinstance(m, torch.Tensor) and m.is_meta))
                and getattr(tensor, "_keras_mask", None) is None
            ):
                tensor._keras_mask = m

    def _call_inputs(self, args, kwargs, missing=" was called without inputs."):
        """The inputs of a call ``layer(*args, **kwargs)``: the first positional argument (or ``inputs=``); the
        other positionals are moved into ``kwargs``. ``missing`` ends the error when there is no input."""
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f"Layer '{self.name}'{missing}")
            args = (kwargs.pop("inputs"),)
        if len(args) > 1:
            # Keras layers take one positional input; more positionals fill the parameters after the first
            # (`call(self, targets, logits)` called as `layer(targets, logits)`, `training` in some calls).
            params = [
                name
                for name, p in list(self._call_params().items())[1:]
                if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
            ]
            kwargs.update(dict(zip(params, args[1:])))
        return args[0]

    def __call__(self, *args, **kwargs):
        inputs = self._call_inputs(args, kwargs)
        if symbolic.is_symbolic((inputs, kwargs)):
            return self._symbolic_call(inputs, kwargs)
        return self._eager_call(inputs, kwargs)

    def _check_plain_inputs(self, inputs, leaves):
        """Strings and ragged nested lists given to a numeric layer: a named error, not torch's."""
        for leaf in leaves:
            text_array = isinstance(leaf, np.ndarray) and (
                leaf.dtype.kind in "US"
                or (leaf.dtype.kind == "O" and leaf.size and isinstance(leaf.reshape(-1)[0], (str, bytes)))
            )
            if isinstance(leaf, (str, bytes)) or text_array:
                shown = leaf if isinstance(leaf, (str, bytes)) else leaf.reshape(-1)[:3].tolist()
                raise TypeError(
                    f'Layer "{self.name}" ({type(self).__name__}) takes numbers, but it received '
                    f"strings: {shown!r}. Text goes through `TextVectorization` or `StringLookup` first."
                )
        if (
            isinstance(inputs, (list, tuple))
            and inputs
            and all(isinstance(x, (list, tuple)) for x in inputs)
            and all(isinstance(v, numbers.Number) for v in leaves)
        ):
            try:
                np.asarray(inputs, dtype=float)
            except ValueError:
                lengths = sorted({len(x) for x in inputs})
                raise ValueError(
                    f'Layer "{self.name}" ({type(self).__name__}) received a ragged nested list (rows '
                    f"of lengths {lengths}): it cannot become one array. Pad the rows to one length "
                    "(`keras.utils.pad_sequences`) or pass a NumPy array."
                ) from None

    def _eager_call(self, inputs, kwargs):
        leaves = pytree.tree_leaves(inputs)
        from_arrays = any(is_plain_data(x) for x in leaves)
        device = self._device()
        if from_arrays or any(isinstance(x, (str, bytes)) for x in leaves):
            self._check_plain_inputs(inputs, leaves)
        if from_arrays:
            inputs = pytree.tree_map(lambda x: to_tensor(x, device=device).to(device), inputs)
        elif any(
            isinstance(x, torch.Tensor) and x.device != device and not x.is_meta for x in pytree.tree_leaves(inputs)
        ):
            # A CPU tensor given to a model on the GPU (or the reverse) goes where the weights are.
            inputs = pytree.tree_map(
                lambda x: x.to(device) if isinstance(x, torch.Tensor) and not x.is_meta else x, inputs
            )
        shapes = pytree.tree_map(lambda x: _shape_of(x), inputs, is_leaf=lambda x: isinstance(x, torch.Tensor))
        if not self.built:
            self._maybe_build(_with_none_batch(shapes))
        self.check_input(shapes)
        training = kwargs.pop("training", None)
        if training is None:
            training = self._direct_call_training
        if from_arrays and torch.is_grad_enabled():
            # A layer applied to plain arrays is a student looking at values: return a tensor that
            # `.numpy()`, `np.swapaxes` and `plt.imshow` accept (no autograd graph, on the CPU).
            with torch.no_grad():
                out = self._tracked_invoke(inputs, bool(training), kwargs)
            return pytree.tree_map(lambda t: t.cpu() if isinstance(t, torch.Tensor) else t, out)
        return self._tracked_invoke(inputs, bool(training), kwargs)

    def _tracked_invoke(self, inputs, training, kwargs):
        """``_invoke``, clearing the losses of this layer and its sublayers first when it is the outermost call."""
        depth = getattr(_CALL_DEPTH, "value", 0)
        if depth == 0:
            self._clear_losses()
        _CALL_DEPTH.value = depth + 1
        try:
            return self._invoke(inputs, training, kwargs)
        finally:
            _CALL_DEPTH.value = depth

    def _device(self):
        for w in self._tracked_weights:
            return w.device
        for layer in self._sublayers():
            for w in layer.weights:
                return w.device
        return config.get_device()

    def _symbolic_call(self, inputs, kwargs):
        shapes = pytree.tree_map(
            lambda t: t.shape if isinstance(t, KerasTensor) else _shape_of(t),
            inputs,
            is_leaf=lambda t: isinstance(t, KerasTensor),
        )
        if not self.built:
            self._maybe_build(shapes)
        self.check_input(shapes)
        kwargs = dict(kwargs)
        training = kwargs.pop("training", None)
        try:
            specs = symbolic.infer_outputs(lambda x, **kw: self._invoke(x, False, kw), (inputs,), kwargs)
        except Exception:
            if not any(getattr(t, "_mask_shape", None) is not None for t in pytree.tree_leaves((inputs, kwargs))):
                raise
            with symbolic.without_masks():  # a `call` that cannot use a mask of the meta device: build without
                specs = symbolic.infer_outputs(lambda x, **kw: self._invoke(x, False, kw), (inputs,), kwargs)
        masks = symbolic.output_mask_shapes() or []
        node_index = len(self._inbound_nodes)
        counter = iter(range(1 << 30))

        def make(spec):
            shape, dtype = spec
            i = next(counter)
            tensor = KerasTensor(
                shape, dtype, name=f"{self.name}_output_{i}" if i else self.name, history=(self, node_index, i)
            )
            if i < len(masks) and masks[i] is not None:
                tensor._mask_shape = masks[i]
            return tensor

        outputs = pytree.tree_map(
            make, specs, is_leaf=lambda p: isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], str)
        )
        if training is not None:
            kwargs["training"] = training
        self._inbound_nodes.append(Node(self, (inputs,), kwargs, outputs))
        self._clear_losses()  # nothing computed while only shapes were inferred is a loss of a real call
        return outputs

    # ------------------------------------------------------------------ graph accessors
    def _single_node(self, what):
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer '{self.name}' has never been called and thus has no defined {what}. Give the model an "
                "input shape (an `Input` layer or `input_shape=` on the first layer) or call the layer on a "
                "symbolic input first."
            )
        return self._inbound_nodes[0]

    @property
    def output(self):
        """The symbolic output of the layer's first call in a graph."""
        node = self._single_node("output")
        return node.outputs

    @property
    def input(self):
        node = self._single_node("input")
        return node.call_args[0]

    @property
    def output_shape(self):
        return pytree.tree_map(lambda t: t.shape, self.output, is_leaf=lambda t: isinstance(t, KerasTensor))

    @property
    def input_shape(self):
        return pytree.tree_map(lambda t: t.shape, self.input, is_leaf=lambda t: isinstance(t, KerasTensor))

    @property
    def input_spec_shape(self):
        return self._batch_input_shape

    # ------------------------------------------------------------------ the rest of Keras 3's Layer API
    # (the logic lives in layers/layer_api.py; nothing here runs on the call path)
    def __getattr__(self, name):
        # A layer's weights live in torch's `_parameters`/`_buffers`, so reading `self.kernel` lands here at every
        # call: look there first, without the second Python frame of torch.nn.Module.__getattr__.
        state = self.__dict__
        if "_parameters" in state and name in state["_parameters"]:
            return state["_parameters"][name]
        try:
            return super().__getattr__(name)  # torch.nn.Module: buffers, submodules
        except AttributeError:
            # A property that raised AttributeError lands here and torch's generic "'Dense' object has no
            # attribute 'output'" would hide its message (e.g. a never-called layer's `output`): re-raise
            # the property's own error.
            prop = getattr(type(self), name, None)
            if isinstance(prop, property) and prop.fget is not None:
                prop.fget(self)
            raise

    def __setattr__(self, name, value):
        if (
            getattr(value, "_keras_metric", False)
            or (isinstance(value, (list, tuple)) and value and getattr(value[0], "_keras_metric", False))
        ) and name not in _TRAINER_METRIC_ATTRIBUTES:
            self.__dict__.setdefault("_tracked_metrics", {})[name] = value  # Keras tracks metric attributes
            Layer._metric_attributes += 1
        elif value is None and name == "activation" and callable(self.__dict__.get("activation")):
            # Keras layers skip an activation of None: `model.layers[-1].activation = None` turns a softmax
            # head into logits (the Grad-CAM example). Layers here call their activation unconditionally.
            value = activations.linear
        super().__setattr__(name, value)

    _metric_attributes = 0  # metrics ever assigned as layer attributes (none: Model.metrics skips the search)

    def add_variable(
        self,
        shape,
        initializer,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        name=None,
    ):
        """Adds a weight variable to the layer (Keras 3's alias of ``add_weight``).

        Args:
            shape: the variable's shape (Keras layout).
            initializer: initializer name or object.
            dtype: dtype name (default: the layer's dtype).
            trainable: whether the optimizer updates it.
            autocast: accepted for Keras compatibility.
            regularizer, constraint: names or objects, as in Keras.
            name: the variable name.

        Returns:
            The new ``Variable``.
        """
        return self.add_weight(
            shape=shape,
            initializer=initializer,
            dtype=dtype,
            trainable=trainable,
            autocast=autocast,
            regularizer=regularizer,
            constraint=constraint,
            name=name,
        )

    @property
    def input_spec(self):
        """The layer's ``InputSpec`` (or list of them), None unless set (Keras checks inputs against it)."""
        return self.__dict__.get("_input_spec")

    @input_spec.setter
    def input_spec(self, value):
        self.__dict__["_input_spec"] = value

    @property
    def path(self):
        """The layer's path under the layers that built it (``'sequential/dense'``); None before it is built."""
        if not self.built:
            return None
        path = self.__dict__.get("_keras_layer_path")
        if path:
            return path
        for w in self._tracked_weights:
            return w.path.rsplit("/", 1)[0] if "/" in w.path else self.name
        return self.name

    @property
    def dtype_policy(self):
        """The layer's ``DTypePolicy``: its own dtype, or the global mixed policy for a float32 layer."""
        return layer_api.dtype_policy(self)

    @dtype_policy.setter
    def dtype_policy(self, value):
        layer_api.set_dtype_policy(self, value)

    @property
    def compute_dtype(self):
        """The dtype the layer computes in (``dtype_policy.compute_dtype``)."""
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        """The dtype of the layer's weights (``dtype_policy.variable_dtype``)."""
        return self.dtype_policy.variable_dtype

    @property
    def input_dtype(self):
        """The dtype inputs are converted to (the compute dtype)."""
        return self.compute_dtype

    def compute_output_spec(self, *args, **kwargs):
        """Symbolic outputs (``KerasTensor``s) of a call on symbolic inputs, without adding a graph node.

        The layer is built on the inputs' shapes first if needed; shapes come from a meta-device run of
        ``call``.
        """
        return layer_api.compute_output_spec(self, args, kwargs)

    def symbolic_call(self, *args, **kwargs):
        """Keras's ``symbolic_call``: the output spec of a call on symbolic inputs (no node recorded)."""
        return self.compute_output_spec(*args, **kwargs)

    def get_build_config(self):
        """``{'input_shape': shape}`` the layer was built with (None if it was never built)."""
        return layer_api.get_build_config(self)

    def build_from_config(self, config):
        """Builds the layer from a ``get_build_config()`` dict (``input_shape`` or ``shapes_dict``)."""
        layer_api.build_from_config(self, config)

    def save_own_variables(self, store):
        """Writes the layer's own variables (not its sublayers') into ``store`` as ``'0'``, ``'1'``...: the
        trainable ones, then the others, as NumPy arrays in Keras layout (Keras's ``model.weights.h5`` layout)."""
        layer_api.save_own_variables(self, store)

    def load_own_variables(self, store):
        """Loads the layer's own variables from a ``save_own_variables`` store (same count and shapes)."""
        layer_api.load_own_variables(self, store)

    def stateless_call(self, trainable_variables, non_trainable_variables, *args, return_losses=False, **kwargs):
        """Calls the layer with the given variable values, leaving its own variables untouched.

        Args:
            trainable_variables: values 1:1 with ``layer.trainable_variables`` (gradients flow to them).
            non_trainable_variables: values 1:1 with ``layer.non_trainable_variables``.
            *args, **kwargs: the call's arguments.
            return_losses: also return the losses of the call (activity and weight regularization).

        Returns:
            ``(outputs, non_trainable_variables)`` with the updated non-trainable values (BatchNormalization's
            moving statistics after a training call...), or ``(outputs, non_trainable_variables, losses)``.
        """
        return layer_api.stateless_call(self, trainable_variables, non_trainable_variables, args, kwargs, return_losses)

    @property
    def torch_params(self):
        """A ``torch.nn.ParameterDict`` of the layer's variables keyed by their paths (Keras-torch's attribute)."""
        return torch.nn.ParameterDict({w.path: w for w in self.weights})

    def rematerialized_call(self, layer_call, *args, **kwargs):
        """``layer_call`` with rematerialization when the layer was made under a ``RematScope``.

        Activations of a rematerialized call are recomputed in the backward pass
        (``torch.utils.checkpoint``) instead of being kept; without a remat mode ``layer_call`` is returned.
        """
        return _remat.rematerialized_call(self, layer_call, args, kwargs)

    @property
    def metrics(self):
        """Metrics assigned as attributes of this layer and of its sublayers."""
        out = []
        for value in self.__dict__.get("_tracked_metrics", {}).values():
            out.extend(value if isinstance(value, (list, tuple)) else [value])
        for layer in self._sublayers():
            out.extend(layer.metrics)
        return out

    @property
    def metrics_variables(self):
        """The state variables of ``metrics``."""
        return [v for m in self.metrics for v in m.variables]

    def add_metric(self, *args, **kwargs):
        """Removed in Keras 3: raises, naming what to do instead."""
        raise NotImplementedError(
            "Layer `add_metric()` method is deprecated. Add your metric in `Model.compile(metrics=[...])`, or "
            "create metric trackers in init() or build() when subclassing the layer or model, then call "
            "`metric.update_state()` whenever necessary."
        )


serialization_lib.register_layer_class(Layer)


def _input_masks(inputs, keep_none=False):
    """The ``_keras_mask`` of each tensor of a list/tuple/dict input, in its structure; None when no tensor
    has one (unless ``keep_none``)."""
    if isinstance(inputs, dict):
        masks = {k: getattr(v, "_keras_mask", None) for k, v in inputs.items()}
        values = masks.values()
    else:
        masks = [getattr(x, "_keras_mask", None) for x in inputs]
        values = masks
    if keep_none or any(m is not None for m in values):
        return masks
    return None


def _is_tensor_argument(value):
    """Keras's "tensor argument" of a call: a tensor, or a non-empty structure of tensors (and Nones)."""
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (list, tuple, dict)) and value:
        leaves = pytree.tree_leaves(value)
        return any(isinstance(x, torch.Tensor) for x in leaves) and all(
            x is None or isinstance(x, torch.Tensor) for x in leaves
        )
    return False


def _with_none_batch(shapes):
    """Eager calls build layers with the batch dimension unknown, as Keras does."""

    def fix(s):
        return (None,) + tuple(s[1:]) if len(s) else s

    return pytree.tree_map(
        fix, shapes, is_leaf=lambda s: isinstance(s, tuple) and all(isinstance(d, int) or d is None for d in s)
    )
