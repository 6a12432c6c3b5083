"""The shared base of dlkit's learning-rate schedules: one formula, evaluated in-graph or in NumPy."""

import keras
import numpy as np
from keras import ops

from dlkit._backend import runs_op_by_op


class FormulaSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A `LearningRateSchedule` whose formula is written once, in `_formula(step, xp)`.

    `xp` is `keras.ops` (in-graph, symbolic step) or `numpy` (the callbacks' fast path): both namespaces spell
    `floor`, `abs`, `maximum`, `minimum`, `power`, `cos`, `mod` and `where` the same way, so the schedule and
    the callback built on it compute the same numbers from the same code. Both evaluate in float64 and round to
    float32 only at the end, so they agree to the last float32 bit in practice (JAX without `jax_enable_x64`
    computes the in-graph formula in float32: a few float32 ulps apart). On PyTorch, which runs the train step
    op by op, calling the schedule evaluates the formula in NumPy too: 20-30 us a call, the step's conversion
    included, where its 10-30 scalar tensor ops take 30-170 us on a CPU (measured alone; inside a train step
    both are within the step's noise, as Keras's own schedules are: benchmarks/bench_schedules.py).
    """

    def _formula(self, step, xp):
        raise NotImplementedError

    def __call__(self, step):
        if runs_op_by_op():
            step = np.asarray(ops.convert_to_numpy(step), dtype=np.float64)
            return ops.convert_to_tensor(np.float32(self._formula(step, np)), dtype="float32")
        step = ops.cast(step, "float64")
        return ops.cast(self._formula(step, ops), "float32")

    def value(self, step):
        """The learning rate at `step` (an int or an array of ints) as a float or float64 array, via NumPy.

        Example:

        >>> schedule = dlkit.schedules.CyclicLR(0.001, 0.006, step_size=4)
        >>> round(schedule.value(4), 6)
        0.006

        Args:
            step: Integer >= 0 or an array of them: the optimizer iteration (0-based).

        Returns:
            A Python float for a scalar `step`, else a float64 NumPy array.

        Raises:
            ValueError: if a step is negative or not finite.
        """
        steps = np.asarray(step, dtype=np.float64)
        if not np.all(np.isfinite(steps)) or np.any(steps < 0):
            raise ValueError(f"Argument `step` must be >= 0. Received: step={step!r}")
        result = np.asarray(self._formula(steps, np), dtype=np.float64)
        return float(result) if result.ndim == 0 else result
