"""Teaching layers: Keras 3 layers written from scratch, each equal to its Keras built-in.

- `InvertedDropout` (~ `keras.layers.Dropout`), `BatchNorm` (~ `keras.layers.BatchNormalization`, with the
  hand-written backward pass `batch_norm_backward`), `LayerNorm` (~ `keras.layers.LayerNormalization`),
  `GroupNorm` (~ `keras.layers.GroupNormalization`), `Maxout` (no Keras equivalent),
  `Conv2DNaive` (~ `keras.layers.Conv2D`), `MaxPool2DNaive` (~ `keras.layers.MaxPooling2D`),
  and the function `softmax` (~ `keras.activations.softmax`).
"""

from dlkit.layers.batch_norm import BatchNorm, batch_norm, batch_norm_backward, batch_norm_forward
from dlkit.layers.conv2d_naive import Conv2DNaive
from dlkit.layers.group_norm import GroupNorm
from dlkit.layers.inverted_dropout import InvertedDropout
from dlkit.layers.layer_norm import LayerNorm
from dlkit.layers.max_pool2d_naive import MaxPool2DNaive
from dlkit.layers.maxout import Maxout
from dlkit.layers.softmax import softmax

__all__ = [
    "BatchNorm",
    "Conv2DNaive",
    "GroupNorm",
    "InvertedDropout",
    "LayerNorm",
    "MaxPool2DNaive",
    "Maxout",
    "batch_norm",
    "batch_norm_backward",
    "batch_norm_forward",
    "softmax",
]
