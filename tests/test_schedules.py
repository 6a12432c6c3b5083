"""dlkit.schedules against NumPy references of the papers' formulas and PyTorch's OneCycleLR, in and out of fit."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from lr_probe import fit_probe, lr_probe_model

import dlkit
from dlkit.schedules import CyclicLR, LinearWarmup, OneCycleLR, SnapshotCosineDecay

STEPS = np.arange(0, 100)


# ---------------------------------------------------------------- references (written from the papers / torch)


def cyclic_reference(
    step, base_lr, max_lr, step_size, mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle"
):
    cycle = math.floor(1 + step / (2 * step_size))
    x = abs(step / step_size - 2 * cycle + 1)
    if scale_fn is not None:
        scale = scale_fn(cycle if scale_mode == "cycle" else step)
    else:
        scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma**step}[mode]
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x) * scale


def snapshot_reference(t, initial_lr, total, m):
    """Huang et al. eq. (2), t 1-based."""
    length = math.ceil(total / m)
    return initial_lr / 2 * (math.cos(math.pi * ((t - 1) % length) / length) + 1)


def one_cycle_reference(
    step, max_lr, total, pct=0.3, anneal="cos", div=25.0, final_div=1e4, three_phase=False
):
    """torch.optim.lr_scheduler.OneCycleLR.get_lr, with its phase table, for step_num = step."""
    initial = max_lr / div
    low = initial / final_div
    if three_phase:
        phases = [
            (pct * total - 1, initial, max_lr),
            (2 * pct * total - 2, max_lr, initial),
            (total - 1, initial, low),
        ]
    else:
        phases = [(pct * total - 1, initial, max_lr), (total - 1, max_lr, low)]
    start_step = 0
    for i, (end_step, start, end) in enumerate(phases):
        if step <= end_step or i == len(phases) - 1:
            p = (step - start_step) / (end_step - start_step)
            if anneal == "cos":
                return end + (start - end) / 2.0 * (math.cos(math.pi * p) + 1)
            return (end - start) * p + start
        start_step = end_step


def evaluate(schedule, steps):
    """Eager (a vector of steps), in-graph (a symbolic scalar int64 step) and NumPy evaluations of a schedule."""
    eager = np.asarray(schedule(np.asarray(steps, "int64")), dtype=np.float64)
    graph_fn = tf.function(lambda s: schedule(s))
    graph = np.array([float(graph_fn(tf.constant(int(s), tf.int64))) for s in steps[::7]])
    return eager, graph, np.asarray(schedule.value(steps))


def assert_schedule(schedule, reference, steps=STEPS):
    expected = np.array([reference(int(s)) for s in steps])
    eager, graph, numpy_values = evaluate(schedule, steps)
    np.testing.assert_allclose(eager, expected, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(graph, expected[::7], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(numpy_values, expected, rtol=1e-12, atol=1e-15)
    # The float32 the optimizer sees is the same from both code paths.
    np.testing.assert_array_equal(eager.astype(np.float32), numpy_values.astype(np.float32))


# ---------------------------------------------------------------- formulas


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(base_lr=0.001, max_lr=0.006, step_size=7),
        dict(base_lr=0.001, max_lr=0.006, step_size=7, mode="triangular2"),
        dict(base_lr=0.001, max_lr=0.006, step_size=7, mode="exp_range", gamma=0.99),
        dict(base_lr=0.0, max_lr=0.1, step_size=2.5),
        dict(base_lr=0.01, max_lr=0.1, step_size=5, scale_fn=lambda c: 1 / (1.0 + c), scale_mode="cycle"),
        dict(
            base_lr=0.01, max_lr=0.1, step_size=5, scale_fn=lambda s: 0.5 + 0.0 * s, scale_mode="iterations"
        ),
    ],
)
def test_cyclic_matches_smith_formula(kwargs):
    assert_schedule(CyclicLR(**kwargs), lambda s: cyclic_reference(s, **kwargs))


def test_cyclic_published_points():
    # Smith's example (and bckenstler/CLR's README): base 0.001, max 0.006, step_size 2000.
    schedule = CyclicLR(0.001, 0.006, 2000)
    assert schedule.value(0) == pytest.approx(0.001)
    assert schedule.value(1000) == pytest.approx(0.0035)
    assert schedule.value(2000) == pytest.approx(0.006)
    assert schedule.value(4000) == pytest.approx(0.001)
    halved = CyclicLR(0.001, 0.006, 2000, mode="triangular2")
    assert halved.value(6000) == pytest.approx(0.001 + 0.005 / 2)
    assert halved.value(10000) == pytest.approx(0.001 + 0.005 / 4)


@pytest.mark.parametrize("total, m", [(100, 5), (37, 4), (15, 15), (10, 1)])
def test_snapshot_cosine_matches_huang_formula(total, m):
    schedule = SnapshotCosineDecay(0.2, total, m)
    assert_schedule(schedule, lambda s: snapshot_reference(s + 1, 0.2, total, m), steps=np.arange(total + 3))
    # Every cycle restarts at initial_lr.
    length = math.ceil(total / m)
    assert all(schedule.value(k * length) == pytest.approx(0.2) for k in range(m))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(max_lr=0.1, total=100),
        dict(max_lr=0.1, total=37, pct=0.25),
        dict(max_lr=1.0, total=50, anneal="linear"),
        dict(max_lr=0.1, total=100, three_phase=True),
        dict(max_lr=0.5, total=41, pct=0.4, anneal="linear", three_phase=True, div=10.0, final_div=100.0),
    ],
)
def test_one_cycle_matches_torch(kwargs):
    schedule = OneCycleLR(
        kwargs["max_lr"],
        kwargs["total"],
        pct_start=kwargs.get("pct", 0.3),
        anneal_strategy=kwargs.get("anneal", "cos"),
        div_factor=kwargs.get("div", 25.0),
        final_div_factor=kwargs.get("final_div", 1e4),
        three_phase=kwargs.get("three_phase", False),
    )
    steps = np.arange(kwargs["total"])
    assert_schedule(schedule, lambda s: one_cycle_reference(s, **kwargs), steps=steps)
    # Beyond total_steps the rate holds at its minimum (torch raises there).
    assert schedule.value(kwargs["total"] + 10) == pytest.approx(schedule.value(kwargs["total"] - 1))


def test_one_cycle_published_endpoints():
    schedule = OneCycleLR(0.1, 100)
    assert schedule.value(0) == pytest.approx(0.1 / 25)  # initial = max_lr / div_factor
    assert schedule.value(29) == pytest.approx(0.1)  # peak at pct_start * total - 1
    assert schedule.value(99) == pytest.approx(0.1 / 25 / 1e4)  # min = initial / final_div_factor


def test_linear_warmup_float_and_schedule():
    assert_schedule(LinearWarmup(10, 0.1), lambda s: 0.1 * s / 10 if s < 10 else 0.1)
    assert_schedule(LinearWarmup(10, 0.1, start_lr=0.01, mode="constant"), lambda s: 0.01 if s < 10 else 0.1)
    decay = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=20, decay_rate=0.5)

    def reference(s):
        after = lambda k: 0.1 * 0.5 ** (k / 20)  # noqa: E731
        return 0.02 + (after(10) - 0.02) * s / 10 if s < 10 else after(s)

    schedule = LinearWarmup(10, decay, start_lr=0.02)
    expected = np.array([reference(s) for s in STEPS])
    np.testing.assert_allclose(np.asarray(schedule(STEPS)), expected, rtol=1e-5)
    np.testing.assert_allclose(schedule.value(STEPS), expected, rtol=1e-5)
    assert float(schedule(tf.constant(12, tf.int64))) == pytest.approx(reference(12), rel=1e-6)
    # Wrapping a dlkit schedule stays exact.
    cyclic = CyclicLR(0.001, 0.006, 4)
    assert_schedule(
        LinearWarmup(6, cyclic),
        lambda s: (
            cyclic_reference(6, 0.001, 0.006, 4) * s / 6 if s < 6 else cyclic_reference(s, 0.001, 0.006, 4)
        ),
    )


# ---------------------------------------------------------------- in real fit calls


SCHEDULES = {
    "cyclic": (
        lambda: CyclicLR(0.01, 0.1, 3, mode="triangular2"),
        lambda s: cyclic_reference(s, 0.01, 0.1, 3, "triangular2"),
    ),
    "snapshot": (lambda: SnapshotCosineDecay(0.1, 25, 3), lambda s: snapshot_reference(s + 1, 0.1, 25, 3)),
    "one_cycle": (lambda: OneCycleLR(0.1, 25), lambda s: one_cycle_reference(s, 0.1, 25)),
    "warmup": (
        lambda: LinearWarmup(7, CyclicLR(0.01, 0.1, 3)),
        lambda s: cyclic_reference(7, 0.01, 0.1, 3) * s / 7 if s < 7 else cyclic_reference(s, 0.01, 0.1, 3),
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_in_fit_resumes_after_keras_save(name, tmp_path):
    """Recorded rates of 3 epochs, .keras save, load, 2 more epochs == the formula for all 25 steps."""
    make, reference = SCHEDULES[name]
    dlkit.set_seed(0)
    model = lr_probe_model(make())
    first, _ = fit_probe(model, epochs=3)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.optimizer._learning_rate) is type(model.optimizer._learning_rate)
    assert loaded.optimizer._learning_rate.get_config() == model.optimizer._learning_rate.get_config()
    assert int(loaded.optimizer.iterations.numpy()) == 15
    second, _ = fit_probe(loaded, epochs=5, initial_epoch=3)
    expected = np.array([reference(s) for s in range(25)], dtype=np.float32)
    np.testing.assert_allclose(np.concatenate([first, second]), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "schedule",
    [
        CyclicLR(0.001, 0.006, 4, mode="exp_range", gamma=0.9),
        SnapshotCosineDecay(0.1, 30, 4),
        OneCycleLR(0.2, 30, pct_start=0.4, anneal_strategy="linear", three_phase=True),
        LinearWarmup(
            5, keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5), mode="constant", start_lr=0.01
        ),
        LinearWarmup(5, 0.3),
    ],
    ids=["cyclic", "snapshot", "one_cycle", "warmup_decay", "warmup_float"],
)
def test_config_round_trip(schedule):
    rebuilt = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert type(rebuilt) is type(schedule)
    assert rebuilt.get_config() == schedule.get_config()
    np.testing.assert_allclose(
        [float(rebuilt(s)) for s in range(30)], [float(schedule(s)) for s in range(30)]
    )


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CyclicLR(0.001, 0.006, 0), r"`step_size` must be > 0\.0\. Received: step_size=0\.0"),
        (lambda: CyclicLR(0.001, 0.006, -3), r"`step_size` must be > 0\.0\. Received: step_size=-3\.0"),
        (
            lambda: CyclicLR(0.01, 0.006, 10),
            r"`max_lr` must be >= `base_lr`\. Received: max_lr=0\.006, base_lr=0\.01",
        ),
        (
            lambda: CyclicLR(0.001, 0.006, 10, mode="sawtooth"),
            r"`mode` must be one of 'triangular', 'triangular2', 'exp_range'\. Received: mode='sawtooth'",
        ),
        (
            lambda: CyclicLR(0.001, 0.006, 10, mode="exp_range", gamma=0.0),
            r"`gamma` must be > 0\.0\. Received: gamma=0\.0",
        ),
        (
            lambda: CyclicLR(0.001, 0.006, 10, scale_fn="not callable"),
            r"`scale_fn` must be callable or None\. Received: scale_fn='not callable'",
        ),
        (
            lambda: CyclicLR(0.001, 0.006, 10, scale_mode="epoch"),
            r"`scale_mode` must be one of 'cycle', 'iterations'\. Received: scale_mode='epoch'",
        ),
        (lambda: CyclicLR(-0.001, 0.006, 10), r"`base_lr` must be >= 0\.0\. Received: base_lr=-0\.001"),
        (
            lambda: SnapshotCosineDecay(0.1, 10, 11),
            r"`num_snapshots` must be <= `total_steps` \(each snapshot needs a cycle .*\)\. "
            r"Received: num_snapshots=11, total_steps=10",
        ),
        (lambda: SnapshotCosineDecay(0.0, 10, 2), r"`initial_lr` must be > 0\.0\. Received: initial_lr=0\.0"),
        (
            lambda: SnapshotCosineDecay(0.1, 10.5, 2),
            r"`total_steps` must be an integer\. Received: total_steps=10\.5",
        ),
        (lambda: OneCycleLR(0.1, 1), r"`total_steps` must be >= 2\. Received: total_steps=1"),
        (lambda: OneCycleLR(0.0, 100), r"`max_lr` must be > 0\.0\. Received: max_lr=0\.0"),
        (
            lambda: OneCycleLR(0.1, 100, pct_start=1.0),
            r"`pct_start` must be < 1\.0\. Received: pct_start=1\.0",
        ),
        (
            lambda: OneCycleLR(0.1, 100, anneal_strategy="exp"),
            r"`anneal_strategy` must be one of 'cos', 'linear'\. Received: anneal_strategy='exp'",
        ),
        (
            lambda: OneCycleLR(0.1, 100, pct_start=0.6, three_phase=True),
            r"`pct_start` and `total_steps` give a one-cycle phase of zero or negative length "
            r"\(steps 118\.0 to 99\.0\)\. Received: pct_start=0\.6, total_steps=100, three_phase=True",
        ),
        (
            lambda: OneCycleLR(0.1, 5, pct_start=0.1),
            r"`pct_start` and `total_steps` give a one-cycle phase of zero or negative length "
            r"\(steps 0\.0 to -0\.5\)\. Received: pct_start=0\.1, total_steps=5, three_phase=False",
        ),
        (
            lambda: OneCycleLR(0.1, 100, div_factor=0),
            r"`div_factor` must be > 0\.0\. Received: div_factor=0\.0",
        ),
        (lambda: LinearWarmup(0, 0.1), r"`warmup_steps` must be >= 1\. Received: warmup_steps=0"),
        (
            lambda: LinearWarmup(10, "fast"),
            r"`after` must be a float >= 0 or a keras\.optimizers\.schedules\.LearningRateSchedule\. "
            r"Received: after='fast'",
        ),
        (
            lambda: LinearWarmup(10, 0.1, mode="cosine"),
            r"`mode` must be one of 'linear', 'constant'\. Received: mode='cosine'",
        ),
        (
            lambda: LinearWarmup(10, -0.1),
            r"`after` must be a float >= 0 or a keras\.optimizers\.schedules\.LearningRateSchedule\. "
            r"Received: after=-0\.1",
        ),
    ],
)
def test_bad_arguments_raise_value_error(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_value_rejects_negative_step():
    with pytest.raises(ValueError, match=r"`step` must be >= 0\. Received: step=-1"):
        CyclicLR(0.001, 0.006, 4).value(-1)
