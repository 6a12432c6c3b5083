"""Weight initializers the course names that Keras lacks as such.

- `LargeRandomNormal(scale=10.0)`: the initialization lab's "large random", randn * scale.
- `XavierNormal(variance="fan_in" | "fan_avg")`: randn * sqrt(1/n_in) or randn * sqrt(2/(n_in + n_out)).

The rest are Keras built-ins (all draw from a truncated normal rescaled to the stated variance):

- "zeros" initialization: `keras.initializers.Zeros()`
- He (variance 2/n_in, for ReLU): `keras.initializers.HeNormal()`
- Xavier / Glorot (variance 2/(n_in + n_out)): `keras.initializers.GlorotNormal()`
- LeCun (variance 1/n_in, for tanh/SELU): `keras.initializers.LecunNormal()`
"""

from dlkit.initializers.large_random_normal import LargeRandomNormal
from dlkit.initializers.xavier_normal import XavierNormal

__all__ = ["LargeRandomNormal", "XavierNormal"]
