"""Visible checks for lab 03 (gradient checking): the two-sided difference, the relative difference, the
hand-written backward pass of the course's 3-layer network, and the gradient of the L2 term.

Each exercise follows `dlkit.lab_checks.expect`'s idiom: a private reference `_reference_<name>` (the formula
written out in NumPy or, for the backward pass, TensorFlow's autodiff of the given forward pass `_reference_cost`),
a table of known mistakes `_<name>_mistakes` on the same inputs, and a public `check_<name>` that calls the
student's code on small fixed inputs and hands its value to `expect.check_value`. On a mismatch the check names
the usual mistake it reproduces (one-sided difference, epsilon instead of 2 epsilon, the norm of the sum in the
denominator, the course's planted bugs, a forgotten upstream factor, lambda / 2m) and otherwise reports the worst
element. `network_case` gives the seeded inputs and parameters of the network's test cases.
"""

import numpy as np
import tensorflow as tf

from dlkit.lab_checks.expect import check_value, expect_shape, expect_true, fail, passed

_PARAMETER_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def _as_float(where, value):
    """`value` as a float NumPy array; fails on None (a forgotten `return`) or a non-number."""
    expect_true(where, value is not None, "returned None: did you forget the `return`?")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(where, f"must return a number (or an array of numbers), got {type(value).__name__}")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: two_sided_difference


def _reference_two_sided_difference(f, theta, epsilon):
    """The two-sided difference, an O(epsilon**2) approximation of f'(theta).

    ```
    (f(theta + epsilon) - f(theta - epsilon)) / (2 * epsilon)
    ```
    """
    return (f(theta + epsilon) - f(theta - epsilon)) / (2 * epsilon)


def _two_sided_difference_mistakes(f, theta, epsilon):
    """Known wrong differences on the same inputs: {message: wrong value}."""
    expected = _reference_two_sided_difference(f, theta, epsilon)
    return {
        "this is the one-sided difference (f(theta + epsilon) - f(theta)) / epsilon: take a step to both sides, "
        "(f(theta + epsilon) - f(theta - epsilon)) / (2 epsilon)": (f(theta + epsilon) - f(theta)) / epsilon,
        "this is the backward one-sided difference (f(theta) - f(theta - epsilon)) / epsilon: use both "
        "f(theta + epsilon) and f(theta - epsilon)": (f(theta) - f(theta - epsilon)) / epsilon,
        "you divided by epsilon: the two points are 2 epsilon apart, so divide by 2 epsilon": 2 * expected,
        "operator precedence: `/ 2 * epsilon` multiplies by epsilon; write `/ (2 * epsilon)`": expected
        * epsilon**2,
    }


def check_two_sided_difference(two_sided_difference):
    """Checks `two_sided_difference(f, theta, epsilon)` = (f(theta + epsilon) - f(theta - epsilon)) / (2 epsilon)."""
    where = "two_sided_difference"
    cases = [
        (lambda t: t**3, 1.0, 0.01),  # the lecture's example: 3.0001
        (np.sin, 0.3, 1e-3),
        (lambda t: t**4 - 2 * t, np.array([0.5, -1.0, 2.0]), 1e-2),
    ]
    for f, theta, epsilon in cases:
        check_value(
            f"{where}(theta={theta}, epsilon={epsilon})",
            _as_float(where, two_sided_difference(f, theta, epsilon)),
            _reference_two_sided_difference(f, theta, epsilon),
            _two_sided_difference_mistakes(f, theta, epsilon),
            rtol=1e-9,
            atol=1e-12,
        )
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: relative_difference


def _reference_relative_difference(grad, gradapprox, norm=np.linalg.norm):
    """The relative difference of two gradients, over all their elements.

    ```
    ||grad - gradapprox||_2 / (||grad||_2 + ||gradapprox||_2)
    ```

    `norm` computes ||.||_2 of a flat array (the mistake table passes other norms).
    """
    grad, gradapprox = np.ravel(grad).astype(float), np.ravel(gradapprox).astype(float)
    return norm(grad - gradapprox) / (norm(grad) + norm(gradapprox))


def _relative_difference_mistakes(grad, gradapprox):
    """Known wrong differences on the same inputs: {message: wrong value}."""
    g, a = np.asarray(grad, dtype=float), np.asarray(gradapprox, dtype=float)
    numerator = np.linalg.norm(g.ravel() - a.ravel())
    norm_g, norm_a = np.linalg.norm(g.ravel()), np.linalg.norm(a.ravel())
    with np.errstate(all="ignore"):  # ||g + a|| is 0 for a = -g
        mistakes = {
            "the denominator is ||grad||_2 + ||gradapprox||_2 (two norms added), not ||grad + gradapprox||_2": (
                numerator / np.linalg.norm(g.ravel() + a.ravel())
            ),
            "divide ||grad - gradapprox||_2 by ||grad||_2 + ||gradapprox||_2 (you returned the plain distance)": (
                numerator
            ),
            "use the Euclidean norm (square root of the sum of squares), not the squared norm": (
                _reference_relative_difference(g, a, norm=lambda x: np.sum(x**2))
            ),
            "the numerator is squared: use ||grad - gradapprox||_2, not its square": numerator**2
            / (norm_g + norm_a),
            "divide by ||grad||_2 + ||gradapprox||_2, not by ||grad||_2 alone": numerator / norm_g,
            "use the L2 norm, not the L1 norm (sum of absolute values)": _reference_relative_difference(
                g, a, norm=lambda x: np.sum(np.abs(x))
            ),
        }
    if g.ndim == 2:
        mistakes[
            "for matrices use the L2 norm of all elements (np.linalg.norm(x) or of x.ravel()); np.linalg.norm(x, 2) "
            "is the spectral norm"
        ] = np.linalg.norm(g - a, 2) / (np.linalg.norm(g, 2) + np.linalg.norm(a, 2))
    return mistakes


def check_relative_difference(relative_difference):
    """Checks `relative_difference(grad, gradapprox)` = ||g - g~||_2 / (||g||_2 + ||g~||_2)."""
    where = "relative_difference"
    rng = np.random.RandomState(3)
    grad = rng.normal(size=7)
    cases = [
        (grad, grad + 1e-3 * rng.normal(size=7), where),
        (grad, 0.5 * grad, where),
        (rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), where),
        (grad, -grad, f"{where}(g, -g)"),  # opposite vectors: 1
    ]
    for g, a, label in cases:
        value = _as_float(where, relative_difference(g.copy(), a.copy()))
        expect_shape(where, value, ())
        check_value(
            label,
            value,
            _reference_relative_difference(g, a),
            _relative_difference_mistakes(g, a),
            rtol=1e-9,
            atol=1e-15,
        )
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: the hand-written backward pass (make_cost)


def _reference_cost(x, y, parameters):
    """The lab's given forward pass: LINEAR->RELU->LINEAR->RELU->LINEAR->SIGMOID and the cross-entropy cost.

    ```
    A1 = relu(W1 X + b1),  A2 = relu(W2 A1 + b2),  Z3 = W3 A2 + b3
    J = mean(-Y log(sigmoid(Z3)) - (1 - Y) log(1 - sigmoid(Z3)))
    ```

    Plain TF ops, so that autodiff gives `_reference_backward`'s gradients.
    """
    w1, b1, w2, b2, w3, b3 = parameters
    a1 = tf.nn.relu(w1 @ x + b1)
    a2 = tf.nn.relu(w2 @ a1 + b2)
    z3 = w3 @ a2 + b3
    # The stable form of -y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z)).
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z3))


def _reference_backward(x, y, parameters, upstream=1.0):
    """The cost J and the gradients of `upstream * J` that `make_cost`'s backward pass must return.

    ```
    J = _reference_cost(x, y, parameters)
    [dW1, db1, dW2, db2, dW3, db3] = upstream * dJ / d[W1, b1, W2, b2, W3, b3]   # TensorFlow autodiff
    ```

    Returns:
        J as a float and the list of six gradients as float64 NumPy arrays.
    """
    tensors = [tf.constant(p, tf.float64) for p in parameters]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        j = _reference_cost(tf.constant(x, tf.float64), tf.constant(y, tf.float64), tensors)
        scaled = upstream * j
    return float(j), [g.numpy() for g in tape.gradient(scaled, tensors)]


def _backward_mistakes(x, y, parameters, upstream=1.0):
    """Known wrong gradient lists on the same inputs: (message, [wrong dW1, ..., wrong db3]) pairs.

    A planted bug scales one gradient (the course's: dW2 twice, db1 4 times); checked gradient by gradient, the
    list `factor * every gradient` names it.
    """
    m = np.shape(x)[1]
    _, grads = _reference_backward(x, y, parameters, upstream)
    mistakes = []
    if upstream != 1.0:
        mistakes.append(
            (
                f"the gradient of {upstream:g} * J is not {upstream:g} times the gradient of J: multiply every "
                f"gradient by `upstream` (dJ_total / dJ) before returning it",
                _reference_backward(x, y, parameters, 1.0)[1],
            )
        )
    hints = {
        float(m): " (is the 1/m missing?)",
        1.0 / m: " (is 1/m applied twice?)",
        -1.0: " (is the sign of dZ3 = A3 - Y reversed?)",
    }
    for factor in (2.0, 4.0, 0.5, float(m), 1.0 / m, -1.0):
        mistakes.append(
            (
                f"is {factor:g} times the true gradient{hints.get(factor, '')}: compare it with its formula in the "
                f"course's backward pass",
                [factor * g for g in grads],
            )
        )
    return mistakes


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


def _student_backward(make_cost, x, y, parameters, upstream=1.0):
    """The student's J and gradients of `upstream * J`: `make_cost(x, y)(*parameters)` under a gradient tape."""
    where = "make_cost"
    cost = make_cost(x, y)
    expect_true(where, callable(cost), f"must return the cost function, got {type(cost).__name__}")
    tensors = [tf.constant(p, tf.float64) for p in parameters]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        j = cost(*tensors)
        scaled = upstream * j
    grads = tape.gradient(scaled, tensors)
    expect_true(
        where,
        all(g is not None for g in grads),
        "backward must return one gradient per parameter: [dW1, db1, dW2, db2, dW3, db3]",
    )
    return j, [np.asarray(tf.convert_to_tensor(g), dtype=float) for g in grads]


def your_gradients(make_cost, x, y, parameters):
    """The gradients your backward pass gives, [dW1, db1, dW2, db2, dW3, db3]: `make_cost(x, y)` under a tape.

    For the lab's hidden tests: in a graded run only `dlkit.lab_checks` may use `tf.GradientTape` before the
    exercise's check (it would answer the exercise), so the check cell asks here.
    """
    return _student_backward(make_cost, x, y, parameters)[1]


def your_gradcheck_difference(make_cost, x, y, parameters):
    """`dlkit.gradcheck.gradcheck(make_cost(x, y), parameters).difference`: your backward pass against two-sided
    differences (for the lab's hidden tests, like `your_gradients`)."""
    from dlkit.gradcheck import gradcheck

    return gradcheck(make_cost(x, y), parameters).difference


def check_backward(make_cost):
    """Checks make_cost(x, y)'s forward value and hand-written gradients against TF autodiff.

    The gradients are checked for J and for 3 * J, so that a backward pass that ignores `upstream` shows.
    """
    where = "make_cost"
    for seed in (0, 1):
        x, y, parameters = network_case(seed)
        j, grads = _student_backward(make_cost, x, y, parameters)
        expected_j, expected = _reference_backward(x, y, parameters)
        check_value(
            f"{where}: the cost J (forward pass; leave it as given)",
            _as_float(where, j),
            expected_j,
            rtol=1e-8,
            atol=1e-10,
        )
        for upstream in (1.0, 3.0):
            if upstream != 1.0:
                _, grads = _student_backward(make_cost, x, y, parameters, upstream)
                _, expected = _reference_backward(x, y, parameters, upstream)
            mistakes = _backward_mistakes(x, y, parameters, upstream)
            for i, name in enumerate(_PARAMETER_NAMES):
                check_value(
                    f"{where}: d{name}",
                    grads[i],
                    expected[i],
                    [(message, wrong[i]) for message, wrong in mistakes],
                    rtol=1e-7,
                    atol=1e-10,
                )
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: l2_gradient


def _reference_l2_gradient(w, lambd, m):
    """The gradient of the L2 term lambd / (2m) * ||W||_F^2 with respect to W.

    ```
    lambd / m * W
    ```
    """
    return lambd / m * np.asarray(w, dtype=float)


def _l2_gradient_mistakes(w, lambd, m):
    """Known wrong gradients on the same inputs: {message: wrong array}."""
    w = np.asarray(w, dtype=float)
    return {
        "the 2 of the derivative of ||W||^2 cancels the 1/2 of lambda / (2m): the gradient is lambda / m * W, "
        "not lambda / (2m) * W": _reference_l2_gradient(w, lambd, 2 * m),
        "the gradient is lambda / m * W, not 2 lambda / m * W (the 1/2 in the cost cancels the 2)": (
            _reference_l2_gradient(w, 2 * lambd, m)
        ),
        "divide by m: the gradient is lambda / m * W": _reference_l2_gradient(w, lambd, 1),
        "the gradient is linear in W: lambda / m * W, not lambda / m * W**2": _reference_l2_gradient(
            w**2, lambd, m
        ),
        "this is the cost term's value pattern, not its gradient: return lambda / m * W": np.full(
            w.shape, lambd / (2 * m) * np.sum(w**2)
        ),
    }


def check_l2_gradient(l2_gradient):
    """Checks `l2_gradient(W, lambd, m)` = lambd / m * W, the gradient of lambd / (2m) * ||W||_F^2."""
    where = "l2_gradient"
    rng = np.random.RandomState(4)
    for shape, lambd, m in (((3, 5), 0.7, 4), ((1, 3), 2.0, 10)):
        w = rng.normal(size=shape)
        value = _as_float(where, l2_gradient(tf.constant(w), lambd, m))
        expect_shape(where, value, shape)
        check_value(
            f"{where}(W, lambd={lambd}, m={m})",
            value,
            _reference_l2_gradient(w, lambd, m),
            _l2_gradient_mistakes(w, lambd, m),
            rtol=1e-9,
            atol=1e-12,
        )
    passed(where)
