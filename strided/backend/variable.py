"""``Variable``: a weight, a ``torch.nn.Parameter`` that knows its Keras name, path and layout."""

import copy

import numpy as np
import torch

from strided import config, initializers
from strided.backend.name_scope import current_path, unique_name


# ---------------------------------------------------------------- a weight's Keras view
# Weights are stored in torch's layout (a conv kernel is ``(out, in, *k)``) and remember, in
# ``_keras_layout``, the permutation that gives their Keras layout (``(*k, in, out)``). These three
# functions are the only places that apply it; they take any tensor (a plain Parameter has no layout).


def keras_view(weight, tensor=None):
    """``tensor`` (default: ``weight`` itself; a tensor or an array), shaped like ``weight``, in Keras axis
    order: for a tensor a permuted view, so in-place ops on it write through."""
    tensor = weight if tensor is None else tensor
    layout = getattr(weight, "_keras_layout", None)
    if not layout:
        return tensor
    return tensor.permute(*layout) if isinstance(tensor, torch.Tensor) else np.transpose(tensor, layout)


def stored_view(weight, tensor):
    """A tensor (or array, with NumPy's ``transpose``) in ``weight``'s Keras layout, in its stored layout."""
    layout = getattr(weight, "_keras_layout", None)
    if not layout:
        return tensor
    inverse = np.argsort(layout)
    return tensor.permute(*inverse) if isinstance(tensor, torch.Tensor) else np.transpose(tensor, inverse)


def keras_shape(weight):
    """``weight``'s shape in Keras layout."""
    layout = getattr(weight, "_keras_layout", None)
    return tuple(weight.shape[i] for i in layout) if layout else tuple(weight.shape)


def _rebuild_variable(data, requires_grad, attributes):
    variable = Variable(data, requires_grad=requires_grad)
    variable.__dict__.update(attributes)
    return variable


_VARIABLE_AGGREGATIONS = (None, "none", "mean", "sum", "only_first_replica")
_VARIABLE_SYNCHRONIZATIONS = (None, "none", "on_read", "on_write", "auto")


def _optional_callable(name, example, doc):
    """A Variable property holding a callable or None (its ``constraint``, its ``regularizer``)."""
    attr = f"_keras_{name}"

    def get(self):
        return getattr(self, attr, None)

    def set(self, value):
        if value is not None and not callable(value):
            raise ValueError(
                f"Invalid value for attribute `{name}`. Expected a callable (such as a "
                f"`{example}` instance) or `None`. Received: {name}={value}"
            )
        setattr(self, attr, value)

    return property(get, set, doc=doc)


class Variable(torch.nn.Parameter):
    """A weight: a ``torch.nn.Parameter`` with the Keras 3 ``keras.Variable`` API.

    Layers make them with ``add_weight`` (stored in torch layout, see there); user code can make one as
    Keras does, ``Variable(initializer, shape=None, dtype=None, trainable=True, name=None)``.

    Args:
        initializer: an initial value (array, list, number, tensor), or an initializer name or callable
            called as ``initializer(shape, dtype=dtype)`` (then ``shape`` is required).
        shape: the shape, for a callable or named ``initializer``.
        dtype: the dtype name; default the initial value's dtype, or ``floatx()`` for an initializer.
        trainable: whether gradients are computed for it (``requires_grad``).
        autocast: accepted for Keras compatibility (mixed precision is applied by the trainer).
        aggregation: ``"none"``, ``"mean"``, ``"sum"`` or ``"only_first_replica"`` (an annotation).
        synchronization: ``"none"``, ``"on_read"``, ``"on_write"`` or ``"auto"`` (an annotation).
        name: the variable name (no ``/``); default ``variable``, ``variable_1``...

    ``value`` is the parameter itself, so Keras-on-PyTorch code such as a custom ``train_step``
    reading ``[v.value.grad for v in self.trainable_weights]`` runs unchanged. ``assign``,
    ``assign_add`` and ``assign_sub`` update it in place, outside autograd.

    Example:

    ```python
    v = strided.Variable(initializer=np.ones((2, 2)), trainable=False, name="counts")
    v.assign_add(np.ones((2, 2)))
    ```
    """

    def __new__(
        cls,
        initializer=None,
        shape=None,
        dtype=None,
        trainable=True,
        autocast=True,
        aggregation="none",
        synchronization="auto",
        name=None,
        requires_grad=None,
        **kwargs,
    ):
        if requires_grad is not None or isinstance(shape, bool):
            # torch's own construction, Parameter(data, requires_grad): add_weight, deepcopy, unpickling
            return super().__new__(cls, initializer, shape if requires_grad is None else requires_grad)
        return cls._keras_new(initializer, shape, dtype, trainable, aggregation, synchronization, name, kwargs)

    def __init__(self, *args, **kwargs):  # all done in __new__
        super().__init__()

    @classmethod
    def _keras_new(cls, initializer, shape, dtype, trainable, aggregation, synchronization, name, kwargs):
        kwargs.pop("layout", None)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to Variable: {kwargs}")
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                f"Argument `name` must be a string and cannot contain character `/`. Received: name={name}"
            )
        if aggregation not in _VARIABLE_AGGREGATIONS:
            raise ValueError(
                "Invalid value for argument `aggregation`. Expected one of `None`, `'none'`, `'mean'`, "
                f"`'sum'`, `'only_first_replica'`. Received: aggregation={aggregation}"
            )
        if synchronization not in _VARIABLE_SYNCHRONIZATIONS:
            raise ValueError(
                "Invalid value for argument `synchronization`. Expected one of `None`, `'none'`, "
                f"`'on_read'`, `'on_write'`, `'auto'`. Received: synchronization={synchronization}"
            )
        if isinstance(initializer, str) or (callable(initializer) and not isinstance(initializer, torch.Tensor)):
            init = initializers.get(initializer)
            if shape is None:
                raise ValueError(
                    "When creating a Variable from an initializer, the `shape` argument should be "
                    f"specified. Received: initializer={init} and shape={shape}"
                )
            shape = tuple(int(s) for s in shape)
            value = torch.as_tensor(
                init(shape, dtype=dtype or config.floatx()), dtype=config.torch_dtype(dtype or config.floatx())
            )
        else:
            if initializer is None:
                raise ValueError(
                    "Argument `initializer` must be an initial value or an initializer. Received: initializer=None"
                )
            if isinstance(initializer, torch.Tensor):
                value = initializer.detach().clone()
            else:
                arr = np.asarray(initializer)
                if arr.dtype.kind == "f" and not isinstance(initializer, np.ndarray) and dtype is None:
                    arr = arr.astype(config.floatx())  # Python floats follow floatx; NumPy arrays keep theirs
                value = torch.as_tensor(arr.copy())
            if dtype is not None:
                value = value.to(config.torch_dtype(dtype))
            if shape is not None and tuple(value.shape) != tuple(shape):
                raise ValueError(
                    f"Initial value has shape {tuple(value.shape)}, but the variable's `shape` is "
                    f"{tuple(shape)}. Received: shape={shape}"
                )
        grad = bool(trainable) and (value.is_floating_point() or value.is_complex())
        variable = super().__new__(cls, value.to(config.get_device()), grad)
        name = name or unique_name("variable")
        variable._keras_name = name
        variable._keras_path = "/".join(filter(None, [current_path(), name]))
        variable._keras_trainable = bool(trainable)
        variable._keras_layout = None
        variable._keras_regularizer = None
        variable._keras_constraint = None
        variable._keras_aggregation = aggregation or "none"
        variable._keras_synchronization = synchronization or "none"
        return variable

    @property
    def value(self):
        return self

    @property
    def name(self):
        """The weight's Keras name (``'kernel'``)."""
        return getattr(self, "_keras_name", None)

    @property
    def path(self):
        """Keras's variable path, the weight's name under the scopes it was made in (``'dense/kernel'``)."""
        return getattr(self, "_keras_path", None) or self.name

    # ------------------------------------------------------------------ Keras attributes
    @property
    def trainable(self):
        """Whether the variable is trained (its ``requires_grad``); settable, as in Keras.

        Setting it also moves the variable in or out of its layer's ``trainable_weights``.
        """
        return bool(self.requires_grad)

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        if getattr(self, "_keras_trainable", True):
            self._keras_frozen = not value
        elif value:
            self._keras_trainable, self._keras_frozen = True, False
        if value and not (self.is_floating_point() or self.is_complex()):
            raise ValueError(
                f"Only variables of a floating point dtype can be trainable. Received a variable of "
                f"dtype {self.dtype} for trainable={value}"
            )
        self.requires_grad_(value)

    constraint = _optional_callable(
        "constraint",
        "keras.constraints.Constraint",
        "The constraint applied (on the Keras layout) after each optimizer update, or None.",
    )
    regularizer = _optional_callable(
        "regularizer",
        "keras.regularizers.Regularizer",
        "The weight regularizer whose penalty joins the layer's ``losses``, or None.",
    )

    @property
    def aggregation(self):
        """How a distributed copy of this variable is aggregated (``'none'`` unless given)."""
        return getattr(self, "_keras_aggregation", "none")

    @property
    def synchronization(self):
        """How a distributed copy of this variable is synchronized (``'auto'`` unless given)."""
        return getattr(self, "_keras_synchronization", "auto")

    @property
    def overwrite_with_gradient(self):
        """Whether optimizers replace this variable by its gradient instead of a descent step (Keras's
        float8 scales use it); settable with a bool."""
        return getattr(self, "_keras_overwrite_with_gradient", False)

    @overwrite_with_gradient.setter
    def overwrite_with_gradient(self, value):
        if not isinstance(value, bool):
            raise TypeError(f"`overwrite_with_gradient` must be a boolean. Received: {value}")
        self._keras_overwrite_with_gradient = value
        if value:
            Variable._overwrite_flags += 1  # optimizers look for such variables only once one exists

    _overwrite_flags = 0

    def _keras_shape(self):
        return keras_shape(self)

    def _stored(self, value, broadcast=False):
        """``value`` as a tensor in this variable's storage layout, dtype and device.

        A variable stored in torch layout (a conv kernel) takes values in its Keras layout (NumPy arrays,
        as ``get_weights`` gives) or, for torch tensors, in the stored layout (``v - lr * v.grad``).
        """
        t = value.detach() if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
        if t.device != self.device and not t.is_meta:
            t = t.to(self.device)
        if t.dtype != self.dtype:
            t = t.to(self.dtype)
        layout = getattr(self, "_keras_layout", None)
        if not layout:
            return t
        shape, keras_shape = tuple(t.shape), self._keras_shape()
        if shape == tuple(self.shape) and (isinstance(value, torch.Tensor) or shape != keras_shape):
            return t
        if shape != keras_shape and broadcast:
            try:
                t = torch.broadcast_to(t, keras_shape)
            except RuntimeError:
                return t
            shape = keras_shape
        if shape == keras_shape:
            return stored_view(self, t)
        return t

    def _keras_value(self):
        return keras_view(self, self.detach())

    def assign(self, value):
        """Sets the variable to ``value`` in place (outside autograd) and returns the new value.

        ``value`` must have the variable's (Keras) shape; it is cast to the variable's dtype.
        """
        t = self._stored(value)
        self._check_assign_shape(t, value)
        if not (t.is_meta or self.is_meta):  # a shape-only (symbolic) call changes nothing
            with torch.no_grad():
                self.copy_(t)
        return self._keras_value().clone()

    def assign_add(self, value):
        """Adds ``value`` to the variable in place (``assign(variable + value)``); returns the new value."""
        t = self._stored(value, broadcast=True)
        if not (t.is_meta or self.is_meta):
            return self.assign(self.detach() + t)
        return self._keras_value()

    def assign_sub(self, value):
        """Subtracts ``value`` from the variable in place (``assign(variable - value)``); returns the new value."""
        t = self._stored(value, broadcast=True)
        if not (t.is_meta or self.is_meta):
            return self.assign(self.detach() - t)
        return self._keras_value()

    def _check_assign_shape(self, t, value):
        if tuple(t.shape) != tuple(self.shape):
            received = tuple(np.shape(value)) if not isinstance(value, torch.Tensor) else tuple(value.shape)
            raise ValueError(
                "The shape of the target variable and the shape of the target value in "
                f"`variable.assign(value)` must match. variable.shape={self._keras_shape()}, "
                f"Received: value.shape={received}. Target variable: {self.path}"
            )

    def numpy(self, *, force=False):
        """The value as a NumPy array in Keras layout (what ``get_weights`` gives for this variable)."""
        return self._keras_value().cpu().numpy().copy()

    def __reduce_ex__(self, protocol):
        # Pickling (torch.save(model), multiprocessing) rebuilds a Variable with its Keras attributes;
        # torch's Parameter reduction would come back as a plain Parameter.
        return _rebuild_variable, (self.data, self.requires_grad, dict(self.__dict__))

    def __deepcopy__(self, memo):
        # torch's Parameter.__deepcopy__ drops instance attributes; the Keras ones (name, layout,
        # trainable flag, regularizer, constraint) must survive `copy.deepcopy(model)`.
        result = super().__deepcopy__(memo)
        for key, value in self.__dict__.items():
            if key not in result.__dict__:
                setattr(result, key, copy.deepcopy(value, memo))
        return result
