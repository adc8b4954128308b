"""Hinge metrics: the means of the hinge, squared hinge and categorical hinge losses."""

from strided import losses
from strided.metrics.reduction_metrics import _wrapper


Hinge = _wrapper("Hinge", losses.hinge, "hinge", "Mean hinge loss.")


SquaredHinge = _wrapper("SquaredHinge", losses.squared_hinge, "squared_hinge", "Mean squared hinge loss.")


CategoricalHinge = _wrapper(
    "CategoricalHinge", losses.categorical_hinge, "categorical_hinge", "Mean categorical hinge loss."
)
