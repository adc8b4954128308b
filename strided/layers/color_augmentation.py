"""Colour and mixing augmentation layers with Keras 3 semantics: RandomInvert, Solarization,
RandomPosterization, AutoContrast, RandomSaturation, RandomHue, RandomColorJitter, RandomErasing, MixUp, CutMix,
and the geometric RandomShear (through ``random_preprocessing.image_affine_transform``).

They follow the two-step pattern of ``strided.layers.random_preprocessing`` (see its module docstring):
``get_random_transformation`` draws the whole batch's parameters in Keras 3's dict format, and
``transform_images`` applies them deterministically, so a transformation drawn by real Keras can be fed
to strided (and the other way round) and gives the same images.

Value ranges: Keras writes these layers for images in ``value_range`` (default ``(0, 255)``); the layers
that work internally on ``[0, 255]`` (Solarization, RandomPosterization, AutoContrast) or ``[0, 1]``
(RandomHue) rescale to it and back, exactly as Keras does. RandomSaturation, as in Keras, converts the
raw values to HSV without rescaling and uses ``value_range`` only to clip the saturation channel.

Where a Keras draw ignores ``training`` (RandomPosterization, RandomSaturation, RandomHue), strided returns
no transformation when ``training=False``: the output is the same (the input, as floats), and this keeps
the rule of the other strided random layers. AutoContrast is not random and, as in Keras, acts at
inference too.

MixUp and CutMix mix images (and labels) across the batch; like every layer here they accept, as Keras's
do, either images or a dict ``{"images": ..., "labels": ..., "segmentation_masks": ...}`` (other keys are
passed through) and return the same structure.
"""

import numbers

import numpy as np
import torch

from strided.layers.random_preprocessing import (
    _FactorLayer,
    augmentation_doc,
    RandomBrightness,
    RandomContrast,
    _RandomImageLayer,
    image_affine_transform,
)
from strided.ops.image import hsv_to_rgb, rgb_to_hsv
from strided.utils import validation

__all__ = [
    "RandomInvert",
    "Solarization",
    "RandomPosterization",
    "AutoContrast",
    "RandomSaturation",
    "RandomHue",
    "RandomColorJitter",
    "RandomErasing",
    "MixUp",
    "CutMix",
    "RandomShear",
]

_EPSILON = 1e-7  # keras.config.epsilon(): keeps RandomSaturation's factor / (1 - factor) finite at factor 1


# ---------------------------------------------------------------- argument checks (Keras's messages)


def _base_factor(factor, bounds, name="factor"):
    """Keras's ``BaseImagePreprocessingLayer._set_factor``: a number ``f`` gives ``(max(-f, low), f)``.

    A pair is only checked for overlapping ``bounds`` (as Keras does), then sorted.
    """
    msg = (
        f"The `{name}` argument should be a number (or a list of two numbers) in the range "
        f"[{bounds[0]}, {bounds[1]}]. Received: factor={factor}"
    )
    if isinstance(factor, (tuple, list)):
        if (
            len(factor) != 2
            or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in factor)
            or factor[0] > bounds[1]
            or factor[1] < bounds[0]
        ):
            raise ValueError(msg)
        validation.ordered_pair(factor[0], factor[1], name, factor)  # Keras sorts a reversed pair silently
        return tuple(factor)
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor < bounds[0] or factor > bounds[1]:
            raise ValueError(msg)
        factor = abs(factor)
        return max(-factor, bounds[0]), factor
    raise ValueError(msg)


def _keras_value_range(value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            f"The `value_range` argument should be a list of two numbers. Received: value_range={value_range}"
        )
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value_range):
        raise ValueError(
            f"The `value_range` argument should be a list of two numbers. Received: value_range={value_range}"
        )
    validation.ordered_pair(value_range[0], value_range[1], "value_range", value_range)  # Keras sorts it
    return list(value_range)


def _rescale(x, original, target):
    """Keras's ``_transform_value_range``: linear map of ``original`` onto ``target`` (no-op when equal)."""
    if original[0] == target[0] and original[1] == target[1]:
        return x
    x = (x - float(original[0])) / (float(original[1]) - float(original[0]))
    return x * (float(target[1]) - float(target[0])) + float(target[0])


def _param(value, x, dtype=None):
    """A transformation entry (tensor, array or list) as a tensor on ``x``'s device."""
    t = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    return t.to(device=x.device, dtype=dtype if dtype is not None else t.dtype)


def _batched(x):
    """``(x as a batch, was_single)``: Keras transforms one image as a batch of one."""
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


class _ImageDataLayer(_RandomImageLayer):
    """Adds Keras 3's data contract: images, or a dict with "images" and optionally "labels" and
    "segmentation_masks" (transformed by ``transform_labels`` / ``transform_segmentation_masks``)."""

    def check_input(self, shape):
        if isinstance(shape, dict):
            if "images" not in shape:
                raise ValueError(
                    f"Layer '{self.name}' expects images or a dict with an 'images' key. Received keys: {sorted(shape)}"
                )
            if "bounding_boxes" in shape:
                raise ValueError(f"Layer '{self.name}': strided does not transform 'bounding_boxes'.")
            shape = shape["images"]
        super().check_input(shape)

    def _check_build_shape(self, input_shape):
        self.check_input(input_shape if isinstance(input_shape, dict) else tuple(input_shape))

    def _shape_info(self, data):
        return super()._shape_info(data["images"] if isinstance(data, dict) else data)

    def transform_labels(self, labels, transformation, training=True):
        return labels

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return segmentation_masks

    def call(self, inputs, training=False):
        transformation = self.get_random_transformation(inputs, training=training)
        if not isinstance(inputs, dict):
            return self.transform_images(inputs, transformation, training=training)
        out = dict(inputs)
        out["images"] = self.transform_images(inputs["images"], transformation, training=training)
        if "labels" in inputs:
            out["labels"] = self.transform_labels(inputs["labels"], transformation, training=training)
        if "segmentation_masks" in inputs:
            out["segmentation_masks"] = self.transform_segmentation_masks(
                inputs["segmentation_masks"], transformation, training=training
            )
        return out


class _FactorImageLayer(_ImageDataLayer, _FactorLayer):
    """A colour layer with Keras's ``factor`` (a number or a ``(lower, upper)`` pair within ``_factor_bounds``)
    and ``value_range`` checks: RandomInvert, RandomPosterization, RandomSaturation, RandomHue, RandomSharpness,
    RandomColorDegeneration."""

    _factor_bounds = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, seed, data_format, **kwargs)  # Keras's order: data_format first

    def _check_factor(self, factor):
        return _base_factor(factor, self._factor_bounds)

    def _check_value_range(self, value_range):
        return _keras_value_range(value_range)


class _FixedImageLayer(_ImageDataLayer):
    """AutoContrast and Equalization: not random, so no transformation is drawn and no seed is kept."""

    def get_random_transformation(self, data, training=True, seed=None):
        self._shape_info(data)  # rank check
        return None

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("seed", None)
        return cfg


# ---------------------------------------------------------------- invert


@augmentation_doc("RandomInvert(seed=1)")
class RandomInvert(_FactorImageLayer):
    """Inverts the colours of some images during training (Keras 3 ``RandomInvert``).

    An inverted image becomes ``value_range[1] - x``. Each image draws a probability ``p`` uniformly from
    ``factor`` and a threshold ``t`` from ``[0, 1)``, and is inverted when ``t < p``; so ``factor=1.0`` (the
    default, meaning ``[0, 1]``) inverts about half of the images and ``factor=(1, 1)`` all of them.

    Args:
        factor: a number ``f`` in [0, 1] (meaning ``[0, f]``) or a pair ``(lower, upper)``.
        {{value_range}}
        {{seed}}
        {{data_format}}

    {{shapes}}

    Transformation: ``{"apply_inversion": bool tensor (batch,)}``.

    {{example}}
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(factor, value_range, data_format, seed, **kwargs)  # Keras: seed before data_format here

    def _sample(self, images, seed):
        _, batch, _, _, device = images
        u = self._uniform((2, batch), 0.0, 1.0, device, seed)
        probability = u[0] * (self.factor[1] - self.factor[0]) + self.factor[0]
        return {"apply_inversion": u[1] < probability}

    def _transform(self, x, transformation):
        x, single = _batched(x)
        apply = _param(transformation["apply_inversion"], x, torch.bool).reshape(-1, 1, 1, 1)
        out = torch.where(apply, float(self.value_range[1]) - x, x)
        return out.squeeze(0) if single else out


# ---------------------------------------------------------------- solarization

_SOLARIZATION_ERROR = (
    "The `addition_factor` and `threshold_factor` arguments should be a number (or a list of two "
    "numbers) in the range [0, 1]. "
)
_SHEAR_ERROR = "The `factor` argument should be a number (or a list of two numbers) in the range [0, 1.0]. "


def _unit_factor(factor, name, error, symmetric, keras_message_only=False):
    """Keras's checks of Solarization's and RandomShear's factors: a number ``f`` in [0, 1] (meaning
    ``(-f, f)`` when ``symmetric``, else ``(0, f)``) or a pair within [0, 1]. The message is Keras's
    (``error``, then the value); Keras names only ``input_number`` for a value out of range, so the argument
    is added unless ``keras_message_only`` (Solarization's message is Keras's to the letter)."""

    def check(v):
        if v > 1.0 or v < 0.0:
            where = "" if keras_message_only else f" (argument `{name}`={factor!r})"
            raise ValueError(error + f"Received: input_number={v}{where}")

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(error + f"Received: {name}={factor}")
        check(factor[0])
        check(factor[1])
        validation.ordered_pair(factor[0], factor[1], name, factor)  # Keras sorts a reversed pair silently
        return tuple(factor)
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        check(factor)
        return (-abs(factor), abs(factor)) if symmetric else (0, factor)
    raise ValueError(error + f"Received: {name}={factor}")


@augmentation_doc("Solarization(threshold_factor=0.5, seed=1)")
class Solarization(_ImageDataLayer):
    """Solarizes images: inverts the pixels above a random threshold (Keras 3 ``Solarization``).

    On the image rescaled to [0, 255]: ``y = clip(x + addition, 0, 255)``, then ``y`` if ``y < threshold``
    else ``255 - y``, rescaled back to ``value_range``. Per image, ``addition`` is drawn from
    ``[addition_factor[0], addition_factor[1] * 255]`` and ``threshold`` likewise (Keras scales only the
    upper end by 255; this is kept so that drawn values agree with Keras). With the defaults (0, 0) every
    pixel is at or above the threshold 0, so the whole image is inverted.

    Args:
        addition_factor: a number ``f`` in [0, 1] (meaning ``(0, f)``) or a pair in [0, 1].
        threshold_factor: the same for the threshold.
        {{value_range}}
        {{seed}}
        data_format: 'channels_last' (default) or 'channels_first' (the layer is per pixel).

    Transformation: ``{"additions": (batch, 1, 1, 1), "thresholds": (batch, 1, 1, 1)}`` in [0, 255] units.

    {{shapes}}

    {{example}}
    """

    _config_keys = ("addition_factor", "threshold_factor", "value_range")

    def __init__(
        self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, data_format=None, **kwargs
    ):
        self.addition_factor = _unit_factor(
            addition_factor, "addition_factor", _SOLARIZATION_ERROR, False, keras_message_only=True
        )
        self.threshold_factor = _unit_factor(
            threshold_factor, "threshold_factor", _SOLARIZATION_ERROR, False, keras_message_only=True
        )
        self.value_range = _keras_value_range(value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _sample(self, images, seed):
        shape, batch, _, _, device = images
        fshape = (batch, 1, 1, 1) if len(shape) == 4 else (1, 1, 1)
        u = self._uniform((2,) + fshape, 0.0, 1.0, device, seed)
        a_low, a_high = self.addition_factor[0], self.addition_factor[1] * 255
        t_low, t_high = self.threshold_factor[0], self.threshold_factor[1] * 255
        return {"additions": u[0] * (a_high - a_low) + a_low, "thresholds": u[1] * (t_high - t_low) + t_low}

    def _transform(self, x, transformation):
        additions = _param(transformation["additions"], x, x.dtype)
        thresholds = _param(transformation["thresholds"], x, x.dtype)
        y = (_rescale(x, self.value_range, (0, 255)) + additions).clamp(0, 255)
        y = torch.where(y < thresholds, y, 255 - y)
        return _rescale(y, (0, 255), self.value_range)


# ---------------------------------------------------------------- posterization


@augmentation_doc("RandomPosterization(4, seed=1)")
class RandomPosterization(_FactorImageLayer):
    """Reduces the number of bits per colour channel during training (Keras 3 ``RandomPosterization``).

    On the image rescaled to [0, 255] and truncated to integers, the lowest ``8 - bits`` bits are cleared
    (``(x >> s) << s``), then the result is rescaled back to ``value_range``. ``bits`` is drawn per image as
    an integer in ``[factor[0], factor[1])`` (upper end excluded, as Keras's ``randint``), or is
    ``factor[0]`` when both ends are equal.

    Args:
        factor: an integer ``f`` in [1, 8] (meaning ``(1, f)``) or a pair ``(lower, upper)``.
        {{value_range}}
        {{data_format}}
        {{seed}}

    Transformation: ``{"shift_factor": uint8 tensor (batch,)}``, the number of bits cleared.

    {{shapes}}

    {{example}}
    """

    _MAX_BITS = 8

    _factor_bounds = (1, 8)

    def _sample(self, images, seed):
        _, batch, _, _, device = images
        low, high = int(self.factor[0]), int(self.factor[1])
        if low != high:
            bits = torch.randint(low, high, (batch,), generator=self._generator(device, seed), device=device)
        else:
            bits = torch.full((batch,), low, device=device)
        return {"shift_factor": (self._MAX_BITS - bits).to(torch.uint8)}

    def _transform(self, x, transformation):
        x, single = _batched(x)
        shift = _param(transformation["shift_factor"], x, torch.uint8).reshape(-1, 1, 1, 1)
        # float -> uint8 truncates toward zero, as Keras's cast does.
        q = _rescale(x, self.value_range, (0, 255)).to(torch.uint8)
        q = torch.bitwise_left_shift(torch.bitwise_right_shift(q, shift), shift)
        out = _rescale(q.to(x.dtype), (0, 255), self.value_range)
        return out.squeeze(0) if single else out


# ---------------------------------------------------------------- auto contrast


@augmentation_doc()
class AutoContrast(_FixedImageLayer):
    """Stretches each image's channels to the full value range (Keras 3 ``AutoContrast``).

    Per image and channel, the minimum becomes ``value_range[0]`` and the maximum ``value_range[1]``; a
    constant channel (whose stretch would divide by zero) is returned unchanged. Not random: it acts at
    inference as well as in training, as Keras's does.

    Args:
        {{value_range}}
        data_format: 'channels_last' (default) or 'channels_first'. (Keras reduces over axes (1, 2), the
            spatial axes only for channels_last; strided reduces over height and width in both formats.)

    Transformation: none (``get_random_transformation`` returns None).

    {{shapes}}

    Example:

    >>> images = np.array([[[[50.0], [100.0]], [[150.0], [200.0]]]], dtype="float32")  # one 2x2 gray image
    >>> keras.layers.AutoContrast()(images).numpy()[0, :, :, 0].tolist()
    [[0.0, 85.0], [170.0, 255.0]]
    """

    _config_keys = ("value_range",)

    def __init__(self, value_range=(0, 255), **kwargs):
        self.value_range = _keras_value_range(value_range)
        super().__init__(**kwargs)

    def transform_images(self, images, transformation=None, training=True):
        x = self._as_float(images)
        x4, single = _batched(x)
        y = _rescale(x4, self.value_range, (0, 255))
        axes = (1, 2) if self.data_format == "channels_last" else (2, 3)
        low = y.amin(dim=axes, keepdim=True)
        high = y.amax(dim=axes, keepdim=True)
        scale = 255.0 / (high - low)
        y = (y * scale - low * scale).clamp(0.0, 255.0)
        y = _rescale(y, (0, 255), self.value_range)
        out = torch.where(torch.isnan(y), x4, y)  # constant channels: 0 * inf
        return out.squeeze(0) if single else out


# ---------------------------------------------------------------- saturation and hue


def _channel(x, i, data_format):
    return x[..., i] if data_format == "channels_last" else x[:, i]


def _stack_channels(planes, data_format):
    return torch.stack(planes, dim=-1 if data_format == "channels_last" else 1)


@augmentation_doc("RandomSaturation(0.5, seed=1)")
class RandomSaturation(_FactorImageLayer):
    """Randomly scales the saturation of RGB images during training (Keras 3 ``RandomSaturation``).

    Per image a factor ``f`` is drawn uniformly from ``factor`` and turned into the multiplier
    ``m = f / (1 - f + 1e-7)``: ``f = 0.5`` keeps the saturation, ``f = 0`` (or below) makes the image gray,
    ``f = 1`` makes it fully saturated. The images go to HSV, the saturation is multiplied by ``m`` and
    clipped to ``value_range``, and they come back to RGB.

    Args:
        factor: a number ``f`` in [-1, 1] (meaning ``(-f, f)``) or a pair ``(lower, upper)``.
        value_range: ``[low, high]`` (default ``(0, 255)``), the clip range of the saturation channel.
        {{data_format}}
        {{seed}}

    Transformation: ``{"factor": (batch,)}``, the multipliers ``m``.

    {{shapes}}

    {{example}}
    """

    _factor_bounds = (-1, 1)

    def _sample(self, images, seed):
        _, batch, _, _, device = images
        f = self._uniform((batch,), self.factor[0], self.factor[1], device, seed)
        return {"factor": f / (1 - f + _EPSILON)}

    def _transform(self, x, transformation):
        x, single = _batched(x)
        m = _param(transformation["factor"], x, x.dtype).reshape(-1, 1, 1)
        hsv = rgb_to_hsv(x, data_format=self.data_format)
        s = (_channel(hsv, 1, self.data_format) * m).clamp(self.value_range[0], self.value_range[1])
        hsv = _stack_channels(
            [_channel(hsv, 0, self.data_format), s, _channel(hsv, 2, self.data_format)], self.data_format
        )
        out = hsv_to_rgb(hsv, data_format=self.data_format)
        return out.squeeze(0) if single else out


@augmentation_doc("RandomHue(0.2, seed=1)")
class RandomHue(_FactorImageLayer):
    """Randomly rotates the hue of RGB images during training (Keras 3 ``RandomHue``).

    Per image a magnitude is drawn uniformly from ``factor`` and a sign by a coin toss; the hue (in [0, 1],
    a full turn) is shifted by ``sign * magnitude / 2`` and wrapped. ``factor=1`` thus allows shifts up to
    half a turn either way. The images are rescaled to [0, 1] for the conversion, clipped there, and
    rescaled back to ``value_range``.

    Args:
        factor: a number ``f`` in [0, 1] (meaning ``(0, f)``) or a pair ``(lower, upper)``.
        {{value_range}}
        {{data_format}}
        {{seed}}

    Transformation: ``{"factor": (batch,)}``, the hue shifts in turns, in [-0.5, 0.5].

    {{shapes}}

    {{example}}
    """

    _factor_bounds = (0, 1)

    def _sample(self, images, seed):
        _, batch, _, _, device = images
        u = self._uniform((2, batch), 0.0, 1.0, device, seed)
        sign = torch.where(u[0] > 0.5, -1.0, 1.0)
        magnitude = u[1] * (self.factor[1] - self.factor[0]) + self.factor[0]
        return {"factor": sign * magnitude * 0.5}

    def _transform(self, x, transformation):
        x, single = _batched(x)
        shift = _param(transformation["factor"], x, x.dtype).reshape(-1, 1, 1)
        hsv = rgb_to_hsv(_rescale(x, self.value_range, (0, 1)), data_format=self.data_format)
        h = _channel(hsv, 0, self.data_format) + shift
        h = torch.where(h > 1.0, h - 1.0, h)  # one wrap suffices: |shift| <= 0.5
        h = torch.where(h < 0.0, h + 1.0, h)
        hsv = _stack_channels(
            [h, _channel(hsv, 1, self.data_format), _channel(hsv, 2, self.data_format)], self.data_format
        )
        out = _rescale(hsv_to_rgb(hsv, data_format=self.data_format).clamp(0, 1), (0, 1), self.value_range)
        return out.squeeze(0) if single else out


# ---------------------------------------------------------------- colour jitter


@augmentation_doc("RandomColorJitter(brightness_factor=0.2, contrast_factor=0.2, seed=1)")
class RandomColorJitter(_ImageDataLayer):
    """Applies random brightness, contrast, saturation and hue changes, in that order (Keras 3 ``RandomColorJitter``).

    Each factor that is not None adds the matching layer (``RandomBrightness``, ``RandomContrast``,
    ``RandomSaturation``, ``RandomHue``, with this ``value_range``); see those layers for the meaning of the
    factors.

    Args:
        {{value_range}}
        brightness_factor, contrast_factor, saturation_factor, hue_factor: the sub-layers' ``factor``
            arguments, or None to skip that step.
        {{seed}}
        {{data_format}}

    Transformation: ``{"brightness": ..., "contrast": ..., "saturation": ..., "hue": ...}``, the
    sub-layers' transformations (None for a skipped step). Keras draws these inside ``transform_images``
    and returns no transformation; strided draws them in ``get_random_transformation`` (they depend on
    the images' shape only), so that one call can be replayed.

    {{shapes}}

    {{example}}
    """

    _STEPS = ("brightness", "contrast", "saturation", "hue")

    _config_keys = ("value_range", "brightness_factor", "contrast_factor", "saturation_factor", "hue_factor")

    def __init__(
        self,
        value_range=(0, 255),
        brightness_factor=None,
        contrast_factor=None,
        saturation_factor=None,
        hue_factor=None,
        seed=None,
        data_format=None,
        **kwargs,
    ):
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        # The sub-layers draw with seeds taken from this layer's generator, so one seed drives them all
        # without making their draws equal.
        fmt = self.data_format
        self._steps = {}
        for key, cls, value in (
            ("brightness", RandomBrightness, brightness_factor),
            ("contrast", RandomContrast, contrast_factor),
            ("saturation", RandomSaturation, saturation_factor),
            ("hue", RandomHue, hue_factor),
        ):
            try:
                self._steps[key] = None if value is None else cls(value, value_range=value_range, data_format=fmt)
            except (ValueError, TypeError) as e:  # name this layer's argument, not the sub-layer's `factor`
                raise type(e)(
                    f"Invalid value for argument `{key}_factor` of RandomColorJitter ({key}_factor={value!r}): {e}"
                ) from None

    def get_random_transformation(self, data, training=True, seed=None):
        if not training:
            return None
        self._shape_info(data)  # rank check; each step samples for ``data`` itself
        gen = self._generator("cpu", seed)
        seeds = torch.randint(0, 2**31 - 1, (len(self._STEPS),), generator=gen).tolist()
        return {
            step: (
                None
                if self._steps[step] is None
                else self._steps[step].get_random_transformation(data, training=True, seed=s)
            )
            for step, s in zip(self._STEPS, seeds)
        }

    def _transform(self, x, transformation):
        for step in self._STEPS:
            layer = self._steps[step]
            if layer is not None and transformation.get(step) is not None:
                x = layer.transform_images(x, transformation[step], training=True)
        return x


# ---------------------------------------------------------------- erasing and mixing


def _box_masks(shape, data_format, x0, x1, y0, y1):
    """Boolean masks ``(N, H, W, C)`` (or ``(N, C, H, W)``) of the boxes ``x0 <= x < x1, y0 <= y < y1``."""
    channels_last = data_format == "channels_last"
    h, w, c = (shape[-3], shape[-2], shape[-1]) if channels_last else (shape[-2], shape[-1], shape[-3])
    device, dtype = x0.device, x0.dtype
    gy, gx = torch.meshgrid(
        torch.arange(h, device=device, dtype=dtype), torch.arange(w, device=device, dtype=dtype), indexing="ij"
    )
    gx, gy = (gx[None, :, :, None], gy[None, :, :, None]) if channels_last else (gx[None, None], gy[None, None])
    x0, x1, y0, y1 = (v.reshape(-1, 1, 1, 1) for v in (x0, x1, y0, y1))
    masks = (gx >= x0) & (gx < x1) & (gy >= y0) & (gy < y1)
    return masks.repeat_interleave(c, dim=-1 if channels_last else 1)


def _crop_bounds(u, length, ratio):
    """Keras's box placement along one axis: a window of ``ratio * length`` starting at ``u * (length - size)``."""
    size = ratio * length
    start = u * (length - size)
    return start, start + size


def _beta(shape, alpha, generator, device):
    """Beta(alpha, alpha) draws. torch's Beta sampler takes no generator, so it runs under a forked global
    RNG seeded from ``generator`` (the layer's own stream, or the global one when the layer has no seed)."""
    s = int(torch.randint(0, 2**31 - 1, (1,), generator=generator).item())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(s)
        a = torch.as_tensor(alpha, dtype=torch.float32).expand(shape)
        sample = torch.distributions.Beta(a, a).sample()
    return sample.to(device)


@augmentation_doc("RandomErasing(seed=1)")
class RandomErasing(_ImageDataLayer):
    """Replaces a random rectangle of some images with noise or a constant during training (Keras 3 ``RandomErasing``).

    Per image: the box's width and height are ``sqrt(s) * W`` and ``sqrt(s') * H`` with ``s, s'`` drawn
    from ``scale``, at a uniformly drawn position inside the image; the image is erased with a probability
    drawn from ``factor`` (as in ``RandomInvert``). The fill is ``fill_value`` (a number, or one value per
    channel), or when None Gaussian noise times ``value_range[1]``; it is clipped to ``value_range``.

    Args:
        factor: a number ``f`` in [0, 1] (meaning ``[0, f]``) or a pair, the erase probability's range.
        scale: a number or pair in [0, 1], the range of the box's fraction of each side, squared.
        fill_value: None (noise), a number, or a list of 3 numbers (one per channel).
        {{value_range}}
        {{seed}}
        {{data_format}}

    Transformation: ``{"apply_erasing": bool (batch,), "batch_masks": bool, shaped like the (batched)
    images, "fill_value": float, shaped like the (batched) images}``.

    {{shapes}}

    {{example}}
    """

    _config_keys = ("factor", "scale", "fill_value", "value_range")
    _config_list_keys = _ImageDataLayer._config_list_keys + ("fill_value",)

    def __init__(
        self,
        factor=1.0,
        scale=(0.02, 0.33),
        fill_value=None,
        value_range=(0, 255),
        seed=None,
        data_format=None,
        **kwargs,
    ):
        self.factor = _base_factor(factor, (0, 1))
        self.scale = _base_factor(scale, (0, 1), name="scale")
        self.fill_value = fill_value
        self.value_range = _keras_value_range(value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _fill(self, shape, generator, device):
        fill = self.fill_value
        msg = "The `fill_value` argument should be a number (or a list of three numbers) "
        if fill is None:
            fill = torch.randn(shape, generator=generator, device=device) * self.value_range[1]
        elif isinstance(fill, (tuple, list)):
            if len(fill) != 3:
                raise ValueError(msg)
            fill = torch.tensor(fill, dtype=torch.float32, device=device)
            # One value per channel. (Keras's torch backend broadcasts the list on the last axis, which
            # fails for channels_first; strided puts it on the channel axis.)
            fill = fill.expand(shape) if self.data_format == "channels_last" else fill[:, None, None].expand(shape)
        elif isinstance(fill, (int, float)) and not isinstance(fill, bool):
            fill = torch.full(shape, float(fill), device=device)
        else:
            raise ValueError(msg)
        return fill.clamp(self.value_range[0], self.value_range[1])

    def _sample(self, images, seed):
        shape, batch, h, w, device = images
        gen = self._generator(device, seed)
        bshape = shape if len(shape) == 4 else (1,) + shape

        def uniform(*s):
            return torch.rand(s, generator=gen, device=device)

        ratio = torch.sqrt(uniform(batch, 2) * (self.scale[1] - self.scale[0]) + self.scale[0])
        x0, x1 = _crop_bounds(uniform(batch), w, ratio[:, 0])
        y0, y1 = _crop_bounds(uniform(batch), h, ratio[:, 1])
        probability = uniform(batch) * (self.factor[1] - self.factor[0]) + self.factor[0]
        return {
            "apply_erasing": uniform(batch) < probability,
            "batch_masks": _box_masks(bshape, self.data_format, x0, x1, y0, y1),
            "fill_value": self._fill(bshape, gen, device),
        }

    def _transform(self, x, transformation):
        x, single = _batched(x)
        masks = _param(transformation["batch_masks"], x, torch.bool)
        fill = _param(transformation["fill_value"], x, x.dtype)
        apply = _param(transformation["apply_erasing"], x, torch.bool).reshape(-1, 1, 1, 1)
        out = torch.where(apply & masks, fill, x)
        return out.squeeze(0) if single else out


@augmentation_doc("MixUp(seed=1)")
class MixUp(_ImageDataLayer):
    """Blends each image (and label) with another of the batch during training (Keras 3 ``MixUp``).

    ``out = w * x + (1 - w) * x[permutation]`` with one weight ``w ~ Beta(alpha, alpha)`` per image and a
    random permutation of the batch; labels (one-hot or probabilities) and segmentation masks are mixed with
    the same weights. Call it on images, or on ``{"images": ..., "labels": ...}`` to mix the labels too.

    Args:
        alpha: the Beta distribution's parameter (default 0.2: most weights near 0 or 1).
        {{data_format}}
        {{seed}}

    Transformation: ``{"mix_weight": (batch,), "permutation_order": int64 (batch,)}``.

    {{shapes}}

    {{example}}
    """

    _config_keys = ("alpha",)

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        # the Beta distribution's parameter: a finite number > 0
        self.alpha = validation.number(
            alpha, "alpha", low=0, high=float("inf"), low_inclusive=False, high_inclusive=False
        )
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _sample(self, images, seed):
        _, batch, _, _, device = images
        gen = self._generator("cpu", seed)  # randperm and the Beta sampler draw on the CPU
        order = torch.randperm(batch, generator=gen).to(device)
        return {"mix_weight": _beta((batch,), self.alpha, gen, device), "permutation_order": order}

    def _mix(self, x, transformation, weight_shape, rank):
        single = x.ndim == rank - 1  # one image (or label) is mixed as a batch of one, as in Keras
        x = x.unsqueeze(0) if single else x
        w = _param(transformation["mix_weight"], x, x.dtype).reshape(weight_shape)
        order = _param(transformation["permutation_order"], x, torch.long)
        out = w * x + (1.0 - w) * x.index_select(0, order)
        return out.squeeze(0) if single else out

    def _transform(self, x, transformation):
        return self._mix(x, transformation, (-1, 1, 1, 1), 4)

    def transform_labels(self, labels, transformation, training=True):
        if not training or transformation is None:
            return labels
        return self._mix(self._as_float(labels), transformation, (-1, 1), 2)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not training or transformation is None:
            return segmentation_masks
        return self._mix(self._as_float(segmentation_masks), transformation, (-1, 1, 1, 1), 4)


@augmentation_doc("CutMix(seed=1)")
class CutMix(_ImageDataLayer):
    """Pastes a rectangle of another image of the batch into each image during training (Keras 3 ``CutMix``).

    A concentration ``a`` is drawn from ``factor`` (one for the batch) and per image ``l ~ Beta(a, a)``; the
    box has sides ``sqrt(1 - l)`` times the image's, at a uniform position, and is filled from the image at
    the same place in ``x[permutation]``. Labels are mixed with the weight ``1 - box area / image area``;
    segmentation masks are cut and pasted like the images. One image (rank 3) is returned unchanged.

    Args:
        factor: a number ``f`` in [0, 1] (meaning ``[0, f]``) or a pair, the range of ``a``.
        {{seed}}
        {{data_format}}

    Transformation: ``{"permutation_order": (batch,), "batch_masks": bool, shaped like the images,
    "mix_weight": (batch, 1, 1, 1)}``.

    {{shapes}}

    {{example}}
    """

    _config_keys = ("factor",)

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        self.factor = _base_factor(factor, (0, 1))
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _sample(self, images, seed):
        shape, batch, h, w, device = images
        if len(shape) == 3:
            return None
        gen = self._generator("cpu", seed)  # the Beta sampler and randperm draw on the CPU
        alpha = float(torch.rand((), generator=gen)) * (self.factor[1] - self.factor[0]) + self.factor[0] + 1e-6
        ratio = torch.sqrt(1.0 - _beta((batch,), alpha, gen, "cpu"))
        x0, x1 = _crop_bounds(torch.rand(batch, generator=gen), w, ratio)
        y0, y1 = _crop_bounds(torch.rand(batch, generator=gen), h, ratio)
        order = torch.randperm(batch, generator=gen)
        masks = _box_masks(shape, self.data_format, x0, x1, y0, y1)
        weight = 1.0 - (x1 - x0) * (y1 - y0) / (w * h)
        return {
            "permutation_order": order.to(device),
            "batch_masks": masks.to(device),
            "mix_weight": weight.reshape(-1, 1, 1, 1).to(device),
        }

    def _transform(self, x, transformation):
        masks = _param(transformation["batch_masks"], x, torch.bool)
        order = _param(transformation["permutation_order"], x, torch.long)
        return torch.where(masks, x.index_select(0, order), x)

    def transform_labels(self, labels, transformation, training=True):
        if not training or transformation is None:
            return labels
        y = self._as_float(labels)
        w = _param(transformation["mix_weight"], y, y.dtype).reshape(-1, 1)
        order = _param(transformation["permutation_order"], y, torch.long)
        return w * y + (1.0 - w) * y.index_select(0, order)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        return self.transform_images(segmentation_masks, transformation, training)


# ---------------------------------------------------------------- shear


@augmentation_doc("RandomShear(x_factor=0.2, seed=1)")
class RandomShear(_ImageDataLayer):
    """Randomly shears images along x and y during training (Keras 3 ``RandomShear``).

    Output pixel ``(x, y)`` samples the input at ``(x + sx * y, sy * x + y)`` (``keras.ops.image.affine_transform``
    semantics, see ``strided.layers.random_preprocessing``). Per image ``sx`` is drawn from ``x_factor``,
    ``sy`` from ``y_factor``, and both are negated together with probability 1/2.

    Args:
        x_factor: a number ``f`` in [0, 1] (meaning ``(-f, f)``) or a pair in [0, 1]; the horizontal shear.
        y_factor: the same for the vertical shear.
        interpolation: 'bilinear' (default) or 'nearest'.
        fill_mode: 'reflect' (default), 'wrap', 'constant' or 'nearest'.
        fill_value: value outside the image for ``fill_mode='constant'``.
        {{data_format}}
        {{seed}}

    Transformation: ``{"shear_factor": (batch, 2)}``, the ``[sx, sy]`` pairs.

    {{shapes}}

    {{example}}
    """

    _FILL_MODES = ("reflect", "wrap", "constant", "nearest")
    _INTERPOLATIONS = ("nearest", "bilinear")

    def __init__(
        self,
        x_factor=0.0,
        y_factor=0.0,
        interpolation="bilinear",
        fill_mode="reflect",
        fill_value=0.0,
        data_format=None,
        seed=None,
        **kwargs,
    ):
        self.x_factor = _unit_factor(x_factor, "x_factor", _SHEAR_ERROR, symmetric=True)
        self.y_factor = _unit_factor(y_factor, "y_factor", _SHEAR_ERROR, symmetric=True)
        # The config keeps the arguments: the ranges (-f, f) would not pass the [0, 1] check again.
        self._factor_args = (
            list(x_factor) if isinstance(x_factor, tuple) else x_factor,
            list(y_factor) if isinstance(y_factor, tuple) else y_factor,
        )
        # Keras raises NotImplementedError (not ValueError) for these two.
        if fill_mode not in self._FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {self._FILL_MODES}.")
        if interpolation not in self._INTERPOLATIONS:
            raise NotImplementedError(
                f"Unknown `interpolation` {interpolation}. Expected of one {self._INTERPOLATIONS}."
            )
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.interpolation = interpolation
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _sample(self, images, seed):
        shape, batch, _, _, device = images
        u = self._uniform((3, batch, 1), 0.0, 1.0, device, seed)
        sign = torch.where(u[0] > 0.5, -1.0, 1.0)
        sy = u[1] * (self.y_factor[1] - self.y_factor[0]) + self.y_factor[0]
        sx = u[2] * (self.x_factor[1] - self.x_factor[0]) + self.x_factor[0]
        return {"shear_factor": torch.cat([sx, sy], dim=1) * sign, "input_shape": shape}

    def _transform(self, x, transformation):
        s = _param(transformation["shear_factor"], x, torch.float32).reshape(-1, 2)
        ones, zeros = torch.ones_like(s[:, 0]), torch.zeros_like(s[:, 0])
        matrix = torch.stack([ones, s[:, 0], zeros, s[:, 1], ones, zeros, zeros, zeros], dim=1)
        return image_affine_transform(x, matrix, self.interpolation, self.fill_mode, self.fill_value, self.data_format)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(
            {
                "x_factor": self._factor_args[0],
                "y_factor": self._factor_args[1],
                "fill_mode": self.fill_mode,
                "interpolation": self.interpolation,
                "fill_value": self.fill_value,
            }
        )
        return cfg
