"""Keras callbacks for learning rates: cyclic, warmup, snapshot ensembles, the range test, and logging."""

from dlkit.callbacks.cyclic_lr import CyclicLR
from dlkit.callbacks.lr_finder import LRFinder
from dlkit.callbacks.lr_logger import LearningRateLogger
from dlkit.callbacks.snapshot_ensemble import SnapshotEnsemble
from dlkit.callbacks.warmup import LearningRateWarmup

__all__ = ["CyclicLR", "LRFinder", "LearningRateLogger", "LearningRateWarmup", "SnapshotEnsemble"]
