"""Losses with hand-written gradients."""

from dlkit.losses.softmax_cross_entropy import SoftmaxCrossEntropy, softmax_cross_entropy

__all__ = ["SoftmaxCrossEntropy", "softmax_cross_entropy"]
