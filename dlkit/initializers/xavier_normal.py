"""Xavier initialization in both the variances the course uses: 1/n_in and 2/(n_in + n_out)."""

import math
import random

import keras

from dlkit._checks import check_choice, check_seed


def _fans(shape):
    # Keras's convention: a Dense kernel is (n_in, n_out); a conv kernel is (*window, c_in, c_out).
    if len(shape) < 2:
        raise ValueError(f"XavierNormal needs a kernel shape of rank >= 2. Received shape {tuple(shape)}")
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


@keras.saving.register_keras_serializable(package="dlkit")
class XavierNormal(keras.initializers.Initializer):
    """Xavier initialization with an untruncated normal, in either of the two variances the course compares:
    1 / n_in (LeCun, Bottou, Orr & Müller, 1998, "Efficient BackProp"; the course calls it "Xavier") and
    2 / (n_in + n_out) (Glorot & Bengio, 2010, "Understanding the difficulty of training deep feedforward neural
    networks": one over the average fan, a compromise between the forward and the backward pass).

    ```
    variance = 1 / n_in               if variance == "fan_in"   (the course's "Xavier": randn * sqrt(1/n_in))
    variance = 2 / (n_in + n_out)     if variance == "fan_avg"  (Glorot & Bengio's compromise)
    W = normal(0, 1, shape) * sqrt(variance)
    ```

    Keras's named initializers draw from a normal *truncated* at two standard deviations (rescaled to the same
    variance): `keras.initializers.LecunNormal` is the fan_in variance, `GlorotNormal` the fan_avg one, and
    `HeNormal` is 2 / n_in, for ReLU networks (He et al., 2015, who use the untruncated normal:
    `VarianceScaling(2.0, "fan_in", "untruncated_normal")`). For a conv kernel n_in and n_out include the window size.

    Example:

    >>> keras.layers.Dense(10, kernel_initializer=XavierNormal("fan_avg", seed=1))

    Args:
        variance: "fan_in" (1 / n_in) or "fan_avg" (2 / (n_in + n_out)).
        seed: Integer >= 0 or None. With an integer every call returns the same values (as in Keras).

    Returns:
        Called as `initializer(shape, dtype)`: a tensor of that shape (rank >= 2).

    Raises:
        ValueError: on another `variance`, a bad `seed`, or a shape of rank < 2.
    """

    def __init__(self, variance="fan_in", seed=None):
        self.variance = check_choice("variance", variance, ("fan_in", "fan_avg"))
        self.seed = check_seed("seed", seed)
        self._seed = self.seed if self.seed is not None else random.randint(1, 2**31 - 1)

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = _fans(tuple(shape))
        variance = 1.0 / fan_in if self.variance == "fan_in" else 2.0 / (fan_in + fan_out)
        return keras.random.normal(shape, stddev=math.sqrt(variance), seed=self._seed, dtype=dtype)

    def get_config(self):
        return {"variance": self.variance, "seed": self.seed}
