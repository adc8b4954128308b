"""Activation layers with parameters: ReLU, LeakyReLU, PReLU, ELU, Softmax."""

import torch
import torch.nn.functional as F

from strided.layers import _util
from strided.layers.base import Layer
from strided.ops import nn_functions
from strided.utils import validation


@_util.shared_doc
class ReLU(Layer):
    """Rectified linear unit with Keras's options.

    ``f(x) = max_value if x >= max_value``, ``x if threshold <= x < max_value``,
    ``negative_slope * (x - threshold)`` otherwise.

    Args:
        max_value: float >= 0, the largest output (default: unbounded).
        negative_slope: float >= 0, slope below the threshold (default 0).
        threshold: float, the threshold below which values are damped (default 0).

    {{same_shape}}

    Example:

    >>> x = np.array([-3.0, -1.0, 0.0, 2.0, 8.0], dtype="float32")
    >>> keras.layers.ReLU()(x).numpy().tolist()
    [0.0, 0.0, 0.0, 2.0, 8.0]
    >>> keras.layers.ReLU(max_value=6.0)(x).numpy().tolist()
    [0.0, 0.0, 0.0, 2.0, 6.0]
    >>> keras.layers.ReLU(negative_slope=0.5, threshold=1.0)(x).numpy().tolist()
    [-2.0, -1.0, -0.5, 2.0, 8.0]
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    _config_keys = ("max_value", "negative_slope", "threshold")

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        if max_value is not None:
            max_value = validation.number(max_value, "max_value")
            if max_value < 0:
                raise ValueError(
                    f"max_value of a ReLU layer cannot be a negative value. Received: max_value={max_value}"
                )
        negative_slope = validation.number(negative_slope, "negative_slope")
        if negative_slope < 0:
            raise ValueError(
                f"negative_slope of a ReLU layer cannot be a negative value. Received: negative_slope={negative_slope}"
            )
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = validation.number(threshold, "threshold")
        if self.threshold < 0:
            raise ValueError(
                f"threshold of a ReLU layer cannot be None or a negative value. Received: threshold={threshold}"
            )
        super().__init__(**kwargs)

    def call(self, inputs):
        if (
            self.max_value is None
            and self.negative_slope == 0.0
            and self.threshold == 0.0
            and type(inputs) is torch.Tensor
            and inputs.is_floating_point()
        ):
            return torch.relu(inputs)  # nn_functions.relu's plain case, without its argument handling
        return nn_functions.relu(
            inputs, negative_slope=self.negative_slope, max_value=self.max_value, threshold=self.threshold
        )

    def _channels_first_call(self):
        """Elementwise: runs on a channels-first view as on the input (see ``BaseConv._channels_first_call``)."""
        return self.call, False


@_util.shared_doc
class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    Args:
        negative_slope: float >= 0 (Keras default 0.3; tf.keras 2's ``alpha=`` is accepted too).

    {{same_shape}}

    Example:

    >>> x = np.array([-10.0, -1.0, 0.0, 2.0], dtype="float32")
    >>> print(keras.layers.LeakyReLU()(x).numpy())
    [-3.  -0.3  0.   2. ]
    >>> print(keras.layers.LeakyReLU(negative_slope=0.1)(x).numpy())
    [-1.  -0.1  0.   2. ]
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    _config_keys = ("negative_slope",)

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        negative_slope = validation.number(negative_slope, "negative_slope")
        if negative_slope < 0:
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative value. "
                f"Expected a float. Received: negative_slope={negative_slope}"
            )
        self.negative_slope = negative_slope
        super().__init__(**kwargs)

    def call(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)


@_util.shared_doc
class PReLU(Layer):
    """Leaky ReLU with a learned slope per position: ``relu(x) - alpha * relu(-x)``.

    Args:
        alpha_initializer: initializer of the slopes (default 'zeros').
        alpha_regularizer: optional regularizer of the slopes.
        alpha_constraint: optional constraint of the slopes.
        shared_axes: axes (1-indexed, batch excluded) along which the slope is shared, e.g. ``[1, 2]`` for
            one slope per channel of an image.

    {{same_shape}}

    Example:

    >>> layer = keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25), shared_axes=[1, 2])
    >>> x = -np.ones((1, 4, 4, 3), dtype="float32")
    >>> tuple(layer(x).shape), layer.get_weights()[0].shape  # one slope per channel
    ((1, 4, 4, 3), (1, 1, 3))
    >>> float(layer(x)[0, 0, 0, 0])
    -0.25
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    def __init__(
        self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None, **kwargs
    ):
        _util.set_weight_options(self, "alpha", alpha_initializer, alpha_regularizer, alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [validation.positive_int(a, "shared_axes") for a in shared_axes]
        else:
            self.shared_axes = [validation.positive_int(shared_axes, "shared_axes")]
        super().__init__(**kwargs)

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for a in self.shared_axes or []:
            if a > len(shape):
                raise ValueError(
                    f"Invalid shared_axes {self.shared_axes} for layer '{self.name}' on an input of "
                    f"shape {tuple(input_shape)}."
                )
            shape[a - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(
                f"Layer '{self.name}' needs every non-shared input axis to be known. "
                f"Received input_shape={tuple(input_shape)}, shared_axes={self.shared_axes}"
            )
        self._built_shape = tuple(input_shape)
        self.alpha = _util.add_weight_with_options(self, "alpha", tuple(shape))
        super().build(input_shape)

    def check_input(self, shape):
        built = getattr(self, "_built_shape", None)
        if built is not None and isinstance(shape, tuple):
            _util.check_spec(
                self,
                shape,
                ndim=len(built),
                axes={i: d for i, d in enumerate(built) if i > 0 and i not in (self.shared_axes or [])},
            )

    def call(self, inputs):
        x = _util.cast_like(inputs, self.alpha)
        return F.relu(x) - self.alpha * F.relu(-x)

    def get_config(self):
        config = super().get_config()
        config.update(_util.weight_options_config(self, "alpha", activity=False))
        config["shared_axes"] = self.shared_axes
        return config


@_util.shared_doc
class ELU(Layer):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Args:
        alpha: float, scale of the negative part (default 1.0).

    {{same_shape}}

    Example:

    >>> x = np.array([-2.0, 0.0, 2.0], dtype="float32")
    >>> print(keras.layers.ELU()(x).numpy().round(4))
    [-0.8647  0.      2.    ]
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    _config_keys = ("alpha",)

    def __init__(self, alpha=1.0, **kwargs):
        self.alpha = validation.number(alpha, "alpha")
        super().__init__(**kwargs)

    def call(self, inputs):
        return F.elu(inputs, self.alpha)


@_util.shared_doc
class Softmax(Layer):
    """Softmax over ``axis``: ``exp(x) / sum(exp(x))``.

    Args:
        axis: int or tuple of ints, the normalization axis (default -1).

    Call arguments: ``inputs``, optional ``mask`` broadcastable to ``inputs`` (booleans, or numbers where
    ``> 0.5`` keeps): masked entries get probability 0, as in Keras 3 (the scores are replaced by -1e9,
    -3e4 in float16, before the softmax, and the masked outputs set to 0). By default the mask an upstream
    layer attached to ``inputs`` is used.

    {{same_shape}}

    Example:

    >>> x = np.array([[1.0, 2.0, 3.0]], dtype="float32")
    >>> print(keras.layers.Softmax()(x).numpy().round(4))
    [[0.09   0.2447 0.6652]]
    >>> mask = np.array([[True, True, False]])
    >>> print(keras.layers.Softmax()(x, mask=mask).numpy().round(4))
    [[0.2689 0.7311 0.    ]]
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    _config_keys = ("axis",)

    def __init__(self, axis=-1, **kwargs):
        self.axis = _util.axis_arg(axis)
        super().__init__(**kwargs)

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = torch.as_tensor(mask, device=inputs.device)
            if mask.ndim > inputs.ndim or any(m != 1 and m != i for m, i in zip(mask.shape[::-1], inputs.shape[::-1])):
                raise ValueError(
                    "The `mask` must be broadcastable to `inputs`: each mask dimension must be 1 or match "
                    f"the corresponding input dimension, and the mask must not have more dimensions. "
                    f"Received: inputs.shape={tuple(inputs.shape)}, mask.shape={tuple(mask.shape)} "
                    f"(layer '{self.name}')"
                )
            if mask.dtype != torch.bool:
                mask = mask > 0.5
            big = -3e4 if inputs.dtype == torch.float16 else -1e9
            inputs = torch.where(mask, inputs, torch.tensor(big, dtype=inputs.dtype, device=inputs.device))
        if isinstance(self.axis, list):
            if len(self.axis) > 1:
                outputs = torch.exp(inputs - torch.logsumexp(inputs, dim=self.axis, keepdim=True))
            else:
                outputs = F.softmax(inputs, dim=self.axis[0])
        else:
            outputs = F.softmax(inputs, dim=self.axis)
        if mask is not None:
            # (a fully masked axis would otherwise give a uniform distribution)
            outputs = torch.where(mask, outputs, torch.zeros((), dtype=outputs.dtype, device=outputs.device))
        return outputs
