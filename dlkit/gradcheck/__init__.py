"""Gradient checking for hand-written gradients: functions, `tf.custom_gradient` layers and Keras models.

`gradcheck` compares the GradientTape gradient with two-sided differences (full mode) or random directional
derivatives (fast mode); `gradcheck_model` does it for a model's loss over its trainable variables;
`numerical_gradient` is the building block.
"""

from dlkit.gradcheck.gradcheck import gradcheck
from dlkit.gradcheck.model import gradcheck_model
from dlkit.gradcheck.numerical import numerical_gradient
from dlkit.gradcheck.report import GradcheckReport, GradcheckRow

__all__ = ["GradcheckReport", "GradcheckRow", "gradcheck", "gradcheck_model", "numerical_gradient"]
