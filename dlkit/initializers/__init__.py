"""Weight initializers the course names that Keras lacks as such.

- `LargeRandomNormal(scale=10.0)`: the initialization lab's "large random", randn * scale.
- `XavierNormal(variance="fan_in" | "fan_avg")`: randn * sqrt(1/n_in) or randn * sqrt(2/(n_in + n_out)).

The rest are Keras built-ins. `HeNormal`, `GlorotNormal` and `LecunNormal` draw from a normal *truncated* at two
standard deviations and rescaled (by 1/0.8796) to the stated variance, i.e. `VarianceScaling(scale, mode,
"truncated_normal")`; the papers' (and the labs') plain normal is `distribution="untruncated_normal"`:

- "zeros" initialization: `keras.initializers.Zeros()`
- He (He et al. 2015; variance 2/n_in, for ReLU): `keras.initializers.HeNormal()`, truncated;
  untruncated: `keras.initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal")`
- Glorot (Glorot & Bengio 2010; variance 2/(n_in + n_out)): `keras.initializers.GlorotNormal()`, truncated
- LeCun (LeCun et al. 1998; variance 1/n_in, the course's "Xavier", for tanh/SELU): `keras.initializers.LecunNormal()`,
  truncated
"""

from dlkit.initializers.large_random_normal import LargeRandomNormal
from dlkit.initializers.xavier_normal import XavierNormal

__all__ = ["LargeRandomNormal", "XavierNormal"]
