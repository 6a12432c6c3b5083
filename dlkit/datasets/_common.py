"""Helpers shared by the dataset loaders: seeding, label shapes and stratified splits."""

import numpy as np

from dlkit.datasets.splits import DatasetSplits


def resolve_seed(seed):
    """A concrete seed: `seed` itself, or one drawn from NumPy's global state (so `dlkit.set_seed` governs it)."""
    if seed is None:
        return int(np.random.randint(0, 2**31 - 1))
    return int(seed)


def binary_labels(y):
    return np.asarray(y, dtype=np.float32).reshape(-1, 1)


def class_labels(y):
    return np.asarray(y, dtype=np.int32).reshape(-1)


def empty_like_split(x, y):
    return x[:0], y[:0]


def stratified_splits(name, x, y, split, seed, num_classes):
    """Splits (x, y) into train/dev/test with the class proportions kept in each part."""
    from sklearn.model_selection import train_test_split  # lazy: keeps `import dlkit` quick

    train_fraction, dev_fraction, test_fraction = split
    stratify = y.reshape(len(y), -1)[:, 0] if num_classes else None
    holdout = dev_fraction + test_fraction
    if holdout == 0:
        x_train, y_train = x, y
        x_dev, y_dev = empty_like_split(x, y)
        x_test, y_test = empty_like_split(x, y)
    else:
        x_train, x_rest, y_train, y_rest = train_test_split(
            x, y, test_size=holdout, random_state=seed, stratify=stratify
        )
        if dev_fraction == 0:
            x_dev, y_dev = empty_like_split(x, y)
            x_test, y_test = x_rest, y_rest
        elif test_fraction == 0:
            x_dev, y_dev = x_rest, y_rest
            x_test, y_test = empty_like_split(x, y)
        else:
            rest_stratify = y_rest.reshape(len(y_rest), -1)[:, 0] if num_classes else None
            x_dev, x_test, y_dev, y_test = train_test_split(
                x_rest, y_rest, test_size=test_fraction / holdout, random_state=seed, stratify=rest_stratify
            )
    return DatasetSplits(name, x_train, y_train, x_dev, y_dev, x_test, y_test, num_classes)
