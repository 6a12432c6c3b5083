"""DropConnect: a Dense layer that drops weights, not units, in training."""

import keras
from keras import ops

from dlkit._checks import check_float, check_int, check_seed


def drop_connect_dense(inputs, kernel, bias, weight_mask, keep_prob):
    """The DropConnect dense map for a given 0/1 weight mask (the layer's training step with its mask fixed).

    ```
    y = inputs @ (kernel * weight_mask / keep_prob) + bias          # E[y] = inputs @ kernel + bias
    ```

    Example:

    >>> y = drop_connect_dense(x, W, b, mask, keep_prob=0.5)   # what DropConnectDense computes in training

    Args:
        inputs: Tensor (..., n_in).
        kernel: Tensor (n_in, units).
        bias: Tensor (units,) or None.
        weight_mask: 0/1 tensor of `kernel`'s shape.
        keep_prob: Float in (0, 1]. Probability of keeping a weight.

    Returns:
        A tensor (..., units), before the activation.
    """
    masked = kernel * ops.cast(weight_mask, kernel.dtype) / ops.cast(keep_prob, kernel.dtype)
    outputs = ops.matmul(inputs, masked)
    return outputs if bias is None else outputs + bias


@keras.saving.register_keras_serializable(package="dlkit")
class DropConnectDense(keras.layers.Layer):
    """A Dense layer with DropConnect (Wan et al., 2013, "Regularization of Neural Networks using DropConnect",
    ICML): in training each *weight* is kept with probability `keep_prob = 1 - rate`, a fresh mask per step.

    ```
    training:  M ~ Bernoulli(keep_prob), shape (n_in, units), one mask per call (per training step)
               y = activation(x @ (W * M / keep_prob) + b)
    inference: y = activation(x @ W + b)                  # the expected weights, E[W * M / keep_prob] = W
    per unit:  E[u_j] = sum_i x_i W_ij,  Var[u_j] = (1 - keep_prob) / keep_prob * sum_i x_i^2 W_ij^2
    ```

    Two differences from the paper, on purpose: the mask is scaled by 1 / keep_prob in training (the "inverted"
    form, so inference uses W itself; the paper's unscaled weights at inference are keep_prob * W, the same
    network), and inference is the mean network, which the paper compares with its own moment-matching rule
    (a Gaussian fitted to each unit's pre-activation, sampled through the activation). The paper also draws a
    mask per example; here one mask is shared by the batch.

    Example:

    >>> layer = DropConnectDense(32, rate=0.5, activation="relu", seed=0)
    >>> y = layer(np.ones((4, 16), "float32"), training=True)

    Args:
        units: Integer >= 1. Output units.
        rate: Float in [0, 1). Fraction of weights dropped in training.
        activation: Activation name or callable (None: linear).
        use_bias: Boolean. Whether to add a bias (never dropped).
        kernel_initializer, bias_initializer: Initializers of the kernel (n_in, units) and bias (units,).
        seed: Integer >= 0 or None. Seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: Base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Returns:
        A tensor (..., units).

    Raises:
        ValueError: on `units` < 1, `rate` outside [0, 1), or an invalid `seed`.
    """

    def __init__(
        self,
        units,
        rate=0.5,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units, minimum=1)
        self.rate = check_float("rate", rate, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.seed = check_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(input_dim, self.units), name="kernel", initializer=self.kernel_initializer
        )
        self.bias = (
            self.add_weight(shape=(self.units,), name="bias", initializer=self.bias_initializer)
            if self.use_bias
            else None
        )
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_dim})

    def weight_mask(self):
        """Draws the next 0/1 weight mask (n_in, units) from the layer's seed generator."""
        uniform = keras.random.uniform(self.kernel.shape, dtype=self.kernel.dtype, seed=self.seed_generator)
        return ops.cast(uniform >= self.rate, self.kernel.dtype)

    def call(self, inputs, training=None):
        kernel = ops.cast(self.kernel, inputs.dtype)
        bias = None if self.bias is None else ops.cast(self.bias, inputs.dtype)
        if training and self.rate > 0.0:
            outputs = drop_connect_dense(inputs, kernel, bias, self.weight_mask(), 1.0 - self.rate)
        else:
            outputs = ops.matmul(inputs, kernel)
            outputs = outputs if bias is None else outputs + bias
        return outputs if self.activation is None else self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "rate": self.rate,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "seed": self.seed,
            }
        )
        return config
