"""Visible checks for lab 07 (batch normalization): forward, backward, running averages, a Keras layer.

Conventions of the lab (Keras's): `z` has shape (m, n), one example per row; `gamma`, `beta` and the running
statistics have shape (n,); the variance is the biased one (1/m); epsilon is added inside the square root. Each
check compares the student's code with a NumPy reference written here (or with `keras.layers.BatchNormalization`)
on small fixed inputs and, on a mismatch, tries the usual mistakes and names the one that matches.
"""

import numpy as np

from dlkit.lab_checks.expect import as_float_array, diagnose, expect_close, expect_shape, expect_true, passed

EPSILON = 1e-3


def _forward(z, gamma, beta, epsilon=EPSILON, ddof=0, axis=0, inside=True):
    mu = z.mean(axis=axis, keepdims=True)
    var = z.var(axis=axis, ddof=ddof, keepdims=True)
    std = np.sqrt(var + epsilon) if inside else np.sqrt(var) + epsilon
    return gamma * (z - mu) / std + beta


def _backward(dout, z, gamma, epsilon=EPSILON):
    m = len(z)
    inv_std = 1.0 / np.sqrt(z.var(axis=0) + epsilon)
    z_hat = (z - z.mean(axis=0)) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * z_hat).sum(axis=0)
    dz = gamma * inv_std / m * (m * dout - dbeta - z_hat * dgamma)
    return dz, dgamma, dbeta


def _call(function, *args, **kwargs):
    with np.errstate(all="ignore"):
        return function(*args, **kwargs)


def _pair(where, out, names):
    expect_true(
        where,
        isinstance(out, (tuple, list)) and len(out) == len(names),
        f"must return a tuple ({', '.join(names)})",
    )
    return out


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: forward


def check_batchnorm_forward(batchnorm_forward):
    """Checks `batchnorm_forward(z, gamma, beta, epsilon)` -> (out, cache): training-mode BN over axis 0."""
    rng = np.random.default_rng(0)
    z = rng.normal(loc=[3.0, -1.0, 0.5, 10.0], scale=[2.0, 0.3, 1.0, 5.0], size=(5, 4))
    gamma, beta = np.array([1.5, 0.5, -1.0, 2.0]), np.array([0.1, -0.2, 0.3, 1.0])
    where = "batchnorm_forward(z, gamma, beta) with z of shape (5, 4)"
    original = z.copy()
    result = _pair(where, _call(batchnorm_forward, z, gamma.copy(), beta.copy()), ("out", "cache"))
    expect_true(
        where, np.array_equal(z, original), "your function changed `z` in place: compute into new arrays"
    )
    out = as_float_array(where, result[0])
    expect_shape(where, out, z.shape)
    expected = _forward(z, gamma, beta)
    diagnose(
        where,
        out,
        [
            (
                "you normalized each example (row) over its units: batch norm averages over the batch, axis=0",
                _forward(z, gamma, beta, axis=1),
            ),
            (
                "you used the unbiased variance (ddof=1, divides by m - 1): batch norm uses (1/m) * sum (z - mu)^2, "
                "np.var's default",
                _forward(z, gamma, beta, ddof=1),
            ),
            (
                "epsilon is outside the square root: divide by np.sqrt(var + epsilon)",
                _forward(z, gamma, beta, inside=False),
            ),
            ("you forgot epsilon: divide by np.sqrt(var + epsilon)", _forward(z, gamma, beta, epsilon=0.0)),
            ("gamma and beta are swapped: out = gamma * z_hat + beta", _forward(z, beta, gamma)),
            (
                "you returned z_hat without applying gamma and beta: out = gamma * z_hat + beta",
                _forward(z, 1.0, 0.0),
            ),
            (
                "you divided by the variance instead of the standard deviation: z_hat = (z - mu) / sqrt(var + epsilon)",
                lambda: gamma * (z - z.mean(0)) / (z.var(0) + EPSILON) + beta,
            ),
        ],
    )
    expect_close(where, out, expected, rtol=1e-6, atol=1e-9)

    where = "batchnorm_forward(z, ones, zeros, epsilon=0.5) on z = [[1, 2], [1, 4]]"
    small = np.array([[1.0, 2.0], [1.0, 4.0]])
    out = as_float_array(where, _call(batchnorm_forward, small, np.ones(2), np.zeros(2), 0.5)[0])
    expect_true(
        where,
        out.shape == (2, 2) and np.all(np.isfinite(out)),
        "got NaN or a wrong shape for a unit whose batch values are all equal (variance 0): epsilon "
        "keeps the division safe",
    )
    diagnose(
        where,
        out,
        [
            (
                "you ignored the `epsilon` argument (used a fixed value)",
                _forward(small, 1.0, 0.0, epsilon=EPSILON),
            )
        ],
    )
    expect_close(where, out, _forward(small, 1.0, 0.0, epsilon=0.5), rtol=1e-6, atol=1e-9)
    passed("batchnorm_forward")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: backward


def check_batchnorm_backward(batchnorm_forward, batchnorm_backward):
    """Checks `batchnorm_backward(dout, cache)` -> (dz, dgamma, dbeta) against the compact formula and with
    `dlkit.gradcheck`."""
    rng = np.random.default_rng(1)
    z = rng.normal(loc=1.0, scale=2.0, size=(6, 3))
    gamma, beta = np.array([1.5, -0.7, 2.0]), np.array([0.2, 0.0, -1.0])
    dout = rng.normal(size=(6, 3))
    where = "batchnorm_backward(dout, cache) with z, dout of shape (6, 3)"
    _, cache = _call(batchnorm_forward, z.copy(), gamma.copy(), beta.copy())
    result = _pair(where, _call(batchnorm_backward, dout.copy(), cache), ("dz", "dgamma", "dbeta"))
    dz, dgamma, dbeta = (as_float_array(where, value) for value in result)
    expected_dz, expected_dgamma, expected_dbeta = _backward(dout, z, gamma)
    expect_shape(f"{where}: dbeta", dbeta, (3,))
    diagnose(
        f"{where}: dbeta",
        dbeta,
        [
            ("dbeta is the mean of dout over the batch: it is the sum, dout.sum(axis=0)", dout.mean(axis=0)),
        ],
    )
    expect_close(f"{where}: dbeta", dbeta, expected_dbeta, rtol=1e-6, atol=1e-9)
    expect_shape(f"{where}: dgamma", dgamma, (3,))
    z_hat = (z - z.mean(0)) / np.sqrt(z.var(0) + EPSILON)
    diagnose(
        f"{where}: dgamma",
        dgamma,
        [
            ("dgamma = sum over the batch of dout * z_hat, not of dout * z", (dout * z).sum(axis=0)),
            ("dgamma is a sum over the batch, not a mean", (dout * z_hat).mean(axis=0)),
        ],
    )
    expect_close(f"{where}: dgamma", dgamma, expected_dgamma, rtol=1e-6, atol=1e-9)
    expect_shape(f"{where}: dz", dz, z.shape)
    inv_std = 1.0 / np.sqrt(z.var(0) + EPSILON)
    m = len(z)
    diagnose(
        f"{where}: dz",
        dz,
        [
            (
                "dz = gamma * dout / sqrt(var + eps) treats mu and var as constants: add the two sums of the compact "
                "formula (they carry the gradient through the batch statistics)",
                gamma * inv_std * dout,
            ),
            (
                "dz is missing the 1/m: dz = gamma / (m sqrt(var + eps)) * (m dout - sum(dout) - z_hat sum(dout z_hat))",
                expected_dz * m,
            ),
            ("dz is missing the factor gamma", expected_dz / gamma),
            (
                "dz has only the mean's term: also subtract z_hat * sum(dout * z_hat) (the variance's term)",
                gamma * inv_std / m * (m * dout - dout.sum(0)),
            ),
            (
                "dz has only the variance's term: also subtract sum(dout) (the mean's term)",
                gamma * inv_std / m * (m * dout - z_hat * (dout * z_hat).sum(0)),
            ),
            (
                "a sign is flipped in dz: the two sums are subtracted from m * dout",
                gamma * inv_std / m * (m * dout + dout.sum(0) + z_hat * (dout * z_hat).sum(0)),
            ),
        ],
    )
    expect_close(f"{where}: dz", dz, expected_dz, rtol=1e-6, atol=1e-9)

    report = gradcheck_your_backward(batchnorm_forward, batchnorm_backward, z, gamma, beta, dout)
    expect_true(
        "gradcheck of your batchnorm_backward",
        report.passed,
        f"the gradient check failed (difference {report.difference:.2e} >= {report.threshold:g})",
    )
    passed("batchnorm_backward")


def gradcheck_your_backward(batchnorm_forward, batchnorm_backward, z, gamma, beta, weights, **kwargs):
    """`dlkit.gradcheck` of J(z, gamma, beta) = sum(weights * BN(z)) with the student's backward pass as gradient.

    The cost is computed with TensorFlow ops in float64 (so the finite differences are exact); its gradient is the
    student's `batchnorm_backward(weights * upstream, cache)` with the cache of their `batchnorm_forward`.

    Args:
        batchnorm_forward: Callable (z, gamma, beta) -> (out, cache).
        batchnorm_backward: Callable (dout, cache) -> (dz, dgamma, dbeta).
        z: Float array (m, n).
        gamma: Float array (n,).
        beta: Float array (n,).
        weights: Float array (m, n). The cost's weights (the upstream gradient).
        **kwargs: Passed to `dlkit.gradcheck.gradcheck`.

    Returns:
        A `GradcheckReport` with rows z, gamma, beta.
    """
    import tensorflow as tf

    from dlkit.gradcheck import gradcheck

    w = tf.constant(np.asarray(weights, dtype=np.float64))

    @tf.custom_gradient
    def cost(z, gamma, beta):
        mean, variance = tf.nn.moments(z, axes=[0])
        loss = tf.reduce_sum(w * (gamma * (z - mean) / tf.sqrt(variance + EPSILON) + beta))

        def grad(upstream):
            with np.errstate(all="ignore"):
                _, cache = batchnorm_forward(z.numpy(), gamma.numpy(), beta.numpy())
                dz, dgamma, dbeta = batchnorm_backward(upstream.numpy() * w.numpy(), cache)
            return tuple(
                tf.constant(np.asarray(g, dtype=np.float64).reshape(v.shape))
                for g, v in zip((dz, dgamma, dbeta), (z, gamma, beta))
            )

        return loss, grad

    inputs = [np.asarray(a, dtype=np.float64) for a in (z, gamma, beta)]
    return gradcheck(cost, inputs, names=["z", "gamma", "beta"], **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: running averages and inference


def check_running_averages(update_running_averages, batchnorm_inference):
    """Checks the running averages against `keras.layers.BatchNormalization`'s moving statistics after a few
    training steps, and `batchnorm_inference` against the layer in inference mode."""
    import keras

    rng = np.random.default_rng(3)
    batches = [rng.normal(loc=[2.0, -1.0, 0.0], scale=[3.0, 0.5, 1.0], size=(8, 3)) for _ in range(5)]
    momentum = 0.8
    where = f"update_running_averages(mean, var, z, momentum={momentum}) from mean = 0, var = 1"
    mean, var = np.zeros(3), np.ones(3)
    for step, batch in enumerate(batches):
        out = _pair(
            where,
            _call(update_running_averages, mean, var, batch.copy(), momentum),
            ("running_mean", "running_var"),
        )
        new_mean, new_var = as_float_array(where, out[0]), as_float_array(where, out[1])
        expect_shape(where, new_mean, (3,))
        expect_shape(where, new_var, (3,))
        if step == 0:
            swapped = batch.mean(0) * momentum
            diagnose(
                where,
                new_mean,
                [
                    (
                        "momentum is on the wrong side: moving = moving * momentum + batch * (1 - momentum)",
                        swapped,
                    ),
                    (
                        "you returned the batch mean: blend it into the running mean with the momentum",
                        batch.mean(0),
                    ),
                ],
            )
            diagnose(
                where,
                new_var,
                [
                    (
                        "use the biased batch variance (1/m, np.var's default), as Keras does "
                        "(the paper's inference step and PyTorch's running_var use the unbiased m/(m - 1) one)",
                        momentum + batch.var(0, ddof=1) * (1 - momentum),
                    ),
                    (
                        "you blended the batch standard deviation: blend the variance",
                        momentum + batch.std(0) * (1 - momentum),
                    ),
                    (
                        "momentum is on the wrong side: moving = moving * momentum + batch * (1 - momentum)",
                        (1 - momentum) + batch.var(0) * momentum,
                    ),
                ],
            )
        mean, var = new_mean, new_var

    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=EPSILON)
    for batch in batches:
        layer(batch.astype("float32"), training=True)
    keras_mean = keras.ops.convert_to_numpy(layer.moving_mean)
    keras_var = keras.ops.convert_to_numpy(layer.moving_variance)
    expect_close(
        f"{where}, after 5 batches: running mean vs keras BatchNormalization.moving_mean",
        mean,
        keras_mean,
        rtol=1e-4,
        atol=1e-5,
    )
    expect_close(
        f"{where}, after 5 batches: running var vs keras BatchNormalization.moving_variance",
        var,
        keras_var,
        rtol=1e-4,
        atol=1e-5,
    )

    gamma, beta = np.array([1.5, 0.5, -2.0]), np.array([0.3, -0.1, 1.0])
    layer.gamma.assign(gamma.astype("float32"))
    layer.beta.assign(beta.astype("float32"))
    z = rng.normal(size=(4, 3))
    where = "batchnorm_inference(z, gamma, beta, running_mean, running_var) with z of shape (4, 3)"
    out = as_float_array(
        where,
        _call(batchnorm_inference, z.copy(), gamma, beta, keras_mean.astype(float), keras_var.astype(float)),
    )
    expect_shape(where, out, z.shape)
    rm, rv = keras_mean.astype(float), keras_var.astype(float)
    diagnose(
        where,
        out,
        [
            (
                "you normalized with the batch's own statistics: at inference use the running mean and variance",
                _forward(z, gamma, beta),
            ),
            ("epsilon is outside the square root", gamma * (z - rm) / (np.sqrt(rv) + EPSILON) + beta),
            (
                "you divided by the variance instead of its square root",
                gamma * (z - rm) / (rv + EPSILON) + beta,
            ),
        ],
        rtol=1e-4,
        atol=1e-5,
    )
    expected = keras.ops.convert_to_numpy(layer(z.astype("float32"), training=False))
    expect_close(f"{where}: vs keras BatchNormalization(training=False)", out, expected, rtol=1e-4, atol=1e-5)
    passed("running_averages")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: a Keras layer


def check_my_batch_norm(layer_class):
    """Checks a Keras BN layer class: weights, training-mode output and moving-average update, inference output."""
    import keras

    where = "MyBatchNorm(momentum=0.8)"
    layer = layer_class(momentum=0.8)
    rng = np.random.default_rng(4)
    x = rng.normal(loc=[1.0, -2.0, 5.0, 0.0], scale=[2.0, 1.0, 3.0, 0.5], size=(16, 4)).astype("float32")
    layer.build((None, 4))
    expect_true(
        where,
        len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2,
        f"expected 2 trainable weights (gamma, beta) and 2 non-trainable ones (the moving statistics), got "
        f"{len(layer.trainable_weights)} and {len(layer.non_trainable_weights)}",
    )
    layer.gamma.assign(np.array([1.0, 2.0, 0.5, -1.0], dtype="float32"))
    layer.beta.assign(np.array([0.0, 1.0, -1.0, 0.5], dtype="float32"))
    gamma, beta = keras.ops.convert_to_numpy(layer.gamma), keras.ops.convert_to_numpy(layer.beta)

    where_train = f"{where}(x, training=True) on x of shape (16, 4)"
    out = as_float_array(where_train, keras.ops.convert_to_numpy(layer(x, training=True)))
    expect_shape(where_train, out, x.shape)
    x64 = x.astype(float)
    diagnose(
        where_train,
        out,
        [
            (
                "in training mode normalize with the batch's mean and variance, not the moving averages",
                lambda: gamma * x64 / np.sqrt(1.0 + EPSILON) + beta,
            ),
            (
                "you normalized each example over its features: batch norm averages over axis 0",
                _forward(x64, gamma, beta, axis=1),
            ),
        ],
        rtol=1e-4,
        atol=1e-4,
    )
    expect_close(where_train, out, _forward(x64, gamma, beta), rtol=1e-4, atol=1e-4)
    moving_mean = keras.ops.convert_to_numpy(layer.moving_mean).astype(float)
    moving_var = keras.ops.convert_to_numpy(layer.moving_variance).astype(float)
    expected_mean, expected_var = 0.2 * x64.mean(0), 0.8 + 0.2 * x64.var(0)
    expect_true(
        where_train,
        not np.allclose(moving_mean, 0.0) or not np.allclose(moving_var, 1.0),
        "the moving statistics did not change: update them in training mode with "
        "self.moving_mean.assign(...)",
    )
    diagnose(
        where_train,
        moving_mean,
        [
            (
                "momentum is on the wrong side: moving = moving * momentum + batch * (1 - momentum)",
                0.8 * x64.mean(0),
            ),
        ],
        rtol=1e-4,
        atol=1e-5,
    )
    expect_close(
        f"{where_train}: moving_mean after one step", moving_mean, expected_mean, rtol=1e-4, atol=1e-5
    )
    expect_close(
        f"{where_train}: moving_variance after one step", moving_var, expected_var, rtol=1e-4, atol=1e-5
    )

    where_infer = f"{where}(x) after that step (training=None: inference)"
    before = (moving_mean.copy(), moving_var.copy())
    for training in (None, False):
        out = as_float_array(where_infer, keras.ops.convert_to_numpy(layer(x, training=training)))
        expect_shape(where_infer, out, x.shape)
        diagnose(
            where_infer,
            out,
            [
                (
                    "at inference (training=None or False) normalize with the moving averages, not the batch statistics",
                    _forward(x64, gamma, beta),
                ),
            ],
            rtol=1e-4,
            atol=1e-4,
        )
        expect_close(
            where_infer,
            out,
            gamma * (x64 - expected_mean) / np.sqrt(expected_var + EPSILON) + beta,
            rtol=1e-4,
            atol=1e-4,
        )
    after = (keras.ops.convert_to_numpy(layer.moving_mean), keras.ops.convert_to_numpy(layer.moving_variance))
    expect_true(
        where_infer,
        np.allclose(before[0], after[0]) and np.allclose(before[1], after[1]),
        "the moving statistics changed in inference mode: update them only when training is True",
    )
    expect_true(
        where,
        tuple(layer.compute_output_shape((None, 4))) == (None, 4),
        "compute_output_shape must return the input shape",
    )
    passed("my_batch_norm")
