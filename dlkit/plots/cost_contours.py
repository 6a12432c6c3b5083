"""Contours of a two-parameter cost, with optimizer trajectories drawn over them."""

import numpy as np

from dlkit._checks import check_int
from dlkit.plots._figure import figure_and_axes


def _check_limits(name, limits):
    try:
        low, high = (float(v) for v in limits)
    except (TypeError, ValueError):
        raise ValueError(
            f"Argument `{name}` must be a pair (low, high). Received: {name}={limits!r}"
        ) from None
    if not low < high:
        raise ValueError(f"Argument `{name}` must satisfy low < high. Received: {name}={limits!r}")
    return low, high


def plot_cost_contours(
    cost, xlim, ylim, *, trajectories=None, levels=30, resolution=200, ax=None, title=None
):
    """Draws the contour lines of `cost(w1, w2)` and, optionally, paths taken by optimizers.

    Elongated ellipses (unnormalized inputs) make gradient descent zig-zag; round contours (normalized inputs)
    let it walk straight to the minimum.

    Example:

    >>> bowl = lambda w1, w2: 0.5 * (25 * w1**2 + w2**2)
    >>> fig = plot_cost_contours(bowl, (-2, 2), (-2, 2), trajectories={"GD": path})

    Args:
        cost: Callable taking two NumPy arrays (w1, w2) of the same shape and returning costs of that shape.
        xlim: Pair (low, high) for w1.
        ylim: Pair (low, high) for w2.
        trajectories: Dict mapping a label to an array of shape (steps, 2), or None.
        levels: Integer >= 2. Number of contour levels (spaced on a log scale for costs > 0).
        resolution: Integer >= 10. Grid points per axis.
        ax: Matplotlib Axes, or None for a new figure.
        title: String or None.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: on bad limits, a non-callable cost, or a trajectory that is not (steps, 2).
    """
    if not callable(cost):
        raise ValueError(f"Argument `cost` must be callable. Received: {type(cost).__name__}")
    xlim, ylim = _check_limits("xlim", xlim), _check_limits("ylim", ylim)
    levels = check_int("levels", levels, minimum=2)
    resolution = check_int("resolution", resolution, minimum=10)
    # Trajectories are checked before the figure exists, so bad input leaves no empty figure behind.
    paths = {}
    for name, path in (trajectories or {}).items():
        path = np.asarray(path, dtype=float)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(
                f"Argument `trajectories` must map labels to (steps, 2) arrays. Received {name!r}: {path.shape}"
            )
        paths[name] = path
    w1, w2 = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    values = np.asarray(cost(w1, w2), dtype=float)
    fig, ax = figure_and_axes(ax, (5, 4))
    if values.min() > 0:
        contour_levels = np.geomspace(values.min(), values.max(), levels)
    else:
        contour_levels = np.linspace(values.min(), values.max(), levels)
    ax.contour(w1, w2, values, levels=contour_levels, cmap="viridis", linewidths=0.8)
    for name, path in paths.items():
        ax.plot(
            path[:, 0],
            path[:, 1],
            marker="o",
            markersize=2.5,
            linewidth=1,
            label=f"{name} ({len(path) - 1} steps)",
        )
    if trajectories:
        ax.legend(fontsize=8)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    if title:
        ax.set_title(title)
    return fig
