"""Reading and setting a Keras 3 optimizer's learning rate from callbacks (private helpers)."""

import keras
import numpy as np

_Schedule = keras.optimizers.schedules.LearningRateSchedule


def base_optimizer(optimizer):
    """The optimizer that owns the learning rate (unwraps `LossScaleOptimizer`)."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def learning_rate_source(optimizer):
    """The optimizer's learning-rate object: a Variable, a `LearningRateSchedule` or a callable."""
    return getattr(base_optimizer(optimizer), "_learning_rate", None)


def uses_schedule(optimizer):
    return isinstance(learning_rate_source(optimizer), _Schedule)


def check_settable(model, callback_name):
    """Returns the model's optimizer; raises ValueError when the callback cannot set its learning rate."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError(f"`{callback_name}` needs a compiled model with an optimizer.")
    source = learning_rate_source(optimizer)
    if isinstance(source, _Schedule) or (source is not None and callable(source)):
        raise ValueError(
            f"`{callback_name}` sets the optimizer's learning rate every step, but this optimizer was built with "
            f"the schedule {type(source).__name__}, whose rate cannot be set. Either compile with a float "
            "`learning_rate` and keep the callback, or drop the callback and use the schedule form "
            "(see `dlkit.schedules`)."
        )
    return optimizer


def sync_training_state(model):
    """Makes the model's and optimizer's variables current in the middle of an epoch, on every backend.

    On JAX, Keras keeps the training state outside the variables during an epoch (the variables are stale or
    purged) and writes it back at epoch end. A callback that reads a variable, saves weights or assigns the learning
    rate mid-epoch calls this first: `model.jax_state_sync()` writes the state back, and Keras then reloads it
    before the next step, so a rate assigned now is the rate that step uses. (Keras's `Callback.model` property
    syncs too; this says so where it matters, since these callbacks keep the optimizer, whose variables read as
    their initial values, or fail, while purged.) A no-op on TensorFlow and PyTorch, whose variables are current.
    """
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


def current_iteration(optimizer):
    """The optimizer's global step (updates applied so far) as an int."""
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def read_learning_rate(optimizer):
    """The float learning rate a variable-rate optimizer will use for its next update."""
    return float(np.asarray(keras.ops.convert_to_numpy(optimizer.learning_rate)))


def _backend_variable_class():
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.Variable
    return ()


_BACKEND_VARIABLE = _backend_variable_class()


def set_learning_rate(optimizer, value):
    """Sets a variable-rate optimizer's learning rate (the check for schedules is `check_settable`'s job)."""
    backend_variable = getattr(learning_rate_source(optimizer), "value", None)
    if isinstance(backend_variable, _BACKEND_VARIABLE):
        # Once per step: the raw TensorFlow assign costs a quarter of the Keras setter's checks and conversions.
        backend_variable.assign(np.asarray(value, backend_variable.dtype.as_numpy_dtype), read_value=False)
    else:
        optimizer.learning_rate = float(value)


class ScheduledLearningRate(keras.callbacks.Callback):
    """Base of the callbacks that set the rate each step: `lr = _rate_at(step)` from `optimizer.iterations`.

    Subclasses implement `_rate_at(step)` (a float, or None to leave the rate alone at that step). The rate is
    set in `on_train_batch_begin` from the global step, so a resumed run continues exactly where it left off;
    the last rate set is written to `logs["learning_rate"]` at batch and epoch end. With
    `compile(steps_per_execution=k)` Keras calls batch hooks once per k steps, so the rate changes every k
    steps: use the schedule form there.
    """

    def __init__(self):
        super().__init__()
        self._optimizer = None
        self.step = None
        self.last_learning_rate = None

    def on_train_begin(self, logs=None):
        self._optimizer = check_settable(self.model, type(self).__name__)
        self.last_learning_rate = None

    def _rate_at(self, step):
        raise NotImplementedError

    def on_train_batch_begin(self, batch, logs=None):
        sync_training_state(self.model)
        self.step = current_iteration(self._optimizer)
        rate = self._rate_at(self.step)
        if rate is not None:
            set_learning_rate(self._optimizer, rate)
            # Log what the optimizer holds (float32), i.e. the rate this step really uses.
            rate = float(np.float32(rate))
        self.last_learning_rate = rate

    def on_train_batch_end(self, batch, logs=None):
        if logs is not None and self.last_learning_rate is not None:
            logs["learning_rate"] = self.last_learning_rate

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            if self.last_learning_rate is not None:
                logs["learning_rate"] = self.last_learning_rate
            else:
                logs["learning_rate"] = read_learning_rate(self._optimizer)
