"""The lab 06 checks accept correct solutions (written here from the papers) and name the usual mistakes."""

import math
import re

import keras
import numpy as np
import pytest

import dlkit
from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import learning_rate_schedules as checks


@pytest.fixture(autouse=True)
def _seed():
    dlkit.set_seed(0)


# --------------------------------------------------------------------------------------- triangular CLR (Smith 2017)
def clr(step, base_lr, max_lr, step_size):
    cycle = math.floor(1 + step / (2 * step_size))
    x = abs(step / step_size - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x)


def clr_no_floor(step, base_lr, max_lr, step_size):
    cycle = 1 + step / (2 * step_size)
    x = abs(step / step_size - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x)


def clr_upside_down(step, base_lr, max_lr, step_size):
    cycle = math.floor(1 + step / (2 * step_size))
    x = abs(step / step_size - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * max(0.0, x)


def clr_full_cycle(step, base_lr, max_lr, step_size):
    cycle = math.floor(1 + step / step_size)
    x = abs(2 * step / step_size - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x)


def clr_cycle_from_zero(step, base_lr, max_lr, step_size):
    cycle = math.floor(step / (2 * step_size))
    x = abs(step / step_size - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x)


def clr_sawtooth(step, base_lr, max_lr, step_size):
    return base_lr + (max_lr - base_lr) * (step % step_size) / step_size


def test_clr_reference_matches_hand_values():
    # Smith's example: base 0.001, max 0.006, step_size 4 -> peak at step 4, back to base at step 8.
    values = [clr(s, 0.001, 0.006, 4) for s in range(9)]
    np.testing.assert_allclose(
        values, [0.001, 0.00225, 0.0035, 0.00475, 0.006, 0.00475, 0.0035, 0.00225, 0.001]
    )


def clr_numpy(step, base_lr, max_lr, step_size):
    # Vectorized form, returning a 0-d NumPy array for a scalar step.
    step = np.asarray(step, dtype=float)
    cycle = np.floor(1 + step / (2 * step_size))
    x = np.abs(step / step_size - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * np.maximum(0.0, 1 - x)


def test_clr_accepts_correct_and_vectorized(capsys):
    checks.check_triangular_clr(clr)
    checks.check_triangular_clr(clr_numpy)
    assert "triangular_clr: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (clr_no_floor, "floor"),
        (clr_upside_down, "upside down"),
        (clr_full_cycle, "HALF a cycle"),
        (clr_cycle_from_zero, "never moves"),
        (clr_sawtooth, "values differ"),
        (lambda step, base_lr, max_lr, step_size: [1.0, 2.0], "one number"),
    ],
)
def test_clr_rejects_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_triangular_clr(wrong)


# --------------------------------------------------------------------------------------- linear warmup (Goyal 2017)
def warmup(step, warmup_steps, target_lr, start_lr=0.0):
    if step >= warmup_steps:
        return target_lr
    return start_lr + (target_lr - start_lr) * step / warmup_steps


def warmup_ahead(step, warmup_steps, target_lr, start_lr=0.0):
    return warmup(step + 1, warmup_steps, target_lr, start_lr)


def warmup_no_handover(step, warmup_steps, target_lr, start_lr=0.0):
    return start_lr + (target_lr - start_lr) * step / warmup_steps


def warmup_from_zero(step, warmup_steps, target_lr, start_lr=0.0):
    return target_lr * step / warmup_steps if step < warmup_steps else target_lr


def warmup_constant(step, warmup_steps, target_lr, start_lr=0.0):
    return start_lr if step < warmup_steps else target_lr


def test_warmup_accepts_correct(capsys):
    checks.check_linear_warmup(warmup)
    assert "linear_warmup: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (warmup_ahead, "one step ahead"),
        (warmup_no_handover, "keeps growing"),
        (warmup_from_zero, "ignores start_lr"),
        (warmup_constant, "constant warmup"),
        (lambda step, warmup_steps, target_lr, start_lr=0.0: target_lr, "values differ"),
    ],
)
def test_warmup_rejects_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_linear_warmup(wrong)


# --------------------------------------------------------------------------------- snapshot cosine (Huang 2017, eq. 2)
def snapshot(t, T, M, initial_lr):
    length = math.ceil(T / M)
    return initial_lr / 2 * (math.cos(math.pi * ((t - 1) % length) / length) + 1)


def snapshot_t_not_shifted(t, T, M, initial_lr):
    length = math.ceil(T / M)
    return initial_lr / 2 * (math.cos(math.pi * (t % length) / length) + 1)


def snapshot_floor(t, T, M, initial_lr):
    length = T // M
    return initial_lr / 2 * (math.cos(math.pi * ((t - 1) % length) / length) + 1)


def snapshot_no_plus_one(t, T, M, initial_lr):
    length = math.ceil(T / M)
    return initial_lr / 2 * math.cos(math.pi * ((t - 1) % length) / length)


def snapshot_no_mod(t, T, M, initial_lr):
    length = math.ceil(T / M)
    return initial_lr / 2 * (math.cos(math.pi * (t - 1) / length) + 1)


def snapshot_over_T(t, T, M, initial_lr):
    length = math.ceil(T / M)
    return initial_lr / 2 * (math.cos(math.pi * ((t - 1) % length) / T) + 1)


def test_snapshot_reference_hand_values():
    # T=20, M=4: cycles of 5 steps; t=1 and t=6 restart at initial_lr, t=3 is at the cosine's midpoint.
    assert snapshot(1, 20, 4, 0.1) == pytest.approx(0.1)
    assert snapshot(6, 20, 4, 0.1) == pytest.approx(0.1)
    assert snapshot(3, 20, 4, 0.1) == pytest.approx(0.05 * (math.cos(math.pi * 2 / 5) + 1))


def snapshot_numpy(t, T, M, initial_lr):
    # Vectorized form, computed in float32 (within the check's tolerance).
    length = np.float32(math.ceil(T / M))
    t = np.asarray(t, dtype=np.float32)
    return np.float32(initial_lr) / 2 * (np.cos(np.float32(np.pi) * np.mod(t - 1, length) / length) + 1)


def test_snapshot_accepts_correct(capsys):
    checks.check_snapshot_lr(snapshot)
    checks.check_snapshot_lr(snapshot_numpy)
    assert "snapshot_lr: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (snapshot_t_not_shifted, r"\(t - 1\)"),
        (snapshot_floor, "floor"),
        (snapshot_no_plus_one, r"\+ 1"),
        (snapshot_no_mod, "never restarts"),
        (snapshot_over_T, "not by T"),
    ],
)
def test_snapshot_rejects_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_snapshot_lr(wrong)


# ------------------------------------------------------------------------------------------- averaging the snapshots
def average(members, x=None):
    outputs = [np.asarray(m(x)) if isinstance(m, keras.Model) else np.asarray(m) for m in members]
    mean = sum(outputs) / len(outputs)
    return mean, mean.argmax(axis=1)


def average_sum(members, x=None):
    mean, labels = average(members, x)
    return mean * len(members), labels


def average_vote(members, x=None):
    mean, _ = average(members, x)
    outputs = [np.asarray(m(x)) if isinstance(m, keras.Model) else np.asarray(m) for m in members]
    votes = np.stack([o.argmax(axis=1) for o in outputs])
    labels = np.array([np.bincount(v, minlength=mean.shape[1]).argmax() for v in votes.T])
    return mean, labels


def average_geometric(members, x=None):
    outputs = [np.asarray(m(x)) if isinstance(m, keras.Model) else np.asarray(m) for m in members]
    mean = np.exp(np.mean(np.log(outputs), axis=0))
    return mean, mean.argmax(axis=1)


def average_wrong_axis(members, x=None):
    mean, _ = average(members, x)
    return mean.mean(axis=1), mean.argmax(axis=0)


def average_argmax_axis0(members, x=None):
    mean, _ = average(members, x)
    return mean, np.zeros(len(mean), dtype=int)


def average_predict(members, x=None):
    # The lab's form: Keras models through `predict`, the mean by np.mean.
    outputs = [
        np.asarray(m.predict(x, verbose=0)) if isinstance(m, keras.Model) else np.asarray(m) for m in members
    ]
    mean = np.mean(outputs, axis=0)
    return mean, np.argmax(mean, axis=1)


def test_average_accepts_correct(capsys):
    checks.check_average_predictions(average)
    checks.check_average_predictions(average_predict)
    assert "average_predictions: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (average_sum, "summed"),
        (average_vote, "majority vote"),
        (average_geometric, "geometric mean"),
        (average_wrong_axis, "wrong axis"),
        (average_argmax_axis0, "argmax over the classes"),
        (lambda members, x=None: average(members, x)[0], "pair"),
    ],
)
def test_average_rejects_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_average_predictions(wrong)


def test_majority_vote_differs_from_average_on_check_data():
    # The majority-vote diagnosis is only reachable if the check's data separates the two rules.
    members = checks._probability_members(3, 6, 4, seed=0)
    averaged = np.mean(members, axis=0).argmax(axis=1)
    votes = np.stack([p.argmax(axis=1) for p in members])
    majority = np.array([np.bincount(v, minlength=4).argmax() for v in votes.T])
    assert not np.array_equal(averaged, majority)


def average_geometric_normalized(members, x=None):
    mean, _ = average_geometric(members, x)
    mean = mean / mean.sum(axis=1, keepdims=True)
    return mean, mean.argmax(axis=1)


def average_float_labels(members, x=None):
    mean, labels = average(members, x)
    return mean, labels.astype(float)


def average_extra_class(members, x=None):
    mean, labels = average(members, x)
    return np.concatenate([mean, np.zeros((len(mean), 1))], axis=1), labels


# -------------------------------------------------------------------------------- every known mistake, by message
CLR_MESSAGES = {
    clr_no_floor: "the rate never moves from base_lr: `cycle` must be floor(1 + step / (2 * step_size)), the floor "
    "of 1 + ..., starting at 1 (without the floor, or without the 1 +, x is never below 1)",
    clr_upside_down: "the triangle is upside down (the rate starts at max_lr): use max(0, 1 - x), not max(0, x), "
    "and do not swap base_lr and max_lr",
    clr_full_cycle: "the cycle is only step_size steps long: step_size is HALF a cycle, so use step / (2 * "
    "step_size) for the cycle and step / step_size for x",
}

WARMUP_MESSAGES = {
    warmup_ahead: "the ramp is one step ahead: the rate at step 0 must be start_lr, i.e. use step / warmup_steps, "
    "not (step + 1) / warmup_steps",
    warmup_no_handover: "the rate keeps growing after the warmup: from step warmup_steps on, return target_lr",
    warmup_from_zero: "the ramp ignores start_lr: go from start_lr to target_lr, start_lr + (target_lr - start_lr) "
    "* step / warmup_steps",
    warmup_constant: "this is a constant warmup (start_lr throughout): the gradual warmup rises linearly to "
    "target_lr",
}


def snapshot_over_M(t, T, M, initial_lr):
    length = T / M
    return initial_lr / 2 * (math.cos(math.pi * ((t - 1) % length) / length) + 1)


SNAPSHOT_MESSAGES = {
    snapshot_t_not_shifted: "the rate at t=1 is not initial_lr: the formula uses (t - 1) mod ceil(T / M), t being "
    "1-based",
    snapshot_floor: "the cycle length is floor(T / M): Huang et al. use ceil(T / M) (math.ceil), which differs when "
    "M does not divide T",
    snapshot_over_M: "the cycle length is T / M without rounding up: use math.ceil(T / M)",
    snapshot_no_plus_one: "the rate goes negative: the formula is initial_lr / 2 * (cos(...) + 1); the + 1 is "
    "missing",
    snapshot_no_mod: "the rate never restarts: take (t - 1) mod ceil(T / M) so that each cycle starts again at "
    "initial_lr",
    snapshot_over_T: "one cosine over all T steps: divide by the cycle length ceil(T / M), not by T",
}

AVERAGE_MESSAGES = {
    average_sum: "the probabilities are summed, not averaged: divide by the number of members (np.mean)",
    average_vote: "the labels are a majority vote: take the argmax of the AVERAGED probabilities",
    average_geometric: "that is a geometric mean: average the probabilities themselves (Huang et al.), not their "
    "logs",
    average_geometric_normalized: "that is a geometric mean: average the probabilities themselves (Huang et al.), "
    "not their logs",
    average_wrong_axis: "averaged over the wrong axis: average over the members (axis=0 of the stacked predictions)",
    average_argmax_axis0: "labels = argmax over the classes (axis=1) of the averaged probabilities: values differ",
    average_float_labels: "labels must be integer class indices, got dtype float64",
    average_extra_class: "averaged probabilities: expected shape (6, 4), got (6, 5)",
}


@pytest.mark.parametrize(
    "check, wrong, message",
    [(checks.check_triangular_clr, w, m) for w, m in CLR_MESSAGES.items()]
    + [(checks.check_linear_warmup, w, m) for w, m in WARMUP_MESSAGES.items()]
    + [(checks.check_snapshot_lr, w, m) for w, m in SNAPSHOT_MESSAGES.items()]
    + [(checks.check_average_predictions, w, m) for w, m in AVERAGE_MESSAGES.items()],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_each_known_mistake_is_named_with_its_full_message(check, wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        check(wrong)


def test_linear_warmup_requires_the_start_lr_default():
    def warmup_default_one(step, warmup_steps, target_lr, start_lr=1.0):
        return warmup(step, warmup_steps, target_lr, start_lr)

    with pytest.raises(
        ExerciseCheckError, match=re.escape("linear_warmup(2, 4, 1.0) (start_lr defaults to 0)")
    ):
        checks.check_linear_warmup(warmup_default_one)
