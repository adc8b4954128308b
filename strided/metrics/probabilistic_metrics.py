"""Probabilistic metrics: the means of the crossentropies, KL divergence and Poisson losses."""

from strided import losses
from strided.metrics.reduction_metrics import _wrapper


BinaryCrossentropy = _wrapper(
    "BinaryCrossentropy",
    losses.binary_crossentropy,
    "binary_crossentropy",
    "Mean binary crossentropy.",
    [("from_logits", False), ("label_smoothing", 0.0)],
)


CategoricalCrossentropy = _wrapper(
    "CategoricalCrossentropy",
    losses.categorical_crossentropy,
    "categorical_crossentropy",
    "Mean categorical crossentropy.",
    [("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)],
)


SparseCategoricalCrossentropy = _wrapper(
    "SparseCategoricalCrossentropy",
    losses.sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy",
    "Mean sparse categorical crossentropy.",
    [("from_logits", False), ("ignore_class", None), ("axis", -1)],
)


KLDivergence = _wrapper("KLDivergence", losses.kl_divergence, "kl_divergence", "Mean KL divergence.")


Poisson = _wrapper("Poisson", losses.poisson, "poisson", "Mean Poisson loss.")
