"""dlkit.losses against Keras's cross-entropies, NumPy formulas, autodiff and float64 finite differences."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlkit import gradcheck
from dlkit.losses import SoftmaxCrossEntropy, softmax_cross_entropy


def _data(m=6, k=4, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3.0, size=(m, k))
    labels = rng.integers(0, k, size=m)
    return logits, labels, np.eye(k)[labels]


def _numpy_loss(logits, one_hot):
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return -(one_hot * log_probs).sum(-1)


def test_loss_values_match_numpy_and_keras():
    logits, labels, one_hot = _data()
    z = logits.astype("float32")
    ours = SoftmaxCrossEntropy()(one_hot, z)
    np.testing.assert_allclose(ours, _numpy_loss(logits, one_hot).mean(), rtol=1e-5)
    ref = keras.losses.CategoricalCrossentropy(from_logits=True)(one_hot, z)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
    sparse = SoftmaxCrossEntropy(sparse=True)(labels, z)
    np.testing.assert_allclose(
        sparse, keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z), rtol=1e-5
    )
    np.testing.assert_allclose(SoftmaxCrossEntropy(sparse=True)(labels[:, None], z), sparse, rtol=1e-6)
    np.testing.assert_allclose(softmax_cross_entropy(one_hot, z), _numpy_loss(logits, one_hot), rtol=1e-5)


def test_loss_is_stable_for_large_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 2000.0, 0.0]], "float32")
    one_hot = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], "float32")
    loss = softmax_cross_entropy(one_hot, logits).numpy()
    np.testing.assert_allclose(loss, [1000.0, 0.0], atol=1e-3)
    with tf.GradientTape() as tape:
        z = tf.constant(logits)
        tape.watch(z)
        value = SoftmaxCrossEntropy()(one_hot, z)
    # mean of [1000, 0]; gradient (softmax - y) / m with softmax rows [1, 0, 0] and [0, 1, 0].
    assert float(value) == pytest.approx(500.0, rel=1e-6)
    np.testing.assert_allclose(
        tape.gradient(value, z).numpy(), [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-6
    )


def _grad(loss_fn, logits, labels):
    z = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(z)
        value = loss_fn(labels, z)
    return tape.gradient(value, z).numpy()


def _numeric_grad(logits, one_hot, h=1e-6):
    grad = np.zeros_like(logits)
    for pos in np.ndindex(logits.shape):
        plus, minus = logits.copy(), logits.copy()
        plus[pos] += h
        minus[pos] -= h
        grad[pos] = (_numpy_loss(plus, one_hot).mean() - _numpy_loss(minus, one_hot).mean()) / (2 * h)
    return grad


@pytest.mark.parametrize("sparse", [False, True])
def test_gradient_is_y_hat_minus_y_over_m(sparse):
    logits, labels, one_hot = _data(m=5, k=3)
    y_hat = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected = (y_hat - one_hot) / len(logits)
    targets = labels if sparse else one_hot
    # float64 through the function: exact to rounding.
    grad = _grad(lambda y, z: tf.reduce_mean(softmax_cross_entropy(y, z, sparse=sparse)), logits, targets)
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad, _numeric_grad(logits, one_hot), rtol=1e-6, atol=1e-9)
    # The Keras loss object computes in float32 (floatx); compare with Keras's autodiff gradient.
    grad32 = _grad(SoftmaxCrossEntropy(sparse=sparse), logits.astype("float32"), targets)
    np.testing.assert_allclose(grad32, expected, rtol=1e-5, atol=1e-7)
    autodiff = _grad(
        keras.losses.CategoricalCrossentropy(from_logits=True), logits.astype("float32"), one_hot
    )
    np.testing.assert_allclose(grad32, autodiff, rtol=1e-5, atol=1e-7)


def test_gradient_respects_sample_weights():
    logits, _, one_hot = _data(m=4, k=3)
    weights = np.array([1.0, 0.0, 2.0, 0.5])
    z = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(z)
        value = SoftmaxCrossEntropy()(one_hot, z, sample_weight=weights)
    y_hat = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(
        tape.gradient(value, z), weights[:, None] * (y_hat - one_hot) / 4, rtol=1e-5, atol=1e-7
    )


def test_gradient_comparison_catches_a_planted_bug():
    logits, _, one_hot = _data(m=5, k=3)
    numeric = _numeric_grad(logits, one_hot)
    y_hat = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    for buggy in (
        (y_hat - one_hot),
        (one_hot - y_hat) / 5,
        (y_hat - 1.01 * one_hot) / 5,
    ):  # no 1/m, sign, scale
        with pytest.raises(AssertionError, match="Not equal to tolerance"):
            np.testing.assert_allclose(buggy, numeric, rtol=1e-6, atol=1e-9)


def test_gradient_passes_dlkit_gradcheck():
    logits, _, one_hot = _data(m=4, k=3)
    report = gradcheck.gradcheck(lambda z: tf.reduce_mean(softmax_cross_entropy(one_hot, z)), [logits])
    assert report.passed, report.difference

    @tf.custom_gradient
    def buggy(z):
        value = tf.reduce_mean(softmax_cross_entropy(one_hot, z))
        return value, lambda up: up * (tf.nn.softmax(z) - one_hot)  # forgot the 1/m

    assert not gradcheck.gradcheck(buggy, [logits]).passed


def test_trains_a_model_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    x = np.random.randn(64, 4).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(keras.optimizers.SGD(1.0), loss=SoftmaxCrossEntropy(sparse=True), metrics=["accuracy"])
    history = model.fit(x, y, epochs=6, batch_size=16, verbose=0).history
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.loss, SoftmaxCrossEntropy) and loaded.loss.sparse
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6)
    restored = SoftmaxCrossEntropy.from_config(SoftmaxCrossEntropy(sparse=True, name="ce").get_config())
    assert restored.sparse and restored.name == "ce"


def test_rejects_non_boolean_sparse():
    with pytest.raises(ValueError, match=r"`sparse` must be a boolean\. Received: sparse='yes'"):
        SoftmaxCrossEntropy(sparse="yes")
