"""The lab 03 checks accept correct solutions and reject the usual mistakes with a message that names them."""

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
    assert checks.reference_relative_difference([1.0, 2.0], [-1.0, -2.0]) == pytest.approx(1.0)


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


def test_reference_cost_matches_numpy_formula():
    x, y, params = checks.network_case(0)
    w1, b1, w2, b2, w3, b3 = params
    a3 = 1 / (1 + np.exp(-(w3 @ np.maximum(0, w2 @ np.maximum(0, w1 @ x + b1) + b2) + b3)))
    expected = -np.mean(y * np.log(a3) + (1 - y) * np.log(1 - a3))
    assert float(checks.reference_cost(tf.constant(x), tf.constant(y), params)) == pytest.approx(
        expected, rel=1e-12
    )


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
    with pytest.raises(ExerciseCheckError, match="dW1: differs from the true gradient"):
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
