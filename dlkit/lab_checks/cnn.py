"""Visible checks for lab 09 (convolutional networks): a convolution step, the convolution and pooling forward
passes, and a small CNN on the 8x8 digits.

Conventions of the lab (Keras's, channels last): activations `A` have shape (m, n_H, n_W, n_C), a convolution's
weights `W` have shape (f, f, n_C_prev, n_C) and its bias `b` shape (n_C,), as in `keras.layers.Conv2D`.

Exercises 1-3 follow the idiom of `dlkit.lab_checks.expect`: a private reference `_reference_<name>` (NumPy for
one step; Keras's own layers `Conv2D`, `MaxPooling2D`, `AveragePooling2D`, given the same weights, for the
forward passes), a table of known mistakes `_<name>_mistakes` (a flipped kernel, a forgotten bias or stride,
pooling across channels), each computed by calling the reference with changed arguments, and a public
`check_<name>` that calls the student's function on small fixed inputs and hands its value to
`expect.check_value`. Exercise 4 (a Keras model) is checked by its properties: probabilities over 10 classes,
convolution layers, its size and the test accuracy reached.
"""

import numpy as np

from dlkit.lab_checks.expect import (
    as_float_array,
    check_value,
    expect_shape,
    expect_true,
    fail,
    passed,
)

_WINDOW_STEP_MESSAGE = (
    "the windows do not move by `stride`: window (h, w) starts at row h * stride and column w * stride"
)

# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: one step of a convolution


def _reference_conv_single_step(a_slice_prev, W, b):
    """One step of a convolution: the filter applied to one window.

    ```
    Z = sum(a_slice_prev * W) + b
    ```

    Args:
        a_slice_prev: Float array (f, f, n_C_prev). One window of the input.
        W: Float array (f, f, n_C_prev). One filter.
        b: Float array holding one number (e.g. shape (1, 1, 1)). The filter's bias.

    Returns:
        A float.
    """
    return float(np.sum(a_slice_prev * W) + np.sum(b))


def _conv_single_step_mistakes(a_slice_prev, W, b):
    """The usual wrong convolution steps, as (message, wrong value) pairs."""
    return [
        (
            "the bias is missing: Z = sum(a_slice_prev * W) + b",
            _reference_conv_single_step(a_slice_prev, W, 0 * b),
        ),
        (
            "you subtracted the bias: Z = sum(a_slice_prev * W) + b",
            _reference_conv_single_step(a_slice_prev, W, -b),
        ),
        (
            "you took the mean of the products instead of their sum",
            _reference_conv_single_step(a_slice_prev / a_slice_prev.size, W, b),
        ),
        (
            "you flipped the filter (true convolution). Deep-learning 'convolution' is cross-correlation: multiply "
            "each input value by the weight at the same position, no flip",
            _reference_conv_single_step(a_slice_prev, W[::-1, ::-1], b),
        ),
    ]


def check_conv_single_step(conv_single_step):
    """Checks `conv_single_step(a_slice_prev, W, b)`: sum(a_slice_prev * W) + b, one number."""
    rng = np.random.default_rng(901)
    a_slice = rng.normal(size=(3, 3, 4))
    W = rng.normal(size=(3, 3, 4))
    b = rng.normal(size=(1, 1, 1))
    where = "conv_single_step(a_slice_prev, W, b) with shapes (3, 3, 4), (3, 3, 4), (1, 1, 1)"
    out = as_float_array(where, conv_single_step(a_slice.copy(), W.copy(), b.copy()))
    if out.shape == a_slice.shape:
        fail(
            where,
            "returned the elementwise product, one value per position: sum it into one number "
            "(np.sum(a_slice_prev * W)), then add the bias",
        )
    expect_true(where, out.size == 1, f"must return one number, got an array of shape {out.shape}")
    check_value(
        where,
        out.reshape(()),
        _reference_conv_single_step(a_slice, W, b),
        _conv_single_step_mistakes(a_slice, W, b),
    )

    where = (
        "conv_single_step on the 3x3 top-left window of the lab's 5x5 image, filter [[1,0,1],[0,1,0],[1,0,1]]"
    )
    image = np.array([[1, 1, 1], [0, 1, 1], [0, 0, 1]], dtype=float)[..., None]
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=float)[..., None]
    bias = np.zeros((1, 1, 1))
    value = as_float_array(where, conv_single_step(image.copy(), kernel.copy(), bias.copy()))
    expect_true(where, value.size == 1, f"must return one number, got an array of shape {value.shape}")
    check_value(
        where, value.reshape(()), _reference_conv_single_step(image, kernel, bias), rtol=1e-5, atol=1e-7
    )
    passed("conv_single_step")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: the convolution forward pass


def _reference_conv_forward(A_prev, W, b, stride, pad):
    """The convolution's forward pass: `keras.layers.Conv2D` (padding "valid") on the zero-padded input.

    ```
    A = A_prev zero-padded by `pad` on each side of its height and width
    Z[i, h, w, c] = sum(A[i, h*stride : h*stride + f, w*stride : w*stride + f, :] * W[:, :, :, c]) + b[c]
    n_H = floor((n_H_prev + 2 * pad - f) / stride) + 1      (n_W likewise)
    ```

    Args:
        A_prev: Float array (m, n_H_prev, n_W_prev, n_C_prev).
        W: Float array (f, f, n_C_prev, n_C).
        b: Float array (n_C,).
        stride, pad: Integers.

    Returns:
        A float array (m, n_H, n_W, n_C), computed in float32.
    """
    import keras

    A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0))).astype("float32")
    layer = keras.layers.Conv2D(W.shape[3], W.shape[:2], strides=stride, padding="valid")
    layer.build(A.shape)
    layer.set_weights([W.astype("float32"), np.asarray(b, "float32").reshape(-1)])
    return keras.ops.convert_to_numpy(layer(A)).astype(float)


def _conv_forward_mistakes(A_prev, W, b, stride, pad):
    """The usual wrong convolutions, as (message, callable computing the wrong value) pairs."""
    f = W.shape[0]
    n_H = (A_prev.shape[1] + 2 * pad - f) // stride + 1
    n_W = (A_prev.shape[2] + 2 * pad - f) // stride + 1
    mistakes = [
        (
            "you flipped the kernel (true convolution). Like Keras, compute the cross-correlation: "
            "sum(window * W[:, :, :, c]) with no flip",
            lambda: _reference_conv_forward(A_prev, W[::-1, ::-1], b, stride, pad),
        ),
        (
            "the bias is missing: add b[c] to every output of filter c",
            lambda: _reference_conv_forward(A_prev, W, 0 * b, stride, pad),
        ),
    ]
    if stride > 1:
        # The output has the strided size, but window (h, w) starts at row h and column w.
        mistakes.append(
            (_WINDOW_STEP_MESSAGE, lambda: _reference_conv_forward(A_prev, W, b, 1, pad)[:, :n_H, :n_W, :])
        )
    return mistakes


def check_conv_forward(conv_forward):
    """Checks `conv_forward(A_prev, W, b, stride, pad)` against `keras.layers.Conv2D` with the same weights."""
    rng = np.random.default_rng(902)
    cases = [
        ((2, 5, 5, 3), 3, 4, 1, 0),
        ((2, 5, 6, 3), 3, 2, 1, 1),
        ((1, 7, 7, 2), 3, 3, 2, 1),
        ((2, 6, 5, 1), 2, 2, 2, 0),
    ]
    for shape, f, n_C, stride, pad in cases:
        A = rng.normal(size=shape)
        W = rng.normal(size=(f, f, shape[3], n_C))
        b = rng.normal(size=(n_C,))
        where = (
            f"conv_forward(A_prev of shape {shape}, W of shape {W.shape}, b of shape {b.shape}, "
            f"stride={stride}, pad={pad})"
        )
        A_copy = A.copy()
        out = as_float_array(where, conv_forward(A_copy, W.copy(), b.copy(), stride, pad))
        expect_true(where, np.array_equal(A_copy, A), "your conv_forward changed A_prev in place")
        expected = _reference_conv_forward(A, W, b, stride, pad)
        if out.shape != expected.shape:
            hint = ""
            if out.shape[1:3] == (shape[1] - f + 1, shape[2] - f + 1) and (pad or stride > 1):
                hint = " (it looks like you ignored the padding or the stride)"
            elif out.shape[-1] != n_C:
                hint = f" (the last axis holds one channel per filter: n_C = W.shape[3] = {n_C})"
            fail(
                where,
                f"expected output shape {expected.shape} from n_H = floor((n_H_prev + 2*pad - f) / stride)"
                f" + 1, got {out.shape}{hint}",
            )
        check_value(where, out, expected, _conv_forward_mistakes(A, W, b, stride, pad), rtol=1e-4, atol=1e-4)
    passed("conv_forward")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: pooling


def _reference_pool_forward(A_prev, f, stride, mode):
    """The pooling layer's forward pass: `keras.layers.MaxPooling2D` or `AveragePooling2D` (padding "valid").

    ```
    A[i, h, w, c] = max or mean of A_prev[i, h*stride : h*stride + f, w*stride : w*stride + f, c]
    n_H = floor((n_H_prev - f) / stride) + 1      (n_W likewise)
    ```

    Args:
        A_prev: Float array (m, n_H_prev, n_W_prev, n_C).
        f, stride: Integers. The window size and the step between windows.
        mode: String. "max" or "average".

    Returns:
        A float array (m, n_H, n_W, n_C), computed in float32.
    """
    import keras

    layer_class = keras.layers.MaxPooling2D if mode == "max" else keras.layers.AveragePooling2D
    layer = layer_class(pool_size=f, strides=stride, padding="valid")
    return keras.ops.convert_to_numpy(layer(A_prev.astype("float32"))).astype(float)


def _pool_forward_mistakes(A_prev, f, stride, mode):
    """The usual wrong poolings, as (message, callable computing the wrong value) pairs."""
    n_H = (A_prev.shape[1] - f) // stride + 1
    n_W = (A_prev.shape[2] - f) // stride + 1
    other = "average" if mode == "max" else "max"
    reduce = np.max if mode == "max" else np.mean  # windows of equal size: the mean of means is the mean

    def across_channels():
        per_channel = _reference_pool_forward(A_prev, f, stride, mode)
        return np.broadcast_to(reduce(per_channel, axis=-1, keepdims=True), per_channel.shape)

    mistakes = [
        (
            f"you computed the {other} of each window; mode={mode!r} asks for the {mode}",
            lambda: _reference_pool_forward(A_prev, f, stride, other),
        ),
        (
            "you pooled across the channels too: pool each channel on its own (reduce over axes 1 and 2 only)",
            across_channels,
        ),
    ]
    if stride > 1:
        # The output has the strided size, but window (h, w) starts at row h and column w.
        mistakes.append(
            (_WINDOW_STEP_MESSAGE, lambda: _reference_pool_forward(A_prev, f, 1, mode)[:, :n_H, :n_W, :])
        )
    return mistakes


def check_pool_forward(pool_forward):
    """Checks `pool_forward(A_prev, f, stride, mode)` against `keras.layers.MaxPooling2D`/`AveragePooling2D`."""
    rng = np.random.default_rng(903)
    cases = [
        ((2, 4, 4, 3), 2, 2, "max"),
        ((2, 5, 7, 2), 3, 2, "max"),
        ((1, 5, 5, 3), 3, 1, "max"),
        ((2, 4, 6, 3), 2, 2, "average"),
        ((1, 5, 5, 2), 3, 2, "average"),
    ]
    for shape, f, stride, mode in cases:
        A = rng.normal(size=shape)
        where = f"pool_forward(A_prev of shape {shape}, f={f}, stride={stride}, mode={mode!r})"
        A_copy = A.copy()
        out = as_float_array(where, pool_forward(A_copy, f, stride, mode))
        expect_true(where, np.array_equal(A_copy, A), "your pool_forward changed A_prev in place")
        expected = _reference_pool_forward(A, f, stride, mode)
        if out.shape != expected.shape:
            hint = ""
            if out.shape[-1] != shape[3]:
                hint = " (pooling keeps every channel: the last axis stays n_C_prev)"
            fail(
                where,
                f"expected output shape {expected.shape} from n_H = floor((n_H_prev - f) / stride) + 1, "
                f"got {out.shape}{hint}",
            )
        check_value(where, out, expected, _pool_forward_mistakes(A, f, stride, mode), rtol=1e-5, atol=1e-5)
    passed("pool_forward")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: a small CNN on the digits


def check_digits_cnn(build_digits_cnn, test_accuracy=None, *, max_params=100_000, target=0.97):
    """Checks the model `build_digits_cnn()` returns (convolutional, softmax over 10 classes, not too big) and,
    when given, the test accuracy it reached after training."""
    import keras

    where = "build_digits_cnn()"
    keras.utils.set_random_seed(0)
    model = build_digits_cnn()
    expect_true(
        where,
        isinstance(model, keras.Model),
        f"must return a keras.Model (e.g. keras.Sequential([...])), got {type(model).__name__}",
    )
    x = np.random.default_rng(904).uniform(size=(3, 8, 8, 1)).astype("float32")
    try:
        out = keras.ops.convert_to_numpy(model(x))
    except Exception as error:  # noqa: BLE001 - any failure here is the student's model
        fail(
            where,
            f"calling the model on a batch of shape (3, 8, 8, 1) failed: {type(error).__name__}: {error}. "
            "Start the model with keras.Input((8, 8, 1))",
        )
    expect_shape(where + " on a batch of 3 images", out, (3, 10))
    expect_true(
        where,
        np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4),
        "the outputs are not probabilities: end with Dense(10, activation='softmax') (the lab trains with "
        "sparse_categorical_crossentropy on probabilities)",
    )
    convs = [
        layer
        for layer in model.layers
        if isinstance(
            layer, keras.layers.Conv2D | keras.layers.SeparableConv2D | keras.layers.DepthwiseConv2D
        )
    ]
    expect_true(where, len(convs) >= 2, f"expected at least two convolution layers, found {len(convs)}")
    num_params = model.count_params()
    expect_true(
        where,
        1_000 <= num_params <= max_params,
        f"has {num_params:,} parameters; keep it between 1,000 and {max_params:,} (pool, or use global "
        "average pooling, before the Dense head)",
    )
    if test_accuracy is not None:
        where = "test accuracy of your trained CNN"
        expect_true(
            where, 0.0 <= float(test_accuracy) <= 1.0, f"expected a fraction in [0, 1], got {test_accuracy!r}"
        )
        expect_true(
            where,
            float(test_accuracy) >= target,
            f"{float(test_accuracy):.1%} is below the {target:.0%} target: check the activations (ReLU), "
            "the learning rate (Adam, about 1e-3 to 1e-2) and the number of epochs",
        )
    passed("digits_cnn")
