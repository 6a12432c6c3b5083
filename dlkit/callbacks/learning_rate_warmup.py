"""Learning-rate warmup (Goyal et al., 2017) as a callback in front of whatever rate the user configured."""

from dlkit._checks import check_float
from dlkit.callbacks._optimizer_lr import (
    ScheduledLearningRate,
    current_iteration,
    read_learning_rate,
    set_learning_rate,
)
from dlkit.schedules.linear_warmup import LinearWarmup, check_warmup_args


class LearningRateWarmup(ScheduledLearningRate):
    """Warms the learning rate up over the first `warmup_steps` optimizer steps, then leaves it alone.

    With W = `warmup_steps` and `step` the optimizer iteration (0-based) read at every batch:

    ```
    lr = start_lr + (target_lr - start_lr) * step / W   # step < W, mode="linear" (gradual warmup)
       = start_lr                                       # step < W, mode="constant"
       = the configured rate                            # step == W: hand the rate back
    (step > W: the callback does not touch the rate)
    ```

    The configured rate is `target_lr`, unless another callback changed the rate during the warmup (e.g. a
    `LearningRateScheduler` at an epoch start): then its latest value is handed back.

    `target_lr` defaults to the optimizer's learning rate when training starts. The numbers come from
    `dlkit.schedules.LinearWarmup(W, after=target_lr, start_lr, mode)`.

    Composing with decay: after step W the optimizer keeps the rate the user configured, so a decay driven by
    another callback (`keras.callbacks.LearningRateScheduler`, `ReduceLROnPlateau`, ...) takes over from there;
    during warmup this callback overrides them at every batch start, and hands back their latest value. The callback refuses an
    optimizer built with a `LearningRateSchedule`: for warmup followed by a scheduled decay, use the schedule
    form `dlkit.schedules.LinearWarmup(W, after=decay_schedule)` instead.

    Resuming: the warmup position is the optimizer's step, so a model saved mid-warmup resumes mid-warmup. When
    `fit` stops before step W, the callback puts `target_lr` back into the optimizer, so a model saved after
    `fit` holds the target and a fresh callback reads it again. A checkpoint written during warmup (e.g. by
    `ModelCheckpoint`) holds a warmup rate: pass `target_lr` explicitly when resuming from one.
    Paper: Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour" (arXiv:1706.02677).

    Example:

    >>> model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    >>> model.fit(x, y, epochs=5, callbacks=[dlkit.callbacks.LearningRateWarmup(warmup_steps=100)])

    Args:
        warmup_steps: Integer >= 1. W, the number of warmup steps.
        target_lr: Float >= 0 or None. The rate reached at step W; None reads the optimizer's rate at train start.
        start_lr: Float >= 0. The rate at step 0 (and throughout a constant warmup).
        mode: String, "linear" (gradual warmup) or "constant".

    Raises:
        ValueError: on invalid arguments, and at train begin when the optimizer's learning rate is a
            `LearningRateSchedule`.
    """

    def __init__(self, warmup_steps, target_lr=None, start_lr=0.0, mode="linear"):
        super().__init__()
        self.warmup_steps, self.start_lr = check_warmup_args(warmup_steps, start_lr, mode)
        self.mode = mode
        self.target_lr = None if target_lr is None else check_float("target_lr", target_lr, minimum=0.0)
        self.schedule = None
        self._handed_back = True

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        target = self.target_lr if self.target_lr is not None else read_learning_rate(self._optimizer)
        self.schedule = LinearWarmup(self.warmup_steps, after=target, start_lr=self.start_lr, mode=self.mode)
        # The rate handed back at step W: the target, or whatever another callback set during the warmup.
        self._configured = target
        self._handed_back = current_iteration(self._optimizer) > self.warmup_steps

    def _rate_at(self, step):
        if self._handed_back:
            return None
        if self.last_learning_rate is not None:
            current = read_learning_rate(self._optimizer)
            if current != self.last_learning_rate:
                self._configured = current  # e.g. a LearningRateScheduler's value for this epoch
        if step >= self.warmup_steps:
            self._handed_back = True
            return self._configured
        return self.schedule.value(step)

    def on_train_end(self, logs=None):
        # Stopped mid-warmup: leave the optimizer holding the configured rate, so that saving now and resuming
        # later reads the right target.
        if not self._handed_back and self.schedule is not None:
            set_learning_rate(self._optimizer, self._configured)
            self._handed_back = True
