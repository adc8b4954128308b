"""The public model builders made by `imagenet_utils.application`: Keras's exact signatures, positional
calls, Python's errors for bad calls, and the docstrings written from the shared argument texts."""

import inspect

import numpy as np
import pytest

import strided
from strided.applications import imagenet_utils

# Keras's applications with the same public names (AlexNet and LeNet5 are strided's own).
KERAS_NAMES = sorted(set(strided.applications.__all__) - {"AlexNet", "LeNet5"})


def _params(fn):
    return [(p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.keras
@pytest.mark.parametrize("name", KERAS_NAMES)
def test_signature_is_keras(real_keras, name):
    assert _params(getattr(strided.applications, name)) == _params(getattr(real_keras.applications, name))


@pytest.mark.keras
def test_family_builders_have_keras_signatures(real_keras):
    from keras.src.applications import convnext, densenet, efficientnet, efficientnet_v2, mobilenet_v3, nasnet, resnet

    ours = strided.applications
    pairs = [
        (ours.resnet.ResNet, resnet.ResNet),
        (ours.densenet.DenseNet, densenet.DenseNet),
        (ours.efficientnet.EfficientNet, efficientnet.EfficientNet),
        (ours.efficientnet_v2.EfficientNetV2, efficientnet_v2.EfficientNetV2),
        (ours.convnext.ConvNeXt, convnext.ConvNeXt),
        (ours.nasnet.NASNet, nasnet.NASNet),
        (ours.mobilenet_v3.MobileNetV3, mobilenet_v3.MobileNetV3),
    ]
    for mine, theirs in pairs:
        if mine.__name__ in ("ResNet", "MobileNetV3"):
            # strided's ResNet takes `name` fourth and MobileNetV3 calls its table `blocks` (Keras: `stack_fn`),
            # as before the builders were generated; the other arguments and all defaults are Keras's.
            renamed = {("stack_fn" if n == "blocks" else n): d for n, d, _ in _params(mine)}
            assert renamed == {n: d for n, d, _ in _params(theirs)}, mine.__name__
        else:
            assert _params(mine) == _params(theirs), mine.__name__


def test_positional_call_is_the_keyword_call():
    # VGG16(include_top, weights, input_tensor, input_shape, pooling, classes, ...), as Keras's order.
    by_position = strided.applications.VGG16(False, None, None, (32, 32, 3), "max", 1000, "softmax", "v")
    by_keyword = strided.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3), pooling="max")
    assert by_position.name == "v" and by_keyword.name == "vgg16"
    assert by_position.output.shape == by_keyword.output.shape == (None, 512)
    assert by_position.count_params() == by_keyword.count_params() == 14_714_688


def test_bad_calls_raise_pythons_type_errors_naming_the_builder():
    with pytest.raises(TypeError, match=r"^ResNet50\(\) got an unexpected keyword argument 'include_tpo'"):
        strided.applications.ResNet50(include_tpo=False, weights=None)
    with pytest.raises(TypeError, match=r"^VGG19\(\) too many positional arguments"):
        strided.applications.VGG19(True, None, None, None, None, 1000, "softmax", "vgg19", "extra")
    with pytest.raises(TypeError, match=r"^DenseNet\(\) missing a required argument: 'blocks'"):
        strided.applications.densenet.DenseNet(weights=None)
    with pytest.raises(TypeError, match=r"^DenseNet121\(\) multiple values for argument 'include_top'"):
        strided.applications.DenseNet121(True, include_top=False)


def test_builders_look_like_functions_of_their_module():
    for name in strided.applications.__all__:
        builder = getattr(strided.applications, name)
        assert builder.__name__ == name
        assert builder.__module__ == f"strided.applications.{strided.applications._MODELS[name]}"
        doc = inspect.cleandoc(builder.__doc__)
        assert "Args:" in doc and "Returns:" in doc, name
        # One documented entry per argument, in the signature's order.
        documented = [line.split(":")[0].strip() for line in doc.split("Args:")[1].split("Returns:")[0].splitlines()]
        documented = [d for d in documented if d and " " not in d]
        assert documented == list(inspect.signature(builder).parameters), name


def test_variant_docstrings_name_parameters_and_input_size():
    doc = strided.applications.EfficientNetB3.__doc__
    assert doc.startswith("Instantiates the EfficientNetB3 architecture (12,320,535 parameters with the top; ")
    assert "default input 300x300x3" in doc and "differ from the\n            default 300x300x3" in doc
    assert "``(224, 224, 3)``" in strided.applications.DenseNet121.__doc__  # a family's own text wins


def test_shared_preprocess_input_and_decode_predictions():
    from strided.applications import densenet, inception_v3, resnet, resnet50

    x = np.full((1, 2, 2, 3), 255.0, dtype="float32")
    np.testing.assert_allclose(inception_v3.preprocess_input(x), 1.0)
    np.testing.assert_allclose(resnet50.preprocess_input(x)[0, 0, 0], [255 - 103.939, 255 - 116.779, 255 - 123.68])
    assert list(inspect.signature(densenet.preprocess_input).parameters) == ["x", "data_format"]
    assert "('torch' mode)" not in densenet.preprocess_input.__doc__
    assert "mode ``'torch'``" in densenet.preprocess_input.__doc__
    assert resnet.decode_predictions is imagenet_utils.decode_predictions


def test_model_args_top_and_pooling():
    args = imagenet_utils.ModelArgs(
        include_top=False, weights=None, input_tensor=None, input_shape=(8, 8, 3), pooling="avg", classes=3
    )
    args.classifier_activation, args.name = "softmax", "m"
    img_input = args.image_input(default_size=8, min_size=8)
    assert args.input_shape == (8, 8, 3)
    x = strided.layers.Conv2D(4, 3)(img_input)
    assert args.global_pooling(x).shape == (None, 4) and args.global_pooling(x, named=False).shape == (None, 4)
    args.pooling = None
    assert args.top(x) is x  # no top, no pooling: the feature map
    args.include_top = True
    model = args.model(img_input, args.top(x, dropout_rate=0.5))
    assert [layer.name for layer in model.layers[-3:]] == ["avg_pool", "top_dropout", "predictions"]
    assert model.output.shape == (None, 3)
