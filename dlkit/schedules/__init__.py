"""Learning-rate schedules: in-graph `keras.optimizers.schedules.LearningRateSchedule`s that save in `.keras`."""

from dlkit.schedules.cyclic_lr import CyclicLR
from dlkit.schedules.linear_warmup import LinearWarmup
from dlkit.schedules.one_cycle_lr import OneCycleLR
from dlkit.schedules.snapshot_cosine_decay import SnapshotCosineDecay

__all__ = ["CyclicLR", "LinearWarmup", "OneCycleLR", "SnapshotCosineDecay"]
