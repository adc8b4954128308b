"""callbacks.RemoteMonitor, saving.KerasFileEditor and layers.MaxNumBoundingBoxes against real Keras 3."""

import http.server
import json
import socket
import threading
import urllib.parse
import warnings

import h5py
import numpy as np
import pytest
import torch

import strided
from strided import layers
from strided.callbacks import RemoteMonitor
from strided.saving import KerasFileEditor


# ============================================================================ RemoteMonitor


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.requests, httpd.status = [], 200
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _root(httpd):
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def _tiny_model():
    model = strided.Sequential([strided.Input((3,)), layers.Dense(2)])
    model.compile("sgd", "mse")
    return model


def _xy():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")


class _FakeRequests:
    """Stands in for `requests` in Keras's RemoteMonitor (not installed here): records each post."""

    class exceptions:  # noqa: N801 (requests' name)
        RequestException = OSError

    def __init__(self):
        self.calls = []

    def post(self, url, data=None, json=None, headers=None):
        self.calls.append({"url": url, "data": data, "json": json, "headers": headers})


def _keras_posts(real_keras, monkeypatch, monitor_kwargs, epoch, logs):
    from keras.src.callbacks import remote_monitor

    fake = _FakeRequests()
    monkeypatch.setattr(remote_monitor, "requests", fake)
    real_keras.callbacks.RemoteMonitor(**monitor_kwargs).on_epoch_end(epoch, logs)
    return fake.calls


def test_remote_monitor_posts_json_like_keras(real_keras, server, monkeypatch):
    root = _root(server)
    kwargs = dict(root=root, path="/epoch/", headers={"X-Run": "exp-1"}, send_as_json=True)
    logs = {"loss": np.float32(0.25), "accuracy": np.array(0.5, dtype="float32"), "lr": 0.01}
    RemoteMonitor(**kwargs).on_epoch_end(3, logs)
    (req,) = server.requests
    assert req["path"] == "/epoch/"
    assert req["headers"]["Content-Type"] == "application/json"
    assert req["headers"]["X-Run"] == "exp-1"
    (call,) = _keras_posts(real_keras, monkeypatch, kwargs, 3, logs)
    assert call["url"] == root + "/epoch/" and call["headers"] == {"X-Run": "exp-1"}
    assert json.loads(req["body"]) == call["json"] == {"epoch": 3, "loss": 0.25, "accuracy": 0.5, "lr": 0.01}


def test_remote_monitor_posts_a_form_field_like_keras(real_keras, server, monkeypatch):
    kwargs = dict(root=_root(server), field="payload")
    logs = {"loss": np.float64(1.5), "val_loss": 2.0}
    RemoteMonitor(**kwargs).on_epoch_end(0, logs)
    (req,) = server.requests
    assert req["path"] == "/publish/epoch/end/"  # Keras's default path
    assert req["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    form = urllib.parse.parse_qs(req["body"].decode())
    (call,) = _keras_posts(real_keras, monkeypatch, kwargs, 0, logs)
    assert {k: v[0] for k, v in form.items()} == call["data"]
    assert json.loads(form["payload"][0]) == {"epoch": 0, "loss": 1.5, "val_loss": 2.0}


def test_remote_monitor_defaults_match_keras(real_keras):
    ours, theirs = RemoteMonitor(), real_keras.callbacks.RemoteMonitor()
    for name in ("root", "path", "field", "headers", "send_as_json"):
        assert getattr(ours, name) == getattr(theirs, name), name


def test_remote_monitor_during_fit_sends_each_epoch_logs(server):
    x, y = _xy()
    model = _tiny_model()
    history = model.fit(
        x, y, epochs=2, batch_size=4, verbose=0, callbacks=[RemoteMonitor(root=_root(server), send_as_json=True)]
    )
    bodies = [json.loads(r["body"]) for r in server.requests]
    assert [b["epoch"] for b in bodies] == [0, 1]
    np.testing.assert_allclose([b["loss"] for b in bodies], history.history["loss"], rtol=1e-6)


def test_remote_monitor_unreachable_server_warns_and_training_goes_on():
    with socket.socket() as s:  # a port on which nobody listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    x, y = _xy()
    model = _tiny_model()
    with pytest.warns(UserWarning, match=f"Could not reach RemoteMonitor root server at http://127.0.0.1:{port}"):
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[RemoteMonitor(root=f"http://127.0.0.1:{port}")])
    assert len(history.history["loss"]) == 2
    with pytest.warns(UserWarning, match="Could not reach"):  # no scheme: requests raises too, Keras warns
        RemoteMonitor(root="127.0.0.1:1").on_epoch_end(0, {"loss": 1.0})


def test_remote_monitor_error_status_is_ignored_and_nan_is_refused_in_json(server):
    server.status = 500
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RemoteMonitor(root=_root(server)).on_epoch_end(0, {"loss": float("nan")})  # form: NaN is written
    assert b"NaN" in server.requests[0]["body"]
    with pytest.warns(UserWarning, match="Could not reach"):  # requests' json= refuses NaN
        RemoteMonitor(root=_root(server), send_as_json=True).on_epoch_end(1, {"loss": float("nan")})
    assert len(server.requests) == 1


def test_remote_monitor_bad_arguments():
    with pytest.raises(TypeError, match="argument `headers`.*Received: headers='X-Run: 1'"):
        RemoteMonitor(headers="X-Run: 1")
    with pytest.raises(TypeError, match="argument `root`.*Received: root=9000"):
        RemoteMonitor(root=9000)


# ============================================================================ KerasFileEditor


def _keras_model(k, units=(4, 3), name_prefix=""):
    inp = k.Input((6, 6, 1))
    x = k.layers.Conv2D(2, 3)(inp)
    x = k.layers.BatchNormalization()(x)
    x = k.layers.Flatten()(x)
    for u in units:
        x = k.layers.Dense(u)(x)
    return k.Model(inp, x)


def _pair(real_keras, units=(4, 3)):
    """The same architecture in Keras and strided, with Keras's weights copied across."""
    theirs = _keras_model(real_keras, units)
    ours = _keras_model(strided, units)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def _tree(d):
    return {k: _tree(v) if isinstance(v, dict) else np.asarray(v) for k, v in d.items()}


def _assert_same_tree(a, b):
    assert list(a.keys()) == list(b.keys())
    for key in a:
        if isinstance(a[key], dict):
            _assert_same_tree(a[key], b[key])
        else:
            assert np.shape(a[key]) == np.shape(b[key]), key
            np.testing.assert_allclose(np.asarray(a[key], dtype="float64"), np.asarray(b[key], dtype="float64"))


def _open_both(real_keras, path, capsys):
    theirs = real_keras.saving.KerasFileEditor(str(path))
    ours = KerasFileEditor(str(path))
    capsys.readouterr()
    return theirs, ours


def _summary_lines(editor, capsys):
    capsys.readouterr()
    editor.summary()
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("writer", ["keras", "strided"])
def test_file_editor_reads_weights_and_prints_like_keras(real_keras, tmp_path, capsys, writer):
    theirs_model, ours_model = _pair(real_keras)
    inner_k = real_keras.Sequential([real_keras.Input((3,)), real_keras.layers.Dense(2)])
    theirs_model = real_keras.Model(theirs_model.inputs, inner_k(theirs_model.outputs[0]))
    inner_s = strided.Sequential([strided.Input((3,)), layers.Dense(2)])
    ours_model = strided.Model(ours_model.inputs, inner_s(ours_model.outputs[0]))
    ours_model.set_weights(theirs_model.get_weights())
    x = np.random.default_rng(1).normal(size=(4, 6, 6, 1)).astype("float32")
    y = np.zeros((4, 2), "float32")
    for m in (theirs_model, ours_model):
        m.compile("adam", "mse")
        m.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = tmp_path / "m.keras"
    (theirs_model if writer == "keras" else ours_model).save(path)
    k_editor, s_editor = _open_both(real_keras, path, capsys)
    _assert_same_tree(_tree(s_editor.weights_dict), _tree(k_editor.weights_dict))
    assert "sequential" not in s_editor.weights_dict["layers"]  # Keras skips a nested model's group
    assert s_editor.object_metadata == k_editor.object_metadata
    assert s_editor.config == k_editor.config and s_editor.metadata == k_editor.metadata
    assert _summary_lines(s_editor, capsys) == _summary_lines(k_editor, capsys)
    # compare(): the same counts as Keras (its nested model is reported missing from the file).
    assert s_editor.compare(ours_model) == k_editor.compare(theirs_model)
    ours_text = capsys.readouterr().out
    assert "Object /layers/sequential present in reference model, missing from saved file" in ours_text

    weights_path = tmp_path / "m.weights.h5"
    (theirs_model if writer == "keras" else ours_model).save_weights(weights_path)
    k_editor, s_editor = _open_both(real_keras, weights_path, capsys)
    _assert_same_tree(_tree(s_editor.weights_dict), _tree(k_editor.weights_dict))
    assert s_editor.metadata is None and s_editor.config is None


def test_file_editor_compare_counts_like_keras(real_keras, tmp_path, capsys):
    theirs, ours = _pair(real_keras)
    path = tmp_path / "a.weights.h5"
    theirs.save_weights(path)
    k_editor, s_editor = _open_both(real_keras, path, capsys)
    result = s_editor.compare(ours)
    # 38, not 16 matching weights: Keras adds a nested object's running total back into the total.
    assert result == k_editor.compare(theirs) == {"status": "success", "error_count": 0, "match_count": 38}
    # A model with a wider last layer and one more Dense: shape mismatch plus a missing object.
    theirs2, ours2 = _pair(real_keras, units=(4, 5, 2))
    capsys.readouterr()
    result = s_editor.compare(ours2)
    ours_text = capsys.readouterr().out
    assert result == k_editor.compare(theirs2)
    assert result["status"] == "error" and result["error_count"] == 3
    assert "...Weight shape mismatch for /layers/dense_1/0" in ours_text
    assert "...Object /layers/dense_2 present in reference model, missing from saved file" in ours_text
    with pytest.raises(TypeError, match="reference_model"):
        s_editor.compare("model.keras")


def test_file_editor_edits_load_in_strided_and_keras(real_keras, tmp_path, capsys):
    # Old model: conv, bn, dense(4), dense(3). New model: the same plus a last dense(2).
    old_k, old_s = _pair(real_keras, units=(4, 3))
    old_s.compile("adam", "mse")
    old_s.fit(np.ones((2, 6, 6, 1), "float32"), np.ones((2, 3), "float32"), verbose=0)
    path = tmp_path / "old.keras"
    old_s.save(path)
    k_editor, s_editor = _open_both(real_keras, path, capsys)
    rng = np.random.default_rng(2)
    kernel, bias = rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=(2,)).astype("float32")
    new_bias = rng.normal(size=(3,)).astype("float32")
    # strided counts a name's occurrences correctly; Keras 3.15 adds a running count back in, so that
    # with an "optimizer" object after "layers" every short layer name reads as ambiguous there.
    with pytest.raises(ValueError, match="occurs more than once"):
        k_editor.delete_weight("dense_1", "1")
    s_check = KerasFileEditor(str(path))
    s_check.delete_weight("dense_1", "1")
    assert list(s_check.weights_dict["layers"]["dense_1"]) == ["0"]
    for editor in (k_editor, s_editor):
        editor.delete_object("optimizer")
        editor.add_object("layers/dense_2", weights={"0": kernel, "1": bias})
        editor.delete_weight("dense_1", "1")
        editor.add_weights("layers/dense_1", {"1": new_bias})
        editor.rename_object("batch_normalization", "bn_tmp")
        editor.rename_object("layers/bn_tmp", "batch_normalization")
    _assert_same_tree(_tree(s_editor.weights_dict), _tree(k_editor.weights_dict))
    ours_file, theirs_file = tmp_path / "ours.weights.h5", tmp_path / "theirs.weights.h5"
    s_editor.save(ours_file)
    k_editor.resave_weights(theirs_file)
    with h5py.File(ours_file) as a, h5py.File(theirs_file) as b:
        names_a, names_b = [], []
        a.visit(names_a.append)
        b.visit(names_b.append)
        assert names_a == names_b
        for name in names_a:
            if isinstance(a[name], h5py.Dataset):
                np.testing.assert_array_equal(a[name][()], b[name][()])

    new_k, new_s = _pair(real_keras, units=(4, 3, 2))
    expected = old_s.get_weights()[:-1] + [new_bias, kernel, bias]
    for target, file in ((new_s, ours_file), (new_s, theirs_file), (new_k, ours_file)):
        target.load_weights(file)
        for got, want in zip(target.get_weights(), expected):
            np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)
    x = rng.normal(size=(2, 6, 6, 1)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(new_s.predict(x, verbose=0)), np.asarray(new_k.predict(x, verbose=0)), rtol=1e-5, atol=1e-5
    )
    # The edited file now passes compare() against the new model, in both libraries.
    assert KerasFileEditor(str(ours_file)).compare(new_s)["status"] == "success"
    assert real_keras.saving.KerasFileEditor(str(ours_file)).compare(new_k)["status"] == "success"


def test_file_editor_errors_match_keras(real_keras, tmp_path, capsys):
    theirs, ours = _pair(real_keras, units=(4, 3))
    path = tmp_path / "m.weights.h5"
    ours.save_weights(path)
    k_editor, s_editor = _open_both(real_keras, path, capsys)
    cases = [
        lambda e: e.rename_object("dense", "layers/dense_9"),
        lambda e: e.rename_object("layers/nothing", "x"),
        lambda e: e.delete_object("dense_7"),
        lambda e: e.delete_object("0"),  # every layer has a weight "0"
        lambda e: e.add_object("layers/dense_2", [np.zeros(2)]),
        lambda e: e.add_object("nothing/dense_2", {"0": np.zeros(2)}),
        lambda e: e.delete_weight("dense", "5"),
        lambda e: e.add_weights("dense", np.zeros(2)),
        lambda e: e.save(tmp_path / "edited.keras"),
    ]
    for case in cases:
        with pytest.raises(ValueError) as theirs_error:
            case(k_editor)
        with pytest.raises(ValueError) as ours_error:
            case(s_editor)
        # Same message, but Keras's "use editor.weights_summary()" names a method it does not have.
        assert str(ours_error.value) == str(theirs_error.value).replace("weights_summary", "summary")
    with pytest.raises(ValueError, match=r"expected a `.keras` `.weights.h5` extension. Received: filepath=.*m\.h5"):
        KerasFileEditor(str(tmp_path / "m.h5"))


def test_file_editor_refuses_links(tmp_path):
    path = tmp_path / "linked.weights.h5"
    with h5py.File(path, "w") as f:
        f.create_group("layers/dense/vars").create_dataset("0", data=np.zeros(3))
        f["layers/other"] = h5py.SoftLink("/layers/dense")
    with pytest.raises(ValueError, match="Not allowed: H5 file with SoftLink"):
        KerasFileEditor(str(path))


# ============================================================================ MaxNumBoundingBoxes


def _boxes(batch=2, n=3, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(size=(batch, 5, 6, 3)).astype("float32")
    boxes = rng.uniform(0, 5, size=(batch, n, 4)).astype("float32")
    labels = rng.integers(0, 9, size=(batch, n)).astype("int32")
    return images, boxes, labels


def _numpy(tree):
    if isinstance(tree, dict):
        return {k: _numpy(v) for k, v in tree.items()}
    return tree.detach().cpu().numpy() if isinstance(tree, torch.Tensor) else np.asarray(tree)


@pytest.mark.parametrize("max_number,fill_value,n", [(5, -1, 3), (2, -1, 3), (3, 7, 3), (4, 0, 1)])
def test_max_num_bounding_boxes_matches_keras(real_keras, max_number, fill_value, n):
    images, boxes, labels = _boxes(n=n)
    kwargs = dict(max_number=max_number, fill_value=fill_value, bounding_box_format="xyxy")
    data = {"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}, "labels": np.array([1, 0])}
    ours = _numpy(layers.MaxNumBoundingBoxes(**kwargs)(dict(data)))
    theirs = _numpy(real_keras.layers.MaxNumBoundingBoxes(**kwargs)(dict(data)))
    assert ours["bounding_boxes"]["boxes"].shape == (2, max_number, 4)
    assert ours["bounding_boxes"]["boxes"].dtype == theirs["bounding_boxes"]["boxes"].dtype == np.float32
    assert ours["bounding_boxes"]["labels"].dtype.kind == "i"
    for key in ("boxes", "labels"):
        np.testing.assert_array_equal(ours["bounding_boxes"][key], theirs["bounding_boxes"][key])
    np.testing.assert_array_equal(ours["images"], theirs["images"])
    np.testing.assert_array_equal(ours["labels"], theirs["labels"])
    # One image without a batch axis, float labels.
    single = {"images": images[0], "bounding_boxes": {"boxes": boxes[0], "labels": labels[0].astype("float32")}}
    ours = _numpy(layers.MaxNumBoundingBoxes(**kwargs)(dict(single)))
    theirs = _numpy(real_keras.layers.MaxNumBoundingBoxes(**kwargs)(dict(single)))
    assert ours["bounding_boxes"]["boxes"].shape == (max_number, 4)
    for key in ("boxes", "labels"):
        np.testing.assert_array_equal(ours["bounding_boxes"][key], theirs["bounding_boxes"][key])


def test_max_num_bounding_boxes_images_only_symbolic_and_gradient(real_keras):
    images, boxes, labels = _boxes()
    layer = layers.MaxNumBoundingBoxes(4)
    np.testing.assert_array_equal(_numpy(layer(images)), _numpy(real_keras.layers.MaxNumBoundingBoxes(4)(images)))
    spec = {
        "images": strided.Input((5, 6, 3)),
        "bounding_boxes": {"boxes": strided.Input((None, 4)), "labels": strided.Input((None,), dtype="int32")},
    }
    out = layers.MaxNumBoundingBoxes(4, bounding_box_format="xyxy")(spec)
    assert tuple(out["bounding_boxes"]["boxes"].shape) == (None, 4, 4)
    assert tuple(out["bounding_boxes"]["labels"].shape) == (None, 4)
    assert tuple(out["images"].shape) == (None, 5, 6, 3)
    # Kept boxes carry gradients through (the padding does not).
    b = torch.tensor(boxes, requires_grad=True)
    res = layers.MaxNumBoundingBoxes(4, bounding_box_format="xyxy")(
        {"images": torch.tensor(images), "bounding_boxes": {"boxes": b, "labels": torch.tensor(labels)}}
    )
    res["bounding_boxes"]["boxes"].sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), np.ones_like(boxes))


def test_max_num_bounding_boxes_config_and_keras_files(real_keras, tmp_path):
    layer = layers.MaxNumBoundingBoxes(6, bounding_box_format="yxyx")
    theirs = real_keras.layers.MaxNumBoundingBoxes(6, bounding_box_format="yxyx")
    ours_cfg, theirs_cfg = layer.get_config(), theirs.get_config()
    for key in ("max_number", "bounding_box_format", "data_format", "trainable"):
        assert ours_cfg[key] == theirs_cfg[key], key
    assert set(theirs_cfg) - set(ours_cfg) == set() and "fill_value" not in ours_cfg  # default: Keras's keys
    clone = layers.MaxNumBoundingBoxes.from_config(layers.MaxNumBoundingBoxes(3, fill_value=5).get_config())
    assert (clone.max_number, clone.fill_value) == (3, 5)
    # .keras files both ways (the layer on an image input).
    model = strided.Sequential(
        [strided.Input((5, 6, 3)), layers.MaxNumBoundingBoxes(6, bounding_box_format="xyxy"), layers.Conv2D(2, 3)]
    )
    images = _boxes()[0]
    path = tmp_path / "ours.keras"
    model.save(path)
    for loaded in (strided.models.load_model(path), real_keras.models.load_model(path)):
        assert loaded.layers[0].max_number == 6 and loaded.layers[0].bounding_box_format == "xyxy"
        np.testing.assert_allclose(
            _numpy(loaded.predict(images, verbose=0)), _numpy(model.predict(images, verbose=0)), rtol=1e-5, atol=1e-6
        )
    keras_model = real_keras.Sequential([real_keras.Input((5, 6, 3)), real_keras.layers.MaxNumBoundingBoxes(2)])
    keras_model.save(tmp_path / "theirs.keras")
    assert strided.models.load_model(tmp_path / "theirs.keras").layers[0].max_number == 2


def test_max_num_bounding_boxes_errors(real_keras):
    images, boxes, labels = _boxes()
    data = {"images": images, "bounding_boxes": {"boxes": boxes, "labels": labels}}
    with pytest.raises(ValueError, match="didn't specify a bounding box format") as ours:
        layers.MaxNumBoundingBoxes(3)(dict(data))
    with pytest.raises(ValueError) as theirs:
        real_keras.layers.MaxNumBoundingBoxes(3)(dict(data))
    assert str(ours.value) in str(theirs.value)
    with pytest.raises(ValueError, match="argument `max_number`.*Received: max_number='a'"):
        layers.MaxNumBoundingBoxes("a")
    with pytest.raises(ValueError, match="argument `max_number`.*Received: max_number=-2"):
        layers.MaxNumBoundingBoxes(-2)
    with pytest.raises(ValueError, match=r"rank 2 or 3.*Received: bounding_boxes\['boxes'\].shape=\(2, 3, 4, 1\)"):
        layers.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")(
            {"images": images, "bounding_boxes": {"boxes": boxes[..., None], "labels": labels}}
        )
    with pytest.raises(ValueError, match="dict with keys 'boxes' and 'labels'"):
        layers.MaxNumBoundingBoxes(3, bounding_box_format="xyxy")(
            {"images": images, "bounding_boxes": {"boxes": boxes}}
        )
    with pytest.raises(ValueError, match=r"rank 3 \(single image\) or 4"):
        layers.MaxNumBoundingBoxes(3)(images[0, 0])
