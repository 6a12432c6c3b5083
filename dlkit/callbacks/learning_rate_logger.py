"""Logs the learning rate of every training step, whatever drives it."""

import keras
import numpy as np

from dlkit.callbacks._optimizer_lr import (
    base_optimizer,
    current_iteration,
    learning_rate_source,
    sync_training_state,
)

_Schedule = keras.optimizers.schedules.LearningRateSchedule


class LearningRateLogger(keras.callbacks.Callback):
    """Records the learning rate used by every optimizer step and logs the epoch's value.

    ```
    steps[i]          = the optimizer iteration of the i-th recorded step (0-based)
    learning_rates[i] = the rate that step used:
                        schedule(steps[i])          for an optimizer built with a LearningRateSchedule
                        the learning-rate variable  for a float rate (set by any callback at batch begin)
    logs["learning_rate"] at epoch end = learning_rates of the epoch's last step
    ```

    The epoch value lands in `history.history["learning_rate"]`. If another callback (e.g.
    `keras.callbacks.LearningRateScheduler`) has written `logs["learning_rate"]` already, it is overwritten with
    the measured value, so the history holds one entry per epoch. A schedule's values are computed in one
    vectorized call at epoch end (per step if the schedule does not vectorize), so logging costs one variable
    read per step. Steps grouped by `steps_per_execution` are all recorded. Place it after callbacks that change
    the rate at batch end (none of Keras' or dlkit's do).

    Example:

    >>> logger = dlkit.callbacks.LearningRateLogger()
    >>> history = model.fit(x, y, epochs=5, callbacks=[dlkit.callbacks.CyclicLRCallback(1e-3, 6e-3, 20), logger])
    >>> history.history["learning_rate"]   # one value per epoch
    >>> dlkit.plots.plot_learning_rate(logger.learning_rates)

    Attributes:
        steps: List of ints, the optimizer iteration of each recorded step.
        learning_rates: List of floats, the rate of each recorded step.
    """

    def __init__(self):
        super().__init__()
        self.steps, self.learning_rates = [], []

    def on_train_begin(self, logs=None):
        self._optimizer = self.model.optimizer
        if self._optimizer is None:
            raise ValueError("`LearningRateLogger` needs a compiled model with an optimizer.")
        self._next_step = current_iteration(self._optimizer)
        self._pending = []  # steps run by a schedule optimizer, evaluated at epoch end

    def on_train_batch_end(self, batch, logs=None):
        sync_training_state(self.model)
        end = current_iteration(self._optimizer)
        new_steps = list(range(self._next_step, end))
        self._next_step = end
        if not new_steps:
            return
        source = learning_rate_source(self._optimizer)
        if isinstance(source, _Schedule):
            self._pending.extend(new_steps)
            return
        if callable(source) and not hasattr(source, "numpy"):
            rate = source()
        else:
            rate = base_optimizer(self._optimizer).learning_rate
        rate = float(np.asarray(keras.ops.convert_to_numpy(rate)))
        self.steps.extend(new_steps)
        self.learning_rates.extend([rate] * len(new_steps))

    def _flush(self):
        if not self._pending:
            return
        schedule = learning_rate_source(self._optimizer)
        steps = np.asarray(self._pending, dtype="int64")
        try:
            rates = np.asarray(keras.ops.convert_to_numpy(schedule(steps)), dtype=np.float64).reshape(-1)
            if rates.shape != steps.shape:
                raise ValueError("schedule does not vectorize")
        except Exception:  # noqa: BLE001 - any schedule that cannot take a vector of steps goes step by step
            rates = np.array([float(keras.ops.convert_to_numpy(schedule(int(s)))) for s in steps])
        self.steps.extend(int(s) for s in steps)
        self.learning_rates.extend(float(r) for r in rates)
        self._pending = []

    def on_epoch_end(self, epoch, logs=None):
        self._flush()
        if logs is not None and self.learning_rates:
            logs["learning_rate"] = self.learning_rates[-1]

    def on_train_end(self, logs=None):
        self._flush()
