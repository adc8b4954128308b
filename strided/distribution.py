"""``keras.distribution``'s names for strided's data parallelism (see :mod:`strided.distribute`)."""
from strided.distribute import DataParallel, distribution, initialize, list_devices, set_distribution

__all__ = ["DataParallel", "distribution", "initialize", "list_devices", "set_distribution"]
