"""The optimizer base class: Keras API and Keras update rules, torch ``_foreach`` kernels.

Keras semantics kept here: gradient clipping (``clipnorm`` per tensor, ``global_clipnorm``,
``clipvalue``) before decoupled weight decay (``w -= w * weight_decay * lr``) before the update
rule; the learning rate (or schedule) is read at the current ``iterations`` (0 on the first step);
``variables`` lists ``iterations``, ``learning_rate`` (when it is a float) and then the slots in the
order Keras creates them, so optimizer state saved by one can be read by the other.

Each optimizer module beside this one holds one update rule: its ``_update`` mirrors the ``update_step``
of the Keras optimizer of the same name (formulas in the class docstring), written with torch
``_foreach`` ops; ``step`` is Keras's ``iterations + 1``.

Speed: one ``torch._foreach_*`` call per arithmetic operation across all parameters, no
per-parameter Python loop in the update, and no host sync: the step counter and the learning rate
live in Python (the step count only changes through ``apply``), so bias corrections are Python
floats. ``iterations`` is still exposed as a tensor, as in Keras.
"""

import inspect
import re
import warnings

import numpy as np
import torch

from strided.backend.name_scope import name_scope_of
from strided.backend.variable import Variable, keras_view
from strided.distribution import distribution_lib as distribute
from strided.optimizers import schedules as schedules_module
from strided.utils import validation
from strided.utils.docstrings import fill_doc
from strided.utils.registry import FromConfig, to_snake_case

_CLIP_ARGS = ("clipnorm", "clipvalue", "global_clipnorm")


# The ranges of the hyperparameters the update rules share, checked by ``Optimizer._set_hyperparameters``
# (low, high, low inclusive, high inclusive). Keras 3 checks none of them and a rule then trains to NaN
# silently (RMSprop(rho=2)); the decay rates are [0, 1) where ``1 - beta ** t`` divides (Adam's bias
# correction) and [0, 1] where 1 only freezes a running average.
_HYPER_RANGES = {
    "beta_1": (0.0, 1.0, True, False),
    "beta_2": (0.0, 1.0, True, False),
    "adam_beta_1": (0.0, 1.0, True, False),
    "adam_beta_2": (0.0, 1.0, True, False),
    "rho": (0.0, 1.0, True, True),
    "momentum": (0.0, 1.0, True, True),
    "epsilon": (0.0, None, True, True),
    "initial_accumulator_value": (0.0, None, True, True),
    "l1_regularization_strength": (0.0, None, True, True),
    "l2_regularization_strength": (0.0, None, True, True),
    "l2_shrinkage_regularization_strength": (0.0, None, True, True),
    "learning_rate_power": (None, 0.0, True, True),
    "epsilon_1": (0.0, None, True, True),
    "epsilon_2": (0.0, None, True, True),
    "clip_threshold": (0.0, None, True, True),
}


# The keyword arguments every optimizer passes on to ``Optimizer.__init__`` (Keras's
# ``base_optimizer_keyword_args``), documented here once: ``with_base_keyword_args`` writes them into each
# optimizer's docstring and signature. Their defaults are those of ``Optimizer.__init__``.
_BASE_ARG_DOCS = {
    "weight_decay": "decoupled weight decay factor, applied as ``w -= w * weight_decay * lr``.",
    "clipnorm": "clip each gradient to this L2 norm.",
    "clipvalue": "clip each gradient element to ``[-clipvalue, clipvalue]``.",
    "global_clipnorm": "clip all gradients together to this global L2 norm.",
    "use_ema": "keep an exponential moving average of the weights (``average = m * average +\n"
    "    (1 - m) * weight`` after every step); ``fit`` ends with the weights set to their averages.",
    "ema_momentum": "``m`` above, in [0, 1] (default 0.99).",
    "ema_overwrite_frequency": "every this many updates the weights are overwritten with their\n"
    "    averages during training (default None: only at the end of ``fit``).",
    "loss_scale_factor": "gradients are divided by it (use with a loss multiplied by it).",
    "gradient_accumulation_steps": "an int >= 2: the weights are updated only every this many steps,\n"
    "    with the mean of the gradients since the last update (a large batch on a small device);\n"
    "    ``iterations`` then counts updates.",
    "name": "the optimizer name (snake_case class name by default).",
}


def _base_args_doc(skip=()):
    """The ``Args:`` lines of the base keyword arguments (those in ``skip`` left out: the class documents them)."""
    return "\n".join(f"{name}: {text}" for name, text in _BASE_ARG_DOCS.items() if name not in skip)


def _as_gradient(g, p):
    """A gradient for parameter ``p``: NumPy/lists are converted (in Keras layout, as ``get_weights`` gives
    them), and a shape that does not match the variable is a named error rather than a torch size mismatch."""
    layout = getattr(p, "_keras_layout", None)
    name = getattr(p, "path", None) or getattr(p, "_keras_name", None) or getattr(p, "name", "variable")
    if not isinstance(g, torch.Tensor):
        arr = np.asarray(g)
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"Invalid gradient for variable '{name}': expected a tensor or an array of numbers. "
                f"Received an array of dtype {arr.dtype}."
            )
        keras_shape = tuple(p.shape[i] for i in layout) if layout else tuple(p.shape)
        if arr.shape != keras_shape:
            raise ValueError(
                f"Invalid gradient for variable '{name}': expected shape {keras_shape}, received shape {arr.shape}."
            )
        g = torch.as_tensor(np.ascontiguousarray(arr), dtype=p.dtype, device=p.device)
        return g.permute(*np.argsort(layout)) if layout else g
    if tuple(g.shape) != tuple(p.shape) and g.numel() != 0:
        raise ValueError(
            f"Invalid gradient for variable '{name}': expected shape {tuple(p.shape)}, received shape {tuple(g.shape)}."
        )
    return g


def _check_range(value, name, low=0.0, high=1.0):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a float in [{low}, {high}]. Received: {name}={value!r}"
        )
    return float(value)


def _check_number(value, name, minimum=None, strict=False, integer=False, allow_none=False):
    """A real number (an int with ``integer``), optionally ``>= minimum`` (``> minimum`` with ``strict``);
    None passes through with ``allow_none``."""
    if value is None and allow_none:
        return None
    kinds = (int, np.integer) if integer else (int, float, np.number)
    ok = not isinstance(value, bool) and isinstance(value, kinds)
    if ok and minimum is not None:
        ok = value > minimum if strict else value >= minimum
    if not ok:
        what = "an integer" if integer else "a float"
        if minimum is not None:
            what += f" {'>' if strict else '>='} {minimum}"
        raise ValueError(f"Invalid value for argument `{name}`. Expected {what}. Received: {name}={value!r}")
    return int(value) if integer else float(value)


def _keras_view(t, param):
    """``t`` (shaped like ``param``) seen in Keras axis order (a view: in-place ops write through)."""
    return keras_view(param, t)


def _variable_path(variable):
    """The Keras ``variable.path`` when the variable carries one, else its name."""
    for attr in ("path", "_keras_path", "name", "_keras_name"):
        value = getattr(variable, attr, None)
        if isinstance(value, str) and value:
            return value
    return ""


class _Scope:
    """A name for ``name_scope_of``: optimizer variables get the optimizer's name in their path."""

    def __init__(self, name):
        self.name = name


def _assign(variable, value, method):
    if hasattr(variable, method):
        getattr(variable, method)(value)
        return
    value = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    with torch.no_grad():  # a slot tensor of a built-in optimizer
        value = value.to(device=variable.device, dtype=variable.dtype)
        {"assign": variable.copy_, "assign_add": variable.add_, "assign_sub": variable.sub_}[method](value)


class Optimizer(FromConfig):
    """Base class of strided optimizers (Keras 3 API).

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable taking no argument.
        {{base_optimizer_keyword_args}}
    """

    # slot names in Keras creation order; each entry is a list of names created together
    # (Keras interleaves them per variable when created in one call)
    _slot_groups = ()

    # the base arguments in the config after `name` and `learning_rate` (Keras's order); each optimizer lists
    # its own arguments in its `_config_keys`, which follow these
    _config_keys = (
        "weight_decay",
        "clipnorm",
        "global_clipnorm",
        "clipvalue",
        "use_ema",
        "ema_momentum",
        "ema_overwrite_frequency",
        "loss_scale_factor",
        "gradient_accumulation_steps",
    )

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.")
        if "lr" in kwargs:  # tf.keras 1/2 spelling: accepted with tf.keras 2's warning (Keras 3 refuses it)
            learning_rate = kwargs.pop("lr")
            warnings.warn("The `lr` argument is deprecated, use `learning_rate` instead.", stacklevel=3)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name or to_snake_case(self.__class__.__name__)
        self.weight_decay = _check_number(weight_decay, "weight_decay", minimum=0, allow_none=True)
        self.clipnorm = _check_number(clipnorm, "clipnorm", minimum=0, allow_none=True)
        self.clipvalue = _check_number(clipvalue, "clipvalue", minimum=0, allow_none=True)
        self.global_clipnorm = _check_number(global_clipnorm, "global_clipnorm", minimum=0, allow_none=True)
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        if gradient_accumulation_steps is not None and (
            isinstance(gradient_accumulation_steps, bool)
            or not isinstance(gradient_accumulation_steps, (int, np.integer))
            or gradient_accumulation_steps < 2
        ):
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. Received: "
                f"gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema:
            if not isinstance(ema_momentum, (int, float, np.number)) or not 0 <= ema_momentum <= 1:
                # Keras's wording
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, (int, np.integer)) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                    f"ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        self.use_ema, self.ema_momentum, self.ema_overwrite_frequency = use_ema, ema_momentum, ema_overwrite_frequency
        self.gradient_accumulation_steps = int(gradient_accumulation_steps) if gradient_accumulation_steps else None
        self.loss_scale_factor = validation.optional_number(
            loss_scale_factor, "loss_scale_factor", low=0.0, low_inclusive=False
        )
        self._set_lr(learning_rate, initial=True)
        self._step = 0
        self.built = False
        self._params = []
        self._index = {}
        self._slots = {}
        self._slot_order = []  # (slot name, param index) in Keras creation order
        self._pending_state = None
        self._gradients_reduced = False  # set by fit's own step, whose gradients DDP already averaged
        self._exclude_ids = set()
        self._exclude_pattern = None
        self._own_variables = []  # made by add_variable (Keras-style optimizers), after the slots

    # ----------------------------------------------------------------------------- learning rate
    def _set_lr(self, learning_rate, initial=False):
        if isinstance(learning_rate, schedules_module.LearningRateSchedule) or (
            callable(learning_rate) and not isinstance(learning_rate, torch.Tensor)
        ):
            self._lr = learning_rate
            return
        if isinstance(learning_rate, torch.Tensor) and learning_rate.numel() == 1:
            learning_rate = float(learning_rate)
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.number)):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, "
                "or a callable (that takes in the current iteration value and returns the "
                f"corresponding learning rate value). Received instead: learning_rate={learning_rate!r}"
            )
        if not initial and isinstance(self._lr, schedules_module.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable. If you "
                "need the learning rate to be settable, you should instantiate the optimizer with a "
                "float `learning_rate` argument."
            )
        self._lr = validation.number(learning_rate, "learning_rate", low=0.0)

    def _set_hyperparameters(self, **values):
        """Checks the named hyperparameters against ``_HYPER_RANGES`` and sets them as attributes (floats)."""
        for name, value in values.items():
            low, high, low_inc, high_inc = _HYPER_RANGES[name]
            setattr(self, name, validation.hyperparameter(value, name, low, high, low_inc, high_inc))

    def _current_lr(self):
        lr = self._lr
        if isinstance(lr, float):
            return lr
        if isinstance(lr, schedules_module.LearningRateSchedule):
            return float(lr(self._step))
        return float(lr())

    @property
    def learning_rate(self):
        """The current learning rate as a float (a schedule is evaluated at ``iterations``); settable."""
        return self._current_lr()

    @learning_rate.setter
    def learning_rate(self, value):
        self._set_lr(value)

    lr = learning_rate  # tf.keras 2 alias

    @property
    def iterations(self):
        """The number of updates applied so far, as a 0-d int64 tensor (with gradient accumulation, the
        number of ``apply`` calls divided by ``gradient_accumulation_steps``, as in Keras)."""
        return torch.tensor(self._updates_done(), dtype=torch.int64)

    def _updates_done(self):
        steps = self.gradient_accumulation_steps
        return self._step // steps if steps else self._step

    @iterations.setter
    def iterations(self, value):
        self._step = int(value)

    # ----------------------------------------------------------------------------- building
    def build(self, variables):
        """Creates the slot variables for ``variables`` (a list of torch Parameters)."""
        if self.built:
            return
        self._params = list(variables)
        self._index = {id(v): i for i, v in enumerate(self._params)}
        # Keras creates the weight averages, then the gradient accumulators, then the rule's slots.
        if self.use_ema:
            self._add_slots(["average"])
        if self.gradient_accumulation_steps:
            self._add_slots(["gradient_accumulator"])
        for group in self._slot_groups:
            self._add_slots(group)
        self._build_extra()
        self._finish_build()

    def _finish_build(self):
        """Marks the optimizer built and restores the state that ``set_state`` kept until then."""
        self.built = True
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.set_state(state)

    def _slot_init(self, name):
        return 0.0

    def _add_slots(self, names):
        for n in names:
            self._slots[n] = [None] * len(self._params)
        for i, p in enumerate(self._params):
            for n in names:
                init = self._slot_init(n)
                t = torch.zeros_like(p, memory_format=torch.preserve_format, requires_grad=False).detach()
                if init:
                    t.fill_(init)
                self._slots[n][i] = t
                self._slot_order.append((n, i))

    def _build_extra(self):
        pass

    def _extra_variables(self):
        """Extra state after the slots (Nadam's u_product): list of (name, tensor)."""
        return []

    def _set_extra(self, name, value):
        pass

    @property
    def variables(self):
        """Optimizer state tensors in Keras order: iterations, learning_rate (if a float), slots, extras."""
        out = [torch.tensor(self._step, dtype=torch.int64)]  # Keras saves the raw count of `apply` calls
        if isinstance(self._lr, float):
            out.append(torch.tensor(self._lr, dtype=torch.float32))
        out.extend(self._slots[n][i] for n, i in self._slot_order)
        out.extend(t for _, t in self._extra_variables())
        out.extend(self.__dict__.get("_own_variables", ()))
        return out

    def _variable_paths(self):
        """Keras's paths of ``variables``: ``adam/iteration``, ``adam/seq_dense_kernel_momentum``..."""

        def ref(i):
            param = self._params[i]
            return (getattr(param, "path", None) or getattr(param, "name", None) or f"variable_{i}").replace("/", "_")

        names = ["iteration"] + (["learning_rate"] if isinstance(self._lr, float) else [])
        names += [f"{ref(i)}_{n}" for n, i in self._slot_order] + [n for n, _ in self._extra_variables()]
        return [f"{self.name}/{n}" for n in names] + [v.path for v in self.__dict__.get("_own_variables", ())]

    def _variable_names(self):
        names = ["iteration"] + (["learning_rate"] if isinstance(self._lr, float) else [])
        names += [f"{getattr(self._params[i], 'name', None) or f'variable_{i}'}_{n}" for n, i in self._slot_order]
        return names + [n for n, _ in self._extra_variables()]

    # ----------------------------------------------------------------------------- state
    def get_weights(self):
        """The optimizer state as NumPy arrays, in ``variables`` order."""
        return [v.detach().cpu().clone().numpy() for v in self.variables]

    def set_weights(self, weights):
        """Restores state from NumPy arrays in ``variables`` order (the optimizer must be built)."""
        current = self._check_weights_to_set(weights)
        has_lr = isinstance(self._lr, float)
        for k, (var, w) in enumerate(zip(current, weights)):
            w = np.asarray(w)
            if tuple(var.shape) != tuple(w.shape):
                raise ValueError(
                    f"Optimizer variable {k} has shape {tuple(var.shape)} not compatible with provided "
                    f"weight shape {tuple(w.shape)}."
                )
        self._step = int(np.asarray(weights[0]))
        pos = 1
        if has_lr:
            self._lr = float(np.asarray(weights[1]))
            pos = 2
        for (n, i), w in zip(self._slot_order, weights[pos:]):
            t = self._slots[n][i]
            t.copy_(torch.as_tensor(np.asarray(w), dtype=t.dtype))
        pos += len(self._slot_order)
        for (name, _), w in zip(self._extra_variables(), weights[pos:]):
            self._set_extra(name, float(np.asarray(w)))
        pos += len(self._extra_variables())
        for v, w in zip(self.__dict__.get("_own_variables", ()), weights[pos:]):
            v.assign(w)

    def _check_weights_to_set(self, weights):
        """``set_weights`` needs a built optimizer and one weight per variable; returns ``variables``."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. Please "
                "call `optimizer.build(trainable_variables)` to create the optimizer weights before "
                "calling `set_weights()`."
            )
        current = self.variables
        if len(weights) != len(current):
            raise ValueError(
                f"Optimizer `{self.name}` has {len(current)} variables but {len(weights)} weights were given."
            )
        return current

    def get_state(self):
        """A picklable snapshot of the state: ``{'names': [...], 'weights': [arrays]}`` in Keras order."""
        return {
            "names": self._variable_names() if self.built else ["iteration"],
            "weights": self.get_weights() if self.built else [np.asarray(self._step)],
            "built": self.built,
        }

    def set_state(self, state):
        """Restores a :meth:`get_state` snapshot; before ``build`` it is kept and applied when built."""
        if not self.built:
            if state.get("built", True):
                self._pending_state = state
            else:
                self._step = int(np.asarray(state["weights"][0]))
            return
        self.set_weights(state["weights"])

    # torch-style names, used by callbacks that snapshot and restore the optimizer (e.g. BackupAndRestore)
    def state_dict(self):
        """Same as :meth:`get_state`."""
        return self.get_state()

    def load_state_dict(self, state):
        """Same as :meth:`set_state`."""
        self.set_state(state)

    def save_own_variables(self, store):
        for i, v in enumerate(self.get_weights()):
            store[str(i)] = v

    def load_own_variables(self, store):
        if len(store.keys()) != len(self.variables):
            warnings.warn(
                f"Skipping variable loading for optimizer '{self.name}', because it has "
                f"{len(self.variables)} variables whereas the saved optimizer has {len(store.keys())} "
                "variables.",
                stacklevel=2,
            )
            return
        self.set_weights([store[str(i)] for i in range(len(store.keys()))])

    # ----------------------------------------------------------------------------- Keras-style variables
    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none", layout=None, name=None):
        """Adds a state variable to the optimizer (listed in ``variables`` after the built-in slots).

        Args:
            shape: the variable's shape.
            initializer: initializer name or object (default ``"zeros"``).
            dtype: dtype name (default ``floatx()``).
            aggregation: the variable's aggregation annotation.
            layout: accepted for Keras compatibility.
            name: the variable's name; its path is ``<optimizer name>/<name>``.

        Returns:
            The new (non-trainable) ``strided.Variable``.
        """
        with name_scope_of(_Scope(self.name)):
            variable = Variable(
                initializer=initializer,
                shape=tuple(shape),
                dtype=dtype,
                trainable=False,
                aggregation=aggregation,
                name=name,
            )
        self.__dict__.setdefault("_own_variables", []).append(variable)
        return variable

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """Adds a variable shaped like ``reference_variable`` (its stored layout), named
        ``<reference path with _>_<name>`` as Keras names optimizer slots (``dense_kernel_momentum``)."""
        name = name or "var"
        ref_name = getattr(reference_variable, "path", None) or str(getattr(reference_variable, "name", "variable"))
        name = f"{ref_name.replace('/', '_').replace(':', '_')}_{name}"
        variable = self.add_variable(
            shape=tuple(reference_variable.shape),
            initializer=initializer,
            dtype=str(reference_variable.dtype).replace("torch.", ""),
            name=name,
        )
        if variable.device != reference_variable.device:
            variable.data = variable.data.to(reference_variable.device)
        return variable

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """``add_variable_from_reference`` for each variable (None for those with ``overwrite_with_gradient``);
        one list for a single ``name``, a tuple of lists for a list of names (created interleaved, as Keras)."""
        names = [name] if isinstance(name, str) else list(name)
        inits = (
            [initializer] * len(names)
            if isinstance(initializer, str) or not isinstance(initializer, (list, tuple))
            else list(initializer)
        )
        if len(names) != len(inits):
            raise ValueError(
                "The number of provided names must match the number of provided initializers.  "
                f"Received name='{name}', initializer='{initializer}'"
            )
        out = tuple([] for _ in names)
        for variable in trainable_variables:
            for i, (n, init) in enumerate(zip(names, inits)):
                out[i].append(
                    None
                    if getattr(variable, "overwrite_with_gradient", False)
                    else self.add_variable_from_reference(variable, name=n, initializer=init)
                )
        return out[0] if isinstance(name, str) else out

    def _get_variable_index(self, variable):
        """The position of ``variable`` in the list the optimizer was built with (Keras's helper)."""
        return self._indices([variable])[0]

    def assign(self, variable, value):
        """``variable.assign(value)`` (an optimizer slot or a model variable), in place."""
        _assign(variable, value, "assign")

    def assign_add(self, variable, value):
        """``variable.assign_add(value)``, in place."""
        _assign(variable, value, "assign_add")

    def assign_sub(self, variable, value):
        """``variable.assign_sub(value)``, in place."""
        _assign(variable, value, "assign_sub")

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """One ``apply`` step on given values, leaving the optimizer and the model untouched.

        Args:
            optimizer_variables: values 1:1 with ``optimizer.variables``.
            grads: the gradients, 1:1 with ``trainable_variables``.
            trainable_variables: values 1:1 with the variables the optimizer was built with.

        Returns:
            ``(new trainable_variables, new optimizer_variables)``.
        """
        if not self.built:
            raise ValueError(
                f"To call `stateless_apply`, {type(self).__name__} must be built (i.e. its variables "
                "must have been created). You can build it via `optimizer.build(trainable_variables)`."
            )
        current = self.variables
        validation.one_per_variable(optimizer_variables, current, "optimizer_variables", self, "variables")
        if len(trainable_variables) != len(self._params):
            raise ValueError(
                "Argument `optimizer_variables` must be a list of tensors corresponding 1:1 to the "
                "trainable variables list that the optimizer was built with. Received "
                f"len(trainable_variables) == {len(trainable_variables)} whereas the optimizer was "
                f"built with {len(self._params)} variables."
            )
        saved_state = self.get_weights()
        saved_params = [p.detach().clone() for p in self._params]
        try:
            with torch.no_grad():
                self.set_weights(
                    [np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v) for v in optimizer_variables]
                )
                for p, v in zip(self._params, trainable_variables):
                    p.copy_(v.detach() if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v)))
            self.apply(grads)
            new_params = [p.detach().clone() for p in self._params]
            new_state = [v.detach().clone() for v in self.variables]
        finally:
            with torch.no_grad():
                self.set_weights(saved_state)
                for p, v in zip(self._params, saved_params):
                    p.copy_(v)
        return new_params, new_state

    def _overwrite_with_gradients(self, grads, params, idx):
        """Variables flagged ``overwrite_with_gradient`` take their gradient as value and leave the update."""
        keep = []
        for k, (g, p) in enumerate(zip(grads, params)):
            if getattr(p, "_keras_overwrite_with_gradient", False):
                p.copy_(g)
            else:
                keep.append(k)
        if len(keep) == len(params):
            return grads, params, idx
        full = list(range(len(params))) if idx is None else idx
        return [grads[k] for k in keep], [params[k] for k in keep], [full[k] for k in keep]

    # ----------------------------------------------------------------------------- weight decay
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Excludes variables (or variables whose name matches one of ``var_names``) from weight decay."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in (var_list or [])}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None:
            name = getattr(variable, "path", None) or getattr(variable, "name", None) or ""
            if self._exclude_pattern.search(str(name)):
                return False
        return True

    # ----------------------------------------------------------------------------- applying
    def apply_gradients(self, grads_and_vars):
        """Applies ``(gradient, variable)`` pairs (Keras / tf.keras API); returns ``iterations``."""
        pairs = list(grads_and_vars)
        if not pairs:
            return self.iterations
        grads, variables = zip(*pairs)
        self.apply(list(grads), list(variables))
        return self.iterations

    @torch.no_grad()
    def apply(self, grads, variables=None):
        """Applies one optimization step.

        Args:
            grads: list of gradient tensors (None entries are skipped, with a warning).
            variables: the matching parameters; None means the list the optimizer was built with.
        """
        grads, variables = self._apply_arguments(grads, variables)
        if not grads:
            return
        params, idx = (self._params, None) if variables is None else (variables, self._indices(variables))
        if any([g is None for g in grads]):  # (a list: no generator frame per gradient)
            keep = [k for k, g in enumerate(grads) if g is not None]
            if not keep:
                raise ValueError("No gradients provided for any variable.")
            missing = [getattr(params[k], "name", f"variable_{k}") for k, g in enumerate(grads) if g is None]
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
                "`model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=2,
            )
            full = list(range(len(params))) if idx is None else idx
            idx = [full[k] for k in keep]
            params = [params[k] for k in keep]
            grads = [grads[k] for k in keep]
        # (one list comprehension checks them all; the per-gradient conversion runs only when one needs it)
        # (skipped for the trainer's own step, whose gradients autograd computed for exactly these weights)
        if not getattr(self, "_gradients_checked", False) and any(
            [
                type(g) is not torch.Tensor or g.shape != p.shape or g.requires_grad or g.dtype != p.dtype
                for g, p in zip(grads, params)
            ]
        ):
            grads = [_as_gradient(g, p) for g, p in zip(grads, params)]
            grads = [g.detach() if g.dtype == p.dtype else g.detach().to(p.dtype) for g, p in zip(grads, params)]
        if getattr(type(params[0]), "_overwrite_flags", 0):  # a variable was flagged overwrite_with_gradient
            grads, params, idx = self._overwrite_with_gradients(grads, params, idx)
            if not params:
                self._step += 1
                return
        if not getattr(self, "_gradients_reduced", False) and distribute.world_size() > 1:
            # A custom train_step under torchrun computed these gradients on this rank's share only:
            # average them over the ranks, or every rank would drift apart.
            distribute.all_reduce_sum_(grads)
            torch._foreach_div_(grads, float(distribute.world_size()))
        if self.loss_scale_factor is not None:
            grads = torch._foreach_div(grads, float(self.loss_scale_factor))
        if idx is not None and len(idx) == len(self._params) and idx == list(range(len(idx))):
            idx = None  # every variable, in the order the optimizer was built with: the slots as they are
        slots = {n: (s if idx is None else [s[i] for i in idx]) for n, s in self._slots.items()}
        steps = self.gradient_accumulation_steps
        if steps and (self._step + 1) % steps:
            # Keras: between updates the gradients are only summed; weights and slots stay.
            torch._foreach_add_(slots["gradient_accumulator"], grads)
        else:
            if steps:  # the update uses the mean gradient over the accumulated steps
                grads = torch._foreach_div(torch._foreach_add(grads, slots["gradient_accumulator"]), float(steps))
            grads = self._clip(grads)
            lr = self._current_lr()
            self._apply_weight_decay(params, lr)
            self._update(params, grads, slots, lr, self._updates_done() + 1)
            if steps:
                torch._foreach_zero_(self._slots["gradient_accumulator"])
        if self.use_ema:
            self._update_moving_averages()
        self._step += 1

    def _apply_arguments(self, grads, variables):
        """``apply``'s arguments checked: ``(grads, variables)`` as lists (``variables`` stays None for the list the
        optimizer was built with, which it must then be), one gradient per variable, the optimizer built on
        ``variables`` if it was not yet. No gradients: ``([], None)``, nothing to do."""
        grads = list(grads)
        if not grads:
            return grads, None
        if variables is None:
            self._check_built_without_variables()
        else:
            variables = list(variables)
        count = len(self._params if variables is None else variables)
        if len(grads) != count:
            raise ValueError(self._count_mismatch_message(len(grads), count, variables is None))
        if not self.built:
            self.build(variables)
        return grads, variables

    def _count_mismatch_message(self, n_grads, n_variables, own_variables):
        if own_variables:
            return (
                "When passing `grads` as a list of gradient tensors, the gradients must match "
                f"`optimizer.variables` one-to-one. Received a list of {n_grads} gradients, but "
                f"the optimizer is tracking {n_variables} trainable variables."
            )
        return f"Received {n_grads} gradients for {n_variables} variables."

    def _check_built_without_variables(self):
        """``apply(grads)`` without ``variables`` uses the variables the optimizer was built with."""
        if not self.built:
            raise ValueError(
                "When passing `grads` without `variables`, the optimizer must already be built on "
                "a list of variables. Call `optimizer.build(trainable_variables)` first."
            )

    def _apply_as_inner(self, grads, variables, reduced):
        """``apply`` for a wrapper (LossScaleOptimizer, MultiOptimizer), which tells whether it already
        averaged the gradients over the ranks."""
        previous = getattr(self, "_gradients_reduced", False)
        self._gradients_reduced = reduced
        try:
            self.apply(grads, variables)
        finally:
            self._gradients_reduced = previous

    def _apply_weight_decay(self, params, lr):
        """Decoupled weight decay before the update rule (Muon overrides it: two decay factors)."""
        if self.weight_decay:
            decayed = [p for p in params if self._use_weight_decay(p)]
            if decayed:
                # w - w * wd * lr, written as Keras does (not w * (1 - wd * lr)) to match rounding
                torch._foreach_sub_(decayed, torch._foreach_mul(decayed, self.weight_decay * lr))

    def scale_loss(self, loss):
        """Returns ``loss * loss_scale_factor`` (the loss unchanged when no factor is set), as in Keras."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    def _update_moving_averages(self):
        """Keras EMA: ``average = m * average + (1 - m) * weight`` after every ``apply`` (m is 0 until the
        first update is done, so the average starts at the weights), and every
        ``ema_overwrite_frequency`` updates the weights take their averages."""
        averages = self._slots["average"]
        momentum = self.ema_momentum if self._updates_done() != 0 else 0.0
        torch._foreach_mul_(averages, momentum)
        torch._foreach_add_(averages, torch._foreach_mul(self._params, 1.0 - momentum))
        frequency = self.ema_overwrite_frequency
        if frequency and (self._updates_done() + 1) % frequency == 0:
            torch._foreach_copy_(self._params, averages)

    @torch.no_grad()
    def finalize_variable_values(self, var_list):
        """Called at the end of `fit`: with ``use_ema=True`` the weights take their moving averages."""
        if self.use_ema and self.built:
            var_list = list(var_list)
            if len(var_list) != len(self._params):
                raise ValueError(
                    f"The length of model variables ({len(var_list)}) to override does not match the "
                    f"length of model variables stored in the optimizer ({len(self._params)}). Please "
                    "check if the optimizer was called on your model."
                )
            torch._foreach_copy_(var_list, self._slots["average"])

    def _indices(self, params):
        try:
            return [self._index[id(p)] for p in params]
        except KeyError:
            raise ValueError(
                "Unknown variable: this optimizer can only be called for the variables it was "
                "originally built with. When working with a new set of variables, you should "
                "recreate a new optimizer instance."
            ) from None

    def _clip(self, grads):
        if self.clipnorm:
            # Keras's clip_by_norm, g * clipnorm / max(norm, clipnorm), in three multi-tensor kernels
            norms = torch._foreach_norm(grads)
            torch._foreach_clamp_min_(norms, self.clipnorm)
            out = torch._foreach_mul(grads, self.clipnorm)
            torch._foreach_div_(out, norms)
            return out
        if self.global_clipnorm:
            norms = torch._foreach_norm(grads)
            if any([n.dtype != torch.float32 for n in norms]):
                norms = [n.to(torch.float32) for n in norms]
            total = torch.linalg.vector_norm(torch.stack(norms))
            scale = self.global_clipnorm * torch.minimum(
                1.0 / total, torch.tensor(1.0 / self.global_clipnorm, device=total.device)
            )
            scale = scale + (total - total)  # propagates NaN/Inf as Keras does
            if all([g.dtype == scale.dtype for g in grads]):
                return torch._foreach_mul(grads, scale)
            return [g * scale.to(g.dtype) for g in grads]
        if self.clipvalue:
            out = torch._foreach_clamp_min(grads, -self.clipvalue)
            torch._foreach_clamp_max_(out, self.clipvalue)
            return out
        return grads

    def _update(self, params, grads, slots, lr, step):
        """Update rule: ``step`` is the 1-based local step (Keras's ``iterations + 1``).

        A Keras-style optimizer subclass overrides ``update_step(gradient, variable, learning_rate)``
        instead (with its state made by ``add_variable_from_reference`` in ``build``): it runs per variable.
        """
        if type(self).update_step is Optimizer.update_step:
            raise NotImplementedError(
                f"{type(self).__name__} must implement `update_step(gradient, variable, learning_rate)`."
            )
        for p, g in zip(params, grads):
            self.update_step(g, p, lr)

    # kept for code that calls the per-variable Keras hook
    def update_step(self, gradient, variable, learning_rate):
        idx = self._indices([variable])
        slots = {n: [s[i] for i in idx] for n, s in self._slots.items()}
        self._update([variable], [gradient], slots, float(learning_rate), self._updates_done() + 1)

    # ----------------------------------------------------------------------------- config
    def get_config(self):
        lr = self._lr
        if isinstance(lr, schedules_module.LearningRateSchedule):
            lr = schedules_module.serialize(lr)
        elif not isinstance(lr, float):
            lr = self._current_lr()
        return {"name": self.name, "learning_rate": lr, **self._keys_config()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**cls._objects_from_config(dict(config), custom_objects))

    @classmethod
    def _objects_from_config(cls, config, custom_objects):
        """``config`` (a copy) with the objects it holds serialized made again: here a learning-rate schedule."""
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(config["learning_rate"], custom_objects)
        return config

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name} learning_rate={self._lr!r}>"


Optimizer.__doc__ = fill_doc(Optimizer.__doc__, base_optimizer_keyword_args=_base_args_doc())


def base_keyword_defaults():
    """``{name: default}`` of the keyword arguments every optimizer passes on to ``Optimizer.__init__``
    (``name`` aside)."""
    parameters = inspect.signature(Optimizer.__init__).parameters
    return {name: parameters[name].default for name in _BASE_ARG_DOCS if name != "name"}


def with_base_keyword_args(cls):
    """Class decorator of an optimizer whose ``__init__`` names its own hyperparameters and passes the base
    keyword arguments (``weight_decay``, ``clipnorm``... ``name``) on through ``**kwargs``.

    It fills the ``{{base_optimizer_keyword_args}}`` field of the class docstring with their documentation and
    lists them, keyword-only, in the signature that ``inspect`` shows (``help()``, the docs site, editors), so
    that neither has to be restated per optimizer. Arguments the class names itself (AdamW's
    ``weight_decay``, with another default) keep its own signature entry and documentation.
    """
    init = cls.__dict__["__init__"]
    signature = inspect.signature(init)
    own = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    taken = {p.name for p in own}
    base = [
        p.replace(kind=p.KEYWORD_ONLY)
        for name, p in inspect.signature(Optimizer.__init__).parameters.items()
        if name in _BASE_ARG_DOCS and name not in taken
    ]
    var_keyword = inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)
    init.__signature__ = signature.replace(parameters=own + base + [var_keyword])
    cls.__doc__ = fill_doc(cls.__doc__, base_optimizer_keyword_args=_base_args_doc(skip=taken))
    return cls
