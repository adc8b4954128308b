"""Filtering and histogram augmentation layers with Keras 3 semantics: RandomGaussianBlur, RandomSharpness,
RandomColorDegeneration and Equalization.

They follow the two-step pattern of ``strided.layers.random_preprocessing``: ``get_random_transformation``
draws the whole batch's parameters at once (one torch call, per image), ``transform_images`` applies them
deterministically. Transformations use Keras 3's dict keys, so one drawn by real Keras can be applied by
strided and gives the same images.

The filters are convolutions with zero padding ('same' size), as in Keras: pixels near the border are
blurred towards 0. Every image of a batch is filtered with its own kernel in one grouped ``conv2d``.
Outputs are clipped to ``value_range`` (Equalization works on the range rescaled to [0, 255]).

As in Keras, the layers act in training (``fit``, or a direct call without ``training``) and return their
input, as floats, when ``training=False``; Equalization too (Keras's docstring says "at inference time the
equalization is consistently applied", but its code, which strided follows, returns the input).
"""

import math

import torch
import torch.nn.functional as F

from strided.layers.random_preprocessing import augmentation_doc
from strided.layers.color_augmentation import (
    _FactorImageLayer,
    _FixedImageLayer,
    _ImageDataLayer,
    _base_factor,
    _batched,
    _keras_value_range,
    _param,
)
from strided.ops.image import rgb_to_grayscale
from strided.utils import validation

__all__ = ["RandomGaussianBlur", "RandomSharpness", "RandomColorDegeneration", "Equalization", "gaussian_kernels"]

_SIGMA_EPSILON = 1e-6  # Keras adds it to the drawn sigma, so that sigma 0 gives a (delta) kernel, not NaN


def gaussian_kernels(sigma, kernel_size):
    """Normalised 2-D Gaussian kernels, one per image (Keras's ``ops.image.gaussian_blur`` kernels).

    Args:
        sigma: ``(N, 2)`` tensor of standard deviations ``[sigma_x, sigma_y]`` (along the width, the height).
        kernel_size: ``(kx, ky)``, the kernel's width and height, odd integers.

    Returns:
        ``(N, ky, kx)`` tensor: the outer product of the two normalised 1-D Gaussians
        ``exp(-t**2 / (2 sigma**2))`` sampled at ``t = -(k - 1) / 2, ..., (k - 1) / 2``.
    """
    kx, ky = int(kernel_size[0]), int(kernel_size[1])

    def one_d(size, s):
        t = torch.arange(size, dtype=s.dtype, device=s.device) - (size - 1) / 2
        k = torch.exp(-0.5 * (t / s[:, None]) ** 2)
        return k / k.sum(dim=1, keepdim=True)

    return one_d(ky, sigma[:, 1])[:, :, None] * one_d(kx, sigma[:, 0])[:, None, :]


def _filter_per_image(x, kernels, data_format):
    """Zero-padded 'same' convolution of every channel of image ``i`` with ``kernels[i]`` (odd sizes).

    ``x`` is a batch ``(N, H, W, C)`` (or ``(N, C, H, W)``); ``kernels`` is ``(N, kh, kw)`` or ``(kh, kw)``
    (one kernel for all). All images and channels go through one depthwise (grouped) ``conv2d``.
    """
    nchw = x.permute(0, 3, 1, 2) if data_format == "channels_last" else x
    n, c, h, w = nchw.shape
    kh, kw = kernels.shape[-2:]
    if kernels.ndim == 2:
        weight = kernels.to(x.dtype).expand(c, 1, kh, kw)
        out = F.conv2d(nchw, weight, padding=(kh // 2, kw // 2), groups=c)
    else:
        weight = kernels.to(x.dtype).repeat_interleave(c, dim=0).unsqueeze(1)  # (N * C, 1, kh, kw)
        out = F.conv2d(nchw.reshape(1, n * c, h, w), weight, padding=(kh // 2, kw // 2), groups=n * c)
        out = out.reshape(n, c, h, w)
    return out.permute(0, 2, 3, 1) if data_format == "channels_last" else out


# ---------------------------------------------------------------- gaussian blur


def _kernel_size(kernel_size, name="kernel_size"):
    """Keras's ``RandomGaussianBlur._set_kernel_size``: an odd number ``k`` gives ``(k, k)``."""
    msg = f"{name} must be an odd number. Received: {name}={kernel_size}"
    if isinstance(kernel_size, (tuple, list)):
        if len(kernel_size) != 2:
            raise ValueError(
                f"The `{name}` argument should be a number (or a list of two numbers) Received: {name}={kernel_size}"
            )
        sizes = tuple(kernel_size)
    elif isinstance(kernel_size, (int, float)) and not isinstance(kernel_size, bool):
        sizes = (kernel_size, kernel_size)
    else:
        raise ValueError(msg)
    if any(isinstance(k, bool) or not isinstance(k, (int, float)) or not math.isfinite(k) or k % 2 == 0 for k in sizes):
        raise ValueError(msg)
    if any(k < 1 or int(k) != k for k in sizes):
        raise ValueError(f"The `{name}` argument should be positive odd integers. Received: {name}={kernel_size}")
    return int(sizes[0]), int(sizes[1])


@augmentation_doc("RandomGaussianBlur(seed=1)")
class RandomGaussianBlur(_ImageDataLayer):
    """Blurs some images with a random Gaussian kernel during training (Keras 3 ``RandomGaussianBlur``).

    Each image draws a probability ``p`` uniformly from ``factor`` and a threshold ``t`` from ``[0, 1)``,
    and is blurred when ``t < p`` (``factor=0`` never blurs, ``factor=(1, 1)`` always). A blurred image is
    convolved, every channel alike and with zero padding, with a normalised Gaussian kernel of size
    ``kernel_size`` whose standard deviations ``sigma_x`` and ``sigma_y`` are drawn uniformly from
    ``sigma`` (plus ``1e-6``). The output is clipped to ``value_range``.

    Keras draws one ``(sigma_x, sigma_y)`` pair for the whole batch; strided draws one per image, and
    applies a Keras-drawn transformation (a single pair) to every image, as Keras does.

    Args:
        factor: a number ``f`` in [0, 1] (meaning ``[0, f]``) or a pair: the range of the blur probability.
            Default 1.0.
        kernel_size: odd integer (default 3), or a pair ``(width, height)`` of odd integers.
        sigma: a number ``s`` in [0, 1] (meaning ``[0, s]``) or a pair ``(lower, upper)`` (only checked
            to overlap [0, 1], as Keras does): the range of the standard deviations, in pixels. Default 1.0.
        value_range: ``[low, high]`` range of the input values (default ``(0, 255)``); the output is
            clipped to it.
        {{data_format}}
        {{seed}}

    {{shapes}}

    Transformation: ``{"should_apply_blur": bool (batch,), "blur_factor": (batch, 2)}``, the
    ``[sigma_x, sigma_y]`` per image (``(2,)``, one pair for all, is accepted too).

    {{example}}
    """

    _config_keys = ("factor", "kernel_size", "sigma", "value_range")

    def __init__(
        self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None, seed=None, **kwargs
    ):
        self.factor = _base_factor(factor, (0, 1))
        self.kernel_size = _kernel_size(kernel_size)
        self.sigma = _base_factor(sigma, (0, 1), name="sigma")
        self.value_range = _keras_value_range(value_range)
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _sample(self, images, seed):
        _, batch, _, _, device = images
        u = self._uniform((batch, 4), 0.0, 1.0, device, seed)
        probability = u[:, 0] * (self.factor[1] - self.factor[0]) + self.factor[0]
        sigma = u[:, 2:] * (self.sigma[1] - self.sigma[0]) + self.sigma[0] + _SIGMA_EPSILON
        return {"should_apply_blur": u[:, 1] < probability, "blur_factor": sigma}

    def _transform(self, x, transformation):
        x, single = _batched(x)
        sigma = _param(transformation["blur_factor"], x, torch.float32).reshape(-1, 2)
        kernels = gaussian_kernels(sigma, self.kernel_size)
        blurred = _filter_per_image(x, kernels if kernels.shape[0] > 1 else kernels[0], self.data_format)
        apply = _param(transformation["should_apply_blur"], x, torch.bool).reshape(-1, 1, 1, 1)
        out = torch.where(apply, blurred, x).clamp(self.value_range[0], self.value_range[1])
        return out.squeeze(0) if single else out


# ---------------------------------------------------------------- sharpness

# Keras's (and PIL's ImageEnhance.Sharpness) smoothing kernel: 1/13 around a centre of 5/13.
_SMOOTH = torch.tensor([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]]) / 13.0


@augmentation_doc("RandomSharpness(0.5, seed=1)")
class RandomSharpness(_FactorImageLayer):
    """Randomly blurs or sharpens images during training (Keras 3 ``RandomSharpness``).

    Each image is blended with a smoothed copy of itself (the 3x3 kernel ``[[1, 1, 1], [1, 5, 1], [1, 1, 1]]
    / 13``, zero padding): ``out = x + (1 - 2 f) * (smooth(x) - x)`` with ``f`` drawn per image uniformly from
    ``factor``. ``f = 0`` gives the smoothed image, ``f = 0.5`` the image itself, ``f = 1`` extrapolates away
    from the smoothed image (sharper). The output is clipped to ``value_range``.

    Args:
        factor: a number ``f`` in [0, 1] (meaning ``[0, f]``) or a pair ``(lower, upper)``. Pass
            ``(0.5, 0.5)`` for no change.
        {{value_range}}
        {{data_format}}
        {{seed}}

    {{shapes}}

    Transformation: ``{"factor": (batch,)}``, the drawn ``f``.

    {{example}}
    """

    _factor_bounds = (0, 1)

    def _sample(self, images, seed):
        _, batch, _, _, device = images
        return {"factor": self._uniform((batch,), self.factor[0], self.factor[1], device, seed)}

    def _transform(self, x, transformation):
        x, single = _batched(x)
        s = _param(transformation["factor"], x, x.dtype).reshape(-1, 1, 1, 1) * 2.0
        smooth = _filter_per_image(x, _SMOOTH.to(x.device), self.data_format)
        out = (x + (1.0 - s) * (smooth - x)).clamp(self.value_range[0], self.value_range[1])
        return out.squeeze(0) if single else out


# ---------------------------------------------------------------- colour degeneration


@augmentation_doc("RandomColorDegeneration(0.5, seed=1)")
class RandomColorDegeneration(_FactorImageLayer):
    """Randomly fades the colours of RGB images towards gray during training (Keras 3 ``RandomColorDegeneration``).

    ``out = x + f * (gray(x) - x)``, with ``gray`` the luma ``0.2989 R + 0.587 G + 0.114 B`` in every channel
    and ``f`` drawn per image uniformly from ``factor``: 0 keeps the image, 1 makes it gray, negative values
    (Keras's default range for a number ``f`` is ``[-f, f]``) make the colours stronger. The output is
    clipped to ``value_range``.

    Args:
        factor: a number ``f`` in [-1, 1] (meaning ``[-f, f]``) or a pair ``(lower, upper)``.
        {{value_range}}
        {{data_format}}
        {{seed}}

    Input shape:
        ``(batch, height, width, 3)`` or one image (1 channel: unchanged).

    Output shape:
        same.

    Transformation: ``{"factor": (batch, 1, 1, 1)}``.

    {{example}}
    """

    _factor_bounds = (-1, 1)

    def check_input(self, shape):
        super().check_input(shape)
        if isinstance(shape, tuple) and len(shape) in (3, 4):
            channels = shape[-1] if self.data_format == "channels_last" else shape[-3]
            if channels is not None and channels not in (1, 3):
                raise ValueError(
                    f"Layer '{self.name}' expects RGB (3-channel) or grayscale images. Received: inputs.shape={shape}"
                )

    def _sample(self, images, seed):
        _, batch, _, _, device = images
        return {"factor": self._uniform((batch, 1, 1, 1), self.factor[0], self.factor[1], device, seed)}

    def _transform(self, x, transformation):
        x, single = _batched(x)
        f = _param(transformation["factor"], x, x.dtype).reshape(-1, 1, 1, 1)
        gray = rgb_to_grayscale(x, data_format=self.data_format)
        out = (x + f * (gray - x)).clamp(self.value_range[0], self.value_range[1])
        return out.squeeze(0) if single else out


# ---------------------------------------------------------------- equalization


def _scale_values(x, source, target):
    """Equalization's linear map of ``source`` onto ``target`` (Keras's formula, so the bins agree exactly)."""
    scale = (float(target[1]) - float(target[0])) / (float(source[1]) - float(source[0]))
    return x * scale + (float(target[0]) - float(source[0]) * scale)


@augmentation_doc()
class Equalization(_FixedImageLayer):
    """Histogram equalization of every channel (Keras 3 ``Equalization``).

    On the values rescaled from ``value_range`` to [0, 255], each channel's histogram (``bins`` bins of
    ``[0, 255]``) gives a cumulative distribution ``cdf``; a value in bin ``b`` becomes
    ``round(255 * (cdf[b] - cdf_min) / (cdf[-1] - cdf_min))`` (``cdf_min``: the first non-zero count), and
    is rescaled back to ``value_range``. A channel whose values all fall in one bin is left unchanged.

    As in Keras, the histogram of a channel is taken over the whole batch (each image is equalized
    alone when called on one image), and the layer is not random: it acts in training and on a direct
    call, and returns its input with ``training=False``.

    Args:
        {{value_range}}
        bins: number of histogram bins (default 256, one per 8-bit level).
        {{data_format}}

    {{shapes}}

    Transformation: none (``get_random_transformation`` returns None).

    Example:

    >>> images = np.random.default_rng(0).uniform(0, 100, size=(2, 32, 32, 3)).astype("float32")
    >>> out = keras.layers.Equalization()(images).numpy()
    >>> out.shape, float(images.max()) < 100, float(out.max())  # the histogram now spans the whole range
    ((2, 32, 32, 3), True, 255.0)
    """

    _config_keys = ("bins", "value_range")

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        self.value_range = _keras_value_range(value_range)
        self.bins = validation.positive_int(bins, "bins")
        super().__init__(data_format=data_format, **kwargs)

    def transform_images(self, images, transformation=None, training=True):
        x = self._as_float(images)
        if not training:
            return x
        channels_last = self.data_format == "channels_last"
        v = _scale_values(x.to(torch.float32), self.value_range, (0, 255))
        # channel-major view (C, everything else) for the per-channel histograms
        flat = v.movedim(-1 if channels_last else -3, 0).reshape(v.shape[-1 if channels_last else -3], -1)
        c, bins = flat.shape[0], self.bins
        offsets = torch.arange(c, device=x.device)[:, None] * bins
        # The two index formulas are Keras's own (they can differ by one bin on exact level boundaries).
        hist_idx = (flat * (bins - 1) / 255.0).to(torch.int32).clamp(0, bins - 1)
        hist = torch.bincount((hist_idx + offsets).reshape(-1), minlength=c * bins).reshape(c, bins)
        cdf = hist.cumsum(dim=1)
        cdf_min = torch.where(cdf > 0, cdf, cdf[:, -1:]).amin(dim=1, keepdim=True)
        denominator = cdf[:, -1:] - cdf_min
        denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
        lut = torch.round((cdf - cdf_min) * 255 / denominator).clamp(0, 255).to(torch.float32)
        idx = ((flat / 255.0) * (bins - 1)).clamp(0, bins - 1).to(torch.int64)
        equalized = lut.reshape(-1)[(idx + offsets).reshape(-1)].reshape(flat.shape)
        keep = (hist > 0).sum(dim=1, keepdim=True) <= 1
        out = torch.where(keep, flat, equalized)
        shape = list(v.shape)
        axis = v.ndim - 1 if channels_last else v.ndim - 3
        moved = shape[axis : axis + 1] + shape[:axis] + shape[axis + 1 :]
        out = out.reshape(moved).movedim(0, axis)
        return _scale_values(out, (0, 255), self.value_range).to(x.dtype)
