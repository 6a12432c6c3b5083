"""Train vs dev curves from a Keras History."""

import numpy as np

from dlkit.plots._figure import figure_and_axes


def plot_learning_curves(
    history, metric="loss", *, ax=None, title=None, mark_epoch=None, log_scale=False, validation_label="dev"
):
    """Plots a metric per epoch for the training set and, when recorded, the dev (validation) set.

    A widening gap between the two curves is variance (overfitting); both curves high is bias.

    Example:

    >>> history = model.fit(x, y, validation_data=(x_dev, y_dev), epochs=50, verbose=0)
    >>> fig = plot_learning_curves(history, "loss", mark_epoch=early_stopping.stopped_epoch)

    Args:
        history: A `keras.callbacks.History` (what `fit` returns) or its `.history` dict.
        metric: String. A key of the history, such as "loss" or "accuracy"; "val_" + metric is drawn as dev.
        ax: Matplotlib Axes, or None for a new figure.
        title: String or None.
        mark_epoch: Integer or None. Draws a vertical line at this epoch (0-based), e.g. the early-stopping point.
        log_scale: Boolean. Logarithmic y axis.
        validation_label: String. What the `validation_data` passed to `fit` is in this experiment, for the
            legend: "dev" (the default), or e.g. "test" when the test set only stands in for a missing dev set.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: if `history` is not a History or dict, `metric` was not recorded, or `validation_label` is
            not a non-empty string.
    """
    if not isinstance(validation_label, str) or not validation_label.strip():
        raise ValueError(
            f"Argument `validation_label` must be a non-empty string. Received: validation_label={validation_label!r}"
        )
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise ValueError(
            f"Argument `history` must be a keras History or a dict. Received: {type(history).__name__}"
        )
    if metric not in logs:
        raise ValueError(f"Argument `metric` must be one of {sorted(logs)}. Received: metric={metric!r}")
    fig, ax = figure_and_axes(ax, (5, 3.5))
    train = np.asarray(logs[metric], dtype=float)
    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, train, label=f"train {metric}")
    if f"val_{metric}" in logs:
        ax.plot(epochs, np.asarray(logs[f"val_{metric}"], dtype=float), label=f"{validation_label} {metric}")
    if mark_epoch is not None:
        ax.axvline(
            int(mark_epoch) + 1, color="k", linestyle="--", linewidth=1, label=f"epoch {int(mark_epoch) + 1}"
        )
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig
