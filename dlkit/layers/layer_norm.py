"""Layer normalization: normalize each example over its own features."""

import keras
from keras import ops

from dlkit._checks import check_bool, check_float, check_int


def moments(x, axes):
    """Mean and biased variance of `x` over `axes` (kept dims), computed as `tf.nn.moments` does.

    float16 inputs are reduced in float32 (their range is too small for sums of squares) and the results cast
    back. The variance centers on `stop_gradient(mean)`: the gradient is the same (d var / d mean is 0), and so
    are the values, which keeps the layers equal to their TensorFlow originals on every backend.
    """
    dtype = keras.backend.standardize_dtype(x.dtype)
    y = ops.cast(x, "float32") if dtype == "float16" else x
    mean = ops.mean(y, axis=axes, keepdims=True)
    variance = ops.mean(ops.square(y - ops.stop_gradient(mean)), axis=axes, keepdims=True)
    if dtype == "float16":
        return ops.cast(mean, dtype), ops.cast(variance, dtype)
    return mean, variance


@keras.saving.register_keras_serializable(package="dlkit")
class LayerNorm(keras.layers.Layer):
    """Layer normalization (Ba, Kiros & Hinton, 2016, "Layer Normalization"): statistics per example, so it
    behaves the same in training and inference and does not depend on the batch size.

    ```
    mu, var = mean and (biased) variance of x over `axis`, for each example
    y = gamma * (x - mu) / sqrt(var + epsilon) + beta          # gamma, beta: one per feature on `axis`
    ```

    Same values as `keras.layers.LayerNormalization(axis, epsilon)` (without `rms_scaling`). Gradients come
    from autodiff.

    Example:

    >>> LayerNorm()(np.random.randn(4, 10).astype("float32"))  # each row: mean 0, variance ~1

    Args:
        axis: Integer. The feature axis normalized over (-1: the last).
        epsilon: Float > 0. Added to the variance.
        center: Boolean. Whether to learn an offset `beta`.
        scale: Boolean. Whether to learn a scale `gamma`.
        **kwargs: Base `keras.layers.Layer` arguments.

    Returns:
        A tensor with the shape of the input.

    Raises:
        ValueError: on a non-integer `axis` (or one outside the input's rank, at build) or `epsilon` <= 0.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_int("axis", axis)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0, min_inclusive=False)
        self.center = check_bool("center", center)
        self.scale = check_bool("scale", scale)

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(
                f"Argument `axis` must name a non-batch axis of input shape {input_shape}. Received: axis={self.axis}"
            )
        self._axis = self.axis % rank
        self._broadcast_shape = [1] * rank
        self._broadcast_shape[self._axis] = input_shape[self._axis]
        shape = (input_shape[self._axis],)
        self.gamma = self.add_weight(shape=shape, name="gamma", initializer="ones") if self.scale else None
        self.beta = self.add_weight(shape=shape, name="beta", initializer="zeros") if self.center else None

    def call(self, inputs):
        mean, variance = moments(inputs, axes=[self._axis])
        outputs = (inputs - mean) * ops.rsqrt(variance + self.epsilon)
        if self.scale:
            outputs = outputs * ops.reshape(ops.cast(self.gamma, inputs.dtype), self._broadcast_shape)
        if self.center:
            outputs = outputs + ops.reshape(ops.cast(self.beta, inputs.dtype), self._broadcast_shape)
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {"axis": self.axis, "epsilon": self.epsilon, "center": self.center, "scale": self.scale}
        )
        return config
