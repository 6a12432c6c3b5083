"""Visible checks for lab 06 (learning-rate schedules): the triangular cyclical rate, linear warmup, the snapshot
ensembles' cyclic cosine rate, and averaging the snapshots' predictions.

Each exercise has a private reference (the paper's formula written out in NumPy: Smith 2017, Goyal et al. 2017,
Huang et al. 2017; `dlkit.schedules` implements the same formulas and is tested against them separately), a
table of the usual mistakes on the same inputs (a forgotten `floor`, `x` where `1 - x` belongs, a step size
taken as the whole cycle, an off-by-one step, `floor(T / M)` for `ceil(T / M)`, a majority vote instead of
averaged probabilities, ...) and a public `check_<name>` that compares the student's values with
`expect.check_value`, which names the mistake they reproduce.
"""

import math

import numpy as np

from dlkit.lab_checks.expect import check_value, expect_dtype, expect_true, fail, passed


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


def _reference_triangular_clr(step, base_lr, max_lr, step_size):
    """Smith's triangular cyclical learning rate at the 0-based `step` (an array of steps works too).

    ```
    cycle = floor(1 + step / (2 * step_size))
    x = |step / step_size - 2 * cycle + 1|
    rate = base_lr + (max_lr - base_lr) * max(0, 1 - x)
    ```
    """
    step = np.asarray(step, dtype=float)
    cycle = np.floor(1 + step / (2 * step_size))
    x = np.abs(step / step_size - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * np.maximum(0.0, 1 - x)


def _triangular_clr_mistakes(steps, base_lr, max_lr, step_size):
    """The usual wrong rates at `steps`, as {message: wrong rates}."""
    return {
        # Without the floor (or without the 1 +), x >= 1 at every step: the rate is base_lr throughout.
        "the rate never moves from base_lr: `cycle` must be floor(1 + step / (2 * step_size)), the floor of 1 + "
        "..., starting at 1 (without the floor, or without the 1 +, x is never below 1)": (
            _reference_triangular_clr(steps, base_lr, base_lr, step_size)
        ),
        # x is in [0, 1], so base_lr + amplitude * x is the triangle reflected between base_lr and max_lr.
        "the triangle is upside down (the rate starts at max_lr): use max(0, 1 - x), not max(0, x), and do not "
        "swap base_lr and max_lr": (
            base_lr + max_lr - _reference_triangular_clr(steps, base_lr, max_lr, step_size)
        ),
        "the cycle is only step_size steps long: step_size is HALF a cycle, so use step / (2 * step_size) for the "
        "cycle and step / step_size for x": _reference_triangular_clr(steps, base_lr, max_lr, step_size / 2),
    }


def check_triangular_clr(triangular_clr):
    """Checks `triangular_clr(step, base_lr, max_lr, step_size)` (step 0-based) against Smith's formula."""
    where = "triangular_clr"
    for base_lr, max_lr, step_size, num_steps in (
        (0.001, 0.006, 4, 25),
        (0.1, 1.0, 5, 31),
        (0.02, 0.05, 3, 20),
    ):
        steps = np.arange(num_steps)
        check_value(
            f"{where}(step, base_lr={base_lr}, max_lr={max_lr}, step_size={step_size}) for steps 0..{num_steps - 1}",
            _rates(where, triangular_clr, steps, base_lr, max_lr, step_size),
            _reference_triangular_clr(steps, base_lr, max_lr, step_size),
            _triangular_clr_mistakes(steps, base_lr, max_lr, step_size),
            rtol=1e-6,
            atol=1e-9,
        )
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: linear_warmup


def _reference_linear_warmup(step, warmup_steps, target_lr, start_lr=0.0):
    """Goyal et al.'s gradual warmup at the 0-based `step` (an array of steps works too), then the constant target.

    ```
    rate = start_lr + (target_lr - start_lr) * step / warmup_steps   if step < warmup_steps
           target_lr                                                 otherwise
    ```
    """
    step = np.asarray(step, dtype=float)
    return np.where(step < warmup_steps, start_lr + (target_lr - start_lr) * step / warmup_steps, target_lr)


def _linear_warmup_mistakes(steps, warmup_steps, target_lr, start_lr):
    """The usual wrong rates at `steps`, as {message: wrong rates}."""
    # The ramp continued past warmup_steps: a warmup over `horizon` steps up to the ramp's value there.
    horizon = int(np.max(steps)) + 1
    extended_target = start_lr + (target_lr - start_lr) * horizon / warmup_steps
    return {
        "the ramp is one step ahead: the rate at step 0 must be start_lr, i.e. use step / warmup_steps, not "
        "(step + 1) / warmup_steps": _reference_linear_warmup(steps + 1, warmup_steps, target_lr, start_lr),
        "the rate keeps growing after the warmup: from step warmup_steps on, return target_lr": (
            _reference_linear_warmup(steps, horizon, extended_target, start_lr)
        ),
        "the ramp ignores start_lr: go from start_lr to target_lr, start_lr + (target_lr - start_lr) * step / "
        "warmup_steps": _reference_linear_warmup(steps, warmup_steps, target_lr, 0.0),
        "this is a constant warmup (start_lr throughout): the gradual warmup rises linearly to target_lr": np.where(
            steps < warmup_steps, start_lr, target_lr
        ),
    }


def check_linear_warmup(linear_warmup):
    """Checks `linear_warmup(step, warmup_steps, target_lr, start_lr)` (step 0-based) against Goyal et al.'s ramp."""
    where = "linear_warmup"
    for warmup_steps, target_lr, start_lr in ((5, 0.4, 0.04), (8, 0.1, 0.0), (3, 2.0, 0.5)):
        steps = np.arange(warmup_steps + 6)
        check_value(
            f"{where}(step, warmup_steps={warmup_steps}, target_lr={target_lr}, start_lr={start_lr}) for steps "
            f"0..{len(steps) - 1}",
            _rates(where, linear_warmup, steps, warmup_steps, target_lr, start_lr),
            _reference_linear_warmup(steps, warmup_steps, target_lr, start_lr),
            _linear_warmup_mistakes(steps, warmup_steps, target_lr, start_lr),
            rtol=1e-6,
            atol=1e-9,
        )
    check_value(
        f"{where}(2, 4, 1.0) (start_lr defaults to 0)",
        linear_warmup(2, 4, 1.0),
        _reference_linear_warmup(2, 4, 1.0),
        rtol=1e-6,
        atol=1e-9,
    )
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: snapshot_lr


def _reference_snapshot_lr(t, T, M, initial_lr):
    """Huang et al.'s cyclic cosine rate, their equation (2), at the 1-based iteration `t` (an array works too).

    ```
    rate = initial_lr / 2 * (cos(pi * ((t - 1) mod ceil(T / M)) / ceil(T / M)) + 1)
    ```
    """
    t = np.asarray(t, dtype=float)
    cycle_length = math.ceil(T / M)
    return initial_lr / 2 * (np.cos(np.pi * np.mod(t - 1, cycle_length) / cycle_length) + 1)


def _snapshot_lr_mistakes(t, T, M, initial_lr):
    """The usual wrong rates at the 1-based iterations `t`, as {message: wrong rates}."""
    t = np.asarray(t, dtype=float)
    length = math.ceil(T / M)
    return {
        "the rate at t=1 is not initial_lr: the formula uses (t - 1) mod ceil(T / M), t being 1-based": (
            _reference_snapshot_lr(t + 1, T, M, initial_lr)
        ),
        # M * floor(T / M) total steps make cycles of exactly floor(T / M) steps.
        "the cycle length is floor(T / M): Huang et al. use ceil(T / M) (math.ceil), which differs when M does not "
        "divide T": _reference_snapshot_lr(t, M * (T // M), M, initial_lr),
        "the cycle length is T / M without rounding up: use math.ceil(T / M)": (
            initial_lr / 2 * (np.cos(np.pi * np.mod(t - 1, T / M) / (T / M)) + 1)
        ),
        "the rate goes negative: the formula is initial_lr / 2 * (cos(...) + 1); the + 1 is missing": (
            _reference_snapshot_lr(t, T, M, initial_lr) - initial_lr / 2
        ),
        "the rate never restarts: take (t - 1) mod ceil(T / M) so that each cycle starts again at initial_lr": (
            initial_lr / 2 * (np.cos(np.pi * (t - 1) / length) + 1)
        ),
        "one cosine over all T steps: divide by the cycle length ceil(T / M), not by T": (
            initial_lr / 2 * (np.cos(np.pi * np.mod(t - 1, length) / T) + 1)
        ),
    }


def check_snapshot_lr(snapshot_lr):
    """Checks `snapshot_lr(t, T, M, initial_lr)` (t 1-based) against Huang et al.'s equation (2)."""
    where = "snapshot_lr"
    for T, M, initial_lr in ((20, 4, 0.1), (23, 5, 0.2), (30, 3, 0.05)):
        t = np.arange(1, T + 1)
        check_value(
            f"{where}(t, T={T}, M={M}, initial_lr={initial_lr}) for t = 1..{T}",
            _rates(where, snapshot_lr, t, T, M, initial_lr),
            _reference_snapshot_lr(t, T, M, initial_lr),
            _snapshot_lr_mistakes(t, T, M, initial_lr),
            rtol=1e-5,
            atol=1e-9,
        )
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: average_predictions


def _member_probabilities(members, x=None):
    """The members' class probabilities as float arrays: the arrays themselves, or Keras models' `predict(x)`."""
    return [np.asarray(m.predict(x, verbose=0) if hasattr(m, "predict") else m, dtype=float) for m in members]


def _reference_average_predictions(members, x=None):
    """Averages the members' class probabilities (arrays, or Keras models called on `x`); labels by argmax.

    ```
    probabilities = mean(member probabilities, axis=0)     # over the members
    labels = argmax(probabilities, axis=1)                 # over the classes
    ```
    """
    mean = np.mean(_member_probabilities(members, x), axis=0)
    return mean, np.argmax(mean, axis=1)


def _probability_members(num_members, num_examples, num_classes, seed):
    """`num_members` float32 arrays of softmax probabilities, shape (num_examples, num_classes)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(num_members, num_examples, num_classes))
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return [p for p in (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)]


def _majority_vote(members):
    """The labels most members predict (ties to the smallest class): the majority-vote mistake."""
    votes = np.stack([np.argmax(p, axis=1) for p in members])
    num_classes = members[0].shape[1]
    counts = np.stack([np.bincount(column, minlength=num_classes) for column in votes.T])
    return np.argmax(counts, axis=1)


def _keras_members(num_members, num_features, num_classes, seed):
    """`num_members` random softmax Dense models on `num_features` inputs."""
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


def _average_probabilities_mistakes(outputs):
    """The usual wrong averaged probabilities of the members' `outputs`, as (message, wrong probabilities) pairs."""
    mean, _ = _reference_average_predictions(outputs)
    geometric = (
        "that is a geometric mean: average the probabilities themselves (Huang et al.), not their logs"
    )

    def geometric_mean():
        # exp of the average of the log-probabilities.
        return np.exp(_reference_average_predictions([np.log(p) for p in outputs])[0])

    return [
        (
            "the probabilities are summed, not averaged: divide by the number of members (np.mean)",
            mean * len(outputs),
        ),
        (geometric, geometric_mean),
        (geometric, lambda: geometric_mean() / geometric_mean().sum(axis=1, keepdims=True)),
    ]


def _average_labels_mistakes(outputs):
    """The usual wrong labels for the members' `outputs`, as {message: wrong labels}."""
    return {
        "the labels are a majority vote: take the argmax of the AVERAGED probabilities": lambda: (
            _majority_vote(outputs)
        ),
    }


def _check_output(where, result, members, x=None):
    """Checks one `(probabilities, labels)` result of `average_predictions(members, x)`; returns the pair."""
    expect_true(
        where,
        isinstance(result, tuple | list) and len(result) == 2,
        f"must return a pair (probabilities, labels), got {type(result).__name__}",
    )
    probabilities, labels = np.asarray(result[0]), np.asarray(result[1])
    expected_probabilities, expected_labels = _reference_average_predictions(members, x)
    outputs = _member_probabilities(members, x)
    num_examples, num_classes = expected_probabilities.shape
    if probabilities.shape == (num_examples,) and labels.shape == (num_classes,):
        fail(
            where,
            "averaged over the wrong axis: average over the members (axis=0 of the stacked predictions)",
        )
    check_value(
        f"{where}: averaged probabilities",
        probabilities,
        expected_probabilities,
        _average_probabilities_mistakes(outputs),
        rtol=1e-5,
        atol=1e-6,
    )
    expect_true(
        where, labels.dtype.kind in "iu", f"labels must be integer class indices, got dtype {labels.dtype}"
    )
    check_value(
        f"{where}: labels = argmax over the classes (axis=1) of the averaged probabilities",
        labels,
        expected_labels,
        _average_labels_mistakes(outputs),
        rtol=0.0,
        atol=0.0,
    )
    return probabilities, labels


def check_average_predictions(average_predictions):
    """Checks `average_predictions(members, x=None)` on probability arrays and on Keras models."""
    where = "average_predictions"
    members = _probability_members(3, 6, 4, seed=0)
    _check_output(f"{where}(3 arrays of shape (6, 4))", average_predictions(members), members)
    members = _probability_members(5, 7, 3, seed=1)
    _check_output(f"{where}(5 arrays of shape (7, 3))", average_predictions(members), members)
    single = _probability_members(1, 4, 5, seed=2)
    _check_output(f"{where}(1 array)", average_predictions(single), single)
    models = _keras_members(3, 2, 4, seed=3)
    x = np.random.default_rng(4).normal(size=(5, 2)).astype(np.float32)
    probabilities, _ = _check_output(f"{where}(3 Keras models, x)", average_predictions(models, x), models, x)
    expect_dtype(f"{where}(3 Keras models, x): probabilities", probabilities, "f")
    passed(where)
