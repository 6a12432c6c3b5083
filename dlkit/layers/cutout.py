"""Cutout: mask a square patch at a random place of each training image."""

import keras
from keras import ops

from dlkit._checks import check_float, check_int, check_seed


def cutout_mask(height, width, centers, size):
    """0/1 masks that are 0 on a `size` x `size` square around each center, clipped at the borders.

    ```
    rows   [cy - size // 2, cy - size // 2 + size) ∩ [0, height)
    cols   [cx - size // 2, cx - size // 2 + size) ∩ [0, width)
    mask   = 0 inside rows x cols, 1 elsewhere
    ```

    For an even `size` these are the rows/columns of the authors' code (uoguelph-mlrg/Cutout:
    `clip(y - size // 2, 0, h)` to `clip(y + size // 2, 0, h)`).

    Example:

    >>> cutout_mask(8, 8, [[4, 4]], 4)     # (1, 8, 8): zeros on rows 2..5, columns 2..5

    Args:
        height, width: Integers. Image size.
        centers: Integer tensor (batch, 2) of (row, column) centers, in [0, height) x [0, width).
        size: Integer >= 1. Side of the square.

    Returns:
        A float32 tensor (batch, height, width).
    """
    centers = ops.cast(centers, "int32")
    top = centers[:, 0:1] - size // 2
    left = centers[:, 1:2] - size // 2
    rows = ops.arange(height, dtype="int32")[None, :]
    cols = ops.arange(width, dtype="int32")[None, :]
    in_rows = ops.logical_and(rows >= top, rows < top + size)  # (batch, height)
    in_cols = ops.logical_and(cols >= left, cols < left + size)  # (batch, width)
    inside = ops.logical_and(in_rows[:, :, None], in_cols[:, None, :])
    return 1.0 - ops.cast(inside, "float32")


@keras.saving.register_keras_serializable(package="dlkit")
class Cutout(keras.layers.Layer):
    """Cutout (DeVries & Taylor, 2017, "Improved Regularization of Convolutional Neural Networks with Cutout"):
    in training, a `size` x `size` square of each image is set to `fill_value`.

    ```
    training:  (cy, cx) ~ uniform over the image, one center per image (the patch may stick out of it)
               y = x * mask + fill_value * (1 - mask)        # mask = cutout_mask(h, w, centers, size)
    inference: y = x
    ```

    The paper fills with 0 after normalizing the images, i.e. the data set's mean, and lets the patch lie partly
    outside the image. `keras.layers.RandomErasing` (Zhong et al., 2017) differs: it draws the patch's area and
    aspect ratio, keeps the patch inside the image, applies it with a probability and fills it with noise by
    default.

    Example:

    >>> layer = Cutout(size=4, seed=0)
    >>> y = layer(images, training=True)     # images (batch, height, width, channels)

    Args:
        size: Integer >= 1. Side of the square patch, in pixels.
        fill_value: Float. Value written into the patch.
        seed: Integer >= 0 or None. Seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: Base `keras.layers.Layer` arguments.

    Returns:
        A tensor of the input's shape (channels last).

    Raises:
        ValueError: on `size` < 1, a non-finite `fill_value`, an invalid `seed`, or inputs that are not 4-D.
    """

    def __init__(self, size, fill_value=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.size = check_int("size", size, minimum=1)
        self.fill_value = check_float("fill_value", fill_value)
        self.seed = check_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "Argument `inputs` must be 4-D images (batch, height, width, channels). "
                f"Received: input_shape={input_shape}"
            )

    def call(self, inputs, training=None):
        if not training:
            return inputs
        shape = ops.shape(inputs)
        batch, height, width = shape[0], shape[1], shape[2]
        uniform = keras.random.uniform((batch, 2), seed=self.seed_generator)
        limits = ops.cast(ops.stack([height, width]), "float32")
        centers = ops.cast(ops.floor(uniform * limits), "int32")
        mask = ops.cast(cutout_mask(height, width, centers, self.size), inputs.dtype)[..., None]
        return inputs * mask + ops.cast(self.fill_value, inputs.dtype) * (1.0 - mask)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "fill_value": self.fill_value, "seed": self.seed})
        return config
