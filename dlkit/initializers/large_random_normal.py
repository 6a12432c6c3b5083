"""The course's "large random" initialization: standard normal times a large scale."""

import random

import keras

from dlkit._checks import check_float, check_seed


@keras.saving.register_keras_serializable(package="dlkit")
class LargeRandomNormal(keras.initializers.Initializer):
    """Initializes weights to `randn * scale` (scale 10 in the initialization lab) to show what large weights do:
    a saturated sigmoid output with a huge initial cost, saturated tanh units or dead ReLU units, and slow learning.

    ```
    W = normal(mean=0, stddev=1, shape) * scale
    ```

    The same as `keras.initializers.RandomNormal(stddev=scale)`, named after the lab.

    Example:

    >>> keras.layers.Dense(10, kernel_initializer=LargeRandomNormal(scale=10.0, seed=1))

    Args:
        scale: Float > 0. The standard deviation of the weights.
        seed: Integer >= 0 or None. With an integer every call returns the same values (as in Keras).

    Returns:
        Called as `initializer(shape, dtype)`: a tensor of that shape.

    Raises:
        ValueError: on `scale` <= 0 or a `seed` that is not None or an integer >= 0.
    """

    def __init__(self, scale=10.0, seed=None):
        self.scale = check_float("scale", scale, minimum=0.0, min_inclusive=False)
        self.seed = check_seed("seed", seed)
        # An unseeded initializer still draws the same values per instance (Keras's convention).
        self._seed = self.seed if self.seed is not None else random.randint(1, 2**31 - 1)

    def __call__(self, shape, dtype=None):
        return keras.random.normal(shape, stddev=self.scale, seed=self._seed, dtype=dtype)

    def get_config(self):
        return {"scale": self.scale, "seed": self.seed}
