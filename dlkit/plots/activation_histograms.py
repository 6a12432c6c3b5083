"""Per-layer activation histograms: the cs231n picture of vanishing and exploding activations."""

import numpy as np


def layer_activations(model, x):
    """Returns {layer name: activations as a NumPy array} for every layer of a Keras functional/Sequential model."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    probe = keras.Model(model.inputs, [layer.output for layer in layers])
    outputs = probe.predict(np.asarray(x, dtype=np.float32), verbose=0)
    if not isinstance(outputs, list | tuple):
        outputs = [outputs]
    return {layer.name: np.asarray(out) for layer, out in zip(layers, outputs, strict=True)}


def plot_activation_histograms(activations, *, bins=50, title=None, value_range=None):
    """Draws one histogram per layer, with each layer's mean and standard deviation in its title.

    With a bad initialization the histograms collapse to 0 layer after layer (vanishing) or pile up at the
    saturation values of tanh (exploding); with Xavier or He initialization they keep their spread.

    Example:

    >>> acts = dlkit.plots.layer_activations(model, x)
    >>> fig = plot_activation_histograms(acts, title="tanh, Xavier init")

    Args:
        activations: Dict mapping a layer name to an array of its activations; `layer_activations(model, x)`
            builds it from a Keras model.
        bins: Integer >= 2. Histogram bins.
        title: String or None. Figure title.
        value_range: Tuple (low, high) or None. Shared x range for every histogram.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: if `activations` is not a non-empty dict of arrays, or `bins` < 2.
    """
    if not isinstance(activations, dict) or not activations:
        raise ValueError(
            f"Argument `activations` must be a non-empty dict of layer name -> array. "
            f"Received: {type(activations).__name__}"
        )
    if not isinstance(bins, int) or bins < 2:
        raise ValueError(f"Argument `bins` must be an integer >= 2. Received: bins={bins!r}")
    import matplotlib.pyplot as plt  # lazy: keeps `import dlkit` quick

    count = len(activations)
    fig, axes = plt.subplots(1, count, figsize=(min(2.2 * count, 22), 2.6), sharey=True, squeeze=False)
    for ax, (name, values) in zip(axes[0], activations.items(), strict=True):
        values = np.asarray(values, dtype=float).ravel()
        ax.hist(values, bins=bins, range=value_range, color="tab:blue")
        ax.set_title(f"{name}\nmean {values.mean():.2g} std {values.std():.2g}", fontsize=8)
        ax.set_xlabel("activation", fontsize=7)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("count", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
