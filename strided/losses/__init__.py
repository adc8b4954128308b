"""Losses with the Keras API and Keras semantics, computed with torch (``keras.losses``).

Functions (``categorical_crossentropy(y_true, y_pred, ...)``) return one loss per sample (the batch
shape); classes (``CategoricalCrossentropy(...)``) reduce them to a scalar, applying sample weights
as Keras does. The base classes are in :mod:`strided.losses.loss`, one module per family beside it.

Cheap shape checks run on every call; value checks (label range, one-hot-ness) need a device sync,
so they live in :func:`check_labels`, which the trainer calls once on the first batch.
"""

from strided.losses.ctc import CTC, ctc
from strided.losses.hinge import CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge, squared_hinge
from strided.losses.label_checks import check_labels
from strided.losses.loss import (  # noqa: F401  (the reduction helpers are public, as in keras.src.losses.loss)
    LOSSES,
    Loss,
    LossFunctionWrapper,
    reduce_weighted_values,
    squeeze_or_expand_to_same_rank,
)
from strided.losses.metric_learning import Circle, circle
from strided.losses.probabilistic import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from strided.losses.regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from strided.losses.segmentation import Dice, Tversky, dice, tversky
from strided.utils.registry import public_classes

__all__ = [
    "Loss",
    "LossFunctionWrapper",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalFocalCrossentropy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "Huber",
    "LogCosh",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "KLDivergence",
    "Poisson",
    "CosineSimilarity",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "kl_divergence",
    "poisson",
    "cosine_similarity",
    "Dice",
    "Tversky",
    "dice",
    "tversky",
    "CategoricalGeneralizedCrossEntropy",
    "categorical_generalized_cross_entropy",
    "Circle",
    "circle",
    "CTC",
    "ctc",
    "check_labels",
    "get",
    "serialize",
    "deserialize",
]


# Keras-style aliases kept as module attributes (keras.losses.mse, keras.losses.kld...).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy

# A class is registered under its CamelCase name only: Keras's snake_case names are the functions.
LOSSES.register_all(
    (
        *public_classes(globals()),
        kl_divergence,
        poisson,
        binary_crossentropy,
        binary_focal_crossentropy,
        categorical_crossentropy,
        categorical_focal_crossentropy,
        sparse_categorical_crossentropy,
        mean_squared_error,
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_squared_logarithmic_error,
        cosine_similarity,
        log_cosh,
        huber,
        hinge,
        squared_hinge,
        categorical_hinge,
        dice,
        tversky,
        categorical_generalized_cross_entropy,
        circle,
        ctc,
    ),
    aliases={
        "bce": binary_crossentropy,
        "BCE": binary_crossentropy,
        "kld": kl_divergence,
        "KLD": kl_divergence,
        "mae": mean_absolute_error,
        "MAE": mean_absolute_error,
        "mse": mean_squared_error,
        "MSE": mean_squared_error,
        "mape": mean_absolute_percentage_error,
        "MAPE": mean_absolute_percentage_error,
        "msle": mean_squared_logarithmic_error,
        "MSLE": mean_squared_logarithmic_error,
        # tf.keras 2 names
        "logcosh": log_cosh,
        "kullback_leibler_divergence": kl_divergence,
        "huber_loss": huber,
    },
    snake=False,
)


# Keras's `serialize(obj)` (the Keras 3 config dict) and `deserialize(config, custom_objects=None)`.
serialize = LOSSES.serialize
deserialize = LOSSES.deserialize


def get(identifier, arg_name="loss"):
    """Retrieves a loss as Keras does: a snake_case name gives the function
    (``'categorical_crossentropy'``), a CamelCase name or a dict gives a :class:`Loss` instance.

    Args:
        identifier: None, a name or alias ('mse', 'kld'...), a config dict, a Loss class or instance, or a callable.
        arg_name: the argument name for error messages.
    """
    return LOSSES.get(identifier, arg_name)
