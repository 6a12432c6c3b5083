"""Data preprocessing fitted on the training set and reused on dev/test (cs231n, "Data Preprocessing").

- `Standardizer`: zero-centring and per-feature scaling, `(x - mean) / (std + epsilon)`.
- `PCAWhitening`: decorrelation and whitening onto the training covariance's eigenvectors, in PCA or ZCA form.

Both follow scikit-learn's `fit` / `transform` / `fit_transform`: every statistic comes from the data given to
`fit` (the training set) and `transform` applies it unchanged to any other split.
"""

from dlkit.preprocessing.pca_whitening import PCAWhitening
from dlkit.preprocessing.standardizer import Standardizer

__all__ = ["PCAWhitening", "Standardizer"]
