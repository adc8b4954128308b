"""Where does the network look? Grad-CAM heat maps and input-gradient saliency maps.

Grad-CAM (Selvaraju et al., 2017): weight each channel of a conv layer's output by the mean gradient
of the class score over that channel, sum, keep the positive part, upsample to the input size.
"""

import contextlib

import numpy as np
import torch
import torch.nn.functional as F

from strided.visualize._common import as_batch, figure_doc, finish, model_inputs, pyplot, resolve_layer, to_numpy
from strided import config
from strided.models import Model
from strided import activations


def _channels_first(layer):
    fmt = getattr(layer, "data_format", None) or config.image_data_format()
    return fmt == "channels_first"


def last_conv_layer(model):
    """The last layer of ``model`` with a kernel and a 4D (image-shaped) output: Grad-CAM's default."""
    fallback = None
    for layer in reversed(list(model.layers)):
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) != 4:
            continue
        if hasattr(layer, "kernel_size"):
            return layer
        fallback = fallback or layer
    if fallback is None:
        raise ValueError(
            f"Model '{model.name}' has no layer with an image-shaped (4D) output, so Grad-CAM has no "
            "feature maps to weight. Pass `layer=` explicitly."
        )
    return fallback


def _activation_name(fn):
    name = getattr(fn, "__name__", None)
    if name is None:
        try:
            name = activations.serialize(fn)
        except Exception:  # an unknown callable: treated as "not softmax/sigmoid"
            name = None
    return name if isinstance(name, str) else None


@contextlib.contextmanager
def _pre_activation(model):
    """Runs ``model`` with a final softmax/sigmoid removed, so scores are logits (no saturation).

    Yields 'softmax', 'sigmoid' or None (the output layer was left alone). The Keras Grad-CAM
    example does the same by setting ``model.layers[-1].activation = None``.
    """
    outputs = getattr(model, "outputs", None) or []
    layer = outputs[0]._keras_history[0] if len(outputs) == 1 else None
    kind = _activation_name(getattr(layer, "activation", None)) if layer is not None else None
    if kind not in ("softmax", "sigmoid"):
        yield None
        return
    original = layer.activation
    layer.activation = lambda x: x
    try:
        yield kind
    finally:
        layer.activation = original


def _scores(outputs, class_index, kind=None):
    """Per-sample class score to differentiate, and the class used.

    ``kind`` says what ``outputs`` are: logits of a removed 'softmax' or 'sigmoid' (the score is the
    logit; for one sigmoid unit, class 1 scores z and class 0 scores -z, as Keras's binary
    convention), or None for the model's own outputs. Those are scored by their log when they look
    like probabilities (all in [0, 1]), which keeps the gradient of a confident softmax alive.
    """
    out = outputs.reshape(outputs.shape[0], -1)
    n = out.shape[0]
    with torch.no_grad():
        probabilities = kind is None and bool(((out >= 0) & (out <= 1)).all())
    binary = out.shape[1] == 1 and (kind == "sigmoid" or probabilities)
    n_classes = 2 if binary else out.shape[1]
    if class_index is None:
        if binary:
            idx = (out[:, 0] > (0.0 if kind == "sigmoid" else 0.5)).long()
        elif out.shape[1] > 1:
            idx = out.argmax(dim=1)
        else:
            idx = torch.zeros(n, dtype=torch.long, device=out.device)
    else:
        idx = torch.as_tensor(
            np.broadcast_to(np.asarray(class_index), (n,)).copy(), dtype=torch.long, device=out.device
        )
        if (idx < 0).any() or (idx >= n_classes).any():
            raise ValueError(
                f"Invalid value for argument `class_index`: the model has {n_classes} classes. "
                f"Received class_index={class_index!r}."
            )
    if binary and kind == "sigmoid":
        return torch.where(idx == 1, out[:, 0], -out[:, 0]), idx
    if binary:
        chosen = torch.where(idx == 1, out[:, 0], 1 - out[:, 0])
    else:
        chosen = out.gather(1, idx[:, None])[:, 0]
    if probabilities:
        chosen = torch.log(chosen.clamp_min(1e-12))
    return chosen, idx


def _prepare_input(model, x):
    single = len(np.shape(x)) == len(model_inputs(model)[0].shape) - 1
    batch = as_batch(x, model)
    device = next((w.device for w in model.weights), None)
    t = torch.as_tensor(to_numpy(batch), dtype=config.torch_dtype(None), device=device or config.get_device())
    return t.detach().clone().requires_grad_(True), single


def _normalize(maps):
    flat = maps.reshape(maps.shape[0], -1)
    low = flat.min(dim=1).values.view(-1, *[1] * (maps.ndim - 1))
    high = flat.max(dim=1).values.view(-1, *[1] * (maps.ndim - 1))
    span = high - low
    return torch.where(span > 0, (maps - low) / span.clamp_min(1e-12), torch.zeros_like(maps))


def grad_cam(model, x, layer=None, class_index=None):
    """Grad-CAM heat map of ``model``'s decision for ``x``.

    Args:
        model: a Sequential or functional model with image input.
        x: one image ``(H, W, C)`` or a batch ``(N, H, W, C)``.
        layer: the conv layer whose feature maps are weighted (a layer, name or index; default the
            last layer with a kernel and an image-shaped output).
        class_index: class to explain (int, or one per sample); default the predicted class. For a
            single sigmoid output, 1 explains the positive class and 0 the negative one.

    Returns:
        NumPy float array in [0, 1] of the input's spatial size: ``(H, W)`` for one image,
        ``(N, H, W)`` for a batch. 1 marks the region that raised the class score most.
    """
    layer = last_conv_layer(model) if layer is None else resolve_layer(model, layer)
    inputs = model_inputs(model)
    sub = Model(inputs=inputs, outputs=[layer.output, model.outputs[0]])
    t, single = _prepare_input(model, x)
    with torch.enable_grad(), _pre_activation(model) as kind:
        features, outputs = sub(t)
        score, _ = _scores(outputs, class_index, kind)
        (grads,) = torch.autograd.grad(score.sum(), features)
    if features.ndim != 4:
        raise ValueError(
            f"Grad-CAM needs an image-shaped layer output; layer '{layer.name}' gives shape {tuple(features.shape)}."
        )
    if not _channels_first(layer):
        features, grads = features.permute(0, 3, 1, 2), grads.permute(0, 3, 1, 2)
    weights = grads.mean(dim=(2, 3), keepdim=True)  # alpha_k: pooled gradient of each channel
    cam = F.relu((weights * features).sum(dim=1, keepdim=True)).detach()
    spatial = tuple(t.shape[2:4]) if config.image_data_format() == "channels_first" else tuple(t.shape[1:3])
    cam = F.interpolate(cam.float(), size=spatial, mode="bilinear", align_corners=False)[:, 0]
    peak = cam.flatten(1).max(dim=1).values.view(-1, 1, 1)
    cam = torch.where(peak > 0, cam / torch.where(peak > 0, peak, torch.ones_like(peak)), torch.zeros_like(cam))
    out = to_numpy(cam.clamp(0, 1)).astype(np.float32)
    return out[0] if single else out


def saliency_map(model, x, class_index=None):
    """Vanilla gradient saliency: ``|d score / d input|``, maximum over colour channels.

    Args:
        model: a model with image input.
        x: one image ``(H, W, C)`` or a batch.
        class_index: class to explain; default the predicted class.

    Returns:
        NumPy float array in [0, 1]: ``(H, W)`` for one image, ``(N, H, W)`` for a batch.
    """
    t, single = _prepare_input(model, x)
    with torch.enable_grad(), _pre_activation(model) as kind:
        outputs = model(t)
        score, _ = _scores(outputs, class_index, kind)
        (grads,) = torch.autograd.grad(score.sum(), t)
    g = grads.abs()
    if g.ndim == 4:
        g = g.amax(dim=1 if config.image_data_format() == "channels_first" else -1)
    out = to_numpy(_normalize(g.detach().float())).astype(np.float32)
    return out[0] if single else out


@figure_doc(axes=" with two axes (image, overlay)")
def plot_grad_cam(
    model, x, layer=None, class_index=None, alpha=0.45, cmap="jet", figsize=None, title=None, save_path=None
):
    """Draws an image beside its Grad-CAM heat map laid over it.

    Args:
        model, x, layer, class_index: as in ``grad_cam`` (``x`` is one image).
        alpha: opacity of the heat map over the image.
        cmap: colour map of the heat map.
    {{figure}}
    """
    image = to_numpy(x)
    if image.ndim == 4:
        image = image[0]
    heat = grad_cam(model, image, layer=layer, class_index=class_index)
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=figsize or (6, 3.2))
    shown = image[..., 0] if image.shape[-1] == 1 else image
    for ax in axes:
        ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[1].imshow(heat, cmap=cmap, alpha=alpha, vmin=0, vmax=1)
    axes[0].set_title("input")
    axes[1].set_title("Grad-CAM")
    return finish(fig, save_path, title)
