"""ResNet50V2, ResNet101V2 and ResNet152V2 (He et al., "Identity Mappings in Deep Residual
Networks", 2016): pre-activation residual blocks, Keras layer names and ImageNet weights.
Inputs are preprocessed with ``preprocess_input`` ('tf' mode: scaled to [-1, 1]).
"""

from strided.applications import imagenet_utils
from strided.applications.resnet import _DOC, ResNet, stack_residual_blocks_v2


def _v2(depths, default_name, doc_name):
    def builder(
        include_top=True,
        weights="imagenet",
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        name=default_name,
    ):
        def stack_fn(x):
            x = stack_residual_blocks_v2(x, 64, depths[0], name="conv2")
            x = stack_residual_blocks_v2(x, 128, depths[1], name="conv3")
            x = stack_residual_blocks_v2(x, 256, depths[2], name="conv4")
            return stack_residual_blocks_v2(x, 512, depths[3], stride1=1, name="conv5")

        return ResNet(
            stack_fn,
            preact=True,
            use_bias=True,
            name=name,
            include_top=include_top,
            weights=weights,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            weights_name=default_name,
        )

    builder.__name__ = builder.__qualname__ = doc_name
    builder.__doc__ = _DOC.format(name=doc_name)
    return builder


ResNet50V2 = _v2((3, 4, 6, 3), "resnet50v2", "ResNet50V2")
ResNet101V2 = _v2((3, 4, 23, 3), "resnet101v2", "ResNet101V2")
ResNet152V2 = _v2((3, 8, 36, 3), "resnet152v2", "ResNet152V2")


def preprocess_input(x, data_format=None):
    """Preprocesses images for ResNetV2: scales [0, 255] to [-1, 1] ('tf' mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions: ``[(class_id, class_name, score), ...]`` per sample, best first."""
    return imagenet_utils.decode_predictions(preds, top=top)
