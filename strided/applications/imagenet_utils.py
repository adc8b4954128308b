"""ImageNet helpers shared by the applications: input preprocessing, label decoding, input-shape
checks and the published weight files.

``preprocess_input`` follows Keras's three modes exactly ('caffe', 'tf', 'torch');
``decode_predictions`` reads the 1000 ImageNet classes from the bundled
``imagenet_class_index.json`` (the same ids and names as Keras's published file), so it works
offline.
"""

import hashlib
import inspect
import json
import os
import pathlib
import re
import shutil
import tempfile
import textwrap
import types
import urllib.request

import numpy as np

from strided import config
from strided.utils.docstrings import fill_doc

CLASS_INDEX = None
_CLASS_INDEX_FILE = pathlib.Path(__file__).with_name("imagenet_class_index.json")

# Keras publishes the pretrained weights here; `weights_file` looks in the local caches first.
KERAS_APPLICATIONS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"

_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR order, as the original Caffe models
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


# ---------------------------------------------------------------------------- preprocessing
def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of images for an ImageNet model.

    Args:
        x: NumPy array or torch tensor, 3D or 4D, 3 colour channels, values in [0, 255], RGB.
        data_format: ``'channels_last'`` or ``'channels_first'``; default
            ``strided.config.image_data_format()``.
        mode: ``'caffe'`` (RGB -> BGR, subtract the ImageNet channel means, no scaling),
            ``'tf'`` (scale to [-1, 1]) or ``'torch'`` (scale to [0, 1], then normalize with the
            ImageNet mean and standard deviation).

    Returns:
        The preprocessed array (float; integer input becomes floatx). The input is not modified.
    """
    if mode not in ("caffe", "tf", "torch"):
        raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}")
    if data_format is None:
        data_format = config.image_data_format()
    elif data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "Expected data_format to be one of `channels_first` or `channels_last`. "
            f"Received: data_format={data_format}"
        )
    import torch

    if isinstance(x, torch.Tensor):
        return _preprocess_tensor(x, data_format, mode)
    x = np.array(x, copy=True)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(config.floatx())
    if x.ndim not in (3, 4):
        raise ValueError(
            f"preprocess_input expects a 3D image or a 4D batch of images. Received an array of shape {x.shape}."
        )
    channel_axis = -1 if data_format == "channels_last" else x.ndim - 3
    if x.shape[channel_axis] != 3:
        raise ValueError(
            f"preprocess_input expects 3 colour channels on axis {channel_axis} "
            f"({data_format}). Received an array of shape {x.shape}."
        )
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    shape = [1] * x.ndim
    shape[channel_axis] = 3
    if mode == "torch":
        x /= 255.0
        return (x - np.asarray(_TORCH_MEAN, x.dtype).reshape(shape)) / np.asarray(_TORCH_STD, x.dtype).reshape(shape)
    x = np.flip(x, axis=channel_axis)
    return np.ascontiguousarray(x - np.asarray(_CAFFE_MEAN, x.dtype).reshape(shape))


def _preprocess_tensor(x, data_format, mode):
    import torch

    if not torch.is_floating_point(x):
        x = x.to(config.torch_dtype(config.floatx()))
    channel_axis = -1 if data_format == "channels_last" else x.ndim - 3
    if mode == "tf":
        return x / 127.5 - 1.0
    shape = [1] * x.ndim
    shape[channel_axis] = 3
    if mode == "torch":
        mean = torch.tensor(_TORCH_MEAN, dtype=x.dtype, device=x.device).reshape(shape)
        std = torch.tensor(_TORCH_STD, dtype=x.dtype, device=x.device).reshape(shape)
        return (x / 255.0 - mean) / std
    mean = torch.tensor(_CAFFE_MEAN, dtype=x.dtype, device=x.device).reshape(shape)
    return torch.flip(x, dims=(channel_axis,)) - mean


_MODES = {
    "caffe": "Converts RGB to BGR and subtracts the ImageNet channel means (no scaling), as the original\n"
    "Caffe models expect.",
    "tf": "Scales pixels in [0, 255] to [-1, 1].",
    "torch": "Scales pixels in [0, 255] to [0, 1], then normalizes each channel with the ImageNet mean and\n"
    "standard deviation.",
}

_PREPROCESS_DOC = """Preprocesses images for {{model}} (mode ``'{{mode}}'`` of ``preprocess_input``).

    {{what}}

    Args:
        x: images, values in [0, 255], RGB, 3D or 4D, NumPy or torch.
        data_format: optional data format (default the global setting).

    Returns:
        The preprocessed float array (or tensor).
    """


def preprocess_input_for(model, mode):
    """The ``preprocess_input(x, data_format=None)`` of a family module: ``preprocess_input`` in ``mode``."""

    def preprocess(x, data_format=None):
        return preprocess_input(x, data_format=data_format, mode=mode)

    preprocess.__name__ = preprocess.__qualname__ = "preprocess_input"
    preprocess.__doc__ = fill_doc(_PREPROCESS_DOC, model=model, mode=mode, what=_MODES[mode])
    return preprocess


def passthrough_preprocess_input(x, data_format=None):
    """A pass-through, kept for API compatibility: the model preprocesses its input itself.

    EfficientNet, EfficientNetV2, ConvNeXt and MobileNetV3 hold their rescaling and normalization
    as layers inside the model, so their ``preprocess_input`` returns its input unchanged, as in Keras.

    Args:
        x: float images with values in [0, 255] (NumPy array or tensor).
        data_format: ignored (accepted for the common ``preprocess_input`` signature).

    Returns:
        ``x``, unchanged.
    """
    return x


def _class_index():
    global CLASS_INDEX
    if CLASS_INDEX is None:
        with open(_CLASS_INDEX_FILE, encoding="utf-8") as f:
            CLASS_INDEX = json.load(f)
    return CLASS_INDEX


def decode_predictions(preds, top=5):
    """Decodes the predictions of an ImageNet model.

    Args:
        preds: array of shape ``(samples, 1000)`` (NumPy or torch).
        top: how many top classes to return per sample (default 5).

    Returns:
        One list per sample of ``(class_id, class_name, score)`` tuples, best first, e.g.
        ``('n02110185', 'Siberian_husky', 0.17)``.
    """
    if hasattr(preds, "detach"):
        preds = preds.detach().cpu().numpy()
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
            f"(samples, 1000)). Received array with shape: {preds.shape}"
        )
    index = _class_index()
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(index[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


# ---------------------------------------------------------------------------- builder helpers
def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten, weights=None):
    """The model's input shape from the user's ``input_shape``, checked as Keras checks it.

    With ``include_top=True`` (``require_flatten``) the spatial size is fixed; with ImageNet weights
    the input needs 3 channels; spatial sizes below ``min_size`` are refused.
    """
    if input_shape is not None:
        try:
            input_shape = tuple(None if d is None else int(d) for d in input_shape)
        except TypeError:
            raise TypeError(
                f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape!r}"
            ) from None
    channels_last = data_format != "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[-1] if channels_last else input_shape[0]
        default_shape = (
            (default_size, default_size, channels) if channels_last else (channels, default_size, default_size)
        )
    else:
        default_shape = (default_size, default_size, 3) if channels_last else (3, default_size, default_size)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, `input_shape` "
                f"should be {default_shape}.  Received: input_shape={input_shape}"
            )
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape}")
        channels = input_shape[-1] if channels_last else input_shape[0]
        spatial = input_shape[:2] if channels_last else input_shape[1:]
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if any(d is not None and d < min_size for d in spatial):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: input_shape={input_shape}")
    else:
        if require_flatten:
            input_shape = default_shape
        else:
            input_shape = (None, None, 3) if channels_last else (3, None, None)
    if require_flatten and None in input_shape:
        raise ValueError(
            f"If `include_top` is True, you should specify a static `input_shape`. Received: input_shape={input_shape}"
        )
    return input_shape


def correct_pad(inputs, kernel_size):
    """Zero-padding ``((top, bottom), (left, right))`` for a stride-2 convolution, as Keras pads."""
    shape = inputs.shape[1:3] if config.image_data_format() == "channels_last" else inputs.shape[2:4]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if shape[0] is None else (1 - shape[0] % 2, 1 - shape[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def validate_activation(classifier_activation, weights):
    """Pretrained classifiers allow only ``None`` or ``'softmax'`` as the top activation."""
    if weights is None:
        return
    ok = classifier_activation in (None, "softmax", "linear")
    if not ok and callable(classifier_activation):
        ok = getattr(classifier_activation, "__name__", None) in ("softmax", "linear")
    if not ok:
        raise ValueError(
            "Only `None` and `softmax` activations are allowed for the `classifier_activation` "
            "argument when using pretrained weights, with `include_top=True`; Received: "
            f"classifier_activation={classifier_activation}"
        )


def require_channels_last(family):
    """``family`` (DenseNet, NASNet, ConvNeXt) refuses ``channels_first`` as Keras's does: a clear error."""
    if config.image_data_format() == "channels_first":
        raise ValueError(
            f"{family} does not support the `channels_first` image data format. Switch to "
            "`channels_last` with `strided.config.set_image_data_format('channels_last')`."
        )


def check_weights_argument(weights, include_top, classes):
    """Keras's checks on ``weights`` and ``classes``, before anything is built."""
    if not (weights in ("imagenet", None) or (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), 'imagenet' "
            "(pre-training on ImageNet), or the path to the weights file to be loaded.  Received: "
            f"weights={weights}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
            f"Received classes={classes}"
        )
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 1:
        raise ValueError(
            f"Invalid value for argument `classes`. Expected a strictly positive integer. Received: classes={classes!r}"
        )


def image_input(input_tensor, input_shape):
    """The model input: ``input_tensor`` when it is a symbolic tensor, else a new ``Input``."""
    if input_tensor is None:
        return Input(shape=input_shape)
    if not isinstance(input_tensor, KerasTensor):
        raise TypeError(
            "`input_tensor` must be a symbolic tensor from `strided.Input(...)` (or a layer "
            f"output). Received: input_tensor of type {type(input_tensor).__name__}"
        )
    return input_tensor


from strided.backend.keras_tensor import get_source_inputs  # noqa: E402  (re-exported: Keras has it here too)

from strided import layers
from strided.layers import Input, KerasTensor
from strided.models import Model
from strided.saving import saving_api


# ---------------------------------------------------------------------------- the builders' shared steps
REQUIRED = inspect.Parameter.empty  # an argument without a default, in an `application` signature

# The arguments of every ImageNet model builder, in Keras's order; a builder adds its own around them
# (NASNet and the MobileNets move `input_shape` first, ConvNeXt puts `include_preprocessing` second).
COMMON_ARGS = (
    ("include_top", True),
    ("weights", "imagenet"),
    ("input_tensor", None),
    ("input_shape", None),
    ("pooling", None),
    ("classes", 1000),
    ("classifier_activation", "softmax"),
)


def common_args(*names):
    """The ``(name, default)`` pairs of ``COMMON_ARGS`` named, in the order given (Keras's order varies)."""
    defaults = dict(COMMON_ARGS)
    return tuple((name, defaults[name]) for name in names)


class ModelArgs(types.SimpleNamespace):
    """The arguments of one call of a model builder (``args.include_top``, ``args.weights``...), and the
    steps that every ImageNet builder takes with them: the checked image input, the top, the model
    with its weights."""

    def image_input(self, default_size=224, min_size=32):
        """Keras's checks on ``weights`` and ``classes``, then the image input; sets ``self.input_shape``
        to the checked shape (``obtain_input_shape``)."""
        check_weights_argument(self.weights, self.include_top, self.classes)
        self.input_shape = obtain_input_shape(
            self.input_shape, default_size, min_size, config.image_data_format(), self.include_top, self.weights
        )
        return image_input(self.input_tensor, self.input_shape)

    def global_pooling(self, x, named=True):
        """Without the top: the global ``'avg'`` or ``'max'`` pooling ``pooling`` asks for (named
        ``avg_pool`` / ``max_pool`` where Keras names them), else ``x`` itself."""
        if self.pooling == "avg":
            return layers.GlobalAveragePooling2D(name="avg_pool" if named else None)(x)
        if self.pooling == "max":
            return layers.GlobalMaxPooling2D(name="max_pool" if named else None)(x)
        return x

    def top(self, x, named_pooling=True, pool_name="avg_pool", dropout_rate=0.0, **dense_kwargs):
        """The usual top: global average pooling (``pool_name``), a ``top_dropout`` layer when
        ``dropout_rate > 0`` and the ``predictions`` Dense layer; without the top, ``global_pooling``."""
        if not self.include_top:
            return self.global_pooling(x, named_pooling)
        x = layers.GlobalAveragePooling2D(name=pool_name)(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        validate_activation(self.classifier_activation, self.weights)
        return layers.Dense(self.classes, activation=self.classifier_activation, name="predictions", **dense_kwargs)(x)

    def model(self, img_input, outputs, file_name=None, file_hash=None, base_url=None, origin=None):
        """The functional model named ``self.name``, with ``self.weights`` loaded: a path, or 'imagenet'
        (the published ``file_name``, from ``origin`` or else ``base_url + file_name``)."""
        model = build_model(img_input, self.input_tensor, outputs, self.name)
        if origin is None and base_url is not None and file_name is not None:
            origin = base_url + file_name
        return load_pretrained(model, self.weights, file_name, file_hash, origin)


def application(build, api_name, args, doc, **fixed):
    """A public model builder ``api_name(<args>)`` that calls ``build`` with ``fixed`` and its arguments.

    The variants of a family (ResNet50, ResNet101...) differ only in fixed arguments (``fixed``), so
    one ``build`` serves them all, and the arguments they share are written once (``COMMON_ARGS``).
    ``build`` is a function of one ``ModelArgs``, or the family's own builder made by ``application``
    (``EfficientNet``), then called with keywords. The builder has the exact signature ``args``
    (``(name, default)`` pairs, in Keras's order; ``REQUIRED`` for none), so positional calls,
    ``inspect.signature`` and ``help`` work as for a function written out, and an unknown keyword
    raises Python's usual ``TypeError``.
    """
    signature = inspect.Signature(
        [inspect.Parameter(arg, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default) for arg, default in args]
    )
    family = hasattr(build, "__signature__")

    def builder(*call_args, **call_kwargs):
        try:
            bound = signature.bind(*call_args, **call_kwargs)
        except TypeError as e:
            raise TypeError(f"{api_name}() {e}") from None
        bound.apply_defaults()
        if family:
            return build(**fixed, **bound.arguments)
        return build(ModelArgs(**fixed, **bound.arguments))

    builder.__signature__ = signature
    builder.__name__ = builder.__qualname__ = api_name
    builder.__module__ = build.__module__
    builder.__doc__ = doc
    return builder


def variant(build, api_name, args, params, size=224, min_size=32, note="", arg_docs=None, **fixed):
    """``application(build, api_name, args, doc, **fixed)`` for one model of a family, its docstring
    made of the model's parameter count with the top (``params``), its default input size, ``note``
    (more paragraphs, indented) and the ``Args:`` of ``application_doc``."""
    summary = f"Instantiates the {api_name} architecture ({params} parameters with the top; "
    summary += f"default input {size}x{size}x3).{note}"
    doc = application_doc(summary, args, size, min_size, **(arg_docs or {}))
    return application(build, api_name, args, doc, **fixed)


# What each argument of a model builder means, unless the family says more (`application_doc`).
_ARG_DOCS = {
    "include_top": "whether to include the global pooling and the ``predictions`` layer.",
    "weights": "``None`` (random initialization), ``'imagenet'`` (Keras's published weights, read from "
    "``~/.keras/models`` or ``$STRIDED_HOME/models``, downloaded if the network allows), or the path to a "
    "weights file (``.h5`` Keras 2 layout or ``.weights.h5``).",
    "input_tensor": "optional symbolic tensor (from ``strided.Input``) to use as the image input.",
    "input_shape": "optional ``(h, w, 3)``; only with ``include_top=False`` may it differ from the default "
    "{size}x{size}x3; height and width at least {min_size}.",
    "pooling": "with ``include_top=False``: ``None`` (4D feature map), ``'avg'`` or ``'max'``.",
    "classes": "number of classes (1000 with ImageNet weights and ``include_top=True``).",
    "classifier_activation": "activation of the top layer (``'softmax'``; ``None`` for logits).",
    "name": "the model name.",
}

_DOC = """{{summary}}

    Args:
        {{args}}

    Returns:
        A functional ``Model``.
    """


def application_doc(summary, args, size=224, min_size=32, **arg_docs):
    """The docstring of a model builder: ``summary`` (a first line, then indented paragraphs), then
    one ``Args:`` entry per argument of ``args`` (the builder's signature), from ``arg_docs`` or the
    shared ``_ARG_DOCS`` (``size`` and ``min_size`` fill in the default input size)."""
    entries = []
    for arg, _ in args:
        text = arg_docs.get(arg) or _ARG_DOCS[arg].format(size=size, min_size=min_size)
        # Wrapped at spaces outside ``literals`` only (a no-break space stands in while wrapping).
        text = re.sub(r"``.*?``", lambda m: m.group(0).replace(" ", "\u00a0"), text)
        entries.append(textwrap.fill(f"{arg}: {text}", width=96, subsequent_indent="    ").replace("\u00a0", " "))
    return fill_doc(_DOC, summary=summary, args="\n".join(entries))


def build_model(img_input, input_tensor, outputs, name):
    """The functional model from the image input (or the sources of ``input_tensor``) to ``outputs``."""
    inputs = get_source_inputs(input_tensor) if input_tensor is not None else img_input
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    return Model(inputs, outputs, name=name)


def load_pretrained(model, weights, file_name=None, file_hash=None, origin=None):
    """Loads ``weights`` into ``model``: a path, or 'imagenet' (the published ``file_name``)."""
    if weights is None:
        return model
    if weights == "imagenet":
        if file_name is None:
            raise ValueError(
                f"Model '{model.name}' has no published ImageNet weights for this configuration. "
                "Use weights=None or the path to a weights file."
            )
        path = weights_file(file_name, origin or KERAS_APPLICATIONS_URL + file_name, file_hash)
    else:
        path = os.fspath(weights)
    saving_api.load_weights(model, path)
    return model


# ---------------------------------------------------------------------------- weight files
def cache_dirs():
    """Directories searched for ``models/<file>``: $STRIDED_HOME, $KERAS_HOME, then ~/.keras."""
    dirs = []
    for var in ("STRIDED_HOME", "KERAS_HOME"):
        if os.environ.get(var):
            dirs.append(pathlib.Path(os.environ[var]) / "models")
    dirs.append(pathlib.Path(os.path.expanduser("~")) / ".keras" / "models")
    return dirs


def file_hash_matches(path, expected):
    """Whether the file's hash (sha256 for 64-hex hashes, else md5, as Keras) equals ``expected``."""
    if not expected:
        return True
    hasher = hashlib.sha256() if len(expected) == 64 else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest() == expected


def weights_file(file_name, origin, file_hash=None):
    """Path of a published weight file: found in a cache directory, else downloaded (hash checked).

    Raises:
        FileNotFoundError: offline and not cached; the message names the file, the URL and where to
            put it.
        ValueError: the cached or downloaded file does not have the published hash.
    """
    dirs = cache_dirs()
    for d in dirs:
        candidate = d / file_name
        if candidate.is_file():
            if not file_hash_matches(candidate, file_hash):
                raise ValueError(
                    f"The weights file {candidate} does not have the published hash {file_hash} "
                    f"(incomplete or corrupted download?). Delete it and download it again from "
                    f"{origin}."
                )
            return str(candidate)
    target_dir = dirs[0]
    error = None
    if not os.environ.get("STRIDED_OFFLINE"):
        try:
            return _download(origin, target_dir / file_name, file_hash)
        except ValueError:
            raise
        except Exception as e:  # no network: one clear message below
            error = e
    places = " or ".join(str(d) for d in dirs)
    raise FileNotFoundError(
        f"ImageNet weights file '{file_name}' was not found in {places}, and it could not be downloaded"
        + (f" ({type(error).__name__}: {error})" if error else " (STRIDED_OFFLINE is set)")
        + f". Download it from {origin} and put it in one of those directories "
        "(for example ~/.keras/models/), or pass weights='/path/to/" + file_name + "'."
    )


def _download(origin, target, file_hash):
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(origin, timeout=30) as response:
            shutil.copyfileobj(response, out, 1 << 20)
        if not file_hash_matches(tmp, file_hash):
            raise ValueError(
                f"The file downloaded from {origin} does not have the published hash {file_hash}; "
                "it was not kept. Try again."
            )
        os.replace(tmp, target)
        return str(target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
