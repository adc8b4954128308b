"""Stateful metrics with the Keras API: ``update_state``, ``result``, ``reset_state`` (``keras.metrics``).

State lives in device tensors updated in place; ``update_state`` never syncs with the host (no
``.item()``), so a trainer can update metrics every step and read ``result()`` only at log time.
Values follow Keras (``keras.metrics``): sample weights, threshold semantics (a prediction is
positive when ``> threshold``), AUC's bucketed confusion counts and its interpolation. The base class
is in :mod:`strided.metrics.metric`, one module per family beside it.
"""

# keras.metrics also exposes the loss functions (per-sample values), the same objects as keras.losses.
from strided.losses import (  # noqa: F401
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from strided.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    get_accuracy_metric,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from strided.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from strided.metrics.correlation_metrics import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from strided.metrics.f_score_metrics import F1Score, FBetaScore
from strided.metrics.hinge_metrics import CategoricalHinge, Hinge, SquaredHinge
from strided.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from strided.metrics.metric import Metric
from strided.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from strided.metrics.reduction_metrics import _FUNCTIONS, Mean, MeanMetricWrapper, Sum
from strided.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
    cosine_similarity,
)
from strided.utils.registry import Registry, public_classes

__all__ = [
    "Metric",
    "Mean",
    "Sum",
    "MeanMetricWrapper",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "RootMeanSquaredError",
    "CosineSimilarity",
    "LogCoshError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "KLDivergence",
    "Poisson",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "TruePositives",
    "FalsePositives",
    "TrueNegatives",
    "FalseNegatives",
    "Precision",
    "Recall",
    "AUC",
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "F1Score",
    "FBetaScore",
    "IoU",
    "MeanIoU",
    "OneHotIoU",
    "OneHotMeanIoU",
    "BinaryIoU",
    "R2Score",
    "ConcordanceCorrelation",
    "PearsonCorrelation",
    "get_accuracy_metric",
    "get",
    "serialize",
    "deserialize",
]

_FUNCTIONS.update(
    {
        f.__name__: f
        for f in (
            accuracy,
            binary_accuracy,
            categorical_accuracy,
            sparse_categorical_accuracy,
            top_k_categorical_accuracy,
            sparse_top_k_categorical_accuracy,
            cosine_similarity,
            concordance_correlation,
            pearson_correlation,
        )
    }
)

_REGISTRY = Registry(
    "metric",
    "keras.metrics",
    objects=public_classes(globals()),
    aliases={
        "bce": BinaryCrossentropy,
        "BCE": BinaryCrossentropy,
        "mse": MeanSquaredError,
        "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
        "MSLE": MeanSquaredLogarithmicError,
        "acc": Accuracy,
        "rmse": RootMeanSquaredError,
        "auc": AUC,
        "logcosh": LogCoshError,
        "top_k_accuracy": TopKCategoricalAccuracy,
        "sparse_top_k_accuracy": SparseTopKCategoricalAccuracy,
        "kld": KLDivergence,
        "KLD": KLDivergence,
    },
)


# Keras's `serialize(obj)` (the Keras 3 config dict) and `deserialize(config, custom_objects=None)`.
serialize = _REGISTRY.serialize
deserialize = _REGISTRY.deserialize


def get(identifier, arg_name="metrics"):
    """Retrieves a metric: a name ('mse', 'AUC', 'precision'...) gives a new instance; a config dict, a
    Metric instance or a callable ``fn(y_true, y_pred)`` are accepted. 'accuracy'/'acc' give plain
    :class:`Accuracy`; trainers should resolve them with :func:`get_accuracy_metric` first.
    """
    if isinstance(identifier, Metric):
        return identifier
    return _REGISTRY.get(identifier, arg_name)
