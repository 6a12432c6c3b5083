"""Learning-rate warmup (Goyal et al., 2017) in front of a constant rate or any other schedule."""

import keras
import numpy as np
from keras import ops

from dlkit._checks import check_choice, check_float, check_int
from dlkit.schedules._base import FormulaSchedule

_MODES = ("linear", "constant")


def check_warmup_args(warmup_steps, start_lr, mode):
    """Validates the warmup arguments (shared with `dlkit.callbacks.LearningRateWarmup`)."""
    warmup_steps = check_int("warmup_steps", warmup_steps, minimum=1)
    start_lr = check_float("start_lr", start_lr, minimum=0.0)
    check_choice("mode", mode, _MODES)
    return warmup_steps, start_lr


@keras.saving.register_keras_serializable(package="dlkit")
class LinearWarmup(FormulaSchedule):
    """Warmup (Goyal et al., 2017): a gradual (linear) or constant low rate for the first steps, then `after`.

    With W = `warmup_steps`, `step` the optimizer iteration (0-based) and after(s) the wrapped rate:

    ```
    target = after(W)
    lr = start_lr + (target - start_lr) * step / W   # step < W, mode="linear" (gradual warmup)
       = start_lr                                    # step < W, mode="constant"
       = after(step)                                 # step >= W
    ```

    `after` sees the global step, not `step - W` (like TF Model Garden's `LinearWarmup`): a decay wrapped here
    keeps its own clock, exactly as a decay driven by its own callback would next to
    `dlkit.callbacks.LearningRateWarmup`. With `start_lr=0` and a float `after`, the ramp is
    `torch.optim.lr_scheduler.LinearLR(start_factor=0, total_iters=W)` and transformers' linear warmup.
    Paper: Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour" (arXiv:1706.02677).

    Example:

    >>> decay = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.5)
    >>> schedule = dlkit.schedules.LinearWarmup(warmup_steps=500, after=decay)
    >>> optimizer = keras.optimizers.SGD(learning_rate=schedule)

    Args:
        warmup_steps: Integer >= 1. W, the number of warmup steps.
        after: Float >= 0 or a `keras.optimizers.schedules.LearningRateSchedule`: the rate from step W on.
        start_lr: Float >= 0. The rate at step 0 (and throughout a constant warmup). Goyal et al. start the
            gradual warmup at the small-batch rate, target / k for a batch k times the small-batch size.
        mode: String, "linear" (gradual warmup) or "constant".

    Returns:
        Called on a step, a float32 scalar tensor (`value(step)` returns the same number as a Python float).

    Raises:
        ValueError: if `warmup_steps` < 1, `start_lr` < 0, `mode` is unknown, or `after` is neither a
            non-negative float nor a `LearningRateSchedule`.
    """

    def __init__(self, warmup_steps, after, start_lr=0.0, mode="linear"):
        super().__init__()
        self.warmup_steps, self.start_lr = check_warmup_args(warmup_steps, start_lr, mode)
        self.mode = mode
        if isinstance(after, keras.optimizers.schedules.LearningRateSchedule):
            self.after = after
        else:
            if isinstance(after, np.generic):
                after = after.item()
            try:
                self.after = check_float("after", after, minimum=0.0)
            except ValueError:
                raise ValueError(
                    "Argument `after` must be a float >= 0 or a keras.optimizers.schedules.LearningRateSchedule. "
                    f"Received: after={after!r}"
                ) from None
        # target = after(W), one number: evaluated once here rather than at every step.
        self._target = float(self._after(np.float64(self.warmup_steps), np))

    def _after(self, step, xp):
        if isinstance(self.after, float):
            return self.after
        if isinstance(self.after, FormulaSchedule):
            # Stay in float64 through the wrapped formula, so that nesting rounds only once.
            return self.after._formula(step, xp)
        if xp is ops:
            return ops.cast(self.after(step), "float64")
        # Any other schedule only runs in its backend: evaluate it eagerly.
        return np.asarray(ops.convert_to_numpy(self.after(step)), dtype=np.float64)

    def _formula(self, step, xp):
        if self.mode == "linear":
            warm = self.start_lr + (self._target - self.start_lr) * step / self.warmup_steps
        else:
            warm = self.start_lr + 0.0 * step
        return xp.where(step < self.warmup_steps, warm, self._after(step, xp))

    def get_config(self):
        after = self.after
        if not isinstance(after, float):
            after = keras.optimizers.schedules.serialize(after)
        return {
            "warmup_steps": self.warmup_steps,
            "after": after,
            "start_lr": self.start_lr,
            "mode": self.mode,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("after"), dict):
            config["after"] = keras.optimizers.schedules.deserialize(config["after"])
        return cls(**config)
