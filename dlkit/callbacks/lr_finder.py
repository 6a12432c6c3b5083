"""The learning-rate range test (Smith, 2017): ramp the rate up exponentially and watch the loss."""

import math

import keras
import numpy as np

from dlkit._checks import check_choice, check_float, check_int
from dlkit.callbacks._optimizer_lr import ScheduledLearningRate, current_iteration, sync_training_state
from dlkit.plots._figure import figure_and_axes


def _loss_tracker(model):
    """The model's running-mean loss metric (its `total` and `count` give each batch's own loss)."""
    for metric in getattr(model, "metrics", []):
        if metric.name == "loss" and hasattr(metric, "total") and hasattr(metric, "count"):
            return metric
    return None


class LRFinder(ScheduledLearningRate):
    """The learning-rate range test: an exponential ramp over `num_steps` steps, recording the loss.

    With k the step counted from the start of this `fit` (0-based):

    ```
    lr_k = start_lr * (end_lr / start_lr) ** (k / (num_steps - 1))
    avg_k = beta * avg_(k-1) + (1 - beta) * loss_k ;  smoothed_k = avg_k / (1 - beta ** (k + 1))   (beta = 0.98)
    stop when k + 1 == num_steps, or smoothed_k > stop_factor * min(smoothed), or the loss is not finite
    ```

    `loss_k` is the batch's own loss: Keras 3 logs the epoch's running mean (weighted by batch size), so the
    callback reads the loss metric's sample `count` and recovers the batch loss from consecutive means,
    (mean_k * count_k - mean_(k-1) * count_(k-1)) / (count_k - count_(k-1)); without that metric it assumes
    equal batches: k * mean_k - (k - 1) * mean_(k-1). At the end of `fit` the model's weights and the
    optimizer's variables (iterations, learning rate, moments) are put back as they were, so the test leaves
    the model untouched. Give `fit` at least `num_steps` steps (epochs >= num_steps / steps per epoch).
    Paper: Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017, section 3.3.

    Example:

    >>> finder = dlkit.callbacks.LRFinder(start_lr=1e-6, end_lr=1.0, num_steps=100)
    >>> model.fit(x, y, batch_size=32, epochs=math.ceil(100 / steps_per_epoch), callbacks=[finder], verbose=0)
    >>> finder.suggestion()      # steepest descent of the smoothed loss
    >>> fig = finder.plot()

    Args:
        start_lr: Float > 0. The first rate.
        end_lr: Float > start_lr. The rate at step `num_steps - 1`.
        num_steps: Integer >= 2. The length of the ramp.
        stop_factor: Float > 1. Stop once the smoothed loss exceeds `stop_factor` times its minimum.

    Attributes:
        learning_rates, losses, smoothed_losses: Lists, one entry per step run.

    Raises:
        ValueError: on invalid arguments, and at train begin when the optimizer's learning rate is a
            `LearningRateSchedule`.
    """

    beta = 0.98

    def __init__(self, start_lr=1e-7, end_lr=10.0, num_steps=100, stop_factor=4.0):
        super().__init__()
        self.start_lr = check_float("start_lr", start_lr, minimum=0.0, min_inclusive=False)
        self.end_lr = check_float("end_lr", end_lr, minimum=self.start_lr, min_inclusive=False)
        self.num_steps = check_int("num_steps", num_steps, minimum=2)
        self.stop_factor = check_float("stop_factor", stop_factor, minimum=1.0, min_inclusive=False)
        self._reset()

    def _reset(self):
        self.learning_rates, self.losses, self.smoothed_losses = [], [], []
        self._average, self._best = 0.0, math.inf

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._reset()
        if not self._optimizer.built and self.model.trainable_variables:
            # Keras builds the optimizer when it traces the first step; build it now so its state is saved.
            self._optimizer.build(self.model.trainable_variables)
        self._saved_weights = [np.array(w) for w in self.model.get_weights()]
        self._saved_optimizer = {v.path: keras.ops.convert_to_numpy(v) for v in self._optimizer.variables}
        self._first_step = current_iteration(self._optimizer)
        self._tracker = _loss_tracker(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self._previous = (0.0, 0.0)  # (mean, count) of the running loss: Keras resets it every epoch

    def _rate_at(self, step):
        k = step - self._first_step
        return self.start_lr * (self.end_lr / self.start_lr) ** (
            min(k, self.num_steps - 1) / (self.num_steps - 1)
        )

    def _batch_loss(self, batch, logs):
        # logs["loss"] is the running mean total / count over the epoch (count = samples so far, weighted by
        # batch size): the batch's own loss is the difference of consecutive totals over the new samples.
        mean = float(logs["loss"])
        previous_mean, previous_count = self._previous
        if self._tracker is not None:
            sync_training_state(self.model)
            count = float(keras.ops.convert_to_numpy(self._tracker.count))
        else:  # equal batches assumed
            count = float(batch + 1)
        self._previous = (mean, count)
        if count <= previous_count:
            return mean
        return (mean * count - previous_mean * previous_count) / (count - previous_count)

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        logs = logs or {}
        loss = self._batch_loss(batch, logs)
        k = len(self.losses)
        self.learning_rates.append(self.last_learning_rate)
        self.losses.append(loss)
        self._average = self.beta * self._average + (1.0 - self.beta) * loss
        smoothed = self._average / (1.0 - self.beta ** (k + 1))
        self.smoothed_losses.append(smoothed)
        diverged = not math.isfinite(smoothed) or (k > 0 and smoothed > self.stop_factor * self._best)
        self._best = min(self._best, smoothed) if math.isfinite(smoothed) else self._best
        if diverged or k + 1 >= self.num_steps:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        self.model.set_weights(self._saved_weights)
        for variable in self._optimizer.variables:
            if variable.path in self._saved_optimizer:
                variable.assign(self._saved_optimizer[variable.path])

    def suggestion(self, method="steepest", skip_begin=10, skip_end=5):
        """A learning rate read off the recorded curve.

        ```
        steepest:    the rate where d smoothed_loss / d log10(lr) is most negative (Smith; fastai's "steep")
        minimum/10:  the rate of the lowest smoothed loss, divided by 10 (the keras_lr_finder/fastai rule)
        ```

        Args:
            method: String, "steepest" or "minimum/10".
            skip_begin: Integer >= 0. Points ignored at the start (the smoothing's warm-up).
            skip_end: Integer >= 0. Points ignored at the end (the divergence).

        Returns:
            The suggested learning rate, a float.

        Raises:
            ValueError: on an unknown `method`, or fewer than 3 points left after skipping.
        """
        check_choice("method", method, ("steepest", "minimum/10"))
        rates, losses = self._trimmed(skip_begin, skip_end)
        if len(rates) < 3:
            raise ValueError(
                f"The range test recorded {len(self.losses)} points; fewer than 3 remain after skipping "
                f"{skip_begin} + {skip_end}. Run more steps or lower `skip_begin`/`skip_end`."
            )
        if method == "minimum/10":
            return float(rates[int(np.argmin(losses))] / 10.0)
        slopes = np.gradient(losses, np.log10(rates))
        return float(rates[int(np.argmin(slopes))])

    def _trimmed(self, skip_begin, skip_end):
        skip_begin = check_int("skip_begin", skip_begin, minimum=0)
        skip_end = check_int("skip_end", skip_end, minimum=0)
        stop = len(self.losses) - skip_end
        return np.asarray(self.learning_rates[skip_begin:stop]), np.asarray(
            self.smoothed_losses[skip_begin:stop]
        )

    def plot(self, ax=None, skip_begin=10, skip_end=5, suggest=True):
        """Plots the smoothed loss against the learning rate (log scale), marking the suggestion.

        Args:
            ax: Matplotlib Axes, or None for a new figure.
            skip_begin: Integer >= 0. Points left out at the start.
            skip_end: Integer >= 0. Points left out at the end.
            suggest: Boolean. Whether to mark `suggestion("steepest")` with a vertical line.

        Returns:
            The matplotlib Figure.

        Raises:
            ValueError: if nothing was recorded (or nothing is left after skipping).
        """
        rates, losses = self._trimmed(skip_begin, skip_end)
        if len(rates) == 0:
            raise ValueError("No points to plot: run `fit` with this callback first (or skip fewer points).")
        fig, ax = figure_and_axes(ax, (6, 3.5))
        ax.plot(rates, losses, label="smoothed loss")
        if suggest and len(rates) >= 3:
            rate = self.suggestion("steepest", skip_begin, skip_end)
            ax.axvline(rate, color="tab:red", linestyle="--", label=f"steepest: {rate:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("loss")
        ax.set_title("learning-rate range test")
        ax.legend()
        return fig
