"""Visible checks for lab 07 (batch normalization): forward, staged and simplified backward, running averages,
a Keras layer.

Conventions of the lab (Keras's): `z` has shape (m, n), one example per row; `gamma`, `beta` and the running
statistics have shape (n,); the variance is the biased one (1/m); epsilon is added inside the square root; the
running averages follow `keras.layers.BatchNormalization` (moving = moving * momentum + batch * (1 - momentum)).

Each exercise has a NumPy reference written out here (`_reference_batchnorm_forward`,
`_reference_batchnorm_backward_staged` node by node through the graph, `_reference_update_running_averages` with
`_reference_batchnorm_inference`, `_reference_my_batch_norm` for the Keras layer, and
`_reference_batchnorm_backward`, the simplified one-line formula) and a table of known mistakes computed by that
reference with changed arguments; each check calls the student's code on small fixed inputs and hands its value,
the reference's and the table to `expect.check_value`, which names the mistake a wrong value reproduces.
`gradcheck_your_backward` gradient-checks the student's backward pass against their own forward pass.
"""

import numpy as np

from dlkit.lab_checks.expect import as_float_array, check_value, expect_shape, expect_true, passed

_EPSILON = 1e-3


def _call(function, *args, **kwargs):
    """Calls the student's function with NumPy's warnings off (a wrong formula may divide by 0)."""
    with np.errstate(all="ignore"):
        return function(*args, **kwargs)


def _pair(where, out, names):
    """`out` if it is a tuple (or list) of `len(names)` values; fails otherwise."""
    expect_true(
        where,
        isinstance(out, (tuple, list)) and len(out) == len(names),
        f"must return a tuple ({', '.join(names)})",
    )
    return out


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: forward


def _reference_batchnorm_forward(z, gamma, beta, epsilon=_EPSILON, *, axis=0, ddof=0, inside=True, root=True):
    """Training-mode batch norm: `z` normalized with its own batch statistics, then scaled and shifted.

    ```
    mu = mean(z, axis=0); var = mean((z - mu)^2, axis=0)
    out = gamma * (z - mu) / sqrt(var + epsilon) + beta     (= _reference_batchnorm_inference(z, ..., mu, var))
    ```

    The keyword arguments after `epsilon` give the known mistakes' variants.

    Args:
        z: Float array (m, n).
        gamma, beta: Float arrays (n,) or numbers.
        epsilon: Float. Added to the variance.
        axis: Integer. The axis the statistics are taken over (a mistake: 1).
        ddof: Integer. The variance's delta degrees of freedom (a mistake: 1, the unbiased variance).
        inside, root: Booleans. Passed to `_reference_batchnorm_inference`.

    Returns:
        Float array (m, n).
    """
    mean = np.mean(z, axis=axis, keepdims=True)
    var = np.var(z, axis=axis, ddof=ddof, keepdims=True)
    return _reference_batchnorm_inference(z, gamma, beta, mean, var, epsilon, inside=inside, root=root)


def _batchnorm_forward_mistakes(z, gamma, beta, epsilon=_EPSILON):
    """Known wrong `batchnorm_forward(z, gamma, beta, epsilon)` outputs: (message, wrong value) pairs."""
    return [
        (
            "you ignored the `epsilon` argument (used a fixed value)",
            lambda: _reference_batchnorm_forward(z, gamma, beta, _EPSILON),
        ),
        (
            "you normalized each example (row) over its units: batch norm averages over the batch, axis=0",
            lambda: _reference_batchnorm_forward(z, gamma, beta, epsilon, axis=1),
        ),
        (
            "you used the unbiased variance (ddof=1, divides by m - 1): batch norm uses (1/m) * sum (z - mu)^2, "
            "np.var's default",
            lambda: _reference_batchnorm_forward(z, gamma, beta, epsilon, ddof=1),
        ),
        (
            "epsilon is outside the square root: divide by np.sqrt(var + epsilon)",
            lambda: _reference_batchnorm_forward(z, gamma, beta, epsilon, inside=False),
        ),
        (
            "you forgot epsilon: divide by np.sqrt(var + epsilon)",
            lambda: _reference_batchnorm_forward(z, gamma, beta, 0.0),
        ),
        (
            "gamma and beta are swapped: out = gamma * z_hat + beta",
            lambda: _reference_batchnorm_forward(z, beta, gamma, epsilon),
        ),
        (
            "you returned z_hat without applying gamma and beta: out = gamma * z_hat + beta",
            lambda: _reference_batchnorm_forward(z, 1.0, 0.0, epsilon),
        ),
        (
            "you divided by the variance instead of the standard deviation: z_hat = (z - mu) / sqrt(var + epsilon)",
            lambda: _reference_batchnorm_forward(z, gamma, beta, epsilon, root=False),
        ),
    ]


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
    check_value(
        where,
        out,
        _reference_batchnorm_forward(z, gamma, beta),
        _batchnorm_forward_mistakes(z, gamma, beta),
        rtol=1e-6,
        atol=1e-9,
    )

    where = "batchnorm_forward(z, ones, zeros, epsilon=0.5) on z = [[1, 2], [1, 4]]"
    small, ones, zeros = np.array([[1.0, 2.0], [1.0, 4.0]]), np.ones(2), np.zeros(2)
    result = _pair(
        where, _call(batchnorm_forward, small.copy(), ones.copy(), zeros.copy(), 0.5), ("out", "cache")
    )
    out = as_float_array(where, result[0])
    expect_true(
        where,
        out.shape == (2, 2) and np.all(np.isfinite(out)),
        "got NaN or a wrong shape for a unit whose batch values are all equal (variance 0): epsilon "
        "keeps the division safe",
    )
    check_value(
        where,
        out,
        _reference_batchnorm_forward(small, ones, zeros, 0.5),
        _batchnorm_forward_mistakes(small, ones, zeros, 0.5),
        rtol=1e-6,
        atol=1e-9,
    )
    passed("batchnorm_forward")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: backward, node by node through the computational graph


def _reference_batchnorm_backward_staged(
    dout,
    z,
    gamma,
    epsilon=_EPSILON,
    *,
    sum_dinv=True,
    inverse_sign=-1.0,
    inverse_power=2,
    half=0.5,
    variance_branch=True,
    variance_over_m=True,
    mean_branch=True,
    mean_over_m=True,
):
    """Gradients of training-mode batch norm, backpropagated node by node through the forward pass's graph.

    ```
    forward                                   backward (reverse order)
    1 mu = mean(z)                            dbeta = sum(dout); dgamma = sum(dout * z_hat); dz_hat = gamma * dout
    2 zc = z - mu                             6: dinv = sum(dz_hat * zc); dzc = dz_hat * inv
    3 var = mean(zc ** 2)                     5: dstd = -dinv / std ** 2
    4 std = sqrt(var + epsilon)               4: dvar = 0.5 / std * dstd
    5 inv = 1 / std                           3: dzc += 2 * zc / m * dvar      (zc's second branch)
    6 z_hat = zc * inv                        2: dmu = -sum(dzc)
    7 out = gamma * z_hat + beta              1: dz = dzc + dmu / m            (z's second branch)
    ```

    The keyword arguments after `epsilon` give the known mistakes' variants.

    Args:
        dout: Float array (m, n). The upstream gradient.
        z: Float array (m, n). The forward pass's input.
        gamma: Float array (n,).
        epsilon: Float.
        sum_dinv: Boolean. dinv summed over the batch (a mistake: kept per example).
        inverse_sign, inverse_power: The derivative of 1/std is inverse_sign / std ** inverse_power (mistakes:
            +1, power 1).
        half: Float. The factor of the square root's derivative (a mistake: 1).
        variance_branch, mean_branch: Booleans. Whether dz collects the branch through the variance (node 3)
            and through the mean (node 1).
        variance_over_m, mean_over_m: Booleans. Whether those two local gradients have their 1/m.

    Returns:
        Tuple (dz, dgamma, dbeta) of float arrays (m, n), (n,), (n,).
    """
    m = len(z)
    zc = z - np.mean(z, axis=0)
    std = np.sqrt(np.mean(zc**2, axis=0) + epsilon)
    inv = 1.0 / std
    z_hat = zc * inv
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * z_hat, axis=0)
    dz_hat = dout * gamma
    dinv = np.sum(dz_hat * zc, axis=0) if sum_dinv else dz_hat * zc
    dzc = dz_hat * inv
    dstd = inverse_sign * dinv / std**inverse_power
    dvar = half / std * dstd
    if variance_branch:
        dzc = dzc + 2.0 * zc / (m if variance_over_m else 1) * dvar
    dmu = -np.sum(dzc, axis=0)
    dz = dzc + dmu / (m if mean_over_m else 1) if mean_branch else dzc
    return dz, dgamma, dbeta


def _parameter_gradient_mistakes(dout, z, gamma, output):
    """Known wrong dgamma and dbeta (shared by both backward passes): (message, wrong value) pairs."""
    index = ("dz", "dgamma", "dbeta").index(output)

    def wrong(**variant):
        return lambda: _reference_batchnorm_backward(dout, z, gamma, **variant)[index]

    return {
        "dbeta": [
            (
                "dbeta is the mean of dout over the batch: it is the sum, dout.sum(axis=0)",
                wrong(total=np.mean),
            ),
        ],
        "dgamma": [
            ("dgamma = sum over the batch of dout * z_hat, not of dout * z", wrong(z_hat_in_dgamma=False)),
            ("dgamma is a sum over the batch, not a mean", wrong(total=np.mean)),
        ],
        "dz": [],
    }[output]


def _batchnorm_backward_staged_mistakes(dout, z, gamma, output):
    """Known wrong values of the staged `batchnorm_backward`'s output `output` ("dz", "dgamma" or "dbeta"):
    (message, wrong value) pairs, named by the node of the graph where the mistake happens."""
    if output != "dz":
        return _parameter_gradient_mistakes(dout, z, gamma, output)

    def wrong(**variant):
        return lambda: _reference_batchnorm_backward_staged(dout, z, gamma, **variant)[0]

    return [
        (
            "dz = dz_hat * inv_std stops at node 6: z also reaches the output through mu (node 1) and the "
            "variance (node 3); add the gradients of both branches",
            wrong(variance_branch=False, mean_branch=False),
        ),
        (
            "dz is missing the variance's branch: zc feeds node 6 (z_hat = zc * inv_std) and node 3 "
            "(var = mean(zc ** 2)); dzc is the sum of the gradients from both",
            wrong(variance_branch=False),
        ),
        (
            "dz is missing the mean's branch: z feeds node 2 directly and through mu (node 1); add dmu's share "
            "to every example",
            wrong(mean_branch=False),
        ),
        (
            "dinv_std must be summed over the batch: inv_std is one value per unit, shared by all m examples "
            "(what the forward pass broadcasts, the backward pass sums)",
            wrong(sum_dinv=False),
        ),
        (
            "a factor 1/std is missing in nodes 5 and 4: d(1/std)/d(std) = -1/std**2 and "
            "d sqrt(u)/du = 1/(2 sqrt(u))",
            wrong(inverse_power=1),
        ),
        ("node 5: the derivative of 1/std is negative (-1/std**2)", wrong(inverse_sign=1.0)),
        ("node 4: d sqrt(u)/du = 1/(2 sqrt(u)): the 1/2 is missing", wrong(half=1.0)),
        (
            "node 3 is missing its 1/m: var = mean(zc ** 2) = (1/m) sum(zc ** 2)",
            wrong(variance_over_m=False),
        ),
        (
            "node 1 is missing its 1/m: mu = (1/m) sum(z), so each example gets dmu / m",
            wrong(mean_over_m=False),
        ),
    ]


def _check_backward(where, batchnorm_forward, batchnorm_backward, reference, mistakes):
    """Runs the student's forward then backward on fixed inputs and compares (dz, dgamma, dbeta) with
    `reference(dout, z, gamma)`, naming the mistakes of `mistakes(dout, z, gamma, output)`; returns the inputs."""
    rng = np.random.default_rng(1)
    z = rng.normal(loc=1.0, scale=2.0, size=(6, 3))
    gamma, beta = np.array([1.5, -0.7, 2.0]), np.array([0.2, 0.0, -1.0])
    dout = rng.normal(size=(6, 3))
    _, cache = _pair(where, _call(batchnorm_forward, z.copy(), gamma.copy(), beta.copy()), ("out", "cache"))
    result = _pair(where, _call(batchnorm_backward, dout.copy(), cache), ("dz", "dgamma", "dbeta"))
    values = dict(zip(("dz", "dgamma", "dbeta"), (as_float_array(where, value) for value in result)))
    expected = dict(zip(("dz", "dgamma", "dbeta"), reference(dout, z, gamma)))
    for output in ("dbeta", "dgamma", "dz"):
        expect_shape(f"{where}: {output}", values[output], expected[output].shape)
        check_value(
            f"{where}: {output}",
            values[output],
            expected[output],
            mistakes(dout, z, gamma, output),
            rtol=1e-6,
            atol=1e-9,
        )
    return z, gamma, beta, dout


def check_batchnorm_backward(batchnorm_forward, batchnorm_backward):
    """Checks `batchnorm_backward(dout, cache)` -> (dz, dgamma, dbeta), the staged backward pass, against the
    chain rule through the graph (naming the node of a known mistake) and with `dlkit.gradcheck`."""
    where = "batchnorm_backward(dout, cache) with z, dout of shape (6, 3)"
    z, gamma, beta, dout = _check_backward(
        where,
        batchnorm_forward,
        batchnorm_backward,
        _reference_batchnorm_backward_staged,
        _batchnorm_backward_staged_mistakes,
    )
    report = gradcheck_your_backward(batchnorm_forward, batchnorm_backward, z, gamma, beta, dout)
    expect_true(
        "gradcheck of your batchnorm_backward",
        report.passed,
        f"the gradient check failed (difference {report.difference:.2e} >= {report.threshold:g})",
    )
    passed("batchnorm_backward")


def gradcheck_your_backward(batchnorm_forward, batchnorm_backward, z, gamma, beta, weights, **kwargs):
    """`dlkit.gradcheck` of your backward pass against two-sided differences of your forward pass.

    ```
    J(z, gamma, beta) = sum(weights * batchnorm_forward(z, gamma, beta)[0])
    grad J = batchnorm_backward(weights * upstream, cache)   (cache: your forward's, at the same inputs)
    ```

    All in float64. The cost is your own forward pass (run through `tf.numpy_function`), so the check tells
    whether your backward is the derivative of your forward; the check cells compare both with the formulas.

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

    weights = np.asarray(weights, dtype=np.float64)

    def your_cost(z, gamma, beta):
        with np.errstate(all="ignore"):
            out = batchnorm_forward(np.array(z), np.array(gamma), np.array(beta))[0]
            return np.float64(np.sum(weights * np.asarray(out, dtype=np.float64)))

    @tf.custom_gradient
    def cost(z, gamma, beta):
        loss = tf.reshape(tf.numpy_function(your_cost, [z, gamma, beta], tf.float64, stateful=False), [])

        def grad(upstream):
            with np.errstate(all="ignore"):
                _, cache = batchnorm_forward(z.numpy(), gamma.numpy(), beta.numpy())
                dz, dgamma, dbeta = batchnorm_backward(upstream.numpy() * weights, cache)
            return tuple(
                tf.constant(np.asarray(g, dtype=np.float64).reshape(v.shape))
                for g, v in zip((dz, dgamma, dbeta), (z, gamma, beta))
            )

        return loss, grad

    inputs = [np.asarray(a, dtype=np.float64) for a in (z, gamma, beta)]
    return gradcheck(cost, inputs, names=["z", "gamma", "beta"], **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: running averages and inference


def _reference_update_running_averages(running_mean, running_var, z, momentum, *, ddof=0, blend_std=False):
    """One update of the running statistics, as `keras.layers.BatchNormalization`'s moving ones.

    ```
    running_mean = running_mean * momentum + mean(z, axis=0) * (1 - momentum)
    running_var = running_var * momentum + var(z, axis=0) * (1 - momentum)      (the biased variance)
    ```

    Args:
        running_mean, running_var: Float arrays (n,).
        z: Float array (m, n). The batch.
        momentum: Float in [0, 1].
        ddof: Integer. The variance's delta degrees of freedom (a mistake: 1).
        blend_std: Boolean. Blend the standard deviation instead of the variance (a mistake).

    Returns:
        Tuple (running_mean, running_var) of float arrays (n,).
    """
    spread = np.std(z, axis=0, ddof=ddof) if blend_std else np.var(z, axis=0, ddof=ddof)
    return (
        running_mean * momentum + np.mean(z, axis=0) * (1 - momentum),
        running_var * momentum + spread * (1 - momentum),
    )


def _update_running_averages_mistakes(running_mean, running_var, z, momentum, output):
    """Known wrong values of `update_running_averages`' output `output` ("running_mean" or "running_var"):
    (message, wrong value) pairs."""
    index = ("running_mean", "running_var").index(output)

    def wrong(momentum=momentum, **variant):
        return lambda: _reference_update_running_averages(running_mean, running_var, z, momentum, **variant)[
            index
        ]

    swapped = "momentum is on the wrong side: moving = moving * momentum + batch * (1 - momentum)"
    return {
        "running_mean": [
            (swapped, wrong(1 - momentum)),
            ("you returned the batch mean: blend it into the running mean with the momentum", wrong(0.0)),
        ],
        "running_var": [
            (
                "use the biased batch variance (1/m, np.var's default), as Keras does "
                "(the paper's inference step and PyTorch's running_var use the unbiased m/(m - 1) one)",
                wrong(ddof=1),
            ),
            ("you blended the batch standard deviation: blend the variance", wrong(blend_std=True)),
            (swapped, wrong(1 - momentum)),
        ],
    }[output]


def _reference_batchnorm_inference(
    z, gamma, beta, running_mean, running_var, epsilon=_EPSILON, *, inside=True, root=True
):
    """Inference-mode batch norm: `z` normalized with the given statistics, then scaled and shifted.

    ```
    out = gamma * (z - running_mean) / sqrt(running_var + epsilon) + beta
    ```

    Args:
        z: Float array (m, n).
        gamma, beta, running_mean, running_var: Float arrays broadcastable to (m, n), or numbers.
        epsilon: Float.
        inside: Boolean. epsilon inside the square root (a mistake: sqrt(var) + epsilon).
        root: Boolean. Divide by the square root (a mistake: by var + epsilon itself).

    Returns:
        Float array (m, n).
    """
    if not root:
        scale = running_var + epsilon
    elif inside:
        scale = np.sqrt(running_var + epsilon)
    else:
        scale = np.sqrt(running_var) + epsilon
    return gamma * (z - running_mean) / scale + beta


def _batchnorm_inference_mistakes(z, gamma, beta, running_mean, running_var):
    """Known wrong `batchnorm_inference(z, gamma, beta, running_mean, running_var)` outputs: (message, wrong
    value) pairs."""
    return [
        (
            "you normalized with the batch's own statistics: at inference use the running mean and variance",
            lambda: _reference_batchnorm_inference(z, gamma, beta, np.mean(z, axis=0), np.var(z, axis=0)),
        ),
        (
            "epsilon is outside the square root",
            lambda: _reference_batchnorm_inference(z, gamma, beta, running_mean, running_var, inside=False),
        ),
        (
            "you divided by the variance instead of its square root",
            lambda: _reference_batchnorm_inference(z, gamma, beta, running_mean, running_var, root=False),
        ),
    ]


def check_running_averages(update_running_averages, batchnorm_inference):
    """Checks `update_running_averages` over a few training steps (Keras's moving statistics) and
    `batchnorm_inference` with the running statistics they end with."""
    rng = np.random.default_rng(3)
    batches = [rng.normal(loc=[2.0, -1.0, 0.0], scale=[3.0, 0.5, 1.0], size=(8, 3)) for _ in range(5)]
    momentum = 0.8
    where = f"update_running_averages(mean, var, z, momentum={momentum}) from mean = 0, var = 1"
    mean, var = np.zeros(3), np.ones(3)
    for step, batch in enumerate(batches):
        step_where = where if step == 0 else f"{where}, batch {step + 1} of 5"
        out = _pair(
            step_where,
            _call(update_running_averages, mean.copy(), var.copy(), batch.copy(), momentum),
            ("running_mean", "running_var"),
        )
        expected = dict(
            zip(
                ("running_mean", "running_var"),
                _reference_update_running_averages(mean, var, batch, momentum),
            )
        )
        for output, value in zip(("running_mean", "running_var"), out):
            value = as_float_array(step_where, value)
            expect_shape(f"{step_where}: {output}", value, (3,))
            check_value(
                f"{step_where}: {output}",
                value,
                expected[output],
                _update_running_averages_mistakes(mean, var, batch, momentum, output),
                rtol=1e-6,
                atol=1e-9,
            )
        mean, var = expected["running_mean"], expected["running_var"]

    gamma, beta = np.array([1.5, 0.5, -2.0]), np.array([0.3, -0.1, 1.0])
    z = rng.normal(size=(4, 3))
    where = "batchnorm_inference(z, gamma, beta, running_mean, running_var) with z of shape (4, 3)"
    out = as_float_array(where, _call(batchnorm_inference, z.copy(), gamma, beta, mean.copy(), var.copy()))
    expect_shape(where, out, z.shape)
    check_value(
        where,
        out,
        _reference_batchnorm_inference(z, gamma, beta, mean, var),
        _batchnorm_inference_mistakes(z, gamma, beta, mean, var),
        rtol=1e-6,
        atol=1e-9,
    )
    passed("running_averages")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: a Keras layer


def _reference_my_batch_norm(x, gamma, beta, momentum, *, axis=0, train_with="batch", infer_with="moving"):
    """What a fresh BN layer (moving mean 0, variance 1) gives on `x`: one training call, then inference.

    ```
    training output = _reference_batchnorm_forward(x, gamma, beta)
    moving mean, variance = _reference_update_running_averages(0, 1, x, momentum)
    inference output = _reference_batchnorm_inference(x, gamma, beta, moving mean, moving variance)
    ```

    Args:
        x: Float array (m, n).
        gamma, beta: Float arrays (n,).
        momentum: Float.
        axis: Integer. The training statistics' axis (a mistake: 1).
        train_with, infer_with: Strings, "batch" or "moving": the statistics each mode normalizes with (the
            mistakes swap them).

    Returns:
        Tuple (training output, moving mean, moving variance, inference output).
    """
    n = np.shape(x)[1]
    moving_mean, moving_var = _reference_update_running_averages(np.zeros(n), np.ones(n), x, momentum)

    def normalize(statistics, before):
        if statistics == "batch":
            return _reference_batchnorm_forward(x, gamma, beta, axis=axis)
        return _reference_batchnorm_inference(x, gamma, beta, *before)

    train = normalize(train_with, (np.zeros(n), np.ones(n)))
    infer = normalize(infer_with, (moving_mean, moving_var))
    return train, moving_mean, moving_var, infer


def _my_batch_norm_mistakes(x, gamma, beta, momentum, output):
    """Known wrong values of the layer's output `output` ("train", "moving_mean" or "infer"): (message, wrong
    value) pairs."""
    index = ("train", "moving_mean", "moving_var", "infer").index(output)

    def wrong(momentum=momentum, **variant):
        return lambda: _reference_my_batch_norm(x, gamma, beta, momentum, **variant)[index]

    return {
        "train": [
            (
                "in training mode normalize with the batch's mean and variance, not the moving averages",
                wrong(train_with="moving"),
            ),
            (
                "you normalized each example over its features: batch norm averages over axis 0",
                wrong(axis=1),
            ),
        ],
        "moving_mean": [
            (
                "momentum is on the wrong side: moving = moving * momentum + batch * (1 - momentum)",
                wrong(1 - momentum),
            ),
        ],
        "moving_var": [],
        "infer": [
            (
                "at inference (training=None or False) normalize with the moving averages, not the batch statistics",
                wrong(infer_with="batch"),
            ),
        ],
    }[output]


def check_my_batch_norm(layer_class):
    """Checks a Keras BN layer class: weights, training-mode output and moving-average update, inference output."""
    import keras

    momentum = 0.8
    where = f"MyBatchNorm(momentum={momentum})"
    layer = layer_class(momentum=momentum)
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
    x64 = x.astype(float)
    expected = dict(
        zip(
            ("train", "moving_mean", "moving_var", "infer"),
            _reference_my_batch_norm(x64, gamma, beta, momentum),
        )
    )

    def compare(where, output, value, atol):
        check_value(
            where,
            value,
            expected[output],
            _my_batch_norm_mistakes(x64, gamma, beta, momentum, output),
            rtol=1e-4,
            atol=atol,
        )

    where_train = f"{where}(x, training=True) on x of shape (16, 4)"
    out = as_float_array(where_train, keras.ops.convert_to_numpy(layer(x, training=True)))
    expect_shape(where_train, out, x.shape)
    compare(where_train, "train", out, 1e-4)
    moving_mean = keras.ops.convert_to_numpy(layer.moving_mean).astype(float)
    moving_var = keras.ops.convert_to_numpy(layer.moving_variance).astype(float)
    expect_true(
        where_train,
        not np.allclose(moving_mean, 0.0) or not np.allclose(moving_var, 1.0),
        "the moving statistics did not change: update them in training mode with "
        "self.moving_mean.assign(...)",
    )
    compare(f"{where_train}: moving_mean after one step", "moving_mean", moving_mean, 1e-5)
    compare(f"{where_train}: moving_variance after one step", "moving_var", moving_var, 1e-5)

    where_infer = f"{where}(x) after that step (training=None: inference)"
    before = (moving_mean.copy(), moving_var.copy())
    for training in (None, False):
        out = as_float_array(where_infer, keras.ops.convert_to_numpy(layer(x, training=training)))
        expect_shape(where_infer, out, x.shape)
        compare(where_infer, "infer", out, 1e-4)
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


# ---------------------------------------------------------------------------------------------------------------
# Exercise 5: the simplified backward pass


def _reference_batchnorm_backward(
    dout,
    z,
    gamma,
    epsilon=_EPSILON,
    *,
    total=np.sum,
    z_hat_in_dgamma=True,
    mean_term=True,
    variance_term=True,
    sign=-1.0,
    over_m=True,
):
    """Gradients of training-mode batch norm, by the simplified (one-line) formula.

    ```
    z_hat = (z - mu) / sqrt(var + epsilon)       (= _reference_batchnorm_forward(z, 1, 0, epsilon))
    dbeta = sum(dout, axis=0); dgamma = sum(dout * z_hat, axis=0)
    dz = gamma / (m * sqrt(var + epsilon)) * (m * dout - dbeta - z_hat * dgamma)
    ```

    The keyword arguments after `epsilon` give the known mistakes' variants.

    Args:
        dout: Float array (m, n). The upstream gradient.
        z: Float array (m, n). The forward pass's input.
        gamma: Float array (n,).
        epsilon: Float.
        total: Callable. The reduction over the batch (a mistake: `np.mean`).
        z_hat_in_dgamma: Boolean. dgamma sums dout * z_hat (a mistake: dout * z).
        mean_term, variance_term: Booleans. Whether dz subtracts sum(dout) (the mean's term) and
            z_hat * sum(dout * z_hat) (the variance's term).
        sign: Float. The sign of those two terms (a mistake: +1).
        over_m: Boolean. Whether dz has the factor 1/m.

    Returns:
        Tuple (dz, dgamma, dbeta) of float arrays (m, n), (n,), (n,).
    """
    m = len(z)
    inv_std = 1.0 / np.sqrt(np.var(z, axis=0) + epsilon)
    z_hat = _reference_batchnorm_forward(z, 1.0, 0.0, epsilon)
    dbeta = total(dout, axis=0)
    dgamma = total(dout * (z_hat if z_hat_in_dgamma else z), axis=0)
    terms = m * dout + sign * (mean_term * dbeta + variance_term * z_hat * dgamma)
    dz = gamma * inv_std * terms / (m if over_m else 1)
    return dz, dgamma, dbeta


def _batchnorm_backward_alt_mistakes(dout, z, gamma, output):
    """Known wrong values of `batchnorm_backward_alt`'s output `output` ("dz", "dgamma" or "dbeta"): (message, wrong
    value) pairs."""
    if output != "dz":
        return _parameter_gradient_mistakes(dout, z, gamma, output)

    def wrong(gamma=gamma, **variant):
        return lambda: _reference_batchnorm_backward(dout, z, gamma, **variant)[0]

    return [
        (
            "dz = gamma * dout / sqrt(var + eps) treats mu and var as constants: the formula has two sums over "
            "the batch, one through mu and one through var",
            wrong(mean_term=False, variance_term=False),
        ),
        (
            "dz is off by a factor m: d mu / dz_i and d var / dz_i each bring a 1/m",
            wrong(over_m=False),
        ),
        ("dz is missing the factor gamma", wrong(gamma=np.ones_like(gamma))),
        (
            "dz has only the mean's term: also subtract z_hat * sum(dout * z_hat) (the variance's term)",
            wrong(variance_term=False),
        ),
        (
            "dz has only the variance's term: also subtract sum(dout) (the mean's term)",
            wrong(mean_term=False),
        ),
        ("a sign is flipped in dz: the two sums are subtracted from m * dout", wrong(sign=1.0)),
    ]


def check_batchnorm_backward_alt(batchnorm_forward, batchnorm_backward_alt):
    """Checks `batchnorm_backward_alt(dout, cache)` -> (dz, dgamma, dbeta), the simplified backward pass, against
    the one-line formula (the same gradients as the staged pass), naming the usual mistakes of its terms."""
    where = "batchnorm_backward_alt(dout, cache) with z, dout of shape (6, 3)"
    code = getattr(batchnorm_backward_alt, "__code__", None)
    names = getattr(code, "co_names", ()) + getattr(code, "co_freevars", ())  # globals, and a closure's names
    expect_true(
        where,
        "batchnorm_backward" not in names,
        "your batchnorm_backward_alt calls batchnorm_backward: derive the formula and compute dz directly",
    )
    _check_backward(
        where,
        batchnorm_forward,
        batchnorm_backward_alt,
        _reference_batchnorm_backward,
        _batchnorm_backward_alt_mistakes,
    )
    passed("batchnorm_backward_alt")
