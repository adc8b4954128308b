"""Basic image preprocessing layers: Rescaling, Resizing, CenterCrop (deterministic, Keras semantics)."""

import numbers

import numpy as np
import torch

from strided.layers import _util
from strided.layers.base import Layer
from strided.ops.image import _MODES, resize_images  # noqa: F401  (re-exported: layers import it from here)
from strided.utils import conv_utils, validation
from strided.utils.docstrings import fill_doc


# The Input shape section of every image layer (the augmentation layers' too).
IMAGE_INPUT_SHAPE_DOC = """Input shape:
    4D tensor ``(batch, height, width, channels)`` (``channels_last``, the default) or one image
    ``(height, width, channels)``; with ``channels_first``, ``(batch, channels, height, width)``."""

_RESIZED_SHAPES_DOC = (
    IMAGE_INPUT_SHAPE_DOC
    + """

Output shape:
    4D tensor ``(batch, height, width, channels)`` with the layer's ``height`` and ``width`` (or one
    image ``(height, width, channels)``)."""
)


@_util.shared_doc
class Rescaling(Layer):
    """``output = inputs * scale + offset``, e.g. ``Rescaling(1. / 255)`` maps [0, 255] to [0, 1].

    Args:
        scale: float, or a list of per-channel factors (broadcast over the last axis).
        offset: float or list, added after scaling (default 0).

    {{same_shape}}

    Example:

    >>> images = np.array([[0.0, 127.5, 255.0]], dtype="float32")
    >>> keras.layers.Rescaling(1.0 / 255)(images).numpy().tolist()
    [[0.0, 0.5, 1.0]]
    >>> keras.layers.Rescaling(1.0 / 127.5, offset=-1)(images).numpy().tolist()
    [[-1.0, 0.0, 1.0]]
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    def __init__(self, scale, offset=0.0, **kwargs):
        for name, v in (("scale", scale), ("offset", offset)):
            ok = isinstance(v, numbers.Real) and not isinstance(v, bool) or isinstance(v, (list, tuple, np.ndarray))
            if not ok:
                raise TypeError(
                    f"Invalid type for argument `{name}`. Expected a number or a list of numbers. "
                    f"Received: {name}={v!r}"
                )
        self.scale = scale
        self.offset = offset
        super().__init__(**kwargs)

    def _const(self, v, like):
        if isinstance(v, numbers.Real):
            return float(v)
        return torch.as_tensor(np.asarray(v, dtype=np.float64), dtype=like.dtype, device=like.device)

    def call(self, inputs):
        x = _util.cast_float(inputs, self.dtype)
        for arg in ("scale", "offset"):
            shape = np.shape(getattr(self, arg))
            if shape and not (
                len(shape) <= x.ndim and all(s in (1, d) for s, d in zip(shape[::-1], tuple(x.shape)[::-1]))
            ):
                raise ValueError(
                    f'Invalid value for argument `{arg}` of layer "{self.name}": its shape {shape} '
                    f"does not broadcast against the inputs of shape {tuple(x.shape)} (one value, or "
                    "one per channel of the last axis)."
                )
        return x * self._const(self.scale, x) + self._const(self.offset, x)

    def get_config(self):
        config = super().get_config()
        scale = self.scale.tolist() if isinstance(self.scale, np.ndarray) else self.scale
        offset = self.offset.tolist() if isinstance(self.offset, np.ndarray) else self.offset
        config.update({"scale": scale, "offset": offset})
        return config


class _ImageLayer(Layer):
    """The rank check of the image layers (these and the augmentation layers): one image or a batch."""

    def check_input(self, shape):
        if isinstance(shape, tuple) and len(shape) not in (3, 4):
            raise ValueError(
                f"Layer '{self.name}' expects images of rank 3 (one image) or 4 (a batch). "
                f"Received: inputs.shape={shape}"
            )

    def _check_build_shape(self, input_shape):
        self.check_input(tuple(input_shape))


class _SizedImageLayer(_ImageLayer):
    """Resizing and CenterCrop: a target ``height`` and ``width``, a ``data_format``, and ``_resize`` of the
    images as floats."""

    _config_keys = ("height", "width", "data_format")

    def __init__(self, height, width, data_format=None, **kwargs):
        self.height = validation.positive_int(height, "height")
        self.width = validation.positive_int(width, "width")
        self.data_format = conv_utils.normalize_data_format(data_format)
        super().__init__(**kwargs)

    def call(self, inputs):
        return self._resize(_util.cast_float(inputs, self.dtype))


class Resizing(_SizedImageLayer):
    """Resizes images to ``(height, width)``.

    Args:
        height, width: target size.
        interpolation: 'bilinear' (default), 'nearest', 'bicubic' or 'area'.
        crop_to_aspect_ratio: take the largest centred crop with the target aspect ratio first.
        pad_to_aspect_ratio: pad (with ``fill_value``) to the target aspect ratio first.
        fill_mode: only 'constant' padding is supported.
        fill_value: padding value (default 0).
        antialias: anti-aliased downsampling for 'bilinear'/'bicubic'.
        data_format: 'channels_last' (default) or 'channels_first'.

    {{shapes}}

    Example:

    >>> images = np.random.rand(2, 28, 28, 1).astype("float32")
    >>> tuple(keras.layers.Resizing(32, 32)(images).shape)
    (2, 32, 32, 1)
    >>> tuple(keras.layers.Resizing(224, 224, crop_to_aspect_ratio=True)(np.zeros((1, 100, 200, 3))).shape)
    (1, 224, 224, 3)
    """

    _config_keys = (
        "interpolation",
        "crop_to_aspect_ratio",
        "pad_to_aspect_ratio",
        "fill_mode",
        "fill_value",
        "antialias",
    )

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        self.interpolation = validation.one_of(interpolation, "interpolation", tuple(_MODES))
        self.crop_to_aspect_ratio = validation.boolean(crop_to_aspect_ratio, "crop_to_aspect_ratio")
        self.pad_to_aspect_ratio = validation.boolean(pad_to_aspect_ratio, "pad_to_aspect_ratio")
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be True.")
        self.fill_mode = validation.one_of(fill_mode, "fill_mode", ("constant",))
        self.fill_value = validation.number(fill_value, "fill_value")
        self.antialias = validation.boolean(antialias, "antialias")
        super().__init__(height, width, data_format, **kwargs)

    def _resize(self, x):
        return resize_images(
            x,
            (self.height, self.width),
            self.interpolation,
            self.data_format,
            self.crop_to_aspect_ratio,
            self.pad_to_aspect_ratio,
            self.fill_value,
            self.antialias,
        )


class CenterCrop(_SizedImageLayer):
    """Crops the central ``(height, width)`` region; an image smaller than that is resized instead
    (largest centred crop with the target aspect ratio, then bilinear resize), as Keras does.

    Args:
        height, width: target size.
        data_format: 'channels_last' (default) or 'channels_first'.

    {{shapes}}

    Example:

    >>> images = np.zeros((2, 32, 40, 3), dtype="float32")
    >>> tuple(keras.layers.CenterCrop(24, 24)(images).shape)
    (2, 24, 24, 3)
    """

    def _resize(self, x):
        hw_axes = (-3, -2) if self.data_format == "channels_last" else (-2, -1)
        h, w = x.shape[hw_axes[0]], x.shape[hw_axes[1]]
        dh, dw = h - self.height, w - self.width
        if dh >= 0 and dw >= 0:
            index = [slice(None)] * x.ndim
            index[x.ndim + hw_axes[0]] = slice(dh // 2, dh // 2 + self.height)
            index[x.ndim + hw_axes[1]] = slice(dw // 2, dw // 2 + self.width)
            return x[tuple(index)]
        return resize_images(x, (self.height, self.width), "bilinear", self.data_format, crop_to_aspect_ratio=True)


for _layer in (Resizing, CenterCrop):
    _layer.__doc__ = fill_doc(_layer.__doc__, shapes=_RESIZED_SHAPES_DOC)
