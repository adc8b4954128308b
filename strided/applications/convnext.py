"""ConvNeXtTiny, Small, Base, Large and XLarge (Liu et al., "A ConvNet for the 2020s", CVPR 2022).

Built from public layers with Keras's layer names (``convnext_tiny_stem`` (a nested Sequential),
``convnext_tiny_stage_0_block_0_depthwise_conv``..., ``convnext_tiny_downsampling_block_0``,
``convnext_tiny_head_dense``), so Keras's published ImageNet weight files load. The residual
branch of each block ends in a ``LayerScale`` layer (and a ``StochasticDepth`` layer when a drop
path rate is set): both are defined here and saved under Keras's names
(``keras.src.applications.convnext``), so ``.keras`` files interchange with Keras.

As in Keras, the input preprocessing is part of the model: a ``Normalization`` layer standardizes
pixels in [0, 255] with the ImageNet mean and standard deviation, so ``preprocess_input`` is a
pass-through. ConvNeXt supports only the ``channels_last`` image data format.
"""

import numbers

import numpy as np
import torch

from strided.applications import imagenet_utils
from strided.layers.base import Layer
from strided.utils import validation
from strided import layers
from strided.models import Sequential
from strided.backend.name_scope import get_uid
from strided import initializers

BASE_WEIGHTS_PATH = imagenet_utils.KERAS_APPLICATIONS_URL + "convnext/"
WEIGHTS_HASHES = {  # (with the top, without it): sha256, as Keras checks them
    "convnext_tiny": (
        "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
        "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1",
    ),
    "convnext_small": (
        "ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
        "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab",
    ),
    "convnext_base": (
        "52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
        "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45",
    ),
    "convnext_large": (
        "070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
        "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd",
    ),
    "convnext_xlarge": (
        "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05",
    ),
}

# Blocks per stage and channels per stage of each variant (all trained at 224x224).
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024], "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536], "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048], "default_size": 224},
}

# The ImageNet statistics of the pixels, in [0, 255] units (the model's first layer standardizes with them).
_IMAGENET_MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255]
_IMAGENET_VARIANCE = [(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2]
_KERAS_MODULE = "keras.src.applications.convnext"


class StochasticDepth(Layer):
    """Randomly skips a residual branch for whole samples during training ("drop path").

    In training, each sample's input is kept with probability ``1 - drop_path_rate`` and then
    scaled by ``1 / (1 - drop_path_rate)``, or set to zero; outside training the layer is the
    identity. Placed at the end of a residual branch, it drops the branch for that sample.

    Args:
        drop_path_rate: float in [0, 1), the probability of dropping a sample's path.

    Call arguments: ``inputs`` (any rank, batch first) and ``training``.

    Input shape: any. Output shape: the input's shape.
    """

    _keras_module = _KERAS_MODULE  # saved as Keras saves its own class, so .keras files interchange

    _config_keys = ("drop_path_rate",)

    def __init__(self, drop_path_rate, **kwargs):
        if not isinstance(drop_path_rate, numbers.Real) or isinstance(drop_path_rate, bool):
            raise TypeError(
                "Invalid type for argument `drop_path_rate`. Expected a float in [0, 1). "
                f"Received: drop_path_rate={drop_path_rate!r}"
            )
        if not 0 <= drop_path_rate < 1:
            raise ValueError(
                "Invalid value for argument `drop_path_rate`. Expected a float in [0, 1). "
                f"Received: drop_path_rate={drop_path_rate}"
            )
        self.drop_path_rate = float(drop_path_rate)
        super().__init__(**kwargs)

    def call(self, inputs, training=False):
        if not training or self.drop_path_rate == 0:
            return inputs
        keep = 1.0 - self.drop_path_rate
        shape = (inputs.shape[0],) + (1,) * (inputs.ndim - 1)
        mask = torch.empty(shape, dtype=inputs.dtype, device=inputs.device).bernoulli_(keep)
        return inputs / keep * mask


class LayerScale(Layer):
    """Multiplies the last axis by a learned per-channel scale (Touvron et al., CaiT, 2021).

    The scale ``gamma`` (shape ``(projection_dim,)``) starts at ``init_values``, a small number,
    so that a residual branch starts close to zero.

    Args:
        init_values: float, the initial value of every entry of ``gamma``.
        projection_dim: int, the size of the last axis of the input.

    Input shape: ``(..., projection_dim)``. Output shape: the input's shape.
    """

    _keras_module = _KERAS_MODULE

    _config_keys = ("init_values", "projection_dim")

    def __init__(self, init_values, projection_dim, **kwargs):
        if not isinstance(init_values, numbers.Real) or isinstance(init_values, bool):
            raise TypeError(
                f"Invalid type for argument `init_values`. Expected a float. Received: init_values={init_values!r}"
            )
        self.init_values = float(init_values)
        self.projection_dim = validation.positive_int(projection_dim, "projection_dim")
        super().__init__(**kwargs)

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.projection_dim:
            raise ValueError(
                f"Layer '{self.name}' (LayerScale) expects inputs whose last axis has size "
                f"projection_dim={self.projection_dim}. Received: input_shape={tuple(input_shape)}"
            )
        self.gamma = self.add_weight(
            shape=(self.projection_dim,), initializer=initializers.Constant(self.init_values), name="variable"
        )
        super().build(input_shape)

    def call(self, inputs):
        return inputs * self.gamma


def ConvNeXtBlock(projection_dim, drop_path_rate=0.0, layer_scale_init_value=1e-6, name=None):
    """One ConvNeXt block: 7x7 depthwise conv, LayerNorm, 4x MLP (``Dense`` layers), residual.

    Args:
        projection_dim: channels of the block's input and output.
        drop_path_rate: stochastic-depth rate of the residual branch (0: an identity ``Activation``).
        layer_scale_init_value: initial ``LayerScale`` of the branch (``None``: no ``LayerScale``).
        name: prefix of the layer names, e.g. ``'convnext_tiny_stage_0_block_0'``.

    Returns:
        A function from the block's input tensor to its output tensor.
    """
    if name is None:
        name = f"prestem{get_uid('prestem')}"  # Keras's default prefix for an unnamed block

    def apply(inputs):
        x = layers.Conv2D(
            projection_dim, kernel_size=7, padding="same", groups=projection_dim, name=f"{name}_depthwise_conv"
        )(inputs)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
        # The pointwise convolutions are Dense layers on the channel axis, as in the original code.
        x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=f"{name}_gelu")(x)
        x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(x)
        if drop_path_rate:
            last = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
        else:
            last = layers.Activation("linear", name=f"{name}_identity")
        return inputs + last(x)  # a graph operation, as in Keras (no Add layer)

    return apply


def PreStem(name=None):
    """Standardizes pixels in [0, 255] with the ImageNet mean and variance (a ``Normalization`` layer)."""
    if name is None:
        name = f"prestem{get_uid('prestem')}"

    def apply(x):
        return layers.Normalization(
            mean=_IMAGENET_MEAN, variance=_IMAGENET_VARIANCE, name=f"{name}_prestem_normalization"
        )(x)

    return apply


def Head(num_classes=1000, classifier_activation=None, name=None):
    """The classification head: global average pooling, LayerNorm, ``Dense(num_classes)``."""
    if name is None:
        name = f"head{get_uid('head')}"

    def apply(x):
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        return layers.Dense(num_classes, activation=classifier_activation, name=f"{name}_head_dense")(x)

    return apply


def build_convnext(args):
    """Builds a ConvNeXt from its stage depths and widths (``ConvNeXt``'s arguments)."""
    imagenet_utils.require_channels_last("ConvNeXt")
    name, weights_name = args.name, args.weights_name
    depths, projection_dims = list(args.depths), list(args.projection_dims)
    if len(depths) != 4 or len(projection_dims) != 4:
        raise ValueError(
            "ConvNeXt has four stages: `depths` and `projection_dims` must have four entries each. "
            f"Received: depths={depths}, projection_dims={projection_dims}"
        )
    if args.weights == "imagenet":
        variant = MODEL_CONFIGS.get(str(weights_name).split("convnext_")[-1])
        if variant is None or depths != variant["depths"] or projection_dims != variant["projection_dims"]:
            raise ValueError(
                f"Architecture configuration does not match {weights_name} variant. When using "
                "pre-trained weights, the model architecture must match the pre-trained configuration "
                f"exactly. Received: depths={depths}, projection_dims={projection_dims}."
            )
        if weights_name not in name:
            raise ValueError(
                f'Model name "{name}" does not match weights variant "{weights_name}". When using '
                f'imagenet weights, model name must contain the weights variant (e.g., "{weights_name}").'
            )
    img_input = args.image_input(default_size=args.default_size, min_size=32)
    x = img_input
    if args.include_preprocessing and args.input_shape[-1] == 3:
        x = PreStem(name=name)(x)

    # The stem (4x4 patches, stride 4) and the three downsampling layers are nested Sequential
    # models in Keras, and so in its weight files.
    downsample = [
        Sequential(
            [
                layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
                layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm"),
            ],
            name=f"{name}_stem",
        )
    ]
    for i in range(3):
        downsample.append(
            Sequential(
                [
                    layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i}"),
                    layers.Conv2D(
                        projection_dims[i + 1], kernel_size=2, strides=2, name=f"{name}_downsampling_conv_{i}"
                    ),
                ],
                name=f"{name}_downsampling_block_{i}",
            )
        )

    # Stochastic depth grows linearly over the blocks, as in the original code.
    drop_rates = [float(r) for r in np.linspace(0.0, args.drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        x = downsample[i](x)
        for j in range(depths[i]):
            x = ConvNeXtBlock(
                projection_dims[i],
                drop_path_rate=drop_rates[cur + j],
                layer_scale_init_value=args.layer_scale_init_value,
                name=f"{name}_stage_{i}_block_{j}",
            )(x)
        cur += depths[i]

    if args.include_top:
        imagenet_utils.validate_activation(args.classifier_activation, args.weights)
        x = Head(num_classes=args.classes, classifier_activation=args.classifier_activation, name=name)(x)
    else:
        x = args.global_pooling(x, named=False)
        x = layers.LayerNormalization(epsilon=1e-6)(x)  # on the last axis, pooled or not (as Keras)

    file_name = file_hash = None
    if args.weights == "imagenet":
        # Keras derives the file name from `name`; the default names are these files' names.
        file_name = weights_name + (".h5" if args.include_top else "_notop.h5")
        file_hash = WEIGHTS_HASHES[weights_name][0 if args.include_top else 1]
    return args.model(img_input, x, file_name, file_hash, BASE_WEIGHTS_PATH)


_CONVNEXT_ARGS = (
    ("depths", imagenet_utils.REQUIRED),
    ("projection_dims", imagenet_utils.REQUIRED),
    ("drop_path_rate", 0.0),
    ("layer_scale_init_value", 1e-6),
    ("default_size", 224),
    ("name", "convnext"),
    ("include_preprocessing", True),
    ("include_top", True),
    ("weights", None),
    *imagenet_utils.COMMON_ARGS[2:],
    ("weights_name", None),
)
_INCLUDE_PREPROCESSING = (
    "whether the model starts with its ``Normalization`` layer (only for 3-channel inputs). Keep it with "
    "ImageNet weights."
)
ConvNeXt = imagenet_utils.application(
    build_convnext,
    "ConvNeXt",
    _CONVNEXT_ARGS,
    imagenet_utils.application_doc(
        "Builds a ConvNeXt from its stage depths and widths; see ``ConvNeXtTiny``.",
        _CONVNEXT_ARGS,
        depths="number of blocks of each of the four stages.",
        projection_dims="channels of each of the four stages.",
        drop_path_rate="largest stochastic-depth rate, reached by the last block (it grows linearly from 0 over "
        "the blocks); 0 builds no ``StochasticDepth`` layer.",
        layer_scale_init_value="initial value of the blocks' ``LayerScale`` (``None``: none).",
        default_size="the input size used when ``input_shape`` is not given and the top is included.",
        include_preprocessing=_INCLUDE_PREPROCESSING,
        weights_name="key of the published ImageNet weights (``'convnext_tiny'``...).",
    ),
)


_NOTE = """

    The ``base``, ``large`` and ``xlarge`` ImageNet weights were pre-trained on ImageNet-21k, then
    fine-tuned on ImageNet-1k. The model includes its input preprocessing (a ``Normalization``
    layer with the ImageNet statistics): feed float pixels in [0, 255]; ``preprocess_input`` is a
    pass-through. Only the ``channels_last`` data format is supported."""

_ARG_DOCS = dict(
    include_top="whether to include the classification head (pooling, LayerNorm, ``Dense``).",
    include_preprocessing=_INCLUDE_PREPROCESSING,
    input_shape="optional ``(h, w, channels)``; only with ``include_top=False`` may it differ from "
    "``(224, 224, 3)``; height and width at least 32.",
    pooling="with ``include_top=False``: ``None`` (4D feature map), ``'avg'`` or ``'max'``; a final "
    "``LayerNormalization`` follows in every case.",
)
_PARAMS = {
    "tiny": "28,589,128",
    "small": "50,223,688",
    "base": "88,591,464",
    "large": "197,767,336",
    "xlarge": "350,196,968",
}


def _variant(key):
    cfg, weights_name = MODEL_CONFIGS[key], f"convnext_{key}"
    api_name = f"ConvNeXt{'XLarge' if key == 'xlarge' else key.capitalize()}"
    common = imagenet_utils.COMMON_ARGS
    args = (common[0], ("include_preprocessing", True), *common[1:], ("name", weights_name))
    arg_docs = dict(_ARG_DOCS, name=f"the model name (with ImageNet weights it must contain ``'{weights_name}'``).")
    fixed = dict(depths=cfg["depths"], projection_dims=cfg["projection_dims"], default_size=cfg["default_size"])
    return imagenet_utils.variant(
        ConvNeXt, api_name, args, _PARAMS[key], note=_NOTE, arg_docs=arg_docs, weights_name=weights_name, **fixed
    )


ConvNeXtTiny = _variant("tiny")
ConvNeXtSmall = _variant("small")
ConvNeXtBase = _variant("base")
ConvNeXtLarge = _variant("large")
ConvNeXtXLarge = _variant("xlarge")


preprocess_input = imagenet_utils.passthrough_preprocess_input  # the model rescales its input itself
decode_predictions = imagenet_utils.decode_predictions
