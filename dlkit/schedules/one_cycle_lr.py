"""The one-cycle policy (Smith & Topin, 2019) with PyTorch `OneCycleLR` semantics, as a Keras schedule."""

import math

import keras

from dlkit._checks import check_choice, check_float, check_int
from dlkit.schedules._base import FormulaSchedule


@keras.saving.register_keras_serializable(package="dlkit")
class OneCycleLR(FormulaSchedule):
    """One-cycle learning rate (Smith & Topin, 2019), step for step like `torch.optim.lr_scheduler.OneCycleLR`.

    With T = `total_steps`, p = `pct_start`, initial = max_lr / div_factor and min = initial / final_div_factor,
    the schedule runs through phases, each annealing from a start rate to an end rate:

    ```
    two phases (default):   [0, p*T - 1]          initial -> max_lr
                            [p*T - 1, T - 1]      max_lr  -> min
    three_phase=True:       [0, p*T - 1]          initial -> max_lr
                            [p*T - 1, 2*p*T - 2]  max_lr  -> initial
                            [2*p*T - 2, T - 1]    initial -> min
    pct = (step - phase_start) / (phase_end - phase_start)   # step is clipped to T - 1
    cos:    lr = end + (start - end) / 2 * (cos(pi * pct) + 1)
    linear: lr = start + (end - start) * pct
    ```

    `step` is the optimizer iteration (0-based), which is PyTorch's scheduler step count, so the first update
    uses `initial`. PyTorch raises after T steps; this schedule holds `min` instead. PyTorch also cycles the
    momentum; Keras optimizers take a fixed momentum, so only the rate is scheduled here.
    Paper: Smith & Topin, "Super-Convergence: Very Fast Training of Neural Networks Using Large Learning
    Rates" (arXiv:1708.07120).

    Example:

    >>> schedule = dlkit.schedules.OneCycleLR(max_lr=0.1, total_steps=num_epochs * steps_per_epoch)
    >>> model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule, momentum=0.9), loss="mse")

    Args:
        max_lr: Float > 0. The peak rate.
        total_steps: Integer >= 2. The number of training steps in the cycle.
        pct_start: Float in (0, 1). The fraction of the steps spent increasing the rate.
        anneal_strategy: String, "cos" or "linear".
        div_factor: Float > 0. initial = max_lr / div_factor.
        final_div_factor: Float > 0. min = initial / final_div_factor.
        three_phase: Boolean. Whether to anneal back to `initial` symmetrically, then to `min`.

    Returns:
        Called on a step, a float32 scalar tensor (`value(step)` returns the same number as a Python float).

    Raises:
        ValueError: on a non-positive rate or factor, `total_steps` < 2, `pct_start` outside (0, 1), an unknown
            `anneal_strategy`, or a phase of zero or negative length (PyTorch divides by zero there).
    """

    def __init__(
        self,
        max_lr,
        total_steps,
        pct_start=0.3,
        anneal_strategy="cos",
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
    ):
        super().__init__()
        self.max_lr = check_float("max_lr", max_lr, minimum=0.0, min_inclusive=False)
        self.total_steps = check_int("total_steps", total_steps, minimum=2)
        self.pct_start = check_float(
            "pct_start", pct_start, minimum=0.0, maximum=1.0, min_inclusive=False, max_inclusive=False
        )
        self.anneal_strategy = check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
        self.div_factor = check_float("div_factor", div_factor, minimum=0.0, min_inclusive=False)
        self.final_div_factor = check_float(
            "final_div_factor", final_div_factor, minimum=0.0, min_inclusive=False
        )
        if not isinstance(three_phase, bool):
            raise ValueError(
                f"Argument `three_phase` must be True or False. Received: three_phase={three_phase!r}"
            )
        self.three_phase = three_phase
        self._phases = self._build_phases()

    def _build_phases(self):
        initial = self.max_lr / self.div_factor
        minimum = initial / self.final_div_factor
        total, pct = self.total_steps, self.pct_start
        # (end_step, start_lr, end_lr), exactly PyTorch's phase table.
        if self.three_phase:
            phases = [
                (float(pct * total) - 1, initial, self.max_lr),
                (float(2 * pct * total) - 2, self.max_lr, initial),
                (total - 1.0, initial, minimum),
            ]
        else:
            phases = [(float(pct * total) - 1, initial, self.max_lr), (total - 1.0, self.max_lr, minimum)]
        start = 0.0
        for end, _, _ in phases:
            if end <= start:
                raise ValueError(
                    "Arguments `pct_start` and `total_steps` give a one-cycle phase of zero or negative length "
                    f"(steps {start} to {end}). Received: pct_start={pct}, total_steps={total}, "
                    f"three_phase={self.three_phase}"
                )
            start = end
        return phases

    def _anneal(self, start, end, pct, xp):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (xp.cos(math.pi * pct) + 1.0)
        return (end - start) * pct + start

    def _formula(self, step, xp):
        step = xp.minimum(step, self.total_steps - 1.0)
        values, phase_start = [], 0.0
        for end, start_lr, end_lr in self._phases:
            values.append(self._anneal(start_lr, end_lr, (step - phase_start) / (end - phase_start), xp))
            phase_start = end
        # The first phase whose end is >= step wins; the last phase takes everything after.
        lr = values[-1]
        for (end, _, _), value in zip(reversed(self._phases[:-1]), reversed(values[:-1]), strict=True):
            lr = xp.where(step <= end, value, lr)
        return lr

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "anneal_strategy": self.anneal_strategy,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "three_phase": self.three_phase,
        }
