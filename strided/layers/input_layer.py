"""Input and InputLayer: the entry points of a functional graph."""

from strided import config
from strided.layers.base import Layer
from strided.backend.keras_tensor import KerasTensor, Node
from strided.utils import validation
from strided.utils.general_utils import named_arguments


class InputLayer(Layer):
    """The layer behind ``Input``: holds the input shape and produces the first symbolic tensor.

    Args:
        shape: shape of one sample, without the batch dimension, e.g. ``(28, 28)``.
        batch_size: optional fixed batch size.
        dtype: input dtype name (default floatx).
        sparse: accepted for Keras compatibility; inputs are dense tensors.
        ragged: only ``None``/``False``: ragged tensors need TensorFlow (Keras-torch refuses them too).
        batch_shape: full shape including the batch dimension (alternative to shape/batch_size).
        input_tensor: accepted for Keras compatibility.
        optional: only ``False``: strided models need a value for every input.
        name: layer name (default ``input_layer``, ``input_layer_1``...).

    Input shape:
        None: the layer is the start of a model.

    Output shape:
        ``(batch_size, *shape)``: a symbolic tensor (``batch_size`` ``None`` unless given).

    Example:

    >>> layer = keras.layers.InputLayer(shape=(28, 28, 1))
    >>> layer.output.shape
    (None, 28, 28, 1)
    >>> keras.Input((28, 28, 1)).shape  # keras.Input makes the same layer and returns its output
    (None, 28, 28, 1)
    """

    _is_input_layer = True  # what backend.keras_tensor.get_source_inputs looks for

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        sparse=None,
        ragged=None,
        batch_shape=None,
        input_tensor=None,
        optional=False,
        name=None,
        **kwargs,
    ):
        if ragged:
            raise ValueError(f"`ragged=True` is not supported with the torch backend. Received: ragged={ragged!r}")
        if optional:
            raise ValueError(
                "Optional inputs are not supported by strided: every model input needs a value. "
                f"Received: optional={optional!r}"
            )
        # Keras 2 spellings.
        shape = kwargs.pop("input_shape", shape)
        batch_shape = kwargs.pop("batch_input_shape", batch_shape)
        if dtype is not None and getattr(dtype, "name", dtype) != "string":
            config.torch_dtype(dtype)  # an unknown name is refused here, not at the first Model build
        super().__init__(name=name, dtype=dtype, **kwargs)
        batch_size = validation.positive_int(batch_size, "batch_size", allow_none=True)
        if shape is None and batch_shape is None:
            raise ValueError("You must pass a `shape` argument to Input, e.g. Input(shape=(28, 28, 1)).")
        if batch_shape is None:
            if isinstance(shape, int):
                shape = (shape,)
            try:
                shape = tuple(shape)
            except TypeError:
                raise TypeError(
                    f"Invalid type for argument `shape`. Expected a tuple of integers. Received shape={shape!r}."
                ) from None
            batch_shape = (batch_size,) + shape
        if not isinstance(batch_shape, (list, tuple)):
            raise TypeError(
                f"Invalid type for argument `batch_shape`. Expected a tuple of integers. "
                f"Received batch_shape={batch_shape!r}."
            )
        if batch_shape and batch_shape[0] is not None:
            validation.positive_int(batch_shape[0], "batch_size")
        for d in batch_shape[1:]:
            if d is not None and (not isinstance(d, int) or isinstance(d, bool) or d < 0):
                raise ValueError(
                    f"Invalid value for argument `shape`. Expected a tuple of non-negative integers or "
                    f"None. Received shape={tuple(batch_shape[1:])!r}."
                )
        self._batch_input_shape = tuple(batch_shape)
        self.sparse = bool(sparse)
        self.built = True
        tensor = KerasTensor(self._batch_input_shape, self.dtype, name=self.name, history=(self, 0, 0))
        self._inbound_nodes.append(Node(self, (), {}, tensor))

    @classmethod
    def _default_name(cls):
        return "input_layer"

    @property
    def batch_shape(self):
        return self._batch_input_shape

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": self._batch_input_shape, "dtype": self.dtype, "sparse": self.sparse, "name": self.name}


def Input(
    shape=None,
    batch_size=None,
    dtype=None,
    sparse=None,
    ragged=None,
    batch_shape=None,
    name=None,
    tensor=None,
    optional=False,
    **kwargs,
):
    """Creates a symbolic input tensor, the start of a functional model (arguments: ``InputLayer``'s).

    Example: ``inputs = Input(shape=(28, 28, 1))``.
    """
    arguments = named_arguments(locals())
    arguments.pop("tensor")  # Keras's input_tensor; strided's InputLayer builds its own symbolic tensor
    layer = InputLayer(**arguments, **kwargs)
    return layer.output
