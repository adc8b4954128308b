"""``MultiOptimizer`` and ``OptimizerMap``: different optimizers for different parts of a model (Keras 3.15).

A ``MultiOptimizer`` asks its map (an ``OptimizerMap`` or any callable) which optimizer each variable
belongs to when it is built, then hands every ``apply`` call's gradients out to those optimizers.
Its own state is ``iterations`` and a fixed ``learning_rate`` of 0; ``variables`` are these two
followed by each inner optimizer's variables, in the order Keras saves them, so optimizer state
saved by one library is read by the other.
"""

import inspect
import re
from collections.abc import MutableMapping

import numpy as np
import torch

from strided.optimizers.base import Optimizer, _variable_path
from strided.optimizers.loss_scale import LossScaleOptimizer
from strided.optimizers.registry import deserialize, serialize
from strided.utils import object_registration

_MODULE = "keras.optimizers"


def _deserialize_optimizer(config, custom_objects=None):
    if isinstance(config, Optimizer):
        return config
    return deserialize(config, custom_objects)


def _required_path(variable):
    path = _variable_path(variable)
    if not path:
        raise ValueError(
            "An OptimizerMap picks optimizers by the variable's `path` (e.g. 'dense/kernel'), "
            f"but this variable has none: it is not a strided weight. Received: variable="
            f"{type(variable).__name__} of shape {tuple(getattr(variable, 'shape', ()))}"
        )
    return path


class OptimizerMap(MutableMapping):
    """A class mapping variables to optimizers.

    Keys are variable paths (``'encoder/dense/kernel'``) or regular expressions that must match a
    whole path (``re.fullmatch``); variables that no key matches go to ``default_optimizer``. An
    exact key wins over patterns; a path matching more than one pattern is an error. Note that the
    weights of a Sequential model have the model's name first in their path
    (``'sequential/encoder/dense/kernel'``), while those of a functional model start with the layer.

    Args:
        default_optimizer: the ``Optimizer`` for every variable no key matches.
        optimizer_map: an optional dict ``{path or pattern: Optimizer}``.

    Example:

    >>> optimizer_map = OptimizerMap(default_optimizer=optimizers.RMSprop())
    >>> optimizer_map["encoder/layer_0/dense"] = optimizers.Adam()
    >>> optimizer_map["encoder/.*"] = optimizers.SGD()
    >>> optimizer_map["encoder/layer_0/attention/query"].name
    'sgd'
    >>> optimizer_map["decoder/layer_0/dense"].name
    'rmsprop'
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"default_optimizer must be a Keras Optimizer instance. Received: {default_optimizer}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = optimizer_map or {}

    @property
    def default_optimizer(self):
        """The optimizer of the variables that no key matches."""
        return self._default_optimizer

    def __getitem__(self, key):
        """The optimizer for ``key`` (a variable path): an exact key first, else the one pattern that
        ``re.fullmatch``-es it, else ``default_optimizer``.

        Raises:
            ValueError: if ``key`` matches more than one pattern.
        """
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}.")
        if matches:
            return self._optimizer_map[matches[0]]
        return self._default_optimizer

    def __setitem__(self, key, optimizer):
        """Maps ``key`` (a variable path or a regular expression) to ``optimizer``.

        Raises:
            ValueError: for a key already present, a key that is not a string, or an ``optimizer`` that
                is not an Optimizer, or is a LossScaleOptimizer or a MultiOptimizer.
        """
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value {self._optimizer_map[key]}. "
                "Please make sure to not use duplicated keys."
            )
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer}")
        if isinstance(optimizer, LossScaleOptimizer):
            raise ValueError("optimizer cannot be LossScaleOptimizer.")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        """The optimizer for ``variable``, looked up by its ``path``."""
        return self[_required_path(variable)]

    def get_config(self):
        return {
            "default_optimizer": serialize(self._default_optimizer),
            "optimizer_map": {key: serialize(opt) for key, opt in self._optimizer_map.items()},
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        default = _deserialize_optimizer(config["default_optimizer"], custom_objects)
        mapping = config.get("optimizer_map")
        if mapping is not None:
            mapping = {key: _deserialize_optimizer(value, custom_objects) for key, value in mapping.items()}
        return cls(default, mapping)

    def __repr__(self):
        return f"<OptimizerMap default_optimizer={self._default_optimizer!r} optimizer_map={self._optimizer_map!r}>"


def _serialize_map(optimizer_map):
    """Keras's ``serialize_keras_object`` layout for an OptimizerMap or a selector function."""
    if isinstance(optimizer_map, OptimizerMap):
        return {
            "module": _MODULE,
            "class_name": "OptimizerMap",
            "config": optimizer_map.get_config(),
            "registered_name": None,
        }
    if inspect.isfunction(optimizer_map) or inspect.ismethod(optimizer_map):
        return {
            "module": "builtins",
            "class_name": "function",
            "config": object_registration.get_registered_name(optimizer_map),
            "registered_name": "function",
        }
    if hasattr(optimizer_map, "get_config"):
        cls = type(optimizer_map)
        return {
            "module": cls.__module__,
            "class_name": cls.__name__,
            "config": optimizer_map.get_config(),
            "registered_name": object_registration.get_registered_name(cls),
        }
    raise TypeError(
        f"Cannot serialize the `optimizer_map` {optimizer_map!r}: it is neither an OptimizerMap, a "
        "function, nor an object with a `get_config()` method."
    )


def _deserialize_map(config, custom_objects=None):
    if not isinstance(config, dict):
        return config  # already an OptimizerMap or a callable
    class_name = config.get("class_name")
    if class_name == "OptimizerMap":
        return OptimizerMap.from_config(config.get("config") or {}, custom_objects)
    if class_name == "function":
        name = config.get("config")
        fn = object_registration.lookup(name, custom_objects)
        if fn is None:
            raise ValueError(
                f"Could not locate the optimizer selector function '{name}' of a MultiOptimizer. Pass "
                "it in `custom_objects` (e.g. `load_model(path, custom_objects={'"
                + str(name)
                + "': fn})`) or register it with `register_keras_serializable`. Received: "
                f"optimizer_map={config!r}"
            )
        return fn
    name = config.get("registered_name") or class_name
    cls = object_registration.lookup(name, custom_objects) or object_registration.lookup(class_name, custom_objects)
    if cls is None:
        raise ValueError(
            f"Could not locate the class '{class_name}' of a MultiOptimizer's `optimizer_map`. Pass it "
            f"in `custom_objects`. Received: optimizer_map={config!r}"
        )
    inner = dict(config.get("config") or {})
    return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)


class MultiOptimizer(Optimizer):
    """An optimizer wrapper that delegates variables to different optimizers.

    When it is built, ``optimizer_map`` (an ``OptimizerMap`` or a callable ``variable -> Optimizer``)
    picks each variable's optimizer; every inner optimizer is then built on its own variables, and
    ``apply`` hands each its gradients. Inner optimizers that a callable returns are added to
    ``optimizers`` as they are met.

    ``iterations`` counts the ``apply`` calls of the MultiOptimizer itself (each inner optimizer has
    its own). ``learning_rate`` cannot be read or set: learning rates belong to the inner optimizers
    (``LearningRateScheduler`` and ``ReduceLROnPlateau`` update each of them). ``variables`` are
    ``[iteration, learning_rate]`` followed by each inner optimizer's variables.

    Args:
        optimizer_map: an ``OptimizerMap`` or a callable returning the optimizer for a variable.
        loss_scale_factor: set on every inner optimizer (replacing theirs): the loss is multiplied by
            it and each inner optimizer divides its gradients by it.
        name: the optimizer name (default ``'multi_optimizer'``).

    Example:

    ```python
    model.compile(
        optimizer=MultiOptimizer(OptimizerMap(optimizers.SGD(), {"encoder/.*": optimizers.Adam()})),
        loss="binary_crossentropy")

    adam, sgd = optimizers.Adam(), optimizers.SGD()
    model.compile(optimizer=MultiOptimizer(lambda v: adam if "encoder" in v.path else sgd), loss="mse")
    ```
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        if not callable(optimizer_map):
            raise TypeError(
                "`optimizer_map` must be an OptimizerMap or a callable that returns the optimizer of a "
                f"variable. Received: optimizer_map={optimizer_map!r}"
            )
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers = []
        self._var_to_optimizer_idx = {}
        candidates = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        if default is not None:
            candidates.append(default)
        for opt in candidates:
            if not any(opt is known for known in self._inner_optimizers):
                opt.loss_scale_factor = loss_scale_factor
                self._inner_optimizers.append(opt)

    def _optimizer_index(self, opt):
        for k, known in enumerate(self._inner_optimizers):
            if known is opt:
                return k
        return None

    # ----------------------------------------------------------------------------- building
    def build(self, variables):
        """Picks each variable's optimizer and builds every inner optimizer on its variables."""
        if self.built:
            return
        variables = list(variables)
        assignment = {}
        groups = [[] for _ in self._inner_optimizers]
        for var in variables:
            opt = self._optimizer_map(var)
            if not isinstance(opt, Optimizer):
                label = getattr(var, "path", None) or f"of shape {tuple(var.shape)}"
                raise ValueError(f"Optimizer for variable {label} is not an Optimizer instance. Received: {opt!r}")
            if isinstance(opt, LossScaleOptimizer):
                raise ValueError("LossScaleOptimizer cannot be used inside an MultiOptimizer.")
            if isinstance(opt, MultiOptimizer):
                raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer.")
            idx = self._optimizer_index(opt)
            if idx is None:
                opt.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(opt)
                groups.append([])
                idx = len(self._inner_optimizers) - 1
            assignment[id(var)] = idx
            groups[idx].append(var)
        for opt, group in zip(self._inner_optimizers, groups):
            if group:
                opt.build(group)
        self._params = variables
        self._index = {id(v): i for i, v in enumerate(variables)}
        self._var_to_optimizer_idx = assignment
        self._finish_build()

    @property
    def optimizers(self):
        """The inner optimizers, in the order their variables are saved."""
        return self._inner_optimizers

    # ----------------------------------------------------------------------------- state
    @property
    def variables(self):
        """``[iteration, learning_rate]`` of the MultiOptimizer, then each inner optimizer's variables."""
        out = [torch.tensor(self._step, dtype=torch.int64), torch.tensor(self._lr, dtype=torch.float32)]
        for opt in self._inner_optimizers:
            out.extend(opt.variables)
        return out

    def _variable_names(self):
        names = ["iteration", "learning_rate"]
        for opt in self._inner_optimizers:
            names.extend(f"{opt.name}/{n}" for n in opt._variable_names())
        return names

    def _variable_segments(self):
        """``[(position of its first variable in variables, inner optimizer)]`` (for the saving code)."""
        out, pos = [], 2
        for opt in self._inner_optimizers:
            out.append((pos, opt))
            pos += len(opt.variables)
        return out

    def set_weights(self, weights):
        """Restores ``[iteration, learning_rate, *each inner optimizer's weights]`` (must be built)."""
        weights = list(weights)
        self._check_weights_to_set(weights)
        segments = self._variable_segments()
        for pos, opt in segments:  # check every shape before anything is assigned
            for k, var in enumerate(opt.variables):
                w = np.asarray(weights[pos + k])
                if tuple(var.shape) != tuple(w.shape):
                    raise ValueError(
                        f"Optimizer variable {pos + k} ({opt.name}) has shape {tuple(var.shape)} not "
                        f"compatible with provided weight shape {tuple(w.shape)}."
                    )
        self._step = int(np.asarray(weights[0]))
        self._lr = float(np.asarray(weights[1]))
        for pos, opt in segments:
            part = weights[pos : pos + len(opt.variables)]
            if opt.built:
                opt.set_weights(part)
            else:
                # an inner optimizer that got no variable is never built: only its counter and rate
                opt.iterations = int(np.asarray(part[0]))
                if len(part) > 1 and isinstance(opt._lr, float):
                    opt._lr = float(np.asarray(part[1]))

    # ----------------------------------------------------------------------------- applying
    @torch.no_grad()
    def apply(self, grads, variables=None):
        """Hands each gradient to the optimizer of its variable, then counts one iteration.

        Args:
            grads: list of gradient tensors.
            variables: the matching variables; None means the list the optimizer was built with.
        """
        grads, variables = self._apply_arguments(grads, variables)
        if not grads:
            return
        groups = [([], []) for _ in self._inner_optimizers]
        for grad, var in zip(grads, self._params if variables is None else variables):
            idx = self._var_to_optimizer_idx.get(id(var))
            if idx is None:
                raise ValueError(
                    "Unknown variable: this optimizer can only be called for the variables it was "
                    "originally built with. When working with a new set of variables, you should "
                    f"recreate a new optimizer instance. Received: variable "
                    f"{getattr(var, 'path', None) or tuple(var.shape)}"
                )
            groups[idx][0].append(grad)
            groups[idx][1].append(var)
        reduced = getattr(self, "_gradients_reduced", False)
        for opt, (sub_grads, sub_vars) in zip(self._inner_optimizers, groups):
            if not sub_grads:
                continue
            opt._apply_as_inner(sub_grads, sub_vars, reduced)
        self._step += 1

    def _count_mismatch_message(self, n_grads, n_variables, own_variables):
        return (
            "Gradients must match trainable variables one-to-one. "
            f"Received {n_grads} gradients and {n_variables} variables."
        )

    @torch.no_grad()
    def finalize_variable_values(self, var_list):
        """Lets each inner optimizer finalize its own variables (moving averages with ``use_ema``)."""
        if not self.built:
            return
        groups = [[] for _ in self._inner_optimizers]
        for var in var_list:
            idx = self._var_to_optimizer_idx.get(id(var))
            if idx is not None:
                groups[idx].append(var)
        for opt, group in zip(self._inner_optimizers, groups):
            if group:
                opt.finalize_variable_values(group)

    # ----------------------------------------------------------------------------- properties
    @property
    def learning_rate(self):
        """Not available on a MultiOptimizer: raises AttributeError (read the inner optimizers')."""
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on the "
            "individual sub-optimizers instead."
        )

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the "
            "individual sub-optimizers instead."
        )

    lr = learning_rate

    @property
    def loss_scale_factor(self):
        """The loss scale factor, also set on every inner optimizer when assigned."""
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for opt in getattr(self, "_inner_optimizers", ()):
            opt.loss_scale_factor = value

    # ----------------------------------------------------------------------------- config
    def get_config(self):
        return {
            "optimizer_map": _serialize_map(self._optimizer_map),
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def _objects_from_config(cls, config, custom_objects):
        config["optimizer_map"] = _deserialize_map(config.get("optimizer_map"), custom_objects)
        return config

    def __repr__(self):
        return f"<MultiOptimizer name={self.name} optimizers={self._inner_optimizers!r}>"
