"""scikit-learn's shipped 8x8 digits: a real image set that needs no download."""

import numpy as np

from dlkit._checks import check_bool, check_fraction_split, check_seed
from dlkit.datasets._common import class_labels, resolve_seed, stratified_splits


def load_digits(split=(0.6, 0.2, 0.2), flatten=False, seed=None):
    """The 1,797 8x8 handwritten digits shipped inside scikit-learn, as a small CNN data set.

    Pixels (0..16 in the source) are scaled to [0, 1]. The train/dev/test split is stratified, so each digit
    keeps its share in every part.

    Example:

    >>> data = load_digits(seed=0)
    >>> data.x_train.shape, data.num_classes
    ((1078, 8, 8, 1), 10)

    Args:
        split: Tuple of three fractions (train, dev, test) summing to 1.
        flatten: Boolean. If True, images are (m, 64) vectors instead of (m, 8, 8, 1).
        seed: Integer >= 0 or None.

    Returns:
        A `DatasetSplits` with float32 images and int32 labels of shape (m,).

    Raises:
        ValueError: on an invalid `split` or `seed`, or a non-boolean `flatten`.
    """
    split = check_fraction_split("split", split)
    flatten = check_bool("flatten", flatten)
    seed = resolve_seed(check_seed("seed", seed))
    from sklearn.datasets import load_digits as sklearn_load_digits  # lazy: slow import

    bunch = sklearn_load_digits()
    x = (bunch.images / 16.0).astype(np.float32)
    x = x.reshape(len(x), 64) if flatten else x[..., np.newaxis]
    return stratified_splits("digits", x, class_labels(bunch.target), split, seed, 10)
