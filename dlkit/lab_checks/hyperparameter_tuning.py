"""Visible checks for lab 05 (hyperparameter tuning): the log-scale sampler, the 1 - beta sampler, coarse to fine.

Each check calls the student's function on small seeded inputs, compares it with the formula written out here,
and, on a mismatch, names the usual mistake (linear instead of log sampling, sampling beta directly, wrong range).
"""

import numpy as np

from dlkit.lab_checks.expect import expect_close, expect_shape, expect_true, fail, passed


def _draw(function, seed, *args):
    np.random.seed(seed)
    return np.asarray(function(*args), dtype=float)


def _uniforms(seed, num_samples):
    np.random.seed(seed)
    return np.random.rand(num_samples)


def check_sample_log_uniform(sample_log_uniform):
    """Checks `sample_log_uniform(low, high, num_samples)`: r = log10(low) + (log10(high) - log10(low)) * rand."""
    where = "sample_log_uniform"
    values = _draw(sample_log_uniform, 0, 1e-4, 1.0, 4000)
    expect_shape(where, values, (4000,))
    expect_true(where, np.all(np.isfinite(values)), "returned NaN or infinite values")
    expect_true(
        where,
        values.min() >= 1e-4 * (1 - 1e-9) and values.max() <= 1.0 * (1 + 1e-9),
        f"with low=1e-4, high=1 every value must lie in [1e-4, 1]; got values in [{values.min():.3g}, "
        f"{values.max():.3g}]. Did you sample the exponent r in [-4, 0] and return 10**r (not r itself)?",
    )
    above = float(np.mean(values > 0.1))
    expect_true(
        where,
        above < 0.5,
        f"{above:.0%} of your samples are above 0.1: that is uniform (linear) sampling, which leaves the small "
        "learning rates almost untried. Sample the exponent uniformly, r = log10(low) + (log10(high) - "
        "log10(low)) * np.random.rand(num_samples), and return 10**r.",
    )
    shares = np.histogram(np.log10(values), bins=[-4, -3, -2, -1, 0])[0] / len(values)
    expect_true(
        where,
        np.all(np.abs(shares - 0.25) < 0.05),
        f"on a log scale each decade of [1e-4, 1] should get about 25% of the samples; got {np.round(shares, 2)}",
    )
    got = _draw(sample_log_uniform, 1, 1e-3, 1e-1, 5)
    u = _uniforms(1, 5)
    expected = 10.0 ** (-3.0 + 2.0 * u)
    if got.shape == expected.shape and np.allclose(got, 10.0 ** (-1.0 - 2.0 * u), rtol=1e-6):
        fail(
            where,
            "you drew r = log10(high) - (...) * rand, starting from the high end. It has the right distribution "
            "(the course's r = -4 * rand() does the same), but the grader reproduces your draws: start from the low "
            "end, r = log10(low) + (log10(high) - log10(low)) * np.random.rand(num_samples).",
        )
    if got.shape == expected.shape and np.allclose(got, 10.0 ** (-4.0 * u), rtol=1e-6):
        fail(
            where, "with low=1e-3, high=1e-1 you still sampled [1e-4, 1]: use the `low` and `high` arguments."
        )
    expect_close(
        where
        + " (low=1e-3, high=1e-1, after np.random.seed(1); draw exactly one np.random.rand(num_samples))",
        got,
        expected,
        rtol=1e-6,
    )
    passed(where)


def check_sample_beta(sample_beta):
    """Checks `sample_beta(low, high, num_samples)`: r = log10(1 - high) + (...) * rand, beta = 1 - 10**r."""
    where = "sample_beta"
    betas = _draw(sample_beta, 0, 0.9, 0.999, 4000)
    expect_shape(where, betas, (4000,))
    expect_true(where, np.all(np.isfinite(betas)), "returned NaN or infinite values")
    expect_true(
        where,
        betas.min() >= 0.9 - 1e-9 and betas.max() <= 0.999 + 1e-9,
        f"with low=0.9, high=0.999 every beta must lie in [0.9, 0.999]; got values in [{betas.min():.4g}, "
        f"{betas.max():.4g}]. Return beta = 1 - 10**r, not r or 1 - beta.",
    )
    near_one = float(np.mean(betas > 0.99))
    expect_true(
        where,
        near_one > 0.35,
        f"only {near_one:.0%} of your betas lie in [0.99, 0.999]; sampled correctly about half of them do. "
        "Sampling beta itself (uniformly, or log-uniformly) wastes the samples where beta matters least. "
        "Sample 1 - beta on a log scale: r in [log10(1 - high), log10(1 - low)] = [-3, -1], beta = 1 - 10**r.",
    )
    expect_true(
        where,
        abs(near_one - 0.5) < 0.05,
        f"{near_one:.0%} of your betas lie in [0.99, 0.999]; sampling r uniformly in [-3, -1] puts 50% there",
    )
    wide = _draw(sample_beta, 2, 0.5, 0.99, 200)
    expect_true(
        where,
        wide.min() >= 0.5 - 1e-9 and wide.max() <= 0.99 + 1e-9 and wide.min() < 0.8,
        f"with low=0.5, high=0.99 your betas span [{wide.min():.4g}, {wide.max():.4g}]: compute the exponents "
        "from the arguments (log10(1 - high), log10(1 - low)) instead of hard-coding [-3, -1].",
    )
    got = _draw(sample_beta, 1, 0.9, 0.999, 5)
    u = _uniforms(1, 5)
    if got.shape == (5,) and np.allclose(got, 1.0 - 10.0 ** (-1.0 - 2.0 * u), rtol=1e-9):
        fail(
            where,
            "you drew r from the high end (r = -1 - 2 * rand). Right distribution, but the grader reproduces your "
            "draws: r = log10(1 - high) + (log10(1 - low) - log10(1 - high)) * np.random.rand(num_samples).",
        )
    expect_close(
        where
        + " (low=0.9, high=0.999, after np.random.seed(1); draw exactly one np.random.rand(num_samples))",
        got,
        1.0 - 10.0 ** (-3.0 + 2.0 * u),
        rtol=1e-9,
        atol=1e-12,
    )
    passed(where)


def check_narrow_log_range(narrow_log_range):
    """Checks `narrow_log_range(values, scores, top_k, margin)` on a hand-made coarse search."""
    where = "narrow_log_range"
    values = np.array([2e-4, 1e-3, 5e-3, 2e-2, 8e-2, 0.3, 0.9])
    scores = np.array([0.55, 0.70, 0.93, 0.97, 0.95, 0.80, 0.50])
    result = narrow_log_range(values, scores, top_k=3, margin=0.5)
    expect_true(
        where,
        isinstance(result, tuple | list) and len(result) == 2,
        f"expected a tuple (low, high); got {result!r}",
    )
    low, high = float(result[0]), float(result[1])
    best_logs = np.log10([5e-3, 2e-2, 8e-2])  # the three highest scores
    expected = (10 ** (best_logs.min() - 0.5), 10 ** (best_logs.max() + 0.5))
    worst_logs = np.log10([2e-4, 1e-3, 0.9])
    if np.allclose([low, high], [10 ** (worst_logs.min() - 0.5), 10 ** (worst_logs.max() + 0.5)], rtol=1e-6):
        fail(
            where, "your range surrounds the three LOWEST scores: higher scores are better (sort descending)."
        )
    if np.allclose([low, high], [5e-3 - 0.5, 8e-2 + 0.5], rtol=1e-6) or np.allclose(
        [low, high], [5e-3 * 0.5, 8e-2 * 1.5], rtol=1e-6
    ):
        fail(
            where,
            "pad on the log scale: low = 10**(min(log10(best)) - margin), high = 10**(max(...) + margin).",
        )
    if np.allclose([low, high], [5e-3, 8e-2], rtol=1e-6):
        fail(where, "you forgot the margin: pad `margin` decades on each side of the best trials.")
    expect_true(where, 0 < low < high, f"expected 0 < low < high; got ({low:.4g}, {high:.4g})")
    expect_close(where + " (top_k=3, margin=0.5)", [low, high], expected, rtol=1e-6)
    single = narrow_log_range(values, scores, top_k=1, margin=0.0)
    expect_close(
        where + " (top_k=1, margin=0: the best trial's value alone)",
        [float(single[0]), float(single[1])],
        [2e-2, 2e-2],
        rtol=1e-6,
    )
    passed(where)
