"""Decorrelation and whitening (PCA and ZCA) with the training set's covariance."""

import numpy as np

from dlkit._checks import check_array, check_choice, check_float


class PCAWhitening:
    """Whitens data with the eigenvectors of the training covariance: PCA or ZCA whitening.

    The cs231n notes' decorrelation and whitening ("Data Preprocessing", Stanford CS231n, 2016; ZCA: Bell &
    Sejnowski, 1997, "The 'independent components' of natural scenes are edge filters"):

    ```
    mean   = mean(x_train, axis=0)                               # fit
    cov    = (x_train - mean).T @ (x_train - mean) / m           # n x n, divided by m (ddof=0)
    U, S   = eigenvectors (columns) and eigenvalues of cov, eigenvalues in decreasing order
    x_rot  = (x - mean) @ U                                      # decorrelated: cov(x_rot) = diag(S)
    pca    = x_rot / sqrt(S + epsilon)                           # PCA whitening: cov ~ identity
    zca    = pca @ U.T                                           # ZCA: rotated back, closest to the input
    ```

    `mode="pca"` with `epsilon=0` equals `sklearn.decomposition.PCA(whiten=True)` times sqrt(m / (m - 1))
    (scikit-learn divides the covariance by m - 1), up to the sign of each component. Each eigenvector's sign is
    fixed here so that its largest-magnitude entry is positive (a deterministic choice; any sign is correct).

    Example:

    >>> whitening = PCAWhitening(mode="zca", epsilon=1e-5).fit(x_train)
    >>> x_test_white = whitening.transform(x_test)   # training mean and covariance

    Args:
        mode: String. "pca" (rotate and scale), "zca" (rotate, scale and rotate back) or "decorrelate"
            (rotate only, no scaling).
        epsilon: Float >= 0. Added to each eigenvalue before the square root: it bounds the gain of
            near-zero-variance directions (mostly noise).

    Raises:
        ValueError: on an unknown `mode` or a negative `epsilon`.
    """

    MODES = ("pca", "zca", "decorrelate")

    def __init__(self, mode="zca", epsilon=1e-5):
        self.mode = check_choice("mode", mode, self.MODES)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self.mean_ = None
        self.components_ = None  # U, eigenvectors in columns (n, n)
        self.eigenvalues_ = None

    def fit(self, x):
        """Computes the mean, covariance eigenvectors and eigenvalues of `x` (m, n); returns `self`.

        Raises:
            ValueError: if `x` is not a 2-D array with at least 2 rows.
        """
        x = check_array("x", x, ndim=2, min_len=2).astype(np.float64)
        self.mean_ = x.mean(axis=0)
        centred = x - self.mean_
        covariance = centred.T @ centred / len(x)
        eigenvalues, vectors = np.linalg.eigh(covariance)  # ascending, symmetric solver
        order = np.argsort(eigenvalues)[::-1]
        eigenvalues, vectors = np.clip(eigenvalues[order], 0.0, None), vectors[:, order]
        largest = np.argmax(np.abs(vectors), axis=0)
        vectors = vectors * np.sign(vectors[largest, np.arange(vectors.shape[1])])
        self.eigenvalues_, self.components_ = eigenvalues, vectors
        return self

    def transform(self, x):
        """Returns `x` decorrelated / whitened with the fitted statistics, float64 (m, n).

        Raises:
            ValueError: if the transform is not fitted, or `x` is not 2-D with the fitted number of columns,
                or a zero eigenvalue would be divided by `epsilon=0`.
        """
        if self.mean_ is None:
            raise ValueError("This PCAWhitening is not fitted yet: call `fit(x_train)` first.")
        x = check_array("x", x, ndim=2).astype(np.float64)
        if x.shape[1] != len(self.mean_):
            raise ValueError(
                f"Argument `x` must have {len(self.mean_)} columns (as the data given to `fit`). "
                f"Received: x with shape {x.shape}"
            )
        rotated = (x - self.mean_) @ self.components_
        if self.mode == "decorrelate":
            return rotated
        scale = self.eigenvalues_ + self.epsilon
        if np.any(scale <= 0):
            raise ValueError(
                "Argument `epsilon` must be > 0 when the training covariance is singular. "
                f"Received: epsilon={self.epsilon!r}"
            )
        white = rotated / np.sqrt(scale)
        return white if self.mode == "pca" else white @ self.components_.T

    def fit_transform(self, x):
        """`fit(x)` then `transform(x)`."""
        return self.fit(x).transform(x)

    def get_config(self):
        """The constructor arguments, a dict (`PCAWhitening(**config)` rebuilds an unfitted copy)."""
        return {"mode": self.mode, "epsilon": self.epsilon}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
