"""Image file helpers with Keras's names: load_img, img_to_array, array_to_img, save_img, smart_resize; and the
decoding and resizing of the image directory datasets (``load_image``), as ``tf.image`` does it.

Pillow is imported on first use so that ``import strided`` needs only torch and NumPy.
"""

import io
import math
import os
import pathlib
import warnings

import numpy as np
import torch

from strided import config
from strided.ops.image import resize
from strided.utils.optional import optional_import


def _pil():
    return optional_import("PIL.Image", "Reading and writing image files")


def _interpolation_methods():
    Image = _pil()
    resampling = getattr(Image, "Resampling", Image)
    return {
        "nearest": resampling.NEAREST,
        "bilinear": resampling.BILINEAR,
        "bicubic": resampling.BICUBIC,
        "hamming": resampling.HAMMING,
        "box": resampling.BOX,
        "lanczos": resampling.LANCZOS,
    }


def _data_format(data_format):
    if data_format is None:
        return config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "Invalid value for argument `data_format`. Expected one of "
            f"['channels_last', 'channels_first']. Received: data_format={data_format!r}"
        )
    return data_format


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Converts a 3D NumPy array to a PIL Image instance.

    Args:
        x: array of shape (height, width, channels) (or channels first), 1, 3 or 4 channels.
        data_format: 'channels_last' or 'channels_first'; None uses ``image_data_format()``.
        scale: rescale values so that the minimum becomes 0 and the maximum 255.
        dtype: float type used for the intermediate array (default ``floatx()``).

    Returns:
        A PIL Image.
    """
    Image = _pil()
    data_format = _data_format(data_format)
    x = np.asarray(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels == 4:
        return Image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return Image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit integer grayscale, PIL mode "I"
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}. Expected 1, 3 or 4. Received array of shape {x.shape}")


def img_to_array(img, data_format=None, dtype=None):
    """Converts a PIL Image instance to a 3D NumPy array (height, width, channels).

    Args:
        img: a PIL Image.
        data_format: 'channels_last' or 'channels_first'; None uses ``image_data_format()``.
        dtype: dtype of the result (default ``floatx()``).

    Returns:
        A 3D NumPy array.
    """
    data_format = _data_format(data_format)
    if isinstance(img, (str, bytes, os.PathLike)):
        raise TypeError(
            f"Invalid type for argument `img`. Expected a PIL image or an array; to read a file use "
            f"`keras.utils.load_img(path)` first. Received img={img!r} of type {type(img).__name__}."
        )
    try:
        x = np.asarray(img, dtype=dtype or config.floatx())
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"Invalid type for argument `img`. Expected a PIL image or an array of numbers. "
            f"Received img of type {type(img).__name__} ({e})."
        ) from None
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        x = x.reshape((1, *x.shape)) if data_format == "channels_first" else x.reshape((*x.shape, 1))
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves an image stored as a NumPy array to a path or file object.

    Args:
        path: path or file object.
        x: NumPy array, one image.
        data_format: 'channels_last' or 'channels_first'.
        file_format: format override; inferred from the file name when omitted.
        scale: rescale the values to [0, 255].
        **kwargs: passed to ``PIL.Image.save()``.
    """
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def _open_image(path):
    Image = _pil()
    if isinstance(path, io.BytesIO):
        source = path
    elif isinstance(path, (pathlib.Path, bytes, str)):
        if isinstance(path, bytes):
            path = path.decode()
        with open(path, "rb") as f:
            source = io.BytesIO(f.read())
    else:
        raise TypeError(
            f"Invalid type for argument `path`. Expected a path or io.BytesIO. "
            f"Received path={path!r} of type {type(path).__name__}"
        )
    try:
        img = Image.open(source)
        img.load()
    except Exception as exc:  # Pillow raises several types for a bad file
        raise ValueError(
            f"Could not read the image file {path!r}: {exc}. Is it a valid image (png, jpg, bmp, gif)?"
        ) from None
    return img


def _convert_mode(img, color_mode):
    if color_mode == "grayscale":
        # Keep 8/16/32-bit grayscale as is; anything else becomes 8-bit "L".
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError(
            "Invalid value for argument `color_mode`. Expected one of ['grayscale', 'rgb', 'rgba']. "
            f"Received: color_mode={color_mode!r}"
        )
    return img


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """Loads an image into PIL format.

    Args:
        path: path to the image file (str, pathlib.Path, bytes) or an io.BytesIO.
        color_mode: 'grayscale', 'rgb' or 'rgba'.
        target_size: None (original size) or (height, width).
        interpolation: resampling used when resizing: 'nearest', 'bilinear', 'bicubic', 'hamming',
            'box' or 'lanczos'.
        keep_aspect_ratio: crop the centre to the target aspect ratio before resizing.

    Returns:
        A PIL Image.
    """
    img = _convert_mode(_open_image(path), color_mode)
    if target_size is not None:
        width_height = (int(target_size[1]), int(target_size[0]))
        if img.size != width_height:
            methods = _interpolation_methods()
            if interpolation not in methods:
                raise ValueError(
                    f"Invalid value for argument `interpolation`. Expected one of {list(methods)}. "
                    f"Received: interpolation={interpolation!r}"
                )
            box = None
            if keep_aspect_ratio:
                width, height = img.size
                tw, th = width_height
                crop_h = min(height, (width * th) // tw)
                crop_w = min(width, (height * tw) // th)
                hs, ws = (height - crop_h) // 2, (width - crop_w) // 2
                box = (ws, hs, ws + crop_w, hs + crop_h)
            img = img.resize(width_height, methods[interpolation], box=box)
    return img


# -- decoding and resizing of the directory datasets (tf.image's rules) ------------------------------------
# tf.image's smooth kernels that torch lacks: cubic stands in for them (a close approximation, not TF-exact).
_CUBIC_LIKE = ("mitchellcubic", "gaussian", "lanczos3", "lanczos5")


def _resize_batch(x, size, interpolation="bilinear", crop_to_aspect_ratio=False):
    """Resizes an NHWC float tensor like ``tf.image.resize`` (half-pixel centres, no antialiasing), with
    ``ops.image.resize``; ``crop_to_aspect_ratio`` first takes the largest centred crop of the target's ratio."""
    size = (int(size[0]), int(size[1]))
    if tuple(x.shape[1:3]) == size:
        return x
    interpolation = "bicubic" if interpolation in _CUBIC_LIKE else interpolation
    return resize(x, size, interpolation, crop_to_aspect_ratio=crop_to_aspect_ratio, data_format="channels_last")


def _read_image(path, num_channels):
    img = _open_image(path)
    img.seek(0)  # animated gifs: first frame, as Keras
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[num_channels]
    if img.mode != mode:
        img = img.convert(mode)
    arr = np.asarray(img, dtype=np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def load_image(
    path, image_size, num_channels=3, interpolation="bilinear", crop_to_aspect_ratio=False, pad_to_aspect_ratio=False
):
    """Reads one image file into a float32 (h, w, c) array in [0, 255], resized as Keras's directory datasets do."""
    arr = _read_image(path, num_channels)
    th, tw = int(image_size[0]), int(image_size[1])
    x = torch.from_numpy(arr.astype(np.float32))[None]
    h, w = arr.shape[0], arr.shape[1]
    if crop_to_aspect_ratio:
        x = _resize_batch(x, (th, tw), interpolation, crop_to_aspect_ratio=True)
    elif pad_to_aspect_ratio:
        # tf.image.resize_with_pad: fit inside the target keeping the ratio, centre, pad with zeros.
        ratio = max(w / tw, h / th)
        rh, rw = max(int(math.floor(h / ratio)), 1), max(int(math.floor(w / ratio)), 1)
        inner = _resize_batch(x, (rh, rw), interpolation)
        top, left = (th - rh) // 2, (tw - rw) // 2
        x = torch.zeros((1, th, tw, num_channels), dtype=torch.float32)
        x[:, top : top + rh, left : left + rw] = inner
    else:
        x = _resize_batch(x, (th, tw), interpolation)
    return x[0].numpy()


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last"):
    """Resizes an image (or batch) to ``size`` without distortion: crops the centre to the target aspect ratio.

    Args:
        x: NumPy array (h, w, c) or (n, h, w, c) (channels first when ``data_format`` says so).
        size: (height, width).
        interpolation: 'bilinear', 'nearest', 'bicubic', 'area'.
        data_format: 'channels_last' or 'channels_first'.

    Returns:
        A float32 NumPy array of the target size.
    """
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(
            "Expected an image array with shape `(height, width, channels)`, or `(batch_size, height, "
            f"width, channels)`, but got input with incorrect rank, of shape {x.shape}."
        )
    single = x.ndim == 3
    if single:
        x = x[None]
    if data_format == "channels_first":
        x = x.transpose(0, 2, 3, 1)
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    out = _resize_batch(x, size, interpolation, crop_to_aspect_ratio=True).numpy()
    if data_format == "channels_first":
        out = out.transpose(0, 3, 1, 2)
    return out[0] if single else out
