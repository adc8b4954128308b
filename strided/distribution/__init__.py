"""``keras.distribution``: data-parallel training on torch.distributed (:mod:`~strided.distribution.distribution_lib`).

Keras's names (``DataParallel``, ``set_distribution``, ``distribution``, ``initialize``, ``list_devices``)
and strided's process queries (``is_distributed``, ``rank``, ``world_size``, ``is_chief``: print and write
files on the chief only).
"""

from strided.distribution.distribution_lib import (
    DataParallel,
    distribution,
    initialize,
    is_chief,
    is_distributed,
    list_devices,
    rank,
    set_distribution,
    world_size,
)

__all__ = [
    "DataParallel",
    "distribution",
    "initialize",
    "list_devices",
    "set_distribution",
    "is_distributed",
    "rank",
    "world_size",
    "is_chief",
]
