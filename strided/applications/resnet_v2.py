"""ResNet50V2, ResNet101V2 and ResNet152V2 (He et al., "Identity Mappings in Deep Residual
Networks", 2016): pre-activation residual blocks, Keras layer names and ImageNet weights.
Inputs are preprocessed with ``preprocess_input`` ('tf' mode: scaled to [-1, 1]).
"""

from strided.applications import imagenet_utils
from strided.applications.resnet import variant

ResNet50V2 = variant(True, (3, 4, 6, 3), "resnet50v2", "ResNet50V2", "25,613,800", __name__)
ResNet101V2 = variant(True, (3, 4, 23, 3), "resnet101v2", "ResNet101V2", "44,675,560", __name__)
ResNet152V2 = variant(True, (3, 8, 36, 3), "resnet152v2", "ResNet152V2", "60,380,648", __name__)


preprocess_input = imagenet_utils.preprocess_input_for("ResNetV2", "tf")
decode_predictions = imagenet_utils.decode_predictions
