"""The container every dlkit dataset loader returns."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class DatasetSplits:
    """Train / dev / test arrays of one dataset, as float32 features and integer or float32 labels.

    Binary sets hold labels as float32 of shape `(m, 1)` (what a sigmoid output and
    `binary_crossentropy` expect); multi-class sets hold int32 class indices of shape `(m,)` (what
    `sparse_categorical_crossentropy` expects). A set without a dev split has `x_dev` and `y_dev` of length 0.

    Example:

    >>> data = dlkit.datasets.load_circles(seed=1)
    >>> x_train, y_train = data.train
    >>> x_train.shape, y_train.shape
    ((300, 2), (300, 1))

    Attributes:
        name: String. The dataset's name.
        x_train, y_train, x_dev, y_dev, x_test, y_test: NumPy arrays.
        num_classes: Integer. 2 for binary sets.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_dev: np.ndarray
    y_dev: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def train(self):
        """Tuple `(x_train, y_train)`."""
        return self.x_train, self.y_train

    @property
    def dev(self):
        """Tuple `(x_dev, y_dev)`."""
        return self.x_dev, self.y_dev

    @property
    def test(self):
        """Tuple `(x_test, y_test)`."""
        return self.x_test, self.y_test

    def summary(self):
        """Returns one line: the name and the shape of each split."""
        return (
            f"{self.name}: train {self.x_train.shape}, dev {self.x_dev.shape}, test {self.x_test.shape}, "
            f"{self.num_classes} classes"
        )

    def __repr__(self):
        return f"DatasetSplits({self.summary()})"
