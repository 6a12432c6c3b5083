"""dlkit's learning-rate callbacks and schedules on Keras's other backends (issue 22: JAX, then PyTorch).

Each case trains a bias-free linear model with full-batch SGD on MSE in a fresh process under
`KERAS_BACKEND=<backend>`, and the weights must follow plain gradient descent written here in NumPy with the
rates of Smith's triangular policy (or the warmup ramp), all steps inside one epoch: a callback whose assigned rate the backend silently
ignored would leave the weights on the constant-rate path, and fail. The TensorFlow run of the same script is
checked too, so the backends agree with each other through the same reference. A backend that is not installed
(PyTorch and JAX are optional extras) is skipped with the reason.
"""

import functools
import textwrap

import numpy as np
import pytest
from backend_script import run_script

BASE_LR, MAX_LR, STEP_SIZE, NUM_STEPS, WARMUP_STEPS = 0.01, 0.2, 2, 7, 4

SCRIPT = textwrap.dedent(
    f"""
    import json, os, sys
    import numpy as np
    import keras
    import dlkit
    import dlkit.callbacks, dlkit.schedules

    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3).astype("float32")

    def train(learning_rate, callbacks):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
        model.compile(keras.optimizers.SGD(learning_rate), "mse")
        # One epoch of NUM_STEPS identical full batches: mid-epoch steps are where JAX keeps the state apart.
        repeat = lambda a: np.tile(a, ({NUM_STEPS}, 1))
        model.fit(repeat(x), repeat(y), batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=callbacks)
        return keras.ops.convert_to_numpy(model.layers[0].kernel).ravel().tolist()

    def draws():
        dlkit.set_seed(3)
        layer = keras.layers.Dense(4)
        layer.build((None, 2))
        drawn = keras.ops.convert_to_numpy(layer.kernel).ravel().tolist() + [float(np.random.rand())]
        if keras.backend.backend() == "torch":  # PyTorch's own global generator, which set_seed must seed too
            import torch

            drawn.append(float(torch.rand(())))
        return drawn

    def statistics():
        import dlkit.diagnostics

        dlkit.set_seed(5)
        probe = keras.Sequential([keras.Input((3,)), keras.layers.Dense(6, "sigmoid"), keras.layers.Dense(1)])
        kernel, bias = (keras.ops.convert_to_numpy(w).tolist() for w in probe.layers[0].weights)
        z = 4.0 * x  # wide enough that some units saturate
        stats = dlkit.diagnostics.activation_statistics(probe, z)[probe.layers[0].name]
        return {{"kernel": kernel, "bias": bias, "stats": stats}}

    logger = dlkit.callbacks.LearningRateLogger()
    out = {{
        "callback": train(0.05, [dlkit.callbacks.CyclicLRCallback({BASE_LR}, {MAX_LR}, {STEP_SIZE}), logger]),
        "schedule": train(dlkit.schedules.CyclicLR({BASE_LR}, {MAX_LR}, {STEP_SIZE}), []),
        "warmup": train({MAX_LR}, [dlkit.callbacks.LearningRateWarmup({WARMUP_STEPS})]),
        "logged": logger.learning_rates,
        "backend": keras.backend.backend(),
    }}
    import dlkit.diagnostics  # noqa: F401 - a module practitioners import

    # Before set_seed: keras.utils.set_random_seed seeds TensorFlow too (for tf.data) whenever it is installed.
    out["tensorflow_imported"] = "tensorflow" in sys.modules
    out["statistics"] = statistics()
    out["seeded"] = [draws(), draws()]
    print("RESULT " + json.dumps(out))
    """
)


def _triangular(step):
    cycle = np.floor(1 + step / (2 * STEP_SIZE))
    position = abs(step / STEP_SIZE - 2 * cycle + 1)
    return BASE_LR + (MAX_LR - BASE_LR) * max(0.0, 1.0 - position)


def _gradient_descent(rates):
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32").astype(np.float64)
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    w = np.zeros((3, 1))
    for rate in rates:
        w = w - rate * 2.0 / len(x) * x.T @ (x @ w - y)  # d/dw mean((xw - y)^2)
    return w.ravel()


@functools.cache  # one subprocess per backend, shared by the tests (they only read the result)
def _run(backend):
    return run_script(backend, SCRIPT, timeout=300)[1]


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_learning_rate_callbacks_and_schedules_steer_sgd_on_each_backend(backend):
    result = _run(backend)
    assert result["backend"] == backend
    cyclic = [_triangular(step) for step in range(NUM_STEPS)]
    warmup = [MAX_LR * step / WARMUP_STEPS if step < WARMUP_STEPS else MAX_LR for step in range(NUM_STEPS)]
    np.testing.assert_allclose(result["logged"], cyclic, rtol=1e-6)
    np.testing.assert_allclose(result["callback"], _gradient_descent(cyclic), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result["schedule"], _gradient_descent(cyclic), rtol=1e-4, atol=1e-6)
    # The reference is not the constant-rate path the callback replaces (the test can fail).
    assert not np.allclose(_gradient_descent(cyclic), _gradient_descent([0.05] * NUM_STEPS), rtol=1e-2)
    np.testing.assert_allclose(result["warmup"], _gradient_descent(warmup), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_activation_statistics_match_numpy_on_each_backend(backend):
    result = _run(backend)["statistics"]
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32") * 4.0
    a = 1.0 / (1.0 + np.exp(-(x @ np.array(result["kernel"]) + np.array(result["bias"]))))
    expected = {"mean": a.mean(), "std": a.std(), "saturated_fraction": np.mean(a * (1 - a) < 0.01)}
    for name, value in expected.items():
        np.testing.assert_allclose(result["stats"][name], value, rtol=1e-5, atol=1e-7, err_msg=name)
    assert 0 < expected["saturated_fraction"] < 1  # the probe has saturated and live entries
    assert result["stats"]["dead_fraction"] == 0.0  # a sigmoid is never exactly 0


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_set_seed_and_the_callbacks_work_without_importing_tensorflow(backend):
    result = _run(backend)
    first, second = result["seeded"]
    assert first == second and len(set(first)) == len(first)  # repeated by the seed, not constant
    assert result["tensorflow_imported"] is False
