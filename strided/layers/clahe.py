"""``ContrastLimitedAdaptiveHistogramEqualization`` (CLAHE): local histogram equalization (Keras layer)."""

import math

import torch

from strided.layers.base import Layer
from strided.layers.random_preprocessing import _value_range
from strided.utils import conv_utils


def _symmetric_pad_end(x, pad, dim):
    """NumPy's ``mode='symmetric'`` padding at the end of ``dim`` (the edge value repeated, then mirrored)."""
    if pad == 0:
        return x
    size = x.shape[dim]
    reps = [x]
    while pad > 0:
        take = min(pad, size)
        block = x.flip(dim).narrow(dim, 0, take) if len(reps) % 2 else x.narrow(dim, 0, take)
        reps.append(block)
        pad -= take
    return torch.cat(reps, dim=dim)


def clahe(images, clip_limit, tile_grid_size):
    """CLAHE of float ``(batch, height, width, channels)`` images with values in [0, 255], Keras's algorithm:
    a clipped, redistributed 256-bin histogram per tile and channel, its normalized CDF as the tile's
    mapping, and bilinear interpolation between the mappings of the four nearest tile centres."""
    batch, height, width, channels = images.shape
    grid_h, grid_w = tile_grid_size
    tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
    padded = _symmetric_pad_end(_symmetric_pad_end(images, tile_h * grid_h - height, 1), tile_w * grid_w - width, 2)
    tiles = padded.reshape(batch, grid_h, tile_h, grid_w, tile_w, channels).permute(0, 1, 3, 5, 2, 4)
    tiles = tiles.reshape(batch, grid_h, grid_w, channels, tile_h * tile_w)
    levels = tiles.to(torch.int32).clamp(0, 255).long()
    hists = torch.zeros(batch, grid_h, grid_w, channels, 256, dtype=images.dtype, device=images.device)
    hists.scatter_add_(-1, levels, torch.ones_like(levels, dtype=images.dtype))
    area = tile_h * tile_w
    if clip_limit > 0:
        # Keras (torch backend) counts in integers, so the limit is truncated to a whole count
        clipped = hists.clamp(0, math.trunc(clip_limit * area / 256.0))
        hists = clipped + (hists - clipped).sum(-1, keepdim=True) / 256.0
    cdf = hists.cumsum(-1)
    cdf_min = cdf.amin(-1, keepdim=True)
    denominator = area - cdf_min
    denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
    cdf = ((cdf - cdf_min) * 255.0 / denominator).clamp(0, 255)
    # one extra ring of tiles (edge copies), so that every pixel has four neighbours to blend
    cdf = torch.cat([cdf[:, :1], cdf, cdf[:, -1:]], dim=1)
    cdf = torch.cat([cdf[:, :, :1], cdf, cdf[:, :, -1:]], dim=2)

    def grid(n, tile, count):
        pos = (torch.arange(n, dtype=torch.float32, device=images.device) - tile / 2.0) / tile + 1.0
        lo = pos.floor()
        return lo.clamp(0, count + 1).long(), (lo + 1).clamp(0, count + 1).long(), pos - lo

    y0, y1, wy = grid(tile_h * grid_h, tile_h, grid_h)
    x0, x1, wx = grid(tile_w * grid_w, tile_w, grid_w)
    pixels = padded.clamp(0, 255).to(torch.int32).long()
    b = torch.arange(batch, device=images.device)[:, None, None, None]
    c = torch.arange(channels, device=images.device)[None, None, None, :]

    def look(ys, xs):
        return cdf[b, ys[None, :, None, None], xs[None, None, :, None], c, pixels]

    wy = wy[None, :, None, None].to(images.dtype)
    wx = wx[None, None, :, None].to(images.dtype)
    top = look(y0, x0) * (1.0 - wx) + look(y0, x1) * wx
    bottom = look(y1, x0) * (1.0 - wx) + look(y1, x1) * wx
    return (top * (1.0 - wy) + bottom * wy)[:, :height, :width, :]


class ContrastLimitedAdaptiveHistogramEqualization(Layer):
    """Adjusts the contrast of images with Contrast Limited Adaptive Histogram Equalization (CLAHE).

    The image is divided into ``tile_grid_size`` tiles; each tile's histogram is clipped at
    ``clip_limit`` times the mean bin height (the excess shared evenly among all bins) and equalized;
    pixels take the bilinear blend of the four nearest tiles' mappings, so tile borders do not show.
    As in Keras on the torch backend, the clip limit is counted in whole pixels
    (``trunc(clip_limit * tile_area / 256)``).

    Args:
        value_range: the range of the input values, ``(0, 255)`` by default; inputs are mapped to
            ``[0, 255]`` for the histograms and back.
        clip_limit: threshold for contrast limiting (``<= 0`` disables clipping). Default 4.0.
        tile_grid_size: ``(rows, columns)`` of tiles. Default ``(8, 8)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape:
        3D ``(height, width, channels)`` or 4D ``(batch, height, width, channels)`` (channels_last).

    Output shape:
        same as the input, in the input's dtype.

    Example:

    >>> images = np.random.default_rng(0).uniform(50, 100, size=(1, 64, 64, 1)).astype("float32")
    >>> out = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(4, 4))(images).numpy()
    >>> out.shape, bool(out.max() - out.min() > images.max() - images.min())  # the contrast is stretched
    ((1, 64, 64, 1), True)
    """

    _config_keys = ("value_range", "clip_limit", "tile_grid_size", "data_format")
    _config_list_keys = ("value_range", "tile_grid_size")

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.value_range = _value_range(value_range)
        if not isinstance(clip_limit, (int, float)) or isinstance(clip_limit, bool):
            raise ValueError(
                f"Invalid value for argument `clip_limit`. Expected a number. Received: clip_limit={clip_limit!r}"
            )
        if (
            not isinstance(tile_grid_size, (tuple, list))
            or len(tile_grid_size) != 2
            or not all(isinstance(t, int) and t > 0 for t in tile_grid_size)
        ):
            raise ValueError(
                "Invalid value for argument `tile_grid_size`. Expected a tuple of two positive integers. "
                f"Received: tile_grid_size={tile_grid_size!r}"
            )
        self.clip_limit = clip_limit
        self.tile_grid_size = tuple(tile_grid_size)
        self.data_format = conv_utils.normalize_data_format(data_format)

    def call(self, inputs):
        images = inputs
        if images.ndim not in (3, 4):
            raise ValueError(
                f"Layer '{self.name}' expects images of rank 3 or 4. Received: inputs.shape={tuple(images.shape)}"
            )
        unbatched = images.ndim == 3
        if unbatched:
            images = images.unsqueeze(0)
        if self.data_format == "channels_first":
            images = images.permute(0, 2, 3, 1)
        dtype = images.dtype
        low, high = self.value_range
        x = images.to(torch.float32)
        if (low, high) != (0, 255):
            x = (x - low) / (high - low) * 255.0
        if x.is_meta:
            out = x
        else:
            out = clahe(x, self.clip_limit, self.tile_grid_size)
        if (low, high) != (0, 255):
            out = out / 255.0 * (high - low) + low
        out = out.to(dtype)
        if self.data_format == "channels_first":
            out = out.permute(0, 3, 1, 2)
        return out.squeeze(0) if unbatched else out
