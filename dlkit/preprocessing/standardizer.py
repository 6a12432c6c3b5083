"""Zero-centring and per-feature normalization with statistics of the training set."""

import numpy as np

from dlkit._checks import check_array, check_bool, check_float


class Standardizer:
    """Zero-centres and scales each feature with the training set's mean and standard deviation.

    The cs231n notes' first two preprocessing steps ("Data Preprocessing", Stanford CS231n, 2016); the statistics
    come from `fit` (the training set) and `transform` reuses them on dev and test data:

    ```
    mean = mean(x_train, axis=0)                 # fit
    std  = std(x_train, axis=0)                  # population std (ddof=0), as sklearn's StandardScaler
    x'   = (x - mean) / (std + epsilon)          # transform (center=False drops "- mean", scale=False "/ ...")
    ```

    Equal to `sklearn.preprocessing.StandardScaler` with `epsilon=0` (which leaves a zero-variance feature
    unscaled instead of dividing by `epsilon`).

    Example:

    >>> standardizer = Standardizer().fit(x_train)
    >>> x_test_std = standardizer.transform(x_test)   # the training mean and std, not the test set's

    Args:
        center: Boolean. Subtract the mean.
        scale: Boolean. Divide by the standard deviation (plus `epsilon`).
        epsilon: Float >= 0. Added to the standard deviation, so constant features do not divide by 0.

    Raises:
        ValueError: on a non-boolean `center`/`scale` or a negative `epsilon`.
    """

    def __init__(self, center=True, scale=True, epsilon=1e-8):
        self.center = check_bool("center", center)
        self.scale = check_bool("scale", scale)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self.mean_ = None
        self.std_ = None

    def fit(self, x):
        """Computes the mean and standard deviation of each column of `x` (m, n); returns `self`.

        Raises:
            ValueError: if `x` is not a 2-D array with at least one row.
        """
        x = check_array("x", x, ndim=2).astype(np.float64)
        self.mean_ = x.mean(axis=0)
        self.std_ = x.std(axis=0)
        return self

    def transform(self, x):
        """Returns `(x - mean) / (std + epsilon)` with the fitted statistics, as float64 (m, n).

        Raises:
            ValueError: if the transform is not fitted, or `x` is not 2-D with the fitted number of columns.
        """
        if self.mean_ is None:
            raise ValueError("This Standardizer is not fitted yet: call `fit(x_train)` first.")
        x = check_array("x", x, ndim=2).astype(np.float64)
        if x.shape[1] != len(self.mean_):
            raise ValueError(
                f"Argument `x` must have {len(self.mean_)} columns (as the data given to `fit`). "
                f"Received: x with shape {x.shape}"
            )
        if self.center:
            x = x - self.mean_
        if self.scale:
            x = x / (self.std_ + self.epsilon)
        return x

    def fit_transform(self, x):
        """`fit(x)` then `transform(x)`."""
        return self.fit(x).transform(x)

    def get_config(self):
        """The constructor arguments, a dict (`Standardizer(**config)` rebuilds an unfitted copy)."""
        return {"center": self.center, "scale": self.scale, "epsilon": self.epsilon}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
