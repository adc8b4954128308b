"""Model: a layer with training (compile/fit/evaluate/predict), summary and saving.

``Model(inputs, outputs)`` builds a functional graph (see ``functional.py``); subclassing ``Model``
and writing ``call`` gives a subclassed model, as in Keras.
"""

import json

import numpy as np
import torch
from torch.utils import _pytree as pytree

from strided.layers.base import Layer, _shape_of, _with_none_batch, is_plain_data, to_tensor, unique_name
from strided.backend.keras_tensor import KerasTensor, infer_outputs
from strided.saving import serialization_lib
from strided.training.trainer import Trainer
from strided.layers.categorical import outputs_on
from strided.layers import quantization
from strided.models import state_tree
from strided.models.summary import print_summary
from strided.models import state_tree as state_tree_module


def _make_functional(cls):
    """Rebases ``cls`` (a subclass of Model) on Functional, in place, so that the instance being built
    gets Functional's graph methods under the subclass's own overrides."""
    from strided.models.functional import Functional

    if cls is Model:
        return Functional
    if cls is object or not issubclass(cls, Model) or issubclass(cls, Functional):
        return cls
    cls.__bases__ = tuple(_make_functional(base) for base in cls.__bases__)
    return cls


class Model(Trainer, Layer):
    """A trainable graph of layers.

    Use it three ways, as in Keras:

    - functional: ``Model(inputs=inputs, outputs=outputs)``;
    - sequential: ``Sequential([...])`` (a subclass);
    - subclassed: ``class MyModel(Model)`` with layers created in ``__init__`` and used in ``call``.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (len(args) >= 2 or "inputs" in kwargs or (args and "outputs" in kwargs)):
            from strided.models.functional import Functional

            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if len(args) >= 2 or "inputs" in kwargs or (args and "outputs" in kwargs):
            # `class CustomModel(keras.Model)` built as `CustomModel(inputs, outputs)`: as in Keras, the
            # subclass becomes a functional model that keeps its own methods (a custom train_step...).
            from strided.models.functional import Functional

            if not isinstance(self, Functional):
                _make_functional(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        Layer.__init__(self, name=name or unique_name(self._default_name()), trainable=trainable, **kwargs)
        Trainer.__init__(self)

    @classmethod
    def _default_name(cls):
        return "model" if cls.__name__ == "Model" else super()._default_name()

    # ------------------------------------------------------------------ structure
    @property
    def layers(self):
        """The model's layers, in order (for subclassed models: the sublayers in assignment order)."""
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        """Returns a layer by ``name`` or by ``index`` in ``model.layers``."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name!r}.")
        layers = self.layers
        if index is not None:
            if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has {len(layers)} layers."
                )
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: {[l.name for l in layers]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def build(self, input_shape=None):
        """Builds a subclassed model's weights by a shape-only call on ``input_shape``."""
        if self.built:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument to `build()`.")
        spec = pytree.tree_map(
            lambda s: KerasTensor(s),
            input_shape,
            is_leaf=lambda s: isinstance(s, tuple) and all(d is None or isinstance(d, int) for d in s),
        )
        self.built = True  # so the traced call below does not re-enter build
        try:
            infer_outputs(lambda x: self._invoke(x, False, {}), (spec,), {})
        except Exception:
            self.built = False
            raise
        self._build_input_shape = input_shape

    def _maybe_build(self, input_shape):
        if self.built:
            return
        if type(self).build is not Model.build:  # a user-defined build
            super()._maybe_build(input_shape)
        else:
            self.build(input_shape)

    # ------------------------------------------------------------------ calls
    def __call__(self, *args, **kwargs):
        # A tensor whose shape, dtype and device already went through the checked call (rank adjustment, device,
        # build, input checks) with the weights on its device, called with an explicit `training` (as fit,
        # evaluate and predict call): straight to the layers.
        if len(args) == 1 and len(kwargs) == 1 and type(args[0]) is torch.Tensor:
            x, training = args[0], kwargs.get("training")
            checked = self.__dict__.get("_checked_signatures")
            if training is not None and checked:
                weight = checked.get((x.shape, x.dtype, x.device))
                if weight is not None and weight.device == x.device and getattr(x, "_keras_mask", None) is None:
                    return self._tracked_invoke(x, bool(training), {})
        return super().__call__(*args, **kwargs)

    def _eager_call(self, inputs, kwargs):
        if isinstance(inputs, torch.Tensor):
            adjusted = self._adjust_input_rank(inputs)
            # (only calls that say `training` can take the fast path: fit, evaluate, predict, train_step)
            record = adjusted is inputs and "training" in kwargs and type(inputs) is torch.Tensor and not inputs.is_meta
            out = super()._eager_call(adjusted, kwargs)
            if record:
                self._record_checked_signature(inputs)
            return out
        if not _holds_strings(inputs):
            return super()._eager_call(self._adjust_input_rank(inputs), kwargs)
        return self._eager_call_with_strings(inputs, kwargs)

    def _record_checked_signature(self, x):
        """Remembers that tensors shaped like ``x`` passed the checked call (see ``__call__``), with one of the
        model's weights to see that the weights have not moved to another device since."""
        checked = self.__dict__.setdefault("_checked_signatures", {})
        key = (x.shape, x.dtype, x.device)
        if key in checked or len(checked) >= 64:  # a few batch shapes per model (last batch, validation, predict)
            return
        weight = next(iter(self.weights), None)
        if weight is not None and weight.device == x.device and getattr(x, "_keras_mask", None) is None:
            checked[key] = weight

    def _adjust_input_rank(self, inputs):
        """As Keras's functional models: an input one rank short of an ``Input`` whose last size is 1 gets
        that axis (``(batch,)`` columns for ``Input((1,))``), one rank over with a last size of 1 loses it."""
        structure = getattr(self, "_input_structure", None)
        if structure is None:
            specs = self.inputs if self._input_layer_known() else None
            structure = specs[0] if specs and len(specs) == 1 else specs
        return _map_inputs(structure, inputs, _fit_rank) if structure is not None else inputs

    def _eager_call_with_strings(self, inputs, kwargs):
        """A call with text among the inputs (``Input(dtype="string")``): the strings stay NumPy arrays
        for the layers that take them (TextVectorization, StringLookup...), numbers become device tensors
        as usual, and host layers put their outputs on the model's device."""
        device = self._device()

        def convert(x):
            if _is_string_leaf(x):
                return np.asarray(x)
            if isinstance(x, torch.Tensor):
                return x.to(device)
            return to_tensor(x, device=device) if is_plain_data(x) else x

        inputs = self._adjust_input_rank(
            self._adjust_string_rank(pytree.tree_map(convert, inputs, is_leaf=_is_string_leaf))
        )
        shapes = pytree.tree_map(_shape_of, inputs, is_leaf=lambda x: isinstance(x, (torch.Tensor, np.ndarray)))
        if not self.built:
            self._maybe_build(_with_none_batch(shapes))
        self.check_input(shapes)
        kwargs = dict(kwargs)
        training = kwargs.pop("training", None)
        with outputs_on(device):
            if training is None and torch.is_grad_enabled():
                # a direct call (not fit/evaluate/predict, which pass `training`): values to look at
                with torch.no_grad():
                    out = self._tracked_invoke(inputs, bool(self._direct_call_training), kwargs)
                return pytree.tree_map(lambda t: t.cpu() if isinstance(t, torch.Tensor) else t, out)
            return self._tracked_invoke(inputs, bool(training), kwargs)

    def _adjust_string_rank(self, inputs):
        """``(batch,)`` text for an ``Input(shape=(1,), dtype="string")`` gets its last axis, as Keras's
        functional models add it, so ``model.predict(["some text"])`` works."""
        specs = self.inputs if self._input_layer_known() else None
        if not specs:
            return inputs

        def fit(value, spec):
            if isinstance(value, np.ndarray) and value.ndim == len(spec.shape) - 1 and spec.shape[-1] == 1:
                return value[..., None]
            return value

        if len(specs) == 1 and isinstance(inputs, np.ndarray):
            return fit(inputs, specs[0])
        if isinstance(inputs, (list, tuple)) and len(inputs) == len(specs):
            return type(inputs)(fit(v, s) for v, s in zip(inputs, specs))
        return inputs

    def _input_layer_known(self):
        try:
            return self.inputs is not None
        except AttributeError:
            return False

    def quantize(self, mode=None, config=None, filters=None, **kwargs):
        """Quantizes the weights of the model's Dense, EinsumDense and Embedding layers (Keras 3.15).

        Args:
            mode: ``"int8"`` or ``"int4"`` (optional when ``config`` is given).
            config: a ``keras.quantizers`` config (``Int8QuantizationConfig``, ``Int4QuantizationConfig``).
            filters: only layers whose name matches this regex (or one of a list), or for which this
                callable returns True, are quantized.
            type_check: (keyword) skip subclasses of the quantizable layers with a warning (default True).
        """
        type_check = kwargs.pop("type_check", True)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        quantization.quantize_model(self, mode, config=config, filters=filters, type_check=type_check)

    summary = print_summary  # written as a method in models/summary.py, with the table code

    # Graph accessors for functional-style models; subclasses with a graph override these.
    @property
    def inputs(self):
        return None

    @property
    def outputs(self):
        return None

    @property
    def output_names(self):
        outputs = self.outputs
        if outputs is None:
            return ["output"]
        return [t._keras_history[0].name for t in pytree.tree_leaves(outputs) if isinstance(t, KerasTensor)]

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on model '{self.name}', but the model isn't built. "
                "Build it by calling it on data, calling `build(input_shape)`, or giving the first "
                "layer an `input_shape`."
            )
        return int(sum(w.numel() for w in self.weights))

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Saves the model (architecture, weights, optimizer state) as ``.keras`` (or legacy ``.h5``).

        The file is written to a temporary name and renamed into place, so an interrupted save
        leaves any previous file intact. ``zipped=False`` writes the archive's files into the folder ``filepath``.
        """
        from strided.saving import saving_api

        return saving_api.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs):
        """Exports the model as an inference artifact (``keras.Model.export``).

        Args:
            filepath: where to write the artifact.
            format: ``"onnx"`` (an ONNX graph; needs ``pip install 'strided[export]'``) or
                ``"torch"`` (a ``torch.export`` program; the path must end in ``.pt2``). Keras's
                TensorFlow/OpenVINO formats raise a ValueError naming these two.
            verbose: print where the artifact was saved (default True).
            input_signature: the input shapes, e.g. ``[(None, 28, 28, 1)]`` (or InputSpecs, KerasTensors,
                arrays); default: the model's inputs. ``None`` dimensions stay dynamic.
            **kwargs: ``opset_version`` for ONNX.

        Example:

        ```python
        model.export("digits.onnx", format="onnx")
        session = onnxruntime.InferenceSession("digits.onnx")
        probabilities = session.run(None, {session.get_inputs()[0].name: images})[0]
        ```
        """
        from strided.saving import export

        return export.export_model(
            self, filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs
        )

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        """Saves the weights to ``.weights.h5`` (Keras 3 layout); ``max_shard_size`` (Keras's sharded
        weights) raises a ValueError."""
        from strided.saving import saving_api

        return saving_api.save_weights(self, filepath, overwrite=overwrite, max_shard_size=max_shard_size)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Loads weights from ``.weights.h5``, a Keras 2 ``.h5`` file or a ``.keras`` file."""
        from strided.saving import saving_api

        return saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    # ------------------------------------------------------------------ state trees, compile configs
    def get_state_tree(self, value_format="backend_tensor"):
        """All the model's variables as nested dicts keyed by their Keras paths.

        Args:
            value_format: ``"backend_tensor"`` (torch tensors) or ``"numpy_array"``.

        Returns:
            A dict with the keys ``trainable_variables``, ``non_trainable_variables``, ``optimizer_variables``
            and ``metrics_variables``, each a nested dict of values in Keras layout, e.g.
            ``tree["trainable_variables"]["seq"]["dense"]["kernel"]``.
        """
        return state_tree.get_state_tree(self, value_format)

    def set_state_tree(self, state_tree):
        """Assigns the values of a ``get_state_tree()``-style dict (any subset of its paths) to the model."""
        state_tree_module.set_state_tree(self, state_tree)

    def get_compile_config(self):
        """The ``compile()`` arguments as a serializable dict (what ``.keras`` files store); ``{}`` if the
        model is not compiled."""
        from strided.saving import keras_format

        return keras_format.compile_config(self) or {}

    def compile_from_config(self, config):
        """Compiles the model from a ``get_compile_config()`` dict and builds the optimizer's variables."""
        if type(self).compile is not Trainer.compile:
            import warnings

            warnings.warn(
                "`compile()` was not called as part of model loading because the model's `compile()` "
                "method is custom. All subclassed Models that have `compile()` overridden should also "
                "override `get_compile_config()` and `compile_from_config(config)`. Alternatively, you "
                "can call `compile()` manually after loading.",
                stacklevel=2,
            )
            return
        from strided.saving import saving_api

        saving_api.compile_from_config(self, config)
        if self.built and self.optimizer is not None and hasattr(self.optimizer, "build"):
            self.optimizer.build(self.trainable_variables)

    def stateless_compute_loss(
        self,
        trainable_variables,
        non_trainable_variables,
        metrics_variables,
        x=None,
        y=None,
        y_pred=None,
        sample_weight=None,
        training=True,
    ):
        """``compute_loss`` computed with the given variable values (regularization losses included).

        Returns:
            ``(loss, (trainable_variables, non_trainable_variables, metrics_variables))``.
        """
        return state_tree.stateless_compute_loss(
            self, trainable_variables, non_trainable_variables, metrics_variables, x, y, y_pred, sample_weight, training
        )

    def to_json(self, **kwargs):
        return json.dumps(serialization_lib.serialize_model(self), **kwargs)


def _is_string_leaf(x):
    """Text data: a str/bytes, a NumPy array of strings, or a (nested) list of str."""
    if isinstance(x, (str, bytes, np.str_, np.bytes_)):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "US" or (x.dtype == object and x.size > 0 and isinstance(x.reshape(-1)[0], (str, bytes)))
    if isinstance(x, (list, tuple)) and x:
        first = x[0]
        while isinstance(first, (list, tuple)) and first:
            first = first[0]
        return isinstance(first, (str, bytes))
    return False


def _holds_strings(inputs):
    if _is_string_leaf(inputs):
        return True
    if isinstance(inputs, dict):
        return any(_holds_strings(v) for v in inputs.values())
    if isinstance(inputs, (list, tuple)):  # several inputs: one level down (no walk over lists of numbers)
        return any(_is_string_leaf(v) or isinstance(v, dict) and _holds_strings(v) for v in inputs)
    return False


def _fit_rank(value, spec):
    ndim, ref = getattr(value, "ndim", None), len(spec.shape)
    if ndim is None or ndim == ref:
        return value
    if ndim == ref + 1 and value.shape[-1] == 1:
        return value[..., 0]
    if ndim == ref - 1 and spec.shape[-1] == 1:
        return value[..., None]
    return value


def _map_inputs(structure, values, fn):
    """``fn(value, input_spec)`` on each input value, walking the model's input structure."""
    if isinstance(structure, KerasTensor):
        return fn(values, structure)
    if isinstance(structure, dict) and isinstance(values, dict):
        return {k: _map_inputs(structure[k], v, fn) if k in structure else v for k, v in values.items()}
    if isinstance(structure, (list, tuple)) and isinstance(values, (list, tuple)) and len(structure) == len(values):
        return type(values)(_map_inputs(s, v, fn) for s, v in zip(structure, values))
    return values
