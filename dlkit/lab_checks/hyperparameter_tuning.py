"""Visible checks for lab 05 (hyperparameter tuning): the log-scale sampler, the 1 - beta sampler, coarse to fine.

Each exercise has a NumPy reference written out here (`_reference_sample_log_uniform`, `_reference_sample_beta`,
`_reference_narrow_log_range`; the samplers' references take the uniform draws `u` instead of drawing them) and a
table of known mistakes computed by that reference with changed arguments. Each check first tests the
distribution of many seeded draws (linear instead of log sampling, sampling beta directly, a wrong range), then
hands the student's value on small seeded inputs, the reference's and the table to `expect.check_value`, which
names the mistake a wrong value reproduces.
"""

import numpy as np

from dlkit.lab_checks.expect import check_value, expect_shape, expect_true, passed


def _draw(function, seed, *args):
    """The student's `function(*args)` after `np.random.seed(seed)`, as a float array."""
    np.random.seed(seed)
    return np.asarray(function(*args), dtype=float)


def _uniforms(seed, num_samples):
    """The `np.random.rand(num_samples)` draws after `np.random.seed(seed)`."""
    np.random.seed(seed)
    return np.random.rand(num_samples)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: log-uniform sampling


def _reference_sample_log_uniform(low, high, u):
    """Log-uniform samples in [low, high] from uniform draws `u` in [0, 1).

    ```
    r = log10(low) + (log10(high) - log10(low)) * u
    values = 10**r
    ```

    Args:
        low, high: Floats, 0 < low < high.
        u: Float array. The draws `np.random.rand(num_samples)`.

    Returns:
        Float array shaped like `u`.
    """
    r = np.log10(low) + (np.log10(high) - np.log10(low)) * np.asarray(u, dtype=float)
    return 10.0**r


def _sample_log_uniform_mistakes(low, high, u):
    """Known wrong `sample_log_uniform(low, high, len(u))` values after the draws `u`: (message, wrong value)
    pairs."""
    fixed_range = (
        f"with low={low:g}, high={high:g} you still sampled [1e-4, 1]: use the `low` and `high` arguments."
    )
    return [
        (
            "you drew r = log10(high) - (...) * rand, starting from the high end. It has the right distribution "
            "(the course's r = -4 * rand() does the same), but the grader reproduces your draws: start from the "
            "low end, r = log10(low) + (log10(high) - log10(low)) * np.random.rand(num_samples).",
            lambda: _reference_sample_log_uniform(low, high, 1.0 - np.asarray(u)),
        ),
        (fixed_range, lambda: _reference_sample_log_uniform(1e-4, 1.0, 1.0 - np.asarray(u))),  # r = -4 * rand
        (fixed_range, lambda: _reference_sample_log_uniform(1e-4, 1.0, u)),
    ]


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
    check_value(
        where
        + " (low=1e-3, high=1e-1, after np.random.seed(1); draw exactly one np.random.rand(num_samples))",
        got,
        _reference_sample_log_uniform(1e-3, 1e-1, u),
        _sample_log_uniform_mistakes(1e-3, 1e-1, u),
        rtol=1e-6,
        atol=1e-9,
    )
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: sampling beta


def _reference_sample_beta(low, high, u):
    """Betas in [low, high] with 1 - beta log-uniform, from uniform draws `u` in [0, 1).

    ```
    r = log10(1 - high) + (log10(1 - low) - log10(1 - high)) * u
    beta = 1 - 10**r
    ```

    Args:
        low, high: Floats, 0 <= low < high < 1.
        u: Float array. The draws `np.random.rand(num_samples)`.

    Returns:
        Float array shaped like `u`.
    """
    r_low, r_high = np.log10(1.0 - high), np.log10(1.0 - low)
    return 1.0 - 10.0 ** (r_low + (r_high - r_low) * np.asarray(u, dtype=float))


def _sample_beta_mistakes(low, high, u):
    """Known wrong `sample_beta(low, high, len(u))` values after the draws `u`: {message: wrong value}."""
    return {
        "you drew r from the high end (r = -1 - 2 * rand). Right distribution, but the grader reproduces your "
        "draws: r = log10(1 - high) + (log10(1 - low) - log10(1 - high)) * np.random.rand(num_samples).": lambda: (
            _reference_sample_beta(low, high, 1.0 - np.asarray(u))
        ),
    }


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
    check_value(
        where
        + " (low=0.9, high=0.999, after np.random.seed(1); draw exactly one np.random.rand(num_samples))",
        got,
        _reference_sample_beta(0.9, 0.999, u),
        _sample_beta_mistakes(0.9, 0.999, u),
        rtol=1e-9,
        atol=1e-12,
    )
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: coarse to fine


def _reference_narrow_log_range(values, scores, top_k, margin, *, pad="log"):
    """The (low, high) range around the `top_k` best-scoring trials, padded by `margin` decades.

    ```
    best = the values of the top_k highest scores
    low, high = 10**(min(log10(best)) - margin), 10**(max(log10(best)) + margin)
    ```

    Args:
        values: Float array. The trials' values (> 0).
        scores: Float array. Their scores (higher is better).
        top_k: Integer >= 1.
        margin: Float >= 0. Padding in decades.
        pad: String. "log" (the answer); the mistakes' "linear" (min - margin, max + margin) and "relative"
            (min * (1 - margin), max * (1 + margin)).

    Returns:
        Float array [low, high].
    """
    best = np.asarray(values, dtype=float)[
        np.argsort(-np.asarray(scores, dtype=float), kind="stable")[:top_k]
    ]
    if pad == "linear":
        return np.array([best.min() - margin, best.max() + margin])
    if pad == "relative":
        return np.array([best.min() * (1 - margin), best.max() * (1 + margin)])
    logs = np.log10(best)
    return 10.0 ** np.array([logs.min() - margin, logs.max() + margin])


def _narrow_log_range_mistakes(values, scores, top_k, margin):
    """Known wrong `narrow_log_range(values, scores, top_k, margin)` values: (message, wrong [low, high]) pairs."""
    log_scale = "pad on the log scale: low = 10**(min(log10(best)) - margin), high = 10**(max(...) + margin)."
    lowest = "three" if top_k == 3 else f"top_k={top_k}"
    return [
        (
            f"your range surrounds the {lowest} LOWEST scores: higher scores are better (sort descending).",
            lambda: _reference_narrow_log_range(values, -np.asarray(scores, dtype=float), top_k, margin),
        ),
        (log_scale, lambda: _reference_narrow_log_range(values, scores, top_k, margin, pad="linear")),
        (log_scale, lambda: _reference_narrow_log_range(values, scores, top_k, margin, pad="relative")),
        (
            "you forgot the margin: pad `margin` decades on each side of the best trials.",
            lambda: _reference_narrow_log_range(values, scores, top_k, 0.0),
        ),
        (
            "you ignored the `top_k` argument: take the `top_k` best trials.",
            lambda: _reference_narrow_log_range(values, scores, 3, margin),
        ),
    ]


def check_narrow_log_range(narrow_log_range):
    """Checks `narrow_log_range(values, scores, top_k, margin)` on a hand-made coarse search."""
    where = "narrow_log_range"
    values = np.array([2e-4, 1e-3, 5e-3, 2e-2, 8e-2, 0.3, 0.9])
    scores = np.array([0.55, 0.70, 0.93, 0.97, 0.95, 0.80, 0.50])
    for top_k, margin, detail in [
        (3, 0.5, "top_k=3, margin=0.5"),
        (1, 0.0, "top_k=1, margin=0: the best trial's value alone"),
    ]:
        result = narrow_log_range(values.copy(), scores.copy(), top_k=top_k, margin=margin)
        expect_true(
            where,
            isinstance(result, tuple | list) and len(result) == 2,
            f"expected a tuple (low, high); got {result!r}",
        )
        low, high = float(result[0]), float(result[1])
        expect_true(where, low <= high, f"expected low <= high; got ({low:.4g}, {high:.4g})")
        check_value(
            f"{where} ({detail})",
            [low, high],
            _reference_narrow_log_range(values, scores, top_k, margin),
            _narrow_log_range_mistakes(values, scores, top_k, margin),
            rtol=1e-6,
            atol=1e-12,
        )
    passed(where)
