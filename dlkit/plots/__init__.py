"""Plots the labs draw: decision boundaries, learning curves, learning rates, activations, cost contours,
computational graphs.

Every function returns the matplotlib Figure, so it can be saved, tested headless or shown inline.
"""

from dlkit.plots.activation_histograms import layer_activations, plot_activation_histograms
from dlkit.plots.computational_graph import plot_graph
from dlkit.plots.cost_contours import plot_cost_contours
from dlkit.plots.decision_boundary import plot_decision_boundary
from dlkit.plots.learning_curves import plot_learning_curves
from dlkit.plots.learning_rate import plot_learning_rate

__all__ = [
    "layer_activations",
    "plot_activation_histograms",
    "plot_cost_contours",
    "plot_decision_boundary",
    "plot_graph",
    "plot_learning_curves",
    "plot_learning_rate",
]
