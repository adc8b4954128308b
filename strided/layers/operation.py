"""Operation layers: what ``x + y`` or ``x[:, 0]`` on symbolic tensors become in a functional graph."""

import numbers

import torch

from strided.backend import keras_tensor
from strided.backend.name_scope import unique_name
from strided.layers.base import Layer
from strided.backend.keras_tensor import KerasTensor


def get_item(x, key):
    """``x[key]``; a list key (how a saved config holds a tuple) indexes like the tuple it was."""
    return x[tuple(key) if isinstance(key, list) else key]


# Operations that Keras records as ``keras.src.ops.numpy`` entries in saved configs: op name ->
# (Keras class name, torch function). These serialize, in both directions, as Keras writes them.
KERAS_OPS = {
    "add": ("Add", torch.add),
    "subtract": ("Subtract", torch.sub),
    "multiply": ("Multiply", torch.mul),
    "divide": ("TrueDivide", torch.true_divide),
    "negative": ("Negative", torch.neg),
    "get_item": ("GetItem", get_item),
}
KERAS_OP_CLASSES = {cls: (name, fn) for name, (cls, fn) in KERAS_OPS.items()}


class TorchOperation(Layer):
    """Applies a torch function to its symbolic inputs; constants are captured at graph-build time."""

    def __init__(self, fn, op_name, constants, **kwargs):
        super().__init__(name=kwargs.pop("name", None) or None, **kwargs)
        self.fn = fn
        self.op_name = op_name
        self._constants = constants  # positions in the argument list that are not graph inputs
        self.keras_class = KERAS_OPS[op_name][0] if op_name in KERAS_OPS and fn is KERAS_OPS[op_name][1] else None

    def full_args(self, inputs, as_python=True):
        """The op's whole argument list, graph inputs and constants in their positions (Keras's node args; with
        ``as_python`` a 0-d tensor constant as a Python number)."""
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        args, it = [], iter(tensors)
        for position, const in self._constants:
            while len(args) < position:
                args.append(next(it))
            args.append(const.item() if as_python and isinstance(const, torch.Tensor) and const.ndim == 0 else const)
        args.extend(it)
        return args

    @classmethod
    def _default_name(cls):
        return "operation"

    def call(self, inputs):
        return self.fn(*self.full_args(inputs, as_python=False))

    def get_config(self):
        if self.keras_class is None:
            raise NotImplementedError(
                f"The operation '{self.op_name}' on symbolic tensors cannot be serialized; "
                "use a named layer (Add, Multiply, Lambda...) in models you save."
            )
        return {"name": self.name}


def apply_operation(fn, name, *operands, layer_name=None):
    """Builds an operation node from operands that mix KerasTensors and constants."""
    tensors, constants = [], []
    for i, operand in enumerate(operands):
        if fn is get_item and i == 1:  # the indexing key stays a Python structure (slices, ints, None, ...)
            _check_index_key(operand)
            constants.append((i, operand))
        elif isinstance(operand, KerasTensor):
            tensors.append(operand)
        else:
            if not isinstance(operand, torch.Tensor):
                operand = torch.as_tensor(operand)
            constants.append((i, operand))
    layer = TorchOperation(fn, name, constants, name=layer_name or unique_name(name))
    if fn is not get_item:
        return layer(tensors if len(tensors) > 1 else tensors[0])
    try:
        return layer(tensors[0])
    except IndexError as err:
        raise ValueError(
            f"The index is out of range for a tensor of shape {tensors[0].shape}: {err}. Received: key={operands[1]!r}"
        ) from None


def _check_index_key(key):
    """Indexing a symbolic tensor takes what Keras's GetItem takes: ints, slices, None and one Ellipsis."""
    parts = list(key) if isinstance(key, (tuple, list)) else [key]
    for part in parts:
        if isinstance(part, KerasTensor) or not (
            part is None or part is Ellipsis or isinstance(part, (numbers.Integral, slice))
        ):
            raise ValueError(
                "Indexing a symbolic tensor takes integers, slices, None and `...`; use a layer "
                f"(e.g. ops.take inside a Lambda) for other indices. Received: key={key!r}"
            )
    if parts.count(Ellipsis) > 1:
        raise ValueError(f"An index can hold only one ellipsis (`...`). Received: key={key!r}")


keras_tensor.register_recorder("operation", apply_operation)
keras_tensor.register_recorder("get_item", get_item)
