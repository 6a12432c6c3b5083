"""Visible checks for lab 08 (softmax regression): stable softmax, cross-entropy, its gradient, training.

Conventions of the lab (Keras's): one example per row. Logits `z` and probabilities `y_hat` have shape (m, K),
labels `y` are one-hot of shape (m, K), a model is `z = x @ W + b` with `W` of shape (n, K) and `b` of shape (K,).

Each exercise follows the idiom of `dlkit.lab_checks.expect`: a private NumPy reference `_reference_<name>`, a
table of known mistakes `_<name>_mistakes` (the usual slips: a sum instead of a mean, a flipped sign, a missing
1/m, a softmax over the wrong axis), each computed by calling the reference with changed arguments, and a public
`check_<name>` that calls the student's function on small fixed inputs and hands its value to
`expect.check_value`. Training (exercise 5) is checked by its properties: a falling cost, reproducibility and
the accuracy reached; predictions are compared with `_reference_predict` on the student's own parameters.

`gradcheck_your_gradient` is the lab's gradient-checking helper: it returns a `dlkit.gradcheck` report about
the caller's own gradient function.
"""

import numpy as np

from dlkit.lab_checks.expect import (
    as_float_array,
    check_value,
    expect_shape,
    expect_true,
    fail,
    gradcheck_numpy_gradient,
    passed,
)


def _one_hot(labels, num_classes):
    return np.eye(num_classes)[np.asarray(labels)]


def _call(function, *args):
    """Calls the student's function with NumPy's overflow warnings off (some checks provoke them on purpose);
    errors propagate, so their traceback points into the student's code."""
    with np.errstate(all="ignore"):
        return function(*args)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: softmax


def _reference_softmax(z, axis=-1):
    """Numerically stable softmax over `axis`.

    ```
    softmax(z) = exp(z - max(z)) / sum(exp(z - max(z)))      (max and sum over `axis`, keepdims)
    ```

    Args:
        z: Float array. The logits.
        axis: Integer. The axis of the classes (the last one in the lab).

    Returns:
        A float array of `z`'s shape.
    """
    exps = np.exp(z - z.max(axis=axis, keepdims=True))
    return exps / exps.sum(axis=axis, keepdims=True)


def _softmax_mistakes(z):
    """The usual wrong softmaxes of `z`, as (message, wrong value) pairs."""
    return [
        (
            "each column sums to 1 instead of each row: one example per row, so normalize over the "
            "classes, the last axis (axis=-1, keepdims=True)",
            _reference_softmax(z, axis=0),
        ),
        (
            "you normalized the logits themselves (z / sum(z)); softmax normalizes exp(z): exp(z) / sum(exp(z))",
            lambda: z / z.sum(axis=-1, keepdims=True),
        ),
        (
            "you returned exp(z - max) without dividing by the row's sum of exp",
            np.exp(z - z.max(axis=-1, keepdims=True)),
        ),
    ]


def check_softmax(softmax):
    """Checks `softmax(z)`: row-wise, sums to 1, leaves `z` alone, and does not overflow on large logits."""
    z = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [-1.0, 0.0, 5.0], [0.5, -0.5, 2.0]])
    where = "softmax(z) on z of shape (4, 3)"
    original = z.copy()
    out = as_float_array(where, _call(softmax, z))
    expect_true(
        where,
        np.array_equal(z, original),
        "your softmax changed its argument in place (e.g. `z -= z.max(...)`): compute `z - max` into a new "
        "array so the caller's logits stay as they were",
    )
    expect_shape(where, out, z.shape)
    expect_true(where, np.all(np.isfinite(out)), "returned NaN or infinite values on small logits")
    row_sums = out.sum(axis=-1)
    # Not one of the known mistakes, but not probabilities either: say so rather than name an element.
    sums = (
        None
        if np.allclose(row_sums, 1.0)
        else f"each row must sum to 1; your row sums are {np.round(row_sums, 4)}"
    )
    check_value(where, out, _reference_softmax(z), _softmax_mistakes(z), otherwise=sums)

    where = "softmax(z) on z = [[1000, 1001, 1002]]"
    big = np.array([[1000.0, 1001.0, 1002.0]])
    out = as_float_array(where, _call(softmax, big))
    expect_shape(where, out, big.shape)
    expect_true(
        where,
        np.all(np.isfinite(out)),
        "got NaN: exp(1000) overflows to inf and inf / inf is nan. Subtract each row's max before exp "
        "(softmax(z) == softmax(z - c) for any constant c); then every exp is <= 1",
    )
    check_value(where, out, _reference_softmax(big))

    where = "softmax(z) on z = [[1000, 999, 998], [-1000, -1001, -1002]]"
    mixed = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]])
    out = as_float_array(where, _call(softmax, mixed))
    expect_shape(where, out, mixed.shape)
    expect_true(
        where,
        np.all(np.isfinite(out)),
        "got NaN in the second row: you subtracted one max for the whole batch (1000), so exp(-2000) "
        "underflows to 0 and 0 / 0 is nan. Subtract each row's own max: z.max(axis=-1, keepdims=True)",
    )
    check_value(where, out, _reference_softmax(mixed))
    passed("softmax")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: cross-entropy


def _reference_cross_entropy(y_hat, y, *, log=np.log, clip=1e-12, reduce=np.mean):
    """Categorical cross-entropy: the batch mean of each example's loss.

    ```
    loss_i = -sum_k y_ik * log(clip(y_hat_ik, clip, 1))
    J = mean_i loss_i
    ```

    Args:
        y_hat: Float array (m, K). Predicted probabilities.
        y: Array (m, K). One-hot labels.
        log: Callable. The logarithm (the mistake tables pass np.log10, np.log2).
        clip: Float. Lower bound on y_hat before the log, so that 0 * log(0) counts as 0.
        reduce: Callable or None. Reduction over the batch (np.mean); None returns the m losses.

    Returns:
        A float, or an array (m,) when `reduce` is None.
    """
    losses = -np.sum(y * log(np.clip(y_hat, clip, 1.0)), axis=-1)
    return losses if reduce is None else float(reduce(losses))


def _cross_entropy_mistakes(y_hat, y):
    """The usual wrong costs of `y_hat` against the labels `y`, as (message, wrong value) pairs."""
    return [
        (
            "returned one loss per example: average them into one number (np.mean over the batch)",
            _reference_cross_entropy(y_hat, y, reduce=None),
        ),
        (
            "you summed over the batch: the cost is the mean, (1/m) * sum over the m examples",
            _reference_cross_entropy(y_hat, y, reduce=np.sum),
        ),
        (
            "the sign is flipped: log(y_hat) <= 0, so the cost is -mean(sum(y * log(y_hat)))",
            -_reference_cross_entropy(y_hat, y),
        ),
        (
            "that is the binary cross-entropy summed over classes (it adds (1 - y) log(1 - y_hat)); with softmax "
            "outputs the cost is only -sum_k y_k log(y_hat_k)",
            lambda: _reference_cross_entropy(y_hat, y) + _reference_cross_entropy(1 - y_hat, 1 - y),
        ),
        (
            "you took the mean over all m * K entries of y * log(y_hat): sum over the classes first, then average "
            "over the examples",
            _reference_cross_entropy(y_hat, y) / y.shape[-1],
        ),
        (
            "you used log10 or log2: use the natural log (np.log)",
            _reference_cross_entropy(y_hat, y, log=np.log10),
        ),
        (
            "you used log10 or log2: use the natural log (np.log)",
            _reference_cross_entropy(y_hat, y, log=np.log2),
        ),
        (
            "the arguments are swapped in your formula: it is -y * log(y_hat), with y the labels",
            _reference_cross_entropy(y, y_hat),
        ),
    ]


def check_cross_entropy(cross_entropy):
    """Checks `cross_entropy(y_hat, y)`: the batch mean of -sum_k y_k log y_hat_k, finite when y_hat has zeros."""
    y_hat = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.25, 0.5, 0.25]])
    y = _one_hot([0, 1, 2, 0], 3)
    where = "cross_entropy(y_hat, y) on a batch of 4 examples, 3 classes"
    value = as_float_array(where, _call(cross_entropy, y_hat.copy(), y.copy()))
    # After the known mistakes (one loss per example): any other array is not "one number".
    not_one = f"must return one number (the mean over the batch), got an array of shape {value.shape}"
    if value.size == 1:
        value, not_one = value.reshape(()), None
    check_value(
        where, value, _reference_cross_entropy(y_hat, y), _cross_entropy_mistakes(y_hat, y), otherwise=not_one
    )

    where = "cross_entropy(y_hat, y) with y_hat = [[0.5, 0.5, 0.0]], y = [[1, 0, 0]]"
    y_hat, y = np.array([[0.5, 0.5, 0.0]]), _one_hot([0], 3)
    value = as_float_array(where, _call(cross_entropy, y_hat.copy(), y.copy()))
    expect_true(
        where,
        value.size == 1 and np.all(np.isfinite(value)),
        "got NaN: y_hat has an exact 0 (softmax outputs can underflow to 0) and 0 * log(0) = 0 * -inf "
        "is nan. Clip y_hat before the log, e.g. np.log(np.clip(y_hat, 1e-12, 1.0))",
    )
    check_value(where, value.reshape(()), _reference_cross_entropy(y_hat, y))

    where = "cross_entropy(y, y) (perfect predictions)"
    perfect = _one_hot([2, 0, 1], 3)
    value = as_float_array(where, _call(cross_entropy, perfect.copy(), perfect.copy()))
    expect_true(
        where,
        value.size == 1 and np.all(np.isfinite(value)),
        "got NaN for perfect predictions: 0 * log(0) is nan. Clip y_hat before the log",
    )
    check_value(where, value.reshape(()), _reference_cross_entropy(perfect, perfect), atol=1e-6)
    passed("cross_entropy")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: the gradient y_hat - y


def _reference_cross_entropy_gradient(z, y, *, softmax=_reference_softmax):
    """The gradient of J(z) = cross_entropy(softmax(z), y) with respect to the logits.

    ```
    dJ/dz = (softmax(z) - y) / m
    ```

    Args:
        z: Float array (m, K). The logits.
        y: Array (m, K). One-hot labels.
        softmax: Callable. The map from logits to probabilities (a mistake table passes the identity).

    Returns:
        A float array (m, K).
    """
    return (softmax(z) - y) / len(z)


def _cross_entropy_gradient_mistakes(z, y):
    """The usual wrong gradients at logits `z`, labels `y`, as (message, wrong value) pairs."""
    m = len(z)
    gradient = _reference_cross_entropy_gradient(z, y)
    return [
        (
            f"your gradient is m = {m} times too large: J averages over the m examples, so dJ/dz = (y_hat - y) / m",
            gradient * m,
        ),
        (
            "the sign is flipped: dJ/dz = (y_hat - y) / m, not (y - y_hat) / m (it must point uphill; gradient "
            "descent then subtracts it)",
            -gradient,
        ),
        (f"the sign is flipped and the 1/m is missing: dJ/dz = (y_hat - y) / m with m = {m}", -gradient * m),
        (
            "you forgot to subtract the labels: dJ/dz = (softmax(z) - y) / m",
            _reference_cross_entropy_gradient(z, 0 * y),
        ),
        ("you divided by m twice", gradient / m),
        (
            "you used z instead of softmax(z): dJ/dz = (softmax(z) - y) / m",
            _reference_cross_entropy_gradient(z, y, softmax=lambda logits: logits),
        ),
    ]


def check_cross_entropy_gradient(cross_entropy_gradient):
    """Checks `cross_entropy_gradient(z, y)` = dJ/dz = (softmax(z) - y) / m, and gradient-checks it."""
    rng = np.random.default_rng(8)
    z = rng.normal(scale=2.0, size=(5, 4))
    y = _one_hot([0, 3, 1, 1, 2], 4)
    where = "cross_entropy_gradient(z, y) on z of shape (5, 4)"
    original = z.copy()
    out = as_float_array(where, _call(cross_entropy_gradient, z, y.copy()))
    expect_true(
        where,
        np.array_equal(z, original),
        "your function changed `z` in place: leave the caller's logits alone",
    )
    expect_shape(where, out, z.shape)
    check_value(where, out, _reference_cross_entropy_gradient(z, y), _cross_entropy_gradient_mistakes(z, y))

    where = "cross_entropy_gradient(z, y) on z = [[1000, 0, -1000]], y = [[0, 1, 0]]"
    big, label = np.array([[1000.0, 0.0, -1000.0]]), _one_hot([1], 3)
    out = as_float_array(where, _call(cross_entropy_gradient, big, label.copy()))
    expect_true(
        where,
        out.shape == big.shape and np.all(np.isfinite(out)),
        "got NaN or the wrong shape on large logits: compute softmax(z) with your stable softmax",
    )
    check_value(where, out, _reference_cross_entropy_gradient(big, label))

    report = gradcheck_your_gradient(cross_entropy_gradient, z, y)
    expect_true(
        "gradcheck of your cross_entropy_gradient",
        report.passed,
        f"the gradient check failed (difference {report.difference:.2e} >= {report.threshold:g}): your "
        "gradient is not the derivative of J(z) = cross_entropy(softmax(z), y)",
    )
    passed("cross_entropy_gradient")


def gradcheck_your_gradient(cross_entropy_gradient, z, y, **kwargs):
    """`dlkit.gradcheck` of J(z) = mean_i -sum_k y_ik log softmax(z_i)_k with `cross_entropy_gradient` as its gradient.

    The cost is computed with TensorFlow ops (`tf.nn.log_softmax`, so the finite differences are exact float64
    costs traced by `dlkit.gradcheck`); its gradient is not autodiff but the hand-written
    `cross_entropy_gradient(z, y)`, called on NumPy values. The report describes that function: how far it is
    from the finite differences of J.

    Example:

    >>> report = gradcheck_your_gradient(cross_entropy_gradient, z, y)
    >>> report.passed, report.difference

    Args:
        cross_entropy_gradient: Callable (z, y) -> dJ/dz, NumPy arrays of shape (m, K).
        z: Float array (m, K). The logits to check at.
        y: One-hot array (m, K).
        **kwargs: Passed to `dlkit.gradcheck.gradcheck` (epsilon, threshold, ...).

    Returns:
        A `GradcheckReport`.
    """
    # Calls no private function of this module: a student's cell may call it (see dlkit.grading.answer_guard).
    import tensorflow as tf

    labels = np.asarray(y, dtype=np.float64)
    return gradcheck_numpy_gradient(
        lambda logits: -tf.reduce_mean(tf.reduce_sum(labels * tf.nn.log_softmax(logits), axis=-1)),
        lambda logits: cross_entropy_gradient(logits, labels),
        z,
        **kwargs,
    )


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: one gradient descent step


def _reference_gradient_descent_step(W, b, x, y, learning_rate, *, dw_scale=1.0, db_scale=1.0):
    """One gradient descent step of softmax regression, and the cost before it.

    ```
    z = x @ W + b
    dz = (softmax(z) - y) / m
    W_new = W - learning_rate * dw_scale * (x.T @ dz)
    b_new = b - learning_rate * db_scale * sum_i dz_i
    cost = cross_entropy(softmax(z), y)
    ```

    Args:
        W: Float array (n, K). b: Float array (K,). x: Float array (m, n). y: One-hot array (m, K).
        learning_rate: Float.
        dw_scale, db_scale: Floats. Factors on dW and db (1; the mistake tables pass m or 1/m).

    Returns:
        A tuple (W_new, b_new, cost).
    """
    z = x @ W + b
    dz = _reference_cross_entropy_gradient(z, y)
    dW, db = x.T @ dz * dw_scale, dz.sum(axis=0) * db_scale
    return W - learning_rate * dW, b - learning_rate * db, _reference_cross_entropy(_reference_softmax(z), y)


def _gradient_descent_step_mistakes(W, b, x, y, learning_rate):
    """The usual wrong steps, as {"cost" | "W" | "b": [(message, wrong value), ...]}."""
    m = len(x)
    W_new, b_new, _ = _reference_gradient_descent_step(W, b, x, y, learning_rate)
    uphill = _reference_gradient_descent_step(W, b, x, y, -learning_rate)
    unchanged = _reference_gradient_descent_step(W, b, x, y, 0.0)
    return {
        "cost": [
            (
                "you returned the cost after the update: return J(W, b) of the parameters you were given",
                _reference_gradient_descent_step(W_new, b_new, x, y, learning_rate)[2],
            ),
        ],
        "W": [
            ("W moved uphill: gradient descent subtracts, W = W - learning_rate * dW", uphill[0]),
            ("W did not change: update it, W = W - learning_rate * dW", unchanged[0]),
            (
                "dW is m times too large: dZ = cross_entropy_gradient(Z, y) already holds the 1/m, so dW = x.T @ dZ",
                _reference_gradient_descent_step(W, b, x, y, learning_rate, dw_scale=m)[0],
            ),
            (
                "dW is m times too small: dZ already holds the 1/m, so do not divide again (dW = x.T @ dZ)",
                _reference_gradient_descent_step(W, b, x, y, learning_rate, dw_scale=1 / m)[0],
            ),
            (
                "the learning rate is not applied to dW: W = W - learning_rate * dW",
                _reference_gradient_descent_step(W, b, x, y, 1.0)[0],
            ),
        ],
        "b": [
            ("b moved uphill: b = b - learning_rate * db", uphill[1]),
            ("b did not change: update it too, b = b - learning_rate * db", unchanged[1]),
            (
                "db is m times too small: dZ already holds the 1/m, so db = dZ.sum(axis=0), not dZ.mean(axis=0)",
                _reference_gradient_descent_step(W, b, x, y, learning_rate, db_scale=1 / m)[1],
            ),
            (
                "db is m times too large: dZ already holds the 1/m, so db = dZ.sum(axis=0)",
                _reference_gradient_descent_step(W, b, x, y, learning_rate, db_scale=m)[1],
            ),
        ],
    }


def check_gradient_descent_step(gradient_descent_step):
    """Checks `gradient_descent_step(W, b, x, y, learning_rate)` -> (new W, new b, cost before the step)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 3))
    y = _one_hot([0, 1, 2, 3, 1, 0], 4)
    W, b = rng.normal(scale=0.5, size=(3, 4)), rng.normal(scale=0.5, size=4)
    for learning_rate in (0.5, 0.1):
        where = f"gradient_descent_step(W, b, x, y, learning_rate={learning_rate}) with x (6, 3), W (3, 4), b (4,)"
        out = _call(gradient_descent_step, W.copy(), b.copy(), x.copy(), y.copy(), learning_rate)
        expect_true(
            where,
            isinstance(out, (tuple, list)) and len(out) == 3,
            "must return a tuple (W, b, cost): the updated parameters and the cost before the update",
        )
        new_W, new_b = as_float_array(where, out[0]), as_float_array(where, out[1])
        cost = as_float_array(where, out[2])
        if new_W.shape == (4, 3):
            fail(where, "the new W has shape (4, 3), the transpose: dW = x.T @ dZ has the shape of W, (n, K)")
        expect_shape(f"{where}: W", new_W, W.shape)
        if new_b.shape in ((1, 4), (4, 1)):
            fail(
                where,
                f"the new b has shape {new_b.shape}: sum dZ over the batch axis only, "
                "dZ.sum(axis=0), to keep b 1-D with shape (K,)",
            )
        expect_shape(f"{where}: b", new_b, b.shape)
        expect_true(where, cost.size == 1, f"the cost must be one number, got shape {cost.shape}")
        expected_W, expected_b, expected_cost = _reference_gradient_descent_step(W, b, x, y, learning_rate)
        mistakes = _gradient_descent_step_mistakes(W, b, x, y, learning_rate)
        check_value(f"{where}: cost", cost.reshape(()), expected_cost, mistakes["cost"])
        check_value(f"{where}: W", new_W, expected_W, mistakes["W"])
        check_value(f"{where}: b", new_b, expected_b, mistakes["b"])
    passed("gradient_descent_step")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 5: training and prediction


def _reference_predict(W, b, x):
    """The most probable class of each example: argmax_k (x @ W + b)_k, integers of shape (m,)."""
    return np.argmax(x @ W + b, axis=-1)


def _blobs():
    from dlkit.datasets import load_blobs

    return load_blobs(num_classes=3, seed=1)


def check_softmax_regression(train_softmax_regression, predict):
    """Checks `train_softmax_regression(x, labels, num_classes, num_epochs, learning_rate, batch_size, seed)` and
    `predict(W, b, x)` on 3 Gaussian blobs: shapes, a falling cost, reproducibility and >= 90% accuracy."""
    data = _blobs()
    x, labels = data.x_train.astype(np.float64), data.y_train
    settings = dict(num_classes=3, num_epochs=20, learning_rate=0.1, batch_size=32, seed=0)
    where = (
        "train_softmax_regression(x, labels, num_classes=3, num_epochs=20, learning_rate=0.1, batch_size=32, "
        "seed=0) on 3 blobs (240 points)"
    )
    out = _call(lambda: train_softmax_regression(x.copy(), labels.copy(), **settings))
    expect_true(
        where,
        isinstance(out, (tuple, list)) and len(out) == 3,
        "must return a tuple (W, b, costs): the trained parameters and the list of per-epoch costs",
    )
    W, b, costs = (as_float_array(where, value) for value in out)
    expect_shape(f"{where}: W", W, (2, 3))
    expect_shape(f"{where}: b", b, (3,))
    expect_true(
        where, costs.shape == (20,), f"costs must hold one number per epoch (20), got shape {costs.shape}"
    )
    expect_true(
        where,
        np.all(np.isfinite(costs)) and np.all(np.isfinite(W)),
        "the costs or W hold NaN or inf: check your softmax and cross-entropy",
    )
    expect_true(
        where,
        costs[-1] < 0.8 * costs[0],
        f"the cost did not fall (epoch 1: {costs[0]:.4g}, epoch 20: {costs[-1]:.4g}): call "
        "gradient_descent_step on every mini-batch and keep the W, b it returns",
    )
    expect_true(
        where,
        costs[0] <= np.log(3.0) + 1e-9,
        f"the first epoch's cost {costs[0]:.4g} is above ln 3 = {np.log(3.0):.4g}, the cost of "
        "W = 0, b = 0: start from zeros and record the mean cost of the epoch's mini-batches",
    )

    where_predict = "predict(W, b, x) on the 240 training points"
    predictions = np.asarray(_call(predict, W, b, x))
    if predictions.shape == (len(x), 3):
        fail(where_predict, "returned probabilities (m, K): return the class ids, np.argmax(..., axis=1)")
    expect_shape(where_predict, predictions, (len(x),))
    expect_true(
        where_predict,
        predictions.dtype.kind in "iu",
        f"must return integer class ids, got dtype {predictions.dtype} (np.argmax returns integers)",
    )
    # Any class other than the reference's gets the exercise's hint rather than "values differ at index i".
    check_value(
        where_predict,
        predictions,
        _reference_predict(W, b, x),
        rtol=0.0,
        atol=0.0,
        otherwise="the predictions are not the most probable classes, argmax over the classes of x @ W + b",
    )
    accuracy = float(np.mean(predictions == labels))
    expect_true(
        where, accuracy >= 0.9, f"training accuracy {accuracy:.1%} < 90% on three well separated blobs"
    )

    again = _call(lambda: train_softmax_regression(x.copy(), labels.copy(), **settings))
    expect_true(
        where,
        np.array_equal(np.asarray(again[0], dtype=float), W),
        "two runs with seed=0 gave different W: shuffle with np.random.default_rng(seed), nothing else random",
    )
    other = _call(lambda: train_softmax_regression(x.copy(), labels.copy(), **{**settings, "seed": 1}))
    expect_true(
        where,
        not np.array_equal(np.asarray(other[0], dtype=float), W),
        "seed=0 and seed=1 gave the same W: shuffle the training set at every epoch with "
        "rng = np.random.default_rng(seed); rng.permutation(m)",
    )
    passed("softmax_regression")
