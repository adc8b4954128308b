"""Non-affine geometric augmentation layers with Keras 3 semantics: RandomPerspective and RandomElasticTransform.

Both follow the two-step pattern of ``strided.layers.random_preprocessing``: ``get_random_transformation``
draws the whole batch's parameters on the device (per image), ``transform_images`` applies them
deterministically. Both resample the images through ``map_coordinates_batch``: every output pixel reads
the input at its own (fractional) position, with Keras's ``ops.image.map_coordinates`` rules for the
interpolation and for neighbours outside the image, in one batched gather (no loop over images or
channels).
"""

import numbers

import torch
import torch.nn.functional as F

from strided.layers.random_preprocessing import augmentation_doc
from strided.layers.color_augmentation import _ImageDataLayer, _base_factor, _batched, _keras_value_range, _param

__all__ = ["RandomPerspective", "RandomElasticTransform", "map_coordinates_batch", "homography_matrices"]

FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
INTERPOLATIONS = ("nearest", "bilinear")


# ---------------------------------------------------------------- resampling


def _fix_index(index, size, fill_mode):
    """Keras's index fixers: where an out-of-range neighbour index reads inside the image."""
    if fill_mode in ("constant", "nearest"):
        return index.clamp(0, size - 1)
    if fill_mode == "wrap":
        return torch.remainder(index, size)
    if size == 1:
        return torch.zeros_like(index)

    def mirror(i, n):  # (c d c b | a b c d | c b a b): reflection about the edge pixels' centres
        s = n - 1
        return torch.abs(torch.remainder(i + s, 2 * s) - s)

    if fill_mode == "mirror":
        return mirror(index, size)
    # 'reflect' (d c b a | a b c d | d c b a): a mirror of the doubled grid, halved back
    return torch.div(mirror(2 * index + 1, 2 * size + 1) - 1, 2, rounding_mode="floor")


def map_coordinates_batch(
    images, ys, xs, interpolation="bilinear", fill_mode="constant", fill_value=0.0, data_format="channels_last"
):
    """Samples every image of a batch at its own coordinates (``keras.ops.image.map_coordinates`` per channel).

    Output pixel ``(i, j)`` of image ``n`` is the input of image ``n`` at row ``ys[n, i, j]``, column
    ``xs[n, i, j]``: bilinear weights of the four neighbouring pixels (or the nearest pixel, rounding half
    to even). A neighbour outside the image reads, by ``fill_mode``: 'constant' ``fill_value``, 'nearest' the
    edge pixel, 'wrap' the opposite side, 'mirror' the reflection about the edge pixel's centre, 'reflect'
    the reflection about the image's edge.

    Args:
        images: float tensor ``(N, H, W, C)`` (``(N, C, H, W)`` for 'channels_first').
        ys, xs: ``(N, Ho, Wo)`` tensors of row and column positions in input pixels.
        interpolation: 'bilinear' or 'nearest'.
        fill_mode: 'constant', 'nearest', 'wrap', 'mirror' or 'reflect'.
        fill_value: value outside the image for 'constant'.
        data_format: 'channels_last' or 'channels_first'.

    Returns:
        ``(N, Ho, Wo, C)`` (or ``(N, C, Ho, Wo)``) tensor of the images' dtype.
    """
    channels_last = data_format == "channels_last"
    n = images.shape[0]
    h, w = (images.shape[1], images.shape[2]) if channels_last else (images.shape[2], images.shape[3])
    out_hw = ys.shape[1:]
    # pixels along one axis: (N, H * W, C) for channels_last, (N, C, H * W) for channels_first
    flat = images.reshape(n, h * w, -1) if channels_last else images.reshape(n, -1, h * w)
    pixel_axis = 1 if channels_last else 2

    def neighbours(coord):
        if interpolation == "nearest":
            return [(torch.round(coord).to(torch.int64), None)]
        lower = torch.floor(coord)
        upper_weight = coord - lower
        lower = lower.to(torch.int64)
        return [(lower, 1.0 - upper_weight), (lower + 1, upper_weight)]

    out = None
    for iy, wy in neighbours(ys):
        for ix, wx in neighbours(xs):
            index = (_fix_index(iy, h, fill_mode) * w + _fix_index(ix, w, fill_mode)).reshape(n, -1)
            index = index.unsqueeze(-1 if channels_last else 1).expand(
                -1, *((-1, flat.shape[2]) if channels_last else (flat.shape[1], -1))
            )
            value = flat.gather(pixel_axis, index)
            value = value.reshape(n, *out_hw, -1) if channels_last else value.reshape(n, -1, *out_hw)
            if fill_mode == "constant":
                valid = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
                valid = valid.unsqueeze(-1 if channels_last else 1)
                value = torch.where(valid, value, torch.as_tensor(fill_value, dtype=value.dtype, device=value.device))
            if wy is not None:
                weight = (wy * wx).unsqueeze(-1 if channels_last else 1).to(value.dtype)
                value = weight * value
            out = value if out is None else out + value
    return out


def homography_matrices(start_points, end_points):
    """Per-image perspective transforms mapping ``end_points`` onto ``start_points`` (Keras's
    ``ops.image.compute_homography_matrix``).

    Args:
        start_points, end_points: ``(N, 4, 2)`` tensors of four ``(x, y)`` corners each.

    Returns:
        ``(N, 8)`` tensor ``[a0, a1, a2, a3, a4, a5, a6, a7]``: an output point ``(x, y)`` reads the input at
        ``((a0 x + a1 y + a2) / d, (a3 x + a4 y + a5) / d)`` with ``d = a6 x + a7 y + 1``.
    """
    dtype = start_points.dtype if start_points.dtype == torch.float64 else torch.float32
    s, e = start_points.to(dtype), end_points.to(dtype)
    sx, sy, ex, ey = s[..., 0], s[..., 1], e[..., 0], e[..., 1]  # (N, 4) each
    ones, zeros = torch.ones_like(ex), torch.zeros_like(ex)
    # two equations per corner: a0 ex + a1 ey + a2 - a6 sx ex - a7 sx ey = sx, and the same for sy
    row_x = torch.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], dim=-1)
    row_y = torch.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], dim=-1)
    a = torch.stack([row_x, row_y], dim=2).reshape(-1, 8, 8)
    b = torch.stack([sx, sy], dim=2).reshape(-1, 8, 1)
    return torch.linalg.solve(a, b).reshape(-1, 8)


def _check_interpolation(interpolation):
    # Keras raises NotImplementedError (not ValueError) for an unknown interpolation.
    if interpolation not in INTERPOLATIONS:
        raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one {INTERPOLATIONS}.")
    return interpolation


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"The `{name}` argument should be a number. Received: {name}={value!r}")
    return float(value)


class _ResamplingLayer(_ImageDataLayer):
    """RandomPerspective and RandomElasticTransform: ``factor``, ``interpolation`` and ``fill_value``, and a
    ``_resample(x, transformation, interpolation)`` that both the images and (nearest-neighbour) their
    segmentation masks go through."""

    _config_keys = ("factor", "interpolation", "fill_value")

    def __init__(self, factor, interpolation, fill_value, seed, data_format, **kwargs):
        self.factor = _base_factor(factor, (0, 1))
        self.interpolation = _check_interpolation(interpolation)
        self.fill_value = _number(fill_value, "fill_value")
        super().__init__(seed=seed, data_format=data_format, **kwargs)

    def _resample(self, x, transformation, interpolation):
        raise NotImplementedError

    def _transform(self, x, transformation):
        return self._resample(x, transformation, self.interpolation)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not training or transformation is None:
            return segmentation_masks
        return self._resample(self._as_float(segmentation_masks), transformation, "nearest")


# ---------------------------------------------------------------- perspective


@augmentation_doc("RandomPerspective(seed=1)")
class RandomPerspective(_ResamplingLayer):
    """Applies a random perspective distortion to some images during training (Keras 3 ``RandomPerspective``).

    The corners ``(0, 0), (W - 1, 0), (0, H - 1), (W - 1, H - 1)`` of an image move to ``p + p * d``, with each
    ``d`` (one per corner and coordinate) drawn uniformly from ``[-scale / 2, scale / 2]``; the image is
    resampled through the homography that maps the moved corners back to the original ones (outside the
    image: ``fill_value``). As in Keras, the displacement is proportional to the coordinate, so the corner
    ``(0, 0)`` stays in place. Each image draws a probability from ``factor`` and a threshold from
    ``[0, 1)``, and is distorted when the threshold is below the probability.

    Args:
        factor: a number ``f`` in [0, 1] (meaning ``[0, f]``) or a pair: the range of the probability of
            distorting an image. Default 1.0.
        scale: number in [0, 1] (default 1.0), the strength of the corner shifts.
        interpolation: 'bilinear' (default) or 'nearest'.
        fill_value: value of the points outside the image (default 0.0).
        {{seed}}
        {{data_format}}

    {{shapes}}

    Transformation: ``{"apply_perspective": bool (batch,), "start_points": (batch, 4, 2), "end_points":
    (batch, 4, 2), "input_shape": shape}``, corners as ``(x, y)``.

    {{example}}
    """

    _config_keys = ("scale",)

    def __init__(
        self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0, seed=None, data_format=None, **kwargs
    ):
        scale = _number(scale, "scale")
        if scale < 0.0 or scale > 1.0:
            raise ValueError(f"The `scale` argument should be a number in the range [0,1]. Received: scale={scale}")
        self.scale = scale
        super().__init__(factor, interpolation, fill_value, seed, data_format, **kwargs)

    def _sample(self, images, seed):
        shape, batch, h, w, device = images
        u = self._uniform((batch, 10), 0.0, 1.0, device, seed)
        probability = u[:, 0] * (self.factor[1] - self.factor[0]) + self.factor[0]
        shifts = (u[:, 2:] - 0.5).reshape(batch, 4, 2) * self.scale
        start = torch.tensor([[0.0, 0.0], [w - 1, 0.0], [0.0, h - 1], [w - 1, h - 1]], device=device)
        start = start.expand(batch, 4, 2)
        return {
            "apply_perspective": u[:, 1] < probability,
            "start_points": start,
            "end_points": start + start * shifts,
            "input_shape": shape,
        }

    def _resample(self, x, transformation, interpolation):
        x, single = _batched(x)
        h_axis, w_axis = self._hw_axes()
        h, w = x.shape[h_axis], x.shape[w_axis]
        if h < 2 or w < 2:  # the four corners are not distinct: no perspective to change (and no homography)
            return x.squeeze(0) if single else x
        start = _param(transformation["start_points"], x, torch.float32).reshape(-1, 4, 2)
        end = _param(transformation["end_points"], x, torch.float32).reshape(-1, 4, 2)
        m = homography_matrices(start, end).expand(x.shape[0], 8)[:, :, None, None]
        gy, gx = torch.meshgrid(
            torch.arange(h, dtype=m.dtype, device=x.device),
            torch.arange(w, dtype=m.dtype, device=x.device),
            indexing="ij",
        )
        denominator = m[:, 6] * gx + m[:, 7] * gy + 1.0
        xs = (m[:, 0] * gx + m[:, 1] * gy + m[:, 2]) / denominator
        ys = (m[:, 3] * gx + m[:, 4] * gy + m[:, 5]) / denominator
        out = map_coordinates_batch(x, ys, xs, interpolation, "constant", self.fill_value, self.data_format)
        apply = _param(transformation["apply_perspective"], x, torch.bool).reshape(-1, 1, 1, 1)
        out = torch.where(apply, out, x)
        return out.squeeze(0) if single else out


# ---------------------------------------------------------------- elastic


def _smooth_noise(noise, sigma):
    """Blurs each image's noise fields with its own Gaussian (Keras's ``elastic_transform`` smoothing).

    ``noise`` is ``(N, 2, H, W)``, ``sigma`` ``(N,)``. Image ``n``'s kernel has ``int(6 sigma_n) | 1`` taps
    (Keras's size); all kernels are padded with zero taps to the largest size, which leaves a zero-padded
    convolution unchanged, and the separable passes run as one grouped ``conv2d`` each.
    """
    n, _, h, w = noise.shape
    sizes = (6.0 * sigma).to(torch.int64) | 1
    k = int(sizes.max())
    t = torch.arange(k, dtype=sigma.dtype, device=sigma.device) - (k - 1) / 2
    taps = torch.exp(-0.5 * (t / sigma.clamp_min(1e-12)[:, None]) ** 2)  # sigma 0: a delta (the noise is 0)
    taps = torch.where(t.abs()[None, :] <= (sizes[:, None] // 2), taps, torch.zeros_like(taps))
    taps = (taps / taps.sum(dim=1, keepdim=True)).repeat_interleave(2, dim=0)  # (N * 2, k)
    x = noise.reshape(1, n * 2, h, w)
    x = F.conv2d(x, taps[:, None, None, :], padding=(0, k // 2), groups=n * 2)
    x = F.conv2d(x, taps[:, None, :, None], padding=(k // 2, 0), groups=n * 2)
    return x.reshape(n, 2, h, w)


@augmentation_doc("RandomElasticTransform(seed=1)")
class RandomElasticTransform(_ResamplingLayer):
    """Applies a random elastic deformation to some images during training (Keras 3 ``RandomElasticTransform``).

    Every pixel moves by a random displacement field: standard normal noise (one field for x, one for y)
    scaled by ``sigma`` and smoothed with a Gaussian of standard deviation ``sigma``, then multiplied by
    ``alpha``; the output pixel ``(x, y)`` reads the input at ``(x + dx, y + dy)``. With a strength ``s``
    drawn uniformly from ``scale``, ``alpha = 0.1 s max(H, W)`` and ``sigma = 0.05 s min(H, W)`` (Keras's
    rule). Each image draws a probability from ``factor`` and a threshold from ``[0, 1)``, and is deformed
    when the threshold is below the probability. The output is clipped to ``value_range``.

    Keras draws one strength for the whole batch (and its torch backend draws the noise from torch's
    global generator, ignoring ``seed``); strided draws a strength and noise per image from the layer's
    own generator, so a seeded layer repeats its output.

    Args:
        factor: a number ``f`` in [0, 1] (meaning ``[0, f]``) or a pair: the range of the probability of
            deforming an image. Default 1.0.
        scale: a number ``s`` in [0, 1] (meaning ``[0, s]``) or a pair: the range of the strength.
            Default 1.0. ``scale=0`` turns the layer off.
        interpolation: 'bilinear' (default) or 'nearest'.
        fill_mode: 'reflect' (default), 'mirror', 'constant', 'nearest' or 'wrap' (see
            ``map_coordinates_batch``).
        fill_value: value outside the image for ``fill_mode='constant'``.
        {{value_range}}
        {{seed}}
        {{data_format}}

    {{shapes}}

    Transformation: ``{"apply_transform": bool (batch,), "distortion_factor": (batch,) strengths (a single
    number is used for all images), "noise": (batch, 2, height, width) standard normal [dx, dy] fields}``.

    {{example}}
    """

    _config_keys = ("scale", "fill_mode", "value_range")

    def __init__(
        self,
        factor=1.0,
        scale=1.0,
        interpolation="bilinear",
        fill_mode="reflect",
        fill_value=0.0,
        value_range=(0, 255),
        seed=None,
        data_format=None,
        **kwargs,
    ):
        self.scale = _base_factor(scale, (0, 1), name="scale")
        if fill_mode not in FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {set(FILL_MODES)}.")
        self.fill_mode = fill_mode
        self.value_range = _keras_value_range(value_range)
        super().__init__(factor, interpolation, fill_value, seed, data_format, **kwargs)

    def get_random_transformation(self, data, training=True, seed=None):
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return None
        _, batch, h, w, device = self._shape_info(data)
        gen = self._generator(device, seed)
        u = torch.rand((batch, 3), generator=gen, device=device)
        probability = u[:, 0] * (self.factor[1] - self.factor[0]) + self.factor[0]
        strength = u[:, 2] * (self.scale[1] - self.scale[0]) + self.scale[0]
        noise = torch.randn((batch, 2, h, w), generator=gen, device=device)
        return {"apply_transform": u[:, 1] < probability, "distortion_factor": strength, "noise": noise}

    def _resample(self, x, transformation, interpolation):
        x, single = _batched(x)
        h_axis, w_axis = self._hw_axes()
        n, h, w = x.shape[0], x.shape[h_axis], x.shape[w_axis]
        strength = _param(transformation["distortion_factor"], x, torch.float32).reshape(-1).expand(n)
        alpha = max(h, w) * (0.1 * strength)
        sigma = min(h, w) * (0.05 * strength)
        noise = _param(transformation["noise"], x, torch.float32).reshape(n, 2, h, w)
        field = _smooth_noise(noise * sigma[:, None, None, None], sigma) * alpha[:, None, None, None]
        gy, gx = torch.meshgrid(
            torch.arange(h, dtype=field.dtype, device=x.device),
            torch.arange(w, dtype=field.dtype, device=x.device),
            indexing="ij",
        )
        out = map_coordinates_batch(
            x, gy + field[:, 1], gx + field[:, 0], interpolation, self.fill_mode, self.fill_value, self.data_format
        )
        apply = _param(transformation["apply_transform"], x, torch.bool).reshape(-1, 1, 1, 1)
        out = torch.where(apply, out, x)
        return out.squeeze(0) if single else out

    def _transform(self, x, transformation):
        return super()._transform(x, transformation).clamp(self.value_range[0], self.value_range[1])
