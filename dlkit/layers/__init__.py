"""Teaching layers: Keras 3 layers written from scratch, each equal to its Keras built-in.

- `InvertedDropout` (~ `keras.layers.Dropout`), `BatchNorm` (~ `keras.layers.BatchNormalization`, with the
  hand-written backward pass `batch_norm_backward`), `LayerNorm` (~ `keras.layers.LayerNormalization`),
  `GroupNorm` (~ `keras.layers.GroupNormalization`), `Maxout` (no Keras equivalent),
  `Conv2DNaive` (~ `keras.layers.Conv2D`), `MaxPool2DNaive` (~ `keras.layers.MaxPooling2D`),
  and the function `softmax` (~ `keras.activations.softmax`).
- Regularizers of the preprocessing-and-regularization lab, which Keras lacks: `DropConnectDense` (Wan et al.
  2013; with `drop_connect_dense`), `StochasticDepth` (Huang et al. 2016; with `linear_decay_survival`) and
  `Cutout` (DeVries & Taylor 2017; with `cutout_mask`). MixUp is Keras's own `keras.layers.MixUp`.

Written with `keras.ops` and `keras.random` only, so they run on the TensorFlow, JAX and PyTorch backends
(importing them does not import TensorFlow); the hand-written gradient of `BatchNorm` (`keras.ops.custom_gradient`)
is the one each of those backends runs in training.
"""

from dlkit.layers.batch_norm import BatchNorm, batch_norm, batch_norm_backward, batch_norm_forward
from dlkit.layers.conv2d_naive import Conv2DNaive
from dlkit.layers.cutout import Cutout, cutout_mask
from dlkit.layers.drop_connect_dense import DropConnectDense, drop_connect_dense
from dlkit.layers.group_norm import GroupNorm
from dlkit.layers.inverted_dropout import InvertedDropout
from dlkit.layers.layer_norm import LayerNorm
from dlkit.layers.max_pool2d_naive import MaxPool2DNaive
from dlkit.layers.maxout import Maxout
from dlkit.layers.softmax import softmax
from dlkit.layers.stochastic_depth import StochasticDepth, linear_decay_survival

__all__ = [
    "BatchNorm",
    "Conv2DNaive",
    "Cutout",
    "DropConnectDense",
    "GroupNorm",
    "InvertedDropout",
    "LayerNorm",
    "MaxPool2DNaive",
    "Maxout",
    "StochasticDepth",
    "batch_norm",
    "batch_norm_backward",
    "batch_norm_forward",
    "cutout_mask",
    "drop_connect_dense",
    "linear_decay_survival",
    "softmax",
]
