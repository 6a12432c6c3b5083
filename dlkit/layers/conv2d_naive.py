"""A 2D convolution written as im2col + one matrix product, to show what `keras.layers.Conv2D` computes."""

import keras
from keras import ops

from dlkit._checks import check_choice, check_int


def pair(name, value):
    """Returns `value` as a pair of ints >= 1 (an int is used for both dimensions)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"Argument `{name}` must be an int or a pair of ints. Received: {name}={value!r}"
            )
        return tuple(check_int(name, v, minimum=1) for v in value)
    value = check_int(name, value, minimum=1)
    return (value, value)


def check_padding(padding):
    padding = padding.lower() if isinstance(padding, str) else padding
    return check_choice("padding", padding, ("valid", "same"))


def _same_pads(size, kernel, stride):
    # TensorFlow's "same": output ceil(size / stride), extra padding goes at the end (bottom/right).
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def output_size(size, kernel, stride, padding):
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    return (size - kernel) // stride + 1


def extract_patches(x, kernel_size, strides, padding, pad_value=0.0):
    """Cuts `x` (N, H, W, C) into the windows a kernel sees: one strided slice per kernel position.

    Returns a list of kh * kw tensors of shape (N, OH, OW, C), ordered row by row: entry `i * kw + j` holds, at
    output position (r, c), the input pixel (r * sh + i, c * sw + j) of the (padded) image.
    """
    (kh, kw), (sh, sw) = kernel_size, strides
    height, width = x.shape[1], x.shape[2]
    if height is None or width is None:
        raise ValueError(f"The naive layers need static spatial dimensions. Received input shape {x.shape}")
    if padding == "same":
        top, bottom = _same_pads(height, kh, sh)
        left, right = _same_pads(width, kw, sw)
        x = ops.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], constant_values=pad_value)
    out_h = output_size(height, kh, sh, padding)
    out_w = output_size(width, kw, sw, padding)
    if out_h < 1 or out_w < 1:
        raise ValueError(f"Input {x.shape} is smaller than the window {kernel_size} with padding='valid'")
    return [
        x[:, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw, :]
        for i in range(kh)
        for j in range(kw)
    ]


@keras.saving.register_keras_serializable(package="dlkit")
class Conv2DNaive(keras.layers.Layer):
    """2D convolution (cross-correlation, as in every deep-learning library) by explicit patches (im2col).

    Input `(N, H, W, C)` (channels last), kernel `(kh, kw, C, filters)` as in `keras.layers.Conv2D`:

    ```
    pad x with zeros if padding == "same"            # TensorFlow's rule: extra row/column at the end
    patches[n, r, c, :] = x[n, r*sh : r*sh + kh, c*sw : c*sw + kw, :].flatten()    # im2col
    y[n, r, c, f] = patches[n, r, c, :] @ kernel.reshape(kh * kw * C, filters)[:, f] + bias[f]
    OH = floor((H - kh) / sh) + 1  ("valid"),   ceil(H / sh)  ("same")
    ```

    Given the same weights its output equals `keras.layers.Conv2D`'s; it is slower and uses kh*kw times the
    input's memory for the patches, which is why libraries call an optimized kernel (see
    `benchmarks/bench_layers.py`). LeCun et al., 1998, "Gradient-based learning applied to document
    recognition"; im2col: Chellapilla et al., 2006.

    Example:

    >>> layer = Conv2DNaive(8, 3, strides=1, padding="same")
    >>> layer(np.zeros((2, 28, 28, 1), "float32")).shape   # (2, 28, 28, 8)

    Args:
        filters: Integer >= 1. Number of output channels.
        kernel_size: Integer or pair of integers >= 1. Window height and width.
        strides: Integer or pair of integers >= 1. Step between windows.
        padding: "valid" (no padding) or "same" (output size ceil(input / stride)).
        activation: Activation name or callable, applied after the bias; None for linear.
        use_bias: Boolean. Whether to add a bias per filter.
        kernel_initializer: Initializer of the kernel.
        bias_initializer: Initializer of the bias.
        **kwargs: Base `keras.layers.Layer` arguments.

    Returns:
        A tensor `(N, OH, OW, filters)`.

    Raises:
        ValueError: on `filters` < 1, a `kernel_size` or `strides` that is not a positive int (pair), a
            `padding` other than "valid"/"same", a non-4D input or one smaller than the kernel.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters, minimum=1)
        self.kernel_size = pair("kernel_size", kernel_size)
        self.strides = pair("strides", strides)
        self.padding = check_padding(padding)
        self.activation = keras.activations.get(activation)
        if not isinstance(use_bias, bool):
            raise ValueError(f"Argument `use_bias` must be a boolean. Received: use_bias={use_bias!r}")
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"Conv2DNaive expects a 4D input (N, H, W, C). Received input shape {input_shape}"
            )
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, channels, self.filters),
            name="kernel",
            initializer=self.kernel_initializer,
        )
        self.bias = (
            self.add_weight(shape=(self.filters,), name="bias", initializer=self.bias_initializer)
            if self.use_bias
            else None
        )
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        # im2col: the kh*kw shifted views, concatenated on the channel axis in (i, j, c) order, which is the
        # order of kernel.reshape(kh * kw * C, filters).
        patches = ops.concatenate(
            extract_patches(inputs, self.kernel_size, self.strides, self.padding), axis=-1
        )
        kernel = ops.reshape(ops.cast(self.kernel, inputs.dtype), (-1, self.filters))
        outputs = ops.matmul(patches, kernel)
        if self.use_bias:
            outputs = outputs + ops.cast(self.bias, inputs.dtype)
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        return (
            input_shape[0],
            output_size(input_shape[1], self.kernel_size[0], self.strides[0], self.padding),
            output_size(input_shape[2], self.kernel_size[1], self.strides[1], self.padding),
            self.filters,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "activation": keras.activations.serialize(self.activation) if self.activation else None,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
