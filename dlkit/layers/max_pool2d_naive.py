"""2D max pooling by explicit windows, to show what `keras.layers.MaxPooling2D` computes."""

import keras
from keras import ops

from dlkit.layers.conv2d_naive import check_padding, extract_patches, output_size, pair


@keras.saving.register_keras_serializable(package="dlkit")
class MaxPool2DNaive(keras.layers.Layer):
    """2D max pooling written as the elementwise max of the pool's shifted views.

    ```
    pad x with -inf if padding == "same"             # padded cells never win the max
    y[n, r, c, ch] = max_{i < ph, j < pw} x[n, r*sh + i, c*sw + j, ch]
    ```

    Equal to `keras.layers.MaxPooling2D(pool_size, strides, padding)` (channels last). The gradient, from
    autodiff, routes each output's gradient to the input cell that was the max (Ranzato et al., 2007).

    Example:

    >>> MaxPool2DNaive(2)(np.zeros((1, 28, 28, 3), "float32")).shape   # (1, 14, 14, 3)

    Args:
        pool_size: Integer or pair of integers >= 1. Window height and width.
        strides: Integer or pair of integers >= 1, or None for `pool_size` (non-overlapping windows).
        padding: "valid" or "same".
        **kwargs: Base `keras.layers.Layer` arguments.

    Returns:
        A tensor `(N, OH, OW, C)`.

    Raises:
        ValueError: on a `pool_size`/`strides` that is not a positive int (pair) or a bad `padding`.
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = pair("pool_size", pool_size)
        self.strides = self.pool_size if strides is None else pair("strides", strides)
        self.padding = check_padding(padding)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"MaxPool2DNaive expects a 4D input (N, H, W, C). Received input shape {input_shape}"
            )
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def call(self, inputs):
        windows = extract_patches(inputs, self.pool_size, self.strides, self.padding, pad_value=-float("inf"))
        outputs = windows[0]
        for window in windows[1:]:
            outputs = ops.maximum(outputs, window)
        return outputs

    def compute_output_shape(self, input_shape):
        return (
            input_shape[0],
            output_size(input_shape[1], self.pool_size[0], self.strides[0], self.padding),
            output_size(input_shape[2], self.pool_size[1], self.strides[1], self.padding),
            input_shape[3],
        )

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding})
        return config
