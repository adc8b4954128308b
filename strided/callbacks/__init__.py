"""Callbacks: objects called at points of `fit`, `evaluate` and `predict` (Keras names)."""

from strided.callbacks.backup_and_restore import BackupAndRestore
from strided.callbacks.callback import Callback
from strided.callbacks.callback_list import CallbackList
from strided.callbacks.csv_logger import CSVLogger
from strided.callbacks.early_stopping import EarlyStopping
from strided.callbacks.history import History
from strided.callbacks.lambda_callback import LambdaCallback
from strided.callbacks.learning_rate_scheduler import LearningRateScheduler
from strided.callbacks.model_checkpoint import ModelCheckpoint
from strided.callbacks.monitor_callback import MonitorCallback
from strided.callbacks.progbar_logger import ProgbarLogger
from strided.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from strided.callbacks.remote_monitor import RemoteMonitor
from strided.callbacks.swap_ema_weights import SwapEMAWeights
from strided.callbacks.tensorboard import TensorBoard
from strided.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]
