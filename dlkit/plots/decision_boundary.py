"""Decision regions of a 2-D classifier."""

import numpy as np

from dlkit._checks import check_array, check_int
from dlkit.plots._figure import figure_and_axes


def _predict_classes(predict, points):
    scores = np.asarray(predict(points))
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    scores = scores.reshape(-1)
    # Probabilities (sigmoid outputs) split at 0.5; already-thresholded labels pass through unchanged.
    return (scores > 0.5).astype(int)


def plot_decision_boundary(model, x, y, *, resolution=200, padding=0.25, ax=None, title=None):
    """Draws the regions a 2-D classifier assigns to each class, with the data points on top.

    The model is evaluated on a `resolution` x `resolution` grid spanning the data plus `padding`. Outputs with
    one column are thresholded at 0.5 (binary, sigmoid); outputs with several columns take the argmax (softmax).

    Example:

    >>> data = dlkit.datasets.load_circles(seed=1)
    >>> fig = plot_decision_boundary(model, data.x_test, data.y_test, title="He init")

    Args:
        model: A Keras model or any callable mapping a (n, 2) float32 array to scores or labels.
        x: Array of shape (m, 2). Points to scatter.
        y: Array of shape (m,) or (m, 1). Their labels (integers or 0/1 floats).
        resolution: Integer >= 10. Grid points per axis.
        padding: Float >= 0. Margin around the data, in data units.
        ax: Matplotlib Axes to draw on, or None for a new figure.
        title: String or None.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: if `x` is not (m, 2), `y` does not have m labels, or `model` is not callable.
    """
    x = check_array("x", x, ndim=2)
    if x.shape[1] != 2:
        raise ValueError(f"Argument `x` must have shape (m, 2). Received: x with shape {x.shape}")
    y = check_array("y", y).reshape(-1)
    if len(y) != len(x):
        raise ValueError(
            f"Argument `y` must hold one label per row of `x` ({len(x)}). Received {len(y)} labels"
        )
    resolution = check_int("resolution", resolution, minimum=10)
    if not callable(model) and not hasattr(model, "predict"):
        raise ValueError(
            f"Argument `model` must be a Keras model or a callable. Received: {type(model).__name__}"
        )
    if hasattr(model, "predict"):
        # One direct call on the whole grid: `predict` builds a data pipeline per call, which costs more than
        # the small 2-D nets this plot is for.
        def predict(points):
            return np.asarray(model(points, training=False))
    else:
        predict = model

    x_min, y_min = x.min(axis=0) - padding
    x_max, y_max = x.max(axis=0) + padding
    grid_x, grid_y = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()]).astype(np.float32)
    regions = _predict_classes(predict, points).reshape(grid_x.shape)

    # Regions and points share one colour scale (class k at the same colour in both), also when the model
    # predicts fewer classes than the labels hold.
    top_class = int(max(regions.max(), np.max(y)))
    colour_scale = {"cmap": "Spectral", "vmin": 0, "vmax": max(top_class, 1)}
    fig, ax = figure_and_axes(ax, (5, 4))
    ax.contourf(grid_x, grid_y, regions, alpha=0.35, levels=np.arange(top_class + 2) - 0.5, **colour_scale)
    ax.scatter(x[:, 0], x[:, 1], c=y, s=14, edgecolors="k", linewidths=0.4, **colour_scale)
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return fig
