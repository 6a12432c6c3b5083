"""Cyclical learning rates (Smith, 2017) as a callback that drives an existing optimizer."""

from dlkit.callbacks._optimizer_lr import ScheduledLearningRate
from dlkit.schedules.cyclic_lr import CyclicLR


class CyclicLRCallback(ScheduledLearningRate):
    """Sets the optimizer's learning rate each step to Smith's cyclical rate.

    With `step` the optimizer iteration (0-based), read from `model.optimizer.iterations` at every batch:

    ```
    cycle = floor(1 + step / (2 * step_size))
    x = abs(step / step_size - 2 * cycle + 1)
    lr = base_lr + (max_lr - base_lr) * max(0, 1 - x) * scale
    scale = 1 (triangular) | 1 / 2 ** (cycle - 1) (triangular2) | gamma ** step (exp_range)
          | scale_fn(cycle or step)
    ```

    The numbers come from `dlkit.schedules.CyclicLR` (the same code), so the callback and the schedule agree
    step for step; because the step is the optimizer's, a model saved and loaded mid-cycle resumes mid-cycle.
    Writes `logs["learning_rate"]`. Paper: Smith, "Cyclical Learning Rates for Training Neural Networks",
    WACV 2017 (arXiv:1506.01186).

    Example:

    >>> model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    >>> clr = dlkit.callbacks.CyclicLRCallback(base_lr=0.001, max_lr=0.006, step_size=4 * steps_per_epoch)
    >>> model.fit(x, y, epochs=16, callbacks=[clr])

    Args:
        base_lr: Float >= 0. The lower bound.
        max_lr: Float >= base_lr. The upper bound.
        step_size: Float > 0. Steps in half a cycle.
        mode: String, one of "triangular", "triangular2", "exp_range". Ignored when `scale_fn` is given.
        gamma: Float in (0, 1]. Per-step amplitude decay in "exp_range" mode.
        scale_fn: None or a callable giving the amplitude's scale from the cycle number (or the step).
        scale_mode: String, "cycle" or "iterations": what `scale_fn` receives.

    Raises:
        ValueError: on invalid arguments (`step_size` <= 0, `max_lr` < `base_lr`, unknown `mode`, ...), and at
            train begin when the optimizer's learning rate is a `LearningRateSchedule`.
    """

    def __init__(
        self, base_lr, max_lr, step_size, mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle"
    ):
        super().__init__()
        self.schedule = CyclicLR(base_lr, max_lr, step_size, mode, gamma, scale_fn, scale_mode)

    def _rate_at(self, step):
        return self.schedule.value(step)
