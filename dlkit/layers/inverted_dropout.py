"""Inverted dropout: drop units in training and rescale the survivors so inference needs no change."""

import keras
from keras import ops

from dlkit._checks import check_float, check_seed


@keras.saving.register_keras_serializable(package="dlkit")
class InvertedDropout(keras.layers.Layer):
    """Inverted dropout (Srivastava et al., 2014, "Dropout: a simple way to prevent neural networks from
    overfitting", JMLR 15).

    In training each unit is kept with probability `keep_prob = 1 - rate` and the kept units are divided by
    `keep_prob`, so the expected value of every unit is unchanged and inference is the identity
    ("don't use dropout at test time"):

    ```
    keep_prob = 1 - rate
    mask = uniform(shape(x)) >= rate              # training only; P(mask) = keep_prob
    y = x * mask / keep_prob                      # E[y] = x
    y = x                                         # inference
    ```

    Equivalent to `keras.layers.Dropout(rate)`; written out so the regularization lab can show the mask.

    Example:

    >>> layer = InvertedDropout(0.2, seed=0)
    >>> y = layer(np.ones((2, 5), "float32"), training=True)  # entries are 0 or 1.25

    Args:
        rate: Float in [0, 1). Fraction of units to drop.
        seed: Integer >= 0 or None. Seed of the layer's `keras.random.SeedGenerator`; with a seed the
            sequence of masks is reproducible.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Returns:
        A tensor with the shape of the input.

    Raises:
        ValueError: if `rate` is not in [0, 1) or `seed` is not None or an integer >= 0.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_float("rate", rate, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.seed = check_seed("seed", seed)
        # The generator's state is a variable, so masks differ step to step and still work under XLA.
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.supports_masking = True

    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        keep_prob = 1.0 - self.rate
        uniform = keras.random.uniform(ops.shape(inputs), dtype=inputs.dtype, seed=self.seed_generator)
        # P(uniform >= rate) = keep_prob. `where` rather than multiplying by a 0/1 mask: one op fewer each way
        # (and the same draw and comparison as keras.layers.Dropout, so equal seeds give equal masks).
        keep = uniform >= self.rate
        return ops.where(
            keep,
            inputs * ops.convert_to_tensor(1.0 / keep_prob, inputs.dtype),
            ops.convert_to_tensor(0.0, inputs.dtype),
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
