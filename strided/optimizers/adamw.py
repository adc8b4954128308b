"""AdamW: Adam with decoupled weight decay."""

from strided.optimizers.adam import Adam
from strided.optimizers.base import with_base_keyword_args


@with_base_keyword_args
class AdamW(Adam):
    """Adam with decoupled weight decay: ``w -= w * weight_decay * lr`` before the Adam step.

    Args:
        learning_rate: a float, a ``LearningRateSchedule`` or a callable (default 0.001).
        weight_decay: the decoupled weight decay factor, a float (default 0.004).
        beta_1, beta_2, epsilon, amsgrad: as in :class:`Adam` (0.9, 0.999, 1e-7, False).
        {{base_optimizer_keyword_args}}
    """

    def __init__(
        self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs
    ):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            **kwargs,
        )
