"""Visible checks for lab 03 (gradient checking): the two-sided difference, the relative difference, the
hand-written backward pass of the course's 3-layer network, and the gradient of the L2 term.

Each check calls the student's code on small fixed inputs and compares the result with the formula written here
in NumPy, or (for the backward pass) with the gradient TensorFlow's autodiff computes for the same forward pass
written here. On a mismatch it tries the usual mistakes (one-sided difference, epsilon instead of 2 epsilon, the
norm of the sum in the denominator, the course's planted bugs, a forgotten upstream factor, lambda / 2m) and
names the one that matches.
"""

import numpy as np
import tensorflow as tf

from dlkit.lab_checks.expect import expect_close, expect_shape, expect_true, fail, matches, passed

PARAMETER_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def _diagnose(where, value, candidates, expected):
    """Fails with the message of the first wrong formula in `candidates` ({message: value}) that `value` matches
    (skipping formulas that happen to agree with `expected` on this input)."""
    for message, candidate in candidates.items():
        tight = {"rtol": 1e-9, "atol": 1e-13}
        if matches(value, candidate, **tight) and not matches(candidate, expected, **tight):
            fail(where, message)


def _as_float(where, value):
    expect_true(where, value is not None, "returned None: did you forget the `return`?")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(where, f"must return a number (or an array of numbers), got {type(value).__name__}")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: two_sided_difference


def check_two_sided_difference(two_sided_difference):
    """Checks `two_sided_difference(f, theta, epsilon)` = (f(theta + epsilon) - f(theta - epsilon)) / (2 epsilon)."""
    where = "two_sided_difference"
    cases = [
        (lambda t: t**3, 1.0, 0.01),  # the lecture's example: 3.0001
        (np.sin, 0.3, 1e-3),
        (lambda t: t**4 - 2 * t, np.array([0.5, -1.0, 2.0]), 1e-2),
    ]
    for f, theta, epsilon in cases:
        value = _as_float(where, two_sided_difference(f, theta, epsilon))
        expected = (f(theta + epsilon) - f(theta - epsilon)) / (2 * epsilon)
        _diagnose(
            where,
            value,
            {
                "this is the one-sided difference (f(theta + epsilon) - f(theta)) / epsilon: take a step to both "
                "sides, (f(theta + epsilon) - f(theta - epsilon)) / (2 epsilon)": (
                    f(theta + epsilon) - f(theta)
                )
                / epsilon,
                "this is the backward one-sided difference (f(theta) - f(theta - epsilon)) / epsilon: use both "
                "f(theta + epsilon) and f(theta - epsilon)": (f(theta) - f(theta - epsilon)) / epsilon,
                "you divided by epsilon: the two points are 2 epsilon apart, so divide by 2 epsilon": (
                    f(theta + epsilon) - f(theta - epsilon)
                )
                / epsilon,
                "operator precedence: `/ 2 * epsilon` multiplies by epsilon; write `/ (2 * epsilon)`": (
                    f(theta + epsilon) - f(theta - epsilon)
                )
                / 2
                * epsilon,
            },
            expected,
        )
        expect_close(f"{where}(theta={theta}, epsilon={epsilon})", value, expected, rtol=1e-9, atol=1e-12)
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: relative_difference


def reference_relative_difference(grad, gradapprox):
    """||grad - gradapprox||_2 / (||grad||_2 + ||gradapprox||_2) over all elements."""
    grad, gradapprox = np.ravel(grad).astype(float), np.ravel(gradapprox).astype(float)
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))


def check_relative_difference(relative_difference):
    """Checks `relative_difference(grad, gradapprox)` = ||g - g~||_2 / (||g||_2 + ||g~||_2)."""
    where = "relative_difference"
    rng = np.random.RandomState(3)
    grad = rng.normal(size=7)
    cases = [
        (grad, grad + 1e-3 * rng.normal(size=7)),
        (grad, 0.5 * grad),
        (rng.normal(size=(3, 4)), rng.normal(size=(3, 4))),
    ]
    for g, a in cases:
        value = _as_float(where, relative_difference(g.copy(), a.copy()))
        expect_shape(where, value, ())
        numerator = np.linalg.norm(g.ravel() - a.ravel())
        norm_g, norm_a = np.linalg.norm(g.ravel()), np.linalg.norm(a.ravel())
        candidates = {
            "the denominator is ||grad||_2 + ||gradapprox||_2 (two norms added), not ||grad + gradapprox||_2": numerator
            / np.linalg.norm(g.ravel() + a.ravel()),
            "divide ||grad - gradapprox||_2 by ||grad||_2 + ||gradapprox||_2 (you returned the plain distance)": numerator,
            "use the Euclidean norm (square root of the sum of squares), not the squared norm": numerator**2
            / (norm_g**2 + norm_a**2),
            "the numerator is squared: use ||grad - gradapprox||_2, not its square": numerator**2
            / (norm_g + norm_a),
            "divide by ||grad||_2 + ||gradapprox||_2, not by ||grad||_2 alone": numerator / norm_g,
            "use the L2 norm, not the L1 norm (sum of absolute values)": np.abs(g - a).sum()
            / (np.abs(g).sum() + np.abs(a).sum()),
        }
        if g.ndim == 2:
            candidates[
                "for matrices use the L2 norm of all elements (np.linalg.norm(x) or of x.ravel()); "
                "np.linalg.norm(x, 2) is the spectral norm"
            ] = np.linalg.norm(g - a, 2) / (np.linalg.norm(g, 2) + np.linalg.norm(a, 2))
        expected = numerator / (norm_g + norm_a)
        _diagnose(where, value, candidates, expected)
        expect_close(where, value, expected, rtol=1e-9, atol=1e-15)
    value = _as_float(where, relative_difference(grad.copy(), -grad))
    expect_close(f"{where}(g, -g)", value, 1.0, rtol=1e-9, atol=1e-12)
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: the hand-written backward pass (make_cost)


def reference_cost(x, y, parameters):
    """The course's LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID cross-entropy cost, plain TF ops (autodiff)."""
    w1, b1, w2, b2, w3, b3 = parameters
    a1 = tf.nn.relu(w1 @ x + b1)
    a2 = tf.nn.relu(w2 @ a1 + b2)
    z3 = w3 @ a2 + b3
    # The stable form of -y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z)).
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z3))


def network_case(seed, n_x=4, dims=(5, 3, 1), m=6):
    """Seeded inputs x (n_x, m), labels y (1, m) and parameters [W1, b1, W2, b2, W3, b3] (float64)."""
    rng = np.random.RandomState(seed)
    x = rng.normal(size=(n_x, m))
    y = (rng.uniform(size=(1, m)) > 0.5).astype(float)
    parameters, previous = [], n_x
    for n in dims:
        parameters += [rng.normal(size=(n, previous)), rng.normal(size=(n, 1))]
        previous = n
    return x, y, parameters


def _student_gradients(make_cost, x, y, parameters, scale=1.0):
    where = "make_cost"
    cost = make_cost(x, y)
    expect_true(where, callable(cost), f"must return the cost function, got {type(cost).__name__}")
    tensors = [tf.constant(p, tf.float64) for p in parameters]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        j = cost(*tensors)
        scaled = scale * j
    grads = tape.gradient(scaled, tensors)
    return j, grads


def check_backward(make_cost):
    """Checks make_cost(x, y)'s forward value and hand-written gradients against TF autodiff."""
    where = "make_cost"
    for seed in (0, 1):
        x, y, parameters = network_case(seed)
        tensors = [tf.constant(p, tf.float64) for p in parameters]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            expected_j = reference_cost(tf.constant(x), tf.constant(y), tensors)
        expected = [g.numpy() for g in tape.gradient(expected_j, tensors)]
        j, grads = _student_gradients(make_cost, x, y, parameters)
        expect_close(
            f"{where}: the cost J (forward pass; leave it as given)",
            _as_float(where, j),
            float(expected_j),
            rtol=1e-8,
            atol=1e-10,
        )
        expect_true(
            where,
            all(g is not None for g in grads),
            "backward must return one gradient per parameter: [dW1, db1, dW2, db2, dW3, db3]",
        )
        for name, grad, true in zip(PARAMETER_NAMES, grads, expected, strict=True):
            grad = np.asarray(tf.convert_to_tensor(grad), dtype=float)
            label = f"{where}: d{name}"
            expect_shape(label, grad, true.shape)
            if matches(grad, true, rtol=1e-7, atol=1e-10):
                continue
            m = x.shape[1]
            for factor in (2.0, 4.0, 0.5, float(m), 1.0 / m, -1.0):
                if matches(grad, factor * true, rtol=1e-7, atol=1e-10):
                    hint = {
                        float(m): " (is the 1/m missing?)",
                        1.0 / m: " (is 1/m applied twice?)",
                        -1.0: " (is the sign of dZ3 = A3 - Y reversed?)",
                    }.get(factor, "")
                    fail(
                        label,
                        f"is {factor:g} times the true gradient{hint}: compare it with its formula in "
                        f"the course's backward pass",
                    )
            fail(
                label,
                "differs from the true gradient (TensorFlow autodiff of the same forward pass): "
                f"max abs error {np.abs(grad - true).max():.3g}. Check the formula, the transposes and "
                "the ReLU masks",
            )
        _, scaled = _student_gradients(make_cost, x, y, parameters, scale=3.0)
        for name, grad, true in zip(PARAMETER_NAMES, scaled, expected, strict=True):
            grad = np.asarray(tf.convert_to_tensor(grad), dtype=float)
            expect_true(
                f"{where}: d{name}",
                matches(grad, 3.0 * true, rtol=1e-7, atol=1e-10),
                "the gradient of 3 * J is not 3 times the gradient of J: multiply every gradient "
                "by `upstream` (dJ_total / dJ) before returning it",
            )
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: l2_gradient


def check_l2_gradient(l2_gradient):
    """Checks `l2_gradient(W, lambd, m)` = lambd / m * W, the gradient of lambd / (2m) * ||W||_F^2."""
    where = "l2_gradient"
    rng = np.random.RandomState(4)
    for shape, lambd, m in (((3, 5), 0.7, 4), ((1, 3), 2.0, 10)):
        w = rng.normal(size=shape)
        value = _as_float(where, l2_gradient(tf.constant(w), lambd, m))
        expect_shape(where, value, shape)
        _diagnose(
            where,
            value,
            {
                "the 2 of the derivative of ||W||^2 cancels the 1/2 of lambda / (2m): the gradient is lambda / m * W, "
                "not lambda / (2m) * W": lambd / (2 * m) * w,
                "the gradient is lambda / m * W, not 2 lambda / m * W (the 1/2 in the cost cancels the 2)": 2
                * lambd
                / m
                * w,
                "divide by m: the gradient is lambda / m * W": lambd * w,
                "the gradient is linear in W: lambda / m * W, not lambda / m * W**2": lambd / m * w**2,
                "this is the cost term's value pattern, not its gradient: return lambda / m * W": np.full(
                    shape, lambd / (2 * m) * np.sum(w**2)
                ),
            },
            lambd / m * w,
        )
        expect_close(f"{where}(W, lambd={lambd}, m={m})", value, lambd / m * w, rtol=1e-9, atol=1e-12)
    passed(where)
