"""Sampling hyperparameters on the right scale: log-uniform for the learning rate, log-uniform `1 - beta`.

Both samplers draw exactly one `rand(num_samples)` call, so with `seed=None` they reproduce the course's recipe
after `np.random.seed(s)`:

    r = log10(low) + (log10(high) - log10(low)) * np.random.rand(num_samples)   # alpha = 10**r

Reference: Bergstra & Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 13 (2012).
"""

import numpy as np

from dlkit._checks import check_float, check_int, check_seed


def _uniform(num_samples, seed):
    num_samples = check_int("num_samples", num_samples, minimum=1)
    seed = check_seed("seed", seed)
    # RandomState(seed).rand draws the same stream as np.random.seed(seed); np.random.rand.
    rand = np.random.rand if seed is None else np.random.RandomState(seed).rand
    return rand(num_samples)


def sample_log_uniform(low, high, num_samples, seed=None):
    """Draws values uniformly on a log scale between `low` and `high` (e.g. the learning rate).

    Each decade gets the same share of samples: between 1e-4 and 1, a quarter fall in [1e-4, 1e-3], a quarter in
    [1e-3, 1e-2], and so on, where uniform sampling would put 90% of them in [0.1, 1].

        r = log10(low) + (log10(high) - log10(low)) * rand(num_samples)
        values = 10 ** r

    Example:

    >>> sample_log_uniform(1e-4, 1.0, 3, seed=0)  # r = -4 + 4 * rand(3)
    array([0.0156..., 0.0725..., 0.0257...])

    Args:
        low: Float > 0. Smallest value.
        high: Float > low. Largest value.
        num_samples: Integer >= 1. How many values to draw.
        seed: Integer >= 0 or None (None: NumPy's global state, so `dlkit.set_seed` governs it).

    Returns:
        A float64 array of shape (num_samples,), every value in [low, high].

    Raises:
        ValueError: on a bound <= 0, `high <= low`, or a bad `num_samples`/`seed`.
    """
    low = check_float("low", low, minimum=0.0, min_inclusive=False)
    high = check_float("high", high, minimum=low, min_inclusive=False)
    u = _uniform(num_samples, seed)
    r = np.log10(low) + (np.log10(high) - np.log10(low)) * u
    return 10.0**r


def sample_beta(low, high, num_samples, seed=None):
    """Draws a momentum / averaging `beta` in [low, high] by sampling `1 - beta` on a log scale.

    `beta` sets an average over about 1 / (1 - beta) steps: 0.9 -> 10, 0.999 -> 1000. Near 1 a tiny change
    of `beta` changes that window a lot, so `1 - beta` (not `beta`) is sampled log-uniformly:

        r = log10(1 - high) + (log10(1 - low) - log10(1 - high)) * rand(num_samples)   # [-3, -1] for [0.9, 0.999]
        beta = 1 - 10 ** r

    Example:

    >>> betas = sample_beta(0.9, 0.999, 1000, seed=0)
    >>> np.mean(betas > 0.99)  # half the samples in [0.99, 0.999], not 10%
    0.5...

    Args:
        low: Float in [0, 1). Smallest beta.
        high: Float in (low, 1). Largest beta.
        num_samples: Integer >= 1. How many values to draw.
        seed: Integer >= 0 or None (None: NumPy's global state).

    Returns:
        A float64 array of shape (num_samples,), every value in [low, high].

    Raises:
        ValueError: unless 0 <= low < high < 1, or on a bad `num_samples`/`seed`.
    """
    low = check_float("low", low, minimum=0.0, maximum=1.0, max_inclusive=False)
    high = check_float("high", high, minimum=low, maximum=1.0, min_inclusive=False, max_inclusive=False)
    u = _uniform(num_samples, seed)
    r_low, r_high = np.log10(1.0 - high), np.log10(1.0 - low)
    r = r_low + (r_high - r_low) * u
    return 1.0 - 10.0**r
