"""Maxout: each unit is the max of several linear pieces."""

import keras
from keras import ops

from dlkit._checks import check_int


@keras.saving.register_keras_serializable(package="dlkit")
class Maxout(keras.layers.Layer):
    """A dense maxout layer (Goodfellow et al., 2013, "Maxout Networks", ICML): a learned, piecewise-linear
    convex activation. Keras has none.

    ```
    z[..., u, k] = x @ W[:, u, k] + b[u, k]          for k < num_pieces
    y[..., u]    = max_k z[..., u, k]                # with 2 pieces: max(w1.x + b1, w2.x + b2)
    ```

    ReLU is the special case of two pieces with one of them fixed at 0.

    Example:

    >>> layer = Maxout(units=16, num_pieces=2)
    >>> layer(np.zeros((4, 8), "float32")).shape   # (4, 16)

    Args:
        units: Integer >= 1. Number of output units.
        num_pieces: Integer >= 1. Linear pieces per unit (1 makes the layer linear).
        kernel_initializer: Initializer of the kernel `(input_dim, units * num_pieces)`.
        bias_initializer: Initializer of the bias `(units * num_pieces,)`.
        **kwargs: Base `keras.layers.Layer` arguments.

    Returns:
        A tensor `(..., units)`.

    Raises:
        ValueError: on `units` < 1 or `num_pieces` < 1.
    """

    def __init__(
        self, units, num_pieces=2, kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units, minimum=1)
        self.num_pieces = check_int("num_pieces", num_pieces, minimum=1)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        # Column u * num_pieces + k is piece k of unit u.
        self.kernel = self.add_weight(
            shape=(input_dim, self.units * self.num_pieces),
            name="kernel",
            initializer=self.kernel_initializer,
        )
        self.bias = self.add_weight(
            shape=(self.units * self.num_pieces,), name="bias", initializer=self.bias_initializer
        )
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        z = ops.matmul(inputs, ops.cast(self.kernel, inputs.dtype)) + ops.cast(self.bias, inputs.dtype)
        # Static sizes where known; on TensorFlow an unknown (batch) size is a scalar tensor, which reshape takes.
        z = ops.reshape(z, (*ops.shape(z)[:-1], self.units, self.num_pieces))
        return ops.max(z, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "num_pieces": self.num_pieces,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
