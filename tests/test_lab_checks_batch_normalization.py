"""Lab 07's visible checks accept a correct batch norm written here and name the usual mistakes."""

import re

import keras
import numpy as np
import pytest

from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import batch_normalization as checks

EPS = 1e-3

# ---------------------------------------------------------------------------------------------------------------
# A correct reference solution, written independently of dlkit.lab_checks.batch_normalization.


def forward(z, gamma, beta, epsilon=EPS):
    mu = np.mean(z, axis=0)
    sigma2 = np.mean((z - mu) ** 2, axis=0)
    z_norm = (z - mu) / np.sqrt(sigma2 + epsilon)
    return gamma * z_norm + beta, {"z": z, "gamma": gamma, "epsilon": epsilon}


def backward(dout, cache):
    # The long chain rule through mu and sigma^2 (not the compact formula the checks use).
    z, gamma, epsilon = cache["z"], cache["gamma"], cache["epsilon"]
    m = z.shape[0]
    mu = z.mean(axis=0)
    sigma2 = ((z - mu) ** 2).mean(axis=0)
    std = np.sqrt(sigma2 + epsilon)
    z_norm = (z - mu) / std
    dz_norm = dout * gamma
    dsigma2 = np.sum(dz_norm * (z - mu), axis=0) * -0.5 * std**-3
    dmu = -np.sum(dz_norm, axis=0) / std + dsigma2 * np.mean(-2.0 * (z - mu), axis=0)
    dz = dz_norm / std + dsigma2 * 2.0 * (z - mu) / m + dmu / m
    return dz, np.sum(dout * z_norm, axis=0), np.sum(dout, axis=0)


def backward_alt(dout, cache):
    # The simplified formula: dz_i = gamma / (m sigma) * (m dout_i - sum_j dout_j - z_hat_i sum_j dout_j z_hat_j).
    z, gamma, epsilon = cache["z"], cache["gamma"], cache["epsilon"]
    m = z.shape[0]
    sigma = np.sqrt(((z - z.mean(axis=0)) ** 2).mean(axis=0) + epsilon)
    z_norm = (z - z.mean(axis=0)) / sigma
    sum_dout, sum_dout_z = dout.sum(axis=0), (dout * z_norm).sum(axis=0)
    return gamma / (m * sigma) * (m * dout - sum_dout - z_norm * sum_dout_z), sum_dout_z, sum_dout


def update(running_mean, running_var, z, momentum=0.99):
    return momentum * running_mean + (1 - momentum) * z.mean(0), momentum * running_var + (
        1 - momentum
    ) * z.var(0)


def inference(z, gamma, beta, running_mean, running_var, epsilon=EPS):
    return gamma * (z - running_mean) / np.sqrt(running_var + epsilon) + beta


class GoodBatchNorm(keras.layers.Layer):
    def __init__(self, momentum=0.99, epsilon=EPS, **kwargs):
        super().__init__(**kwargs)
        self.momentum, self.epsilon = momentum, epsilon
        self.mistake = None

    def build(self, input_shape):
        n = input_shape[-1]
        self.gamma = self.add_weight(shape=(n,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(n,), initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(
            shape=(n,), initializer="zeros", trainable=False, name="moving_mean"
        )
        self.moving_variance = self.add_weight(
            shape=(n,), initializer="ones", trainable=False, name="moving_var"
        )

    def call(self, inputs, training=None):
        use_batch = training if self.mistake != "always_batch" else True
        if self.mistake == "never_batch":
            use_batch = False
        if use_batch:
            mean, variance = keras.ops.mean(inputs, axis=0), keras.ops.var(inputs, axis=0)
            if self.mistake != "no_update":
                k = self.momentum if self.mistake != "swapped" else 1.0 - self.momentum
                self.moving_mean.assign(self.moving_mean * k + mean * (1.0 - k))
                self.moving_variance.assign(self.moving_variance * k + variance * (1.0 - k))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        return self.gamma * (inputs - mean) / keras.ops.sqrt(variance + self.epsilon) + self.beta

    def compute_output_shape(self, input_shape):
        return input_shape


def layer_with(mistake):
    class Broken(GoodBatchNorm):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.mistake = mistake

    return Broken


# ---------------------------------------------------------------------------------------------------------------


def test_correct_solution_passes(capsys):
    checks.check_batchnorm_forward(forward)
    checks.check_batchnorm_backward(forward, backward)
    checks.check_running_averages(update, inference)
    checks.check_my_batch_norm(GoodBatchNorm)
    checks.check_batchnorm_backward_alt(forward, backward_alt)
    checks.check_batchnorm_backward(forward, backward_alt)  # the two passes compute the same gradients
    checks.check_batchnorm_backward_alt(forward, backward)
    out = capsys.readouterr().out
    for name in (
        "batchnorm_forward",
        "batchnorm_backward",
        "running_averages",
        "my_batch_norm",
        "batchnorm_backward_alt",
    ):
        assert f"{name}: all tests passed." in out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda z, g, b, e=EPS: (
                g * (z - z.mean(1, keepdims=True)) / np.sqrt(z.var(1, keepdims=True) + e) + b,
                None,
            ),
            "axis=0",
        ),
        (lambda z, g, b, e=EPS: (g * (z - z.mean(0)) / np.sqrt(z.var(0, ddof=1) + e) + b, None), "unbiased"),
        (
            lambda z, g, b, e=EPS: (g * (z - z.mean(0)) / (np.sqrt(z.var(0)) + e) + b, None),
            "outside the square root",
        ),
        (lambda z, g, b, e=EPS: (b * (z - z.mean(0)) / np.sqrt(z.var(0) + e) + g, None), "swapped"),
        (lambda z, g, b, e=EPS: ((z - z.mean(0)) / np.sqrt(z.var(0) + e), None), "without applying gamma"),
        (
            lambda z, g, b, e=EPS: (g * (z - z.mean(0)) / np.sqrt(z.var(0) + EPS) + b, None),
            "ignored the `epsilon`",
        ),
        (lambda z, g, b, e=EPS: g * (z - z.mean(0)) / np.sqrt(z.var(0) + e) + b, "tuple \\(out, cache\\)"),
    ],
)
def test_forward_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_batchnorm_forward(wrong)


def _naive_backward(dout, cache):
    dz, dgamma, dbeta = backward(dout, cache)
    std = np.sqrt(cache["z"].var(0) + cache["epsilon"])
    return cache["gamma"] * dout / std, dgamma, dbeta


def _scaled_dz(dout, cache):
    dz, dgamma, dbeta = backward(dout, cache)
    return dz * len(dout), dgamma, dbeta


def _mean_dbeta(dout, cache):
    dz, dgamma, _ = backward(dout, cache)
    return dz, dgamma, dout.mean(axis=0)


def _dgamma_z(dout, cache):
    dz, _, dbeta = backward(dout, cache)
    return dz, (dout * cache["z"]).sum(axis=0), dbeta


def _tiny_error(dout, cache):
    dz, dgamma, dbeta = backward(dout, cache)
    return dz * 1.001, dgamma, dbeta


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_naive_backward, "treats mu and var as constants"),
        (_scaled_dz, "off by a factor m"),
        (_mean_dbeta, "it is the sum"),
        (_dgamma_z, "dout \\* z_hat"),
        (_tiny_error, "values differ"),
    ],
)
def test_backward_alt_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_batchnorm_backward_alt(forward, wrong)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_naive_backward, "stops at node 6"),
        (_mean_dbeta, "it is the sum"),
        (_tiny_error, "values differ"),
    ],
)
def test_backward_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_batchnorm_backward(forward, wrong)


def test_backward_alt_must_not_call_the_staged_pass():
    def batchnorm_backward(dout, cache):
        return backward(dout, cache)

    def batchnorm_backward_alt(dout, cache):
        return batchnorm_backward(dout, cache)

    with pytest.raises(ExerciseCheckError, match=re.escape("calls batchnorm_backward: derive the formula")):
        checks.check_batchnorm_backward_alt(forward, batchnorm_backward_alt)


def test_gradcheck_helper_flags_a_wrong_gradient():
    rng = np.random.default_rng(0)
    z, dout = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    assert checks.gradcheck_your_backward(forward, backward, z, gamma, beta, dout).passed
    report = checks.gradcheck_your_backward(forward, _naive_backward, z, gamma, beta, dout)
    assert not report.passed and report.difference > 1e-3


@pytest.mark.parametrize(
    "wrong_update, message",
    [
        (lambda rm, rv, z, k=0.99: ((1 - k) * rm + k * z.mean(0), (1 - k) * rv + k * z.var(0)), "wrong side"),
        (lambda rm, rv, z, k=0.99: (z.mean(0), z.var(0)), "returned the batch mean"),
        (
            lambda rm, rv, z, k=0.99: (k * rm + (1 - k) * z.mean(0), k * rv + (1 - k) * z.var(0, ddof=1)),
            "biased",
        ),
        (
            lambda rm, rv, z, k=0.99: (k * rm + (1 - k) * z.mean(0), k * rv + (1 - k) * z.std(0)),
            "standard deviation",
        ),
    ],
)
def test_running_average_mistakes(wrong_update, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_running_averages(wrong_update, inference)


@pytest.mark.parametrize(
    "wrong_inference, message",
    [
        (lambda z, g, b, rm, rv, e=EPS: forward(z, g, b, e)[0], "batch's own statistics"),
        (lambda z, g, b, rm, rv, e=EPS: g * (z - rm) / (rv + e) + b, "instead of its square root"),
        (lambda z, g, b, rm, rv, e=EPS: g * (z - rm) / np.sqrt(rv + e) - b, "values differ"),
    ],
)
def test_inference_mistakes(wrong_inference, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_running_averages(update, wrong_inference)


@pytest.mark.parametrize(
    "mistake, message",
    [
        ("always_batch", "normalize with the moving averages"),
        ("never_batch", "not the moving averages"),
        ("no_update", "did not change"),
        ("swapped", "wrong side"),
    ],
)
def test_keras_layer_mistakes(mistake, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_my_batch_norm(layer_with(mistake))


# ---------------------------------------------------------------------------------------------------------------
# Each known mistake, written here as the wrong solution a student would write, is named by its full message.


def _forward_with(out):
    return lambda z, g, b, e=EPS: (out(z, g, b, e), None)


FORWARD_MISTAKES = [
    (
        _forward_with(
            lambda z, g, b, e: g * (z - z.mean(1, keepdims=True)) / np.sqrt(z.var(1, keepdims=True) + e) + b
        ),
        "you normalized each example (row) over its units: batch norm averages over the batch, axis=0",
    ),
    (
        _forward_with(lambda z, g, b, e: g * (z - z.mean(0)) / np.sqrt(z.var(0, ddof=1) + e) + b),
        "you used the unbiased variance (ddof=1, divides by m - 1): batch norm uses (1/m) * sum (z - mu)^2, "
        "np.var's default",
    ),
    (
        _forward_with(lambda z, g, b, e: g * (z - z.mean(0)) / (np.sqrt(z.var(0)) + e) + b),
        "epsilon is outside the square root: divide by np.sqrt(var + epsilon)",
    ),
    (
        _forward_with(lambda z, g, b, e: g * (z - z.mean(0)) / np.sqrt(z.var(0)) + b),
        "you forgot epsilon: divide by np.sqrt(var + epsilon)",
    ),
    (
        _forward_with(lambda z, g, b, e: b * (z - z.mean(0)) / np.sqrt(z.var(0) + e) + g),
        "gamma and beta are swapped: out = gamma * z_hat + beta",
    ),
    (
        _forward_with(lambda z, g, b, e: (z - z.mean(0)) / np.sqrt(z.var(0) + e)),
        "you returned z_hat without applying gamma and beta: out = gamma * z_hat + beta",
    ),
    (
        _forward_with(lambda z, g, b, e: g * (z - z.mean(0)) / (z.var(0) + e) + b),
        "you divided by the variance instead of the standard deviation: z_hat = (z - mu) / sqrt(var + epsilon)",
    ),
    (
        _forward_with(lambda z, g, b, e: g * (z - z.mean(0)) / np.sqrt(z.var(0) + EPS) + b),
        "you ignored the `epsilon` argument (used a fixed value)",
    ),
]


@pytest.mark.parametrize("wrong, message", FORWARD_MISTAKES)
def test_each_forward_mistake_is_named(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_batchnorm_forward(wrong)


def test_forward_in_place_and_zero_variance():
    def in_place(z, g, b, e=EPS):
        out, cache = forward(z.copy(), g, b, e)
        z -= z.mean(0)
        return out, cache

    with pytest.raises(ExerciseCheckError, match="changed `z` in place"):
        checks.check_batchnorm_forward(in_place)

    def unsafe(z, g, b, e=EPS):  # right, except NaN where a unit's variance is 0
        out, cache = forward(z, g, b, e)
        return np.where(z.var(0) > 0, out, np.nan), cache

    with pytest.raises(ExerciseCheckError, match=re.escape("epsilon keeps the division safe")):
        checks.check_batchnorm_forward(unsafe)


def _backward_with(**changes):
    """`backward` with some of its outputs replaced: changes maps 'dz', 'dgamma', 'dbeta' to f(dout, z, gamma, ...)."""

    def wrong(dout, cache):
        z, gamma, epsilon = cache["z"], cache["gamma"], cache["epsilon"]
        m = len(z)
        inv_std = 1.0 / np.sqrt(z.var(0) + epsilon)
        z_hat = (z - z.mean(0)) * inv_std
        outputs = dict(zip(("dz", "dgamma", "dbeta"), backward(dout, cache)))
        for name, change in changes.items():
            outputs[name] = change(dout, z, gamma, m, inv_std, z_hat)
        return outputs["dz"], outputs["dgamma"], outputs["dbeta"]

    return wrong


ALT_MISTAKES = [
    (
        _backward_with(dbeta=lambda dout, z, g, m, s, zh: dout.mean(0)),
        "dbeta is the mean of dout over the batch: it is the sum, dout.sum(axis=0)",
    ),
    (
        _backward_with(dgamma=lambda dout, z, g, m, s, zh: (dout * z).sum(0)),
        "dgamma = sum over the batch of dout * z_hat, not of dout * z",
    ),
    (
        _backward_with(dgamma=lambda dout, z, g, m, s, zh: (dout * zh).mean(0)),
        "dgamma is a sum over the batch, not a mean",
    ),
    (
        _backward_with(dz=lambda dout, z, g, m, s, zh: g * s * dout),
        "dz = gamma * dout / sqrt(var + eps) treats mu and var as constants: the formula has two sums over "
        "the batch, one through mu and one through var",
    ),
    (
        _backward_with(
            dz=lambda dout, z, g, m, s, zh: g * s * (m * dout - dout.sum(0) - zh * (dout * zh).sum(0))
        ),
        "dz is off by a factor m: d mu / dz_i and d var / dz_i each bring a 1/m",
    ),
    (
        _backward_with(
            dz=lambda dout, z, g, m, s, zh: s / m * (m * dout - dout.sum(0) - zh * (dout * zh).sum(0))
        ),
        "dz is missing the factor gamma",
    ),
    (
        _backward_with(dz=lambda dout, z, g, m, s, zh: g * s / m * (m * dout - dout.sum(0))),
        "dz has only the mean's term: also subtract z_hat * sum(dout * z_hat) (the variance's term)",
    ),
    (
        _backward_with(dz=lambda dout, z, g, m, s, zh: g * s / m * (m * dout - zh * (dout * zh).sum(0))),
        "dz has only the variance's term: also subtract sum(dout) (the mean's term)",
    ),
    (
        _backward_with(
            dz=lambda dout, z, g, m, s, zh: g * s / m * (m * dout + dout.sum(0) + zh * (dout * zh).sum(0))
        ),
        "a sign is flipped in dz: the two sums are subtracted from m * dout",
    ),
]


@pytest.mark.parametrize("wrong, message", ALT_MISTAKES)
def test_each_backward_alt_mistake_is_named(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_batchnorm_backward_alt(forward, wrong)


def _staged_with(
    sum_dinv=True,
    dinv_to_dstd=lambda dinv, std: -dinv / std**2,
    dstd_to_dvar=lambda dstd, std: 0.5 / std * dstd,
    variance_branch=True,
    variance_scale=None,
    mean_branch=True,
    mean_scale=None,
):
    """A staged backward written out node by node (cs231n's graph), with one node changed."""

    def staged(dout, cache):
        z, gamma, epsilon = cache["z"], cache["gamma"], cache["epsilon"]
        m = z.shape[0]
        mu = z.sum(axis=0) / m
        zc = z - mu
        var = (zc**2).sum(axis=0) / m
        std = np.sqrt(var + epsilon)
        inv = 1.0 / std
        z_hat = zc * inv
        dbeta, dgamma, dz_hat = dout.sum(axis=0), (dout * z_hat).sum(axis=0), dout * gamma
        dinv = (dz_hat * zc).sum(axis=0) if sum_dinv else dz_hat * zc
        dzc = dz_hat * inv
        dvar = dstd_to_dvar(dinv_to_dstd(dinv, std), std)
        if variance_branch:
            dzc = dzc + 2.0 * zc * dvar * (1.0 / m if variance_scale is None else variance_scale)
        dmu = -dzc.sum(axis=0)
        dz = dzc + dmu * (1.0 / m if mean_scale is None else mean_scale) if mean_branch else dzc
        return dz, dgamma, dbeta

    return staged


def test_the_staged_helper_is_right():
    checks.check_batchnorm_backward(forward, _staged_with())


STAGED_MISTAKES = [
    (
        _staged_with(variance_branch=False, mean_branch=False),
        "dz = dz_hat * inv_std stops at node 6: z also reaches the output through mu (node 1) and the "
        "variance (node 3); add the gradients of both branches",
    ),
    (
        _staged_with(variance_branch=False),
        "dz is missing the variance's branch: zc feeds node 6 (z_hat = zc * inv_std) and node 3 "
        "(var = mean(zc ** 2)); dzc is the sum of the gradients from both",
    ),
    (
        _staged_with(mean_branch=False),
        "dz is missing the mean's branch: z feeds node 2 directly and through mu (node 1); add dmu's share "
        "to every example",
    ),
    (
        _staged_with(sum_dinv=False),
        "dinv_std must be summed over the batch: inv_std is one value per unit, shared by all m examples "
        "(what the forward pass broadcasts, the backward pass sums)",
    ),
    (
        _staged_with(dinv_to_dstd=lambda dinv, std: -dinv / std),
        "a factor 1/std is missing in nodes 5 and 4: d(1/std)/d(std) = -1/std**2 and d sqrt(u)/du = 1/(2 sqrt(u))",
    ),
    (
        _staged_with(dstd_to_dvar=lambda dstd, std: 0.5 * dstd),
        "a factor 1/std is missing in nodes 5 and 4: d(1/std)/d(std) = -1/std**2 and d sqrt(u)/du = 1/(2 sqrt(u))",
    ),
    (
        _staged_with(dinv_to_dstd=lambda dinv, std: dinv / std**2),
        "node 5: the derivative of 1/std is negative (-1/std**2)",
    ),
    (
        _staged_with(dstd_to_dvar=lambda dstd, std: dstd / std),
        "node 4: d sqrt(u)/du = 1/(2 sqrt(u)): the 1/2 is missing",
    ),
    (
        _staged_with(variance_scale=1.0),
        "node 3 is missing its 1/m: var = mean(zc ** 2) = (1/m) sum(zc ** 2)",
    ),
    (
        _staged_with(mean_scale=1.0),
        "node 1 is missing its 1/m: mu = (1/m) sum(z), so each example gets dmu / m",
    ),
] + [
    (wrong, message)
    for wrong, message in ALT_MISTAKES
    if message.startswith(("dbeta", "dgamma"))  # the parameters' gradients: shared by both passes
]


@pytest.mark.parametrize("wrong, message", STAGED_MISTAKES)
def test_each_staged_backward_mistake_is_named(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_batchnorm_backward(forward, wrong)


def test_gradcheck_helper_differentiates_the_callers_forward():
    rng = np.random.default_rng(5)
    z, weights = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    gamma, beta = rng.normal(size=2), rng.normal(size=2)

    def doubled_forward(z, gamma, beta, epsilon=EPS):
        out, cache = forward(z, gamma, beta, epsilon)
        return 2.0 * out, cache

    def doubled_backward(dout, cache):
        return backward(2.0 * dout, cache)

    report = checks.gradcheck_your_backward(doubled_forward, doubled_backward, z, gamma, beta, weights)
    assert report.passed
    assert report.cost == pytest.approx(
        float(np.sum(weights * doubled_forward(z, gamma, beta)[0])), rel=1e-12
    )
    assert not checks.gradcheck_your_backward(forward, doubled_backward, z, gamma, beta, weights).passed


RUNNING_MISTAKES = [
    (
        lambda rm, rv, z, k=0.99: ((1 - k) * rm + k * z.mean(0), (1 - k) * rv + k * z.var(0)),
        "momentum is on the wrong side: moving = moving * momentum + batch * (1 - momentum)",
    ),
    (
        lambda rm, rv, z, k=0.99: (k * rm + (1 - k) * z.mean(0), (1 - k) * rv + k * z.var(0)),
        "momentum is on the wrong side: moving = moving * momentum + batch * (1 - momentum)",
    ),
    (
        lambda rm, rv, z, k=0.99: (z.mean(0), z.var(0)),
        "you returned the batch mean: blend it into the running mean with the momentum",
    ),
    (
        lambda rm, rv, z, k=0.99: (k * rm + (1 - k) * z.mean(0), k * rv + (1 - k) * z.var(0, ddof=1)),
        "use the biased batch variance (1/m, np.var's default), as Keras does "
        "(the paper's inference step and PyTorch's running_var use the unbiased m/(m - 1) one)",
    ),
    (
        lambda rm, rv, z, k=0.99: (k * rm + (1 - k) * z.mean(0), k * rv + (1 - k) * z.std(0)),
        "you blended the batch standard deviation: blend the variance",
    ),
]


@pytest.mark.parametrize("wrong_update, message", RUNNING_MISTAKES)
def test_each_running_average_mistake_is_named(wrong_update, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_running_averages(wrong_update, inference)


INFERENCE_MISTAKES = [
    (
        lambda z, g, b, rm, rv, e=EPS: forward(z, g, b, e)[0],
        "you normalized with the batch's own statistics: at inference use the running mean and variance",
    ),
    (
        lambda z, g, b, rm, rv, e=EPS: g * (z - rm) / (np.sqrt(rv) + e) + b,
        "epsilon is outside the square root",
    ),
    (
        lambda z, g, b, rm, rv, e=EPS: g * (z - rm) / (rv + e) + b,
        "you divided by the variance instead of its square root",
    ),
]


@pytest.mark.parametrize("wrong_inference, message", INFERENCE_MISTAKES)
def test_each_inference_mistake_is_named(wrong_inference, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_running_averages(update, wrong_inference)


def test_this_files_running_averages_are_keras_moving_statistics():
    # The check's reference is a NumPy formula; the lab says it is Keras's: this file's `update` and `inference`
    # (which the check accepts) must agree with keras.layers.BatchNormalization.
    rng = np.random.default_rng(6)
    layer = keras.layers.BatchNormalization(momentum=0.8, epsilon=EPS)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(4):
        batch = rng.normal(loc=2.0, scale=3.0, size=(8, 3))
        layer(batch.astype("float32"), training=True)
        mean, var = update(mean, var, batch, 0.8)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.moving_mean), mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.moving_variance), var, rtol=1e-5, atol=1e-5)
    z = rng.normal(size=(4, 3))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(z.astype("float32"), training=False)),
        inference(z, np.ones(3), np.zeros(3), mean, var),
        rtol=1e-4,
        atol=1e-5,
    )


class _RowNormalizing(GoodBatchNorm):
    def call(self, inputs, training=None):
        if not training:
            return super().call(inputs, training)
        mean = keras.ops.mean(inputs, axis=1, keepdims=True)
        variance = keras.ops.var(inputs, axis=1, keepdims=True)
        self.moving_mean.assign(
            self.moving_mean * self.momentum + keras.ops.mean(inputs, 0) * (1 - self.momentum)
        )
        self.moving_variance.assign(
            self.moving_variance * self.momentum + keras.ops.var(inputs, 0) * (1 - self.momentum)
        )
        return self.gamma * (inputs - mean) / keras.ops.sqrt(variance + self.epsilon) + self.beta


@pytest.mark.parametrize(
    "layer_class, message",
    [
        (
            layer_with("always_batch"),
            "at inference (training=None or False) normalize with the moving averages, not the batch statistics",
        ),
        (
            layer_with("never_batch"),
            "in training mode normalize with the batch's mean and variance, not the moving averages",
        ),
        (
            layer_with("no_update"),
            "the moving statistics did not change: update them in training mode with self.moving_mean.assign(...)",
        ),
        (
            layer_with("swapped"),
            "momentum is on the wrong side: moving = moving * momentum + batch * (1 - momentum)",
        ),
        (_RowNormalizing, "you normalized each example over its features: batch norm averages over axis 0"),
    ],
)
def test_each_keras_layer_mistake_is_named(layer_class, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_my_batch_norm(layer_class)
