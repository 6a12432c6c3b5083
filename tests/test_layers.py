"""dlkit.layers against independent references: the Keras built-ins with copied weights, NumPy formulas
written here, autodiff of a plain re-implementation, and central finite differences in float64."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework import config as tf_config

import dlkit
from dlkit import gradcheck
from dlkit.layers import (
    BatchNorm,
    Conv2DNaive,
    GroupNorm,
    InvertedDropout,
    LayerNorm,
    Maxout,
    MaxPool2DNaive,
    batch_norm,
    batch_norm_backward,
    batch_norm_forward,
    softmax,
)


@pytest.fixture
def xla():
    """Keras silently turns jit_compile off while TF op determinism is on; switch it off for the test."""
    was_on = tf_config.is_op_determinism_enabled()
    tf_config.disable_op_determinism()
    dlkit.set_seed(7, deterministic=False)
    yield
    if was_on:
        tf.config.experimental.enable_op_determinism()


def _round_trip(layer, input_shape, tmp_path, x):
    """Saves a one-layer model to a .keras file, loads it, and returns (before, after) inference outputs."""
    model = keras.Sequential([keras.Input(input_shape), layer])
    before = model.predict(x, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.layers[0]) is type(layer)
    assert loaded.layers[0].get_config() == layer.get_config()
    return before, loaded.predict(x, verbose=0)


# ----------------------------------------------------------------------------------------- InvertedDropout


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        (-0.1, r"`rate` must be >= 0\.0\. Received: rate=-0\.1"),
        (1.0, r"`rate` must be < 1\.0\. Received: rate=1\.0"),
        (1.5, r"`rate` must be < 1\.0\. Received: rate=1\.5"),
        ("0.5", r"`rate` must be a finite number\. Received: rate='0\.5'"),
        (None, r"`rate` must be a finite number\. Received: rate=None"),
    ],
)
def test_dropout_rejects_bad_rate(rate, message):
    with pytest.raises(ValueError, match=message):
        InvertedDropout(rate)


def test_dropout_rejects_bad_seed():
    with pytest.raises(ValueError, match=r"`seed` must be >= 0\. Received: seed=-1"):
        InvertedDropout(0.5, seed=-1)


def test_dropout_is_identity_at_inference(seeded):
    x = np.random.randn(8, 20).astype("float32")
    layer = InvertedDropout(0.7, seed=1)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer(x, training=False), x)
    np.testing.assert_array_equal(InvertedDropout(0.0)(x, training=True), x)


def test_dropout_keeps_with_prob_and_scales_by_one_over_keep_prob(seeded):
    rate, n = 0.3, 200_000
    x = np.random.uniform(1.0, 2.0, size=(n,)).astype("float32")
    y = InvertedDropout(rate, seed=3)(x, training=True).numpy()
    kept = y != 0
    # Survivors are x / keep_prob exactly as NumPy computes it.
    np.testing.assert_allclose(y[kept], x[kept] / (1 - rate), rtol=1e-6)
    # Fraction dropped ~ Binomial(n, rate) / n: within 5 standard deviations.
    assert abs((~kept).mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / n)


def test_dropout_preserves_expected_value(seeded):
    rate, samples = 0.5, 4000
    x = np.random.randn(1, 50).astype("float32")
    layer = InvertedDropout(rate, seed=11)
    batch = np.repeat(x, samples, axis=0)
    mean = layer(batch, training=True).numpy().mean(axis=0)
    # Var[y] = x^2 (1/keep_prob - 1); the mean of `samples` draws is within 5 sigma of x (CLT).
    sigma = np.abs(x[0]) * np.sqrt(rate / (1 - rate)) / np.sqrt(samples)
    assert np.all(np.abs(mean - x[0]) <= 5 * sigma + 1e-6)
    # A layer that forgot the 1/keep_prob scaling would be off by half of x: the test can tell.
    assert np.abs(mean * (1 - rate) - x[0]).max() > 10 * sigma.max()


def test_dropout_seeded_masks_are_reproducible_and_change_per_call():
    x = np.ones((4, 64), "float32")
    a, b = InvertedDropout(0.5, seed=5), InvertedDropout(0.5, seed=5)
    first_a, first_b = a(x, training=True).numpy(), b(x, training=True).numpy()
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(first_a, a(x, training=True).numpy())


def test_dropout_equals_keras_dropout_with_the_same_seed():
    # Same draw (stateless uniform from a SeedGenerator) and the same keep rule (u >= rate) as Keras.
    x = np.random.default_rng(0).normal(size=(32, 40)).astype("float32")
    ours, ref = InvertedDropout(0.3, seed=9), keras.layers.Dropout(0.3, seed=9)
    for _ in range(3):
        np.testing.assert_allclose(ours(x, training=True), ref(x, training=True), rtol=1e-6)


def test_dropout_under_jit_compile(xla):
    layer = InvertedDropout(0.5, seed=2)
    x = np.ones((16, 32), "float32")
    y = tf.function(lambda t: layer(t, training=True), jit_compile=True)(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(8), layer, keras.layers.Dense(1)])
    model.compile("sgd", "mse", jit_compile=True)
    assert model.jit_compile
    history = model.fit(x, np.ones((16, 1), "float32"), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


# ----------------------------------------------------------------------------------------------- BatchNorm


def _bn_pair(input_shape, axis=-1, center=True, scale=True, momentum=0.99):
    """A dlkit BatchNorm and a keras BatchNormalization with the same random gamma/beta/moving statistics."""
    ours = BatchNorm(axis=axis, momentum=momentum, center=center, scale=scale)
    ref = keras.layers.BatchNormalization(axis=axis, momentum=momentum, center=center, scale=scale)
    ours.build(input_shape)
    ref.build(input_shape)
    channels = input_shape[axis]
    weights = []
    if scale:
        weights.append(np.random.uniform(0.5, 1.5, channels).astype("float32"))
    if center:
        weights.append(np.random.randn(channels).astype("float32"))
    weights += [
        np.random.randn(channels).astype("float32"),
        np.random.uniform(0.5, 2, channels).astype("float32"),
    ]
    ref.set_weights(weights)
    ours.set_weights(weights)
    return ours, ref


@pytest.mark.parametrize(
    "shape, axis, center, scale",
    [
        ((32, 6), -1, True, True),
        ((8, 5, 5, 3), -1, True, True),
        ((8, 3, 5, 5), 1, True, True),
        ((32, 6), -1, False, True),
        ((32, 6), -1, True, False),
    ],
)
def test_batch_norm_matches_keras_in_training_and_inference(seeded, shape, axis, center, scale):
    ours, ref = _bn_pair(shape, axis, center, scale)
    x = (np.random.randn(*shape) * 3 + 2).astype("float32")
    np.testing.assert_allclose(ours(x), ref(x), atol=1e-5)  # inference: moving statistics
    np.testing.assert_allclose(ours(x, training=True), ref(x, training=True), atol=1e-5)
    np.testing.assert_allclose(ours.moving_mean.numpy(), ref.moving_mean.numpy(), atol=1e-6)
    np.testing.assert_allclose(ours.moving_variance.numpy(), ref.moving_variance.numpy(), atol=1e-6)


def test_batch_norm_training_output_is_normalized_numpy(seeded):
    x = (np.random.randn(64, 4) * 5 - 3).astype("float32")
    y = BatchNorm(epsilon=1e-3)(x, training=True).numpy()
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    np.testing.assert_allclose(y, expected, atol=1e-5)


def test_batch_norm_moving_statistics_match_keras_after_fit(seeded):
    x = (np.random.randn(64, 5) * 2 + 1).astype("float32")
    y = np.random.randn(64, 1).astype("float32")

    def model(norm):
        return keras.Sequential([keras.Input((5,)), keras.layers.Dense(6), norm, keras.layers.Dense(1)])

    ours, ref = model(BatchNorm(momentum=0.9)), model(keras.layers.BatchNormalization(momentum=0.9))
    ours.set_weights(ref.get_weights())
    for m in (ours, ref):
        m.compile(keras.optimizers.SGD(0.05), "mse")
        m.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    for a, b in zip(ours.layers[1].weights, ref.layers[1].weights, strict=True):
        assert a.name == b.name
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5, err_msg=a.name)
    # The moving averages have moved away from their initial values, so the comparison is not vacuous.
    assert np.abs(ref.layers[1].moving_mean.numpy()).max() > 0.1
    np.testing.assert_allclose(ours.layers[0].kernel.numpy(), ref.layers[0].kernel.numpy(), atol=1e-5)
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), atol=1e-4)


def test_batch_norm_layer_gradients_match_keras_autodiff(seeded):
    ours, ref = _bn_pair((8, 4, 4, 3))
    x = tf.constant(np.random.randn(8, 4, 4, 3).astype("float32"))
    upstream = tf.constant(np.random.randn(8, 4, 4, 3).astype("float32"))
    grads = []
    for layer in (ours, ref):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) * upstream)
        grads.append(tape.gradient(loss, [x, *layer.trainable_weights]))
    for g_ours, g_ref in zip(*grads, strict=True):
        np.testing.assert_allclose(g_ours, g_ref, atol=1e-4)


def _plain_batch_norm(x, gamma, beta, epsilon, axes):
    """A re-implementation without custom gradient: its gradient is TensorFlow's autodiff."""
    mean = tf.reduce_mean(x, axis=axes, keepdims=True)
    var = tf.reduce_mean(tf.square(x - mean), axis=axes, keepdims=True)
    return gamma * (x - mean) / tf.sqrt(var + epsilon) + beta


def _bn_inputs(shape=(6, 4)):
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, size=shape)
    gamma = rng.uniform(0.5, 1.5, size=(1, shape[-1]))
    beta = rng.normal(size=(1, shape[-1]))
    dy = rng.normal(size=shape)
    return x, gamma, beta, dy


def _numeric_bn_grads(x, gamma, beta, dy, epsilon, h=1e-6):
    """Central finite differences of sum(bn(x) * dy) in float64 NumPy."""

    def f(x, gamma, beta):
        x_hat = (x - x.mean(0)) / np.sqrt(x.var(0) + epsilon)
        return np.sum((gamma * x_hat + beta) * dy)

    grads = []
    for index, arg in enumerate((x, gamma, beta)):
        grad = np.zeros_like(arg)
        for pos in np.ndindex(arg.shape):
            plus, minus = [a.copy() for a in (x, gamma, beta)], [a.copy() for a in (x, gamma, beta)]
            plus[index][pos] += h
            minus[index][pos] -= h
            grad[pos] = (f(*plus) - f(*minus)) / (2 * h)
        grads.append(grad)
    return grads


def test_batch_norm_backward_matches_autodiff_and_finite_differences():
    x, gamma, beta, dy = _bn_inputs()
    eps = 1e-3
    _, cache = batch_norm_forward(tf.constant(x), tf.constant(gamma), tf.constant(beta), eps, axes=(0,))
    ours = [g.numpy() for g in batch_norm_backward(tf.constant(dy), cache)]

    tensors = [tf.constant(a) for a in (x, gamma, beta)]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        out = _plain_batch_norm(*tensors, eps, axes=(0,))
    autodiff = tape.gradient(out, tensors, output_gradients=tf.constant(dy))
    numeric = _numeric_bn_grads(x, gamma, beta, dy, eps)
    for name, a, b, c in zip(("dx", "dgamma", "dbeta"), ours, autodiff, numeric, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-8, err_msg=name)


def test_batch_norm_custom_gradient_is_the_hand_written_one():
    x, gamma, beta, dy = _bn_inputs((5, 3))
    tensors = [tf.constant(a) for a in (x, gamma, beta)]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        y, _, _ = batch_norm(*tensors, 1e-3, axes=(0,))
    grads = tape.gradient(y, tensors, output_gradients=tf.constant(dy))
    numeric = _numeric_bn_grads(x, gamma, beta, dy, 1e-3)
    for g, n in zip(grads, numeric, strict=True):
        np.testing.assert_allclose(g.numpy(), n, rtol=1e-6, atol=1e-8)


def test_batch_norm_gradient_comparison_catches_a_planted_bug():
    x, gamma, beta, dy = _bn_inputs()
    eps = 1e-3
    _, cache = batch_norm_forward(tf.constant(x), tf.constant(gamma), tf.constant(beta), eps, axes=(0,))
    dx, dgamma, dbeta = batch_norm_backward(tf.constant(dy), cache)
    numeric = _numeric_bn_grads(x, gamma, beta, dy, eps)
    buggy = {
        "dgamma scaled by 1.01": (dx, dgamma * 1.01, dbeta),
        "dx missing the x_hat term": (
            dx + cache[0] * tf.reduce_sum(dy * cache[0], 0) * cache[1] * gamma / 6,
            dgamma,
            dbeta,
        ),
    }
    for name, grads in buggy.items():
        # Exactly the planted gradient is caught; the untouched ones still agree with the finite differences.
        failing = []
        for which, g, n in zip(("dx", "dgamma", "dbeta"), grads, numeric, strict=True):
            try:
                np.testing.assert_allclose(g.numpy(), n, rtol=1e-6, atol=1e-8, err_msg=name)
            except AssertionError as error:
                assert "Not equal to tolerance" in str(error) and name in str(error)
                failing.append(which)
        assert failing == [name.split()[0]], (name, failing)


def test_batch_norm_passes_dlkit_gradcheck():
    x, gamma, beta, _ = _bn_inputs((5, 3))

    def fn(x, gamma, beta):
        return tf.reduce_sum(tf.sin(batch_norm(x, gamma, beta, 1e-3, axes=(0,))[0]))

    report = gradcheck.gradcheck(fn, [x, gamma, beta])
    assert report.passed, report.difference

    # The same check on a copy whose backward scales dgamma by 1.01 must fail.
    @tf.custom_gradient
    def buggy_bn(x, gamma, beta):
        y, cache = batch_norm_forward(x, gamma, beta, 1e-3, axes=(0,))

        def grad(dy):
            dx, dgamma, dbeta = batch_norm_backward(dy, cache)
            return dx, dgamma * 1.01, dbeta

        return y, grad

    bad = gradcheck.gradcheck(
        lambda x, gamma, beta: tf.reduce_sum(tf.sin(buggy_bn(x, gamma, beta))), [x, gamma, beta]
    )
    assert not bad.passed and bad.difference > 1e-4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"momentum": 1.5}, r"`momentum` must be <= 1\.0\. Received: momentum=1\.5"),
        ({"momentum": -0.1}, r"`momentum` must be >= 0\.0\. Received: momentum=-0\.1"),
        ({"epsilon": 0.0}, r"`epsilon` must be > 0\.0\. Received: epsilon=0\.0"),
        ({"axis": "x"}, r"`axis` must be an integer\. Received: axis='x'"),
        ({"center": "yes"}, r"`center` must be True or False\. Received: center='yes'"),
        ({"scale": 1}, r"`scale` must be True or False\. Received: scale=1"),
    ],
)
def test_batch_norm_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatchNorm(**kwargs)


def test_batch_norm_functions_reject_bad_arguments():
    x = tf.ones((4, 3))
    with pytest.raises(ValueError, match=r"`epsilon` must be > 0\.0\. Received: epsilon=0\.0"):
        batch_norm_forward(x, None, None, epsilon=0.0)
    with pytest.raises(ValueError, match=r"`axes` must be an integer\. Received: axes='batch'"):
        batch_norm(x, tf.ones((1, 3)), tf.zeros((1, 3)), axes=("batch",))


def test_batch_norm_rejects_axis_out_of_range():
    with pytest.raises(
        ValueError, match=r"`axis` is out of bounds for input shape \(None, 4\)\. Received: axis=3"
    ):
        BatchNorm(axis=3).build((None, 4))


def test_batch_norm_under_jit_compile(xla):
    x = np.random.randn(32, 5).astype("float32")
    y = np.random.randn(32, 1).astype("float32")
    ours = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4), BatchNorm(), keras.layers.Dense(1)])
    ref = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(4), keras.layers.BatchNormalization(), keras.layers.Dense(1)]
    )
    ours.set_weights(ref.get_weights())
    for m in (ours, ref):
        m.compile(keras.optimizers.SGD(0.05), "mse", jit_compile=True)
        assert m.jit_compile
        m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.weights, ref.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-4)


# --------------------------------------------------------------------------------------- LayerNorm / GroupNorm


def test_layer_norm_matches_keras(seeded):
    x = (np.random.randn(4, 3, 10) * 2 + 1).astype("float32")
    ours, ref = LayerNorm(), keras.layers.LayerNormalization()
    ours.build(x.shape)
    ref.build(x.shape)
    weights = [np.random.uniform(0.5, 1.5, 10).astype("float32"), np.random.randn(10).astype("float32")]
    ours.set_weights(weights)
    ref.set_weights(weights)
    np.testing.assert_allclose(ours(x), ref(x), atol=1e-5)
    np.testing.assert_allclose(ours(x, training=True), ref(x, training=True), atol=1e-5)
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3) * weights[
        0
    ] + weights[1]
    np.testing.assert_allclose(ours(x), expected, atol=1e-5)


def test_group_norm_matches_keras(seeded):
    x = (np.random.randn(2, 4, 4, 8) * 2 + 1).astype("float32")
    ours, ref = GroupNorm(groups=4), keras.layers.GroupNormalization(groups=4)
    ours.build(x.shape)
    ref.build(x.shape)
    weights = [np.random.uniform(0.5, 1.5, 8).astype("float32"), np.random.randn(8).astype("float32")]
    ours.set_weights(weights)
    ref.set_weights(weights)
    np.testing.assert_allclose(ours(x), ref(x), atol=1e-5)
    grouped = x.reshape(2, 4, 4, 4, 2)
    mean, var = grouped.mean((1, 2, 4), keepdims=True), grouped.var((1, 2, 4), keepdims=True)
    expected = ((grouped - mean) / np.sqrt(var + 1e-3)).reshape(x.shape) * weights[0] + weights[1]
    np.testing.assert_allclose(ours(x), expected, atol=1e-5)


def test_norm_layers_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"`epsilon` must be > 0\.0\. Received: epsilon=-1\.0"):
        LayerNorm(epsilon=-1.0)
    with pytest.raises(ValueError, match=r"`axis` must name a non-batch axis .*Received: axis=0"):
        LayerNorm(axis=0).build((None, 4))
    with pytest.raises(ValueError, match=r"`groups` must be >= 1\. Received: groups=0"):
        GroupNorm(groups=0)
    with pytest.raises(ValueError, match=r"`groups` must divide the number of channels\. Received: groups=3"):
        GroupNorm(groups=3).build((None, 4, 4, 8))


# ---------------------------------------------------------------------------------------------- Maxout


def test_maxout_matches_numpy(seeded):
    x = np.random.randn(5, 7).astype("float32")
    layer = Maxout(units=3, num_pieces=4)
    layer.build(x.shape)
    kernel = np.random.randn(7, 12).astype("float32")
    bias = np.random.randn(12).astype("float32")
    layer.set_weights([kernel, bias])
    pieces = (x @ kernel + bias).reshape(5, 3, 4)
    np.testing.assert_allclose(layer(x), pieces.max(-1), atol=1e-5)
    # Two pieces, written as in the seed: max(w1.x + b1, w2.x + b2).
    two = Maxout(units=1, num_pieces=2)
    two.build(x.shape)
    two.set_weights([kernel[:, :2], bias[:2]])
    expected = np.maximum(x @ kernel[:, 0] + bias[0], x @ kernel[:, 1] + bias[1])
    np.testing.assert_allclose(two(x)[:, 0], expected, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"units": 0, "num_pieces": 2}, r"`units` must be >= 1\. Received: units=0"),
        ({"units": 2, "num_pieces": 0}, r"`num_pieces` must be >= 1\. Received: num_pieces=0"),
        ({"units": 2.5, "num_pieces": 2}, r"`units` must be an integer\. Received: units=2\.5"),
    ],
)
def test_maxout_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Maxout(**kwargs)


# --------------------------------------------------------------------------------------- Conv2D / MaxPool2D


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("kernel_size", [3, (2, 3)])
def test_conv2d_naive_matches_keras(seeded, padding, strides, kernel_size):
    x = tf.constant(np.random.randn(2, 7, 8, 3).astype("float32"))
    ours = Conv2DNaive(4, kernel_size, strides=strides, padding=padding)
    ref = keras.layers.Conv2D(4, kernel_size, strides=strides, padding=padding)
    ref.build(x.shape)
    ours.build(x.shape)
    ref.set_weights(
        [np.random.randn(*ref.kernel.shape).astype("float32"), np.random.randn(4).astype("float32")]
    )
    ours.set_weights(ref.get_weights())
    expected, out = ref(x), ours(x)
    assert out.shape == expected.shape == ours.compute_output_shape(x.shape)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    np.testing.assert_allclose(_grad(ours, x), _grad(ref, x), atol=1e-4)


def _grad(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x)
    return tape.gradient(out, x)


def test_conv2d_naive_matches_numpy_loops(seeded):
    x = np.random.randn(1, 5, 5, 2).astype("float32")
    layer = Conv2DNaive(3, 3, use_bias=False)
    layer.build(x.shape)
    kernel = np.random.randn(3, 3, 2, 3).astype("float32")
    layer.set_weights([kernel])
    expected = np.zeros((1, 3, 3, 3), "float32")
    for r in range(3):
        for c in range(3):
            for f in range(3):
                expected[0, r, c, f] = np.sum(x[0, r : r + 3, c : c + 3, :] * kernel[:, :, :, f])
    np.testing.assert_allclose(layer(x), expected, atol=1e-5)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool_size, strides", [(2, None), (3, 2), ((2, 3), 1)])
def test_max_pool2d_naive_matches_keras(seeded, padding, pool_size, strides):
    x = np.random.randn(2, 7, 8, 3).astype("float32")
    ours = MaxPool2DNaive(pool_size, strides, padding=padding)
    ref = keras.layers.MaxPooling2D(pool_size, strides, padding=padding)
    expected = ref(x)
    out = ours(x)
    assert out.shape == expected.shape == ours.compute_output_shape(x.shape)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    np.testing.assert_allclose(_grad(ours, tf.constant(x)), _grad(ref, tf.constant(x)), atol=1e-6)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: Conv2DNaive(0, 3), r"`filters` must be >= 1\. Received: filters=0"),
        (lambda: Conv2DNaive(2, 0), r"`kernel_size` must be >= 1\. Received: kernel_size=0"),
        (
            lambda: Conv2DNaive(2, (3, 3, 3)),
            r"`kernel_size` must be an int or a pair of ints\. Received: kernel_size=\(3, 3, 3\)",
        ),
        (lambda: Conv2DNaive(2, 3, strides=0), r"`strides` must be >= 1\. Received: strides=0"),
        (
            lambda: Conv2DNaive(2, 3, padding="full"),
            r"`padding` must be one of 'valid', 'same'\. Received: padding='full'",
        ),
        (lambda: MaxPool2DNaive(0), r"`pool_size` must be >= 1\. Received: pool_size=0"),
        (lambda: MaxPool2DNaive(2, strides=-1), r"`strides` must be >= 1\. Received: strides=-1"),
        (
            lambda: MaxPool2DNaive(2, padding="causal"),
            r"`padding` must be one of 'valid', 'same'\. Received: padding='causal'",
        ),
    ],
)
def test_naive_layers_reject_bad_arguments(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_conv2d_naive_rejects_non_image_input():
    with pytest.raises(
        ValueError, match=r"expects a 4D input \(N, H, W, C\)\. Received input shape \(None, 10\)"
    ):
        Conv2DNaive(2, 3).build((None, 10))


# ---------------------------------------------------------------------------------------------- softmax


def test_softmax_matches_numpy_and_keras(seeded):
    logits = np.random.randn(6, 5).astype("float32") * 3
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(softmax(logits), expected, rtol=1e-5)
    np.testing.assert_allclose(softmax(logits), keras.activations.softmax(tf.constant(logits)), rtol=1e-5)
    np.testing.assert_allclose(softmax(logits, axis=0), np.exp(logits) / np.exp(logits).sum(0), rtol=1e-5)


def test_softmax_is_stable_for_large_logits():
    big = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -999.0]], "float32")
    out = softmax(big).numpy()
    assert np.all(np.isfinite(out))
    ref = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    np.testing.assert_allclose(out[0], ref, rtol=1e-6)
    # The naive formula overflows here, so stability is what is being tested.
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.all(np.isfinite(np.exp(big) / np.exp(big).sum(-1, keepdims=True)))


def test_softmax_rejects_bad_axis():
    with pytest.raises(ValueError, match=r"`axis` is out of bounds for rank 2\. Received: axis=2"):
        softmax(np.zeros((2, 3), "float32"), axis=2)


# ------------------------------------------------------------------------------------------ serialization


@pytest.mark.parametrize(
    "factory, shape",
    [
        (lambda: InvertedDropout(0.3, seed=1), (6,)),
        (lambda: BatchNorm(momentum=0.9, epsilon=1e-4), (6,)),
        (lambda: LayerNorm(epsilon=1e-5), (6,)),
        (lambda: GroupNorm(groups=2), (3, 3, 4)),
        (lambda: Maxout(3, num_pieces=2), (6,)),
        (lambda: Conv2DNaive(2, 3, strides=2, padding="same"), (5, 5, 2)),
        (lambda: MaxPool2DNaive(2, padding="same"), (5, 5, 2)),
    ],
)
def test_layers_round_trip_through_keras_file(seeded, tmp_path, factory, shape):
    layer = factory()
    x = np.random.randn(4, *shape).astype("float32")
    model = keras.Sequential([keras.Input(shape), layer])
    if layer.weights:  # non-default weights, so loading must restore them
        model.set_weights([w + np.random.rand(*w.shape).astype("float32") for w in model.get_weights()])
    before, after = _round_trip(layer, shape, tmp_path, x)
    np.testing.assert_allclose(before, after, atol=1e-6)
