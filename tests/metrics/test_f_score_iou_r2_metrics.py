"""F-scores and IoU metrics equal real Keras's, batch by batch, with and without sample weights."""

import numpy as np
import pytest

import strided as keras

RNG = np.random.default_rng(4)


def _keras_value(metric):
    value = metric.result()
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def _feed(ours, theirs, batches):
    for args in batches:
        ours.update_state(*args[:2], sample_weight=args[2] if len(args) > 2 else None)
        theirs.update_state(*args[:2], sample_weight=args[2] if len(args) > 2 else None)
        np.testing.assert_allclose(_keras_value(ours), _keras_value(theirs), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        ("F1Score", {}),
        ("F1Score", {"average": "macro"}),
        ("F1Score", {"average": "micro", "threshold": 0.4}),
        ("F1Score", {"average": "weighted"}),
        ("FBetaScore", {"beta": 2.0}),
        ("FBetaScore", {"beta": 0.5, "average": "macro"}),
    ],
)
def test_f_scores_match_keras(real_keras, cls, kwargs):
    ours, theirs = getattr(keras.metrics, cls)(**kwargs), getattr(real_keras.metrics, cls)(**kwargs)
    batches = []
    for _ in range(3):
        y_true = np.eye(4, dtype="float32")[RNG.integers(0, 4, 16)]
        y_pred = RNG.random((16, 4)).astype("float32")
        batches.append((y_true, y_pred))
    batches.append((batches[0][0], batches[0][1], RNG.random(16).astype("float32")))
    _feed(ours, theirs, batches)
    assert ours.name == theirs.name


@pytest.mark.parametrize(
    "cls, kwargs, one_hot",
    [
        ("MeanIoU", {"num_classes": 3}, False),
        ("IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, False),
        ("MeanIoU", {"num_classes": 3, "ignore_class": 1}, False),
        ("OneHotMeanIoU", {"num_classes": 3}, True),
        ("OneHotIoU", {"num_classes": 3, "target_class_ids": [1]}, True),
    ],
)
def test_iou_metrics_match_keras(real_keras, cls, kwargs, one_hot):
    ours, theirs = getattr(keras.metrics, cls)(**kwargs), getattr(real_keras.metrics, cls)(**kwargs)
    batches = []
    for _ in range(3):
        labels = RNG.integers(0, 3, (2, 5, 5))  # a 5x5 "segmentation" of 2 images
        scores = RNG.random((2, 5, 5, 3)).astype("float32")
        if one_hot:
            batches.append((np.eye(3, dtype="float32")[labels], scores))
        else:
            batches.append((labels, scores.argmax(-1)))
    batches.append((*batches[0], RNG.integers(0, 3, (2, 5, 5))))  # integer weights
    _feed(ours, theirs, batches)
    assert theirs.name.startswith(ours.name)  # Keras numbers repeated default names (mean_io_u_1...)
    ours.reset_state()
    assert float(_keras_value(ours)) == 0.0


def test_scores_in_fit_logs():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(
        "adam",
        "categorical_crossentropy",
        metrics=[keras.metrics.F1Score(average="macro"), keras.metrics.OneHotMeanIoU(num_classes=3)],
    )
    x = RNG.random((32, 6)).astype("float32")
    y = np.eye(3, dtype="float32")[RNG.integers(0, 3, 32)]
    logs = model.fit(x, y, epochs=2, batch_size=8, verbose=0).history
    assert set(logs) == {"loss", "f1_score", "one_hot_mean_io_u"}
    assert all(0.0 <= v <= 1.0 for v in logs["f1_score"] + logs["one_hot_mean_io_u"])
    per_class = keras.metrics.F1Score()
    per_class.update_state(y, model.predict(x, verbose=0))
    assert tuple(per_class.result().shape) == (3,)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Invalid `average` argument value"):
        keras.metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="Invalid `beta` argument value"):
        keras.metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match=r"Target class id 5 is out of range, which is \[0, 3\)"):
        keras.metrics.IoU(num_classes=3, target_class_ids=[5])
    with pytest.raises(ValueError, match="expects 2D inputs"):
        keras.metrics.F1Score().update_state(np.ones((2, 2, 2)), np.ones((2, 2, 2)))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"class_aggregation": None}, {"class_aggregation": "variance_weighted_average"}, {"num_regressors": 2}],
)
def test_r2_score_matches_keras(real_keras, kwargs):
    ours, theirs = keras.metrics.R2Score(**kwargs), real_keras.metrics.R2Score(**kwargs)
    batches = []
    for _ in range(3):
        y = RNG.random((10, 3)).astype("float32")
        batches.append((y, y + RNG.normal(0, 0.2, (10, 3)).astype("float32")))
    batches.append((*batches[0], RNG.random(10).astype("float32")))
    _feed(ours, theirs, batches)
