"""Classic CNN architectures with Keras's layer names and Keras's published ImageNet weights.

``strided.applications.ResNet50(weights='imagenet')`` builds the network and loads Keras's weight
file (from ``~/.keras/models`` or ``$STRIDED_HOME/models``). Each family module (``resnet50``,
``resnet``, ``resnet_v2``, ``vgg16``, ``vgg19``, ``xception``, ``mobilenet``, ``mobilenet_v2``, ``mobilenet_v3``,
``densenet``, ``inception_v3``, ``inception_resnet_v2``, ``efficientnet``, ``efficientnet_v2``, ``convnext``,
``nasnet``)
also has its ``preprocess_input`` and ``decode_predictions``, as in Keras:
``from strided.applications.resnet50 import ResNet50, preprocess_input, decode_predictions``.
"""

from strided.utils.lazy_module import lazy_attributes

_MODELS = {
    "LeNet5": "lenet",
    "AlexNet": "alexnet",
    "VGG16": "vgg16",
    "VGG19": "vgg19",
    "ResNet50": "resnet",
    "ResNet101": "resnet",
    "ResNet152": "resnet",
    "ResNet50V2": "resnet_v2",
    "ResNet101V2": "resnet_v2",
    "ResNet152V2": "resnet_v2",
    "Xception": "xception",
    "MobileNetV2": "mobilenet_v2",
    "MobileNet": "mobilenet",
    "MobileNetV3Small": "mobilenet_v3",
    "MobileNetV3Large": "mobilenet_v3",
    "DenseNet121": "densenet",
    "DenseNet169": "densenet",
    "DenseNet201": "densenet",
    "InceptionV3": "inception_v3",
    "InceptionResNetV2": "inception_resnet_v2",
    "NASNetMobile": "nasnet",
    "NASNetLarge": "nasnet",
    **{f"EfficientNetB{i}": "efficientnet" for i in range(8)},
    **{f"EfficientNetV2{v}": "efficientnet_v2" for v in ("B0", "B1", "B2", "B3", "S", "M", "L")},
    **{f"ConvNeXt{v}": "convnext" for v in ("Tiny", "Small", "Base", "Large", "XLarge")},
}
_MODULES = (
    "imagenet_utils",
    "lenet",
    "alexnet",
    "vgg16",
    "vgg19",
    "resnet",
    "resnet50",
    "resnet_v2",
    "xception",
    "mobilenet_v2",
    "mobilenet",
    "mobilenet_v3",
    "densenet",
    "inception_v3",
    "efficientnet",
    "efficientnet_v2",
    "convnext",
    "inception_resnet_v2",
    "nasnet",
)


__getattr__, __dir__ = lazy_attributes(
    __name__, {name: f"{__name__}.{module}" for name, module in _MODELS.items()}, _MODULES
)


__all__ = list(_MODELS)
