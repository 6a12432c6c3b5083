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
from test_schedules import cyclic_reference, one_cycle_reference, snapshot_reference

BASE_LR, MAX_LR, STEP_SIZE, NUM_STEPS, WARMUP_STEPS, SCHEDULE_STEPS = 0.01, 0.2, 2, 7, 4, 30

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

    def schedule_values():
        from dlkit.schedules import CyclicLR, LinearWarmup, OneCycleLR, SnapshotCosineDecay

        schedules = {{
            "cyclic": CyclicLR(0.001, 0.006, 4, mode="exp_range", gamma=0.99),
            "one_cycle": OneCycleLR(0.01, {SCHEDULE_STEPS}, three_phase=True),
            "snapshot": SnapshotCosineDecay(0.1, {SCHEDULE_STEPS}, 3),
            "warmup_decay": LinearWarmup(5, keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)),
            "warmup_cyclic": LinearWarmup(5, CyclicLR(0.001, 0.006, 4), start_lr=0.0005),
        }}
        paths = set()  # which namespace each formula ran in when the schedule was called
        for cls in (CyclicLR, LinearWarmup, OneCycleLR, SnapshotCosineDecay):
            def traced(self, step, xp, formula=cls._formula):
                paths.add("numpy" if xp is np else "keras.ops")
                return formula(self, step, xp)
            cls._formula = traced
        step = keras.Variable(0, dtype="int64", trainable=False)  # what the optimizer passes
        values = {{name: [] for name in schedules}}
        for s in range({SCHEDULE_STEPS}):
            step.assign(s)
            for name, schedule in schedules.items():
                values[name].append(float(keras.ops.convert_to_numpy(schedule(step))))
        return {{"values": values, "paths": sorted(paths)}}

    logger = dlkit.callbacks.LearningRateLogger()
    out = {{
        "callback": train(0.05, [dlkit.callbacks.CyclicLRCallback({BASE_LR}, {MAX_LR}, {STEP_SIZE}), logger]),
        "schedule": train(dlkit.schedules.CyclicLR({BASE_LR}, {MAX_LR}, {STEP_SIZE}), []),
        "warmup": train({MAX_LR}, [dlkit.callbacks.LearningRateWarmup({WARMUP_STEPS})]),
        "logged": logger.learning_rates,
        "schedules": schedule_values(),
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
def test_every_schedule_called_on_each_backend_matches_the_published_formulas(backend):
    result = _run(backend)["schedules"]
    # PyTorch runs the train step op by op, so the schedules compute their formula in NumPy there (a few
    # microseconds, not 10-30 dispatched scalar ops); TensorFlow and JAX keep it in the traced step.
    assert result["paths"] == (["numpy"] if backend == "torch" else ["keras.ops"])

    def cyclic(s):
        return cyclic_reference(s, 0.001, 0.006, 4, mode="exp_range", gamma=0.99)

    def warmup(s, start_lr, after):
        return start_lr + (after(5) - start_lr) * s / 5 if s < 5 else after(s)

    references = {
        "cyclic": cyclic,
        "one_cycle": lambda s: one_cycle_reference(s, 0.01, SCHEDULE_STEPS, three_phase=True),
        "snapshot": lambda s: snapshot_reference(
            s + 1, 0.1, SCHEDULE_STEPS, 3
        ),  # Huang et al.'s t is 1-based
        "warmup_decay": lambda s: warmup(s, 0.0, lambda t: 0.1 * 0.5 ** (t / 10)),
        "warmup_cyclic": lambda s: warmup(s, 0.0005, lambda t: cyclic_reference(t, 0.001, 0.006, 4)),
    }
    # JAX computes "float64" in float32 unless jax_enable_x64 is set: a few float32 ulps, not one.
    rtol = 4e-6 if backend == "jax" else 1e-6
    for name, reference in references.items():
        expected = [reference(s) for s in range(SCHEDULE_STEPS)]
        np.testing.assert_allclose(result["values"][name], expected, rtol=rtol, atol=1e-12, err_msg=name)


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
