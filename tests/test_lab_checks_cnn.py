"""Lab 09's visible checks accept a correct CNN forward pass written here and name the usual mistakes."""

import re

import keras
import numpy as np
import pytest

from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import cnn as checks

# ---------------------------------------------------------------------------------------------------------------
# A correct reference solution, written independently of dlkit.lab_checks.cnn (vectorized over the examples).


def conv_single_step(a_slice_prev, W, b):
    return float(np.sum(a_slice_prev * W) + np.sum(b))


def make_conv_forward(flip=False, bias=True, use_stride=True, pad_mode="constant", drop_pad=False):
    def conv_forward(A_prev, W, b, stride, pad):
        f, _, _, n_C = W.shape
        if not drop_pad:
            A_prev = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode=pad_mode)
        n_H = (A_prev.shape[1] - f) // stride + 1
        n_W = (A_prev.shape[2] - f) // stride + 1
        step = stride if use_stride else 1
        kernel = W[::-1, ::-1] if flip else W
        Z = np.zeros((A_prev.shape[0], n_H, n_W, n_C))
        for h in range(n_H):
            for w in range(n_W):
                window = A_prev[:, h * step : h * step + f, w * step : w * step + f, :]
                for c in range(n_C):
                    Z[:, h, w, c] = np.sum(window * kernel[..., c], axis=(1, 2, 3)) + (b[c] if bias else 0.0)
        return Z

    return conv_forward


def make_pool_forward(swap_mode=False, use_stride=True, across_channels=False):
    def pool_forward(A_prev, f, stride, mode="max"):
        if swap_mode:
            mode = "average" if mode == "max" else "max"
        n_H = (A_prev.shape[1] - f) // stride + 1
        n_W = (A_prev.shape[2] - f) // stride + 1
        step = stride if use_stride else 1
        A = np.zeros((A_prev.shape[0], n_H, n_W, A_prev.shape[3]))
        axes = (1, 2, 3) if across_channels else (1, 2)
        for h in range(n_H):
            for w in range(n_W):
                window = A_prev[:, h * step : h * step + f, w * step : w * step + f, :]
                value = window.max(axis=axes) if mode == "max" else window.mean(axis=axes)
                A[:, h, w, :] = value[:, None] if across_channels else value
        return A

    return pool_forward


def build_digits_cnn():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1


def test_conv_single_step_accepts_the_reference(capsys):
    checks.check_conv_single_step(conv_single_step)
    assert "conv_single_step: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda a, W, b: float(np.sum(a * W)), "bias is missing"),
        (lambda a, W, b: a * W + b, "elementwise product"),
        (lambda a, W, b: float(np.mean(a * W) + np.sum(b)), "mean"),
        (lambda a, W, b: float(np.sum(a * W[::-1, ::-1]) + np.sum(b)), "flipped"),
        (lambda a, W, b: float(np.sum(a * W) - np.sum(b)), "subtracted"),
    ],
)
def test_conv_single_step_rejects_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_conv_single_step(wrong)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2


def test_conv_forward_accepts_the_reference(capsys):
    checks.check_conv_forward(make_conv_forward())
    assert "conv_forward: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"flip": True}, "flipped the kernel"),
        ({"bias": False}, "bias is missing"),
        ({"use_stride": False}, "do not move by `stride`"),
        ({"drop_pad": True}, "expected output shape"),
        ({"pad_mode": "edge"}, "values differ"),
    ],
)
def test_conv_forward_rejects_mistakes(kwargs, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_conv_forward(make_conv_forward(**kwargs))


def test_conv_forward_rejects_in_place_padding_of_the_input():
    def in_place(A_prev, W, b, stride, pad):
        A_prev *= 1.5
        return make_conv_forward()(A_prev / 1.5, W, b, stride, pad)

    with pytest.raises(ExerciseCheckError, match="in place"):
        checks.check_conv_forward(in_place)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3


def test_pool_forward_accepts_the_reference(capsys):
    checks.check_pool_forward(make_pool_forward())
    assert "pool_forward: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"swap_mode": True}, "computed the average"),
        ({"use_stride": False}, "do not move by `stride`"),
        ({"across_channels": True}, "across the channels"),
    ],
)
def test_pool_forward_rejects_mistakes(kwargs, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_pool_forward(make_pool_forward(**kwargs))


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4


def test_digits_cnn_accepts_the_reference_and_a_good_accuracy(capsys):
    checks.check_digits_cnn(build_digits_cnn, 0.975)
    assert "digits_cnn: all tests passed" in capsys.readouterr().out


def test_digits_cnn_rejects_a_low_accuracy():
    with pytest.raises(ExerciseCheckError, match="below the 97% target"):
        checks.check_digits_cnn(build_digits_cnn, 0.95)


def _dense_only():
    return keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )


def _logits():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )


def _huge():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(64, 3, padding="same"),
            keras.layers.Conv2D(64, 3, padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dense(512),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def _wrong_classes():
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(8, 3),
            keras.layers.Conv2D(8, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(9, activation="softmax"),
        ]
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (_dense_only, "at least two convolution layers"),
        (_logits, "not probabilities"),
        (_huge, "parameters; keep it between"),
        (_wrong_classes, r"expected shape \(3, 10\)"),
        (lambda: "model", "must return a keras.Model"),
    ],
)
def test_digits_cnn_rejects_mistakes(build, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_digits_cnn(build)


# ---------------------------------------------------------------------------------------------------------------
# The idiom: private references that agree with this file's solution, every known mistake named in full.


def test_references_agree_with_this_files_solution():
    rng = np.random.default_rng(9)
    a, W1, b1 = rng.normal(size=(3, 3, 2)), rng.normal(size=(3, 3, 2)), rng.normal(size=(1, 1, 1))
    assert checks._reference_conv_single_step(a, W1, b1) == pytest.approx(
        conv_single_step(a, W1, b1), rel=1e-12
    )
    A = rng.normal(size=(2, 7, 6, 3))
    W, b = rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4)
    for stride, pad in [(1, 0), (2, 1), (3, 2)]:
        np.testing.assert_allclose(
            checks._reference_conv_forward(A, W, b, stride, pad),
            make_conv_forward()(A, W, b, stride, pad),
            rtol=1e-4,
            atol=1e-4,
        )
    for f, stride, mode in [(2, 2, "max"), (3, 1, "average"), (3, 2, "average")]:
        np.testing.assert_allclose(
            checks._reference_pool_forward(A, f, stride, mode),
            make_pool_forward()(A, f, stride, mode),
            rtol=1e-5,
            atol=1e-5,
        )


CONV_SINGLE_STEP_MESSAGES = [
    (lambda a, W, b: float(np.sum(a * W)), "the bias is missing: Z = sum(a_slice_prev * W) + b"),
    (
        lambda a, W, b: float(np.sum(a * W) - np.sum(b)),
        "you subtracted the bias: Z = sum(a_slice_prev * W) + b",
    ),
    (
        lambda a, W, b: float(np.mean(a * W) + np.sum(b)),
        "you took the mean of the products instead of their sum",
    ),
    (
        lambda a, W, b: float(np.sum(a * W[::-1, ::-1]) + np.sum(b)),
        "you flipped the filter (true convolution). Deep-learning 'convolution' is cross-correlation: multiply "
        "each input value by the weight at the same position, no flip",
    ),
    (
        lambda a, W, b: a * W,
        "returned the elementwise product, one value per position: sum it into one number "
        "(np.sum(a_slice_prev * W)), then add the bias",
    ),
    (
        lambda a, W, b: np.sum(a * W, axis=(0, 1)) + np.sum(b),
        "must return one number, got an array of shape (4,)",
    ),
]


@pytest.mark.parametrize(("wrong", "message"), CONV_SINGLE_STEP_MESSAGES)
def test_conv_single_step_names_each_mistake_in_full(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_conv_single_step(wrong)


def _one_channel_per_input_channel(A_prev, W, b, stride, pad):
    return make_conv_forward()(A_prev, W, b, stride, pad)[..., :1].repeat(A_prev.shape[3], axis=-1)


CONV_FORWARD_MESSAGES = [
    (
        make_conv_forward(flip=True),
        "you flipped the kernel (true convolution). Like Keras, compute the cross-correlation: "
        "sum(window * W[:, :, :, c]) with no flip",
    ),
    (make_conv_forward(bias=False), "the bias is missing: add b[c] to every output of filter c"),
    (
        make_conv_forward(use_stride=False),
        "the windows do not move by `stride`: window (h, w) starts at row h * stride and column w * stride",
    ),
    (
        make_conv_forward(drop_pad=True),
        "expected output shape (2, 5, 6, 2) from n_H = floor((n_H_prev + 2*pad - f) / stride) + 1, got "
        "(2, 3, 4, 2) (it looks like you ignored the padding or the stride)",
    ),
    (
        _one_channel_per_input_channel,
        "expected output shape (2, 3, 3, 4) from n_H = floor((n_H_prev + 2*pad - f) / stride) + 1, got "
        "(2, 3, 3, 3) (the last axis holds one channel per filter: n_C = W.shape[3] = 4)",
    ),
]


@pytest.mark.parametrize(("wrong", "message"), CONV_FORWARD_MESSAGES)
def test_conv_forward_names_each_mistake_in_full(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_conv_forward(wrong)


def _max_for_average(A_prev, f, stride, mode="max"):
    return make_pool_forward()(A_prev, f, stride, "max")


def _pool_in_place(A_prev, f, stride, mode="max"):
    A_prev += 0.0 * A_prev + 1.0
    return make_pool_forward()(A_prev - 1.0, f, stride, mode)


POOL_FORWARD_MESSAGES = [
    (
        make_pool_forward(swap_mode=True),
        "you computed the average of each window; mode='max' asks for the max",
    ),
    (_max_for_average, "you computed the max of each window; mode='average' asks for the average"),
    (
        make_pool_forward(across_channels=True),
        "you pooled across the channels too: pool each channel on its own (reduce over axes 1 and 2 only)",
    ),
    (
        make_pool_forward(use_stride=False),
        "the windows do not move by `stride`: window (h, w) starts at row h * stride and column w * stride",
    ),
    (
        lambda A_prev, f, stride, mode="max": make_pool_forward()(A_prev, f, stride, mode)[..., :1],
        "expected output shape (2, 2, 2, 3) from n_H = floor((n_H_prev - f) / stride) + 1, got (2, 2, 2, 1) "
        "(pooling keeps every channel: the last axis stays n_C_prev)",
    ),
    (_pool_in_place, "your pool_forward changed A_prev in place"),
]


@pytest.mark.parametrize(("wrong", "message"), POOL_FORWARD_MESSAGES)
def test_pool_forward_names_each_mistake_in_full(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_pool_forward(wrong)
