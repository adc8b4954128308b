"""strided.visualize: values of every plot and array helper, headless (Agg), PNGs written."""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import strided  # noqa: E402
from strided import visualize as vis  # noqa: E402

layers = strided.layers


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png_ok(path):
    with open(path, "rb") as fh:
        return fh.read(8) == b"\x89PNG\r\n\x1a\n"


def _small_convnet(input_shape=(12, 12, 2), filters=5):
    return strided.Sequential(
        [
            layers.Conv2D(filters, 3, padding="same", activation="relu", input_shape=input_shape),
            layers.MaxPooling2D(2),
            layers.Conv2D(4, 3),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )


# ---------------------------------------------------------------------------- filters
def test_plot_filters_multichannel_grid_shows_each_kernel_slice(tmp_path):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 3, 3, 4))
    fig = vis.plot_filters(w, save_path=tmp_path / "f.png")
    assert len(fig.axes) == 12  # 4 filters x 3 input channels, seed 002's W[:, :, c, f]
    for i, ax in enumerate(fig.axes):
        f, c = divmod(i, 3)
        np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), w[:, :, c, f])
    assert _png_ok(tmp_path / "f.png")


def test_plot_filters_from_layer_single_channel_and_subsets(tmp_path):
    model = _small_convnet(input_shape=(12, 12, 1), filters=10)
    conv = model.get_layer(model.layers[0].name)
    kernel = conv.get_weights()[0]
    fig = vis.plot_filters(conv, cols=4, save_path=tmp_path / "f.png")
    assert len(fig.axes) == 10
    np.testing.assert_allclose(np.asarray(fig.axes[7].images[0].get_array()), kernel[:, :, 0, 7], rtol=1e-6)
    assert fig.axes[4].get_subplotspec().rowspan.start == 1  # 4 per row
    fig = vis.plot_filters(conv.get_weights(), filters=[2, 5])
    assert len(fig.axes) == 2
    np.testing.assert_allclose(np.asarray(fig.axes[1].images[0].get_array()), kernel[:, :, 0, 5], rtol=1e-6)
    assert _png_ok(tmp_path / "f.png")


def test_plot_filters_errors():
    with pytest.raises(ValueError, match="filters"):
        vis.plot_filters(np.zeros((3, 3, 1, 4)), filters=[7])
    with pytest.raises(ValueError, match="normalize"):
        vis.plot_filters(np.zeros((3, 3, 1, 4)), normalize="bogus")
    with pytest.raises(ValueError, match=r"\(kh, kw, in, out\)"):
        vis.plot_filters(np.zeros((2, 3, 3, 1, 4)))


# ---------------------------------------------------------------------------- feature maps
def _loop_conv_same(image, kernel, bias):
    """Seed 001's loop convolution, channels summed, 'same' padding (odd kernel)."""
    kh, kw, cin, cout = kernel.shape
    padded = np.pad(image, ((kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    out = np.zeros(image.shape[:2] + (cout,))
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            region = padded[i : i + kh, j : j + kw, :]
            out[i, j] = np.tensordot(region, kernel, axes=3) + bias
    return out


def test_feature_maps_match_loop_convolution_and_grid(tmp_path):
    model = _small_convnet(filters=6)
    x = np.random.default_rng(1).random((12, 12, 2)).astype("float32")
    kernel, bias = model.layers[0].get_weights()
    expected = np.maximum(_loop_conv_same(x.astype(np.float64), kernel, bias), 0)
    maps = vis.feature_maps(model, model.layers[0].name, x)
    assert maps.shape == (1, 12, 12, 6)
    np.testing.assert_allclose(maps[0], expected, atol=1e-5)
    fig = vis.plot_feature_maps(model, 0, x[None], cols=4, save_path=tmp_path / "fm.png")
    assert len(fig.axes) == 6
    np.testing.assert_allclose(np.asarray(fig.axes[5].images[0].get_array()), expected[:, :, 5], atol=1e-5)
    assert _png_ok(tmp_path / "fm.png")
    assert len(vis.plot_feature_maps(model, model.layers[0], x, max_maps=3).axes) == 3


def test_feature_maps_errors():
    model = _small_convnet()
    other = layers.Dense(2)
    with pytest.raises(ValueError, match="not a layer of model"):
        vis.feature_maps(model, other, np.zeros((12, 12, 2)))
    with pytest.raises(ValueError, match=r"x\.shape=\(5, 5\)"):
        vis.feature_maps(model, 0, np.zeros((5, 5)))
    with pytest.raises(ValueError, match="no spatial axes"):
        vis.plot_feature_maps(model, -1, np.zeros((12, 12, 2)))


# ---------------------------------------------------------------------------- history
class _History:
    def __init__(self, history):
        self.history = history


def test_plot_history_draws_train_and_validation_curves(tmp_path):
    data = {
        "loss": [0.9, 0.5, 0.3],
        "accuracy": [0.6, 0.8, 0.9],
        "val_loss": [1.0, 0.7, 0.6],
        "val_accuracy": [0.5, 0.7, 0.75],
    }
    fig = vis.plot_history(_History(data), save_path=tmp_path / "h.png")
    assert len(fig.axes) == 2
    loss_ax = fig.axes[0]
    assert loss_ax.get_title() == "loss"
    (train, val) = loss_ax.get_lines()
    np.testing.assert_allclose(train.get_ydata(), data["loss"])
    np.testing.assert_allclose(val.get_ydata(), data["val_loss"])
    np.testing.assert_allclose(train.get_xdata(), [1, 2, 3])
    assert _png_ok(tmp_path / "h.png")
    fig = vis.plot_history(data, metrics="accuracy")
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 2


def test_plot_history_errors():
    with pytest.raises(ValueError, match="auc"):
        vis.plot_history({"loss": [1.0]}, metrics=["auc"])
    with pytest.raises(TypeError, match="History"):
        vis.plot_history([1, 2])


# ---------------------------------------------------------------------------- confusion matrix
def _brute_confusion(t, p, labels):
    return np.array([[sum(1 for a, b in zip(t, p) if a == i and b == j) for j in labels] for i in labels])


def test_confusion_matrix_rows_true_columns_predicted():
    rng = np.random.default_rng(3)
    t, p = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    cm = vis.confusion_matrix(t, p)
    np.testing.assert_array_equal(cm, _brute_confusion(t, p, range(4)))
    assert cm.sum() == 200
    # hand-computed: class 1 predicted as 2 once
    np.testing.assert_array_equal(vis.confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2]), [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    # explicit label order, one-hot targets, probability predictions
    probs = np.eye(4)[p] * 0.7 + 0.075
    np.testing.assert_array_equal(
        vis.confusion_matrix(np.eye(4)[t], probs, labels=[3, 2, 1, 0]), _brute_confusion(t, p, [3, 2, 1, 0])
    )
    rows = vis.confusion_matrix(t, p, normalize="true")
    np.testing.assert_allclose(rows.sum(axis=1), 1.0)
    np.testing.assert_allclose(rows, cm / cm.sum(axis=1, keepdims=True))


def test_confusion_matrix_frame_as_seed_prints():
    pd = pytest.importorskip("pandas")
    y_true = np.array([0] * 5 + [1] * 4)
    y_pred = np.array([0, 0, 0, 1, 1, 1, 0, 1, 1])
    frame = vis.confusion_matrix_frame(y_true, y_pred, index=["true:yes", "true:no"], columns=["pred:yes", "pred:no"])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == ["true:yes", "true:no"] and list(frame.columns) == ["pred:yes", "pred:no"]
    np.testing.assert_array_equal(frame.values, [[3, 2], [1, 3]])
    assert list(vis.confusion_matrix_frame(y_true, y_pred, display_labels=["a", "b"]).columns) == ["pred:a", "pred:b"]


def test_plot_confusion_matrix_annotates_counts(tmp_path):
    t, p = [0, 1, 1, 2, 2, 2], [0, 2, 1, 2, 2, 0]
    fig = vis.plot_confusion_matrix(t, p, display_labels=["a", "b", "c"], save_path=tmp_path / "cm.png")
    assert len(fig.axes) == 1
    cm = vis.confusion_matrix(t, p)
    np.testing.assert_array_equal(np.asarray(fig.axes[0].images[0].get_array()), cm)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == [str(v) for v in cm.ravel()]
    assert _png_ok(tmp_path / "cm.png")
    assert len(vis.plot_confusion_matrix(t, p, colorbar=True).axes) == 2
    with pytest.raises(ValueError, match="same length"):
        vis.confusion_matrix([0, 1], [0])


# ---------------------------------------------------------------------------- Grad-CAM and saliency
def _minmax(a):
    return (a - a.min()) / (a.max() - a.min())


def test_saliency_of_linear_model_is_weight_magnitude():
    """The final softmax is set aside (as in Keras's Grad-CAM example): the score is the logit w . x."""
    model = strided.Sequential([layers.Flatten(input_shape=(5, 6, 2)), layers.Dense(3, activation="softmax")])
    w = model.layers[1].get_weights()[0]  # (60, 3)
    x = np.random.default_rng(0).random((5, 6, 2)).astype("float32")
    s = vis.saliency_map(model, x, class_index=1)
    assert s.shape == (5, 6)
    expected = _minmax(np.abs(w[:, 1]).reshape(5, 6, 2).max(axis=-1))
    np.testing.assert_allclose(s, expected, atol=1e-5)
    batch = vis.saliency_map(model, np.stack([x, x]), class_index=[1, 1])
    assert batch.shape == (2, 5, 6)
    np.testing.assert_allclose(np.asarray(model(x[None])).sum(), 1.0, rtol=1e-5)  # softmax restored


def test_grad_cam_formula_on_linear_head():
    """score = sum(A * V): the gradient is V, so alpha_k = mean V[..., k], cam = relu(sum_k alpha_k A_k)."""
    model = strided.Sequential([layers.Conv2D(3, 1, input_shape=(6, 6, 2)), layers.Flatten(), layers.Dense(2)])
    x = np.random.default_rng(2).normal(size=(6, 6, 2)).astype("float32")
    feats = vis.feature_maps(model, 0, x)[0].astype(np.float64)
    v = model.layers[2].get_weights()[0][:, 0].reshape(6, 6, 3)
    cam = np.maximum((feats * v.mean(axis=(0, 1))).sum(-1), 0)
    heat = vis.grad_cam(model, x, class_index=0)
    assert heat.shape == (6, 6)
    np.testing.assert_allclose(heat, cam / cam.max(), atol=1e-5)
    assert vis.last_conv_layer(model) is model.layers[0]


def _square_data(n, rng, size=16, side=4):
    x = rng.random((n, size, size, 1)).astype("float32") * 0.3
    y = np.zeros(n, dtype="int64")
    boxes = []
    for i in range(n):
        r, c = rng.integers(0, size - side + 1, 2)
        if i % 2 == 0:
            x[i, r : r + side, c : c + side, 0] = 1.0
            y[i] = 1
        boxes.append((r, c))
    return x, y, boxes


def test_grad_cam_finds_the_bright_square(tmp_path):
    strided.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y, _ = _square_data(400, rng)
    model = strided.Sequential(
        [
            layers.Conv2D(8, 3, padding="same", activation="relu", input_shape=(16, 16, 1)),
            layers.MaxPooling2D(2),
            layers.Conv2D(8, 3, padding="same", activation="relu"),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer=strided.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    xt, yt, boxes = _square_data(40, rng)
    positives = np.flatnonzero(yt == 1)
    heat = vis.grad_cam(model, xt[positives], class_index=1)
    assert heat.shape == (len(positives), 16, 16)
    assert heat.min() >= 0 and heat.max() <= 1
    inside = 0
    for h, i in zip(heat, positives):
        r, c = np.unravel_index(h.argmax(), h.shape)
        br, bc = boxes[i]
        inside += (br <= r < br + 4) and (bc <= c < bc + 4)
    assert inside >= 0.9 * len(positives), f"{inside}/{len(positives)} maxima inside the square"
    fig = vis.plot_grad_cam(model, xt[positives[0]], save_path=tmp_path / "gc.png")
    assert len(fig.axes) == 2 and _png_ok(tmp_path / "gc.png")


def test_grad_cam_errors():
    dense_only = strided.Sequential([layers.Flatten(input_shape=(4, 4, 1)), layers.Dense(2)])
    with pytest.raises(ValueError, match="image-shaped"):
        vis.grad_cam(dense_only, np.zeros((4, 4, 1)))
    model = _small_convnet()
    with pytest.raises(ValueError, match="class_index"):
        vis.grad_cam(model, np.zeros((12, 12, 2)), class_index=5)


# ---------------------------------------------------------------------------- images
def test_plot_images_titles_mark_wrong_predictions(tmp_path):
    x = np.random.default_rng(0).random((7, 8, 8, 1))
    labels = [0, 1, 2, 3, 4, 5, 6]
    probs = np.eye(10)[[0, 1, 9, 3, 4, 5, 6]]
    fig = vis.plot_images(x, labels=labels, predictions=probs, cols=4, save_path=tmp_path / "im.png")
    assert len(fig.axes) == 7
    assert fig.axes[2].get_title() == "9 (2)"
    assert fig.axes[2].title.get_color() == "red" and fig.axes[1].title.get_color() == "black"
    np.testing.assert_allclose(np.asarray(fig.axes[3].images[0].get_array()), x[3, :, :, 0], rtol=1e-6)
    assert _png_ok(tmp_path / "im.png")
    fig = vis.plot_images(x, labels=labels, class_names=list("abcdefg"), max_images=3)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]


# ---------------------------------------------------------------------------- receptive field
def _brute_receptive_field(model, size):
    """Support of d(centre output unit)/d(input) with all-positive weights and linear activations."""
    with torch.no_grad():
        for layer in model.layers:
            for w in layer.weights:
                w.fill_(1.0)
    x = torch.ones((1, size, size, 1), requires_grad=True)
    out = model(x)
    h, w = out.shape[1] // 2, out.shape[2] // 2
    out[0, h, w, 0].backward()
    support = (x.grad[0, :, :, 0].abs() > 0).numpy()
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


@pytest.mark.parametrize(
    "specs",
    [
        [dict(kernel_size=3)] * 3,  # Chollet's 7x7 windows
        [dict(kernel_size=3, dilation_rate=2), dict(kernel_size=(3, 5), strides=2), dict(kernel_size=2)],
        [dict(kernel_size=5, strides=2, padding="same"), dict(kernel_size=3, strides=3), dict(kernel_size=3)],
    ],
)
def test_receptive_field_matches_gradient_support(specs):
    stack = [layers.Conv2D(1, input_shape=(41, 41, 1), **specs[0])] + [layers.Conv2D(1, **s) for s in specs[1:]]
    model = strided.Sequential(stack)
    rows = vis.receptive_field(model)
    assert [r.layer for r in rows] == [l.name for l in model.layers]
    assert rows[-1].size == _brute_receptive_field(model, 41)


def test_receptive_field_of_the_seed_convnet(capsys):
    model = strided.Sequential(
        [
            layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    rows = vis.receptive_field(model, print_fn=print)
    # hand-computed: size += (k - 1) * jump, jump *= stride
    assert [r.size[0] for r in rows[:5]] == [3, 4, 8, 10, 18]
    assert [r.jump[0] for r in rows[:5]] == [1, 2, 2, 4, 4]
    assert rows[5].size is None and rows[6].size is None
    assert "whole input" in capsys.readouterr().out
    assert vis.receptive_fields(model)[model.layers[4].name] == (18, 4)


# ---------------------------------------------------------------------------- output-size table
def test_output_size_table_prints_seed_rows(capsys):
    rows = vis.output_size_table(28, 3, 1, [1, 3])
    assert capsys.readouterr().out.splitlines() == ["28 = ((28 - 3 + 2)/1) + 1", "10 = ((28 - 3 + 2)/3) + 1"]
    assert [r["output"] for r in rows] == [28, 10]


@pytest.mark.parametrize("padding", [0, 1, 2, "valid", "same"])
def test_output_size_table_agrees_with_torch_conv(padding):
    rows = vis.output_size_table([9, 28, 31], [1, 2, 3, 5], padding, [1, 2, 3], [1, 2], print_fn=None)
    for r in rows:
        total = r["padding_total"]
        x = torch.zeros(1, 1, r["input"] + total, 1)
        k = torch.zeros(1, 1, r["kernel"], 1)
        out = F.conv2d(x, k, stride=(r["stride"], 1), dilation=(r["dilation"], 1))
        assert out.shape[2] == r["output"], r["text"]
        if padding == "same":
            assert r["output"] == -(-r["input"] // r["stride"])


def test_output_size_table_errors():
    with pytest.raises(ValueError, match="padding"):
        vis.output_size_table(28, 3, "equal")
    with pytest.raises(ValueError, match="stride"):
        vis.output_size_table(28, 3, 0, 0, print_fn=None)
    with pytest.raises(ValueError, match="larger than the padded input"):
        vis.output_size_table(2, 5, 0, print_fn=None)


# ---------------------------------------------------------------------------- optional dependency
def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install strided\[plot\]"):
        vis.plot_filters(np.zeros((3, 3, 1, 2)))
    # the arrays do not need matplotlib
    np.testing.assert_array_equal(vis.confusion_matrix([0, 1], [1, 1]), [[0, 1], [0, 1]])


def test_grad_cam_binary_sigmoid_explains_either_class():
    """One sigmoid unit: class 1 scores log p, class 0 scores log(1 - p); their gradients have opposite signs."""
    model = strided.Sequential(
        [layers.Conv2D(2, 1, input_shape=(4, 4, 1)), layers.Flatten(), layers.Dense(1, activation="sigmoid")]
    )
    x = np.random.default_rng(5).normal(size=(4, 4, 1)).astype("float32")
    feats = vis.feature_maps(model, 0, x)[0].astype(np.float64)
    v = model.layers[2].get_weights()[0][:, 0].reshape(4, 4, 2)
    for cls, sign in ((1, 1.0), (0, -1.0)):
        cam = np.maximum((feats * sign * v.mean(axis=(0, 1))).sum(-1), 0)
        heat = vis.grad_cam(model, x, class_index=cls)
        if cam.max() > 0:
            np.testing.assert_allclose(heat, cam / cam.max(), atol=1e-5)
        else:
            np.testing.assert_allclose(heat, 0.0)
    with pytest.raises(ValueError, match="2 classes"):
        vis.grad_cam(model, x, class_index=2)


def test_filter_pattern_grows_the_filter_and_finds_its_preferred_edge(tmp_path):
    import strided as keras
    from strided import visualize

    # One filter set by hand to a vertical edge detector (dark left, bright right): gradient ascent must
    # raise its activation and produce an image brighter on the right of each window.
    model = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(2, 3, use_bias=False, name="edges")])
    kernel = np.zeros((3, 3, 1, 2), "float32")
    kernel[:, 0, 0, 0], kernel[:, 2, 0, 0] = -1.0, 1.0  # filter 0: vertical edge
    kernel[0, :, 0, 1], kernel[2, :, 0, 1] = -1.0, 1.0  # filter 1: horizontal edge
    model.layers[0].set_weights([kernel])
    image, activations = visualize.filter_pattern(model, "edges", 0, steps=15, step_size=0.5)
    assert image.shape == (12, 12, 1)
    assert activations[-1] > activations[0] + 1.0 and all(b >= a - 1e-6 for a, b in zip(activations, activations[1:]))
    assert image[:, -1, 0].mean() > image[:, 0, 0].mean()  # brighter on the right: a vertical edge
    other, _ = visualize.filter_pattern(model, "edges", 1, steps=15, step_size=0.5)
    assert other[-1, :, 0].mean() > other[0, :, 0].mean()  # filter 1 prefers a horizontal edge
    fig = visualize.plot_filter_patterns(model, "edges", steps=3, save_path=str(tmp_path / "patterns.png"))
    assert len([ax for ax in fig.axes if ax.images]) == 2 and (tmp_path / "patterns.png").stat().st_size > 0
    plt.close(fig)
    with pytest.raises(ValueError, match="has 2 filters"):
        visualize.filter_pattern(model, "edges", 5)
