"""RMSprop in the course's form."""

import keras
from keras import ops

from dlkit._checks import check_float
from dlkit.optimizers.momentum_gd import check_learning_rate


@keras.saving.register_keras_serializable(package="dlkit")
class RMSprop(keras.optimizers.Optimizer):
    """RMSprop as taught: divide the gradient by a running root-mean-square of its recent values.

    ```
    s = beta * s + (1 - beta) * dW**2       # s starts at 0
    W = W - learning_rate * dW / (sqrt(s) + epsilon)
    ```

    `keras.optimizers.RMSprop(learning_rate, rho=beta, epsilon=...)` computes the same `s` but divides by
    `sqrt(s + epsilon)` (epsilon inside the root), with no bias correction, and defaults to
    `learning_rate=0.001, rho=0.9, epsilon=1e-7`. Tieleman & Hinton, 2012, "Lecture 6.5 - rmsprop" (lecture 6e),
    COURSERA: Neural Networks for Machine Learning, also averages with 0.9; this class's default `beta=0.999`
    (Adam's beta_2) averages over ~1000 steps instead of ~10.

    Example:

    >>> model.compile(optimizer=RMSprop(learning_rate=0.001), loss="mse")

    Args:
        learning_rate: Float > 0, a `keras.optimizers.schedules.LearningRateSchedule`, or a callable.
        beta: Float in [0, 1). Decay of the running mean of squared gradients.
        epsilon: Float >= 0. Added to sqrt(s) so the step stays finite.
        name: String. The optimizer's name.
        **kwargs: Base `keras.optimizers.Optimizer` arguments.

    Raises:
        ValueError: on `learning_rate` <= 0, `beta` outside [0, 1) or `epsilon` < 0.
    """

    def __init__(self, learning_rate=0.001, beta=0.999, epsilon=1e-8, name="rmsprop", **kwargs):
        super().__init__(learning_rate=check_learning_rate(learning_rate), name=name, **kwargs)
        self.beta = check_float("beta", beta, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._squares = self.add_optimizer_variables(var_list, "square")

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        s = self._squares[self._get_variable_index(variable)]
        self.assign(
            s, ops.add(ops.multiply(s, self.beta), ops.multiply(ops.square(gradient), 1.0 - self.beta))
        )
        self.assign_sub(variable, ops.divide(ops.multiply(gradient, lr), ops.add(ops.sqrt(s), self.epsilon)))

    def get_config(self):
        config = super().get_config()
        config.update({"beta": self.beta, "epsilon": self.epsilon})
        return config
