"""Merging layers: combine a list of tensors (Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot) and their functional forms (``add([x, y])``, ``concatenate([x, y])``...)."""

import functools

import torch
import torch.nn.functional as F

from strided.layers import _util
from strided.layers.base import Layer
from strided.utils import validation


def _shapes_list(layer, shape, minimum=2):
    if not isinstance(shape, (list, tuple)) or not shape or not isinstance(shape[0], (tuple, list)):
        raise ValueError(
            f"A merge layer ('{layer.name}', {type(layer).__name__}) should be called on a list of "
            f"inputs. Received: input_shape={shape}"
        )
    if len(shape) < minimum:
        raise ValueError(
            f"A merge layer ('{layer.name}', {type(layer).__name__}) should be called on a list of "
            f"at least {minimum} inputs. Got {len(shape)} inputs. Received: input_shape={list(shape)}"
        )
    return [tuple(s) for s in shape]


# The text the elementwise merges share, written once; each class adds its summary and its example's result.
_ELEMENTWISE_DOC = """Args:
    **kwargs: the standard layer arguments (``name``, ``dtype``, ``trainable``).

Input shape:
    A list of {{count}} tensors of the same shape (or shapes that broadcast).

Output shape:
    The shape of the inputs.

Example:

>>> x1 = np.array([[1.0, 5.0]], dtype="float32")
>>> x2 = np.array([[4.0, 2.0]], dtype="float32")
>>> keras.layers.{{name}}()([x1, x2]).numpy().tolist()
{{result}}
>>> a, b = keras.Input((16,)), keras.Input((16,))
>>> keras.layers.{{name}}()([a, b]).shape
(None, 16)"""


def _elementwise_doc(result, count="at least two"):
    return _util.document_family(_ELEMENTWISE_DOC, name=lambda cls: cls.__name__, result=result, count=count)


def _check_mask_list(inputs, mask):
    """Keras's check of a merge layer's ``compute_mask`` arguments: two lists of the same length."""
    if not isinstance(mask, (list, tuple)):
        raise ValueError(f"`mask` should be a list. Received: mask={mask}")
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
    if len(mask) != len(inputs):
        raise ValueError(
            f"The lists `inputs` and `mask` should have the same length. Received: inputs of "
            f"length {len(inputs)}, and mask={mask} of length {len(mask)}"
        )


class _Merge(Layer):
    """Elementwise merge; shapes must be equal or broadcastable (batch axis included).

    Masks (Keras's base merge): the output mask is the OR of the input masks when every input has one.
    """

    supports_masking = True

    def check_input(self, shape):
        shapes = _shapes_list(self, shape)
        try:
            torch.broadcast_shapes(*[tuple(1 if d is None else d for d in s) for s in shapes])
        except RuntimeError:
            raise ValueError(
                f"Inputs of layer '{self.name}' ({type(self).__name__}) have incompatible shapes "
                f"for an elementwise merge: {shapes}"
            ) from None

    def _check_build_shape(self, input_shape):
        self.check_input(input_shape)

    def call(self, inputs):
        return functools.reduce(self._merge, list(inputs))

    def _merge(self, a, b):
        raise NotImplementedError

    def compute_mask(self, inputs, mask=None):
        """The OR of the inputs' masks; None unless every input is masked."""
        if mask is None:
            return None
        _check_mask_list(inputs, mask)
        if any(m is None for m in mask):
            return None
        return functools.reduce(torch.logical_or, [torch.as_tensor(m).to(torch.bool) for m in mask])

    def _merge_masked(self, op, inputs):
        """Keras's ``_apply_merge_op_and_or_mask``: ``op`` over the inputs where a masked entry takes the value
        of the other operand, so masked steps never win; the OR of the masks is attached when all have one."""
        output = output_mask = None
        for x in inputs:
            mask = getattr(x, "_keras_mask", None)
            if mask is not None:
                mask = torch.as_tensor(mask, device=x.device).to(torch.bool).unsqueeze(-1).expand(x.shape)
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = torch.where(mask, x, output)
            if output_mask is not None:
                output = torch.where(output_mask, output, x)
            output_mask = output_mask | mask if mask is not None and output_mask is not None else None
            output = op(output, x)
        if output_mask is not None and not output.is_meta:
            output._keras_mask = output_mask.any(dim=-1)
        return output


class _MaskedMerge(_Merge):
    """A merge in which a masked entry never wins against an unmasked one (Maximum, Minimum)."""

    def call(self, inputs):
        if all(getattr(x, "_keras_mask", None) is None for x in inputs):
            return super().call(inputs)
        return self._merge_masked(self._merge, list(inputs))


@_elementwise_doc(result="[[5.0, 7.0]]")
class Add(_Merge):
    """Adds a list of inputs elementwise: ``Add()([x1, x2, ...])``."""

    def _merge(self, a, b):
        return a + b


@_elementwise_doc(result="[[-3.0, 3.0]]", count="two")
class Subtract(_Merge):
    """Subtracts two inputs: ``Subtract()([x1, x2])`` is ``x1 - x2``."""

    def check_input(self, shape):
        super().check_input(shape)
        if len(shape) != 2:
            raise ValueError(
                f"A `Subtract` layer ('{self.name}') should be called on exactly 2 inputs. "
                f"Received: input_shape={list(shape)}"
            )

    def _merge(self, a, b):
        return a - b


@_elementwise_doc(result="[[4.0, 10.0]]")
class Multiply(_Merge):
    """Multiplies a list of inputs elementwise; masked entries count as 1 in the product (Keras), and when every
    input has a mask, the output is 0 where all of them are masked and carries the OR of the masks.
    """

    def call(self, inputs):
        inputs = list(inputs)
        masks = [getattr(x, "_keras_mask", None) for x in inputs]
        if all(m is None for m in masks):
            return functools.reduce(self._merge, inputs)
        all_masked = all(m is not None for m in masks)
        output = output_mask = None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = torch.as_tensor(mask, device=x.device).to(torch.bool).unsqueeze(-1).expand(x.shape)
                x = torch.where(mask, x, torch.ones((), dtype=x.dtype, device=x.device))
                if all_masked:
                    output_mask = mask if output_mask is None else output_mask | mask
            output = x if output is None else output * x
        if all_masked:
            output = torch.where(output_mask, output, torch.zeros((), dtype=output.dtype, device=output.device))
            if not output.is_meta:
                output._keras_mask = output_mask.any(dim=-1)
        return output

    def _merge(self, a, b):
        return a * b


@_elementwise_doc(result="[[2.5, 3.5]]")
class Average(_Merge):
    """Averages a list of inputs elementwise."""

    def call(self, inputs):
        inputs = list(inputs)
        return functools.reduce(torch.add, inputs) / len(inputs)


@_elementwise_doc(result="[[4.0, 5.0]]")
class Maximum(_MaskedMerge):
    """Elementwise maximum of a list of inputs (a masked entry never wins against an unmasked one)."""

    _merge = staticmethod(torch.maximum)


@_elementwise_doc(result="[[1.0, 2.0]]")
class Minimum(_MaskedMerge):
    """Elementwise minimum of a list of inputs (a masked entry never wins against an unmasked one)."""

    _merge = staticmethod(torch.minimum)


class Concatenate(Layer):
    """Concatenates a list of inputs along ``axis``; the other axes must match.

    Args:
        axis: concatenation axis (default -1, the channels of channels_last data).

    Masks (Keras): when any input is masked, the output mask is the concatenation of the inputs' masks
    (all True for an unmasked input), reduced with ``any`` over the last axis.

    Input shape:
        A list of tensors with the same shape except along ``axis``.

    Output shape:
        The common shape, with the sizes along ``axis`` summed.

    Example:

    >>> x1 = np.zeros((2, 4, 4, 3), dtype="float32")
    >>> x2 = np.ones((2, 4, 4, 5), dtype="float32")
    >>> tuple(keras.layers.Concatenate()([x1, x2]).shape)
    (2, 4, 4, 8)
    >>> keras.layers.Concatenate(axis=1)([np.array([[1.0, 2.0]]), np.array([[3.0]])]).numpy().tolist()
    [[1.0, 2.0, 3.0]]
    """

    supports_masking = True

    _config_keys = ("axis",)

    def __init__(self, axis=-1, **kwargs):
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"Invalid type for argument `axis`. Expected an integer. Received: axis={axis!r}")
        super().__init__(**kwargs)
        self.axis = axis

    def check_input(self, shape):
        shapes = _shapes_list(self, shape, minimum=1)
        ranks = {len(s) for s in shapes}
        ok = len(ranks) == 1
        if ok:
            rank = ranks.pop()
            ok = -rank <= self.axis < rank
            if ok:
                axis = self.axis % rank
                for i in range(rank):
                    sizes = {s[i] for s in shapes if s[i] is not None}
                    if i != axis and len(sizes) > 1:
                        ok = False
        if not ok:
            raise ValueError(
                "A `Concatenate` layer requires inputs with matching shapes except for the concatenation "
                f"axis. Received: input_shape={shapes}, axis={self.axis} (layer '{self.name}')"
            )

    def _check_build_shape(self, input_shape):
        self.check_input(input_shape)

    def call(self, inputs):
        return torch.cat(list(inputs), dim=self.axis)

    def compute_mask(self, inputs, mask=None):
        """The inputs' masks broadcast to their inputs' shapes, concatenated, then ``any`` over the last axis."""
        if mask is None:
            return None
        _check_mask_list(inputs, mask)
        if all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                full.append(torch.ones(x.shape, dtype=torch.bool, device=x.device))
                continue
            m = torch.as_tensor(m, device=x.device).to(torch.bool)
            full.append(m.unsqueeze(-1).expand(x.shape) if m.ndim < x.ndim else m)
        return torch.cat(full, dim=self.axis).any(dim=-1)


class Dot(Layer):
    """Dot product of two inputs along ``axes``, sample by sample.

    Args:
        axes: int or pair of ints, the axis of each input summed over (axis 0, the batch, is not allowed).
        normalize: if True, L2-normalize both inputs along ``axes`` first (the result is the cosine similarity).

    The output carries no mask.

    Input shape:
        A list of two tensors ``x1`` and ``x2`` whose sizes along the summed axes agree, e.g. ``(batch, n)`` and
        ``(batch, n)``, or ``(batch, m, n)`` and ``(batch, n, k)`` with ``axes=(2, 1)``.

    Output shape:
        The remaining axes of ``x1`` then of ``x2``, after the batch axis: ``(batch, 1)`` for two ``(batch, n)``
        inputs, ``(batch, m, k)`` in the second case.

    Example:

    >>> x = np.array([[1.0, 2.0, 3.0]], dtype="float32")
    >>> y = np.array([[4.0, 5.0, 6.0]], dtype="float32")
    >>> keras.layers.Dot(axes=1)([x, y]).numpy().tolist()
    [[32.0]]
    >>> round(float(keras.layers.Dot(axes=1, normalize=True)([x, y])[0, 0]), 4)  # cosine similarity
    0.9746
    >>> tuple(keras.layers.Dot(axes=(2, 1))([np.ones((2, 3, 4)), np.ones((2, 4, 5))]).shape)
    (2, 3, 5)
    """

    supports_masking = True

    _config_keys = ("axes", "normalize")

    def __init__(self, axes, normalize=False, **kwargs):
        pair = tuple(axes) if isinstance(axes, (list, tuple)) else (axes, axes)
        if len(pair) != 2 or any(isinstance(a, bool) or not isinstance(a, int) for a in pair):
            raise TypeError(
                f"Invalid type for argument `axes`. Expected an int or a list of 2 ints. Received: axes={axes!r}"
            )
        super().__init__(**kwargs)
        self.axes = axes if isinstance(axes, int) else tuple(axes)
        self._pair = pair
        self.normalize = validation.boolean(normalize, "normalize")

    def _resolved(self, shapes):
        return [a % len(s) for a, s in zip(self._pair, shapes)]

    def check_input(self, shape):
        shapes = _shapes_list(self, shape)
        if len(shapes) != 2:
            raise ValueError(
                f"A `Dot` layer ('{self.name}') should be called on exactly 2 inputs. Received: input_shape={shapes}"
            )
        ax = self._resolved(shapes)
        if 0 in ax or shapes[0][ax[0]] != shapes[1][ax[1]] and None not in (shapes[0][ax[0]], shapes[1][ax[1]]):
            raise ValueError(
                f"Incompatible input shapes for layer '{self.name}': axis values {shapes[0][ax[0]]} "
                f"(axis {ax[0]}) != {shapes[1][ax[1]]} (axis {ax[1]}). Received: input_shape={shapes}, "
                f"axes={self.axes}"
            )

    def _check_build_shape(self, input_shape):
        self.check_input(input_shape)

    def call(self, inputs):
        x, y = inputs
        ax, ay = self._resolved([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x = F.normalize(x, dim=ax, eps=1e-12)
            y = F.normalize(y, dim=ay, eps=1e-12)
        x = x.movedim(ax, -1)
        y = y.movedim(ay, 1)
        b, k = x.shape[0], x.shape[-1]
        rest_x, rest_y = x.shape[1:-1], y.shape[2:]
        out = torch.bmm(x.reshape(b, -1, k), y.reshape(b, k, -1)).reshape(b, *rest_x, *rest_y)
        return out.unsqueeze(-1) if out.ndim == 1 else out

    def compute_mask(self, inputs, mask=None):
        """None (Keras): the product has no time axis to mask."""
        return None


def _functional_form(layer_class):
    """The function ``name(inputs, **kwargs)`` that builds a ``layer_class(**kwargs)`` and calls it on ``inputs``."""

    def merge(inputs, **kwargs):
        return layer_class(**kwargs)(inputs)

    merge.__name__ = merge.__qualname__ = layer_class.__name__.lower()
    merge.__doc__ = f"Functional form of ``{layer_class.__name__}``: ``{merge.__name__}([x1, x2])``."
    return merge


add, subtract, multiply = _functional_form(Add), _functional_form(Subtract), _functional_form(Multiply)
average, maximum, minimum = _functional_form(Average), _functional_form(Maximum), _functional_form(Minimum)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of ``Concatenate``: ``concatenate([x1, x2], axis=-1)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Functional form of ``Dot``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
