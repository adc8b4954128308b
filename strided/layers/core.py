"""Core layers: Dense, Activation, Lambda, Identity."""
import torch.nn.functional as F

from strided.layers import _util
from strided.layers.base import Layer
from strided.utils import validation


class Dense(_util.SpecLayer):
    """Densely-connected layer: ``output = activation(dot(input, kernel) + bias)``.

    Args:
        units: positive integer, dimensionality of the output space.
        activation: activation function or name (default: none, i.e. linear).
        use_bias: whether the layer uses a bias vector.
        kernel_initializer, bias_initializer: initializers (default 'glorot_uniform', 'zeros').
        kernel_regularizer, bias_regularizer, activity_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape: ``(batch, ..., input_dim)``. Output shape: ``(batch, ..., units)``.
    The kernel is ``(input_dim, units)`` in ``get_weights`` (stored ``(units, input_dim)`` for F.linear).
    """

    _spec_min_ndim = 2

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 lora_alpha=None, **kwargs):
        self.units = validation.positive_int(units, "units")
        self.activation = _util.get_activation(activation)
        self.use_bias = validation.boolean(use_bias, "use_bias")
        self.kernel_initializer = _util.get("initializers", kernel_initializer, "kernel_initializer")
        self.bias_initializer = _util.get("initializers", bias_initializer, "bias_initializer")
        self.kernel_regularizer = _util.get("regularizers", kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = _util.get("regularizers", bias_regularizer, "bias_regularizer")
        self.kernel_constraint = _util.get("constraints", kernel_constraint, "kernel_constraint")
        self.bias_constraint = _util.get("constraints", bias_constraint, "bias_constraint")
        self.lora_rank = None if lora_rank is None else validation.positive_int(lora_rank, "lora_rank")
        self.lora_alpha = lora_alpha if lora_alpha is not None else self.lora_rank
        self.lora_enabled = False
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"The last dimension of the input of Dense layer '{self.name}' must be known. "
                             f"Received input_shape={tuple(input_shape)}")
        self.kernel = self.add_weight(shape=(input_dim, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel", torch_layout=(1, 0))
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        name="bias")
        else:
            self.bias = None
        self._built_axes = {-1: int(input_dim)}
        super().build(input_shape)
        if self.lora_rank:
            self.enable_lora(self.lora_rank, self.lora_alpha)

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"):
        """Freezes the kernel and learns a low-rank update ``(lora_alpha / rank) * A @ B`` instead (LoRA).

        ``A`` is ``(input_dim, rank)`` (He-uniform), ``B`` is ``(rank, units)`` (zeros, so the layer starts
        unchanged); only they and the bias train. Saved files hold the merged kernel, as Keras's do.

        Args:
            rank: the rank of the update (a positive int, much smaller than the kernel's dimensions).
            lora_alpha: scale numerator (default ``rank``: scale 1).
            a_initializer, b_initializer: initializers of ``A`` and ``B``.
        """
        self.lora_rank, self.lora_alpha, self.lora_enabled = _lora_setup(self, rank, lora_alpha)
        self.lora_kernel_a = self.add_weight(shape=(self.kernel.shape[1], rank),
                                             initializer=_util.get("initializers", a_initializer, "a_initializer"),
                                             regularizer=self.kernel_regularizer, name="lora_kernel_a")
        self.lora_kernel_b = self.add_weight(shape=(rank, self.units),
                                             initializer=_util.get("initializers", b_initializer, "b_initializer"),
                                             regularizer=self.kernel_regularizer, name="lora_kernel_b")

    def _merged_kernel(self):
        """The kernel in use, LoRA update included (torch layout ``(units, input_dim)``)."""
        if not self.lora_enabled:
            return self.kernel
        scale = self.lora_alpha / self.lora_rank
        return self.kernel + scale * (self.lora_kernel_a @ self.lora_kernel_b).t()

    def call(self, inputs):
        x = _util.cast_like(inputs, self.kernel)
        if not self.lora_enabled:
            return self.activation(F.linear(x, self.kernel, self.bias))
        # The frozen product plus the low-rank path: cheaper than merging (input_dim x units) every step.
        update = (x @ self.lora_kernel_a) @ self.lora_kernel_b
        return self.activation(F.linear(x, self.kernel, self.bias) + (self.lora_alpha / self.lora_rank) * update)

    # Files hold the merged kernel (and the bias), as Keras's do; loading resets the update to zero.
    def _saved_arrays(self):
        import torch
        with torch.no_grad():
            arrays = [self._merged_kernel().t().detach().cpu().numpy().copy()]
        return arrays + ([self.bias.detach().cpu().numpy().copy()] if self.bias is not None else [])

    def _load_saved_arrays(self, arrays):
        _load_merged(self, arrays)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": _util.serialize_activation(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _util.serialize("initializers", self.kernel_initializer),
            "bias_initializer": _util.serialize("initializers", self.bias_initializer),
            "kernel_regularizer": _util.serialize("regularizers", self.kernel_regularizer),
            "bias_regularizer": _util.serialize("regularizers", self.bias_regularizer),
            "activity_regularizer": _util.serialize("regularizers", self.activity_regularizer),
            "kernel_constraint": _util.serialize("constraints", self.kernel_constraint),
            "bias_constraint": _util.serialize("constraints", self.bias_constraint),
        })
        if self.lora_rank:
            config.update({"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha})
        return config


def _lora_setup(layer, rank, lora_alpha):
    """Keras's checks for ``enable_lora``; freezes the kernel; returns (rank, alpha, enabled)."""
    if layer.kernel_constraint:
        raise ValueError("Lora is incompatible with kernel constraints. In order to enable lora on this layer, "
                         "remove the `kernel_constraint` argument.")
    if not layer.built:
        raise ValueError("Cannot enable lora on a layer that isn't yet built.")
    if layer.lora_enabled:
        raise ValueError("lora is already enabled. This can only be done once per layer.")
    rank = validation.positive_int(rank, "rank")
    layer.kernel._keras_frozen = True  # stays first in `weights` (Keras's order), leaves `trainable_weights`
    layer.kernel.requires_grad_(False)
    layer._step_weights = None
    return rank, (lora_alpha if lora_alpha is not None else rank), True


def _load_merged(layer, arrays):
    """Loads a saved [kernel, bias]: the kernel takes the (merged) values, the LoRA update restarts at 0."""
    import numpy as np
    import torch
    params = [layer.kernel] + ([layer.bias] if layer.bias is not None else [])
    with torch.no_grad():
        for p, value in zip(params, arrays):
            t = torch.as_tensor(np.asarray(value), dtype=p.dtype, device=p.device)
            layout = getattr(p, "_keras_layout", None)
            p.copy_(t.permute(*np.argsort(layout)) if layout else t)
        if layer.lora_enabled:
            layer.lora_kernel_a.zero_()
            layer.lora_kernel_b.zero_()


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: activation function or name, e.g. ``'relu'`` or ``strided.ops.relu``.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _util.get_activation(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        config = super().get_config()
        config["activation"] = _util.serialize_activation(self.activation)
        return config


class Lambda(Layer):
    """Wraps an arbitrary function of tensors as a layer.

    Args:
        function: the function to apply, ``function(inputs, **arguments)``.
        output_shape: ignored (shapes are inferred); accepted for Keras compatibility.
        mask: ignored; accepted for Keras compatibility.
        arguments: optional dict of keyword arguments passed to ``function``.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        if not callable(function):
            raise TypeError(f"Invalid type for argument `function`. Expected a callable. Received "
                            f"function={function!r}.")
        super().__init__(**kwargs)
        self.function = function
        self.output_shape_arg = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def get_config(self):
        # The function object itself: a Lambda config round-trips in-process (Keras pickles bytecode).
        config = super().get_config()
        config.update({"function": self.function, "output_shape": self.output_shape_arg, "mask": self.mask,
                       "arguments": self.arguments})
        return config


class Identity(Layer):
    """Returns its input unchanged (a placeholder layer)."""

    def call(self, inputs):
        return inputs
