"""Gradient descent with momentum in the course's exponentially-weighted-average form."""

import keras
from keras import ops

from dlkit._checks import check_float


def check_learning_rate(learning_rate):
    """Accepts a number > 0, a `LearningRateSchedule` or a callable (Keras's own options)."""
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule) or callable(learning_rate):
        return learning_rate
    return check_float("learning_rate", learning_rate, minimum=0.0, min_inclusive=False)


@keras.saving.register_keras_serializable(package="dlkit")
class MomentumGD(keras.optimizers.Optimizer):
    """Gradient descent with momentum, as taught: an exponentially weighted average of the gradients.

    ```
    v = beta * v + (1 - beta) * dW          # v starts at 0; no bias correction
    W = W - learning_rate * v
    ```

    How it differs from `keras.optimizers.SGD(learning_rate, momentum=beta)`, which uses
    `v = beta * v - learning_rate * dW; W = W + v`: Keras's velocity sums the gradients, so its steady-state
    step on a constant gradient is `learning_rate * dW / (1 - beta)`; the course's average makes it
    `learning_rate * dW`. The two produce the same trajectory when Keras's learning rate is
    `learning_rate * (1 - beta)` (with a constant learning rate). Polyak, 1964, "Some methods of speeding up
    the convergence of iteration methods".

    Example:

    >>> model.compile(optimizer=MomentumGD(learning_rate=0.1, beta=0.9), loss="mse")

    Args:
        learning_rate: Float > 0, a `keras.optimizers.schedules.LearningRateSchedule`, or a callable.
        beta: Float in [0, 1). Momentum: the weight of the past average.
        name: String. The optimizer's name.
        **kwargs: Base `keras.optimizers.Optimizer` arguments (`clipnorm`, `weight_decay`, ...).

    Raises:
        ValueError: on `learning_rate` <= 0 or `beta` outside [0, 1).
    """

    def __init__(self, learning_rate=0.01, beta=0.9, name="momentum_gd", **kwargs):
        super().__init__(learning_rate=check_learning_rate(learning_rate), name=name, **kwargs)
        self.beta = check_float("beta", beta, minimum=0.0, maximum=1.0, max_inclusive=False)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        v = self._velocities[self._get_variable_index(variable)]
        self.assign(v, ops.add(ops.multiply(v, self.beta), ops.multiply(gradient, 1.0 - self.beta)))
        self.assign_sub(variable, ops.multiply(v, lr))

    def get_config(self):
        config = super().get_config()
        config.update({"beta": self.beta})
        return config
