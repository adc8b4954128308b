"""Callbacks: objects called at points of `fit`, `evaluate` and `predict` (Keras names)."""
from strided.callbacks.callback import Callback, CallbackList, History, LambdaCallback
from strided.callbacks.misc import BackupAndRestore, CSVLogger, LearningRateScheduler, TerminateOnNaN
from strided.callbacks.monitor import EarlyStopping, ModelCheckpoint, MonitorCallback, ReduceLROnPlateau
from strided.callbacks.progbar_logger import ProgbarLogger
from strided.callbacks.remote_monitor import RemoteMonitor
from strided.callbacks.swap_ema_weights import SwapEMAWeights
from strided.callbacks.tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
    "LearningRateScheduler", "ModelCheckpoint", "MonitorCallback", "ProgbarLogger", "ReduceLROnPlateau",
    "RemoteMonitor",
    "SwapEMAWeights", "TensorBoard", "TerminateOnNaN",
]
