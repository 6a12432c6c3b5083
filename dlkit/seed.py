"""Global seeding so that a lab run twice prints the same numbers."""

import os
import random

import numpy as np

from dlkit._checks import check_int


def set_seed(seed=0, *, deterministic=True):
    """Seeds Python, NumPy, Keras and the active Keras backend, and turns on that backend's determinism.

    After `set_seed(s)`, weight initialization, shuffling in `fit`, dropout masks and every dlkit dataset
    generator called with `seed=None` draw the same numbers on every run on the same machine.

    On the torch backend it also calls `torch.manual_seed(s)`, which seeds PyTorch's global generator on the CPU
    and on every GPU (`torch.rand`, `torch.randn`, `DataLoader` shuffling and PyTorch's own layers draw from
    it). Determinism there means the same numbers on the same machine with the same PyTorch build and device:
    PyTorch does not promise the same numbers across versions, platforms, or between CPU and GPU.

    Example:

    >>> import dlkit
    >>> dlkit.set_seed(1)
    >>> a = np.random.rand()
    >>> dlkit.set_seed(1)
    >>> a == np.random.rand()
    True

    Args:
        seed: Integer >= 0. The seed for every generator.
        deterministic: Boolean. Whether to make the backend's kernels run in a fixed order. TensorFlow:
            `tf.config.experimental.enable_op_determinism()` (reductions, scatter, convolutions; it costs little
            on a CPU). PyTorch: `torch.use_deterministic_algorithms(True, warn_only=True)`: deterministic
            kernels where PyTorch has them, and a warning (not an error) for an op that has none; on a GPU,
            also set `CUBLAS_WORKSPACE_CONFIG=:4096:8` before the first cuBLAS call. JAX: nothing to turn
            on; XLA's CPU kernels are deterministic (on a GPU, set `XLA_FLAGS=--xla_gpu_deterministic_ops=true`
            before JAX starts). On by default. (Keras's `set_random_seed`, called here, also seeds TensorFlow's
            generator for `tf.data` whenever TensorFlow is installed, whatever the backend.)

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

    # keras.utils.set_random_seed seeds Python, NumPy, Keras's global SeedGenerator and the backend together.
    keras.utils.set_random_seed(seed)
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        # Keras 3 does it too inside set_random_seed; dlkit's promise should not hang on that detail.
        torch.manual_seed(seed)
        if deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
    elif backend == "tensorflow" and deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    return seed
