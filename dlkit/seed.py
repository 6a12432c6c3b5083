"""Global seeding so that a lab run twice prints the same numbers."""

import os
import random

import numpy as np

from dlkit._checks import check_int


def set_seed(seed=0, *, deterministic=True):
    """Seeds Python, NumPy, Keras and TensorFlow, and turns on TensorFlow op determinism.

    After `set_seed(s)`, weight initialization, shuffling in `fit`, dropout masks and every dlkit dataset
    generator called with `seed=None` draw the same numbers on every run on the same machine.

    Example:

    >>> import dlkit
    >>> dlkit.set_seed(1)
    >>> a = np.random.rand()
    >>> dlkit.set_seed(1)
    >>> a == np.random.rand()
    True

    Args:
        seed: Integer >= 0. The seed for every generator.
        deterministic: Boolean. Whether to call `tf.config.experimental.enable_op_determinism()`, which makes
            TensorFlow kernels (reductions, scatter, convolutions) run in a fixed order. On by default; it
            costs little on a CPU.

    Returns:
        The seed, as an int.

    Raises:
        ValueError: if `seed` is not an integer >= 0 (or is >= 2**32, the largest NumPy accepts).
    """
    seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)

    import keras
    import tensorflow as tf

    # keras.utils.set_random_seed seeds Python, NumPy and the backend (tf.random.set_seed) together.
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    return seed
