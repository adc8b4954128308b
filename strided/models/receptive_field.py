"""Receptive fields of conv/pool stacks, and the seed-000 output-size formula as a table.

For a window of k pixels with dilation d and stride s, after layers whose outputs are ``jump``
input pixels apart and see ``size`` input pixels (Araujo et al., Distill 2019):

    size_out = size_in + (d * (k - 1)) * jump_in
    jump_out = jump_in * s
    start_out = start_in + ((d * (k - 1)) / 2 - pad_before) * jump_in    (centre of the first unit)
"""

import collections
import itertools

from strided.utils import conv_utils
from strided import config
from strided.layers.input_layer import InputLayer

ReceptiveField = collections.namedtuple("ReceptiveField", ["layer", "size", "jump", "start"])
ReceptiveField.__doc__ = (
    "One layer's receptive field: `size` (input pixels one output unit sees, per spatial "
    "axis), `jump` (input pixels between neighbouring output units: the output stride), "
    "`start` (input coordinate of the centre of the first output unit). `size` is None "
    "for layers that see the whole input (Flatten, global pooling, and Dense after them)."
)

_GLOBAL = ("Flatten", "GlobalAveragePooling", "GlobalMaxPooling", "GlobalAvgPool", "GlobalMaxPool")


def model_inputs(model):
    """The symbolic inputs of a Sequential or functional model, with a clear error otherwise."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(
            f"Model '{getattr(model, 'name', model)}' has no symbolic inputs: give it an input shape "
            "(an `Input` layer, or `input_shape=` on its first layer) or call it on data first."
        )
    return inputs


def _tuple(value, n):
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _window(layer, n):
    """(kernel, stride, dilation, padding) of a windowed layer, or None for a pointwise layer."""
    if hasattr(layer, "kernel_size"):
        kernel = _tuple(layer.kernel_size, n)
        dilation = _tuple(getattr(layer, "dilation_rate", 1) or 1, n)
    elif hasattr(layer, "pool_size"):
        kernel = _tuple(layer.pool_size, n)
        dilation = (1,) * n
    else:
        return None
    strides = getattr(layer, "strides", None)
    strides = kernel if strides is None and hasattr(layer, "pool_size") else _tuple(strides or 1, n)
    padding = getattr(layer, "padding", "valid")
    return kernel, strides, dilation, padding.lower() if isinstance(padding, str) else padding


def _spatial(shape, channels_first):
    dims = tuple(shape[1:])
    return dims[1:] if channels_first else dims[:-1]


def _apply(layer, field, in_shape):
    """The receptive field after ``layer`` given the field of its input tensor."""
    if field is None:
        return None
    name = type(layer).__name__
    if name.startswith(_GLOBAL) or "Transpose" in name or name.startswith("UpSampling"):
        return None  # sees everything, or the arithmetic above does not apply
    n = len(field.size)
    window = _window(layer, n)
    if window is None:
        return field._replace(layer=layer.name)
    kernel, strides, dilation, padding = window
    size, jump, start = [], [], []
    channels_first = (getattr(layer, "data_format", None) or config.image_data_format()) == "channels_first"
    lengths = _spatial(in_shape, channels_first) if in_shape is not None else (None,) * n
    for i in range(n):
        span = dilation[i] * (kernel[i] - 1)
        if padding == "same" and lengths[i] is not None:
            before = conv_utils.same_padding(lengths[i], kernel[i], strides[i], dilation[i])[0]
        elif padding == "same":
            before = span // 2
        elif padding == "causal":
            before = span
        else:
            before = 0
        size.append(field.size[i] + span * field.jump[i])
        jump.append(field.jump[i] * strides[i])
        start.append(field.start[i] + (span / 2 - before) * field.jump[i])
    return ReceptiveField(layer.name, tuple(size), tuple(jump), tuple(start))


def receptive_field(model, print_fn=None):
    """Per-layer receptive field size and output stride (jump) of a conv/pool model.

    Args:
        model: a Sequential or functional model whose input shape is known. Where branches merge
            (``Add``, ``Concatenate``) the largest field is kept.
        print_fn: optional callable (e.g. ``print``) that receives a formatted table, one line each.

    Returns:
        List of ``ReceptiveField(layer, size, jump, start)``, one per layer in order, sizes per
        spatial axis. For Keras's small MNIST convnet (seed 004) the third Conv2D sees 18x18 pixels
        with jump 4.
    """
    inputs = model_inputs(model)
    fields = {}
    for t in inputs:
        n = len(t.shape) - 2
        fields[id(t)] = ReceptiveField(t._keras_history[0].name, (1,) * n, (1,) * n, (0.0,) * n)
    rows = []
    nodes = getattr(model, "_nodes", None)
    if nodes is None:  # Sequential: a chain from its one input
        x = inputs[0]
        field = fields[id(x)]
        for layer in model.layers:
            if isinstance(layer, InputLayer):
                continue
            in_shape = x.shape
            field = _apply(layer, field, in_shape)
            rows.append(field if field is not None else ReceptiveField(layer.name, None, None, None))
            x = layer.output
        _print(rows, print_fn)
        return rows
    for node in nodes:
        ins = [fields.get(id(t)) for t in node.input_tensors]
        if any(f is None for f in ins):
            merged = None
        elif len(ins) == 1:
            merged = ins[0]
        else:  # a merge: the widest field, the coarsest grid
            merged = ReceptiveField(
                node.layer.name,
                tuple(max(v) for v in zip(*(f.size for f in ins))),
                tuple(max(v) for v in zip(*(f.jump for f in ins))),
                ins[0].start,
            )
        in_shape = node.input_tensors[0].shape if node.input_tensors else None
        field = (
            _apply(node.layer, merged, in_shape)
            if len(ins) == 1
            else (merged._replace(layer=node.layer.name) if merged is not None else None)
        )
        for t in node.output_tensors:
            fields[id(t)] = field
        rows.append(field if field is not None else ReceptiveField(node.layer.name, None, None, None))
    _print(rows, print_fn)
    return rows


def receptive_fields(model):
    """``{layer name: (size, jump)}`` with square fields as ints, e.g. ``{'conv2d_2': (18, 4)}``."""
    out = {}
    for row in receptive_field(model):
        if row.size is None:
            continue
        size = row.size[0] if len(set(row.size)) == 1 else "x".join(map(str, row.size))
        jump = row.jump[0] if len(set(row.jump)) == 1 else "x".join(map(str, row.jump))
        out[row.layer] = (size, jump)
    return out


def _print(rows, print_fn):
    if print_fn is None:
        return
    print_fn(f"{'Layer':<28}{'Receptive field':>16}{'Jump':>8}")
    for row in rows:
        if row.size is None:
            print_fn(f"{row.layer:<28}{'whole input':>16}{'-':>8}")
        else:
            print_fn(f"{row.layer:<28}{' x '.join(map(str, row.size)):>16}{' x '.join(map(str, row.jump)):>8}")


def output_size_table(input_size, kernel_size, padding=0, stride=1, dilation=1, print_fn=print):
    """Prints the seed-000 formula O = ((I - K + 2P)/S) + 1 filled in, one row per combination.

    Each argument is one value or a list; every combination gives a row, e.g.
    ``output_size_table(28, 3, 1, [1, 3])`` prints ``28 = ((28 - 3 + 2)/1) + 1`` and
    ``10 = ((28 - 3 + 2)/3) + 1``.

    Args:
        input_size: I, the input length.
        kernel_size: K, the kernel length (with ``dilation`` d the window covers d(K - 1) + 1).
        padding: P, zeros added on each side (int), or ``'valid'`` (0) or ``'same'`` (Keras's split;
            when the total is odd the extra zero goes after and the row says so).
        stride: S.
        dilation: dilation rate.
        print_fn: where rows go (default ``print``; None prints nothing).

    Returns:
        List of dicts with keys ``input``, ``kernel``, ``padding_total``, ``stride``, ``dilation``,
        ``output`` and ``text`` (the printed row).
    """

    def listify(v):
        return list(v) if isinstance(v, (list, tuple, range)) else [v]

    rows = []
    for i, k, p, s, d in itertools.product(
        listify(input_size), listify(kernel_size), listify(padding), listify(stride), listify(dilation)
    ):
        for name, value in (("input_size", i), ("kernel_size", k), ("stride", s), ("dilation", d)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f"Invalid value for argument `{name}`. Expected a strictly positive integer. "
                    f"Received {name}={value!r}."
                )
        k_eff = conv_utils.effective_kernel_size(k, d)
        note = ""
        if isinstance(p, str):
            mode = conv_utils.normalize_padding(p)
            if mode == "valid":
                total = 0
            else:
                before, after = conv_utils.same_padding(i, k, s, d)
                total = before + after
                if before != after:
                    note = f"   (padding='same': {before} before, {after} after)"
        elif isinstance(p, bool) or not isinstance(p, int) or p < 0:
            raise ValueError(
                "Invalid value for argument `padding`. Expected a non-negative integer, 'valid' or "
                f"'same'. Received padding={p!r}."
            )
        else:
            total = 2 * p
        if i + total < k_eff:
            raise ValueError(
                f"The kernel ({k_eff} pixels with dilation) is larger than the padded input "
                f"({i} + {total}); no output. Received input_size={i}, kernel_size={k}, padding={p!r}."
            )
        output = (i - k_eff + total) // s + 1
        kernel_text = f"{k_eff}" if d == 1 else f"{k_eff}"
        text = f"{output} = (({i} - {kernel_text} + {total})/{s}) + 1{note}"
        rows.append(
            {
                "input": i,
                "kernel": k,
                "padding_total": total,
                "stride": s,
                "dilation": d,
                "output": output,
                "text": text,
            }
        )
        if print_fn is not None:
            print_fn(text)
    return rows
