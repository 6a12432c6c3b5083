"""Learning rate against the training step."""

import numpy as np

from dlkit.plots._figure import figure_and_axes


def plot_learning_rate(learning_rates, *, ax=None, title=None, label=None, log_scale=False):
    """Plots learning rate vs step, for one policy or several.

    Example:

    >>> schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.5)
    >>> fig = plot_learning_rate({"exp decay": [float(schedule(s)) for s in range(500)]})

    Args:
        learning_rates: A sequence of floats (one per step), or a dict mapping a label to such a sequence.
            Evaluate a `LearningRateSchedule` first: `[float(schedule(step)) for step in range(num_steps)]`.
        ax: Matplotlib Axes, or None for a new figure.
        title: String or None.
        label: String or None. Legend label when a single sequence is given.
        log_scale: Boolean. Logarithmic y axis.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: if a sequence is empty or not one-dimensional numbers.
    """
    series = learning_rates if isinstance(learning_rates, dict) else {label: learning_rates}
    # Every sequence is checked before the figure exists, so bad input leaves no empty figure behind.
    arrays = {}
    for name, values in series.items():
        try:
            values = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"Argument `learning_rates` must hold sequences of numbers. Received: {type(values).__name__}"
            ) from None
        if values.ndim != 1 or len(values) == 0:
            raise ValueError(
                f"Argument `learning_rates` must hold non-empty 1-D sequences. Received shape {values.shape}"
            )
        arrays[name] = values
    fig, ax = figure_and_axes(ax, (6, 3.5))
    for name, values in arrays.items():
        ax.plot(np.arange(len(values)), values, label=name)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("step (optimizer iteration)")
    ax.set_ylabel("learning rate")
    if any(name is not None for name in series):
        ax.legend()
    if title:
        ax.set_title(title)
    return fig
