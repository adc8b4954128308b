"""LoRA for Dense and convolution layers (Keras 3's ``lora_rank`` / ``enable_lora``).

The kernel ``W`` is frozen and a low-rank update is learned instead: the layer uses
``W + (lora_alpha / rank) * A @ B`` with ``A`` of shape ``kernel_shape[:-1] + (rank,)`` (He-uniform)
and ``B`` of shape ``(rank, units)`` (zeros, so the layer starts unchanged). Only ``A``, ``B`` and the
bias train. Files hold the merged kernel, as Keras's do, so a LoRA-trained model loads anywhere.
"""

import numpy as np
import torch

from strided.layers import _util
from strided.utils import validation
from strided.backend.variable import keras_view, stored_view


def init_lora(layer, lora_rank, lora_alpha):
    """Keeps the constructor's ``lora_rank``/``lora_alpha`` (``build`` enables LoRA when a rank is given)."""
    layer.lora_rank = None if lora_rank is None else validation.positive_int(lora_rank, "lora_rank")
    layer.lora_alpha = lora_alpha if lora_alpha is not None else layer.lora_rank
    layer.lora_enabled = False


def check_lora(layer, part, rank):
    """Keras's checks before ``enable_lora`` on the layer's ``part`` weight (``kernel``, ``embeddings``); returns
    ``rank`` checked."""
    if getattr(layer, f"{part}_constraint"):
        what = "embedding" if part == "embeddings" else part
        raise ValueError(
            f"Lora is incompatible with {what} constraints. In order to enable lora on this layer, "
            f"remove the `{part}_constraint` argument."
        )
    if not layer.built:
        raise ValueError("Cannot enable lora on a layer that isn't yet built.")
    if layer.lora_enabled:
        raise ValueError("lora is already enabled. This can only be done once per layer.")
    return validation.positive_int(rank, "rank")


def add_lora_factors(layer, part, weight, a_shape, b_shape, lora_alpha, a_initializer, b_initializer):
    """Freezes ``weight`` and adds the factors ``lora_{part}_a`` (``a_shape``, ending with the rank) and
    ``lora_{part}_b`` (``b_shape``, starting with it), regularized as the weight is."""
    regularizer = getattr(layer, f"{part}_regularizer")
    for factor, shape, init in (("a", a_shape, a_initializer), ("b", b_shape, b_initializer)):
        setattr(
            layer,
            f"lora_{part}_{factor}",
            layer.add_weight(
                shape=shape,
                name=f"lora_{part}_{factor}",
                initializer=_util.get("initializers", init, f"{factor}_initializer"),
                regularizer=regularizer,
            ),
        )
    # The weight keeps its place in `weights` (Keras's order) but leaves `trainable_weights`.
    weight._keras_frozen = True
    weight.requires_grad_(False)
    layer.lora_enabled, layer.lora_rank = True, b_shape[0]
    layer.lora_alpha = lora_alpha if lora_alpha is not None else layer.lora_rank


class LoRAMixin:
    """``enable_lora`` and the merged kernel for a layer with ``kernel`` (torch layout), ``bias``,
    ``kernel_constraint`` and ``kernel_regularizer``; the layer calls ``_init_lora`` in ``__init__``."""

    _init_lora = init_lora

    def _lora_units(self):
        return self.units if hasattr(self, "units") else self.filters

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"):
        """Freezes the kernel and learns a rank-``rank`` update ``(lora_alpha / rank) * A @ B`` (LoRA).

        Args:
            rank: rank of the update (a positive int, much smaller than the kernel's dimensions).
            lora_alpha: scale numerator (default ``rank``: scale 1).
            a_initializer, b_initializer: initializers of ``A`` and ``B`` (default He-uniform, zeros).
        """
        rank = check_lora(self, "kernel", rank)
        shapes = tuple(self._lora_kernel_shape())[:-1] + (rank,), (rank, self._lora_units())
        add_lora_factors(self, "kernel", self.kernel, *shapes, lora_alpha, a_initializer, b_initializer)

    def _lora_kernel_shape(self):
        """The kernel's Keras shape that ``A`` and ``B`` factorise (a quantized layer overrides it)."""
        return self._keras_shape(self.kernel)

    def _lora_delta(self):
        """``(alpha / rank) * A @ B`` in the kernel's torch layout."""
        delta = (self.lora_alpha / self.lora_rank) * torch.matmul(self.lora_kernel_a, self.lora_kernel_b)
        return stored_view(self.kernel, delta)

    def _merged_kernel(self):
        """The kernel in use (torch layout): the frozen kernel plus the LoRA update when enabled."""
        return self.kernel + self._lora_delta() if self.lora_enabled else self.kernel

    def _lora_config(self):
        return {"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha} if self.lora_rank else {}

    # Files hold [merged kernel, bias] in Keras layout; loading resets the update to zero (Keras's rule).
    def _saved_arrays(self):
        with torch.no_grad():
            kernel = self._merged_kernel()
            kernel = keras_view(self.kernel, kernel)
            arrays = [kernel.detach().cpu().numpy().copy()]
        return arrays + ([self.bias.detach().cpu().numpy().copy()] if self.bias is not None else [])

    def _load_saved_arrays(self, arrays):
        params = [self.kernel] + ([self.bias] if self.bias is not None else [])
        if len(arrays) != len(params):
            raise ValueError(
                f"Layer '{self.name}' expects {len(params)} saved arrays (kernel and bias), received {len(arrays)}."
            )
        with torch.no_grad():
            for p, value in zip(params, arrays):
                t = torch.as_tensor(np.asarray(value), dtype=p.dtype, device=p.device)
                p.copy_(stored_view(p, t))
            if self.lora_enabled:
                self.lora_kernel_a.zero_()
                self.lora_kernel_b.zero_()
