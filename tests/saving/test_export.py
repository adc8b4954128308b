"""Model.export: ONNX (run with onnxruntime) and torch.export artifacts equal `predict`, with dynamic
batch and image sizes; Keras's other formats and bad arguments raise clear errors; a failed export
leaves an earlier file intact."""

import os

import numpy as np
import pytest
import torch

import strided as keras
from strided import layers, models


def seed_convnet():
    return models.Sequential(
        [
            layers.Input((28, 28, 1), name="pixels"),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.5),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )


def fully_convolutional():
    # Every size-dependent padding rule: 'same' with stride 2 (odd sizes pad asymmetrically), dilation,
    # 'same' max and average pooling, global pooling.
    return models.Sequential(
        [
            layers.Input((None, None, 3)),
            layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2D(4, 3, dilation_rate=2, padding="same"),
            layers.MaxPooling2D(3, strides=2, padding="same"),
            layers.AveragePooling2D(2, padding="same"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2),
        ]
    )


def _trained(model, shape):
    x = np.random.default_rng(0).random((16,) + shape).astype("float32")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, np.arange(16) % 2, epochs=1, batch_size=8, verbose=0)  # moving statistics move off 0/1
    return model


def _onnx_session(path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession(path)


@pytest.mark.slow
def test_onnx_export_equals_predict_for_any_batch(tmp_path, capsys):
    model = _trained(seed_convnet(), (28, 28, 1))
    path = str(tmp_path / "digits.onnx")
    assert model.export(path, format="onnx") == path
    assert f"Saved artifact at '{path}'." in capsys.readouterr().out
    session = _onnx_session(path)
    (inp,) = session.get_inputs()
    assert inp.name == "pixels" and inp.shape[1:] == [28, 28, 1] and isinstance(inp.shape[0], str)
    for batch in (1, 7):
        x = np.random.default_rng(batch).random((batch, 28, 28, 1)).astype("float32")
        np.testing.assert_allclose(session.run(None, {"pixels": x})[0], model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.slow
def test_onnx_export_keeps_image_sizes_dynamic(tmp_path):
    model = fully_convolutional()
    path = str(tmp_path / "fcn.onnx")
    model.export(path, format="onnx", verbose=False)
    session = _onnx_session(path)
    name = session.get_inputs()[0].name
    for shape in ((1, 9, 13, 3), (3, 16, 16, 3), (2, 31, 7, 3)):
        x = np.random.default_rng(0).random(shape).astype("float32")
        np.testing.assert_allclose(
            session.run(None, {name: x})[0], model.predict(x, verbose=0), atol=1e-5, err_msg=str(shape)
        )


@pytest.mark.slow
def test_onnx_export_of_a_two_input_model(tmp_path):
    a, b = keras.Input((8,), name="a"), keras.Input((5,), name="b")
    model = keras.Model([a, b], layers.Dense(3)(layers.Concatenate()([a, layers.Dense(4)(b)])))
    path = str(tmp_path / "two.onnx")
    model.export(path, format="onnx", verbose=False)
    session = _onnx_session(path)
    assert [i.name for i in session.get_inputs()] == ["a", "b"]
    xa, xb = np.ones((4, 8), "float32"), np.linspace(0, 1, 20, dtype="float32").reshape(4, 5)
    np.testing.assert_allclose(session.run(None, {"a": xa, "b": xb})[0], model.predict([xa, xb], verbose=0), atol=1e-5)


def test_torch_export_program_equals_the_model(tmp_path):
    for build, shapes in (
        (seed_convnet, [(1, 28, 28, 1), (5, 28, 28, 1)]),
        (fully_convolutional, [(1, 9, 13, 3), (2, 20, 17, 3)]),
    ):
        model = build()
        path = str(tmp_path / f"{build.__name__}.pt2")
        model.export(path, format="torch", verbose=False)
        program = torch.export.load(path).module()
        for shape in shapes:
            x = torch.rand(shape)
            torch.testing.assert_close(program(x), model(x, training=False), atol=1e-5, rtol=1e-5)


def test_export_errors_name_the_problem(tmp_path):
    model = seed_convnet()
    with pytest.raises(ValueError, match="needs TensorFlow.*format='onnx'.*format='torch'"):
        model.export(str(tmp_path / "saved"))  # Keras's default format, tf_saved_model
    with pytest.raises(ValueError, match=r"Unrecognized format=tflite\. Supported formats are"):
        model.export(str(tmp_path / "m"), format="tflite")
    with pytest.raises(ValueError, match="requires the filepath to end with '.pt2'"):
        model.export(str(tmp_path / "m.pt"), format="torch")
    with pytest.raises(ValueError, match=r"Unsupported arguments for format='torch': \['opset_version'\]"):
        model.export(str(tmp_path / "m.pt2"), format="torch", opset_version=17)
    with pytest.raises(ValueError, match="has no known input shape"):
        models.Sequential([layers.Dense(2)]).export(str(tmp_path / "m.pt2"), format="torch")
    with pytest.raises(ValueError, match="input_signature"):
        model.export(str(tmp_path / "m.pt2"), format="torch", input_signature=[object()])


def test_input_signature_sets_the_traced_shape(tmp_path):
    model = models.Sequential([layers.Conv2D(2, 3), layers.GlobalMaxPooling2D()])  # no Input layer
    path = str(tmp_path / "m.pt2")
    model.export(path, format="torch", input_signature=[(None, 10, 10, 3)], verbose=False)
    x = torch.rand(3, 10, 10, 3)
    torch.testing.assert_close(torch.export.load(path).module()(x), model(x))


def test_failed_export_leaves_the_earlier_file(tmp_path, monkeypatch):
    model = seed_convnet()
    path = tmp_path / "m.pt2"
    path.write_bytes(b"an earlier artifact")

    def broken(*args, **kwargs):
        raise RuntimeError("tracing failed")

    monkeypatch.setattr(torch.export, "export", broken)
    with pytest.raises(RuntimeError, match="tracing failed"):
        model.export(str(path), format="torch", verbose=False)
    assert path.read_bytes() == b"an earlier artifact"
    assert os.listdir(tmp_path) == ["m.pt2"]  # no temporary file left behind
