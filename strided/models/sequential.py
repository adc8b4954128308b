"""Sequential: a plain stack of layers, each with one input and one output."""

import numpy as np
import torch

from strided.backend.name_scope import name_scope_of, unique_name
from strided.layers.base import Layer
from strided.saving.serialization_lib import _shape_json, deserialize_layer, serialize_layer
from strided.layers.input_layer import InputLayer
from strided.backend.keras_tensor import KerasTensor
from strided.models.model import Model
from strided.training.trainer import Trainer


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: optional list of layers (an ``Input(...)`` may come first).
        name: model name (default ``sequential``, ``sequential_1``...).
        trainable: whether the model's weights are trained.

    Shapes are known, and ``model.layers[i].output`` exists, as soon as the input shape is: from an
    ``Input``, from ``input_shape=`` on the first layer, or from the first call or fit.
    """

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name or unique_name("sequential"), trainable=trainable, **kwargs)
        Trainer.__init__(self)
        self._stack = torch.nn.ModuleList()
        self._input_layer = None
        self._graph_output = None
        for layer in layers or []:
            self.add(layer)

    @classmethod
    def _default_name(cls):
        return "sequential"

    def add(self, layer, rebuild=True, **kwargs):
        """Adds a layer on top of the stack."""
        if kwargs:
            # Seed 000 writes `model.add(Conv2D(...), padding='same')`: the argument belongs to the layer.
            args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
            raise TypeError(
                f"Sequential.add() takes only a layer, but it also received {args}. Layer arguments go "
                f"inside the layer's parentheses: model.add(Conv2D(10, kernel_size=3, {args}))."
            )
        if isinstance(layer, KerasTensor):
            source = layer._keras_history[0]
            if isinstance(source, InputLayer):
                layer = source
        if not isinstance(layer, Layer):
            raise TypeError(
                "Only instances of `strided.layers.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or len(self._stack):
                raise ValueError(
                    f"Sequential model '{self.name}' already has an input; an InputLayer must come first and only once."
                )
            self._input_layer = layer
            self._graph_output = layer.output
            return
        self.__dict__.pop("_plan", None)
        self.__dict__.pop("_checked_signatures", None)
        if any(existing is layer for existing in self._stack):
            raise ValueError(f"Layer '{layer.name}' is already in Sequential model '{self.name}'.")
        if any(existing.name == layer.name for existing in self._stack):
            # Keras's rule: the saved file keys weights by layer name, so a duplicate would not load back.
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model. Update the `name` "
                "argument to pass a unique name."
            )
        self._stack.append(layer)
        if self._graph_output is None and len(self._stack) == 1 and layer._batch_input_shape is not None:
            self._input_layer = InputLayer(batch_shape=layer._batch_input_shape, dtype=layer.dtype)
            self._graph_output = self._input_layer.output
        if self._graph_output is not None:
            with name_scope_of(self):  # as Keras: the layer's weights are 'sequential/<layer>/<weight>'
                self._graph_output = layer(self._graph_output)
            self.built = True

    def pop(self):
        """Removes the last layer."""
        if not len(self._stack):
            raise TypeError("There are no layers in the model.")
        layer = self._stack[-1]
        del self._stack[-1]
        self.__dict__.pop("_plan", None)
        self.__dict__.pop("_checked_signatures", None)
        if self._input_layer is not None:
            self._graph_output = (
                self._stack[-1]._inbound_nodes[-1].outputs if len(self._stack) else self._input_layer.output
            )
        return layer

    @property
    def layers(self):
        return list(self._stack)

    def _sublayers(self):
        return list(self._stack)

    def build(self, input_shape=None):
        """Builds the layers for ``input_shape`` (batch dimension included, e.g. ``(None, 28, 28, 1)``)."""
        if self._input_layer is not None:
            self.built = True
            return
        if input_shape is None:
            raise ValueError(f"You must provide an `input_shape` argument to build Sequential model '{self.name}'.")
        input_shape = tuple(input_shape)
        self._input_layer = InputLayer(batch_shape=(None,) + input_shape[1:])
        x = self._input_layer.output
        for layer in self._stack:
            x = layer(x)
        self._graph_output = x
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built or self._input_layer is None:
            self.build(input_shape)

    @property
    def inputs(self):
        return [self._input_layer.output] if self._input_layer is not None else None

    @property
    def outputs(self):
        return [self._graph_output] if self._graph_output is not None else None

    @property
    def input(self):
        return self._require_graph("input")._input_layer.output

    @property
    def output(self):
        return self._require_graph("output")._graph_output

    @property
    def input_shape(self):
        return self.input.shape

    @property
    def output_shape(self):
        return self.output.shape

    def _require_graph(self, what):
        if self._input_layer is None:
            raise AttributeError(
                f"Sequential model '{self.name}' has no {what} yet because its input shape is unknown. Start it "
                "with `Input(shape=...)` or give the first layer `input_shape=...`, or call it on data first."
            )
        return self

    def check_input(self, shape):
        if self._input_layer is None or not isinstance(shape, tuple):
            return
        expected = self._input_layer.batch_shape
        if len(shape) != len(expected) or any(e is not None and e != d for e, d in zip(expected[1:], shape[1:])):
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"shape={expected}, found shape={tuple(shape)}"
            )

    def _single_input(self, inputs):
        """A Sequential model has one input: a dict or a list of several tensors is refused with a named error."""
        if isinstance(inputs, dict):
            name = self._input_layer.name if self._input_layer is not None else None
            if name is not None and len(inputs) == 1 and name in inputs:  # Keras matches the Input's name
                return inputs[name]
            raise ValueError(
                f"Sequential model '{self.name}' has a single input"
                f"{f' named {name!r}' if name else ''}; it received a dict with keys "
                f"{sorted(map(str, inputs))}. Pass the array itself."
            )
        if (
            isinstance(inputs, (list, tuple))
            and inputs
            and all(isinstance(t, (torch.Tensor, np.ndarray)) or hasattr(t, "_keras_history") for t in inputs)
        ):
            if len(inputs) == 1:
                return inputs[0]
            raise ValueError(
                f"Sequential model '{self.name}' expects 1 input, but it received {len(inputs)} input "
                "tensors. A model with several inputs is built with the functional API "
                "(`keras.Model(inputs=[...], outputs=...)`)."
            )
        return inputs

    def call(self, inputs, training=False):
        plan = self.__dict__.get("_plan")
        if plan is None:
            plan = _call_plan(list(self._stack))
            if all(layer.built for layer in self._stack):
                self.__dict__["_plan"] = plan
        steps, carries_masks = plan
        x = inputs if type(inputs) is torch.Tensor else self._single_input(inputs)
        if carries_masks or getattr(x, "_keras_mask", None) is not None:
            for layer in self._stack:
                x = layer._invoke(x, training, {})
            return x
        # No mask can appear on the way (no layer makes one, the input has none): each layer's `call` runs
        # directly, as `_invoke` would run it (the input checks ran when the model was called).
        for layer, run in steps:
            if run is not None and not x.is_meta:
                # A chain of layers that work on the channels-first view of channels_last data: one axis move
                # in, one out (see BaseConv._channels_first_call).
                xt = x.movedim(-1, 1)
                for member, fn, takes_training in run:
                    if member.activity_regularizer is None:
                        xt = fn(xt, training) if takes_training else fn(xt)
                    else:  # (set after the plan was made)
                        xt = member._invoke(xt.movedim(1, -1), training, {}).movedim(-1, 1)
                x = xt.movedim(1, -1)
                continue
            for member in (layer,) if run is None else [entry[0] for entry in run]:
                if member.activity_regularizer is not None:
                    x = member._invoke(x, training, {})
                elif member._call_takes_training:
                    x = member.call(x, training=training)
                else:
                    x = member.call(x)
        return x

    def get_config(self):
        return sequential_config(self)

    @classmethod
    def from_keras_config(cls, config, custom_objects=None, safe_mode=True):
        """A new Sequential model from ``get_config()`` output (Keras 3 or tf.keras 2 layout)."""
        return sequential_from_config(config, custom_objects, safe_mode)


def _call_plan(layers):
    """``(steps, carries_masks)`` for ``Sequential.call``.

    ``steps``: ``(layer, None)`` for a layer called on its own, ``(first layer, run)`` for a chain of two or
    more layers that can work on the ``(batch, channels, *spatial)`` view of channels_last data, ``run`` being
    ``[(layer, function, takes_training)...]`` (see ``BaseConv._channels_first_call``).
    ``carries_masks``: whether a mask may appear in the stack (a layer with its own ``compute_mask``, such as
    Embedding(mask_zero=True) or Masking, at any depth), in which case every layer goes through ``_invoke``,
    which carries masks.
    """
    carries_masks = any(sub._own_compute_mask for layer in layers for sub in layer._flatten_layers())
    steps, run = [], []

    def close_run():
        if len(run) >= 2:
            steps.append((run[0][0], list(run)))
        else:
            steps.extend((entry[0], None) for entry in run)
        run.clear()

    for layer in layers:
        entry = None
        channels_first = getattr(layer, "_channels_first_call", None)
        if (
            channels_first is not None
            and layer.built
            and layer.activity_regularizer is None
            and "call" not in layer.__dict__
        ):  # (a call wrapped per instance, e.g. by a RematScope)
            entry = channels_first()
        if entry is not None:
            run.append((layer,) + tuple(entry))
            continue
        close_run()
        steps.append((layer, None))
    close_run()
    return steps, carries_masks


def sequential_config(model):
    """``Sequential.get_config()`` in Keras 3's layout (the InputLayer first, when known)."""
    layers = []
    if model._input_layer is not None:
        layers.append(serialize_layer(model._input_layer))
    layers.extend(serialize_layer(layer) for layer in model.layers)
    config = {"name": model.name, "trainable": model.trainable, "dtype": model.dtype, "layers": layers}
    if model._input_layer is not None:
        config["build_input_shape"] = _shape_json(model._input_layer.batch_shape)
    return config


def sequential_from_config(config, custom_objects=None, safe_mode=True, make_layer=None):
    layer_configs = config["layers"] if isinstance(config, dict) else config
    make = make_layer or (lambda c: deserialize_layer(c, custom_objects, safe_mode))
    model = Sequential(name=config.get("name") if isinstance(config, dict) else None)
    for lc in layer_configs:
        layer = make(lc)
        model.add(layer)
    if not model.built and isinstance(config, dict) and config.get("build_input_shape"):
        model.build(tuple(config["build_input_shape"]))
    if isinstance(config, dict) and config.get("trainable") is False:
        model.trainable = False
    return model
