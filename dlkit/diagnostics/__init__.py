"""Diagnostics of a network's activations: per-layer statistics (saturated and dead units) for the labs' plots."""

from dlkit.diagnostics.activation_statistics import activation_layers, activation_statistics, dead_fraction

__all__ = ["activation_layers", "activation_statistics", "dead_fraction"]
