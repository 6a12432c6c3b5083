"""Losses with hand-written gradients (`keras.ops.custom_gradient`; TensorFlow, JAX and PyTorch backends)."""

from dlkit.losses.softmax_cross_entropy import (
    SoftmaxCrossEntropy,
    softmax_cross_entropy,
    softmax_cross_entropy_backward,
)

__all__ = ["SoftmaxCrossEntropy", "softmax_cross_entropy", "softmax_cross_entropy_backward"]
