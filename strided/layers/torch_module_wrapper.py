"""``TorchModuleWrapper``: any ``torch.nn.Module`` as a Keras layer (``keras.layers.TorchModuleWrapper``).

The module runs as it is: its parameters become the layer's weights (trainable when they require
grad), `fit` trains them, `summary` counts them, and saved files hold the module's whole
``state_dict`` (parameters and buffers such as BatchNorm running statistics). Tensors pass through
untouched, so a ``torch.nn.Conv2d`` inside expects channels-first input, as in Keras.
"""

import numpy as np
import torch

from strided import config
from strided.layers.base import Layer
from strided.utils import validation


class TorchModuleWrapper(Layer):
    """Wraps a ``torch.nn.Module`` so it can be used in Keras models and trained with ``fit``.

    Args:
        module: a ``torch.nn.Module`` (a lazy module must be initialized first, by calling it once).
        name: the layer name.
        output_shape: optional output shape (without the batch); by default it is found by running the
            module on the meta device.

    Input shape:
        What the module accepts, ``(batch, ...)``.

    Output shape:
        What the module returns, ``(batch, ...)``.

    Example:

    >>> backbone = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU())
    >>> model = keras.Sequential([keras.Input((16,)), keras.layers.TorchModuleWrapper(backbone),
    ...                           keras.layers.Dense(10, activation="softmax")])
    >>> model.output_shape, model.count_params()  # 16 * 32 + 32 + 32 * 10 + 10
    ((None, 10), 874)
    """

    def __init__(self, module, name=None, output_shape=None, **kwargs):
        if not isinstance(module, torch.nn.Module):
            raise TypeError(
                f"TorchModuleWrapper expects a torch.nn.Module. Received: module={module!r} "
                f"(of type {type(module).__name__})"
            )
        if isinstance(module, torch.nn.modules.lazy.LazyModuleMixin) and module.has_uninitialized_params():
            raise ValueError(
                "LazyModules are not supported unless they are already initialized (call the module "
                f"once first). Received uninitialized LazyModule: module={module}"
            )
        super().__init__(name=name, **kwargs)
        self.module = module.to(config.get_device())
        self._declared_output_shape = (
            None if output_shape is None else tuple(validation.sequence_of(output_shape, "output_shape", "integers"))
        )
        self.built = True

    def _all_own_weights(self):
        params = []
        for param_name, param in self.module.named_parameters():
            if not hasattr(param, "_keras_name"):
                # The attributes every strided weight carries (its Keras name; no layout change, no
                # regularizer or constraint), set on the module's own parameter (also after a deepcopy).
                param._keras_trainable = param.requires_grad
                param._keras_name = param_name.replace(".", "_")
                param._keras_layout = None
                param._keras_regularizer = None
                param._keras_constraint = None
            params.append(param)
        return params

    def call(self, inputs, training=None):
        if self._declared_output_shape is not None and isinstance(inputs, torch.Tensor) and inputs.is_meta:
            # Shape inference with a declared output shape: the module need not run.
            return torch.empty((inputs.shape[0],) + self._declared_output_shape, device="meta")
        # Keras's rule: eval mode only when training is explicitly False (Dropout, BatchNorm inside).
        self.module.train(training is not False)
        return self.module(inputs)

    # Saved files hold the full state_dict (buffers too), keyed in its order.
    def _saved_arrays(self):
        return [t.detach().cpu().numpy().copy() for t in self.module.state_dict().values()]

    def _load_saved_arrays(self, arrays):
        state = self.module.state_dict()
        if len(arrays) != len(state):
            raise ValueError(
                f"Layer '{self.name}' (TorchModuleWrapper) expects {len(state)} arrays (its module's "
                f"state_dict), received {len(arrays)}."
            )
        loaded = {k: torch.as_tensor(np.asarray(a), dtype=v.dtype) for (k, v), a in zip(state.items(), arrays)}
        self.module.load_state_dict(loaded)

    def get_config(self):
        raise NotImplementedError(
            f"Layer '{self.name}' wraps a torch.nn.Module ({type(self.module).__name__}), whose architecture is Python "
            "code: save the model's weights with `save_weights` (they include the module's state_dict) and "
            "rebuild the model in code."
        )
