"""Lab 09's visible checks accept a correct CNN forward pass written here and name the usual mistakes."""

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
