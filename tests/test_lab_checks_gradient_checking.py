"""The lab 03 checks accept correct solutions and reject the usual mistakes with a message that names them."""

import re

import numpy as np
import pytest
import tensorflow as tf

from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import gradient_checking as checks

# --- Exercise 1: two-sided difference ------------------------------------------------------------------------------


def test_two_sided_accepts_reference_and_gives_the_lecture_number(capsys):
    def two_sided_difference(f, theta, epsilon=1e-7):
        return (f(theta + epsilon) - f(theta - epsilon)) / (2 * epsilon)

    checks.check_two_sided_difference(two_sided_difference)
    assert "two_sided_difference: all tests passed." in capsys.readouterr().out
    # The lecture's number for theta^3 at theta = 1, epsilon = 0.01.
    assert two_sided_difference(lambda t: t**3, 1.0, 0.01) == pytest.approx(3.0001, abs=1e-12)


@pytest.mark.parametrize(
    "function, message",
    [
        (lambda f, t, e: (f(t + e) - f(t)) / e, "one-sided"),
        (lambda f, t, e: (f(t) - f(t - e)) / e, "backward one-sided"),
        (lambda f, t, e: (f(t + e) - f(t - e)) / e, "divide by 2 epsilon"),
        (lambda f, t, e: (f(t + e) - f(t - e)) / 2 * e, "precedence"),
        (lambda f, t, e: (f(t + e) - f(t - e)) / (2 * e) + 1e-3, "values differ"),
        (lambda f, t, e: None, "return"),
    ],
)
def test_two_sided_rejects_mistakes(function, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_two_sided_difference(function)


@pytest.mark.parametrize(
    "function, message",
    [
        (
            lambda f, t, e: (f(t + e) - f(t)) / e,
            "this is the one-sided difference (f(theta + epsilon) - f(theta)) / epsilon: take a step to both "
            "sides, (f(theta + epsilon) - f(theta - epsilon)) / (2 epsilon)",
        ),
        (
            lambda f, t, e: (f(t) - f(t - e)) / e,
            "this is the backward one-sided difference (f(theta) - f(theta - epsilon)) / epsilon: use both "
            "f(theta + epsilon) and f(theta - epsilon)",
        ),
        (
            lambda f, t, e: (f(t + e) - f(t - e)) / e,
            "you divided by epsilon: the two points are 2 epsilon apart, so divide by 2 epsilon",
        ),
        (
            lambda f, t, e: (f(t + e) - f(t - e)) / 2 * e,
            "operator precedence: `/ 2 * epsilon` multiplies by epsilon; write `/ (2 * epsilon)`",
        ),
    ],
)
def test_two_sided_names_each_mistake(function, message):
    with pytest.raises(
        ExerciseCheckError, match=re.escape(f"two_sided_difference(theta=1.0, epsilon=0.01): {message}")
    ):
        checks.check_two_sided_difference(function)


# --- Exercise 2: relative difference -------------------------------------------------------------------------------


def _relative(g, a):
    g, a = np.ravel(g), np.ravel(a)
    return np.sqrt(np.sum((g - a) ** 2)) / (np.sqrt(np.sum(g**2)) + np.sqrt(np.sum(a**2)))


def test_relative_difference_accepts_reference(capsys):
    checks.check_relative_difference(
        lambda g, a: np.linalg.norm(g - a) / (np.linalg.norm(g) + np.linalg.norm(a))
    )
    checks.check_relative_difference(_relative)
    assert "relative_difference: all tests passed." in capsys.readouterr().out
    # The course's bands: identical vectors give 0, opposite ones 1.
    assert _relative([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert _relative([1.0, 2.0], [-1.0, -2.0]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "function, message",
    [
        (lambda g, a: np.linalg.norm(g - a) / np.linalg.norm(g + a), "two norms added"),
        (lambda g, a: np.linalg.norm(g - a), "plain distance"),
        (lambda g, a: np.sum((g - a) ** 2) / (np.sum(g**2) + np.sum(a**2)), "squared norm"),
        (lambda g, a: np.sum((g - a) ** 2) / (np.linalg.norm(g) + np.linalg.norm(a)), "numerator is squared"),
        (lambda g, a: np.linalg.norm(g - a) / np.linalg.norm(g), "alone"),
        (lambda g, a: np.abs(g - a).sum() / (np.abs(g).sum() + np.abs(a).sum()), "L1"),
        (lambda g, a: np.linalg.norm(g - a, 2) / (np.linalg.norm(g, 2) + np.linalg.norm(a, 2)), "spectral"),
        (lambda g, a: np.abs(g - a) / (np.abs(g) + np.abs(a)), "expected shape"),
    ],
)
def test_relative_difference_rejects_mistakes(function, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_relative_difference(function)


@pytest.mark.parametrize(
    "function, message",
    [
        (
            lambda g, a: np.linalg.norm(g - a) / np.linalg.norm(g + a),
            "the denominator is ||grad||_2 + ||gradapprox||_2 (two norms added), not ||grad + gradapprox||_2",
        ),
        (
            lambda g, a: np.linalg.norm(g - a),
            "divide ||grad - gradapprox||_2 by ||grad||_2 + ||gradapprox||_2 (you returned the plain distance)",
        ),
        (
            lambda g, a: np.sum((g - a) ** 2) / (np.sum(g**2) + np.sum(a**2)),
            "use the Euclidean norm (square root of the sum of squares), not the squared norm",
        ),
        (
            lambda g, a: np.sum((g - a) ** 2) / (np.linalg.norm(g) + np.linalg.norm(a)),
            "the numerator is squared: use ||grad - gradapprox||_2, not its square",
        ),
        (
            lambda g, a: np.linalg.norm(g - a) / np.linalg.norm(g),
            "divide by ||grad||_2 + ||gradapprox||_2, not by ||grad||_2 alone",
        ),
        (
            lambda g, a: np.abs(g - a).sum() / (np.abs(g).sum() + np.abs(a).sum()),
            "use the L2 norm, not the L1 norm (sum of absolute values)",
        ),
        (
            lambda g, a: np.linalg.norm(g - a, 2) / (np.linalg.norm(g, 2) + np.linalg.norm(a, 2)),
            "for matrices use the L2 norm of all elements (np.linalg.norm(x) or of x.ravel()); "
            "np.linalg.norm(x, 2) is the spectral norm",
        ),
        # Right on vectors, wrong on opposite ones: the (g, -g) case reports the worst element.
        (
            lambda g, a: 0.5 if np.allclose(a, -g) else _relative(g, a),
            "relative_difference(g, -g): values differ",
        ),
    ],
)
def test_relative_difference_names_each_mistake(function, message):
    if not message.startswith("relative_difference("):
        message = f"relative_difference: {message}"
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_relative_difference(function)


# --- Exercise 3: the hand-written backward pass ----------------------------------------------------------------------


def _make_cost(dw2_scale=1.0, db1_scale=1.0, use_upstream=True, inverse_m=1.0, sign=1.0, stale_mask=False):
    """The course's backward_propagation, written independently in TF, with optional planted mistakes."""

    def make_cost(x, y):
        x, y = tf.constant(x, tf.float64), tf.constant(y, tf.float64)
        m = x.shape[1]

        @tf.custom_gradient
        def cost(w1, b1, w2, b2, w3, b3):
            a1 = tf.nn.relu(w1 @ x + b1)
            a2 = tf.nn.relu(w2 @ a1 + b2)
            a3 = tf.sigmoid(w3 @ a2 + b3)
            j = -tf.reduce_sum(y * tf.math.log(a3) + (1 - y) * tf.math.log(1 - a3)) / m

            def backward(upstream):
                dz3 = sign * (a3 - y)
                dw3 = inverse_m / m * dz3 @ tf.transpose(a2)
                db3 = inverse_m / m * tf.reduce_sum(dz3, axis=1, keepdims=True)
                dz2 = tf.transpose(w3) @ dz3 * tf.cast(a2 > 0, tf.float64)
                dw2 = dw2_scale * inverse_m / m * dz2 @ tf.transpose(a1)
                db2 = inverse_m / m * tf.reduce_sum(dz2, axis=1, keepdims=True)
                mask = (w1 @ x > 0) if stale_mask else (a1 > 0)
                dz1 = tf.transpose(w2) @ dz2 * tf.cast(mask, tf.float64)
                dw1 = inverse_m / m * dz1 @ tf.transpose(x)
                db1 = db1_scale * inverse_m / m * tf.reduce_sum(dz1, axis=1, keepdims=True)
                grads = [dw1, db1, dw2, db2, dw3, db3]
                return [upstream * g for g in grads] if use_upstream else grads

            return j, backward

        return cost

    return make_cost


def test_backward_accepts_reference(capsys):
    checks.check_backward(_make_cost())
    assert "make_cost: all tests passed." in capsys.readouterr().out


def test_backward_accepts_the_numpy_forward_formula():
    # The test's forward pass (the NumPy formula of the course's cost) is the J the check accepts.
    x, y, params = checks.network_case(0)
    w1, b1, w2, b2, w3, b3 = params
    a3 = 1 / (1 + np.exp(-(w3 @ np.maximum(0, w2 @ np.maximum(0, w1 @ x + b1) + b2) + b3)))
    expected = -np.mean(y * np.log(a3) + (1 - y) * np.log(1 - a3))
    j = _make_cost()(x, y)(*[tf.constant(p, tf.float64) for p in params])
    assert float(j) == pytest.approx(expected, rel=1e-12)


def test_backward_rejects_a_changed_forward_pass():
    # The cost summed over the examples instead of averaged: the forward pass was changed.
    def summed(x, y):
        inner = _make_cost()(x, y)
        return lambda *p: x.shape[1] * inner(*p)

    with pytest.raises(
        ExerciseCheckError,
        match=re.escape("make_cost: the cost J (forward pass; leave it as given): values differ"),
    ):
        checks.check_backward(summed)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dw2_scale": 2.0}, "make_cost: dW2: is 2 times the true gradient: "),
        ({"db1_scale": 4.0}, "make_cost: db1: is 4 times the true gradient: "),
        ({"dw2_scale": 0.5}, "make_cost: dW2: is 0.5 times the true gradient: "),
        ({"inverse_m": 6.0}, "make_cost: dW1: is 6 times the true gradient (is the 1/m missing?): "),
        (
            {"inverse_m": 1.0 / 6.0},
            "make_cost: dW1: is 0.166667 times the true gradient (is 1/m applied twice?): ",
        ),
        (
            {"sign": -1.0},
            "make_cost: dW1: is -1 times the true gradient (is the sign of dZ3 = A3 - Y reversed?): ",
        ),
        (
            {"use_upstream": False},
            "make_cost: dW1: the gradient of 3 * J is not 3 times the gradient of J: multiply every gradient by "
            "`upstream` (dJ_total / dJ) before returning it",
        ),
    ],
)
def test_backward_names_each_mistake(kwargs, message):
    if "times the true gradient" in message:
        message += "compare it with its formula in the course's backward pass"
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_backward(_make_cost(**kwargs))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dw2_scale": 2.0}, "dW2: is 2 times"),  # the course's first planted bug
        ({"db1_scale": 4.0}, "db1: is 4 times"),  # the course's second planted bug (4./m)
        ({"use_upstream": False}, "upstream"),
        ({"inverse_m": 6.0}, "1/m missing"),
        ({"sign": -1.0}, "sign"),
    ],
)
def test_backward_rejects_mistakes(kwargs, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_backward(_make_cost(**kwargs))


def test_backward_rejects_wrong_relu_mask_and_changed_forward():
    # The ReLU mask of layer 1 taken from W1 @ X (before adding b1): wrong wherever b1 flips the sign.
    with pytest.raises(ExerciseCheckError, match="dW1: values differ"):
        checks.check_backward(_make_cost(stale_mask=True))

    def changed_forward(x, y):
        inner = _make_cost()(x, y)
        return lambda *p: 2.0 * inner(*p)

    with pytest.raises(ExerciseCheckError, match="forward pass"):
        checks.check_backward(changed_forward)


# --- Exercise 4: the L2 term's gradient ------------------------------------------------------------------------------


def test_l2_gradient_accepts_reference(capsys):
    checks.check_l2_gradient(lambda w, lambd, m: lambd / m * w)
    assert "l2_gradient: all tests passed." in capsys.readouterr().out
    # Independent check of the formula: autodiff of lambda / (2m) ||W||_F^2.
    w = tf.constant(np.random.RandomState(0).normal(size=(3, 2)))
    with tf.GradientTape() as tape:
        tape.watch(w)
        cost = 0.7 / (2 * 5) * tf.reduce_sum(w**2)
    np.testing.assert_allclose(tape.gradient(cost, w).numpy(), 0.7 / 5 * w.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "function, message",
    [
        (lambda w, lambd, m: lambd / (2 * m) * w, "cancels"),
        (lambda w, lambd, m: 2 * lambd / m * w, "not 2 lambda"),
        (lambda w, lambd, m: lambd * w, "divide by m"),
        (lambda w, lambd, m: lambd / m * w**2, "linear in W"),
        (lambda w, lambd, m: tf.zeros_like(w), "values differ"),
        (lambda w, lambd, m: lambd / m * tf.reduce_sum(w), "expected shape"),
    ],
)
def test_l2_gradient_rejects_mistakes(function, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_l2_gradient(function)


@pytest.mark.parametrize(
    "function, message",
    [
        (
            lambda w, lambd, m: lambd / (2 * m) * w,
            "the 2 of the derivative of ||W||^2 cancels the 1/2 of lambda / (2m): the gradient is lambda / m * W, "
            "not lambda / (2m) * W",
        ),
        (
            lambda w, lambd, m: 2 * lambd / m * w,
            "the gradient is lambda / m * W, not 2 lambda / m * W (the 1/2 in the cost cancels the 2)",
        ),
        (lambda w, lambd, m: lambd * w, "divide by m: the gradient is lambda / m * W"),
        (
            lambda w, lambd, m: lambd / m * w**2,
            "the gradient is linear in W: lambda / m * W, not lambda / m * W**2",
        ),
        (
            lambda w, lambd, m: tf.fill(tf.shape(w), lambd / (2 * m) * tf.reduce_sum(w**2)),
            "this is the cost term's value pattern, not its gradient: return lambda / m * W",
        ),
    ],
)
def test_l2_gradient_names_each_mistake(function, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(f"l2_gradient(W, lambd=0.7, m=4): {message}")):
        checks.check_l2_gradient(function)


# --- Public names ----------------------------------------------------------------------------------------------------


def test_your_gradients_are_the_students_backward_pass_not_autodiff():
    # A backward pass with dW2 doubled: the hidden tests must see that doubled gradient (the student's own), and
    # the gradient check must see it fail.
    x, y, params = checks.network_case(3)
    right = checks.your_gradients(_make_cost(), x, y, params)
    doubled = checks.your_gradients(_make_cost(dw2_scale=2.0), x, y, params)
    assert len(doubled) == 6
    for index, (a, b) in enumerate(zip(right, doubled, strict=True)):
        assert np.allclose(b, 2.0 * a if index == 2 else a, rtol=1e-12, atol=0.0)
    assert checks.your_gradcheck_difference(_make_cost(), x, y, params) < 1e-7
    assert checks.your_gradcheck_difference(_make_cost(dw2_scale=2.0), x, y, params) > 1e-3


def test_network_case_is_seeded():
    x, y, params = checks.network_case(11, m=7)
    again = checks.network_case(11, m=7)
    assert (
        x.shape == (4, 7)
        and y.shape == (1, 7)
        and [p.shape for p in params] == [(5, 4), (5, 1), (3, 5), (3, 1), (1, 3), (1, 1)]
    )
    assert np.array_equal(x, again[0]) and all(
        np.array_equal(a, b) for a, b in zip(params, again[2], strict=True)
    )
