"""Adam in the course's form, with bias correction."""

import keras
from keras import ops

from dlkit._checks import check_float
from dlkit.optimizers.momentum_gd import check_learning_rate


@keras.saving.register_keras_serializable(package="dlkit")
class Adam(keras.optimizers.Optimizer):
    """Adam as taught: momentum and RMSprop together, each bias-corrected (Kingma & Ba, 2015, "Adam: A Method
    for Stochastic Optimization", Algorithm 1).

    ```
    t = t + 1
    v = beta_1 * v + (1 - beta_1) * dW;        v_hat = v / (1 - beta_1**t)
    s = beta_2 * s + (1 - beta_2) * dW**2;     s_hat = s / (1 - beta_2**t)
    W = W - learning_rate * v_hat / (sqrt(s_hat) + epsilon)
    ```

    `keras.optimizers.Adam` uses the paper's "efficient" rearrangement
    `W -= learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t) * v / (sqrt(s) + epsilon)` (epsilon added to the
    root of the *uncorrected* s), which equals this form with an epsilon of `epsilon / sqrt(1 - beta_2**t)`:
    Keras's epsilon is the paper's epsilon-hat = epsilon * sqrt(1 - beta_2**t). The two agree to ~1e-6 whenever
    epsilon is small next to sqrt(s_hat). Keras defaults to `learning_rate=0.001, epsilon=1e-7`; the paper
    suggests `learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8` (this class's defaults).

    Example:

    >>> model.compile(optimizer=Adam(learning_rate=0.001), loss="mse")

    Args:
        learning_rate: Float > 0, a `keras.optimizers.schedules.LearningRateSchedule`, or a callable.
        beta_1: Float in [0, 1). Decay of the first-moment (momentum) average.
        beta_2: Float in [0, 1). Decay of the second-moment (RMS) average.
        epsilon: Float >= 0. Added to sqrt(s_hat).
        name: String. The optimizer's name.
        **kwargs: Base `keras.optimizers.Optimizer` arguments.

    Raises:
        ValueError: on `learning_rate` <= 0, a beta outside [0, 1) or `epsilon` < 0.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, name="adam", **kwargs):
        super().__init__(learning_rate=check_learning_rate(learning_rate), name=name, **kwargs)
        self.beta_1 = check_float("beta_1", beta_1, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.beta_2 = check_float("beta_2", beta_2, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        t = ops.cast(self.iterations + 1, dtype)
        index = self._get_variable_index(variable)
        v, s = self._momentums[index], self._velocities[index]
        self.assign(v, ops.add(ops.multiply(v, self.beta_1), ops.multiply(gradient, 1.0 - self.beta_1)))
        self.assign(
            s, ops.add(ops.multiply(s, self.beta_2), ops.multiply(ops.square(gradient), 1.0 - self.beta_2))
        )
        v_hat = ops.divide(v, 1.0 - ops.power(ops.cast(self.beta_1, dtype), t))
        s_hat = ops.divide(s, 1.0 - ops.power(ops.cast(self.beta_2, dtype), t))
        self.assign_sub(variable, ops.divide(ops.multiply(v_hat, lr), ops.add(ops.sqrt(s_hat), self.epsilon)))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
