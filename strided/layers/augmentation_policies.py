"""Augmentation policies with Keras 3 semantics: RandAugment and AugMix.

Both chain the augmentation layers Keras uses (RandomShear, RandomTranslation, RandomRotation,
RandomBrightness, RandomColorDegeneration, RandomContrast, RandomSharpness, RandomPosterization,
Solarization, AutoContrast, Equalization), built with the policy's ``factor`` and ``value_range``.

Keras picks the operations once per batch (every image of a batch gets the same operations, with its own
random parameters) and runs every candidate operation on the whole batch, keeping one. strided picks the
operations per image, as the RandAugment and AugMix papers do: the choices are drawn on the CPU (no
device synchronisation), and each operation runs once per step on the images that chose it (gathered
with ``index_select``, written back with ``index_copy``), with parameters drawn for exactly those images.

A transformation is a list of steps; a step entry is ``{"layer_name": ..., "transformation": ...,
"indices": ...}``, the sub-layer's own transformation for the images ``indices`` (an int64 tensor; absent
or None: the whole batch). Keras's own transformations (which have no ``indices``) are accepted too and
give Keras's images.
"""

import numpy as np
import torch

from strided.layers.color_augmentation import (
    RandomPosterization,
    RandomShear,
    Solarization,
    AutoContrast,
    _ImageDataLayer,
    _base_factor,
    _batched,
    _beta,
    _keras_value_range,
    _param,
)
from strided.layers.filter_augmentation import Equalization, RandomColorDegeneration, RandomSharpness
from strided.layers.random_preprocessing import (
    RandomBrightness,
    RandomContrast,
    RandomRotation,
    RandomTranslation,
    augmentation_doc,
)
from strided.utils import validation

__all__ = ["RandAugment", "AugMix"]

_GEOMETRIC = ("random_shear", "random_translation", "random_rotation")


def _build_ops(names, factor, value_range, interpolation, data_format):
    """Keras's sub-layers of RandAugment / AugMix, by attribute name."""
    fmt = data_format

    def make(name, interp):
        if name == "random_shear":
            return RandomShear(x_factor=factor, y_factor=factor, interpolation=interp, data_format=fmt)
        if name == "random_translation":
            return RandomTranslation(height_factor=factor, width_factor=factor, interpolation=interp, data_format=fmt)
        if name == "random_rotation":
            return RandomRotation(factor=factor, interpolation=interp, data_format=fmt)
        if name == "random_brightness":
            return RandomBrightness(factor=factor, value_range=value_range, data_format=fmt)
        if name == "random_color_degeneration":
            return RandomColorDegeneration(factor=factor, value_range=value_range, data_format=fmt)
        if name == "random_contrast":
            return RandomContrast(factor=factor, value_range=value_range, data_format=fmt)
        if name == "random_sharpness":
            return RandomSharpness(factor=factor, value_range=value_range, data_format=fmt)
        if name == "random_posterization":
            return RandomPosterization(factor=max(1, int(8 * factor[1])), value_range=value_range, data_format=fmt)
        if name == "solarization":
            return Solarization(
                addition_factor=factor, threshold_factor=factor, value_range=value_range, data_format=fmt
            )
        if name == "auto_contrast":
            return AutoContrast(value_range=value_range, data_format=fmt)
        return Equalization(value_range=value_range, data_format=fmt)

    ops = {name: make(name, interpolation) for name in names}
    # Segmentation masks follow the geometric steps with nearest-neighbour sampling (colour steps leave them).
    mask_ops = {name: make(name, "nearest") for name in names if name in _GEOMETRIC}
    return ops, mask_ops


class _PolicyLayer(_ImageDataLayer):
    """Shared pieces: the sub-layers, per-image step drawing and step application."""

    _config_keys = ("value_range", "factor", "interpolation")

    def _init_ops(self, names, factor, value_range, interpolation):
        self._op_names = list(names)
        self._ops, self._mask_ops = _build_ops(self._op_names, factor, value_range, interpolation, self.data_format)

    def _apply(self, x, transformation, masks):
        """The transformation applied to a batch ``x`` of images (or, with ``masks``, segmentation masks)."""
        raise NotImplementedError

    def _transform(self, x, transformation):
        return self._apply_batched(x, transformation, masks=False)

    def transform_segmentation_masks(self, segmentation_masks, transformation, training=True):
        if not training or transformation is None:
            return segmentation_masks
        return self._apply_batched(self._as_float(segmentation_masks), transformation, masks=True)

    def _apply_batched(self, x, transformation, masks):
        x, single = _batched(x)
        out = self._apply(x, transformation, masks)
        return out.squeeze(0) if single else out

    def _draw_step(self, choice, shape, device, gen):
        """Entries of one step: for every op chosen in ``choice`` (``(N,)`` CPU int64, values >= len(ops) mean
        "no op"), its transformation drawn for the images that chose it."""
        entries = []
        for k in torch.unique(choice).tolist():
            if k >= len(self._op_names):
                continue
            name = self._op_names[k]
            indices = torch.nonzero(choice == k).reshape(-1)
            sub_shape = (int(indices.numel()),) + tuple(shape[1:])
            placeholder = torch.empty((1,) * len(shape), device=device).expand(sub_shape)  # shape and device only
            s = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
            entries.append(
                {
                    "layer_name": name,
                    "indices": indices.to(device),
                    "transformation": self._ops[name].get_random_transformation(placeholder, seed=s),
                }
            )
        return entries

    def _run_steps(self, x, steps, masks=False):
        """Applies the step entries in order; each entry to its images only."""
        for entry in steps:
            name = entry["layer_name"]
            layer = self._mask_ops.get(name) if masks else self._ops[name]
            if layer is None:  # a colour step leaves segmentation masks as they are
                continue
            indices = entry.get("indices")
            t = entry["transformation"]
            if indices is None:
                x = layer.transform_images(x, t, training=True)
            else:
                indices = _param(indices, x, torch.long)
                if indices.numel() == 0:
                    continue
                x = x.index_copy(0, indices, layer.transform_images(x.index_select(0, indices), t, training=True))
        return x


# ---------------------------------------------------------------- RandAugment


@augmentation_doc("RandAugment(seed=1)")
class RandAugment(_PolicyLayer):
    """Applies ``num_ops`` randomly chosen augmentations to each image during training (Keras 3 ``RandAugment``).

    Each image picks, for each of ``num_ops`` steps, one of eleven operations (uniformly, repeats allowed):
    shear, translation, rotation, brightness, colour degeneration, contrast, sharpness, posterization,
    solarization, auto-contrast, equalization. Their strength is set by ``factor`` (each sub-layer gets
    ``factor`` as its range; posterization keeps ``max(1, int(8 * factor))`` bits at most).

    Keras chooses the operations once per batch; strided per image (see the module docstring), and applies
    a Keras-drawn transformation (one ``layer_idxes`` entry per step) as Keras does.

    Args:
        {{value_range}}
        num_ops: number of operations applied in sequence to each image (default 2).
        factor: a number ``f`` in [0, 1] (meaning ``[0, f]``) or a pair: the strength (default 0.5).
        interpolation: 'bilinear' (default) or 'nearest', for the geometric operations.
        {{seed}}
        {{data_format}}

    Input shape:
        ``(batch, height, width, channels)`` (RGB for colour degeneration) or one image.

    Output shape:
        same as input.

    Transformation: ``{"layer_idxes": int64 (batch, num_ops), "transforms": [entries of step 1, ...]}``; each
    entry ``{"layer_name", "transformation", "indices"}``. Keras's ``{"layer_idxes": (num_ops,),
    "transforms": {layer_name: transformation}}`` is accepted too.

    {{example}}
    """

    _AUGMENT_LAYERS = (
        "random_shear",
        "random_translation",
        "random_rotation",
        "random_brightness",
        "random_color_degeneration",
        "random_contrast",
        "random_sharpness",
        "random_posterization",
        "solarization",
        "auto_contrast",
        "equalization",
    )

    _config_keys = ("num_ops",)

    def __init__(
        self,
        value_range=(0, 255),
        num_ops=2,
        factor=0.5,
        interpolation="bilinear",
        seed=None,
        data_format=None,
        **kwargs,
    ):
        self.value_range = _keras_value_range(value_range)
        self.num_ops = validation.positive_int(num_ops, "num_ops", allow_zero=True)
        self.factor = _base_factor(factor, (0, 1))
        self.interpolation = interpolation
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._init_ops(self._AUGMENT_LAYERS, self.factor, self.value_range, interpolation)

    def _sample(self, images, seed):
        shape, batch, _, _, device = images
        shape = shape if len(shape) == 4 else (1,) + shape
        gen = self._generator("cpu", seed)
        idx = torch.randint(0, len(self._op_names), (batch, self.num_ops), generator=gen)
        return {
            "layer_idxes": idx,
            "transforms": [self._draw_step(idx[:, i], shape, device, gen) for i in range(self.num_ops)],
        }

    def _steps(self, transformation):
        transforms = transformation["transforms"]
        if isinstance(transforms, dict):  # Keras: one op per step for the whole batch
            idx = transformation["layer_idxes"]
            idx = idx.reshape(-1).tolist() if isinstance(idx, torch.Tensor) else np.asarray(idx).reshape(-1).tolist()
            names = [self._op_names[int(i)] for i in idx]
            return [{"layer_name": n, "transformation": transforms[n]} for n in names]
        return [entry for step in transforms for entry in step]

    def _apply(self, x, transformation, masks):
        return self._run_steps(x, self._steps(transformation), masks=masks)


# ---------------------------------------------------------------- AugMix


def _dirichlet(shape, concentration, generator, device):
    """Dirichlet(concentration, ..., concentration) draws ``shape = (N, K)`` (torch's sampler takes no
    generator: it runs under a forked global RNG seeded from ``generator``, as ``_beta`` does)."""
    s = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(s)
        sample = torch.distributions.Dirichlet(torch.full((shape[1],), float(concentration))).sample((shape[0],))
    return sample.to(device)


@augmentation_doc("AugMix(seed=1)")
class AugMix(_PolicyLayer):
    """Mixes each image with several randomly augmented copies of itself during training (Keras 3 ``AugMix``).

    Each of ``num_chains`` chains applies up to ``chain_depth`` operations to the image: each of its
    ``chain_depth`` slots picks one of the operations or none (uniformly), so a chain has 0 to
    ``chain_depth`` operations. The chains' outputs are mixed with Dirichlet(``alpha``) weights ``w``, and the
    mix is blended with the original image: ``out = m x + (1 - m) sum_c w_c chain_c(x)``, ``m ~ Beta(alpha,
    alpha)``, clipped to ``value_range``. The operations are shear, translation, rotation, posterization,
    solarization, auto-contrast and equalization, plus brightness, colour degeneration, contrast and
    sharpness when ``all_ops``; their strength is set by ``factor``.

    Keras draws the operations, ``w`` and ``m`` once per batch (the same chains for every image); strided
    draws them per image, and applies a Keras-drawn transformation as Keras does.

    Args:
        {{value_range}}
        num_chains: number of chains mixed (default 3).
        chain_depth: maximum number of operations per chain (default 3).
        factor: a number ``f`` in [0, 1] (meaning ``[0, f]``) or a pair: the strength (default 0.3).
        alpha: concentration of the Dirichlet and Beta distributions (default 1.0).
        all_ops: whether to include brightness, colour degeneration, contrast and sharpness (default True).
        interpolation: 'bilinear' (default) or 'nearest', for the geometric operations.
        {{seed}}
        {{data_format}}

    Input shape:
        ``(batch, height, width, channels)`` (RGB when ``all_ops``) or one image.

    Output shape:
        same as input.

    Transformation: ``{"chain_mixing_weights": (batch, num_chains), "weight_sample": (batch,), "layer_idxes":
    int64 (batch, num_chains, chain_depth) (``len(ops)``: none), "chain_transforms": one list of entries
    per chain}``; each entry ``{"layer_name", "transformation", "indices"}``. Keras's (weights
    ``(num_chains,)`` and ``()``, entries without ``indices``) is accepted too.

    {{example}}
    """

    _AUGMENT_LAYERS = (
        "random_shear",
        "random_translation",
        "random_rotation",
        "random_posterization",
        "solarization",
        "auto_contrast",
        "equalization",
    )
    _AUGMENT_LAYERS_ALL = _AUGMENT_LAYERS + (
        "random_brightness",
        "random_color_degeneration",
        "random_contrast",
        "random_sharpness",
    )

    _config_keys = ("num_chains", "chain_depth", "alpha", "all_ops")

    def __init__(
        self,
        value_range=(0, 255),
        num_chains=3,
        chain_depth=3,
        factor=0.3,
        alpha=1.0,
        all_ops=True,
        interpolation="bilinear",
        seed=None,
        data_format=None,
        **kwargs,
    ):
        self.value_range = _keras_value_range(value_range)
        self.num_chains = validation.positive_int(num_chains, "num_chains")
        self.chain_depth = validation.positive_int(chain_depth, "chain_depth")
        self.factor = _base_factor(factor, (0, 1))
        self.alpha = validation.number(alpha, "alpha", low=0, low_inclusive=False)
        self.all_ops = validation.boolean(all_ops, "all_ops")
        self.interpolation = interpolation
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._init_ops(
            self._AUGMENT_LAYERS_ALL if self.all_ops else self._AUGMENT_LAYERS,
            self.factor,
            self.value_range,
            interpolation,
        )

    def _sample(self, images, seed):
        shape, batch, _, _, device = images
        shape = shape if len(shape) == 4 else (1,) + shape
        gen = self._generator("cpu", seed)
        weights = _dirichlet((batch, self.num_chains), self.alpha, gen, device)
        blend = _beta((batch,), self.alpha, gen, device)
        # value len(ops) in a slot means "no operation", as Keras's `choice(layers + [None])`
        idx = torch.randint(0, len(self._op_names) + 1, (batch, self.num_chains, self.chain_depth), generator=gen)
        chains = [
            [entry for d in range(self.chain_depth) for entry in self._draw_step(idx[:, c, d], shape, device, gen)]
            for c in range(self.num_chains)
        ]
        return {"chain_mixing_weights": weights, "weight_sample": blend, "layer_idxes": idx, "chain_transforms": chains}

    def _mix(self, x, transformation, masks):
        weights = _param(transformation["chain_mixing_weights"], x, x.dtype)
        weights = weights.reshape(1, -1) if weights.ndim == 1 else weights
        blend = _param(transformation["weight_sample"], x, x.dtype).reshape(-1, 1, 1, 1)
        mixed = torch.zeros_like(x)
        for c, chain in enumerate(transformation["chain_transforms"]):
            mixed = mixed + self._run_steps(x, chain, masks=masks) * weights[:, c].reshape(-1, 1, 1, 1)
        return blend * x + (1.0 - blend) * mixed

    def _apply(self, x, transformation, masks):
        # As Keras: masks go through the chains' geometric steps and are mixed with the same weights.
        out = self._mix(x, transformation, masks=masks)
        return out if masks else out.clamp(self.value_range[0], self.value_range[1])
