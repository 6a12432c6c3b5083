"""The cyclic cosine annealing of snapshot ensembles (Huang et al., 2017) as an in-graph Keras schedule."""

import math

import keras

from dlkit._checks import check_float, check_int
from dlkit.schedules._base import FormulaSchedule


def check_snapshot_args(initial_lr, total_steps, num_snapshots):
    """Validates the snapshot-ensemble arguments (shared with `dlkit.callbacks.SnapshotEnsemble`)."""
    initial_lr = check_float("initial_lr", initial_lr, minimum=0.0, min_inclusive=False)
    total_steps = check_int("total_steps", total_steps, minimum=1)
    num_snapshots = check_int("num_snapshots", num_snapshots, minimum=1)
    if num_snapshots > total_steps:
        raise ValueError(
            "Argument `num_snapshots` must be <= `total_steps` (each snapshot needs a cycle of at least one "
            f"step). Received: num_snapshots={num_snapshots}, total_steps={total_steps}"
        )
    return initial_lr, total_steps, num_snapshots


@keras.saving.register_keras_serializable(package="dlkit")
class SnapshotCosineDecay(FormulaSchedule):
    """Cyclic cosine annealing (Huang et al., 2017): M cosine cycles, each restarting at `initial_lr`.

    With T = `total_steps`, M = `num_snapshots` and t = step + 1 the 1-based iteration:

    ```
    cycle_length = ceil(T / M)
    lr(t) = initial_lr / 2 * (cos(pi * ((t - 1) mod cycle_length) / cycle_length) + 1)
    ```

    The rate falls from `initial_lr` towards 0 over each cycle; a model snapshot taken at the end of each cycle
    sits in a different local minimum. `dlkit.callbacks.SnapshotEnsemble` applies this schedule and saves the
    snapshots. Paper: Huang et al., "Snapshot Ensembles: Train 1, get M for free", ICLR 2017
    (arXiv:1704.00109), equation (2).

    Example:

    >>> schedule = dlkit.schedules.SnapshotCosineDecay(0.1, total_steps=3000, num_snapshots=5)
    >>> optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)

    Args:
        initial_lr: Float > 0. The rate at the start of every cycle.
        total_steps: Integer >= 1. T, the number of training steps (epochs * steps per epoch).
        num_snapshots: Integer in [1, total_steps]. M, the number of cycles.

    Returns:
        Called on a step, a float32 scalar tensor (`value(step)` returns the same number as a Python float).

    Raises:
        ValueError: if `initial_lr` <= 0, `total_steps` < 1, or `num_snapshots` is < 1 or > `total_steps`.
    """

    def __init__(self, initial_lr, total_steps, num_snapshots):
        super().__init__()
        self.initial_lr, self.total_steps, self.num_snapshots = check_snapshot_args(
            initial_lr, total_steps, num_snapshots
        )
        self.cycle_length = math.ceil(self.total_steps / self.num_snapshots)

    def _formula(self, step, xp):
        # `step` is the 0-based iteration, so (t - 1) in the paper's formula is `step` itself.
        position = xp.mod(step, float(self.cycle_length))
        return self.initial_lr / 2.0 * (xp.cos(math.pi * position / self.cycle_length) + 1.0)

    def get_config(self):
        return {
            "initial_lr": self.initial_lr,
            "total_steps": self.total_steps,
            "num_snapshots": self.num_snapshots,
        }
