"""Regularization layers: Dropout and its spatial versions, Gaussian noise/dropout, ActivityRegularization.

Random layers act only when called with ``training=True`` (``fit`` does); otherwise they return their
input unchanged. Randomness comes from torch's generator, seeded by ``strided.utils.set_random_seed``;
a layer built with ``seed=`` has its own generator, so its masks repeat from run to run.
"""

import math

import torch
import torch.nn.functional as F

from strided.layers import _util
from strided.layers.base import Layer
from strided.utils import conv_utils, validation
from strided.utils.docstrings import fill_doc
from strided import regularizers


class SeededRandom:
    """Mixin of the layers with a ``seed`` argument (dropout and noise layers, RNN cells' dropout, image
    augmentation): with a seed, the layer draws from its own ``torch.Generator`` per device, seeded once,
    so that its draws go on from call to call and repeat from run to run; without one (or on the meta
    device of shape inference), from torch's global generator."""

    def _init_seed(self, seed):
        self.seed = validation.positive_int(seed, "seed", allow_none=True, allow_zero=True)
        self._generators = {}

    def _generator(self, device):
        device = torch.device(device)
        if self.seed is None or device.type == "meta":
            return None
        gen = self._generators.get(str(device))
        if gen is None:
            gen = self._generators[str(device)] = torch.Generator(device=device)
            gen.manual_seed(self.seed)
        return gen


class _RandomLayer(SeededRandom, Layer):
    """A layer that is random in training: its config is its ``_config_keys`` attributes, then ``seed``."""

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config

    def _keep_mask(self, shape, keep, like):
        """Scaled Bernoulli mask ``{0, 1/keep}`` of ``shape`` (broadcast against the input)."""
        mask = torch.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(
            keep, generator=self._generator(like.device)
        )
        return mask.div_(keep)

    def _normal(self, like, mean, std):
        return torch.empty_like(like).normal_(mean, std, generator=self._generator(like.device))


@_util.shared_doc
class Dropout(_RandomLayer):
    """Sets a fraction ``rate`` of the inputs to 0 in training and scales the rest by ``1 / (1 - rate)``.

    Args:
        rate: float in [0, 1], the fraction of the inputs to drop.
        noise_shape: optional shape of the binary mask, broadcast against the input; ``None`` entries
            take the input's size (e.g. ``(None, 1, 1, None)`` drops whole feature maps).
        seed: optional integer seed for this layer's own random generator.

    Call arguments: ``inputs``, ``training`` (dropout applies only when True).

    {{same_shape}}

    Example:

    >>> x = np.ones((4, 250), dtype="float32")
    >>> layer = keras.layers.Dropout(0.5, seed=1)
    >>> sorted(set(layer(x, training=True).numpy().ravel().tolist()))  # dropped, or scaled by 1 / (1 - 0.5)
    [0.0, 2.0]
    >>> bool((layer(x, training=False).numpy() == x).all())  # inference: the identity
    True
    """

    _config_keys = ("rate", "noise_shape")
    supports_masking = True  # Keras: the mask of the input passes to the output

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        self.rate = _util.rate(rate)
        if noise_shape is not None:
            noise_shape = tuple(validation.sequence_of(noise_shape, "noise_shape", "integers or None"))
            for n in noise_shape:
                if n is not None:
                    validation.positive_int(n, "noise_shape")
        self.noise_shape = noise_shape
        self._init_seed(seed)
        super().__init__(**kwargs)

    def _mask_shape(self, x):
        return None

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        shape = self._mask_shape(inputs)
        if shape is None and self.noise_shape is not None:
            if len(self.noise_shape) != inputs.ndim:
                raise ValueError(
                    f'Invalid value for argument `noise_shape` of layer "{self.name}": it must have '
                    f"the rank of the inputs ({inputs.ndim}). Received noise_shape={self.noise_shape} "
                    f"for inputs of shape {tuple(inputs.shape)}."
                )
            for n, x in zip(self.noise_shape, inputs.shape):
                if n is not None and n not in (1, x):
                    raise ValueError(
                        f'Invalid value for argument `noise_shape` of layer "{self.name}": each entry '
                        f"must be None, 1 or the input's size. Received noise_shape={self.noise_shape} "
                        f"for inputs of shape {tuple(inputs.shape)}."
                    )
            shape = tuple(x if n is None else n for n, x in zip(self.noise_shape, inputs.shape))
        if shape is None and self.seed is None:
            return F.dropout(inputs, self.rate, True)
        if self.rate == 1:
            return inputs * 0
        return inputs * self._keep_mask(shape or inputs.shape, 1.0 - self.rate, inputs)


class _SpatialDropout(Dropout):
    rank = None

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format) if self.rank > 1 else "channels_last"

    def check_input(self, shape):
        _util.check_spec(self, shape, ndim=self.rank + 2)

    def _check_build_shape(self, input_shape):
        _util.check_spec(self, tuple(input_shape), ndim=self.rank + 2)

    def _mask_shape(self, x):
        if self.data_format == "channels_last":
            return (x.shape[0],) + (1,) * self.rank + (x.shape[-1],)
        return (x.shape[0], x.shape[1]) + (1,) * self.rank

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape")
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


_SPATIAL_DROPOUT_DOC = """Drops whole {{rank}}D feature maps (channels): one Bernoulli draw per (sample, channel).

    Args:
        rate: float in [0, 1], the fraction of the feature maps (channels) to drop.
        {{data_format}}seed: optional integer seed for this layer's own random generator.
        name, dtype: the layer's name and dtype (positional after ``seed``, as in Keras).

    Call arguments: ``inputs``, ``training`` (dropout applies only when True).

    Input shape:
        {{input_shape}}

    Output shape:
        Same shape as the input.

    Example:

    >>> x = np.ones((1, {{spatial}}, 200), dtype="float32")
    >>> y = keras.layers.SpatialDropout{{rank}}D(0.5, seed=1)(x, training=True).numpy()
    >>> bool((y == y[:, {{first}}, :]).all()), sorted(set(y.ravel().tolist()))  # whole maps dropped or scaled
    (True, [0.0, 2.0])
    """

_DATA_FORMAT_ARG = """data_format: ``"channels_last"`` (the default) or ``"channels_first"``: where the channel axis is.
"""


class SpatialDropout1D(_SpatialDropout):
    __doc__ = fill_doc(
        _SPATIAL_DROPOUT_DOC,
        rank=1,
        data_format="",
        input_shape="3D tensor ``(batch, steps, channels)``.",
        spatial="5",
        first=":1",
    )
    rank = 1

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):  # Keras's 1D takes no data_format
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    __doc__ = fill_doc(
        _SPATIAL_DROPOUT_DOC,
        rank=2,
        data_format=_DATA_FORMAT_ARG,
        input_shape="4D tensor ``(batch, height, width, channels)`` (``channels_last``) or "
        "``(batch, channels, height, width)`` (``channels_first``).",
        spatial="4, 4",
        first=":1, :1",
    )
    rank = 2


class SpatialDropout3D(_SpatialDropout):
    __doc__ = fill_doc(
        _SPATIAL_DROPOUT_DOC,
        rank=3,
        data_format=_DATA_FORMAT_ARG,
        input_shape="5D tensor ``(batch, dim1, dim2, dim3, channels)`` (``channels_last``) or "
        "``(batch, channels, dim1, dim2, dim3)`` (``channels_first``).",
        spatial="2, 2, 2",
        first=":1, :1, :1",
    )
    rank = 3


@_util.shared_doc
class GaussianNoise(_RandomLayer):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` in training.

    Args:
        stddev: float >= 0, standard deviation of the noise.
        seed: optional integer seed.

    {{same_shape}}

    Example:

    >>> x = np.zeros((100, 100), dtype="float32")
    >>> y = keras.layers.GaussianNoise(0.1, seed=1)(x, training=True).numpy()
    >>> round(float(y.std()), 2), bool((keras.layers.GaussianNoise(0.1)(x).numpy() == 0).all())
    (0.1, True)
    """

    _config_keys = ("stddev",)
    supports_masking = True  # Keras: the mask of the input passes to the output

    def __init__(self, stddev, seed=None, **kwargs):
        self.stddev = validation.number(stddev, "stddev", 0.0, None)
        self._init_seed(seed)
        super().__init__(**kwargs)

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        return inputs + self._normal(inputs, 0.0, self.stddev)


@_util.shared_doc
class GaussianDropout(_RandomLayer):
    """Multiplies the inputs by Gaussian noise of mean 1 and std ``sqrt(rate / (1 - rate))`` in training.

    Args:
        rate: float in [0, 1], drop probability of the equivalent Dropout.
        seed: optional integer seed.

    {{same_shape}}

    Example:

    >>> x = np.ones((100, 100), dtype="float32")
    >>> y = keras.layers.GaussianDropout(0.2, seed=1)(x, training=True).numpy()
    >>> round(float(y.mean()), 1), round(float(y.std()), 1)  # std sqrt(0.2 / 0.8) = 0.5
    (1.0, 0.5)
    """

    _config_keys = ("rate",)
    supports_masking = True  # Keras: the mask of the input passes to the output

    def __init__(self, rate, seed=None, **kwargs):
        self.rate = _util.rate(rate)
        self._init_seed(seed)
        super().__init__(**kwargs)

    def call(self, inputs, training=False):
        if not training or not 0 < self.rate < 1:
            return inputs
        return inputs * self._normal(inputs, 1.0, math.sqrt(self.rate / (1.0 - self.rate)))


@_util.shared_doc
class ActivityRegularization(Layer):
    """Identity that adds ``l1 * sum(|x|) + l2 * sum(x**2)`` of its output to ``layer.losses``.

    Args:
        l1: float >= 0, the L1 regularization factor (default 0).
        l2: float >= 0, the L2 regularization factor (default 0).

    {{same_shape}}

    Example:

    >>> layer = keras.layers.ActivityRegularization(l1=0.1)
    >>> y = layer(np.array([[1.0, -2.0]], dtype="float32"))
    >>> y.numpy().tolist(), [round(float(loss), 4) for loss in layer.losses]
    ([[1.0, -2.0]], [0.3])
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    _config_keys = ("l1", "l2")

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        self.l1 = validation.number(l1, "l1", 0.0, None)
        self.l2 = validation.number(l2, "l2", 0.0, None)
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=self.l1, l2=self.l2), **kwargs)

    def call(self, inputs):
        return inputs
