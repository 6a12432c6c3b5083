"""Lab 05 visible checks: they pass the reference solutions and name the typical mistakes."""

import re

import numpy as np
import pytest

from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import hyperparameter_tuning as checks


def log_uniform(low, high, num_samples):
    r = np.log10(low) + (np.log10(high) - np.log10(low)) * np.random.rand(num_samples)
    return 10.0**r


def beta_sampler(low, high, num_samples):
    r_low, r_high = np.log10(1 - high), np.log10(1 - low)
    return 1.0 - 10.0 ** (r_low + (r_high - r_low) * np.random.rand(num_samples))


def narrow(values, scores, top_k=3, margin=0.25):
    best = np.argsort(-np.asarray(scores), kind="stable")[:top_k]
    logs = np.log10(np.asarray(values)[best])
    return 10.0 ** (logs.min() - margin), 10.0 ** (logs.max() + margin)


def test_reference_solutions_pass(capsys):
    checks.check_sample_log_uniform(log_uniform)
    checks.check_sample_beta(beta_sampler)
    checks.check_narrow_log_range(narrow)
    out = capsys.readouterr().out
    assert out.count("all tests passed") == 3


def test_library_samplers_pass():
    from dlkit.tuning import narrow_log_range, sample_beta, sample_log_uniform

    checks.check_sample_log_uniform(sample_log_uniform)
    checks.check_sample_beta(sample_beta)
    checks.check_narrow_log_range(narrow_log_range)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda low, high, n: np.random.uniform(low, high, n), "linear"),
        (
            lambda low, high, n: np.log10(low) + (np.log10(high) - np.log10(low)) * np.random.rand(n),
            "10\\*\\*r",
        ),
        (lambda low, high, n: 10.0 ** (-4 * np.random.rand(n)), "use the `low` and `high`"),
        (
            lambda low, high, n: (
                10.0 ** (np.log10(high) - (np.log10(high) - np.log10(low)) * np.random.rand(n))
            ),
            "low end",
        ),
        (
            lambda low, high, n: np.array(
                [
                    10.0 ** (np.log10(low) + (np.log10(high) - np.log10(low)) * np.random.rand())
                    for _ in range(n)
                ]
            )[::-1],
            "values differ",
        ),
        (
            lambda low, high, n: (
                10.0 ** (np.log10(low) + (np.log10(high) - np.log10(low)) * np.random.rand(n, 1))
            ),
            "shape",
        ),
    ],
)
def test_log_uniform_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_sample_log_uniform(wrong)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda low, high, n: np.random.uniform(low, high, n), "Sample 1 - beta on a log scale"),
        (
            lambda low, high, n: 10.0 ** np.random.uniform(np.log10(low), np.log10(high), n),
            "Sampling beta itself",
        ),
        (lambda low, high, n: 1.0 - 10.0 ** (-3.0 + 2.0 * np.random.rand(n)), "hard-coding"),
        (lambda low, high, n: 10.0 ** (-3.0 + 2.0 * np.random.rand(n)), "must lie in"),
        (
            lambda low, high, n: (
                1.0
                - 10.0 ** (np.log10(1 - low) - (np.log10(1 - low) - np.log10(1 - high)) * np.random.rand(n))
            ),
            "high end",
        ),
    ],
)
def test_beta_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_sample_beta(wrong)


def _lowest(values, scores, top_k=3, margin=0.25):
    return narrow(values, -np.asarray(scores), top_k, margin)


def _linear_margin(values, scores, top_k=3, margin=0.25):
    best = np.argsort(-np.asarray(scores))[:top_k]
    chosen = np.asarray(values)[best]
    return chosen.min() - margin, chosen.max() + margin


def _no_margin(values, scores, top_k=3, margin=0.25):
    return narrow(values, scores, top_k, 0.0)


def _ignores_top_k(values, scores, top_k=3, margin=0.25):
    return narrow(values, scores, 3, margin)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_lowest, "LOWEST"),
        (_linear_margin, "pad on the log scale"),
        (_no_margin, "forgot the margin"),
        (_ignores_top_k, "top_k=1"),
        (lambda v, s, top_k=3, margin=0.25: 0.01, "tuple"),
    ],
)
def test_narrow_mistakes(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_narrow_log_range(wrong)


# ---------------------------------------------------------------------------------------------------------------
# Each known mistake, written here as the wrong solution a student would write, is named by its full message.


def _log_uniform_from_high_end(low, high, n):
    return 10.0 ** (np.log10(high) - (np.log10(high) - np.log10(low)) * np.random.rand(n))


def _log_uniform_fixed_range(low, high, n):
    return 10.0 ** (-4.0 + 4.0 * np.random.rand(n))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (
            _log_uniform_from_high_end,
            "you drew r = log10(high) - (...) * rand, starting from the high end. It has the right distribution "
            "(the course's r = -4 * rand() does the same), but the grader reproduces your draws: start from the "
            "low end, r = log10(low) + (log10(high) - log10(low)) * np.random.rand(num_samples).",
        ),
        (
            lambda low, high, n: 10.0 ** (-4 * np.random.rand(n)),
            "with low=0.001, high=0.1 you still sampled [1e-4, 1]: use the `low` and `high` arguments.",
        ),
        (
            _log_uniform_fixed_range,
            "with low=0.001, high=0.1 you still sampled [1e-4, 1]: use the `low` and `high` arguments.",
        ),
    ],
)
def test_each_log_uniform_mistake_is_named(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_sample_log_uniform(wrong)


def test_each_beta_mistake_is_named():
    def from_high_end(low, high, n):
        r_low, r_high = np.log10(1 - high), np.log10(1 - low)
        return 1.0 - 10.0 ** (r_high - (r_high - r_low) * np.random.rand(n))

    message = (
        "you drew r from the high end (r = -1 - 2 * rand). Right distribution, but the grader reproduces your "
        "draws: r = log10(1 - high) + (log10(1 - low) - log10(1 - high)) * np.random.rand(num_samples)."
    )
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_sample_beta(from_high_end)


def _relative_margin(values, scores, top_k=3, margin=0.25):
    best = np.argsort(-np.asarray(scores))[:top_k]
    chosen = np.asarray(values)[best]
    return chosen.min() * (1 - margin), chosen.max() * (1 + margin)


def _reversed(values, scores, top_k=3, margin=0.25):
    low, high = narrow(values, scores, top_k, margin)
    return high, low


LOG_SCALE = "pad on the log scale: low = 10**(min(log10(best)) - margin), high = 10**(max(...) + margin)."


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (
            _lowest,
            "your range surrounds the three LOWEST scores: higher scores are better (sort descending).",
        ),
        (_linear_margin, LOG_SCALE),
        (_relative_margin, LOG_SCALE),
        (_no_margin, "you forgot the margin: pad `margin` decades on each side of the best trials."),
        (_ignores_top_k, "you ignored the `top_k` argument: take the `top_k` best trials."),
        (_reversed, "expected low <= high"),
    ],
)
def test_each_narrow_mistake_is_named(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_narrow_log_range(wrong)
