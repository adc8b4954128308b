"""``LossScaleOptimizer``: Keras's dynamic loss scaling around another optimizer (float16 training)."""

import numpy as np
import torch

from strided.distribution import distribution_lib as distribute
from strided.optimizers.base import Optimizer, base_keyword_defaults
from strided.optimizers.registry import deserialize, serialize


def _inner_property(name, doc):
    """A property of the wrapper that reads and sets the inner optimizer's attribute ``name``."""
    return property(
        lambda self: getattr(self.inner_optimizer, name),
        lambda self, value: setattr(self.inner_optimizer, name, value),
        doc=doc,
    )


class DynamicLossScale:
    """The dynamic loss scale of float16 training, as Keras's LossScaleOptimizer keeps it.

    The loss is multiplied by ``scale`` before the backward pass; ``unscale`` divides the gradients by it,
    or, when one of them holds inf or NaN, returns None (skip the step) and halves the scale; after
    ``growth_steps`` finite steps in a row the scale doubles. Used by ``LossScaleOptimizer`` and by the
    trainer for an optimizer object that is not a strided optimizer.
    """

    def __init__(self, initial_scale=2.0**15, growth_steps=2000):
        self.scale = float(np.float32(initial_scale))  # Keras keeps it in a float32 variable
        self.counter = 0
        self.growth_steps = growth_steps

    def unscale(self, grads):
        """``grads`` divided by the scale (None entries kept), or None when one is not finite."""
        tensors = [g for g in grads if g is not None]
        finite = bool(torch.stack([torch.isfinite(g).all() for g in tensors]).all()) if tensors else True
        if not finite:
            self.counter = 0
            self.scale *= 0.5
            return None
        unscaled = [None if g is None else g / self.scale for g in grads]
        if self.counter == self.growth_steps - 1:
            self.counter = 0
            self.scale *= 2.0
        else:
            self.counter += 1
        return unscaled


class LossScaleOptimizer(Optimizer):
    """An optimizer that dynamically scales the loss to prevent float16 gradients from underflowing.

    The loss is multiplied by the loss scale (:meth:`scale_loss`) before the gradients are computed,
    and :meth:`apply` divides the gradients by it before handing them to ``inner_optimizer``. The scale
    adapts as in Keras:

    - a step with an inf or NaN gradient is skipped (the weights and the inner optimizer do not move)
      and the scale is halved;
    - after ``dynamic_growth_steps`` consecutive steps with finite gradients the scale is doubled.

    Args:
        inner_optimizer: the ``strided.optimizers.Optimizer`` to wrap.
        initial_scale: the initial loss scale (default ``2 ** 15``); a high value is recommended, as a
            scale that is too high comes down much faster than one too low goes up.
        dynamic_growth_steps: how many finite steps before the scale doubles (default 2000).
        name: the optimizer name (default ``'loss_scale_optimizer'``).

    ``learning_rate``, ``iterations`` and ``finalize_variable_values`` are those of the inner
    optimizer; ``variables`` are ``[iteration, learning_rate, step_counter, dynamic_scale]`` of the
    wrapper followed by the inner optimizer's, as Keras saves them. The base-optimizer arguments
    (``clipnorm``, ``weight_decay``...) belong on the inner optimizer and are refused here.

    Example:

    >>> opt = LossScaleOptimizer(strided.optimizers.SGD(0.1))
    >>> loss = opt.scale_loss(loss)                 # in a custom training step
    >>> grads = torch.autograd.grad(loss, weights)
    >>> opt.apply(grads, weights)                   # unscales; skips the step on inf/NaN
    """

    def __init__(self, inner_optimizer, initial_scale=2.0**15, dynamic_growth_steps=2000, name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        for arg, default in base_keyword_defaults().items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg}`. Instead, set `{arg}` on the `inner_optimizer`."
                )
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise ValueError(
                "Argument `inner_optimizer` must be an optimizer instance (e.g. "
                f"`strided.optimizers.Adam()`). Received: inner_optimizer={inner_optimizer!r}"
            )
        if (
            isinstance(initial_scale, bool)
            or not isinstance(initial_scale, (int, float, np.number))
            or not (initial_scale > 0 and np.isfinite(initial_scale))
        ):
            raise ValueError(
                f"Argument `initial_scale` must be a positive finite float. Received: initial_scale={initial_scale!r}"
            )
        if (
            isinstance(dynamic_growth_steps, bool)
            or not isinstance(dynamic_growth_steps, (int, np.integer))
            or (dynamic_growth_steps < 1)
        ):
            raise ValueError(
                "Argument `dynamic_growth_steps` must be an integer >= 1. "
                f"Received: dynamic_growth_steps={dynamic_growth_steps!r}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None
        self._loss_scale = DynamicLossScale(initial_scale, dynamic_growth_steps)

    # ----------------------------------------------------------------------------- state
    @property
    def dynamic_scale(self):
        """The current loss scale, a 0-d float32 tensor."""
        return torch.tensor(self._loss_scale.scale, dtype=torch.float32)

    @property
    def step_counter(self):
        """Finite steps since the scale last changed, a 0-d int64 tensor."""
        return torch.tensor(self._loss_scale.counter, dtype=torch.int64)

    def build(self, variables):
        """Builds the inner optimizer on ``variables`` (a list of torch Parameters)."""
        if self.built:
            return
        inner = self.inner_optimizer
        if not inner.built:
            # Keras builds the inner optimizer without automatic tracking: Adafactor's scalar
            # placeholders are then not among its variables
            inner._untracked_placeholders = True
        inner.build(variables)
        # the inner slots come last in `variables`: the saving code converts their layout through these
        self._params, self._slot_order = inner._params, inner._slot_order
        self._finish_build()

    def _extra_variables(self):
        return self.inner_optimizer._extra_variables()

    @property
    def variables(self):
        """``[iteration, learning_rate, step_counter, dynamic_scale]`` then the inner optimizer's variables."""
        own = [torch.tensor(self._step, dtype=torch.int64), torch.tensor(0.0, dtype=torch.float32)]
        if self.built:
            own += [self.step_counter, self.dynamic_scale]
        return own + (list(self.inner_optimizer.variables) if self.built else [])

    def _variable_names(self):
        return ["iteration", "learning_rate", "step_counter", "dynamic_scale"] + self.inner_optimizer._variable_names()

    def set_weights(self, weights):
        """Restores ``[iteration, learning_rate, step_counter, dynamic_scale, *inner weights]``."""
        weights = list(weights)
        self._check_weights_to_set(weights)
        self._step = int(np.asarray(weights[0]))
        self._loss_scale.counter = int(np.asarray(weights[2]))
        self._loss_scale.scale = float(np.asarray(weights[3], dtype=np.float32))
        self.inner_optimizer.set_weights(weights[4:])

    # ----------------------------------------------------------------------------- applying
    def scale_loss(self, loss):
        """Returns ``loss`` multiplied by the current loss scale (``initial_scale`` before ``build``)."""
        return loss * (self._loss_scale.scale if self.built else self.initial_scale)

    @torch.no_grad()
    def apply(self, grads, variables=None):
        """Unscales ``grads`` and applies them with the inner optimizer, or skips the step and halves
        the scale when a gradient holds inf or NaN.

        Args:
            grads: list of gradient tensors of the scaled loss (None entries are skipped).
            variables: the matching parameters; None means the list the optimizer was built with.
        """
        grads, variables = self._apply_arguments(grads, variables)
        if not grads:
            return
        reduced = getattr(self, "_gradients_reduced", False)
        present = [k for k, g in enumerate(grads) if g is not None]
        if not reduced and distribute.world_size() > 1 and present:
            # average over the ranks before the finiteness test, so that every rank takes the same branch
            averaged = [grads[k].detach().clone() for k in present]
            distribute.all_reduce_sum_(averaged)
            torch._foreach_div_(averaged, float(distribute.world_size()))
            for k, g in zip(present, averaged):
                grads[k] = g
            reduced = True
        unscaled = self._loss_scale.unscale(grads)
        if unscaled is None:
            return
        self.inner_optimizer._apply_as_inner(unscaled, variables, reduced)

    def finalize_variable_values(self, var_list):
        """Delegates to the inner optimizer (its moving averages, with ``use_ema``)."""
        self.inner_optimizer.finalize_variable_values(var_list)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Delegates to the inner optimizer."""
        self.inner_optimizer.exclude_from_weight_decay(var_list=var_list, var_names=var_names)

    # ----------------------------------------------------------------------------- delegated properties
    learning_rate = _inner_property("learning_rate", "The inner optimizer's learning rate; settable.")
    lr = learning_rate
    iterations = _inner_property("iterations", "The inner optimizer's ``iterations`` (skipped steps do not count).")

    # ----------------------------------------------------------------------------- config
    def get_config(self):
        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def _objects_from_config(cls, config, custom_objects):
        config["inner_optimizer"] = deserialize(config["inner_optimizer"], custom_objects)
        return config

    def __repr__(self):
        return f"<LossScaleOptimizer name={self.name} inner_optimizer={self.inner_optimizer!r}>"
