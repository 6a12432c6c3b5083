"""Lab 07's visible checks accept a correct batch norm written here and name the usual mistakes."""

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
    out = capsys.readouterr().out
    for name in ("batchnorm_forward", "batchnorm_backward", "running_averages", "my_batch_norm"):
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
        (_scaled_dz, "missing the 1/m"),
        (_mean_dbeta, "it is the sum"),
        (_dgamma_z, "dout \\* z_hat"),
        (_tiny_error, "values differ"),
    ],
)
def test_backward_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_batchnorm_backward(forward, wrong)


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
