"""Random image-augmentation layers with Keras 3 semantics: RandomFlip, RandomRotation, RandomZoom,
RandomTranslation, RandomCrop, RandomContrast, RandomBrightness.

Each layer works in two steps, as Keras 3's image preprocessing layers do:

1. ``get_random_transformation(images, training=True, seed=None)`` samples the parameters of the whole
   batch with one torch call (torch's global generator, or the layer's own ``torch.Generator`` when it
   was built with ``seed=``), and returns them in Keras 3's format (e.g. ``{"angle": ..., "rotation_matrix":
   ...}``), so a transformation can be inspected, reused, or written by hand.
2. ``transform_images(images, transformation, training=True)`` applies them deterministically; the
   geometric layers resample the whole batch with a single ``F.grid_sample``.

The layers act when called with ``training=True`` (``fit`` does) or called directly without ``training``
(as Keras 3 does, so ``augment(images)`` shows augmented images); otherwise they return their input
(as floats), except ``RandomCrop``, which at inference returns the largest centred window with the target
aspect ratio resized to ``(height, width)``, as Keras documents.

Geometry follows ``keras.ops.image.affine_transform``: a transform ``[a0, a1, a2, b0, b1, b2, c0, c1]``
maps the output pixel ``(x, y)`` to the input point ``(a0 x + a1 y + a2, b0 x + b1 y + b2)`` (pixel
indices, ``x`` along the width), and fill modes act on pixel indices: 'reflect' ``(d c b a | a b c d)``,
'wrap' ``(a b c d | a b c d)``, 'nearest' ``(a a | a b c d | d d)``, 'constant' (``fill_value``; bilinear
blends it with the edge pixels, as Keras does).
"""

import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F

from strided import config
from strided.layers import _util
from strided.layers.image_preprocessing import IMAGE_INPUT_SHAPE_DOC, _ImageLayer, resize_images
from strided.layers.regularization import SeededRandom
from strided.utils import conv_utils, validation
from strided.ops.image import rgb_to_grayscale
from strided.utils.docstrings import fill_doc

__all__ = [
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomCrop",
    "RandomContrast",
    "RandomBrightness",
    "image_affine_transform",
    "rotation_matrices",
]

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")
FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


# ---------------------------------------------------------------- shared docstring parts

# The parts of the augmentation layers' docstrings (here and in color_, filter_, warp_augmentation and
# augmentation_policies) that are the same for all of them; ``augmentation_doc`` fills them in.
_IMAGE_SHAPES_DOC = (
    IMAGE_INPUT_SHAPE_DOC
    + """

Output shape:
    Same shape as the input."""
)

_AUGMENTATION_EXAMPLE_DOC = """Example:

>>> images = np.random.default_rng(0).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
>>> layer = keras.layers.{{layer}}
>>> tuple(layer(images, training=True).shape)
(2, 32, 32, 3)
>>> bool((layer(images, training=False).numpy() == images).all())  # inference: unchanged
True"""

_AUGMENTATION_ARGS_DOC = {
    "value_range": "value_range: ``[low, high]`` range of the input values (default ``(0, 255)``).",
    "data_format": "data_format: 'channels_last' (default) or 'channels_first'.",
    "seed": "seed: optional integer seed for this layer's own random generator.",
}
# The arguments of the geometric layers (_RandomAffineLayer), after their factors.
_AUGMENTATION_ARGS_DOC[
    "affine_args"
] = f"""fill_mode: 'reflect' (default), 'wrap', 'constant' or 'nearest': how points outside the image are filled.
interpolation: 'bilinear' (default) or 'nearest'.
{_AUGMENTATION_ARGS_DOC["seed"]}
fill_value: value outside the image for ``fill_mode='constant'`` (default 0).
{_AUGMENTATION_ARGS_DOC["data_format"]}"""


def augmentation_doc(example=None):
    """Class decorator filling an augmentation layer's docstring: ``{{shapes}}`` (its Input and Output shape),
    ``{{example}}`` (the example every augmentation layer gives, with the layer ``keras.layers.<example>``),
    and the argument lines ``{{value_range}}``, ``{{data_format}}``, ``{{seed}}`` and ``{{affine_args}}``."""

    def decorate(cls):
        fields = dict(_AUGMENTATION_ARGS_DOC, shapes=_IMAGE_SHAPES_DOC)
        if example is not None:
            fields["example"] = fill_doc(_AUGMENTATION_EXAMPLE_DOC, layer=example)
        return _util.shared_doc(cls, **fields)

    return decorate


# ---------------------------------------------------------------- argument checks


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _factor_range(factor, name, low, high, low_inclusive=True, symmetric=True):
    """A number or a pair of numbers in [low, high] -> sorted ``(lower, upper)``.

    A single number ``f`` gives ``(-|f|, |f|)`` when ``symmetric`` (rotation, zoom, translation,
    brightness) and ``(|f|, |f|)`` otherwise (contrast: the factor is drawn from ``[1 - f, 1 + f]``).
    """
    lb = "[" if low_inclusive else "("
    msg = (
        f"Invalid value for argument `{name}`. Expected a number or a list of two numbers in the range "
        f"{lb}{low}, {high}]. Received: {name}={factor!r}"
    )

    def check(v):
        if not _is_number(v) or v > high or v < low or (v == low and not low_inclusive):
            raise ValueError(msg)
        return float(v)

    if isinstance(factor, (tuple, list, np.ndarray)):
        if len(factor) != 2:
            raise ValueError(msg)
        lower, upper = (check(v) for v in factor)
        # Keras sorts a reversed pair silently; (0.5, 0.1) is almost always a typo for a range that was
        # meant otherwise, so it is refused with the bounds named.
        validation.ordered_pair(lower, upper, name, factor)
        return lower, upper
    if not _is_number(factor):
        raise ValueError(msg)
    f = abs(check(factor))
    return (-f, f) if symmetric else (f, f)


def _value_range(value_range, name="value_range"):
    ok = isinstance(value_range, (tuple, list)) and len(value_range) == 2 and all(_is_number(v) for v in value_range)
    if not ok:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a list of two numbers `[low, high]`. "
            f"Received: {name}={value_range!r}"
        )
    validation.ordered_pair(value_range[0], value_range[1], name, value_range)
    if value_range[0] == value_range[1]:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected `low < high`. Received: {name}={value_range!r}"
        )
    return list(value_range)


# ---------------------------------------------------------------- the affine resampler


def image_affine_transform(
    images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0.0, data_format="channels_last"
):
    """Resamples images through per-image affine transforms (``keras.ops.image.affine_transform`` semantics).

    The whole batch goes through one ``F.grid_sample`` call (``align_corners=False``: pixel ``i`` of a
    size-``n`` axis sits at ``(2 i + 1) / n - 1``). Fill modes map onto grid_sample exactly: 'reflect'
    is torch's 'reflection' (about the pixel edges), 'nearest' is 'border', 'constant' samples
    ``images - fill_value`` with zero padding and adds ``fill_value`` back (so an out-of-range neighbour
    contributes ``fill_value``, as in Keras), and 'wrap' samples a circularly padded copy at the
    coordinate taken modulo the size.

    Args:
        images: float tensor ``(N, H, W, C)`` (``(N, C, H, W)`` for 'channels_first') or one image.
        transform: ``(N, 8)`` or ``(8,)`` tensor/array ``[a0, a1, a2, b0, b1, b2, c0, c1]`` mapping output
            pixel ``(x, y)`` to input point ``(a0 x + a1 y + a2, b0 x + b1 y + b2)``; ``c0, c1`` must be 0.
        interpolation: 'bilinear' or 'nearest'.
        fill_mode: 'constant', 'nearest', 'reflect' or 'wrap'.
        fill_value: value outside the image for 'constant'.
        data_format: 'channels_last' or 'channels_first'.

    Returns:
        Tensor of the shape and dtype of ``images``.
    """
    interpolation = validation.one_of(interpolation, "interpolation", INTERPOLATIONS)
    fill_mode = validation.one_of(fill_mode, "fill_mode", FILL_MODES)
    if images.ndim not in (3, 4):
        raise ValueError(
            "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received: images.shape={tuple(images.shape)}"
        )
    single = images.ndim == 3
    x = images.unsqueeze(0) if single else images
    if data_format == "channels_last":
        x = x.permute(0, 3, 1, 2)  # zero-copy NCHW view of NHWC data, already channels_last in memory
    n, _, h, w = x.shape
    work = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    t = torch.as_tensor(transform, dtype=work, device=x.device).reshape(-1, 8)
    if t.shape[0] == 1 and n != 1:
        t = t.expand(n, 8)
    if t.shape[0] != n:
        raise ValueError(f"Expected one transform per image ({n}). Received: transform.shape={tuple(t.shape)}")
    gy, gx = torch.meshgrid(
        torch.arange(h, dtype=work, device=x.device), torch.arange(w, dtype=work, device=x.device), indexing="ij"
    )
    a = t[:, :6, None, None]
    xs = a[:, 0] * gx + a[:, 1] * gy + a[:, 2]
    ys = a[:, 3] * gx + a[:, 4] * gy + a[:, 5]
    src = x.to(work)
    padding, shift = "border", None
    if fill_mode == "reflect":
        padding = "reflection"
    elif fill_mode == "constant":
        padding = "zeros"
        shift = float(fill_value) if float(fill_value) != 0.0 else None
        if shift is not None:
            src = src - shift
    elif fill_mode == "wrap":
        # Keras wraps each neighbour index modulo the size; on a copy padded by one wrapped pixel per side,
        # a coordinate in [0, n) then finds both bilinear neighbours (index n is pixel 0 again).
        src = F.pad(src, (1, 1, 1, 1), mode="circular")
        xs = torch.remainder(xs, w) + 1
        ys = torch.remainder(ys, h) + 1
        h, w = h + 2, w + 2
    grid = torch.stack([(2 * xs + 1) / w - 1, (2 * ys + 1) / h - 1], dim=-1)
    out = F.grid_sample(src, grid, mode=interpolation, padding_mode=padding, align_corners=False)
    if shift is not None:
        out = out + shift
    out = out.to(x.dtype)
    if data_format == "channels_last":
        out = out.permute(0, 2, 3, 1)
    return out.squeeze(0) if single else out


# ---------------------------------------------------------------- base class


class _RandomImageLayer(SeededRandom, _ImageLayer):
    """Shared pieces: seed and generators, data format, rank check, the two-step call."""

    _direct_call_training = True  # `aug(images)` augments, as in Keras 3; fit/predict pass training explicitly

    _config_keys = ("seed", "data_format")
    # the ranges these layers hold as tuples, which Keras's configs give as lists
    _config_list_keys = (
        "factor",
        "value_range",
        "scale",
        "kernel_size",
        "sigma",
        "addition_factor",
        "threshold_factor",
        "height_factor",
        "width_factor",
    )

    def __init__(self, seed=None, data_format=None, **kwargs):
        self._init_seed(seed)
        self.data_format = conv_utils.normalize_data_format(data_format)
        super().__init__(**kwargs)

    # -- randomness
    def _generator(self, device, seed=None):
        """The layer's own generator on ``device`` (``None``: torch's global one, seeded by set_random_seed), or,
        for a ``seed`` given to ``get_random_transformation``, a fresh one seeded with it."""
        if seed is None or torch.device(device).type == "meta":
            return super()._generator(device)
        return torch.Generator(device=device).manual_seed(int(seed))

    def _uniform(self, shape, low, high, device, seed=None):
        """One draw of ``shape`` uniform in ``[low, high)`` (float32, like Keras's random.uniform)."""
        u = torch.rand(shape, generator=self._generator(device, seed), device=device, dtype=torch.float32)
        return u * (high - low) + low

    # -- shapes
    def _shape_info(self, data):
        """``(shape, batch_size, height, width, device)`` of images given as a tensor, an array or a shape."""
        if isinstance(data, torch.Tensor):
            shape, device = tuple(data.shape), data.device
        elif isinstance(data, (tuple, list)) and all(isinstance(d, numbers.Integral) for d in data):
            shape, device = tuple(int(d) for d in data), torch.device(config.get_device())
        else:
            shape, device = tuple(np.shape(data)), torch.device(config.get_device())
        self.check_input(shape)
        batch = shape[0] if len(shape) == 4 else 1
        hw = shape[-3:-1] if self.data_format == "channels_last" else shape[-2:]
        return shape, batch, int(hw[0]), int(hw[1]), device

    def _hw_axes(self):
        return (-3, -2) if self.data_format == "channels_last" else (-2, -1)

    def _as_float(self, images):
        if not isinstance(images, torch.Tensor):
            images = torch.as_tensor(np.asarray(images), device=config.get_device())
        return _util.cast_float(images, self.dtype)

    # -- the two steps
    def get_random_transformation(self, data, training=True, seed=None):
        """Samples this layer's random parameters for the whole batch ``data`` (``None`` when not training).

        Args:
            data: the images (tensor or array), or their shape.
            training: when False, no parameters are drawn.
            seed: optional integer; draws from a fresh generator with this seed instead of the layer's.

        Returns:
            A dict of tensors in Keras 3's format (see each layer), or None.
        """
        if not training:
            return None
        return self._sample(self._shape_info(data), seed)

    def _sample(self, images, seed):
        """The parameters for images of ``images = (shape, batch_size, height, width, device)``."""
        raise NotImplementedError

    def transform_images(self, images, transformation, training=True):
        """Applies ``transformation`` (from ``get_random_transformation`` or written by hand) to ``images``;
        returns them unchanged (as floats) when not training or without a transformation."""
        x = self._as_float(images)
        if not training or transformation is None:
            return x
        return self._transform(x, transformation)

    def _transform(self, x, transformation):
        """``transformation`` applied to the float images ``x``."""
        raise NotImplementedError

    def call(self, inputs, training=False):
        transformation = self.get_random_transformation(inputs, training=training)
        return self.transform_images(inputs, transformation, training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class _FactorLayer(_RandomImageLayer):
    """A layer with a random ``factor`` and a ``value_range``, both kept as pairs: RandomContrast,
    RandomBrightness and the colour layers (``color_augmentation._FactorImageLayer``). ``_check_factor`` and
    ``_check_value_range`` hold each layer's (Keras's) checks."""

    _config_keys = ("factor", "value_range")

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        self.factor = self._check_factor(factor)
        self.value_range = self._check_value_range(value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _check_factor(self, factor):
        raise NotImplementedError

    def _check_value_range(self, value_range):
        return _value_range(value_range)


def _per_image(value, device, dtype, width):
    """Keras-format parameters (tensor, array or list; batched or not) -> ``(N, width)`` tensor."""
    return (
        torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value, device=device)
        .to(dtype)
        .reshape(-1, width)
    )


# ---------------------------------------------------------------- flip


@augmentation_doc('RandomFlip("horizontal", seed=1)')
class RandomFlip(_RandomImageLayer):
    """Randomly flips each image during training (Keras 3 ``RandomFlip``).

    One coin is tossed per image (flip with probability 1/2); in 'horizontal_and_vertical' mode a flipped
    image is flipped along both axes, as Keras 3 does.

    Args:
        mode: 'horizontal' (left-right), 'vertical' (top-bottom) or 'horizontal_and_vertical' (default).
        {{seed}}
        {{data_format}}

    {{shapes}}

    Transformation: ``{"flips": bool tensor (batch, 1, 1, 1)}``.

    {{example}}
    >>> flipped = keras.layers.RandomFlip("horizontal", seed=1)(images, training=True).numpy()
    >>> all((f == im).all() or (f == im[:, ::-1]).all() for f, im in zip(flipped, images))  # each left-right or not
    True
    """

    _config_keys = ("mode",)

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        self.mode = validation.one_of(mode, "mode", FLIP_MODES)
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _sample(self, images, seed):
        shape, batch, _, _, device = images
        flips = self._uniform((batch, 1, 1, 1), 0.0, 1.0, device, seed) <= 0.5
        return {"flips": flips, "input_shape": shape}

    def _transform(self, x, transformation):
        single = x.ndim == 3
        if single:
            x = x.unsqueeze(0)
        flips = torch.as_tensor(transformation["flips"], device=x.device).reshape(-1, 1, 1, 1).bool()
        h_axis, w_axis = self._hw_axes()
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            x = torch.where(flips, x.flip(w_axis), x)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            x = torch.where(flips, x.flip(h_axis), x)
        return x.squeeze(0) if single else x


# ---------------------------------------------------------------- geometric layers


class _RandomAffineLayer(_RandomImageLayer):
    _config_keys = ("fill_mode", "interpolation", "fill_value")

    def __init__(
        self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None, **kwargs
    ):
        self.fill_mode = validation.one_of(fill_mode, "fill_mode", FILL_MODES)
        self.interpolation = validation.one_of(interpolation, "interpolation", INTERPOLATIONS)
        self.fill_value = validation.number(fill_value, "fill_value")
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _matrices(self, transformation, height, width, device, dtype):
        """``(N, 8)`` Keras affine transforms for ``transformation``."""
        raise NotImplementedError

    def _transform(self, x, transformation):
        h_axis, w_axis = self._hw_axes()
        m = self._matrices(transformation, x.shape[h_axis], x.shape[w_axis], x.device, x.dtype)
        return image_affine_transform(x, m, self.interpolation, self.fill_mode, self.fill_value, self.data_format)


class _HeightWidthAffineLayer(_RandomAffineLayer):
    """RandomZoom and RandomTranslation: a ``height_factor`` and a ``width_factor``, each a range in [-1, 1] kept as
    ``height_lower``/``height_upper`` and ``width_lower``/``width_upper``."""

    _low_inclusive = True  # RandomZoom refuses -1 (a zoom to nothing)
    _optional_width = False  # RandomZoom: no width_factor zooms both axes alike

    _config_keys = ("height_factor", "width_factor")

    def _init_factors(self, height_factor, width_factor):
        for axis, factor in (("height", height_factor), ("width", width_factor)):
            setattr(self, f"{axis}_factor", factor)
            if factor is not None or axis == "height" or not self._optional_width:
                bounds = _factor_range(factor, f"{axis}_factor", -1.0, 1.0, low_inclusive=self._low_inclusive)
                setattr(self, f"{axis}_lower", bounds[0])
                setattr(self, f"{axis}_upper", bounds[1])


def rotation_matrices(angle, height, width):
    """Keras 3 rotation transforms about the image centre for angles in degrees (positive: counter-clockwise).

    Args:
        angle: ``(N,)`` tensor of angles in degrees.
        height, width: image size.

    Returns:
        ``(N, 8)`` tensor ``[a0, a1, a2, b0, b1, b2, 0, 0]`` (output pixel -> input point).
    """
    theta = angle * (math.pi / 180.0)
    cos, sin = torch.cos(theta), torch.sin(theta)
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    zeros = torch.zeros_like(cos)
    return torch.stack([cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos, zeros, zeros], 1)


@augmentation_doc("RandomRotation(0.1, seed=1)")
class RandomRotation(_RandomAffineLayer):
    """Randomly rotates each image about its centre during training (Keras 3 ``RandomRotation``).

    Args:
        factor: a float, fraction of a full turn (2 pi), or ``(lower, upper)``; each image is rotated by an
            angle drawn uniformly from ``[lower * 360, upper * 360]`` degrees (a float ``f`` means
            ``(-f, f)``). Positive angles rotate counter-clockwise. Values in [-1, 1].
        {{affine_args}}

    {{shapes}}

    Transformation: ``{"angle": (batch,) degrees, "rotation_matrix": (batch, 8), ...}``; a hand-written one
    may give only ``"angle"``.

    {{example}}
    """

    _config_keys = ("factor",)

    def __init__(
        self,
        factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        self.factor = _factor_range(factor, "factor", -1.0, 1.0)
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)

    def _sample(self, images, seed):
        _, batch, h, w, device = images
        angle = self._uniform((batch,), self.factor[0] * 360.0, self.factor[1] * 360.0, device, seed)
        return {
            "angle": angle,
            "rotation_matrix": rotation_matrices(angle, h, w),
            "image_height": h,
            "image_width": w,
            "batch_size": batch,
        }

    def _matrices(self, transformation, height, width, device, dtype):
        if transformation.get("rotation_matrix") is not None:
            return _per_image(transformation["rotation_matrix"], device, dtype, 8)
        angle = _per_image(transformation["angle"], device, dtype, 1)[:, 0]
        return rotation_matrices(angle, height, width)


@augmentation_doc("RandomZoom(0.2, seed=1)")
class RandomZoom(_HeightWidthAffineLayer):
    """Randomly zooms each image about its centre during training (Keras 3 ``RandomZoom``).

    Args:
        height_factor: a float or ``(lower, upper)`` in (-1, 1]: the vertical zoom is drawn from
            ``[1 + lower, 1 + upper]`` (a float ``f`` means ``(-f, f)``). Positive values zoom out (the
            image shrinks), negative values zoom in.
        width_factor: the same for the horizontal zoom; ``None`` (default) uses the vertical zoom for both
            axes, preserving the aspect ratio.
        {{affine_args}}

    {{shapes}}

    Transformation: ``{"height_zoom": (batch, 1), "width_zoom": (batch, 1)}``, the zoom multipliers.

    {{example}}
    """

    _low_inclusive, _optional_width = False, True

    def __init__(
        self,
        height_factor,
        width_factor=None,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        self._init_factors(height_factor, width_factor)
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)

    def _sample(self, images, seed):
        shape, batch, _, _, device = images
        u = self._uniform((batch, 2), 0.0, 1.0, device, seed)
        height_zoom = 1.0 + self.height_lower + u[:, :1] * (self.height_upper - self.height_lower)
        if self.width_factor is not None:
            width_zoom = 1.0 + self.width_lower + u[:, 1:] * (self.width_upper - self.width_lower)
        else:
            width_zoom = height_zoom
        return {"height_zoom": height_zoom, "width_zoom": width_zoom, "input_shape": shape}

    def _matrices(self, transformation, height, width, device, dtype):
        zx = _per_image(transformation["width_zoom"], device, dtype, 1)[:, 0]
        zy = _per_image(transformation["height_zoom"], device, dtype, 1)[:, 0]
        zy = zy.expand_as(zx) if zy.shape[0] == 1 else zy
        zx = zx.expand_as(zy) if zx.shape[0] == 1 else zx
        zeros = torch.zeros_like(zx)
        return torch.stack(
            [zx, zeros, (width - 1) / 2.0 * (1 - zx), zeros, zy, (height - 1) / 2.0 * (1 - zy), zeros, zeros], 1
        )


@augmentation_doc("RandomTranslation(0.1, 0.1, seed=1)")
class RandomTranslation(_HeightWidthAffineLayer):
    """Randomly shifts each image during training (Keras 3 ``RandomTranslation``).

    Args:
        height_factor: a float or ``(lower, upper)`` in [-1, 1], fractions of the height: the vertical shift
            is drawn from ``[lower * height, upper * height]`` pixels (a float ``f`` means ``(-f, f)``);
            positive shifts move the image down.
        width_factor: the same for the horizontal shift (positive: to the right).
        {{affine_args}}

    {{shapes}}

    Transformation: ``{"translations": (batch, 2)}``, the shifts ``[dx, dy]`` in pixels.

    {{example}}
    """

    def __init__(
        self,
        height_factor,
        width_factor,
        fill_mode="reflect",
        interpolation="bilinear",
        seed=None,
        fill_value=0.0,
        data_format=None,
        **kwargs,
    ):
        self._init_factors(height_factor, width_factor)
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)

    def _sample(self, images, seed):
        shape, batch, h, w, device = images
        u = self._uniform((batch, 2), 0.0, 1.0, device, seed)
        dx = (u[:, 0] * (self.width_upper - self.width_lower) + self.width_lower) * w
        dy = (u[:, 1] * (self.height_upper - self.height_lower) + self.height_lower) * h
        return {"translations": torch.stack([dx, dy], 1), "input_shape": shape}

    def _matrices(self, transformation, height, width, device, dtype):
        t = _per_image(transformation["translations"], device, dtype, 2)
        ones, zeros = torch.ones_like(t[:, 0]), torch.zeros_like(t[:, 0])
        return torch.stack([ones, zeros, -t[:, 0], zeros, ones, -t[:, 1], zeros, zeros], 1)


# ---------------------------------------------------------------- crop


@augmentation_doc()
class RandomCrop(_RandomImageLayer):
    """Crops a random ``(height, width)`` window during training (Keras 3 ``RandomCrop``).

    In training, when the images are larger than the target in both dimensions, one window position is
    drawn for the whole batch (as Keras does) and the images are cropped there. Otherwise (at inference,
    or images not larger than the target) the largest centred window with the target aspect ratio is taken
    and resized (bilinear) to ``(height, width)``.

    Args:
        height, width: output size.
        {{seed}}
        {{data_format}}
        name: the layer's name (Keras's fifth positional argument).

    Input shape:
        ``(batch, h, w, channels)`` or one image.

    Output shape:
        ``(batch, height, width, channels)``.

    Transformation: ``(h_start, w_start)``, the window's top-left corner (Python ints).

    Example:

    >>> images = np.random.default_rng(0).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    >>> layer = keras.layers.RandomCrop(24, 24, seed=1)
    >>> tuple(layer(images, training=True).shape), tuple(layer(images, training=False).shape)
    ((2, 24, 24, 3), (2, 24, 24, 3))
    """

    _config_keys = ("height", "width")

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        self.height = validation.positive_int(height, "height")
        self.width = validation.positive_int(width, "width")
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)

    def get_random_transformation(self, data, training=True, seed=None):
        _, _, h, w, _ = self._shape_info(data)
        if training and h > self.height and w > self.width:
            # Drawn on the CPU: the slice needs Python ints, and a CPU draw needs no device sync.
            u = torch.rand(2, generator=self._generator("cpu", seed))
            return (
                min(int(u[0] * (h - self.height + 1)), h - self.height),
                min(int(u[1] * (w - self.width + 1)), w - self.width),
            )
        ch = max(min(h, int(float(w * self.height) / self.width)), 1)
        cw = max(min(w, int(float(h * self.width) / self.height)), 1)
        return int(float(h - ch) / 2), int(float(w - cw) / 2)

    def transform_images(self, images, transformation, training=True):
        x = self._as_float(images)
        h_axis, w_axis = self._hw_axes()
        h, w = x.shape[h_axis], x.shape[w_axis]
        if training and h > self.height and w > self.width:
            hs, ws = (int(v) for v in transformation)
            return x.narrow(x.ndim + h_axis, hs, self.height).narrow(x.ndim + w_axis, ws, self.width)
        return resize_images(x, (self.height, self.width), "bilinear", self.data_format, crop_to_aspect_ratio=True)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        h_axis, w_axis = self._hw_axes()
        shape[h_axis], shape[w_axis] = self.height, self.width
        return tuple(shape)


# ---------------------------------------------------------------- colour layers


@augmentation_doc("RandomContrast(0.2, seed=1)")
class RandomContrast(_FactorLayer):
    """Randomly adjusts the contrast of each image during training (Keras ``RandomContrast``).

    For each image and channel, ``out = (x - mean) * c + mean`` with ``mean`` the channel's mean over the
    image, ``c`` drawn per image from ``[1 - lower, 1 + upper]``; the result is clipped to ``value_range``.

    Args:
        factor: a float ``f`` in [0, 1] (``c`` in ``[1 - f, 1 + f]``) or ``(lower, upper)``, each in [0, 1].
        value_range: ``[low, high]`` range of the input values (default ``(0, 255)``); outputs are clipped to it.
        {{seed}}
        {{data_format}}

    {{shapes}}

    Transformation: ``{"contrast_factor": (batch, 1, 1, 1)}``.

    {{example}}
    """

    def _check_factor(self, factor):
        # Keras documents [1 - f, 1 + f] for a single float (tf.keras 2 did that; Keras 3.15's code draws
        # from [1, 1 + f] only, a known discrepancy with its own docstring): the documented range is used.
        return _factor_range(factor, "factor", 0.0, 1.0, symmetric=False)

    def _sample(self, images, seed):
        _, batch, _, _, device = images
        c = self._uniform((batch, 1, 1, 1), 1.0 - self.factor[0], 1.0 + self.factor[1], device, seed)
        return {"contrast_factor": c}

    def _transform(self, x, transformation):
        c = torch.as_tensor(transformation["contrast_factor"], device=x.device).to(x.dtype)
        c = c.reshape(-1, 1, 1, 1) if x.ndim == 4 else c.reshape(1, 1, 1)
        mean = x.mean(dim=self._hw_axes(), keepdim=True)
        out = (x - mean) * c + mean
        return out.clamp(self.value_range[0], self.value_range[1])


@augmentation_doc("RandomBrightness(0.2, seed=1)")
class RandomBrightness(_FactorLayer):
    """Randomly shifts the brightness of each image during training (Keras 3 ``RandomBrightness``).

    Each image gets ``out = x + delta`` with ``delta`` drawn from ``[lower, upper] * (high - low)`` of
    ``value_range``; the result is clipped to ``value_range``. A factor of -1 makes the image black, +1 white.

    Args:
        factor: a float ``f`` in [-1, 1] (meaning ``(-f, f)``) or ``(lower, upper)``, each in [-1, 1].
        {{value_range}}
        {{seed}}
        {{data_format}}

    {{shapes}}

    Transformation: ``{"rgb_delta": (batch, 1, 1, 1)}``, the additive shifts in input units.

    {{example}}
    """

    def _check_factor(self, factor):
        return _factor_range(factor, "factor", -1.0, 1.0)

    def _sample(self, images, seed):
        _, batch, _, _, device = images
        span = self.value_range[1] - self.value_range[0]
        delta = self._uniform((batch, 1, 1, 1), self.factor[0], self.factor[1], device, seed) * span
        return {"rgb_delta": delta}

    def _transform(self, x, transformation):
        delta = torch.as_tensor(transformation["rgb_delta"], device=x.device).to(x.dtype)
        delta = delta.reshape(-1, 1, 1, 1) if x.ndim == 4 else delta.reshape(1, 1, 1)
        return (x + delta).clamp(self.value_range[0], self.value_range[1])


@augmentation_doc("RandomGrayscale(factor=1.0, seed=1)")
class RandomGrayscale(_RandomImageLayer):
    """Turns each image to grayscale with probability ``factor`` during training (Keras 3 ``RandomGrayscale``).

    A chosen image gets the luma ``0.2989 R + 0.587 G + 0.114 B`` in all of its channels, so the output
    keeps the input's shape; other images pass unchanged.

    Args:
        factor: probability (in [0, 1]) that an image is converted (default 0.5).
        {{seed}}
        {{data_format}}

    Transformation: a boolean tensor ``(batch, 1, 1, 1)``, True for the images to convert.

    {{shapes}}

    {{example}}
    >>> gray = layer(images, training=True).numpy()
    >>> bool(np.allclose(gray[..., 0], gray[..., 1]) and np.allclose(gray[..., 1], gray[..., 2]))
    True
    """

    _config_keys = ("factor",)

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 <= factor <= 1:
            raise ValueError(f"`factor` should be between 0 and 1. Received: factor={factor}")
        self.factor = float(factor)
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _sample(self, images, seed):
        _, batch, _, _, device = images
        return self._uniform((batch, 1, 1, 1), 0.0, 1.0, device, seed) < self.factor

    def _transform(self, x, transformation):
        gray = rgb_to_grayscale(x, data_format=self.data_format)
        apply = torch.as_tensor(transformation, device=x.device).bool()
        apply = apply.reshape(-1, 1, 1, 1) if x.ndim == 4 else apply.reshape(1, 1, 1)
        return torch.where(apply, gray.expand_as(x), x)
