"""EinsumDense: a dense layer of any rank, ``output = activation(einsum(equation, inputs, kernel) + bias)``.

The kernel is stored in Keras layout (``einsum`` takes any layout), so weight files, ``get_weights``
and LoRA's ``A @ B`` update (factorised on the kernel's last axis) need no permutation.
"""

import re

import torch

from strided.layers import _util
from strided.layers.lora import LoRAMixin
from strided.layers.quantization import QuantizationMixin

_FORMS = (  # (pattern, ellipsis on the left)
    (r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", False),
    (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", True),
    (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", False),
)


def analyze_equation(equation, bias_axes, input_shape, output_shape):
    """Kernel shape, bias shape, full output shape and the kernel's input/output axes of an equation.

    ``output_shape`` excludes the batch axis and any axes covered by ``...``; ``None`` entries are
    taken from the input. Raises a ValueError naming the offending part of the equation.
    """
    marked = equation.replace("...", "0")
    for pattern, left_elided in _FORMS:
        match = re.match(pattern, marked)
        if match:
            break
    else:
        raise ValueError(
            f"Invalid einsum equation '{equation}'. Equations must be in the form [X],[Y]->[Z], "
            "...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
        )
    in_spec, w_spec, out_spec = match.groups()
    input_shape = list(input_shape)
    elided = len(input_shape) - len(in_spec)
    full = [input_shape[0]] + list(output_shape)
    if elided > 0 and left_elided:
        full[1:1] = input_shape[1:elided]
    elif elided > 0:
        full += input_shape[len(input_shape) - elided :]
    if left_elided:
        in_pos = {c: i + elided - len(input_shape) for i, c in enumerate(in_spec)}
        out_pos = {c: i + elided for i, c in enumerate(out_spec)}
    else:
        in_pos = {c: i for i, c in enumerate(in_spec)}
        out_pos = {c: i for i, c in enumerate(out_spec)}
    for c in in_spec:
        if c in out_pos:
            got, want = input_shape[in_pos[c]], full[out_pos[c]]
            if want is not None and want != got:
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension '{c}'. Input "
                    f"shape is {got}, and output shape is {want}."
                )
    for c in out_spec:
        if c not in in_spec and c not in w_spec:
            raise ValueError(
                f"Dimension '{c}' was specified in the output '{out_spec}' but has no corresponding "
                f"dim in the input spec '{in_spec}' or weight spec '{w_spec}'"
            )
    kernel_shape, in_axes, out_axes = [], [], []
    for i, c in enumerate(w_spec):
        if c in out_pos:
            kernel_shape.append(full[out_pos[c]])
            out_axes.append(i)
        elif c in in_pos:
            kernel_shape.append(input_shape[in_pos[c]])
            in_axes.append(i)
        else:
            raise ValueError(
                f"Weight dimension '{c}' did not have a match in either the input spec '{in_spec}' "
                f"or the output spec '{out_spec}'. For this layer, the weight must be fully specified."
            )
    bias_shape = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the output spec '{out_spec}'")
        offset = elided if left_elided else 0
        sizes = {c: full[i + offset] for i, c in enumerate(out_spec)}
        first = min(out_spec.find(c) for c in bias_axes)
        bias_shape = [sizes[c] if c in bias_axes else 1 for c in out_spec[first:]]
        if not left_elided:
            bias_shape += [1] * max(elided, 0)
    return kernel_shape, bias_shape, full, in_axes, out_axes


class EinsumDense(QuantizationMixin, LoRAMixin, _util.SpecLayer):
    """A dense layer of any rank, computed with ``einsum``.

    ``output = activation(einsum(equation, inputs, kernel) + bias)``; the kernel's and bias's shapes
    follow from the equation, the input shape and ``output_shape``.

    Args:
        equation: einsum equation of the form ``ab,bc->ac``, ``...ab,bc->...ac`` or ``ab...,bc->ac...``
            (input, kernel, output).
        output_shape: the output shape without the batch axis and the axes covered by ``...``;
            ``None`` entries are taken from the input. An int means a 1-tuple.
        activation: activation function or name (default: none).
        bias_axes: output letters that carry a bias (e.g. ``"c"``); ``None`` for no bias.
        kernel_initializer: initializer of the kernel (default ``"glorot_uniform"``); its fans count only
            the kernel's input and output letters, as in Keras.
        bias_initializer: initializer of the bias (default ``"zeros"``).
        kernel_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.
        lora_rank: optional int; trains a low-rank update of a frozen kernel (see ``enable_lora``).
        lora_alpha: optional float, the numerator of the LoRA scale (default ``lora_rank``).
        gptq_unpacked_column_size: only ``None`` (GPTQ-quantized layers are not supported).
        quantization_config: the config of a quantized layer (see ``quantize``).
        **kwargs: the base layer's (``name``, ``dtype``, ``activity_regularizer``...).

    Input shape:
        the rank the equation's input names.

    Output shape:
        ``(batch, *output_shape)`` (with the ``...`` axes in place).

    For instance ``EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")`` is a Dense(64)
    over the last axis of a ``(batch, steps, features)`` input.

    Example:

    >>> layer = keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")
    >>> tuple(layer(np.zeros((2, 10, 32), "float32")).shape)  # Dense(64) over the last axis
    (2, 10, 64)
    >>> [w.shape for w in layer.get_weights()]
    [(32, 64), (64,)]
    """

    _quantizable, _q_kind = True, "einsum"  # `quantize("int8" | "int4")`, see strided.layers.quantization

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        gptq_unpacked_column_size=None,
        quantization_config=None,
        **kwargs,
    ):
        if gptq_unpacked_column_size is not None:
            raise ValueError(
                f"EinsumDense: GPTQ-quantized layers are not supported by strided. Received: "
                f"gptq_unpacked_column_size={gptq_unpacked_column_size!r}"
            )
        kwargs["dtype"] = self._init_quantization(kwargs.get("dtype"), quantization_config)
        if not isinstance(equation, str):
            raise TypeError(
                f"Invalid type for argument `equation`. Expected a string such as 'ab,bc->ac'. "
                f"Received: equation={equation!r}"
            )
        if isinstance(output_shape, int) and not isinstance(output_shape, bool):
            output_shape = (output_shape,)
        if not isinstance(output_shape, (list, tuple)) or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in output_shape
        ):
            raise ValueError(
                "Invalid value for argument `output_shape`. Expected an int or a tuple of positive ints "
                f"and None. Received: output_shape={output_shape!r}"
            )
        if bias_axes is not None and not isinstance(bias_axes, str):
            raise TypeError(
                f"Invalid type for argument `bias_axes`. Expected a string of output letters or None. "
                f"Received: bias_axes={bias_axes!r}"
            )
        self.equation = equation
        self.partial_output_shape = tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = _util.get_activation(activation)
        _util.set_weight_options_from(self, locals(), "kernel", "bias")
        self._init_lora(lora_rank, lora_alpha)
        super().__init__(**kwargs)

    def _lora_units(self):
        return self._lora_kernel_shape()[-1]

    def _kernel_initializer_for(self, in_axes, out_axes):
        """Keras counts the fans over the kernel's input and output letters only (VarianceScaling family)."""
        init = self.kernel_initializer
        if hasattr(init, "input_axes") and (init.input_axes is None or init.output_axes is None):
            config = dict(init.get_config(), input_axes=in_axes, output_axes=out_axes)
            return type(init).from_config(config)
        return init

    def _check_rank(self, shape):
        subscripts = self.equation.split("->")[0].split(",")[0].strip()
        if "..." not in subscripts and len(subscripts) != len(shape):
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: the equation '
                f"'{self.equation}' takes inputs of rank {len(subscripts)} ('{subscripts}'), but the "
                f"input has shape {tuple(shape)} (ndim={len(shape)})."
            )

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        kernel_shape, bias_shape, _, in_axes, out_axes = analyze_equation(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape
        )
        if any(d is None for d in kernel_shape):
            raise ValueError(
                f"The kernel of EinsumDense layer '{self.name}' needs every dimension it uses to be "
                f"known. Received input_shape={input_shape}, output_shape={self.partial_output_shape} "
                f"for equation '{self.equation}' (kernel shape {tuple(kernel_shape)})."
            )
        self.kernel = self.add_weight(
            shape=kernel_shape,
            initializer=self._kernel_initializer_for(in_axes, out_axes),
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.bias = None if bias_shape is None else _util.add_weight_with_options(self, "bias", bias_shape)
        self._spec_ndim = len(input_shape)
        super().build(input_shape)
        self._build_pending_quantization()
        if self.lora_rank:
            self.enable_lora(self.lora_rank, self.lora_alpha)

    def compute_output_shape(self, input_shape):
        return tuple(analyze_equation(self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape)[2])

    def call(self, inputs):
        if self.quantization_mode is not None:
            return self._quantized_dense_call(inputs)
        self._check_rank(inputs.shape)
        x = _util.cast_like(inputs, self.kernel)
        out = torch.einsum(self.equation, x, self._merged_kernel())
        if self.bias is not None:
            out = out + self.bias
        return self.activation(out)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "output_shape": self.partial_output_shape,
                "equation": self.equation,
                "activation": _util.serialize_activation(self.activation),
                "bias_axes": self.bias_axes,
                **_util.weight_options_config(self, "kernel", "bias"),
                "quantization_config": self._quantization_config_entry(),
            }
        )
        config.update(self._lora_config())
        return config
