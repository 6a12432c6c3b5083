"""Cyclical learning rates (Smith, 2017) as an in-graph Keras schedule."""

import keras

from dlkit._checks import check_choice, check_float
from dlkit.schedules._base import FormulaSchedule

_MODES = ("triangular", "triangular2", "exp_range")
_SCALE_MODES = ("cycle", "iterations")


def check_cyclic_args(base_lr, max_lr, step_size, mode, gamma, scale_fn, scale_mode):
    """Validates the CyclicLR arguments (shared with `dlkit.callbacks.CyclicLRCallback`)."""
    base_lr = check_float("base_lr", base_lr, minimum=0.0)
    max_lr = check_float("max_lr", max_lr, minimum=0.0)
    if max_lr < base_lr:
        raise ValueError(
            f"Argument `max_lr` must be >= `base_lr`. Received: max_lr={max_lr}, base_lr={base_lr}"
        )
    step_size = check_float("step_size", step_size, minimum=0.0, min_inclusive=False)
    if scale_fn is None:
        check_choice("mode", mode, _MODES)
    elif not callable(scale_fn):
        raise ValueError(f"Argument `scale_fn` must be callable or None. Received: scale_fn={scale_fn!r}")
    gamma = check_float("gamma", gamma, minimum=0.0, maximum=1.0, min_inclusive=False)
    check_choice("scale_mode", scale_mode, _SCALE_MODES)
    return base_lr, max_lr, step_size, gamma


@keras.saving.register_keras_serializable(package="dlkit")
class CyclicLR(FormulaSchedule):
    """Cyclical learning rate (Smith, 2017): the rate bounces between `base_lr` and `max_lr`.

    With `step` the optimizer iteration (0-based):

    ```
    cycle = floor(1 + step / (2 * step_size))
    x = abs(step / step_size - 2 * cycle + 1)
    lr = base_lr + (max_lr - base_lr) * max(0, 1 - x) * scale
    scale = 1                    # mode="triangular"
          = 1 / 2 ** (cycle - 1) # mode="triangular2"
          = gamma ** step        # mode="exp_range"
          = scale_fn(cycle)      # scale_fn given, scale_mode="cycle"
          = scale_fn(step)       # scale_fn given, scale_mode="iterations"
    ```

    A cycle is `2 * step_size` steps: the rate rises linearly for `step_size` steps, then falls back. These are
    the numbers of `torch.optim.lr_scheduler.CyclicLR` with `step_size_up = step_size_down = step_size`.
    Paper: Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017 (arXiv:1506.01186).

    Example:

    >>> schedule = dlkit.schedules.CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000)
    >>> model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule), loss="mse")

    Args:
        base_lr: Float >= 0. The lower bound, reached at the start of every cycle.
        max_lr: Float >= base_lr. The upper bound (reached only while `scale` is 1).
        step_size: Float > 0. Steps in half a cycle; Smith suggests 2-10 epochs' worth of steps.
        mode: String, one of "triangular", "triangular2", "exp_range". Ignored when `scale_fn` is given.
        gamma: Float in (0, 1]. The per-step decay of the amplitude in "exp_range" mode.
        scale_fn: None, or a callable mapping the cycle number (or the step) to the amplitude's scale. It
            receives a float64 tensor in-graph and a NumPy float in the callback, so write it with
            `keras.ops` or plain arithmetic. Register it with `keras.saving.register_keras_serializable` so
            the schedule loads from a `.keras` file.
        scale_mode: String, "cycle" or "iterations": what `scale_fn` receives.

    Returns:
        Called on a step, a float32 scalar tensor (`value(step)` returns the same number as a Python float).

    Raises:
        ValueError: if `step_size` <= 0, `max_lr` < `base_lr`, a rate is negative, `gamma` is outside (0, 1],
            `mode` or `scale_mode` is unknown, or `scale_fn` is not callable.
    """

    def __init__(
        self, base_lr, max_lr, step_size, mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle"
    ):
        super().__init__()
        self.base_lr, self.max_lr, self.step_size, self.gamma = check_cyclic_args(
            base_lr, max_lr, step_size, mode, gamma, scale_fn, scale_mode
        )
        self.mode = mode
        self.scale_fn = scale_fn
        self.scale_mode = scale_mode

    def _formula(self, step, xp):
        cycle = xp.floor(1.0 + step / (2.0 * self.step_size))
        x = xp.abs(step / self.step_size - 2.0 * cycle + 1.0)
        height = (self.max_lr - self.base_lr) * xp.maximum(0.0, 1.0 - x)
        if self.scale_fn is not None:
            scale = self.scale_fn(cycle if self.scale_mode == "cycle" else step)
        elif self.mode == "triangular2":
            scale = 1.0 / xp.power(2.0, cycle - 1.0)
        elif self.mode == "exp_range":
            scale = xp.power(self.gamma, step)
        else:
            scale = 1.0
        return self.base_lr + height * scale

    def get_config(self):
        scale_fn = self.scale_fn
        if scale_fn is not None:
            scale_fn = keras.saving.serialize_keras_object(scale_fn)
        return {
            "base_lr": self.base_lr,
            "max_lr": self.max_lr,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
            "scale_fn": scale_fn,
            "scale_mode": self.scale_mode,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("scale_fn") is not None:
            config["scale_fn"] = keras.saving.deserialize_keras_object(config["scale_fn"])
        return cls(**config)
