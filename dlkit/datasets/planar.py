"""Two-dimensional toy sets for the labs: circles, moons, an overfitting set, spirals and blobs.

Every generator is deterministic given `seed` (or, with `seed=None`, given `dlkit.set_seed`), works offline and
returns a `DatasetSplits` of float32 features.
"""

import numpy as np

from dlkit._checks import check_float, check_fraction_split, check_int, check_seed
from dlkit.datasets._common import (
    binary_labels,
    class_labels,
    empty_like_split,
    resolve_seed,
    stratified_splits,
)
from dlkit.datasets.splits import DatasetSplits


def _sklearn_datasets():
    from sklearn import datasets  # lazy: scikit-learn costs seconds to import, and only these loaders need it

    return datasets


def _binary_set(name, x_train, y_train, x_test, y_test):
    x_train = x_train.astype(np.float32)
    x_test = x_test.astype(np.float32)
    y_train, y_test = binary_labels(y_train), binary_labels(y_test)
    x_dev, y_dev = empty_like_split(x_train, y_train)
    return DatasetSplits(name, x_train, y_train, x_dev, y_dev, x_test, y_test, 2)


def load_circles(num_train=300, num_test=100, noise=0.05, factor=0.8, seed=None):
    """Two concentric noisy circles: the DLS initialization data (300 train / 100 test, noise 0.05).

    The inner circle (radius `factor`) is class 1 and the outer circle class 0, so no linear model separates them
    and a badly initialized network stays at 50% accuracy.

    Example:

    >>> data = load_circles(seed=1)
    >>> data.x_train.shape, data.x_test.shape
    ((300, 2), (100, 2))

    Args:
        num_train: Integer >= 2. Training points.
        num_test: Integer >= 0. Test points (drawn independently, with the same noise).
        noise: Float >= 0. Standard deviation of the Gaussian noise added to each point.
        factor: Float in (0, 1). Radius of the inner circle relative to the outer one.
        seed: Integer >= 0 or None (None: drawn from NumPy's global state).

    Returns:
        A `DatasetSplits` with binary float32 labels of shape (m, 1) and no dev split.

    Raises:
        ValueError: on an argument outside the ranges above.
    """
    num_train = check_int("num_train", num_train, minimum=2)
    num_test = check_int("num_test", num_test, minimum=0)
    noise = check_float("noise", noise, minimum=0.0)
    factor = check_float("factor", factor, minimum=0.0, maximum=1.0, min_inclusive=False, max_inclusive=False)
    seed = resolve_seed(check_seed("seed", seed))
    sk_datasets = _sklearn_datasets()
    x_train, y_train = sk_datasets.make_circles(num_train, noise=noise, factor=factor, random_state=seed)
    if num_test:
        x_test, y_test = sk_datasets.make_circles(num_test, noise=noise, factor=factor, random_state=seed + 1)
    else:
        x_test, y_test = x_train[:0], y_train[:0]
    return _binary_set("circles", x_train, y_train, x_test, y_test)


def load_moons(num_train=300, num_test=100, noise=0.2, seed=None):
    """Two interleaving half-moons: the DLS optimization data (300 points, noise 0.2).

    Args:
        num_train: Integer >= 2. Training points.
        num_test: Integer >= 0. Test points, drawn independently.
        noise: Float >= 0. Standard deviation of the Gaussian noise.
        seed: Integer >= 0 or None.

    Returns:
        A `DatasetSplits` with binary float32 labels of shape (m, 1) and no dev split.

    Raises:
        ValueError: on an argument outside the ranges above.
    """
    num_train = check_int("num_train", num_train, minimum=2)
    num_test = check_int("num_test", num_test, minimum=0)
    noise = check_float("noise", noise, minimum=0.0)
    seed = resolve_seed(check_seed("seed", seed))
    sk_datasets = _sklearn_datasets()
    x_train, y_train = sk_datasets.make_moons(num_train, noise=noise, random_state=seed)
    if num_test:
        x_test, y_test = sk_datasets.make_moons(num_test, noise=noise, random_state=seed + 1)
    else:
        x_test, y_test = x_train[:0], y_train[:0]
    return _binary_set("moons", x_train, y_train, x_test, y_test)


def _overfit_points(rng, count, flip_rate):
    # A smooth, wavy true boundary; flipped labels sprinkled over the plane are what an unregularized
    # [2, 20, 3, 1] net memorizes as small islands, which costs it test accuracy.
    x = rng.uniform(low=[-0.75, -0.75], high=[0.75, 0.65], size=(count, 2))
    boundary = 0.12 * np.sin(3.0 * x[:, 0]) + 0.25 * x[:, 0] - 0.05
    y = (x[:, 1] > boundary).astype(np.int64)
    flip = rng.random(count) < flip_rate
    y[flip] = 1 - y[flip]
    return x, y


def load_overfit_2d(num_train=211, num_test=200, flip_rate=0.08, seed=None):
    """A 2-D set on which a [2, 20, 3, 1] network visibly overfits without regularization.

    It plays the role of the DLS regularization data (211 train / 200 test points): two classes split by a smooth,
    wavy boundary, with a fraction `flip_rate` of labels flipped in both splits. The best possible test accuracy
    is therefore about `1 - flip_rate`; a net that fits the flipped training points draws islands around them
    and loses test accuracy, which L2 and dropout win back.

    Args:
        num_train: Integer >= 2. Training points.
        num_test: Integer >= 0. Test points.
        flip_rate: Float in [0, 0.5). Fraction of labels flipped (label noise).
        seed: Integer >= 0 or None.

    Returns:
        A `DatasetSplits` with binary float32 labels of shape (m, 1) and no dev split.

    Raises:
        ValueError: on an argument outside the ranges above.
    """
    num_train = check_int("num_train", num_train, minimum=2)
    num_test = check_int("num_test", num_test, minimum=0)
    flip_rate = check_float("flip_rate", flip_rate, minimum=0.0, maximum=0.5, max_inclusive=False)
    rng = np.random.default_rng(resolve_seed(check_seed("seed", seed)))
    x_train, y_train = _overfit_points(rng, num_train, flip_rate)
    x_test, y_test = _overfit_points(rng, num_test, flip_rate)
    return _binary_set("overfit_2d", x_train, y_train, x_test, y_test)


def load_spiral(num_classes=3, points_per_class=100, noise=0.2, split=(0.8, 0.0, 0.2), seed=None):
    """The cs231n spiral: `num_classes` interleaved arms that a linear softmax cannot separate.

    Pseudocode, for class j: r = linspace(0, 1, N); t = linspace(4j, 4(j+1), N) + noise * randn(N);
    x = (r sin t, r cos t).

    Args:
        num_classes: Integer >= 2. Number of arms (classes).
        points_per_class: Integer >= 2. Points per arm.
        noise: Float >= 0. Standard deviation of the angular noise.
        split: Tuple of three fractions (train, dev, test) summing to 1; the split is stratified.
        seed: Integer >= 0 or None.

    Returns:
        A `DatasetSplits` with int32 class labels of shape (m,).

    Raises:
        ValueError: on an argument outside the ranges above.
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    points_per_class = check_int("points_per_class", points_per_class, minimum=2)
    noise = check_float("noise", noise, minimum=0.0)
    split = check_fraction_split("split", split)
    seed = resolve_seed(check_seed("seed", seed))
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for j in range(num_classes):
        radius = np.linspace(0.0, 1.0, points_per_class)
        theta = np.linspace(4.0 * j, 4.0 * (j + 1), points_per_class) + noise * rng.standard_normal(
            points_per_class
        )
        xs.append(np.column_stack([radius * np.sin(theta), radius * np.cos(theta)]))
        ys.append(np.full(points_per_class, j))
    x = np.concatenate(xs).astype(np.float32)
    y = class_labels(np.concatenate(ys))
    return stratified_splits("spiral", x, y, split, seed, num_classes)


def load_blobs(num_classes=3, num_samples=300, cluster_std=1.0, split=(0.8, 0.0, 0.2), seed=None):
    """Gaussian blobs, one per class: a linearly separable multi-class set for softmax regression.

    Args:
        num_classes: Integer >= 2. Number of blobs (classes).
        num_samples: Integer >= 2 * num_classes. Total points.
        cluster_std: Float > 0. Standard deviation of each blob.
        split: Tuple of three fractions (train, dev, test) summing to 1; the split is stratified.
        seed: Integer >= 0 or None.

    Returns:
        A `DatasetSplits` with int32 class labels of shape (m,).

    Raises:
        ValueError: on an argument outside the ranges above.
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    num_samples = check_int("num_samples", num_samples, minimum=2 * num_classes)
    cluster_std = check_float("cluster_std", cluster_std, minimum=0.0, min_inclusive=False)
    split = check_fraction_split("split", split)
    seed = resolve_seed(check_seed("seed", seed))
    x, y = _sklearn_datasets().make_blobs(
        n_samples=num_samples, centers=num_classes, cluster_std=cluster_std, random_state=seed
    )
    return stratified_splits("blobs", x.astype(np.float32), class_labels(y), split, seed, num_classes)
