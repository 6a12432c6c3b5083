"""Keras callbacks: learning rates (cyclic, warmup, snapshot ensembles, the range test, logging) and dead units."""

import warnings

from dlkit.callbacks.cyclic_lr_callback import CyclicLRCallback
from dlkit.callbacks.dead_unit_monitor import DeadUnitMonitor
from dlkit.callbacks.learning_rate_logger import LearningRateLogger
from dlkit.callbacks.learning_rate_warmup import LearningRateWarmup
from dlkit.callbacks.lr_finder import LRFinder
from dlkit.callbacks.snapshot_ensemble import SnapshotEnsemble

__all__ = [
    "CyclicLRCallback",
    "DeadUnitMonitor",
    "LRFinder",
    "LearningRateLogger",
    "LearningRateWarmup",
    "SnapshotEnsemble",
]

# Renamed in 0.2 so that `dlkit.schedules.CyclicLR` (the schedule) and this callback no longer share one name.
_DEPRECATED = {"CyclicLR": "CyclicLRCallback"}


def __getattr__(name):
    if name in _DEPRECATED:
        new_name = _DEPRECATED[name]
        warnings.warn(
            f"`dlkit.callbacks.{name}` is deprecated and will be removed in dlkit 0.3; use "
            f"`dlkit.callbacks.{new_name}` (the schedule of the same formula is `dlkit.schedules.CyclicLR`).",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[new_name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
