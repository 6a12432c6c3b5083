"""Stochastic depth: skip a whole residual block at random in training."""

import keras
from keras import ops

from dlkit._checks import check_float, check_int, check_seed


def linear_decay_survival(num_blocks, final_survival_prob=0.5):
    """The survival probabilities of Huang et al. (2016), eq. 4: linear decay from 1 at the input to p_L.

    ```
    p_l = 1 - (l / L) * (1 - p_L)          for l = 1, ..., L
    ```

    Example:

    >>> linear_decay_survival(4, 0.5)      # [0.875, 0.75, 0.625, 0.5]

    Args:
        num_blocks: Integer >= 1. L, the number of residual blocks.
        final_survival_prob: Float in (0, 1]. p_L, the last block's survival probability (0.5 in the paper).

    Returns:
        A list of L floats.

    Raises:
        ValueError: on `num_blocks` < 1 or `final_survival_prob` outside (0, 1].
    """
    num_blocks = check_int("num_blocks", num_blocks, minimum=1)
    final = check_float(
        "final_survival_prob", final_survival_prob, minimum=0.0, maximum=1.0, min_inclusive=False
    )
    return [1.0 - (layer / num_blocks) * (1.0 - final) for layer in range(1, num_blocks + 1)]


@keras.saving.register_keras_serializable(package="dlkit")
class StochasticDepth(keras.layers.Layer):
    """Stochastic depth (Huang et al., 2016, "Deep Networks with Stochastic Depth", ECCV): the residual branch
    of a block survives with probability `survival_prob` in training and is scaled by it at inference.

    Called on `[shortcut, residual]`, the two branches of a residual block H = shortcut + f(x):

    ```
    training:  b ~ Bernoulli(survival_prob), one draw per call (per mini-batch, as in the paper)
               y = shortcut + b * residual         # b = 0: the block is the identity
    inference: y = shortcut + survival_prob * residual
    ```

    The paper applies ReLU after the sum; put it after this layer. `linear_decay_survival(L, 0.5)` gives the
    paper's per-block probabilities. The draw comes from a `keras.random.SeedGenerator`, so the layer works in
    `fit` and in compiled functions, with a different draw at every step.

    Example:

    >>> shortcut = x
    >>> residual = keras.layers.Dense(64)(keras.layers.Dense(64, activation="relu")(x))
    >>> y = keras.layers.ReLU()(StochasticDepth(0.8, seed=0)([shortcut, residual]))

    Args:
        survival_prob: Float in (0, 1]. p_l, the probability that the residual branch is kept.
        seed: Integer >= 0 or None. Seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Returns:
        A tensor of the branches' shape.

    Raises:
        ValueError: on `survival_prob` outside (0, 1] or an invalid `seed`; on inputs that are not two tensors
            of the same shape.
    """

    def __init__(self, survival_prob=0.5, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.survival_prob = check_float(
            "survival_prob", survival_prob, minimum=0.0, maximum=1.0, min_inclusive=False
        )
        self.seed = check_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) != 2
            or not isinstance(input_shape[0], (list, tuple))
        ):
            raise ValueError(
                "Argument `inputs` must be a list [shortcut, residual] of two tensors. "
                f"Received: input_shape={input_shape}"
            )
        if tuple(input_shape[0])[1:] != tuple(input_shape[1])[1:]:
            raise ValueError(
                "Argument `inputs` must be two tensors of the same shape. "
                f"Received: shapes {tuple(input_shape[0])} and {tuple(input_shape[1])}"
            )

    def call(self, inputs, training=None):
        shortcut, residual = inputs
        if not training:
            return shortcut + ops.cast(self.survival_prob, residual.dtype) * residual
        if self.survival_prob == 1.0:
            return shortcut + residual
        uniform = keras.random.uniform((), dtype=residual.dtype, seed=self.seed_generator)
        keep = ops.cast(uniform < self.survival_prob, residual.dtype)
        return shortcut + keep * residual

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update({"survival_prob": self.survival_prob, "seed": self.seed})
        return config
