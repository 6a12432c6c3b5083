"""The narrowing step of a coarse-to-fine search on a log scale."""

import numpy as np

from dlkit._checks import check_array, check_float, check_int


def narrow_log_range(values, scores, top_k=3, margin=0.25):
    """Returns a smaller (low, high) range, on a log scale, around the best `top_k` trials of a coarse search.

    Coarse to fine: after a coarse random search, zoom into the region where the best trials lie and sample it
    more densely. With the trials' values (e.g. learning rates) and scores (higher is better):

        best = the top_k values with the highest scores (ties: the earlier trial first)
        low  = 10 ** (min(log10(best)) - margin)
        high = 10 ** (max(log10(best)) + margin)

    Example:

    >>> narrow_log_range([1e-4, 1e-2, 3e-2, 1.0], [0.5, 0.9, 0.95, 0.6], top_k=2, margin=0.5)
    (0.00316..., 0.0948...)

    Args:
        values: 1-D array of floats > 0. The hyperparameter value of each trial.
        scores: 1-D array of floats, same length. Each trial's objective (higher is better; e.g. dev accuracy).
        top_k: Integer in [1, len(values)]. How many of the best trials the new range must contain.
        margin: Float >= 0. Padding on each side, in decades (0.25: a factor 10**0.25 ~ 1.78).

    Returns:
        Tuple of two floats `(low, high)`, low <= high.

    Raises:
        ValueError: on mismatched lengths, a value <= 0, non-finite scores, or `top_k`/`margin` out of range.
    """
    values = check_array("values", values, ndim=1).astype(float)
    scores = check_array("scores", scores, ndim=1).astype(float)
    if values.shape != scores.shape:
        raise ValueError(
            f"Arguments `values` and `scores` must have the same length. Received: {len(values)} and {len(scores)}"
        )
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(
            f"Argument `values` must hold finite numbers > 0. Received: values={values.tolist()}"
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"Argument `scores` must hold finite numbers. Received: scores={scores.tolist()}")
    top_k = check_int("top_k", top_k, minimum=1, maximum=len(values))
    margin = check_float("margin", margin, minimum=0.0)
    best = np.argsort(-scores, kind="stable")[:top_k]
    logs = np.log10(values[best])
    return float(10.0 ** (logs.min() - margin)), float(10.0 ** (logs.max() + margin))
