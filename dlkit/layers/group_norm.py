"""Group normalization: normalize each example over groups of channels."""

import keras
from keras import ops

from dlkit._checks import check_bool, check_float, check_int
from dlkit.layers.layer_norm import moments


@keras.saving.register_keras_serializable(package="dlkit")
class GroupNorm(keras.layers.Layer):
    """Group normalization (Wu & He, 2018, "Group Normalization", ECCV): per example, split the channels
    (last axis) into `groups` and normalize each group over its channels and all spatial positions.

    ```
    x: (N, ..., C) -> (N, ..., groups, C / groups)
    mu, var = mean and (biased) variance over every axis but N and the group axis
    y = gamma * (x - mu) / sqrt(var + epsilon) + beta           # gamma, beta: one per channel
    ```

    `groups=1` is layer norm over (spatial, channels); `groups=C` is instance norm. Same values as
    `keras.layers.GroupNormalization(groups, axis=-1, epsilon)`. Gradients come from autodiff.

    Example:

    >>> GroupNorm(groups=4)(np.random.randn(2, 8, 8, 16).astype("float32")).shape   # (2, 8, 8, 16)

    Args:
        groups: Integer >= 1 that divides the number of channels.
        epsilon: Float > 0. Added to the variance.
        center: Boolean. Whether to learn an offset `beta`.
        scale: Boolean. Whether to learn a scale `gamma`.
        **kwargs: Base `keras.layers.Layer` arguments.

    Returns:
        A tensor with the shape of the input (channels last).

    Raises:
        ValueError: on `groups` < 1, `epsilon` <= 0, or (at build) a channel count that `groups` does not divide.
    """

    def __init__(self, groups=32, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.groups = check_int("groups", groups, minimum=1)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0, min_inclusive=False)
        self.center = check_bool("center", center)
        self.scale = check_bool("scale", scale)

    def build(self, input_shape):
        channels = input_shape[-1]
        if len(input_shape) < 2 or channels is None or channels % self.groups:
            raise ValueError(
                f"Argument `groups` must divide the number of channels. Received: groups={self.groups}, "
                f"input shape {input_shape}"
            )
        self.gamma = (
            self.add_weight(shape=(channels,), name="gamma", initializer="ones") if self.scale else None
        )
        self.beta = (
            self.add_weight(shape=(channels,), name="beta", initializer="zeros") if self.center else None
        )
        self.input_spec = keras.layers.InputSpec(ndim=len(input_shape), axes={-1: channels})

    def call(self, inputs):
        # Static sizes where known; on TensorFlow an unknown (batch) size is a scalar tensor, which reshape takes.
        shape = ops.shape(inputs)
        rank = len(inputs.shape)
        channels = inputs.shape[-1]
        grouped = ops.reshape(inputs, (*shape[:-1], self.groups, channels // self.groups))
        # Reduce over spatial axes (1 .. rank-2) and the within-group channel axis (the last).
        axes = [*range(1, rank - 1), rank]
        mean, variance = moments(grouped, axes=axes)
        outputs = ops.reshape((grouped - mean) * ops.rsqrt(variance + self.epsilon), shape)
        if self.scale:
            outputs = outputs * ops.cast(self.gamma, inputs.dtype)
        if self.center:
            outputs = outputs + ops.cast(self.beta, inputs.dtype)
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {"groups": self.groups, "epsilon": self.epsilon, "center": self.center, "scale": self.scale}
        )
        return config
