"""The training engine: `Trainer` (compile/fit/evaluate/predict), data adapters, compile utilities."""

from strided.training.trainer import Trainer

__all__ = ["Trainer"]
