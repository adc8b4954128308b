"""Helpers shared by the layer families: activation lookup, weight options, input checks, argument normalization,
docstring templates."""

import inspect
import numbers
import textwrap

from strided.layers.base import Layer
from strided.utils import conv_utils
from strided.utils.docstrings import fill_doc
from strided import config
from strided import activations, constraints, initializers, regularizers


# ---------------------------------------------------------------- registries

# The registries a layer argument is looked up in, by the name the layers pass.
_REGISTRIES = {"initializers": initializers, "regularizers": regularizers, "constraints": constraints}


def get_activation(identifier, arg_name="activation"):
    """``None``/name/callable -> callable (``None`` is the identity, as in Keras)."""
    try:
        fn = activations.get(identifier)
    except (ValueError, TypeError) as e:  # the message names the layer argument, not `identifier`
        raise type(e)(f"{e} Received: {arg_name}={identifier!r}") from None
    return fn if fn is not None else activations.get("linear")


def serialize_activation(fn):
    return activations.serialize(fn)


def serialize(kind, obj):
    """``initializers``/``regularizers``/``constraints`` serialize by registry name."""
    return _REGISTRIES[kind].serialize(obj)


def get(kind, identifier, arg_name):
    return _REGISTRIES[kind].get(identifier, arg_name)


# Keras gives each weight three arguments: `{part}_initializer`, `{part}_regularizer`, `{part}_constraint`.
_WEIGHT_OPTIONS = (("initializer", "initializers"), ("regularizer", "regularizers"), ("constraint", "constraints"))


def set_weight_options(layer, part, initializer, regularizer, constraint):
    """Sets ``layer.{part}_initializer``, ``{part}_regularizer`` and ``{part}_constraint``, each looked up."""
    for (option, kind), value in zip(_WEIGHT_OPTIONS, (initializer, regularizer, constraint)):
        setattr(layer, f"{part}_{option}", get(kind, value, f"{part}_{option}"))


def set_weight_options_from(layer, arguments, *parts):
    """``set_weight_options`` for each of ``parts``, its three options read from a constructor's named arguments
    (``arguments["kernel_initializer"]``...: ``locals()`` or ``general_utils.named_arguments``)."""
    for part in parts:
        set_weight_options(layer, part, *(arguments[f"{part}_{option}"] for option, _ in _WEIGHT_OPTIONS))


def weight_options_config(layer, *parts, activity=True):
    """The config entries of ``set_weight_options`` for ``parts`` (and ``activity_regularizer``), in Keras's order
    (initializers, regularizers, constraints)."""
    config = {}
    for option, kind in _WEIGHT_OPTIONS:
        for part in parts:
            config[f"{part}_{option}"] = serialize(kind, getattr(layer, f"{part}_{option}"))
        if option == "regularizer" and activity:
            config["activity_regularizer"] = serialize(kind, layer.activity_regularizer)
    return config


def add_weight_with_options(layer, part, shape, name=None, **kwargs):
    """``layer.add_weight`` with the layer's ``{part}_initializer``, ``{part}_regularizer`` and ``{part}_constraint``."""
    return layer.add_weight(
        shape=shape,
        initializer=getattr(layer, f"{part}_initializer"),
        regularizer=getattr(layer, f"{part}_regularizer"),
        constraint=getattr(layer, f"{part}_constraint"),
        name=name or part,
        **kwargs,
    )


def add_bias(layer, size, name="bias"):
    """The ``(size,)`` bias from the layer's ``bias_*`` options when ``layer.use_bias``, else None."""
    return add_weight_with_options(layer, "bias", (size,), name=name) if layer.use_bias else None


# ---------------------------------------------------------------- arguments


def standardize_padding(padding, allow_causal=False):
    return conv_utils.normalize_padding(padding, allow_causal=allow_causal)


def standardize_data_format(data_format):
    return conv_utils.normalize_data_format(data_format)


def rate(value, name="rate"):
    """A probability in [0, 1] (Keras's check for dropout rates)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected a float value between 0 and 1. Received: {name}={value!r}"
        )
    if not 0 <= value <= 1:
        raise ValueError(
            f"Invalid value received for argument `{name}`. Expected a float value between 0 and 1. "
            f"Received: {name}={value}"
        )
    return float(value)


def axis_arg(value, name="axis"):
    if isinstance(value, (list, tuple)):
        return [axis_arg(v, name) for v in value]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected an integer or a list of integers. Received: {name}={value!r}"
        )
    return int(value)


# ---------------------------------------------------------------- input checks


def check_spec(layer, shape, ndim=None, min_ndim=None, max_ndim=None, axes=None):
    """Keras InputSpec check: raises a ValueError naming the layer, the expectation and the full shape."""
    if not isinstance(shape, tuple) or (shape and isinstance(shape[0], tuple)):
        if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (tuple, list)):
            raise ValueError(
                f'Layer "{layer.name}" expects 1 input, but it received {len(shape)} input tensors. '
                f"Received input shapes: {list(shape)}"
            )
        return
    rank = len(shape)
    head = f'Input 0 of layer "{layer.name}" is incompatible with the layer: '
    if ndim is not None and rank != ndim:
        raise ValueError(head + f"expected ndim={ndim}, found ndim={rank}. Full shape received: {shape}")
    if min_ndim is not None and rank < min_ndim:
        raise ValueError(head + f"expected min_ndim={min_ndim}, found ndim={rank}. Full shape received: {shape}")
    if max_ndim is not None and rank > max_ndim:
        raise ValueError(head + f"expected max_ndim={max_ndim}, found ndim={rank}. Full shape received: {shape}")
    for axis, size in (axes or {}).items():
        if size is None or -rank > axis or axis >= rank:
            continue
        got = shape[axis]
        if got is not None and got != size:
            raise ValueError(
                head + f"expected axis {axis} of input shape to have value {size}, but received "
                f"input with shape {shape}"
            )


class SpecLayer(Layer):
    """A single-input layer with a Keras ``InputSpec``-like check (rank; axis sizes fixed at build)."""

    _spec_ndim = None
    _spec_min_ndim = None
    _spec_max_ndim = None

    def _spec_axes(self):
        return getattr(self, "_built_axes", None)

    def _check_build_shape(self, input_shape):
        check_spec(
            self,
            tuple(input_shape)
            if isinstance(input_shape, (tuple, list))
            and not (input_shape and isinstance(input_shape[0], (tuple, list)))
            else input_shape,
            self._spec_ndim,
            self._spec_min_ndim,
            self._spec_max_ndim,
        )

    def check_input(self, shape):
        check_spec(self, shape, self._spec_ndim, self._spec_min_ndim, self._spec_max_ndim, self._spec_axes())


def cast_like(x, weight):
    """Layers compute in their weights' dtype and device, as Keras layers autocast their inputs."""
    if x.dtype != weight.dtype or x.device != weight.device:
        if x.is_meta or weight.is_meta:
            return x.to(dtype=weight.dtype)
        return x.to(device=weight.device, dtype=weight.dtype)
    return x


def cast_float(x, dtype_name):
    """Integer/other-float inputs -> the layer's float dtype (weightless layers)."""
    dtype = config.torch_dtype(dtype_name)
    return x if x.dtype == dtype else x.to(dtype)


def meta_weights(x, *weights):
    """During shape inference (meta-device inputs) hand the ops meta copies of the weights.

    ``ops._kernels`` moves the input to the weight's device, which a meta tensor cannot do.
    """
    if getattr(x, "is_meta", False):
        return tuple(None if w is None else w.detach().to("meta") for w in weights)
    return weights


# ---------------------------------------------------------------- docstrings of the 1D/2D/3D families

_SPATIAL_AXES = {None: "*spatial", 1: "steps", 2: "height, width", 3: "dim1, dim2, dim3"}


def wrap_doc(text, indent="    "):
    """One docstring paragraph wrapped to 112 columns, its later lines indented by ``indent`` (an argument's)."""
    return textwrap.fill(text, width=112, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def ints_doc(rank):
    """``"1 int"``, ``"2 ints"``..., or ``"``rank`` ints"`` for a base class whose rank is an argument."""
    return "``rank`` ints" if rank is None else ("1 int" if rank == 1 else f"{rank} ints")


def spatial_axes_doc(rank, new=False):
    """The spatial axes' names for ``rank`` (``None``: any): ``height, width``, or ``new_height, new_width``."""
    axes = _SPATIAL_AXES[rank].split(", ")
    return ", ".join(("*new_" + axis[1:] if axis.startswith("*") else "new_" + axis) if new else axis for axis in axes)


def spatial_shape_doc(rank, channels="channels", axes=None, note=""):
    """The ``Input shape``/``Output shape`` text of a tensor with ``rank`` spatial axes (``None``: any) in both data
    formats, the spatial axes shown as ``axes`` (default: their names)."""
    axes = axes or spatial_axes_doc(rank)
    tensor = "" if rank is None else f"{rank + 2}D tensor "
    per_rank = "; ``rank`` spatial axes" if rank is None else ""
    return wrap_doc(
        f'{tensor}``(batch, {axes}, {channels})`` with ``data_format="channels_last"`` (the default), or '
        f'``(batch, {channels}, {axes})`` with ``"channels_first"``{per_rank}{note}.',
        indent="",
    )


# Docstring sections that many layers share word for word: a class writes ``{{same_shape}}`` where the section goes
# and is decorated with ``shared_doc``.
DOC_SECTIONS = {
    "same_shape": """Input shape:
    Any shape. Use the keyword argument ``input_shape`` (tuple of integers, not including the batch axis) when this
    layer is the first in a model.

Output shape:
    Same shape as the input."""
}


def shared_doc(cls=None, **sections):
    """Class decorator: fills the fields of the class's docstring from ``DOC_SECTIONS`` (e.g. ``{{same_shape}}``) and
    from ``sections`` (a module's own shared text): ``@shared_doc`` or ``@shared_doc(name=text)``."""
    if cls is None:
        return lambda cls: shared_doc(cls, **sections)
    doc = fill_doc(cls.__doc__, **DOC_SECTIONS, **sections)
    cls.__doc__ = "\n".join(line.rstrip() for line in doc.split("\n"))
    return cls


def document_family(template, example=None, **fields):
    """Class decorator for a family of classes whose docstrings say the same with a few words changed (the 1D/2D/3D
    families, the elementwise merges).

    The class's docstring becomes its own first paragraph (the summary), then ``template`` filled in for the class,
    then the rest of its own docstring (its Example, and any section of its own). The fields are ``{{ints}}`` and
    ``{{input_shape}}`` (from the class's ``rank``, if any) and ``fields``, each a value or a function of the class.
    ``example``, a function of the class, writes the Example section of a family whose examples differ only by the
    class (its doctest lines, added last).
    """

    def document(cls):
        summary, _, own = inspect.cleandoc(cls.__doc__).partition("\n\n")
        rank = getattr(cls, "rank", None)  # the spatial fields serve the 1D/2D/3D families
        values = {"ints": ints_doc(rank), "input_shape": spatial_shape_doc(rank)}
        values.update({name: value(cls) if callable(value) else value for name, value in fields.items()})
        examples = "Example:\n\n" + example(cls) if example else ""
        doc = "\n\n".join(part for part in (summary, fill_doc(template, **values), own, examples) if part)
        cls.__doc__ = "\n".join(line.rstrip() for line in doc.split("\n"))  # no indented blank lines
        return cls

    return document
