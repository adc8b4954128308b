"""BinaryIoU, the *At* threshold metrics and the correlation metrics equal real Keras: values batch by
batch with sample weights, reset, configs, compile/fit and argument checks."""

import numpy as np
import pytest
import torch

import strided as keras

RNG = np.random.default_rng(11)


def _np(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def _binary_batches(shape=(12, 3), weights="float"):
    out = []
    for _ in range(3):
        y_true = RNG.integers(0, 2, shape).astype("float32")
        y_pred = RNG.random(shape).astype("float32")
        y_pred[0, 0] = 0.0  # exactly 0 exceeds no threshold (Keras drops it from every bucket)
        y_pred[1, 0] = 1.0
        if weights == "float":
            w = RNG.random(shape[0]).astype("float32")
        elif weights == "float_full":  # IoU metrics take one weight per entry
            w = RNG.random(shape).astype("float32")
        else:
            w = RNG.integers(0, 3, shape)
        out.append((y_true, y_pred, w))
    return out


def _regression_batches(per_column=False):
    out = []
    for _ in range(3):
        y_true = RNG.normal(size=(10, 6)).astype("float32")
        y_pred = (0.6 * y_true + RNG.normal(size=(10, 6)) * 0.8 + 0.3).astype("float32")
        # with axis=0 there is one coefficient (so one weight) per column
        out.append((y_true, y_pred, RNG.random(6 if per_column else 10).astype("float32")))
    return out


METRIC_CASES = [
    ("SensitivityAtSpecificity", {"specificity": 0.6}, "binary"),
    ("SensitivityAtSpecificity", {"specificity": 0.3, "num_thresholds": 7, "class_id": 2}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.4}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.4, "num_thresholds": 1}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.7}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.5, "num_thresholds": 2, "class_id": 0}, "binary"),
    ("RecallAtPrecision", {"precision": 0.55}, "binary"),
    ("RecallAtPrecision", {"precision": 0.5, "num_thresholds": 11}, "binary"),
    ("BinaryIoU", {}, "binary_int"),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, "binary_int"),
    ("BinaryIoU", {"target_class_ids": [0], "threshold": 0.6, "dtype": "float32"}, "binary_full"),
    ("PearsonCorrelation", {}, "regression"),
    ("PearsonCorrelation", {"axis": 0}, "regression"),
    ("ConcordanceCorrelation", {}, "regression"),
    ("ConcordanceCorrelation", {"axis": 0}, "regression"),
]


@pytest.mark.parametrize("cls, kwargs, data", METRIC_CASES)
def test_metric_matches_keras_batch_by_batch(real_keras, cls, kwargs, data):
    ours, theirs = getattr(keras.metrics, cls)(**kwargs), getattr(real_keras.metrics, cls)(**kwargs)
    if data == "regression":
        batches = _regression_batches(per_column=kwargs.get("axis") == 0)
    else:
        batches = _binary_batches(weights={"binary_int": "int", "binary_full": "float_full"}.get(data, "float"))
    for y_true, y_pred, w in batches:
        ours.update_state(y_true, y_pred, sample_weight=w)
        theirs.update_state(y_true, y_pred, sample_weight=w)
        np.testing.assert_allclose(_np(ours.result()), _np(theirs.result()), rtol=1e-5, atol=1e-6)
    assert 0.0 < abs(float(_np(ours.result()))) <= 1.0  # a real value, not an empty state
    # configs: equal to Keras's, round trip, and a Keras-serialized metric deserializes here
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()
    assert keras.metrics.deserialize(real_keras.metrics.serialize(theirs)).get_config() == {
        **ours.get_config(),
        "name": theirs.name,
    }
    # reset: like a fresh metric, and accumulating again gives the same numbers
    ours.reset_state()
    fresh = getattr(keras.metrics, cls)(**kwargs)
    np.testing.assert_allclose(_np(ours.result()), _np(fresh.result()))
    for y_true, y_pred, w in batches:
        ours.update_state(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(_np(ours.result()), _np(theirs.result()), rtol=1e-5, atol=1e-6)


def test_keras_doc_examples():
    m = keras.metrics.SensitivityAtSpecificity(0.5)
    m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    assert float(m.result()) == pytest.approx(0.5)
    m.reset_state()
    m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], sample_weight=[1, 1, 2, 2, 1])
    assert float(m.result()) == pytest.approx(1 / 3, abs=1e-6)
    m = keras.metrics.RecallAtPrecision(0.8)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert float(m.result()) == pytest.approx(0.5)
    m = keras.metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    assert float(m.result()) == pytest.approx(1 / 3, abs=1e-6)
    m = keras.metrics.BinaryIoU(threshold=0.3, dtype="float32")
    m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], sample_weight=[0.2, 0.3, 0.4, 0.1])
    assert float(m.result()) == pytest.approx((0.2 / 0.9 + 0.1 / 0.8) / 2, abs=1e-6)


def test_precision_with_a_zero_threshold_matches_keras(real_keras):
    # evenly spaced thresholds starting at exactly 0 and a prediction of exactly 0
    y_true, y_pred = np.array([1, 0, 1, 0.0]), np.array([0.0, 0.3, 0.8, 0.0])
    ours = keras.metrics.Precision(thresholds=[0.0, 0.5, 1.0])
    theirs = real_keras.metrics.Precision(thresholds=[0.0, 0.5, 1.0])
    ours.update_state(y_true, y_pred)
    theirs.update_state(y_true, y_pred)
    np.testing.assert_allclose(_np(ours.result()), _np(theirs.result()), rtol=1e-6)


@pytest.mark.parametrize("name", ["pearson_correlation", "concordance_correlation"])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_correlation_functions(real_keras, name, axis):
    y_true = RNG.normal(size=(5, 4, 6)).astype("float32")
    y_pred = (y_true * 0.5 + RNG.normal(size=(5, 4, 6))).astype("float32")
    ours = getattr(keras.metrics, name)(y_true, y_pred, axis=axis)
    theirs = getattr(real_keras.metrics, name)(y_true, y_pred, axis=axis)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-5, atol=1e-6)
    # gradients with respect to y_pred, float64, against finite differences
    t = torch.tensor(y_true[:2, :2], dtype=torch.float64)
    p = torch.tensor(y_pred[:2, :2], dtype=torch.float64, requires_grad=True)
    fn = getattr(keras.metrics, name)
    assert torch.autograd.gradcheck(lambda q: fn(t, q, axis=axis), (p,))


def _model(units, activation):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(units, activation=activation)])
    return model


def _twin(real_keras, model, units, activation):
    twin = real_keras.Sequential([real_keras.Input((5,)), real_keras.layers.Dense(units, activation=activation)])
    twin.set_weights(model.get_weights())
    return twin


def test_metrics_in_compile_and_fit(real_keras):
    x = RNG.random((40, 5)).astype("float32")
    y = (x[:, :3] + 0.1 * RNG.normal(size=(40, 3)) > 0.5).astype("float32")
    # (explicit names: Keras numbers repeated default names, binary_io_u_1...)
    specs = lambda k: [
        k.metrics.BinaryIoU(name="binary_io_u"),  # noqa: E731
        k.metrics.PrecisionAtRecall(0.5, name="precision_at_recall"),
        k.metrics.RecallAtPrecision(0.5, name="recall_at_precision"),
        k.metrics.SensitivityAtSpecificity(0.5, name="sensitivity_at_specificity"),
        k.metrics.SpecificityAtSensitivity(0.5, class_id=1, name="specificity_at_sensitivity"),
    ]
    model = _model(3, "sigmoid")
    model.compile("sgd", "binary_crossentropy", metrics=specs(keras))
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0).history
    names = [
        "binary_io_u",
        "precision_at_recall",
        "recall_at_precision",
        "sensitivity_at_specificity",
        "specificity_at_sensitivity",
    ]
    assert set(history) == {"loss", *names}
    assert all(np.isfinite(v).all() for v in history.values())
    twin = _twin(real_keras, model, 3, "sigmoid")
    twin.compile("sgd", "binary_crossentropy", metrics=specs(real_keras))
    ours = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    theirs = twin.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    for key in ["loss", *names]:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)

    # regression: the correlation metrics
    yr = (x @ RNG.normal(size=(5, 4))).astype("float32")
    model = _model(4, None)
    model.compile("sgd", "mse", metrics=[keras.metrics.PearsonCorrelation(), keras.metrics.ConcordanceCorrelation()])
    history = model.fit(x, yr, epochs=2, batch_size=8, verbose=0).history
    assert set(history) == {"loss", "pearson_correlation", "concordance_correlation"}
    twin = _twin(real_keras, model, 4, None)
    twin.compile(
        "sgd",
        "mse",
        metrics=[
            real_keras.metrics.PearsonCorrelation(name="pearson_correlation"),
            real_keras.metrics.ConcordanceCorrelation(name="concordance_correlation"),
        ],
    )
    ours = model.evaluate(x, yr, batch_size=8, verbose=0, return_dict=True)
    theirs = twin.evaluate(x, yr, batch_size=8, verbose=0, return_dict=True)
    for key in ("loss", "pearson_correlation", "concordance_correlation"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_metric_bad_arguments():
    with pytest.raises(ValueError, match=r"`specificity` must be in the range \[0, 1\]. Received: specificity=1.5"):
        keras.metrics.SensitivityAtSpecificity(1.5)
    with pytest.raises(ValueError, match=r"`sensitivity` must be in the range \[0, 1\]. Received: sensitivity=-0.1"):
        keras.metrics.SpecificityAtSensitivity(-0.1)
    with pytest.raises(ValueError, match=r"`recall` must be a number in the range \[0, 1\]. Received: recall='high'"):
        keras.metrics.PrecisionAtRecall("high")
    with pytest.raises(ValueError, match="`num_thresholds` must be an integer > 0. Received: num_thresholds=0"):
        keras.metrics.RecallAtPrecision(0.5, num_thresholds=0)
    with pytest.raises(ValueError, match=r"`target_class_ids` must be a list or tuple of class ids among \[0, 1\]"):
        keras.metrics.BinaryIoU(target_class_ids=[2])
    with pytest.raises(ValueError, match="`threshold` must be a number. Received: threshold='0.5'"):
        keras.metrics.BinaryIoU(threshold="0.5")
    with pytest.raises(ValueError, match="`axis` must be an integer. Received: axis='last'"):
        keras.metrics.PearsonCorrelation(axis="last")
    with pytest.raises(ValueError, match="`axis` must be an integer. Received: axis=None"):
        keras.metrics.ConcordanceCorrelation(axis=None)
    with pytest.raises(ValueError, match="When class_id is provided, y_pred must be a 2D array"):
        keras.metrics.PrecisionAtRecall(0.5, class_id=1).update_state([0, 1], [0.2, 0.7])
