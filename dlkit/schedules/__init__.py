"""Learning-rate schedules: in-graph `keras.optimizers.schedules.LearningRateSchedule`s that save in `.keras`."""

from dlkit.schedules.cyclic import CyclicLR
from dlkit.schedules.one_cycle import OneCycleLR
from dlkit.schedules.snapshot_cosine import SnapshotCosineDecay
from dlkit.schedules.warmup import LinearWarmup

__all__ = ["CyclicLR", "LinearWarmup", "OneCycleLR", "SnapshotCosineDecay"]
