"""dlkit.optimizers against NumPy update rules written here and against the Keras built-ins."""

import keras
import numpy as np
import pytest

from dlkit.optimizers import Adam, MomentumGD, RMSprop

STEPS = 6


def _gradients(shape=(3, 2), steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype("float32") for _ in range(steps)]


def _run(optimizer, w0, grads):
    """Applies the given gradient sequence and returns the variable after every step."""
    w = keras.Variable(w0.copy())
    path = []
    for g in grads:
        optimizer.apply([keras.ops.convert_to_tensor(g)], [w])  # a backend tensor, as fit passes it
        path.append(keras.ops.convert_to_numpy(w).copy())
    return np.array(path)


def _numpy_momentum(w, grads, lr, beta):
    v, path = np.zeros_like(w, dtype=np.float64), []
    w = w.astype(np.float64)
    for g in grads:
        v = beta * v + (1 - beta) * g
        w = w - lr * v
        path.append(w)
    return np.array(path)


def _numpy_rmsprop(w, grads, lr, beta, eps):
    s, path = np.zeros_like(w, dtype=np.float64), []
    w = w.astype(np.float64)
    for g in grads:
        s = beta * s + (1 - beta) * g**2
        w = w - lr * g / (np.sqrt(s) + eps)
        path.append(w)
    return np.array(path)


def _numpy_adam(w, grads, lr, beta_1, beta_2, eps):
    v, s, path = np.zeros_like(w, dtype=np.float64), np.zeros_like(w, dtype=np.float64), []
    w = w.astype(np.float64)
    for t, g in enumerate(grads, start=1):
        v = beta_1 * v + (1 - beta_1) * g
        s = beta_2 * s + (1 - beta_2) * g**2
        v_hat, s_hat = v / (1 - beta_1**t), s / (1 - beta_2**t)
        w = w - lr * v_hat / (np.sqrt(s_hat) + eps)
        path.append(w)
    return np.array(path)


W0 = np.array([[0.5, -1.0], [2.0, 0.0], [-0.3, 0.7]], "float32")


def test_momentum_gd_matches_numpy():
    grads = _gradients()
    path = _run(MomentumGD(learning_rate=0.1, beta=0.9), W0, grads)
    np.testing.assert_allclose(path, _numpy_momentum(W0, grads, 0.1, 0.9), rtol=1e-5, atol=1e-6)
    # Not Keras's SGD momentum with the same numbers (the difference the docstring explains) ...
    keras_path = _run(keras.optimizers.SGD(0.1, momentum=0.9), W0, grads)
    assert np.abs(keras_path - path).max() > 1e-2
    # ... but the same trajectory as Keras's when Keras's learning rate is lr * (1 - beta).
    keras_path = _run(keras.optimizers.SGD(0.1 * (1 - 0.9), momentum=0.9), W0, grads)
    np.testing.assert_allclose(path, keras_path, rtol=1e-5, atol=1e-6)


def test_rmsprop_matches_numpy():
    grads = _gradients()
    path = _run(RMSprop(learning_rate=0.01, beta=0.999, epsilon=1e-8), W0, grads)
    np.testing.assert_allclose(path, _numpy_rmsprop(W0, grads, 0.01, 0.999, 1e-8), rtol=1e-5, atol=1e-6)
    # A visible epsilon, to check its placement (outside the square root).
    path = _run(RMSprop(learning_rate=0.01, beta=0.9, epsilon=0.5), W0, grads)
    np.testing.assert_allclose(path, _numpy_rmsprop(W0, grads, 0.01, 0.9, 0.5), rtol=1e-5, atol=1e-6)


def test_adam_matches_numpy():
    grads = _gradients()
    path = _run(Adam(learning_rate=0.01), W0, grads)
    np.testing.assert_allclose(path, _numpy_adam(W0, grads, 0.01, 0.9, 0.999, 1e-8), rtol=1e-5, atol=1e-6)
    path = _run(Adam(learning_rate=0.05, beta_1=0.8, beta_2=0.99, epsilon=0.1), W0, grads)
    np.testing.assert_allclose(path, _numpy_adam(W0, grads, 0.05, 0.8, 0.99, 0.1), rtol=1e-5, atol=1e-6)


def test_adam_matches_keras_adam():
    grads = _gradients(steps=10)
    # Keras adds epsilon to the un-corrected sqrt(s); with a tiny epsilon the two forms agree.
    ours = _run(Adam(learning_rate=0.01, epsilon=1e-12), W0, grads)
    ref = _run(keras.optimizers.Adam(learning_rate=0.01, epsilon=1e-12), W0, grads)
    np.testing.assert_allclose(ours, ref, atol=1e-6, rtol=0)
    # With a large epsilon the placement shows, so the comparison above is not vacuous.
    ours = _run(Adam(learning_rate=0.01, epsilon=1.0), W0, grads)
    ref = _run(keras.optimizers.Adam(learning_rate=0.01, epsilon=1.0), W0, grads)
    assert np.abs(ours - ref).max() > 1e-4


def test_optimizer_trains_a_model_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    x = np.random.randn(64, 3).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3
    for optimizer in (MomentumGD(0.2), RMSprop(0.05), Adam(0.1)):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer, "mse")
        history = model.fit(x, y, epochs=6, batch_size=16, verbose=0).history
        assert history["loss"][-1] < 0.3 * history["loss"][0], type(optimizer).__name__
        path = tmp_path / f"{type(optimizer).__name__}.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        assert type(loaded.optimizer) is type(optimizer)
        assert loaded.optimizer.get_config() == model.optimizer.get_config()
        for a, b in zip(loaded.optimizer.variables, model.optimizer.variables, strict=True):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_get_config_round_trip():
    for optimizer, hyperparameters in (
        (MomentumGD(0.2, beta=0.8), {"beta": 0.8}),
        (RMSprop(0.3, beta=0.5, epsilon=1e-4), {"beta": 0.5, "epsilon": 1e-4}),
        (Adam(0.4, beta_1=0.7, beta_2=0.9, epsilon=1e-3), {"beta_1": 0.7, "beta_2": 0.9, "epsilon": 1e-3}),
    ):
        config = optimizer.get_config()
        # The config holds the arguments given (the learning rate as the float32 the variable stores) ...
        assert {key: config[key] for key in hyperparameters} == hyperparameters
        expected_lr = {MomentumGD: 0.2, RMSprop: 0.3, Adam: 0.4}[type(optimizer)]
        assert config["learning_rate"] == pytest.approx(expected_lr, rel=1e-7)
        # ... and rebuilds the same optimizer.
        restored = type(optimizer).from_config(config)
        assert restored.get_config() == config


def test_accepts_a_learning_rate_schedule():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    grads = _gradients(steps=3)
    path = _run(MomentumGD(schedule, beta=0.0), W0, grads)
    expected = W0 - np.cumsum([0.1 * 0.5**t * g for t, g in enumerate(grads)], axis=0)
    np.testing.assert_allclose(path, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: MomentumGD(0.0), r"`learning_rate` must be > 0\.0\. Received: learning_rate=0\.0"),
        (lambda: MomentumGD(0.1, beta=1.0), r"`beta` must be < 1\.0\. Received: beta=1\.0"),
        (lambda: MomentumGD(0.1, beta=-0.1), r"`beta` must be >= 0\.0\. Received: beta=-0\.1"),
        (lambda: RMSprop(-1.0), r"`learning_rate` must be > 0\.0\. Received: learning_rate=-1\.0"),
        (lambda: RMSprop(0.1, beta=1.5), r"`beta` must be < 1\.0\. Received: beta=1\.5"),
        (lambda: RMSprop(0.1, epsilon=-1e-8), r"`epsilon` must be >= 0\.0\. Received: epsilon=-1e-08"),
        (lambda: Adam("fast"), r"`learning_rate` must be a finite number\. Received: learning_rate='fast'"),
        (lambda: Adam(0.1, beta_1=1.0), r"`beta_1` must be < 1\.0\. Received: beta_1=1\.0"),
        (lambda: Adam(0.1, beta_2=-0.5), r"`beta_2` must be >= 0\.0\. Received: beta_2=-0\.5"),
        (lambda: Adam(0.1, epsilon=-1.0), r"`epsilon` must be >= 0\.0\. Received: epsilon=-1\.0"),
    ],
)
def test_rejects_bad_arguments(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()
