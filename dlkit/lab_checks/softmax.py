"""Visible checks for lab 08 (softmax regression): stable softmax, cross-entropy, its gradient, training.

Conventions of the lab (Keras's): one example per row. Logits `z` and probabilities `y_hat` have shape (m, K),
labels `y` are one-hot of shape (m, K), a model is `z = x @ W + b` with `W` of shape (n, K) and `b` of shape (K,).
Each check compares the student's function with a NumPy reference written here on small fixed inputs; on a
mismatch it tries the usual mistakes (a sum instead of a mean, a flipped sign, a missing 1/m, the max of the
whole batch instead of each row's) and names the one that matches.
"""

import numpy as np

from dlkit.lab_checks.expect import (
    as_float_array,
    diagnose,
    expect_close,
    expect_shape,
    expect_true,
    fail,
    matches,
    passed,
)


def _softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)


def _cross_entropy(y_hat, y):
    return float(-np.mean(np.sum(y * np.log(np.clip(y_hat, 1e-300, 1.0)), axis=-1)))


def _one_hot(labels, num_classes):
    return np.eye(num_classes)[np.asarray(labels)]


def _call(function, *args):
    """Calls the student's function with NumPy's overflow warnings off (some checks provoke them on purpose);
    errors propagate, so their traceback points into the student's code."""
    with np.errstate(all="ignore"):
        return function(*args)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: softmax


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
    row_sums, column_sums = out.sum(axis=1), out.sum(axis=0)
    if not np.allclose(row_sums, 1.0) and np.allclose(column_sums, 1.0):
        fail(
            where,
            "each column sums to 1 instead of each row: one example per row, so normalize over the "
            "classes, the last axis (axis=-1, keepdims=True)",
        )
    reference = _softmax(z)
    diagnose(
        where,
        out,
        [
            (
                "you normalized the logits themselves (z / sum(z)); softmax normalizes exp(z): exp(z) / sum(exp(z))",
                lambda: z / z.sum(axis=-1, keepdims=True),
            ),
            (
                "you returned exp(z - max) without dividing by the row's sum of exp",
                np.exp(z - z.max(-1, keepdims=True)),
            ),
        ],
    )
    expect_true(
        where,
        np.allclose(row_sums, 1.0),
        f"each row must sum to 1; your row sums are {np.round(row_sums, 4)}",
    )
    expect_close(where, out, reference, rtol=1e-6, atol=1e-9)

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
    expect_close(where, out, _softmax(big), rtol=1e-6, atol=1e-9)

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
    expect_close(where, out, _softmax(mixed), rtol=1e-6, atol=1e-9)
    passed("softmax")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: cross-entropy


def check_cross_entropy(cross_entropy):
    """Checks `cross_entropy(y_hat, y)`: the batch mean of -sum_k y_k log y_hat_k, finite when y_hat has zeros."""
    y_hat = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.25, 0.5, 0.25]])
    y = _one_hot([0, 1, 2, 0], 3)
    where = "cross_entropy(y_hat, y) on a batch of 4 examples, 3 classes"
    out = _call(cross_entropy, y_hat.copy(), y.copy())
    value = as_float_array(where, out)
    per_example = -np.sum(y * np.log(y_hat), axis=-1)
    expected = per_example.mean()
    if value.shape == per_example.shape and matches(value, per_example):
        fail(where, "returned one loss per example: average them into one number (np.mean over the batch)")
    expect_true(
        where,
        value.size == 1,
        f"must return one number (the mean over the batch), got an array of shape {value.shape}",
    )
    value = value.reshape(())
    binary = -np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat), axis=-1)
    diagnose(
        where,
        value,
        [
            (
                "you summed over the batch: the cost is the mean, (1/m) * sum over the m examples",
                per_example.sum(),
            ),
            ("the sign is flipped: log(y_hat) <= 0, so the cost is -mean(sum(y * log(y_hat)))", -expected),
            (
                "that is the binary cross-entropy summed over classes (it adds (1 - y) log(1 - y_hat)); with softmax "
                "outputs the cost is only -sum_k y_k log(y_hat_k)",
                binary.mean(),
            ),
            (
                "you took the mean over all m * K entries of y * log(y_hat): sum over the classes first, then average "
                "over the examples",
                expected / y.shape[1],
            ),
            ("you used log10 or log2: use the natural log (np.log)", expected / np.log(10)),
            ("you used log10 or log2: use the natural log (np.log)", expected / np.log(2)),
            (
                "the arguments are swapped in your formula: it is -y * log(y_hat), with y the labels",
                lambda: -np.mean(np.sum(y_hat * np.log(np.clip(y, 1e-12, 1.0)), axis=-1)),
            ),
        ],
    )
    expect_close(where, value, expected, rtol=1e-6, atol=1e-9)

    where = "cross_entropy(y_hat, y) with y_hat = [[0.5, 0.5, 0.0]], y = [[1, 0, 0]]"
    value = as_float_array(where, _call(cross_entropy, np.array([[0.5, 0.5, 0.0]]), _one_hot([0], 3)))
    expect_true(
        where,
        value.size == 1 and np.all(np.isfinite(value)),
        "got NaN: y_hat has an exact 0 (softmax outputs can underflow to 0) and 0 * log(0) = 0 * -inf "
        "is nan. Clip y_hat before the log, e.g. np.log(np.clip(y_hat, 1e-12, 1.0))",
    )
    expect_close(where, value.reshape(()), np.log(2.0), rtol=1e-6, atol=1e-9)

    where = "cross_entropy(y, y) (perfect predictions)"
    perfect = _one_hot([2, 0, 1], 3)
    value = as_float_array(where, _call(cross_entropy, perfect.copy(), perfect.copy()))
    expect_true(
        where,
        value.size == 1 and np.all(np.isfinite(value)),
        "got NaN for perfect predictions: 0 * log(0) is nan. Clip y_hat before the log",
    )
    expect_close(where, value.reshape(()), 0.0, atol=1e-6)
    passed("cross_entropy")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: the gradient y_hat - y


def check_cross_entropy_gradient(cross_entropy_gradient):
    """Checks `cross_entropy_gradient(z, y)` = dJ/dz = (softmax(z) - y) / m, and gradient-checks it."""
    rng = np.random.default_rng(8)
    z = rng.normal(scale=2.0, size=(5, 4))
    y = _one_hot([0, 3, 1, 1, 2], 4)
    m = len(z)
    where = "cross_entropy_gradient(z, y) on z of shape (5, 4)"
    original = z.copy()
    out = as_float_array(where, _call(cross_entropy_gradient, z, y.copy()))
    expect_true(
        where,
        np.array_equal(z, original),
        "your function changed `z` in place: leave the caller's logits alone",
    )
    expect_shape(where, out, z.shape)
    y_hat = _softmax(z)
    expected = (y_hat - y) / m
    diagnose(
        where,
        out,
        [
            (
                f"your gradient is m = {m} times too large: J averages over the m examples, so dJ/dz = (y_hat - y) / m",
                y_hat - y,
            ),
            (
                "the sign is flipped: dJ/dz = (y_hat - y) / m, not (y - y_hat) / m (it must point uphill; gradient "
                "descent then subtracts it)",
                -expected,
            ),
            (f"the sign is flipped and the 1/m is missing: dJ/dz = (y_hat - y) / m with m = {m}", y - y_hat),
            ("you forgot to subtract the labels: dJ/dz = (softmax(z) - y) / m", y_hat / m),
            ("you divided by m twice", expected / m),
            ("you used z instead of softmax(z): dJ/dz = (softmax(z) - y) / m", (z - y) / m),
        ],
    )
    expect_close(where, out, expected, rtol=1e-6, atol=1e-9)

    where = "cross_entropy_gradient(z, y) on z = [[1000, 0, -1000]], y = [[0, 1, 0]]"
    big = np.array([[1000.0, 0.0, -1000.0]])
    out = as_float_array(where, _call(cross_entropy_gradient, big, _one_hot([1], 3)))
    expect_true(
        where,
        out.shape == big.shape and np.all(np.isfinite(out)),
        "got NaN or the wrong shape on large logits: compute softmax(z) with your stable softmax",
    )
    expect_close(where, out, _softmax(big) - _one_hot([1], 3), rtol=1e-6, atol=1e-9)

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

    The cost is computed with TensorFlow ops (so the finite differences are exact float64 costs); its gradient is
    not autodiff but the hand-written `cross_entropy_gradient(z, y)`, called on NumPy values.

    Args:
        cross_entropy_gradient: Callable (z, y) -> dJ/dz, NumPy arrays of shape (m, K).
        z: Float array (m, K). The logits to check at.
        y: One-hot array (m, K).
        **kwargs: Passed to `dlkit.gradcheck.gradcheck` (epsilon, threshold, ...).

    Returns:
        A `GradcheckReport`.
    """
    import tensorflow as tf

    from dlkit.gradcheck import gradcheck

    labels = tf.constant(np.asarray(y, dtype=np.float64))

    @tf.custom_gradient
    def cost(logits):
        loss = -tf.reduce_mean(tf.reduce_sum(labels * tf.nn.log_softmax(logits), axis=-1))

        def grad(upstream):
            with np.errstate(all="ignore"):
                mine = np.asarray(cross_entropy_gradient(logits.numpy(), labels.numpy()), dtype=np.float64)
            return upstream * tf.constant(mine.reshape(logits.shape))

        return loss, grad

    # Each call compiles fresh tf.functions; after a few calls TensorFlow logs a retracing warning into the lab.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        return gradcheck(cost, [np.asarray(z, dtype=np.float64)], names=["z"], **kwargs)
    finally:
        logger.setLevel(level)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: one gradient descent step


def _step(W, b, x, y, learning_rate, *, db_scale=1.0, dw_scale=1.0, sign=1.0):
    z = x @ W + b
    y_hat = _softmax(z)
    dz = (y_hat - y) / len(x)
    dW, db = x.T @ dz * dw_scale, dz.sum(axis=0) * db_scale
    return W - sign * learning_rate * dW, b - sign * learning_rate * db, _cross_entropy(y_hat, y)


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
        expected_W, expected_b, expected_cost = _step(W, b, x, y, learning_rate)
        after = _cross_entropy(_softmax(x @ expected_W + expected_b), y)
        diagnose(
            f"{where}: cost",
            cost.reshape(()),
            [
                (
                    "you returned the cost after the update: return J(W, b) of the parameters you were given",
                    after,
                ),
            ],
        )
        expect_close(f"{where}: cost", cost.reshape(()), expected_cost, rtol=1e-6, atol=1e-9)
        wrong_sign = _step(W, b, x, y, learning_rate, sign=-1.0)
        diagnose(
            where,
            new_W,
            [
                ("W moved uphill: gradient descent subtracts, W = W - learning_rate * dW", wrong_sign[0]),
                ("W did not change: update it, W = W - learning_rate * dW", W),
                (
                    "dW is m times too large: dZ = cross_entropy_gradient(Z, y) already holds the 1/m, so dW = x.T @ dZ",
                    _step(W, b, x, y, learning_rate, dw_scale=len(x))[0],
                ),
                (
                    "dW is m times too small: dZ already holds the 1/m, so do not divide again (dW = x.T @ dZ)",
                    _step(W, b, x, y, learning_rate, dw_scale=1 / len(x))[0],
                ),
                (
                    "the learning rate is not applied to dW: W = W - learning_rate * dW",
                    _step(W, b, x, y, 1.0)[0],
                ),
            ],
        )
        expect_close(f"{where}: W", new_W, expected_W, rtol=1e-6, atol=1e-9)
        diagnose(
            where,
            new_b,
            [
                ("b moved uphill: b = b - learning_rate * db", wrong_sign[1]),
                ("b did not change: update it too, b = b - learning_rate * db", b),
                (
                    "db is m times too small: dZ already holds the 1/m, so db = dZ.sum(axis=0), not dZ.mean(axis=0)",
                    _step(W, b, x, y, learning_rate, db_scale=1 / len(x))[1],
                ),
                (
                    "db is m times too large: dZ already holds the 1/m, so db = dZ.sum(axis=0)",
                    _step(W, b, x, y, learning_rate, db_scale=len(x))[1],
                ),
            ],
        )
        expect_close(f"{where}: b", new_b, expected_b, rtol=1e-6, atol=1e-9)
    passed("gradient_descent_step")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 5: training and prediction


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
    logits = x @ W + b
    expect_true(
        where_predict,
        np.array_equal(predictions, logits.argmax(axis=1)),
        "the predictions are not the most probable classes, argmax over the classes of x @ W + b",
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
