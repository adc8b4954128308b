"""Batched affine augmentation on the device, with the geometry of Keras's legacy ``apply_affine_transform``.

Keras (``keras.src.legacy.preprocessing.image``) builds one 3x3 matrix per image and calls
``scipy.ndimage.affine_transform(order=1)`` once per channel of every image. Here the same matrices are
built for a whole batch at once, and the whole batch is resampled by a single ``F.grid_sample`` call.

Coordinates: scipy maps output index ``o = (row, col)`` to input index ``A @ o + b`` and samples at pixel
centres. ``grid_sample`` with ``align_corners=False`` maps normalised ``g`` to index ``((g + 1) * n - 1) / 2``,
so an index ``i`` is written as ``g = (2 i + 1) / n - 1``. Fill modes, checked against scipy 1.17:

- ``nearest``: scipy extends the edge pixel == torch ``padding_mode='border'`` (coordinates clamped to
  ``[0, n - 1]``).
- ``reflect``: scipy's 'reflect' is half-sample symmetric (``d c b a | a b c d | d c b a``), the
  reflection about ``-0.5`` and ``n - 0.5`` that torch's ``'reflection'`` does with ``align_corners=False``.
- ``wrap``: scipy's 'wrap' has period ``n - 1`` (first and last sample overlap), so the coordinate is taken
  modulo ``n - 1`` and then sampled with ``'border'``.
- ``constant``: scipy interpolates inside ``[0, n - 1]`` and returns ``cval`` for any coordinate outside
  (no blending with cval), so the sample is taken with ``'border'`` and masked to ``cval`` outside.
"""

import math
import threading

import numpy as np
import torch
import torch.nn.functional as F

FILL_MODES = ("constant", "nearest", "reflect", "wrap")
# scipy treats coordinates within this distance of the edge as inside (float round-off of exact shifts).
_EDGE_TOL = 1e-4


def _as_vectors(n, *values):
    return [np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)) for v in values]


def _index_affine(theta, tx, ty, shear, zx, zy, height, width, fh, fv):
    """Closed form of Keras's ``offset @ rotation @ shift @ shear @ zoom @ reset``, swapped to (row, col), with
    the flips folded in: six length-N vectors ``(a_rr, a_rc, b_r, a_cr, a_cc, b_c)`` such that the output
    index (r, c) samples the input at row ``a_rr r + a_rc c + b_r`` and column ``a_cr r + a_cc c + b_c``.

    Elementwise on N-vectors: the five (N, 3, 3) matrix products cost more than the warp for small images.
    """
    t, s = np.deg2rad(theta), np.deg2rad(shear)
    cos, sin = np.cos(t), np.sin(t)
    sh_a, sh_b = -np.sin(s), np.cos(s)
    # Keras's matrix M = R T S Z on its (x, y) axes.
    m00, m10 = cos * zx, sin * zx
    m01, m11 = (cos * sh_a - sin * sh_b) * zy, (sin * sh_a + cos * sh_b) * zy
    m02, m12 = cos * tx - sin * ty, sin * tx + cos * ty
    # Keras centres with (height, width) on the matrix's (x, y) axes *before* swapping them to (row, col);
    # for non-square images this is what Keras does, so it is reproduced as is.
    ox, oy = height / 2.0 - 0.5, width / 2.0 - 0.5
    m02 = m02 + ox - m00 * ox - m01 * oy
    m12 = m12 + oy - m10 * ox - m11 * oy
    # M' = P M P: (x, y) -> (row, col).
    a_rr, a_rc, b_r, a_cr, a_cc, b_c = m11, m10, m12, m01, m00, m02
    # Flips of the output: out'[r, c] = out[H-1-r, c] / out[r, W-1-c] -> substitute into the input coordinates.
    fv, fh = np.asarray(fv) > 0, np.asarray(fh) > 0
    if fv.any() or fh.any():
        dv, dh = np.where(fv, height - 1.0, 0.0), np.where(fh, width - 1.0, 0.0)
        sv, sh = np.where(fv, -1.0, 1.0), np.where(fh, -1.0, 1.0)
        b_r = b_r + a_rr * dv + a_rc * dh
        b_c = b_c + a_cr * dv + a_cc * dh
        a_rr, a_cr, a_rc, a_cc = a_rr * sv, a_cr * sv, a_rc * sh, a_cc * sh
    return a_rr, a_rc, b_r, a_cr, a_cc, b_c


def affine_matrices(
    theta=0.0, tx=0.0, ty=0.0, shear=0.0, zx=1.0, zy=1.0, height=1, width=1, flip_horizontal=False, flip_vertical=False
):
    """Per-image (N, 2, 3) matrices mapping output (row, col) to input (row, col), as Keras builds them.

    Every argument may be a scalar or an array of length N. ``theta`` and ``shear`` are in degrees,
    ``tx``/``ty`` in pixels; the flips of ``apply_transform`` (applied after the affine warp in Keras) are
    folded into the same matrix, which is exact because flipping commutes with the pointwise channel shift
    and brightness that Keras applies in between.

    Returns:
        float64 NumPy array of shape (N, 2, 3).
    """
    values = (theta, tx, ty, shear, zx, zy, flip_horizontal, flip_vertical)
    n = max(np.size(v) for v in values)
    entries = _index_affine(*_as_vectors(n, *values[:6]), height, width, *_as_vectors(n, *values[6:]))
    return np.stack(entries, -1).reshape(n, 2, 3)


def _theta_from_index(a_rr, a_rc, b_r, a_cr, a_cc, b_c, height, width):
    """``affine_grid`` thetas (N, 2, 3) on normalised (x, y), align_corners=False, from (row, col) index maps.

    Index ``i`` of a size-``n`` axis is ``g = (2 i + 1) / n - 1``, i.e. ``i = ((g + 1) n - 1) / 2``; substituting
    both conversions into the index map gives these entries.
    """
    h, w = float(height), float(width)
    out = np.empty((np.shape(a_rr)[0], 2, 3))
    out[:, 0, 0] = a_cc
    out[:, 0, 1] = a_cr * (h / w)
    out[:, 0, 2] = (a_cr * (h - 1) + a_cc * (w - 1) + 2 * b_c + 1) / w - 1
    out[:, 1, 0] = a_rc * (w / h)
    out[:, 1, 1] = a_rr
    out[:, 1, 2] = (a_rr * (h - 1) + a_rc * (w - 1) + 2 * b_r + 1) / h - 1
    return out


def _normalized_theta(m, height, width):
    """Turns (N, 2, 3) (row, col) index matrices into ``affine_grid`` thetas on normalised (x, y)."""
    return _theta_from_index(m[:, 0, 0], m[:, 0, 1], m[:, 0, 2], m[:, 1, 0], m[:, 1, 1], m[:, 1, 2], height, width)


_BASE_GRIDS = {}


def _base_grid(height, width, device, dtype):
    """Normalised output coordinates (x, y, 1) of every pixel centre as rows, (3, H*W), cached per size/device."""
    key = (height, width, str(device), dtype)
    if key not in _BASE_GRIDS:
        if len(_BASE_GRIDS) > 32:
            _BASE_GRIDS.clear()
        xs = (2 * torch.arange(width, dtype=torch.float64) + 1) / width - 1
        ys = (2 * torch.arange(height, dtype=torch.float64) + 1) / height - 1
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        base = torch.stack([gx, gy, torch.ones_like(gx)]).reshape(3, -1)
        _BASE_GRIDS[key] = base.to(device=device, dtype=dtype)
    return _BASE_GRIDS[key]


_SCRATCH = threading.local()
_SCRATCH_MAX_BYTES = 32 << 20


def _scratch(shape, dtype, device):
    """A per-thread reusable buffer for the sampling grid (or None: let torch allocate).

    A fresh multi-MB grid per call costs page faults on CPU (glibc hands large blocks back to the OS) that
    were measured at 20-30 % of the whole warp for MNIST-sized chunks; the grid never leaves ``_warp``.
    """
    if device.type != "cpu" or math.prod(shape) * torch.finfo(dtype).bits // 8 > _SCRATCH_MAX_BYTES:
        return None
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.dtype != dtype or buf.numel() < math.prod(shape):
        buf = _SCRATCH.buf = torch.empty(math.prod(shape), dtype=dtype)
    return buf[: math.prod(shape)].view(shape)


def _wrap(coord, size):
    if size == 1:
        return torch.zeros_like(coord)
    # Inside [0, n - 1] scipy samples directly (so n - 1 itself stays the last pixel, not the first).
    inside = (coord >= -_EDGE_TOL) & (coord <= size - 1 + _EDGE_TOL)
    return torch.where(inside, coord, torch.remainder(coord, size - 1))


def affine_transform(images, matrices, fill_mode="nearest", cval=0.0, data_format="channels_first"):
    """Resamples a batch of images through per-image affine matrices with one ``grid_sample`` call.

    Args:
        images: torch tensor (N, C, H, W) (or (N, H, W, C) with ``data_format='channels_last'``), float.
        matrices: (N, 2, 3) array or tensor from :func:`affine_matrices` (output -> input index).
        fill_mode: 'constant', 'nearest', 'reflect' or 'wrap' (scipy's meaning, see module docstring).
        cval: value outside the image for ``fill_mode='constant'``.
        data_format: layout of ``images``.

    Returns:
        Tensor of the same shape, dtype and device as ``images``.
    """
    _check_fill_mode(fill_mode)
    h, w = (images.shape[1], images.shape[2]) if data_format == "channels_last" else images.shape[2:]
    m = matrices.detach().cpu().double().numpy() if torch.is_tensor(matrices) else np.asarray(matrices, np.float64)
    return _warp(images, _normalized_theta(m, h, w), fill_mode, cval, data_format)


def _check_fill_mode(fill_mode):
    if fill_mode not in FILL_MODES:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected one of {list(FILL_MODES)}. "
            f"Received: fill_mode={fill_mode!r}"
        )


def _warp(images, theta, fill_mode, cval, data_format):
    """``affine_transform`` on normalised ``affine_grid`` thetas (N, 2, 3) (float64 NumPy)."""
    x = images.permute(0, 3, 1, 2) if data_format == "channels_last" else images
    n, c, h, w = x.shape
    work_dtype = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    theta = torch.from_numpy(theta).to(device=x.device, dtype=work_dtype)
    # Same grid as F.affine_grid(theta, size, align_corners=False), from a cached base grid: affine_grid
    # rebuilds its base every call and its batched matmul is slow for small images. One (2N, 3) @ (3, HW)
    # product gives planar x and y coordinates; grid_sample reads the (N, H, W, 2) view of them (last dim
    # strided) about twice as fast on CPU as an interleaved grid.
    planes = torch.mm(
        theta.reshape(2 * n, 3),
        _base_grid(h, w, x.device, work_dtype),
        out=_scratch((2 * n, h * w), work_dtype, x.device),
    ).view(n, 2, h, w)
    grid = planes.permute(0, 2, 3, 1)
    padding, mask = "border", None
    if fill_mode == "reflect":
        padding = "reflection"
    elif fill_mode in ("wrap", "constant"):
        # These need input coordinates in pixels: col = ((gx + 1) w - 1) / 2, row likewise.
        col = ((planes[:, 0] + 1) * w - 1) / 2
        row = ((planes[:, 1] + 1) * h - 1) / 2
        if fill_mode == "wrap":
            col, row = _wrap(col, w), _wrap(row, h)
            grid = torch.stack([(2 * col + 1) / w - 1, (2 * row + 1) / h - 1], 1).permute(0, 2, 3, 1)
        else:
            mask = (row >= -_EDGE_TOL) & (row <= h - 1 + _EDGE_TOL) & (col >= -_EDGE_TOL) & (col <= w - 1 + _EDGE_TOL)
    out = F.grid_sample(x.to(work_dtype), grid, mode="bilinear", padding_mode=padding, align_corners=False)
    if mask is not None:
        out = torch.where(mask[:, None], out, torch.as_tensor(cval, dtype=work_dtype, device=x.device))
    out = out.to(x.dtype)
    return out.permute(0, 2, 3, 1) if data_format == "channels_last" else out


def channel_shift(images, intensity, channel_axis=-1):
    """Adds ``intensity[i]`` to every channel of image i, clipped to that image's own [min, max] (Keras)."""
    n = images.shape[0]
    flat = images.reshape(n, -1)
    lo = flat.amin(1).view(n, *([1] * (images.dim() - 1)))
    hi = flat.amax(1).view(n, *([1] * (images.dim() - 1)))
    shift = torch.as_tensor(intensity, dtype=images.dtype, device=images.device).view_as(lo)
    return torch.minimum(torch.maximum(images + shift, lo), hi)


def brightness_shift(images, factors):
    """Multiplies brightness exactly like Keras's ``apply_brightness_shift(scale=False)``.

    Keras goes through PIL: the image is cast to uint8 (truncated), ``ImageEnhance.Brightness`` computes
    ``clip(int(pixel * factor), 0, 255)``, and the result comes back as floats. An image outside [0, 255] is
    first mapped to [0, 255] by its own min/max and mapped back afterwards. The same quantisation is applied
    here, so values match Keras's to float precision (it also means float images in [0, 1] are quantised
    to {0, 1}, as in Keras: apply ``rescale`` after augmentation, as the generator does).
    """
    n = images.shape[0]
    shape = (n, *([1] * (images.dim() - 1)))
    flat = images.reshape(n, -1)
    lo, hi = flat.amin(1).view(shape), flat.amax(1).view(shape)
    factor = torch.as_tensor(factors, dtype=images.dtype, device=images.device).view(shape)
    local = (lo < 0) | (hi > 255)
    span = torch.where(hi - lo == 0, torch.ones_like(hi), hi - lo)
    scaled = torch.where(local, (images - lo) / span * 255, images)
    as_uint8 = torch.remainder(torch.trunc(scaled), 256)  # numpy's float -> uint8 cast wraps negatives
    bright = torch.clamp(torch.trunc(as_uint8 * factor), 0, 255)
    return torch.where(local, bright / 255 * (hi - lo) + lo, bright)


def random_parameters(
    n,
    img_shape,
    rng,
    rotation_range=0.0,
    width_shift_range=0.0,
    height_shift_range=0.0,
    shear_range=0.0,
    zoom_range=(1.0, 1.0),
    horizontal_flip=False,
    vertical_flip=False,
    channel_shift_range=0.0,
    brightness_range=None,
    row_axis=0,
    col_axis=1,
):
    """Draws the transform parameters of ``n`` images at once (vectorised form of Keras's get_random_transform).

    The distributions are Keras's (uniform angles, shifts either fractions of the size, integer pixels drawn
    from ``range(k)`` with a random sign, or picks from a list); only the order of the draws differs, so a
    seed gives a different (equally distributed) sequence than Keras.

    Returns:
        dict of NumPy arrays of length ``n`` with Keras's parameter names.
    """
    zeros = np.zeros(n)

    def shift(spec, size):
        if not _truthy(spec):
            return zeros
        if isinstance(spec, (list, tuple, np.ndarray)):
            values = rng.choice(np.asarray(spec), size=n) * rng.choice([-1, 1], size=n)
        elif isinstance(spec, (int, np.integer)):
            values = rng.randint(0, int(spec), size=n) * rng.choice([-1, 1], size=n)
        else:
            values = rng.uniform(-spec, spec, size=n)
        values = values.astype(np.float64)
        if np.max(spec) < 1:
            values = values * size
        return values

    params = {
        "theta": rng.uniform(-rotation_range, rotation_range, n) if rotation_range else zeros,
        "tx": shift(height_shift_range, img_shape[row_axis]),
        "ty": shift(width_shift_range, img_shape[col_axis]),
        "shear": rng.uniform(-shear_range, shear_range, n) if shear_range else zeros,
    }
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        params["zx"] = params["zy"] = np.ones(n)
    else:
        z = rng.uniform(zoom_range[0], zoom_range[1], (n, 2))
        params["zx"], params["zy"] = z[:, 0], z[:, 1]
    params["flip_horizontal"] = (rng.random_sample(n) < 0.5) & bool(horizontal_flip)
    params["flip_vertical"] = (rng.random_sample(n) < 0.5) & bool(vertical_flip)
    params["channel_shift_intensity"] = (
        rng.uniform(-channel_shift_range, channel_shift_range, n) if channel_shift_range else None
    )
    params["brightness"] = (
        rng.uniform(brightness_range[0], brightness_range[1], n) if brightness_range is not None else None
    )
    return params


def _truthy(spec):
    if isinstance(spec, (list, tuple, np.ndarray)):
        return len(spec) > 0
    return bool(spec)


def apply_parameters(images, params, fill_mode="nearest", cval=0.0, data_format="channels_last"):
    """Applies batched parameters (dict of length-N arrays, Keras names) to a torch batch.

    Order as in Keras's ``apply_transform``: affine warp (flips folded in), channel shift, brightness.
    """
    channel_axis = -1 if data_format == "channels_last" else 1
    h, w = (images.shape[1], images.shape[2]) if data_format == "channels_last" else images.shape[2:]
    n = images.shape[0]

    def get(name, default):
        value = params.get(name)
        return np.broadcast_to(np.asarray(default if value is None else value, dtype=np.float64), (n,))

    theta, tx, ty, shear = get("theta", 0), get("tx", 0), get("ty", 0), get("shear", 0)
    zx, zy = get("zx", 1), get("zy", 1)
    fh, fv = get("flip_horizontal", 0), get("flip_vertical", 0)
    geometric = (theta != 0) | (tx != 0) | (ty != 0) | (shear != 0) | (zx != 1) | (zy != 1)
    if geometric.all():
        _check_fill_mode(fill_mode)
        thetas = _theta_from_index(*_index_affine(theta, tx, ty, shear, zx, zy, h, w, fh, fv), h, w)
        images = _warp(images, thetas, fill_mode, cval, data_format)
    elif geometric.any():
        # Images with no warp keep their pixels exactly (Keras skips scipy for them): identity rows + flips only.
        m = affine_matrices(theta, tx, ty, shear, zx, zy, h, w, fh, fv)
        images = _mixed(images, m, geometric, fh, fv, fill_mode, cval, data_format)
    elif (fh > 0).any() or (fv > 0).any():
        images = _flip(images, fh > 0, fv > 0, data_format)
    if params.get("channel_shift_intensity") is not None:
        images = channel_shift(images, get("channel_shift_intensity", 0).copy(), channel_axis)
    if params.get("brightness") is not None:
        images = brightness_shift(images, get("brightness", 1).copy())
    return images


def _flip(images, fh, fv, data_format):
    row_dim, col_dim = (1, 2) if data_format == "channels_last" else (2, 3)
    out = images
    if fh.any():
        idx = torch.as_tensor(np.nonzero(fh)[0], device=images.device)
        out = out.clone()
        out[idx] = out[idx].flip(col_dim)
    if fv.any():
        idx = torch.as_tensor(np.nonzero(fv)[0], device=images.device)
        out = out.clone() if out is images else out
        out[idx] = out[idx].flip(row_dim)
    return out


def _mixed(images, m, geometric, fh, fv, fill_mode, cval, data_format):
    out = _flip(images, (fh > 0) & ~geometric, (fv > 0) & ~geometric, data_format)
    idx = np.nonzero(geometric)[0]
    tidx = torch.as_tensor(idx, device=images.device)
    out = out.clone() if out is images else out
    out[tidx] = affine_transform(images[tidx], m[idx], fill_mode=fill_mode, cval=cval, data_format=data_format)
    return out


__all__ = [
    "affine_matrices",
    "affine_transform",
    "channel_shift",
    "brightness_shift",
    "random_parameters",
    "apply_parameters",
    "FILL_MODES",
]
