"""``keras.ops.image``: resizing, colour-space conversions and patch extraction on image batches.

Images are ``(N, H, W, C)`` (or one ``(H, W, C)`` image) for channels_last, ``(N, C, H, W)`` for
channels_first. Every function is checked against ``keras.ops.image`` in
``tests/test_ops_keras_parity.py``.
"""

import torch
import torch.nn.functional as F

from strided import config
from strided.ops.core import convert_to_tensor
from strided.utils import conv_utils

_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic", "area": "area"}
_t = convert_to_tensor


def _format(data_format):
    return conv_utils.normalize_data_format(data_format or config.image_data_format())


def _channel_axis(images, data_format):
    if images.ndim not in (3, 4):
        raise ValueError(
            "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: images.shape={tuple(images.shape)}"
        )
    return -1 if _format(data_format) == "channels_last" else -3


def resize_images(
    images,
    size,
    interpolation="bilinear",
    data_format="channels_last",
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_value=0.0,
    antialias=False,
):
    """Resizes a batch ``(N, H, W, C)`` (or one image ``(H, W, C)``) to ``size = (height, width)``.

    Half-pixel sampling (TensorFlow/Keras ``ops.image.resize``). ``crop_to_aspect_ratio`` first takes the
    largest centred crop with the target aspect ratio; ``pad_to_aspect_ratio`` pads with ``fill_value``.
    """
    single = images.ndim == 3
    x = images.unsqueeze(0) if single else images
    if data_format == "channels_last":
        x = x.movedim(-1, 1)
    if not x.is_floating_point():
        x = x.float()
    th, tw = size
    h, w = x.shape[-2], x.shape[-1]
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        hs, ws = int(float(h - ch) / 2), int(float(w - cw) / 2)
        x = x[:, :, hs : hs + ch, ws : ws + cw]
    elif pad_to_aspect_ratio:
        ph = max(h, int(float(w * th) / tw))
        pw = max(w, int(float(h * tw) / th))
        hs, ws = int(float(ph - h) / 2), int(float(pw - w) / 2)
        # Keras pads the same amount on both sides (the target box may be one pixel short of exact).
        x = F.pad(x, (ws, ws, hs, hs), value=float(fill_value))
    mode = _MODES[interpolation]
    align = False if mode in ("bilinear", "bicubic") else None
    y = F.interpolate(
        x, size=(th, tw), mode=mode, align_corners=align, antialias=bool(antialias) and mode in ("bilinear", "bicubic")
    )
    if data_format == "channels_last":
        y = y.movedim(1, -1)
    return y.squeeze(0) if single else y


def resize(
    images,
    size,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_mode="constant",
    fill_value=0.0,
    data_format=None,
):
    """Resizes images to ``size = (height, width)`` (Keras's ``ops.image.resize``).

    Args:
        images: ``(N, H, W, C)`` / ``(H, W, C)`` (or channels_first).
        size: ``(height, width)``.
        interpolation: 'bilinear', 'nearest', 'bicubic' or 'area'.
        antialias: low-pass filter when downsampling (bilinear/bicubic).
        crop_to_aspect_ratio / pad_to_aspect_ratio: keep the aspect ratio by a centred crop / padding.
        fill_value: the padding value.
        data_format: 'channels_last' (default) or 'channels_first'.
    """
    if interpolation not in _MODES:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected one of {sorted(_MODES)}. "
            f"Received: interpolation={interpolation}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be True.")
    images = _t(images)
    dtype = images.dtype
    out = resize_images(
        images,
        tuple(size),
        interpolation,
        _format(data_format),
        crop_to_aspect_ratio,
        pad_to_aspect_ratio,
        fill_value,
        antialias,
    )
    return out if dtype.is_floating_point else out.to(config.torch_dtype(None))


def rgb_to_grayscale(images, data_format=None):
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` with one channel kept (grayscale input is copied)."""
    images = _t(images)
    axis = _channel_axis(images, data_format)
    if images.shape[axis] not in (1, 3):
        raise ValueError(
            "Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received input with shape: "
            f"images.shape={tuple(images.shape)}"
        )
    if images.shape[axis] == 1:
        return images.clone()
    r, g, b = images.unbind(dim=axis)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(images.dtype).unsqueeze(axis)


def _float_images(images, data_format):
    images = _t(images)
    axis = _channel_axis(images, data_format)
    if not images.is_floating_point():
        raise ValueError(
            f"Invalid images dtype: expected float dtype. Received: images.dtype="
            f"{str(images.dtype).replace('torch.', '')}"
        )
    return images, axis


def _check_rgb(images, axis):
    if images.ndim < 3 or images.shape[axis] != 3:
        raise ValueError(
            f"Expected RGB images with 3 channels (on axis {axis}). Received images of shape "
            f"{tuple(images.shape)}: the input needs a channels axis of size 3 (input rank 3 or 4)."
        )


def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] to hue, saturation, value in [0, 1] (TensorFlow's conversion)."""
    images, axis = _float_images(images, data_format)
    _check_rgb(images, axis)
    eps = torch.finfo(images.dtype).eps
    images = torch.where(images.abs() < eps, torch.zeros_like(images), images)
    r, g, b = images.unbind(dim=axis)
    value = torch.maximum(torch.maximum(r, g), b)
    spread = value - torch.minimum(torch.minimum(r, g), b)
    saturation = torch.where(
        value > 0, spread / torch.where(value > 0, value, torch.ones_like(value)), torch.zeros_like(value)
    )
    norm = 1.0 / (6.0 * torch.where(spread > 0, spread, torch.ones_like(spread)))
    hue = torch.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = torch.where(value == r, norm * (g - b), hue)
    hue = torch.where(spread > 0, hue, torch.zeros_like(hue)) + (hue < 0.0).to(hue.dtype)
    return torch.stack([hue, saturation, value], dim=axis)


def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value in [0, 1] to RGB (the inverse of ``rgb_to_hsv``)."""
    images, axis = _float_images(images, data_format)
    _check_rgb(images, axis)
    h, s, v = images.unbind(dim=axis)
    dh = torch.remainder(h, 1.0) * 6.0
    dr = torch.clamp(torch.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = torch.clamp(2.0 - torch.abs(dh - 2.0), 0.0, 1.0)
    db = torch.clamp(2.0 - torch.abs(dh - 4.0), 0.0, 1.0)
    grey = 1.0 - s
    return torch.stack([v * (grey + s * dr), v * (grey + s * dg), v * (grey + s * db)], dim=axis)


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Square or rectangular patches of ``size`` as channels: ``(N, out_h, out_w, ph * pw * C)``.

    Patch channel ``(i * pw + j) * C + c`` is pixel ``(i, j)`` of the patch, channel ``c``; ``strides``
    default to ``size`` (non-overlapping patches); 'same' pads as TensorFlow.
    """
    images = _t(images)
    channels_last = _format(data_format) == "channels_last"
    single = images.ndim == 3
    x = images.unsqueeze(0) if single else images
    x = x.movedim(-1, 1) if channels_last else x
    ph, pw = conv_utils.normalize_tuple(size, 2, "size")
    sh, sw = conv_utils.normalize_tuple(strides if strides is not None else (ph, pw), 2, "strides")
    dh, dw = conv_utils.normalize_tuple(dilation_rate, 2, "dilation_rate")
    if str(padding).lower() == "same":
        (top, bottom), (left, right) = (
            conv_utils.same_padding(x.shape[2], ph, sh, dh),
            conv_utils.same_padding(x.shape[3], pw, sw, dw),
        )
        x = F.pad(x, (left, right, top, bottom))
    n, c = x.shape[:2]
    out_h = (x.shape[2] - (ph - 1) * dh - 1) // sh + 1
    out_w = (x.shape[3] - (pw - 1) * dw - 1) // sw + 1
    cols = F.unfold(x, (ph, pw), dilation=(dh, dw), stride=(sh, sw))  # (N, C*ph*pw, L), channel-major
    patches = cols.reshape(n, c, ph * pw, out_h, out_w).permute(0, 3, 4, 2, 1).reshape(n, out_h, out_w, -1)
    if not channels_last:
        patches = patches.movedim(-1, 1)
    return patches.squeeze(0) if single else patches


__all__ = ["resize", "rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb", "extract_patches"]
