"""VGG19: VGG16 with four convolutions in blocks 3-5 (Keras names ``block3_conv4``...)."""

from strided.applications.vgg16 import decode_predictions, preprocess_input, vgg  # noqa: F401

VGG19 = vgg((2, 2, 4, 4, 4), "vgg19", "143,667,240")
