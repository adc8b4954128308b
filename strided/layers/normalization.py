"""Normalization layers: Batch-, Layer-, Group-, RMS- and UnitNormalization, Keras semantics."""

import math

import torch
import torch.nn.functional as F

from strided.backend import deferred_updates
from strided.distribution import distribution_lib as distribute
from strided.layers import _util
from strided.layers.base import Layer
from strided.utils import validation


def _axes(axis, ndim, layer):
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int):
            raise TypeError(
                f"Invalid type for argument `axis`. Expected an int or a list of ints. Received: axis={axis!r}"
            )
        if not -ndim <= a < ndim:
            raise ValueError(
                f"Invalid axis {a} for layer '{layer.name}' on an input of rank {ndim}. Received: axis={axis!r}"
            )
        out.append(a % ndim)
    return sorted(set(out))


def _broadcast(w, axes, ndim):
    """Per-axis weight of shape ``[x.shape[a] for a in axes]`` -> broadcastable against the input."""
    shape = [1] * ndim
    for a, n in zip(axes, w.shape):
        shape[a] = n
    return w.reshape(shape)


# The Args lines of the learned offset and factor, shared by Batch-, Layer- and GroupNormalization's docstrings.
_AFFINE_ARGS = """beta_initializer: initializer of ``beta`` (default ``"zeros"``).
gamma_initializer: initializer of ``gamma`` (default ``"ones"``).
beta_regularizer: optional regularizer of ``beta``.
gamma_regularizer: optional regularizer of ``gamma``.
beta_constraint: optional constraint of ``beta``.
gamma_constraint: optional constraint of ``gamma``."""


class _NormBase(Layer):
    def _statistics_shape(self, input_shape):
        """Resolves ``axis`` for ``input_shape`` and returns the shape of gamma/beta (and moving statistics)."""
        self._axes = _axes(self.axis, len(input_shape), self)
        shape = tuple(input_shape[a] for a in self._axes)
        if any(d is None for d in shape):
            raise ValueError(
                f"Axis {self.axis} of the input of layer '{self.name}' must have a known size. "
                f"Received input_shape={tuple(input_shape)}"
            )
        self._built_shape = tuple(input_shape)
        return shape

    def _norm_weights(self, shape, center, scale):
        self.gamma = _util.add_weight_with_options(self, "gamma", shape) if scale else None
        self.beta = _util.add_weight_with_options(self, "beta", shape) if center else None

    def check_input(self, shape):
        built = getattr(self, "_built_shape", None)
        if built is None or not isinstance(shape, tuple):
            return
        if len(shape) != len(built):
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"ndim={len(built)}, found ndim={len(shape)}. Full shape received: {shape}"
            )
        for a in self._axes:
            if built[a] is not None and shape[a] is not None and shape[a] != built[a]:
                raise ValueError(
                    f'Input 0 of layer "{self.name}" is incompatible with the layer: expected axis '
                    f"{a} of input shape to have value {built[a]}, but received input with shape "
                    f"{shape}"
                )


class _AffineNorm(_NormBase):
    """The normalizations with a learned offset ``beta`` and factor ``gamma`` (Batch, Layer and Group): their shared
    arguments ``axis``, ``epsilon``, ``center``, ``scale`` and the beta/gamma weight options, set and serialized
    once."""

    _config_keys = ("axis", "epsilon", "center", "scale")

    def _init_affine(self, arguments):
        """Sets the shared arguments from the constructor's named arguments (``locals()``)."""
        self.axis = _util.axis_arg(arguments["axis"])
        self.epsilon = validation.number(arguments["epsilon"], "epsilon", 0.0, None, low_inclusive=False)
        self.center = validation.boolean(arguments["center"], "center")
        self.scale = validation.boolean(arguments["scale"], "scale")
        _util.set_weight_options_from(self, arguments, "beta", "gamma")

    def get_config(self):
        config = super().get_config()
        config.update(_util.weight_options_config(self, "beta", "gamma", activity=False))
        return config


@_util.shared_doc(affine_args=_AFFINE_ARGS)
class BatchNormalization(_AffineNorm):
    """Normalizes each feature with batch statistics in training and moving statistics in inference.

    In training (``training=True`` and ``layer.trainable``): ``y = (x - mean(batch)) / sqrt(var(batch) + epsilon)
    * gamma + beta``, and the moving statistics are updated as Keras does:
    ``moving = moving * momentum + batch_stat * (1 - momentum)`` (biased batch variance). In inference
    the moving mean and variance are used.

    Args:
        axis: the feature axis (default -1, the channels of channels_last data), or a list of axes.
        momentum: momentum of the moving averages (Keras default 0.99; torch's would be ``1 - 0.99``).
        epsilon: added to the variance (default 1e-3).
        center: bool, whether to learn the offset ``beta`` (default ``True``).
        scale: bool, whether to learn the factor ``gamma`` (default ``True``).
        moving_mean_initializer: initializer of the moving mean (default ``"zeros"``).
        moving_variance_initializer: initializer of the moving variance (default ``"ones"``).
        {{affine_args}}
        renorm: only ``False`` (batch renormalization is not supported).
        renorm_clipping, renorm_momentum: accepted for Keras compatibility (they apply only with ``renorm``).
        synchronized: bool; under data-parallel training, compute the batch statistics over all replicas.
        fused: accepted for tf.keras 2 compatibility.

    Weights (Keras order): gamma, beta (trainable), moving_mean, moving_variance (non-trainable).

    Call arguments: ``inputs``, ``training``, optional ``mask`` with one dimension less than ``inputs`` (by
    default the mask an upstream layer attached): in training the batch mean and variance are taken over
    the unmasked entries only, as in Keras.

    {{same_shape}}

    Example:

    >>> x = np.random.normal(5.0, 3.0, size=(64, 4)).astype("float32")
    >>> bn = keras.layers.BatchNormalization()
    >>> y = bn(x, training=True)
    >>> bool(np.allclose(y.numpy().mean(axis=0), 0, atol=1e-4)), bool(np.allclose(y.numpy().std(axis=0), 1, atol=1e-2))
    (True, True)
    >>> [tuple(w.shape) for w in bn.get_weights()]  # gamma, beta, moving_mean, moving_variance
    [(4,), (4,), (4,), (4,)]
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        fused=None,
        **kwargs,
    ):
        for tf2_only in ("virtual_batch_size", "adjustment"):
            if kwargs.pop(tf2_only, None) is not None:
                raise NotImplementedError(f"BatchNormalization argument `{tf2_only}` is not supported by strided.")
        if renorm:
            raise NotImplementedError("BatchNormalization(renorm=True) is not supported by strided.")
        self._init_affine(locals())
        self.momentum = validation.number(momentum, "momentum", 0.0, 1.0)
        self.synchronized = validation.boolean(synchronized, "synchronized")
        self.moving_mean_initializer = _util.get("initializers", moving_mean_initializer, "moving_mean_initializer")
        self.moving_variance_initializer = _util.get(
            "initializers", moving_variance_initializer, "moving_variance_initializer"
        )
        super().__init__(**kwargs)

    def build(self, input_shape):
        shape = self._statistics_shape(input_shape)
        self._norm_weights(shape, self.center, self.scale)
        self.moving_mean = self.add_weight(
            shape=shape, initializer=self.moving_mean_initializer, trainable=False, name="moving_mean"
        )
        self.moving_variance = self.add_weight(
            shape=shape, initializer=self.moving_variance_initializer, trainable=False, name="moving_variance"
        )
        super().build(input_shape)

    def call(self, inputs, training=False, mask=None):
        if mask is not None:
            mask = torch.as_tensor(mask, device=inputs.device)
            if mask.ndim != inputs.ndim - 1:
                raise ValueError(
                    "The mask provided should be one dimension less than the inputs. Received: "
                    f"mask.shape={tuple(mask.shape)}, inputs.shape={tuple(inputs.shape)} "
                    f"(layer '{self.name}')"
                )
        moving_mean, moving_variance = self.moving_mean, self.moving_variance
        x = _util.cast_like(inputs, moving_mean)
        if x.is_meta:
            # Shape inference: the output is shaped like the input. (torch's meta batch_norm goes through a
            # decomposition that imports torch._dynamo: over a second on the first model a session builds.)
            return torch.empty_like(x)
        ndim = x.ndim
        axes = self._axes
        training = bool(training) and self._trainable
        if training and self.synchronized and distribute.world_size() > 1:
            return self._synchronized(x, axes)
        if training and mask is not None:
            return self._masked(x, axes, mask)
        if len(axes) == 1 and ndim >= 2:
            axis = axes[0]
            if axis == 1:
                return self._fused(x, training, moving_mean, moving_variance)
            xc = x.movedim(axis, 1)  # a view; channels_last data stays channels_last in memory
            return self._fused(xc, training, moving_mean, moving_variance).movedim(1, axis)
        return self._generic(x, axes, training)

    def _fused(self, xc, training, moving_mean, moving_variance):
        """``call`` on ``xc`` with the features on axis 1, through torch's fused batch norm."""
        if not training:
            return F.batch_norm(xc, moving_mean, moving_variance, self.gamma, self.beta, False, 0.0, self.epsilon)
        n = xc.numel() // (moving_mean.shape[0] or 1)
        if n <= 1:
            return self._generic(xc, [1], training)
        torch_momentum = 1.0 - self.momentum
        pending = deferred_updates.state.pending
        if pending is not None:
            # One fused kernel updates the moving mean as Keras does. Its running variance is a zeroed buffer of
            # the layer, into which it writes (1-m)*v*n/(n-1) (torch folds in the unbiased batch variance); Keras's
            # m*old + (1-m)*v is then old*m + buffer*(n-1)/n, applied with the other layers' updates in three
            # multi-tensor kernels when the forward pass ends. (torch.batch_norm is what F.batch_norm calls once
            # it has checked n > 1.)
            pending.settle(moving_variance)
            buffers = self.__dict__.get("_variance_buffer")  # (the buffer, its untracked .data view)
            if (
                buffers is None
                or buffers[0].device != moving_variance.device
                or buffers[0].dtype != moving_variance.dtype
            ):
                buffer = torch.zeros_like(moving_variance.detach())
                buffers = self.__dict__["_variance_buffer"] = (buffer, buffer.data)
            buffer = buffers[0]
            y = torch.batch_norm(
                xc,
                self.gamma,
                self.beta,
                moving_mean,
                buffer,
                True,
                torch_momentum,
                self.epsilon,
                torch.backends.cudnn.enabled,
            )
            pending.add(moving_variance, self.momentum, buffers[1], (n - 1) / n)
            return y
        # torch updates running stats it also saves for backward: give it copies, so that writing the result
        # into the (Keras-visible) moving weights leaves the graph intact.
        mean_buf = moving_mean.detach().clone()
        var_buf = moving_variance.detach().clone()
        y = F.batch_norm(xc, mean_buf, var_buf, self.gamma, self.beta, True, torch_momentum, self.epsilon)
        # torch folds the unbiased variance v*n/(n-1) into the moving variance, Keras the biased v:
        # from var_buf = (1-m)*old + m*v*n/(n-1), Keras's (1-m)*old + m*v is recovered exactly.
        with torch.no_grad():
            moving_mean.copy_(mean_buf)
            moving_variance.mul_((1.0 - torch_momentum) / n).add_(var_buf, alpha=(n - 1) / n)
        return y

    def _channels_first_call(self):
        """``(function, takes_training)`` on the ``(batch, channels, *spatial)`` view of a channels_last input
        (see ``BaseConv._channels_first_call``), or None."""
        built = getattr(self, "_built_shape", None)
        if (
            built is None
            or self.synchronized
            or len(built) < 3
            or len(self._axes) != 1
            or self._axes[0] != len(built) - 1
        ):
            return None
        return self._call_channels_first, True

    def _call_channels_first(self, xt, training):
        moving_mean, moving_variance = self.moving_mean, self.moving_variance
        xt = _util.cast_like(xt, moving_mean)
        return self._fused(xt, bool(training) and self._trainable, moving_mean, moving_variance)

    def _synchronized(self, x, axes):
        """Training step of ``synchronized=True`` under data parallelism: batch statistics over all ranks.

        Per-rank sums, sums of squares and counts are added with a differentiable all-reduce, so the
        normalisation and its gradient are those of one process seeing the whole global batch.
        """
        reduce = [a for a in range(x.ndim) if a not in axes]
        count = torch.full(
            (1,), float(x.numel() // max(math.prod(x.shape[a] for a in axes), 1)), device=x.device, dtype=x.dtype
        )
        local = torch.cat([x.sum(dim=reduce).reshape(-1), (x * x).sum(dim=reduce).reshape(-1), count])
        total = distribute.differentiable_all_reduce_sum(local)
        k = self.moving_mean.numel()
        n = total[-1]
        mean = (total[:k] / n).reshape(self.moving_mean.shape)
        var = (total[k : 2 * k] / n).reshape(self.moving_mean.shape) - mean * mean  # biased, as Keras
        with torch.no_grad():
            m = self.momentum
            self.moving_mean.mul_(m).add_(mean.detach(), alpha=1 - m)
            self.moving_variance.mul_(m).add_(var.detach(), alpha=1 - m)
        return self._normalize(x, _broadcast(mean, axes, x.ndim), _broadcast(var, axes, x.ndim), axes)

    def _masked(self, x, axes, mask):
        """Training step with a mask: Keras's weighted moments over the unmasked entries (the mask is broadcast
        along the last axis), ``sum / (count + 1e-7)``, and the usual moving-average update."""
        keep = mask.to(torch.bool).unsqueeze(-1).expand(x.shape)
        weights = keep.to(x.dtype)
        reduce = [a for a in range(x.ndim) if a not in axes]
        zero = torch.zeros((), dtype=x.dtype, device=x.device)
        count = weights.sum(dim=reduce, keepdim=True) + 1e-7
        mean_b = torch.where(keep, x, zero).sum(dim=reduce, keepdim=True) / count
        var_b = torch.where(keep, x - mean_b, zero).square().sum(dim=reduce, keepdim=True) / count
        with torch.no_grad():
            m = self.momentum
            self.moving_mean.mul_(m).add_(mean_b.detach().reshape(self.moving_mean.shape), alpha=1 - m)
            self.moving_variance.mul_(m).add_(var_b.detach().reshape(self.moving_variance.shape), alpha=1 - m)
        return self._normalize(x, mean_b, var_b, axes)

    def _normalize(self, x, mean_b, var_b, axes):
        """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` with statistics broadcast to ``x``."""
        y = (x - mean_b) * torch.rsqrt(var_b + self.epsilon)
        if self.gamma is not None:
            y = y * _broadcast(self.gamma, axes, x.ndim)
        if self.beta is not None:
            y = y + _broadcast(self.beta, axes, x.ndim)
        return y

    def _generic(self, x, axes, training):
        reduce = [a for a in range(x.ndim) if a not in axes]
        mean_b = _broadcast(self.moving_mean, axes, x.ndim)
        var_b = _broadcast(self.moving_variance, axes, x.ndim)
        if training:
            var_b, mean_b = torch.var_mean(x, dim=reduce, correction=0, keepdim=True)
            with torch.no_grad():
                m = self.momentum
                self.moving_mean.mul_(m).add_(mean_b.detach().reshape(self.moving_mean.shape), alpha=1 - m)
                self.moving_variance.mul_(m).add_(var_b.detach().reshape(self.moving_variance.shape), alpha=1 - m)
        return self._normalize(x, mean_b, var_b, axes)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "momentum": self.momentum,
                "synchronized": self.synchronized,
                "moving_mean_initializer": _util.serialize("initializers", self.moving_mean_initializer),
                "moving_variance_initializer": _util.serialize("initializers", self.moving_variance_initializer),
            }
        )
        return config


@_util.shared_doc(affine_args=_AFFINE_ARGS)
class LayerNormalization(_AffineNorm):
    """Normalizes each sample over ``axis``: ``(x - mean) / sqrt(var + epsilon) * gamma + beta``.

    Args:
        axis: axis or list of axes to normalize over (default -1).
        epsilon: added to the variance (default 1e-3).
        center: bool, whether to learn the offset ``beta`` (shape of the normalized axes, default ``True``).
        scale: bool, whether to learn the factor ``gamma`` (shape of the normalized axes, default ``True``).
        {{affine_args}}
        rms_scaling: if True, ``x / sqrt(var(x) + epsilon) * gamma`` (Keras's formula: no centering, no beta).

    {{same_shape}}

    Example:

    >>> x = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 60.0]], dtype="float32")
    >>> print(keras.layers.LayerNormalization()(x).numpy().round(3))  # each row: mean 0, variance 1
    [[-1.224  0.     1.224]
     [-0.926 -0.463  1.389]]
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    _config_keys = ("rms_scaling",)

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        rms_scaling=False,  # after Keras's positional arguments: Keras 3.15 takes it (deprecated) in **kwargs
        **kwargs,
    ):
        self._init_affine(locals())
        self.rms_scaling = validation.boolean(rms_scaling, "rms_scaling")
        super().__init__(**kwargs)

    def build(self, input_shape):
        shape = self._statistics_shape(input_shape)
        self._norm_weights(shape, self.center and not self.rms_scaling, self.scale or self.rms_scaling)
        super().build(input_shape)

    def call(self, inputs):
        x = inputs if not (self.gamma is None and self.beta is None) else _util.cast_float(inputs, self.dtype)
        if self.gamma is not None:
            x = _util.cast_like(x, self.gamma)
        ndim, axes = x.ndim, self._axes
        if self.rms_scaling:
            # Keras's (deprecated) rms_scaling divides by the variance, not the mean square, and does not center.
            var = torch.var(x, dim=axes, correction=0, keepdim=True)
            return x * torch.rsqrt(var + self.epsilon) * _broadcast(self.gamma, axes, ndim)
        if axes == list(range(ndim - len(axes), ndim)):
            return F.layer_norm(x, tuple(x.shape[a] for a in axes), self.gamma, self.beta, self.epsilon)
        var, mean = torch.var_mean(x, dim=axes, correction=0, keepdim=True)
        y = (x - mean) * torch.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            y = y * _broadcast(self.gamma, axes, ndim)
        if self.beta is not None:
            y = y + _broadcast(self.beta, axes, ndim)
        return y


@_util.shared_doc(affine_args=_AFFINE_ARGS)
class GroupNormalization(_AffineNorm):
    """Normalizes each sample over groups of channels (Wu & He, 2018), Keras semantics.

    The channels along ``axis`` are split into ``groups`` groups; each group is normalized over its
    channels and all other non-batch axes, then scaled and shifted per channel. ``groups=1`` is
    layer normalization over everything, ``groups=channels`` is instance normalization. It does not
    depend on the batch size, so it suits small batches where BatchNormalization is noisy.

    Args:
        groups: number of groups (default 32); must divide the number of channels.
        axis: the channel axis (default -1).
        epsilon: added to the variance (default 1e-3).
        center: bool, whether to learn the offset ``beta`` of shape ``(channels,)`` (default ``True``).
        scale: bool, whether to learn the factor ``gamma`` of shape ``(channels,)`` (default ``True``).
        {{affine_args}}

    {{same_shape}}

    Example:

    >>> x = np.random.rand(2, 8, 8, 6).astype("float32")
    >>> y = keras.layers.GroupNormalization(groups=3)(x)
    >>> tuple(y.shape)
    (2, 8, 8, 6)
    >>> group = y.numpy()[0, :, :, :2]  # the first group: channels 0 and 1 of the first sample
    >>> bool(abs(group.mean()) < 1e-4 and abs(group.std() - 1) < 1e-2)
    True
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    _config_keys = ("groups",)

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        self.groups = validation.positive_int(groups, "groups")
        if isinstance(_util.axis_arg(axis), list):
            raise TypeError(
                f"Invalid type for argument `axis`: GroupNormalization takes one channel axis. Received: axis={axis!r}"
            )
        self._init_affine(locals())
        super().__init__(**kwargs)

    def build(self, input_shape):
        (channels,) = self._statistics_shape(input_shape)
        if channels < self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) cannot be more than the number of channels ({channels})."
            )
        if channels % self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) must be a multiple of the number of channels ({channels})."
            )
        self._norm_weights((channels,), self.center, self.scale)
        super().build(input_shape)

    def call(self, inputs):
        x = _util.cast_like(inputs, self.gamma) if self.gamma is not None else _util.cast_float(inputs, self.dtype)
        axis = self._axes[0]
        # torch's group_norm wants (batch, channels, ...): move the channel axis there and back. The copy
        # to a contiguous layout is needed: torch 2.13's CPU backward of group_norm crashes (segfault) on
        # a channels-last input that does not require grad.
        moved = (x.movedim(axis, 1) if axis != 1 else x).contiguous()
        if (self.gamma is None) == (self.beta is None):
            y = F.group_norm(moved, self.groups, self.gamma, self.beta, self.epsilon)
        else:  # only one of the two: torch's backward cannot take a missing weight with a bias
            y = F.group_norm(moved, self.groups, None, None, self.epsilon)
            per_channel = (-1,) + (1,) * (moved.ndim - 2)
            y = y * self.gamma.reshape(per_channel) if self.gamma is not None else y + self.beta.reshape(per_channel)
        return y.movedim(1, axis) if axis != 1 else y


@_util.shared_doc
class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over ``axis``: ``x / sqrt(max(sum(x**2), 1e-12))``.

    Args:
        axis: axis or list of axes to normalize over (default -1).

    {{same_shape}}

    Example:

    >>> x = np.array([[3.0, 4.0], [1.0, 0.0]], dtype="float32")
    >>> print(keras.layers.UnitNormalization()(x).numpy())
    [[0.6 0.8]
     [1.  0. ]]
    """

    supports_masking = True  # Keras: the mask of the input passes to the output

    _config_keys = ("axis",)

    def __init__(self, axis=-1, **kwargs):
        self.axis = _util.axis_arg(axis)
        super().__init__(**kwargs)

    def call(self, inputs):
        x = _util.cast_float(inputs, self.dtype)
        axes = _axes(self.axis, x.ndim, self)
        square_sum = torch.sum(x * x, dim=axes, keepdim=True)
        return x * torch.rsqrt(torch.clamp(square_sum, min=1e-12))


@_util.shared_doc
class RMSNormalization(_NormBase):
    """Root-mean-square normalization: ``x / sqrt(mean(x**2) + epsilon) * scale`` over ``axis``.

    Like LayerNormalization without centering (no mean subtracted, no ``beta``); ``scale`` has the shape
    of the normalized axes.

    Args:
        axis: axis or list of axes to normalize over (default -1).
        epsilon: added to the mean square (default 1e-6).

    {{same_shape}}

    Example:

    >>> x = np.array([[3.0, 4.0]], dtype="float32")
    >>> print(keras.layers.RMSNormalization()(x).numpy().round(4))  # rms = sqrt((9 + 16) / 2)
    [[0.8485 1.1314]]
    """

    _config_keys = ("axis", "epsilon")

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        self.axis = _util.axis_arg(axis)
        self.epsilon = validation.number(epsilon, "epsilon", 0.0, None, low_inclusive=False)
        super().__init__(**kwargs)

    def build(self, input_shape):
        shape = self._statistics_shape(input_shape)
        self.scale = self.add_weight(shape=shape, initializer="ones", name="scale")
        super().build(input_shape)

    def call(self, inputs):
        x = _util.cast_like(inputs, self.scale)
        axes = self._axes
        mean_square = torch.mean(x * x, dim=axes, keepdim=True)
        return x * torch.rsqrt(mean_square + self.epsilon) * _broadcast(self.scale, axes, x.ndim)
