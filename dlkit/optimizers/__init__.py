"""Optimizers in the course's notation (Keras 3 `keras.optimizers.Optimizer` subclasses).

- `MomentumGD`: v = beta*v + (1-beta)*dW; W -= lr*v   (Keras's SGD momentum is v = beta*v - lr*dW; W += v)
- `RMSprop`: s = beta*s + (1-beta)*dW**2; W -= lr*dW/(sqrt(s)+eps)
- `Adam`: both, bias-corrected; W -= lr*v_hat/(sqrt(s_hat)+eps)

Plain gradient descent is `keras.optimizers.SGD(learning_rate)`.
"""

from dlkit.optimizers.adam import Adam
from dlkit.optimizers.momentum_gd import MomentumGD
from dlkit.optimizers.rmsprop import RMSprop

__all__ = ["Adam", "MomentumGD", "RMSprop"]
