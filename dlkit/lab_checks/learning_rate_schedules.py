"""Visible checks for lab 06 (learning-rate schedules): the triangular cyclical rate, linear warmup, the snapshot
ensembles' cyclic cosine rate, and averaging the snapshots' predictions.

The rates are compared with `dlkit.schedules` (`CyclicLR`, `LinearWarmup`, `SnapshotCosineDecay`) and with the
formulas of the papers written here in NumPy. On a mismatch each check tries the usual mistakes (a forgotten
`floor`, `x` where `1 - x` belongs, a step size taken as the whole cycle, an off-by-one step, `floor(T / M)` for
`ceil(T / M)`, a majority vote instead of averaged probabilities, ...) and names the one that matches.
"""

import math

import numpy as np

from dlkit.lab_checks.expect import (
    diagnose,
    expect_close,
    expect_dtype,
    expect_shape,
    expect_true,
    fail,
    matches,
    passed,
)
from dlkit.schedules import CyclicLR, LinearWarmup, SnapshotCosineDecay


def _rates(where, function, steps, *args):
    """Calls `function(step, *args)` for each step and returns the rates as a float array."""
    values = []
    for step in steps:
        value = function(int(step), *args)
        try:
            value = float(np.asarray(value, dtype=float).reshape(()))
        except (TypeError, ValueError):
            fail(where, f"must return one number (a float), got {type(value).__name__} {value!r}")
        values.append(value)
    return np.array(values)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: triangular_clr


def reference_triangular_clr(step, base_lr, max_lr, step_size):
    """Smith's triangular policy in NumPy (step 0-based); works on arrays of steps."""
    step = np.asarray(step, dtype=float)
    cycle = np.floor(1 + step / (2 * step_size))
    x = np.abs(step / step_size - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * np.maximum(0.0, 1 - x)


def _clr_mistakes(steps, base_lr, max_lr, step_size):
    amplitude = max_lr - base_lr
    cycle = np.floor(1 + steps / (2 * step_size))
    x = np.abs(steps / step_size - 2 * cycle + 1)
    cycle_no_floor = 1 + steps / (2 * step_size)
    x_no_floor = np.abs(steps / step_size - 2 * cycle_no_floor + 1)
    cycle_full = np.floor(1 + steps / step_size)
    x_full = np.abs(2 * steps / step_size - 2 * cycle_full + 1)
    return {
        "the rate never moves from base_lr: `cycle` must be floor(1 + step / (2 * step_size)), the floor of 1 + "
        "..., starting at 1 (without the floor, or without the 1 +, x is never below 1)": base_lr
        + amplitude * np.maximum(0.0, 1 - x_no_floor),
        "the triangle is upside down (the rate starts at max_lr): use max(0, 1 - x), not max(0, x), and do not "
        "swap base_lr and max_lr": base_lr + amplitude * np.maximum(0.0, x),
        "the cycle is only step_size steps long: step_size is HALF a cycle, so use step / (2 * step_size) for the "
        "cycle and step / step_size for x": base_lr + amplitude * np.maximum(0.0, 1 - x_full),
    }


def check_triangular_clr(triangular_clr):
    """Checks `triangular_clr(step, base_lr, max_lr, step_size)` against `dlkit.schedules.CyclicLR`."""
    where = "triangular_clr"
    for base_lr, max_lr, step_size, num_steps in (
        (0.001, 0.006, 4, 25),
        (0.1, 1.0, 5, 31),
        (0.02, 0.05, 3, 20),
    ):
        steps = np.arange(num_steps)
        value = _rates(where, triangular_clr, steps, base_lr, max_lr, step_size)
        expected = CyclicLR(base_lr, max_lr, step_size, mode="triangular").value(steps)
        if not matches(value, expected):
            diagnose(where, value, _clr_mistakes(steps.astype(float), base_lr, max_lr, step_size))
        expect_close(
            f"{where}(step, base_lr={base_lr}, max_lr={max_lr}, step_size={step_size}) for steps 0..{num_steps - 1}",
            value,
            expected,
            rtol=1e-6,
            atol=1e-9,
        )
    expect_close(f"{where}(0, 0.001, 0.006, 4)", triangular_clr(0, 0.001, 0.006, 4), 0.001)
    expect_close(f"{where}(4, 0.001, 0.006, 4) (the peak)", triangular_clr(4, 0.001, 0.006, 4), 0.006)
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: linear_warmup


def reference_linear_warmup(step, warmup_steps, target_lr, start_lr=0.0):
    """Goyal et al.'s gradual warmup (step 0-based), then the constant target."""
    if step < warmup_steps:
        return start_lr + (target_lr - start_lr) * step / warmup_steps
    return target_lr


def _warmup_mistakes(steps, warmup_steps, target_lr, start_lr):
    ramp = start_lr + (target_lr - start_lr) * steps / warmup_steps
    ramp_plus_one = start_lr + (target_lr - start_lr) * (steps + 1) / warmup_steps
    ramp_from_zero = target_lr * steps / warmup_steps
    return {
        "the ramp is one step ahead: the rate at step 0 must be start_lr, i.e. use step / warmup_steps, not "
        "(step + 1) / warmup_steps": np.where(steps < warmup_steps, ramp_plus_one, target_lr),
        "the rate keeps growing after the warmup: from step warmup_steps on, return target_lr": ramp,
        "the ramp ignores start_lr: go from start_lr to target_lr, start_lr + (target_lr - start_lr) * step / "
        "warmup_steps": np.where(steps < warmup_steps, ramp_from_zero, target_lr),
        "this is a constant warmup (start_lr throughout): the gradual warmup rises linearly to target_lr": np.where(
            steps < warmup_steps, start_lr, target_lr
        ),
    }


def check_linear_warmup(linear_warmup):
    """Checks `linear_warmup(step, warmup_steps, target_lr, start_lr)` against `dlkit.schedules.LinearWarmup`."""
    where = "linear_warmup"
    for warmup_steps, target_lr, start_lr in ((5, 0.4, 0.04), (8, 0.1, 0.0), (3, 2.0, 0.5)):
        steps = np.arange(warmup_steps + 6)
        value = _rates(where, linear_warmup, steps, warmup_steps, target_lr, start_lr)
        expected = LinearWarmup(warmup_steps, after=target_lr, start_lr=start_lr, mode="linear").value(steps)
        if not matches(value, expected):
            diagnose(where, value, _warmup_mistakes(steps.astype(float), warmup_steps, target_lr, start_lr))
        expect_close(
            f"{where}(step, warmup_steps={warmup_steps}, target_lr={target_lr}, start_lr={start_lr}) for steps "
            f"0..{len(steps) - 1}",
            value,
            expected,
            rtol=1e-6,
            atol=1e-9,
        )
    expect_close(f"{where}(2, 4, 1.0) (start_lr defaults to 0)", linear_warmup(2, 4, 1.0), 0.5)
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: snapshot_lr


def reference_snapshot_lr(t, T, M, initial_lr):
    """Huang et al.'s equation (2) with t the 1-based iteration."""
    cycle_length = math.ceil(T / M)
    return initial_lr / 2 * (math.cos(math.pi * ((t - 1) % cycle_length) / cycle_length) + 1)


def _snapshot_mistakes(t, T, M, initial_lr):
    length = math.ceil(T / M)
    floor_length = T // M
    return {
        "the rate at t=1 is not initial_lr: the formula uses (t - 1) mod ceil(T / M), t being 1-based": initial_lr
        / 2
        * (np.cos(np.pi * (t % length) / length) + 1),
        "the cycle length is floor(T / M): Huang et al. use ceil(T / M) (math.ceil), which differs when M does not "
        "divide T": initial_lr / 2 * (np.cos(np.pi * ((t - 1) % floor_length) / floor_length) + 1),
        "the cycle length is T / M without rounding up: use math.ceil(T / M)": initial_lr
        / 2
        * (np.cos(np.pi * np.mod(t - 1, T / M) / (T / M)) + 1),
        "the rate goes negative: the formula is initial_lr / 2 * (cos(...) + 1); the + 1 is missing": initial_lr
        / 2
        * np.cos(np.pi * ((t - 1) % length) / length),
        "the rate never restarts: take (t - 1) mod ceil(T / M) so that each cycle starts again at initial_lr": initial_lr
        / 2
        * (np.cos(np.pi * (t - 1) / length) + 1),
        "one cosine over all T steps: divide by the cycle length ceil(T / M), not by T": initial_lr
        / 2
        * (np.cos(np.pi * ((t - 1) % length) / T) + 1),
    }


def check_snapshot_lr(snapshot_lr):
    """Checks `snapshot_lr(t, T, M, initial_lr)` (t 1-based) against `dlkit.schedules.SnapshotCosineDecay`."""
    where = "snapshot_lr"
    for T, M, initial_lr in ((20, 4, 0.1), (23, 5, 0.2), (30, 3, 0.05)):
        t = np.arange(1, T + 1)
        value = _rates(where, snapshot_lr, t, T, M, initial_lr)
        expected = SnapshotCosineDecay(initial_lr, total_steps=T, num_snapshots=M).value(t - 1)
        if not matches(value, expected):
            diagnose(where, value, _snapshot_mistakes(t.astype(float), T, M, initial_lr))
        expect_close(
            f"{where}(t, T={T}, M={M}, initial_lr={initial_lr}) for t = 1..{T}", value, expected, atol=1e-9
        )
    expect_close(f"{where}(1, 20, 4, 0.1) (start of the first cycle)", snapshot_lr(1, 20, 4, 0.1), 0.1)
    expect_close(f"{where}(6, 20, 4, 0.1) (start of the second cycle)", snapshot_lr(6, 20, 4, 0.1), 0.1)
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: average_predictions


def reference_average_predictions(members, x=None):
    """Averages the members' class probabilities (arrays, or Keras models called on `x`); labels by argmax."""
    probabilities = [np.asarray(m.predict(x, verbose=0) if hasattr(m, "predict") else m) for m in members]
    mean = np.mean(probabilities, axis=0)
    return mean, np.argmax(mean, axis=1)


def _probability_members(num_members, num_examples, num_classes, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(num_members, num_examples, num_classes))
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return [p for p in (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)]


def _majority_vote(members):
    votes = np.stack([np.argmax(p, axis=1) for p in members])
    num_classes = members[0].shape[1]
    counts = np.stack([np.bincount(column, minlength=num_classes) for column in votes.T])
    return np.argmax(counts, axis=1)


def _keras_members(num_members, num_features, num_classes, seed):
    import keras

    rng = np.random.default_rng(seed)
    members = []
    for _ in range(num_members):
        model = keras.Sequential(
            [keras.Input((num_features,)), keras.layers.Dense(num_classes, activation="softmax")]
        )
        model.set_weights([rng.normal(size=(num_features, num_classes)), rng.normal(size=num_classes)])
        members.append(model)
    return members


def _check_output(where, result, members, num_examples, num_classes):
    expect_true(
        where,
        isinstance(result, tuple | list) and len(result) == 2,
        f"must return a pair (probabilities, labels), got {type(result).__name__}",
    )
    probabilities, labels = np.asarray(result[0]), np.asarray(result[1])
    expected = np.mean([np.asarray(p, dtype=float) for p in members], axis=0)
    if probabilities.shape == (num_examples,) and labels.shape == (num_classes,):
        fail(
            where,
            "averaged over the wrong axis: average over the members (axis=0 of the stacked predictions)",
        )
    expect_shape(f"{where}: probabilities", probabilities, (num_examples, num_classes))
    correct = matches(probabilities, expected, rtol=1e-5, atol=1e-6)
    if not correct and matches(probabilities, expected * len(members)):
        fail(where, "the probabilities are summed, not averaged: divide by the number of members (np.mean)")
    log_mean = np.exp(np.mean([np.log(np.asarray(p, dtype=float)) for p in members], axis=0))
    geometric = matches(probabilities, log_mean) or matches(
        probabilities, log_mean / log_mean.sum(axis=1, keepdims=True)
    )
    if not correct and geometric:
        fail(
            where,
            "that is a geometric mean: average the probabilities themselves (Huang et al.), not their logs",
        )
    expect_close(f"{where}: averaged probabilities", probabilities, expected, rtol=1e-5, atol=1e-6)
    expect_shape(f"{where}: labels", labels, (num_examples,))
    expect_true(
        where, labels.dtype.kind in "iu", f"labels must be integer class indices, got dtype {labels.dtype}"
    )
    expected_labels = np.argmax(expected, axis=1)
    if not np.array_equal(labels, expected_labels):
        if np.array_equal(labels, _majority_vote([np.asarray(p) for p in members])):
            fail(where, "the labels are a majority vote: take the argmax of the AVERAGED probabilities")
        fail(where, "labels must be argmax over the classes (axis=1) of the averaged probabilities")
    return probabilities, labels


def check_average_predictions(average_predictions):
    """Checks `average_predictions(members, x=None)` on probability arrays and on Keras models."""
    where = "average_predictions"
    members = _probability_members(3, 6, 4, seed=0)
    _check_output(f"{where}(3 arrays of shape (6, 4))", average_predictions(members), members, 6, 4)
    members = _probability_members(5, 7, 3, seed=1)
    _check_output(f"{where}(5 arrays of shape (7, 3))", average_predictions(members), members, 7, 3)
    single = _probability_members(1, 4, 5, seed=2)
    _check_output(f"{where}(1 array)", average_predictions(single), single, 4, 5)
    models = _keras_members(3, 2, 4, seed=3)
    x = np.random.default_rng(4).normal(size=(5, 2)).astype(np.float32)
    outputs = [np.asarray(model(x)) for model in models]
    probabilities, _ = _check_output(
        f"{where}(3 Keras models, x)", average_predictions(models, x), outputs, 5, 4
    )
    expect_dtype(f"{where}(3 Keras models, x): probabilities", probabilities, "f")
    passed(where)
