"""Post-training weight quantization (Keras 3's ``layer.quantize(mode)`` / ``model.quantize(mode)``).

Dense, EinsumDense and Embedding hold their kernel (table) as int8 plus a float ``*_scale``:

- ``"int8"``: per-channel abs-max, ``q = round(w * 127 / max|w|)``; the scale is ``127 / max|w|``
  over the contracted axes (Dense: one per unit; Embedding: one per row). Dense and EinsumDense also
  quantize their inputs per token the same way at call time and run an integer product (int32
  accumulation, ``torch._int_mm`` on CUDA where it applies), then divide by both scales.
- ``"int4"``: values in ``[-8, 7]``, two per int8 byte (low nibble first) along the last axis.
  With ``block_size`` (Keras's default 128) each block of ``block_size`` contracted rows gets its own
  scale and zero point (``w ~ (q - zero) * scale``, with ``g_idx`` naming each row's block);
  ``block_size=-1`` or ``None`` is per-channel and symmetric (``w ~ q / scale``).

The layer's dtype policy becomes ``"int8_from_float32"`` (``"int4/128_from_float32"``...) and its
config carries it, so a quantized model saves and loads as one (kernel int8 + kernel_scale, in
Keras's file layout). Gradients reach the inputs through the dequantized kernel (Keras's custom
gradient); the quantized weights do not train, LoRA weights added with ``enable_lora`` do.
"""

import math
import re
import warnings

import numpy as np
import torch

from strided import config as _config
from strided.ops.core import convert_to_tensor
from strided.backend.variable import keras_view
from strided.utils.registry import FromConfig

QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")  # Keras's names
_IMPLEMENTED = ("int8", "int4")
EPSILON = 1e-7


# ---------------------------------------------------------------------------- quantizer functions
def _axes(axis, ndim):
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes)


def abs_max_quantize(inputs, axis, value_range=(-127, 127), dtype="int8", epsilon=EPSILON):
    """Symmetric abs-max quantization: ``scale = value_range[1] / (max|x| + epsilon)`` over ``axis``
    (kept as size-1 axes), ``q = clip(round(x * scale), *value_range)``.

    Args:
        inputs: float tensor or array.
        axis: int or tuple of ints, the axes reduced into one scale.
        value_range: ``(min, max)`` of the quantized values.
        dtype: dtype name of ``q`` (``"int8"``).
        epsilon: added to the abs-max so all-zero slices get a finite scale.

    Returns:
        ``(q, scale)``, torch tensors; ``scale`` has the input's dtype.
    """
    x = convert_to_tensor(inputs)
    amax = torch.amax(torch.abs(x), dim=_axes(axis, x.dim()), keepdim=True)
    # (a tensor numerator: `scalar / tensor` in torch multiplies by the reciprocal, one ulp off Keras)
    scale = torch.div(torch.full_like(amax, value_range[1]), amax + epsilon).to(x.dtype)
    q = torch.clamp(torch.round(x * scale), value_range[0], value_range[1]).to(_config.torch_dtype(dtype))
    return q, scale


def abs_max_quantize_grouped_with_zero_point(inputs, block_size, value_range=(-8, 7), dtype="int8", epsilon=EPSILON):
    """Asymmetric quantization of a 2D ``(rows, columns)`` tensor in blocks of ``block_size`` rows.

    Each block and column gets ``scale = (max - min + epsilon) / (qmax - qmin)`` and a zero point
    ``clip(round(-min / scale) + qmin)``; ``q = clip(round(x / scale) + zero)``. The last block is
    padded with zeros, as in Keras.

    Returns:
        ``(q, scale, zero)``: ``q`` of the input's shape, ``scale`` and ``zero`` (int8) of shape
        ``(ceil(rows / block_size), columns)``.
    """
    x = convert_to_tensor(inputs)
    if x.dim() != 2:
        raise ValueError(f"Grouped quantization expects a 2D tensor (rows, columns). Received: shape={tuple(x.shape)}")
    rows, cols = x.shape
    qmin, qmax = value_range
    groups = math.ceil(rows / block_size)
    padded = torch.cat([x, x.new_zeros(groups * block_size - rows, cols)]) if groups * block_size > rows else x
    blocks = padded.reshape(groups, block_size, cols)
    low, high = blocks.amin(dim=1, keepdim=True), blocks.amax(dim=1, keepdim=True)
    scale = ((high - low) + epsilon) / (qmax - qmin)
    zero = torch.clamp(torch.round(-low / scale) + qmin, qmin, qmax)
    q = torch.clamp(torch.round(blocks / scale) + zero, qmin, qmax).to(_config.torch_dtype(dtype))
    q = q.reshape(groups * block_size, cols)[:rows]
    return q, scale.squeeze(1), zero.squeeze(1).to(torch.int8)


def dequantize_with_sz_map(weights, scale, zero, g_idx, group_axis=-1):
    """``(weights - zero[g]) * scale[g]``, ``g = g_idx`` taken along ``group_axis`` of ``scale``/``zero``."""
    groups = g_idx.to(torch.int64)
    scale_map = torch.index_select(scale, group_axis % scale.dim(), groups)
    zero_map = torch.index_select(zero, group_axis % zero.dim(), groups).to(scale_map.dtype)
    return (weights - zero_map) * scale_map


def pack_int4(arr, axis=0, dtype="int8"):
    """Packs int4 values (int8 in ``[-8, 7]``) two per byte along ``axis``: the first of each pair in
    the low nibble, the second in the high nibble (an odd length is padded with a zero).

    Returns:
        ``(packed, packed_shape, orig_len)`` as Keras's ``pack_int4``.
    """
    if dtype not in ("int8", "uint8"):
        raise ValueError(f"Expected dtype to be 'int8' or 'uint8', but got '{dtype}'.")
    x = convert_to_tensor(arr)
    if x.dtype != _config.torch_dtype(dtype):
        raise TypeError(f"Expected {dtype} tensor for packing, got {str(x.dtype).replace('torch.', '')}.")
    axis %= x.dim()
    x = torch.movedim(x, axis, 0).to(torch.int16)
    n = x.shape[0]
    if n % 2:
        x = torch.cat([x, x.new_zeros((1,) + tuple(x.shape[1:]))])
    packed = (x[0::2] & 0x0F) | ((x[1::2] & 0x0F) << 4)
    packed = packed.to(torch.uint8)
    if dtype == "int8":
        packed = packed.view(torch.int8)
    packed = torch.movedim(packed, 0, axis).contiguous()
    return packed, tuple(packed.shape), n


def unpack_int4(packed, orig_len, axis=0, dtype="int8"):
    """Inverse of ``pack_int4``: ``orig_len`` values along ``axis``, signed int4 as int8 (``dtype='int8'``)."""
    if dtype not in ("int8", "uint8"):
        raise ValueError(f"Expected dtype to be 'int8' or 'uint8', but got '{dtype}'.")
    p = convert_to_tensor(packed)
    if p.dtype not in (torch.int8, torch.uint8):
        raise TypeError(f"Expected int8 or uint8 tensor for unpacking, got {p.dtype}")
    axis %= p.dim()
    p = torch.movedim(p, axis, 0).to(torch.int16) & 0xFF
    low, high = p & 0x0F, (p >> 4) & 0x0F
    if dtype == "int8":
        low, high = (low ^ 8) - 8, (high ^ 8) - 8
    both = torch.stack([low, high], dim=1).reshape((-1,) + tuple(p.shape[1:]))[:orig_len]
    return torch.movedim(both.to(_config.torch_dtype(dtype)), 0, axis)


# ---------------------------------------------------------------------------- quantizers and configs
class AbsMaxQuantizer(FromConfig):
    """Quantizes a tensor with ``abs_max_quantize`` (Keras's ``keras.quantizers.AbsMaxQuantizer``).

    Args:
        axis: default axis (int or tuple) reduced into one scale; ``None`` means the call's axis or -1.
        value_range: ``(min, max)`` of the quantized values (within ``[-128, 127]`` for int8).
        epsilon: added to the abs-max.
        output_dtype: dtype of the quantized values.
    """

    def __init__(self, axis=None, value_range=(-127, 127), epsilon=EPSILON, output_dtype="int8"):
        self.axis = None if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
        if not isinstance(value_range, (list, tuple)) or len(value_range) != 2 or value_range[0] >= value_range[1]:
            raise ValueError(
                f"Invalid value for argument `value_range`. Expected (min, max) with min < max. "
                f"Received: value_range={value_range!r}"
            )
        if output_dtype == "int8" and (value_range[0] < -128 or value_range[1] > 127):
            raise ValueError(
                "Quantizer with output_dtype='int8' requires value_range to be within the interval "
                f"[-128, 127]. Received: value_range={value_range}"
            )
        self.value_range = tuple(value_range)
        self.epsilon = epsilon
        self.output_dtype = output_dtype

    def __call__(self, x, axis=None):
        axis = axis if axis is not None else (self.axis if self.axis is not None else -1)
        return abs_max_quantize(x, axis, self.value_range, self.output_dtype, self.epsilon)

    def get_config(self):
        config = {"value_range": self.value_range, "epsilon": self.epsilon, "output_dtype": self.output_dtype}
        if self.axis is not None:
            config["axis"] = self.axis
        return config


class QuantizationConfig(FromConfig):
    """Base of the quantization configs: a ``weight_quantizer`` and an ``activation_quantizer``."""

    mode = None

    def __init__(self, weight_quantizer=None, activation_quantizer=None):
        self.weight_quantizer = _deserialize_quantizer(weight_quantizer)
        self.activation_quantizer = _deserialize_quantizer(activation_quantizer)

    def get_config(self):
        return {
            "weight_quantizer": _serialize(self.weight_quantizer),
            "activation_quantizer": _serialize(self.activation_quantizer),
        }


class Int8QuantizationConfig(QuantizationConfig):
    """Int8 quantization settings (Keras's ``keras.quantizers.Int8QuantizationConfig``).

    Args:
        weight_quantizer: quantizer of the kernel (default: abs-max over the contracted axes).
        activation_quantizer: quantizer of the inputs at call time; ``"default"`` is an
            ``AbsMaxQuantizer`` per token, ``None`` keeps float inputs (weight-only quantization).
    """

    mode = "int8"

    def __init__(self, weight_quantizer=None, activation_quantizer="default"):
        if activation_quantizer == "default":
            activation_quantizer = AbsMaxQuantizer()
        super().__init__(weight_quantizer, activation_quantizer)
        if self.weight_quantizer is not None and self.weight_quantizer.output_dtype != "int8":
            raise ValueError(
                "Int8QuantizationConfig requires a weight_quantizer with output_dtype='int8'. "
                f"Received: output_dtype={self.weight_quantizer.output_dtype}"
            )


class Int4QuantizationConfig(QuantizationConfig):
    """Int4 quantization settings (Keras's ``keras.quantizers.Int4QuantizationConfig``).

    Args:
        weight_quantizer: per-channel quantizer of the kernel (value_range must be ``(-8, 7)``).
        activation_quantizer: ``"default"`` means none (weight-only), as in Keras.
        block_size: rows per block for sub-channel (grouped, with zero point) quantization; ``None``
            or -1 for per-channel. Default 128.
    """

    mode = "int4"

    def __init__(self, weight_quantizer=None, activation_quantizer="default", block_size=128):
        if activation_quantizer == "default":
            activation_quantizer = None
        super().__init__(weight_quantizer, activation_quantizer)
        if (
            block_size is not None
            and block_size != -1
            and (not isinstance(block_size, int) or isinstance(block_size, bool) or block_size <= 0)
        ):
            raise ValueError(f"block_size must be None, -1, or a positive integer. Received: block_size={block_size}")
        self.block_size = block_size
        if (
            block_size is not None
            and block_size > 0
            and (self.weight_quantizer is not None or self.activation_quantizer is not None)
        ):
            raise ValueError(
                "Int4 sub-channel quantization (block_size > 0) does not support custom quantizers. "
                "Either set block_size to None or -1 for per-channel quantization, or remove the "
                f"custom quantizer arguments. Received: block_size={block_size}"
            )
        if self.weight_quantizer is not None and tuple(self.weight_quantizer.value_range) != (-8, 7):
            raise ValueError(
                "Int4QuantizationConfig requires a weight_quantizer with value_range=(-8, 7). "
                f"Received: value_range={self.weight_quantizer.value_range}"
            )

    def get_config(self):
        return dict(super().get_config(), block_size=self.block_size)

    @classmethod
    def from_config(cls, config):
        return cls(config.get("weight_quantizer"), config.get("activation_quantizer"), config.get("block_size"))


_CONFIG_CLASSES = {c.__name__: c for c in (Int8QuantizationConfig, Int4QuantizationConfig, AbsMaxQuantizer)}


def _serialize(obj):
    if obj is None:
        return None
    return {
        "module": "keras.quantizers",
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": None,
    }


def _deserialize_quantizer(value):
    if isinstance(value, dict):
        value = deserialize_config(value)
    if value is not None and not callable(value):
        raise TypeError(f"A quantizer must be a callable such as AbsMaxQuantizer(). Received: {value!r}")
    return value


def deserialize_config(value):
    """A quantization config (or quantizer) from its Keras dict; objects and None pass through."""
    if not isinstance(value, dict):
        return value
    cls = _CONFIG_CLASSES.get(value.get("class_name"))
    if cls is None:
        raise ValueError(
            f"Unknown quantization config or quantizer: {value.get('class_name')!r}. strided knows "
            f"{sorted(_CONFIG_CLASSES)}."
        )
    cfg = {
        k: (tuple(v) if k in ("value_range", "axis") and isinstance(v, list) else v)
        for k, v in (value.get("config") or {}).items()
    }
    return cls.from_config(cfg)


def validate_and_resolve_config(mode, config):
    """The config ``quantize`` works with: the default one of ``mode``, or ``config`` checked against it."""
    if isinstance(config, str):
        mode, config = config, None
    if mode is not None and mode not in QUANTIZATION_MODES:
        raise ValueError(f"Invalid quantization mode. Expected one of {QUANTIZATION_MODES}. Received: mode={mode}")
    if config is None:
        if mode == "int8":
            return Int8QuantizationConfig()
        if mode == "int4":
            return Int4QuantizationConfig()
        if mode is None:
            raise ValueError("You must provide either `mode` or `config` to `quantize`.")
        raise ValueError(
            f"strided implements the quantization modes {_IMPLEMENTED}; mode '{mode}' is not "
            f"supported. Received: mode={mode}"
        )
    if not isinstance(config, QuantizationConfig):
        raise ValueError(
            "Argument `config` must be an instance of `QuantizationConfig`. "
            f"Received: config={config} (of type {type(config)})"
        )
    if mode is not None and config.mode != mode:
        raise ValueError(f"Contradictory arguments: mode='{mode}' but config.mode='{config.mode}'")
    return config


# ---------------------------------------------------------------------------- dtype policies
class QuantizedDTypePolicy(FromConfig):
    """A layer's dtype policy once quantized: ``name`` is ``"<mode>_from_<source>"`` (``"int8_from_float32"``,
    ``"int4/128_from_float32"``); weights other than the quantized ones and the compute stay in ``source_name``."""

    _config_keys = ("mode", "source_name")

    def __init__(self, mode, source_name="float32"):
        base = mode.split("/")[0]
        if base not in _IMPLEMENTED:
            raise ValueError(f"Invalid quantization mode. Expected one of {_IMPLEMENTED}. Received: mode={mode}")
        self.mode, self.source_name = mode, source_name

    @property
    def name(self):
        return f"{self.mode}_from_{self.source_name}"

    @property
    def quantization_mode(self):
        return self.mode.split("/")[0]

    @property
    def block_size(self):
        parts = self.mode.split("/")
        return int(parts[1]) if len(parts) > 1 else None

    compute_dtype = property(lambda self: self.source_name)
    variable_dtype = property(lambda self: self.source_name)

    def keras_dict(self):
        class_name = "Int4DTypePolicy" if self.quantization_mode == "int4" else "QuantizedDTypePolicy"
        return {
            "module": "keras.dtype_policies",
            "class_name": class_name,
            "config": self.get_config(),
            "registered_name": None,
        }

    def __repr__(self):
        return f'<QuantizedDTypePolicy "{self.name}">'


class _SourcePolicy:
    """The policy of a float layer, as ``layer.dtype_policy`` shows it."""

    quantization_mode = None

    def __init__(self, name):
        self.name = name
        self.compute_dtype = self.variable_dtype = name

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'


def parse_policy(dtype):
    """A ``QuantizedDTypePolicy`` from ``"int8_from_float32"`` or Keras's policy dict, else None."""
    if isinstance(dtype, QuantizedDTypePolicy):
        return dtype
    if isinstance(dtype, dict) and dtype.get("class_name") in (
        "QuantizedDTypePolicy",
        "Int4DTypePolicy",
        "QuantizedFloat8DTypePolicy",
        "GPTQDTypePolicy",
        "AWQDTypePolicy",
    ):
        cfg = dtype.get("config") or {}
        if "mode" in cfg:
            return QuantizedDTypePolicy(cfg["mode"], cfg.get("source_name") or "float32")
        dtype = cfg.get("name")
    if isinstance(dtype, str) and dtype.startswith(QUANTIZATION_MODES):
        match = re.fullmatch(r"([a-z0-9]+(?:/-?\d+)?)_from_(\w+)", dtype)
        if not match:
            raise ValueError(
                f"Cannot convert '{dtype}' to a quantized dtype policy. Expected a name such as "
                "'int8_from_float32' or 'int4/128_from_float32'."
            )
        return QuantizedDTypePolicy(match.group(1), match.group(2))
    return None


# ---------------------------------------------------------------------------- gradients
class _QuantizedProduct(torch.autograd.Function):
    """Runs a quantized product forward; backward is the vector-Jacobian product of the float product with
    the dequantized weight (Keras's custom gradient: the quantized weights get no gradient)."""

    @staticmethod
    def forward(ctx, x, quantized_fn, float_fn):
        ctx.float_fn = float_fn
        ctx.save_for_backward(x)
        return quantized_fn(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (grad_x,) = torch.autograd.grad(ctx.float_fn(x), x, grad)
        return grad_x, None, None


def _product(x, quantized_fn, float_fn):
    if torch.is_grad_enabled() and x.requires_grad:
        return _QuantizedProduct.apply(x, quantized_fn, float_fn)
    return quantized_fn(x)


def _int_einsum(equation, a, b):
    """Exact integer einsum of two int8 tensors, as int32 (``torch._int_mm`` for 2D CUDA matmuls where it applies)."""
    if a.device.type == "cuda":
        if (
            equation == "ab,bc->ac"
            and a.shape[0] > 16
            and a.shape[1] >= 16
            and a.shape[1] % 8 == 0
            and b.shape[1] % 8 == 0
            and hasattr(torch, "_int_mm")
        ):
            try:
                return torch._int_mm(a.contiguous(), b.contiguous())
            except RuntimeError:
                pass
        return torch.einsum(equation, a.double(), b.double()).to(torch.int32)  # exact below 2**53
    return torch.einsum(equation, a.to(torch.int32), b.to(torch.int32))


def _int_matmul(a, b):
    lead = a.shape[:-1]
    out = _int_einsum("ab,bc->ac", a.reshape(-1, a.shape[-1]), b)
    return out.reshape(tuple(lead) + (b.shape[-1],))


# ---------------------------------------------------------------------------- EinsumDense geometry
def einsum_quantization_info(equation, input_ndim):
    """Keras's reading of an EinsumDense equation for quantization: the reduced (contracted) input and kernel
    axes, and how a scale with size-1 reduced axes is transposed, expanded and squeezed to broadcast against
    the output; also the einsum of the input gradient."""
    marked = equation.replace("...", "0")
    for pattern, where in (
        (r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None),
        (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", "left"),
        (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", "right"),
    ):
        match = re.match(pattern, marked)
        if match:
            break
    else:
        raise ValueError(f"Invalid einsum equation '{equation}'.")
    in_spec, w_spec, out_spec = match.groups()
    if where is not None:
        free = sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") - set(in_spec + w_spec + out_spec))
        extra = "".join(free[: input_ndim - len(in_spec)])
        if where == "left":  # Keras prepends the labels one at a time: the first one ends up innermost
            in_spec, out_spec = extra[::-1] + in_spec, extra[::-1] + out_spec
        else:
            in_spec, out_spec = in_spec + extra, out_spec + extra
    in_reduced = [i for i, c in enumerate(in_spec) if c not in out_spec]
    w_reduced = [i for i, c in enumerate(w_spec) if c not in out_spec]
    in_expand = [i for i, c in enumerate(out_spec) if c not in in_spec]
    w_expand = [i for i, c in enumerate(out_spec) if c not in w_spec]
    in_transpose = [in_spec.find(c) for c in out_spec if c in in_spec]
    w_transpose = [w_spec.find(c) for c in out_spec if c in w_spec]
    # Keras fills each reduced axis into the place of an expanded one; when none is left the axis is
    # squeezed and inserted at the last place used (starting from the last weight label's output index).
    index = out_spec.find(w_spec[-1])
    in_squeeze, w_squeeze = [], []
    for reduced, expand, transpose, squeeze in (
        (in_reduced, in_expand, in_transpose, in_squeeze),
        (w_reduced, w_expand, w_transpose, w_squeeze),
    ):
        for original in reduced:
            if expand:
                index = expand.pop(0)
            else:
                squeeze.append(original)
            transpose.insert(index, original)
    return {
        "input_reduced": in_reduced,
        "kernel_reduced": w_reduced,
        "input_transpose": in_transpose,
        "kernel_transpose": w_transpose,
        "input_expand": in_expand,
        "kernel_expand": w_expand,
        "input_squeeze": in_squeeze,
        "kernel_squeeze": w_squeeze,
        "gradient_equation": f"{out_spec},{w_spec}->{in_spec}",
    }


def _scale_for_output(scale, transpose, expand, squeeze):
    if transpose:
        scale = scale.permute(*transpose)
    for axis in sorted(expand):
        scale = scale.unsqueeze(axis)
    for axis in sorted(squeeze, reverse=True):
        scale = scale.squeeze(axis)
    return scale


def _scale_for_kernel(scale, info):
    for axis in sorted(info["kernel_squeeze"]):
        scale = scale.unsqueeze(axis)
    for axis in sorted(info["kernel_expand"], reverse=True):
        scale = scale.squeeze(axis)
    if info["kernel_transpose"]:
        scale = scale.permute(*np.argsort(info["kernel_transpose"]))
    return scale


# ---------------------------------------------------------------------------- the layer mixin
class QuantizationMixin:
    """``quantize``, ``quantization_mode`` and the quantized call/build/save of Dense, EinsumDense and Embedding.

    A layer class sets ``_quantizable = True`` in its own body (``quantize(type_check=True)`` refuses
    subclasses, as Keras does), ``_q_kind`` (``"dense"``, ``"einsum"`` or ``"embedding"``) and
    ``_q_weight_name`` (``"kernel"`` or ``"embeddings"``); its ``__init__`` passes ``dtype`` and
    ``quantization_config`` through ``_init_quantization`` and its ``build`` ends with
    ``_build_pending_quantization()`` (before enabling LoRA).
    """

    _q_weight_name = "kernel"

    def _init_quantization(self, dtype, quantization_config):
        """Reads a quantized dtype policy (``"int8_from_float32"`` or Keras's dict); returns the source dtype."""
        self._q_policy = None
        self._q_pending = parse_policy(dtype)
        self.quantization_config = deserialize_config(quantization_config)
        if self.quantization_config is not None and not isinstance(self.quantization_config, QuantizationConfig):
            raise ValueError(
                "Argument `quantization_config` must be an instance of `QuantizationConfig`. "
                f"Received: quantization_config={quantization_config!r}"
            )
        return self._q_pending.source_name if self._q_pending is not None else dtype

    @property
    def quantization_mode(self):
        """The quantization mode of the layer (``"int8"``, ``"int4"``), ``None`` if not quantized."""
        policy = self.__dict__.get("_q_policy")
        return policy.quantization_mode if policy is not None else None

    @property
    def dtype_policy(self):
        """The layer's dtype policy: ``"int8_from_float32"``-style once quantized."""
        policy = self.__dict__.get("_q_policy")
        return policy if policy is not None else _SourcePolicy(self.dtype)

    # ------------------------------------------------------------------ quantize
    def quantize(self, mode=None, type_check=True, config=None):
        """Quantizes the layer's weights in place (Keras's ``layer.quantize``).

        Args:
            mode: ``"int8"`` or ``"int4"`` (optional when ``config`` is given).
            type_check: refuse subclasses of the quantizable classes (NotImplementedError), as Keras does.
            config: an ``Int8QuantizationConfig``/``Int4QuantizationConfig`` (quantizers, int4 ``block_size``).
        """
        config = validate_and_resolve_config(mode, config)
        mode = config.mode
        if not self.built:
            raise ValueError(
                f"Cannot quantize a layer that isn't yet built. Layer '{self.name}' (of type "
                f"'{type(self).__name__}') is not built yet."
            )
        if self.quantization_mode is not None:
            raise ValueError(
                f"Layer '{self.name}' is already quantized with dtype_policy="
                f"'{self.dtype_policy.name}'. Received: mode={mode}"
            )
        if getattr(self, "_quantization_unsupported", False) or (
            type_check and not type(self).__dict__.get("_quantizable", False)
        ):
            raise NotImplementedError(f"Layer {type(self).__name__} does not have a `quantize` method implemented.")
        if mode == "int8" and self.dtype == "float16":
            raise ValueError(f"Quantization mode='{mode}' doesn't work well with compute_dtype='float16'.")
        block = getattr(config, "block_size", None)
        block = None if block in (None, -1) else block
        policy = QuantizedDTypePolicy(mode if mode != "int4" else f"int4/{block or -1}", self.dtype)
        with torch.no_grad():
            arrays = self._q_quantize(self._q_float_weight().float(), mode, block, config)
        self.quantization_config = config
        self._q_install(arrays, policy)

    def _build_pending_quantization(self):
        """Replaces the float weight made by ``build`` with zero quantized variables (a quantized config)."""
        policy, self._q_pending = self._q_pending, None
        if policy is None:
            return
        with torch.no_grad():
            arrays = self._q_quantize(
                torch.zeros(self._q_float_shape()),
                policy.quantization_mode,
                policy.block_size if policy.block_size not in (None, -1) else None,
                self.quantization_config,
            )
            for name, value in arrays.items():
                if name.endswith("_scale"):
                    value.fill_(1.0)
        self._q_install(arrays, policy)

    def _q_install(self, arrays, policy):
        old = self._q_float_param()
        self._q_shape = tuple(self._keras_shape(old))
        device, prefix = old.device, old._keras_path.rsplit("/", 1)[0]
        self._tracked_weights = [w for w in self._tracked_weights if w is not old]
        for key in [k for k, v in self._parameters.items() if v is old]:
            del self._parameters[key]
        for name, value in arrays.items():
            dtype = {torch.int8: "int8"}.get(value.dtype, self.dtype)
            param = self.add_weight(
                shape=tuple(value.shape), initializer="zeros", dtype=dtype, trainable=False, name=name
            )
            param.data = value.to(device=device, dtype=param.dtype).contiguous()
            param._keras_path = f"{prefix}/{name}"
            self._q_set(name, param)
        self._q_policy = policy
        if getattr(self, "lora_enabled", False):
            self._q_float_param()._keras_frozen = True

    def _q_set(self, name, param):
        attr = "_embeddings" if name == "embeddings" else name
        for key in [k for k, v in self._parameters.items() if v is param]:
            del self._parameters[key]
        self._parameters.pop(attr, None)
        self.register_parameter(attr, param)

    def _q_float_param(self):
        return self._embeddings if self._q_weight_name == "embeddings" else self.kernel

    def _q_float_weight(self):
        """The float weight being quantized, in Keras layout (LoRA not merged, as in Keras)."""
        p = self._q_float_param()
        return keras_view(p, p.detach())

    # ------------------------------------------------------------------ per-layer geometry
    def _q_einsum_info(self):
        info = self.__dict__.get("_q_info")
        if info is None:
            info = self._q_info = einsum_quantization_info(self.equation, self._spec_ndim)
        return info

    def _q_quantize(self, w, mode, block, config):
        """``{variable name: tensor}`` of the quantized weight, in Keras's creation order."""
        name, kind = self._q_weight_name, self._q_kind
        wq = getattr(config, "weight_quantizer", None)
        out = {}
        if mode == "int8":
            if kind == "dense":
                q, scale = (wq or AbsMaxQuantizer(axis=0))(w)
                scale = scale.squeeze(0)
            elif kind == "embedding":
                q, scale = (wq or AbsMaxQuantizer(axis=-1))(w)
                scale = scale.squeeze(-1)
            else:
                info = self._q_einsum_info()
                q, scale = (wq or AbsMaxQuantizer(axis=info["kernel_reduced"]))(w)
                scale = _scale_for_output(
                    scale, info["kernel_transpose"], info["kernel_expand"], info["kernel_squeeze"]
                )
            out[name], out[f"{name}_scale"] = q, scale
            return out
        # int4: a 2D (rows, columns) view, rows contracted, packed along the columns
        if kind == "embedding":
            flat = w.t()  # grouped along output_dim
        elif kind == "einsum":
            reduced = self._q_einsum_info()["kernel_reduced"]
            rows = int(np.prod([d for i, d in enumerate(w.shape) if i in reduced]))
            flat = w.reshape(rows, -1)
        else:
            flat = w
        if block is None:
            axis = -1 if kind == "embedding" else 0
            quantizer = wq if wq is not None and kind != "einsum" else AbsMaxQuantizer(axis, value_range=(-8, 7))
            q, scale = quantizer(w if kind == "embedding" else flat)
            scale = scale.squeeze(axis)
            out[name] = pack_int4(q, axis=-1)[0]
            out[f"{name}_scale"] = scale
            return out
        q, scale, zero = abs_max_quantize_grouped_with_zero_point(flat, block)
        rows = flat.shape[0]
        g_idx = torch.div(torch.arange(rows, dtype=torch.float32), block, rounding_mode="floor")
        if kind == "embedding":
            q, scale, zero = q.t(), scale.t(), zero.t()
        out[name] = pack_int4(q.contiguous(), axis=-1)[0]
        out[f"{name}_scale"], out[f"{name}_zero"], out["g_idx"] = scale.contiguous(), zero.contiguous(), g_idx
        return out

    def _q_int4_block(self):
        return self._q_policy.block_size if self._q_policy.block_size not in (None, -1) else None

    def _q_dequantized(self, dtype=torch.float32):
        """The float weight the quantized variables stand for (Keras layout, LoRA not merged)."""
        name, kind, mode = self._q_weight_name, self._q_kind, self.quantization_mode
        stored = getattr(self, "_embeddings" if name == "embeddings" else name)
        scale = getattr(self, f"{name}_scale").to(dtype)
        if mode == "int8":
            if kind == "dense":
                return stored.to(dtype) / scale
            if kind == "embedding":
                return stored.to(dtype) / scale.unsqueeze(-1)
            return stored.to(dtype) / _scale_for_kernel(scale, self._q_einsum_info())
        full = self._q_float_shape()
        if kind == "embedding":
            q = unpack_int4(stored, full[-1], axis=-1).to(dtype)
            if self._q_int4_block() is None:
                return q / scale.unsqueeze(-1)
            return dequantize_with_sz_map(q, scale, getattr(self, f"{name}_zero"), self.g_idx, group_axis=-1)
        columns = int(np.prod(full)) // self._q_rows()
        q = unpack_int4(stored, columns, axis=-1).to(dtype)
        if self._q_int4_block() is None:
            flat = q / scale
        else:
            flat = dequantize_with_sz_map(q, scale, getattr(self, f"{name}_zero"), self.g_idx, group_axis=0)
        return flat.reshape(full)

    def _q_rows(self):
        full = self._q_float_shape()
        if self._q_kind == "einsum":
            reduced = self._q_einsum_info()["kernel_reduced"]
            return int(np.prod([d for i, d in enumerate(full) if i in reduced]))
        return full[0]

    def _q_float_shape(self):
        """The float weight's Keras shape (also once quantized)."""
        shape = self.__dict__.get("_q_shape")
        return shape if shape is not None else tuple(self._keras_shape(self._q_float_param()))

    # ------------------------------------------------------------------ call
    def _q_activation_quantizer(self):
        if self.quantization_config is None:
            return AbsMaxQuantizer() if self.quantization_mode == "int8" else None
        return self.quantization_config.activation_quantizer

    def _quantized_product(self, x):
        """``x`` times the quantized kernel (Dense/EinsumDense, before LoRA, bias and activation)."""
        dtype = x.dtype
        equation = "...a,ab->...b" if self._q_kind == "dense" else self.equation
        quantizer = self._q_activation_quantizer()
        mode = self.quantization_mode
        name = self._q_weight_name

        def float_fn(inputs):
            return torch.einsum(equation, inputs, self._q_dequantized(dtype))

        if mode == "int8" and quantizer is not None:
            kernel, kernel_scale = getattr(self, name), getattr(self, f"{name}_scale").to(dtype)

            def quantized_fn(inputs):
                if self._q_kind == "dense":
                    xq, xs = quantizer(inputs, axis=-1)
                    return _int_matmul(xq, kernel).to(dtype) / (kernel_scale * xs)
                info = self._q_einsum_info()
                xq, xs = quantizer(inputs, axis=tuple(info["input_reduced"]))
                xs = _scale_for_output(xs, info["input_transpose"], info["input_expand"], info["input_squeeze"])
                return _int_einsum(equation, xq, kernel).to(dtype) / (xs * kernel_scale)
        elif mode == "int8" or (mode == "int4" and self._q_int4_block() is not None and quantizer is None):
            quantized_fn = float_fn
        else:  # int4 per channel: product with the integer values, then the scales (Keras's order)

            def quantized_fn(inputs):
                kernel_scale = getattr(self, f"{name}_scale").to(dtype)
                full = self._q_float_shape()
                q = unpack_int4(getattr(self, name), int(np.prod(full)) // self._q_rows(), axis=-1).to(dtype)
                if quantizer is not None:
                    if self._q_kind == "dense":
                        xq, xs = quantizer(inputs, axis=-1)
                        return (xq.to(dtype) @ q) / (kernel_scale * xs)
                    info = self._q_einsum_info()
                    xq, xs = quantizer(inputs, axis=tuple(info["input_reduced"]))
                    xs = _scale_for_output(xs, info["input_transpose"], info["input_expand"], info["input_squeeze"])
                    return torch.einsum(equation, xq.to(dtype), (q / kernel_scale).reshape(full)) / xs
                if self._q_kind == "dense":
                    return (inputs @ q) / kernel_scale
                return torch.einsum(equation, inputs, (q / kernel_scale).reshape(full))

        return _product(x, quantized_fn, float_fn)

    def _quantized_dense_call(self, inputs):
        """Dense/EinsumDense call of a quantized layer: product, LoRA update, bias, activation."""
        device = getattr(self, self._q_weight_name).device
        x = inputs.to(_config.torch_dtype(self.dtype))
        if not x.is_meta and x.device != device:
            x = x.to(device)
        out = self._quantized_product(x)
        if getattr(self, "lora_enabled", False):
            equation = "...a,ab->...b" if self._q_kind == "dense" else self.equation
            update = torch.einsum(equation, x, self.lora_kernel_a) @ self.lora_kernel_b
            out = out + (self.lora_alpha / self.lora_rank) * update
        if self.bias is not None:
            out = out + self.bias
        return self.activation(out)

    def _quantized_lookup(self, inputs):
        """Embedding rows of a quantized table, dequantized (plus the LoRA update)."""
        dtype = _config.torch_dtype(self.dtype)
        scale = self.embeddings_scale[inputs].to(dtype)
        if self.quantization_mode == "int8":
            out = self._embeddings[inputs].to(dtype) / scale.unsqueeze(-1)
        else:
            rows = unpack_int4(self._embeddings, self.output_dim, axis=-1)[inputs].to(dtype)
            if self._q_int4_block() is None:
                out = rows / scale.unsqueeze(-1)
            else:
                out = dequantize_with_sz_map(rows, scale, self.embeddings_zero[inputs], self.g_idx, group_axis=-1)
        if getattr(self, "lora_enabled", False):
            update = self.lora_embeddings_a[inputs] @ self.lora_embeddings_b
            out = out + (self.lora_alpha / self.lora_rank) * update
        return out.to(dtype)

    # ------------------------------------------------------------------ LoRA, config, files
    def _lora_kernel_shape(self):
        """The kernel's Keras shape for LoRA's ``A``/``B`` (the unpacked one for int4)."""
        if self.quantization_mode is not None:
            return self._q_float_shape()
        return tuple(self._keras_shape(self.kernel))

    def _quantization_config_entry(self):
        return _serialize(self.quantization_config) if self.quantization_mode is not None else None

    def get_config(self):
        config = super().get_config()
        if self.quantization_mode is not None:
            config["dtype"] = self._q_policy.keras_dict()
            config["quantization_config"] = self._quantization_config_entry()
        return config

    def _q_saved_names(self):
        name = self._q_weight_name
        names = [name] + (["bias"] if self._q_kind != "embedding" else []) + [f"{name}_scale"]
        if self.quantization_mode == "int4" and self._q_int4_block() is not None:
            names += [f"{name}_zero", "g_idx"]
        return names

    def _q_merged_arrays(self):
        """``{name: tensor}`` of the quantized variables, with a LoRA update merged and requantized (Keras's rule)."""
        name = self._q_weight_name
        if not getattr(self, "lora_enabled", False):
            return {}
        a, b = (
            (self.lora_embeddings_a, self.lora_embeddings_b)
            if name == "embeddings"
            else (self.lora_kernel_a, self.lora_kernel_b)
        )
        merged = self._q_dequantized() + (self.lora_alpha / self.lora_rank) * torch.matmul(a, b).float()
        return self._q_quantize(merged, self.quantization_mode, self._q_int4_block(), self.quantization_config)

    def _saved_arrays(self):
        if self.quantization_mode is None:
            return super()._saved_arrays()
        with torch.no_grad():
            merged = self._q_merged_arrays()
            out = []
            for n in self._q_saved_names():
                if n == "bias" and self.bias is None:
                    continue
                value = merged.get(n)
                if value is None:
                    value = getattr(self, "_embeddings" if n == "embeddings" else n)
                out.append(value.detach().cpu().numpy().copy())
        return out

    def _load_saved_arrays(self, arrays):
        if self.quantization_mode is None:
            return super()._load_saved_arrays(arrays)
        names = [n for n in self._q_saved_names() if not (n == "bias" and self.bias is None)]
        if len(arrays) != len(names):
            raise ValueError(
                f"Layer '{self.name}' expects {len(names)} saved arrays ({', '.join(names)}), received {len(arrays)}."
            )
        with torch.no_grad():
            for n, value in zip(names, arrays):
                p = getattr(self, "_embeddings" if n == "embeddings" else n)
                p.copy_(torch.as_tensor(np.asarray(value)).to(device=p.device, dtype=p.dtype))
            if getattr(self, "lora_enabled", False):
                for p in (
                    (self.lora_embeddings_a, self.lora_embeddings_b)
                    if self._q_weight_name == "embeddings"
                    else (self.lora_kernel_a, self.lora_kernel_b)
                ):
                    p.zero_()


# ---------------------------------------------------------------------------- models
def quantize_model(model, mode=None, config=None, filters=None, type_check=True):
    """``model.quantize``: quantizes each leaf layer that ``filters`` selects; layers that cannot be quantized
    are skipped with a warning (Keras's behaviour)."""
    resolved = validate_and_resolve_config(mode, config)
    if filters is not None and not isinstance(filters, (str, list, tuple)) and not callable(filters):
        raise ValueError(
            "The `filters` argument must be a regex string, a list of regex strings, or a callable. "
            f"Received: {type(filters)}"
        )
    for layer in model._flatten_layers():
        if len(layer._flatten_layers()) != 1 or not _selected(layer, filters):
            continue
        if not isinstance(layer, QuantizationMixin):
            if not layer.built:
                raise ValueError(
                    f"Cannot quantize a layer that isn't yet built. Layer '{layer.name}' (of type "
                    f"'{type(layer).__name__}') is not built yet."
                )
            warnings.warn(f"Layer {type(layer).__name__} does not have a `quantize` method implemented.", stacklevel=3)
            continue
        try:
            layer.quantize(resolved.mode, type_check=type_check, config=config)
        except NotImplementedError as e:
            warnings.warn(str(e), stacklevel=3)
    for attr in ("train_function", "test_function", "predict_function"):
        if hasattr(model, attr):
            setattr(model, attr, None)


def _selected(layer, filters):
    if filters is None:
        return True
    if isinstance(filters, str):
        return bool(re.search(filters, layer.name))
    if isinstance(filters, (list, tuple)):
        return any(re.search(p, layer.name) for p in filters)
    return bool(filters(layer))
