"""MNIST, Fashion-MNIST and CIFAR-10 through `keras.datasets`, for users who are online.

A cached copy (in Keras's cache, `$KERAS_HOME/datasets` or `~/.keras/datasets`) is read directly, so a machine
that downloaded the data once works offline. Uncached and offline, the loaders raise `DatasetUnavailableError`
saying what to do, instead of a bare network traceback.
"""

import gzip
import os
import pickle

import numpy as np

from dlkit._checks import check_float, check_int, check_seed
from dlkit.datasets._common import class_labels, resolve_seed
from dlkit.datasets.splits import DatasetSplits

_FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


class DatasetUnavailableError(RuntimeError):
    """Raised when a downloadable data set is neither cached nor reachable."""


def keras_cache_dir():
    """The folder where Keras caches downloaded data sets: `$KERAS_HOME/datasets` or `~/.keras/datasets`."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets")


def _mnist_files(cache):
    path = os.path.join(cache, "mnist.npz")
    return [path] if os.path.isfile(path) else None


def _fashion_files(cache):
    paths = [os.path.join(cache, "fashion-mnist", name) for name in _FASHION_FILES]
    return paths if all(os.path.isfile(p) for p in paths) else None


def _cifar10_files(cache):
    # Keras 3 extracts into "cifar-10-batches-py-target/"; Keras 2 used "cifar-10-batches-py/".
    for folder in (
        os.path.join(cache, "cifar-10-batches-py-target", "cifar-10-batches-py"),
        os.path.join(cache, "cifar-10-batches-py"),
    ):
        paths = [os.path.join(folder, f"data_batch_{i}") for i in range(1, 6)] + [
            os.path.join(folder, "test_batch")
        ]
        if all(os.path.isfile(p) for p in paths):
            return paths
    return None


def _read_mnist(paths):
    with np.load(paths[0], allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _read_fashion(paths):
    arrays = []
    for path, offset in zip(paths, (8, 16, 8, 16), strict=True):
        with gzip.open(path, "rb") as f:
            arrays.append(np.frombuffer(f.read(), np.uint8, offset=offset))
    y_train, x_train, y_test, x_test = arrays
    return (x_train.reshape(len(y_train), 28, 28), y_train), (x_test.reshape(len(y_test), 28, 28), y_test)


def _read_cifar_batch(path):
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return data, np.asarray(batch[b"labels"], dtype=np.uint8)


def _read_cifar10(paths):
    parts = [_read_cifar_batch(path) for path in paths]
    x_train = np.concatenate([p[0] for p in parts[:5]])
    y_train = np.concatenate([p[1] for p in parts[:5]])
    return (x_train, y_train), parts[5]


# name -> (the cached files, or None; their reader; keras.datasets module; what the cache should hold)
_SOURCES = {
    "mnist": (_mnist_files, _read_mnist, "mnist", "mnist.npz"),
    "fashion_mnist": (_fashion_files, _read_fashion, "fashion_mnist", "fashion-mnist/*.gz"),
    "cifar10": (_cifar10_files, _read_cifar10, "cifar10", "cifar-10-batches-py-target/cifar-10-batches-py/"),
}


def is_cached(name):
    """Whether a downloadable data set is in Keras's cache, so that its loader works offline.

    Example:

    >>> data = dlkit.datasets.load_cifar10() if dlkit.datasets.is_cached("cifar10") else None

    Args:
        name: String, one of "mnist", "fashion_mnist", "cifar10".

    Returns:
        True when every file the loader reads is in `keras_cache_dir()` (nothing is read or downloaded).

    Raises:
        ValueError: if `name` is not one of the names above.
    """
    if name not in _SOURCES:
        raise ValueError(f"Argument `name` must be one of {sorted(_SOURCES)}. Received: name={name!r}")
    return _SOURCES[name][0](keras_cache_dir()) is not None


def _load_raw(name):
    files, reader, keras_module, cached_name = _SOURCES[name]
    cache = keras_cache_dir()
    paths = files(cache)
    if paths is not None:
        return reader(paths)
    import keras

    try:
        return getattr(keras.datasets, keras_module).load_data()
    except Exception as error:  # network failures surface as many types (URLError, OSError, Exception)
        raise DatasetUnavailableError(
            f"Could not load {name!r}: it is not in Keras's cache ({os.path.join(cache, cached_name)}) and the "
            f"download failed ({type(error).__name__}: {error}). To use it: connect to the internet once and "
            f"call dlkit.datasets.load_{name}() to cache it; or copy the cached files from a machine that has "
            f"them into {cache} (set KERAS_HOME to use another folder). Offline, use "
            f"dlkit.datasets.load_digits(), which ships with scikit-learn."
        ) from error


def _load(name, dev_fraction, num_train, seed):
    dev_fraction = check_float("dev_fraction", dev_fraction, minimum=0.0, maximum=1.0, max_inclusive=False)
    if num_train is not None:
        num_train = check_int("num_train", num_train, minimum=1)
    seed = resolve_seed(check_seed("seed", seed))
    (x_train, y_train), (x_test, y_test) = _load_raw(name)
    x_train = x_train.astype(np.float32) / 255.0
    x_test = x_test.astype(np.float32) / 255.0
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
    y_train, y_test = class_labels(y_train), class_labels(y_test)
    order = np.random.default_rng(seed).permutation(len(x_train))
    x_train, y_train = x_train[order], y_train[order]
    num_dev = int(round(dev_fraction * len(x_train)))
    x_dev, y_dev = x_train[:num_dev], y_train[:num_dev]
    x_train, y_train = x_train[num_dev:], y_train[num_dev:]
    if num_train is not None:
        x_train, y_train = x_train[:num_train], y_train[:num_train]
    return DatasetSplits(name, x_train, y_train, x_dev, y_dev, x_test, y_test, 10)


_DOC = """Loads {title} through `keras.datasets` ({shape} images, 10 classes), scaled to [0, 1].

    Reads Keras's cache when the data was downloaded before; otherwise downloads it. A dev split is carved from
    the (shuffled) training set.

    Args:
        dev_fraction: Float in [0, 1). Share of the training set held out as the dev split.
        num_train: Integer >= 1 or None. Keep only this many training images (after the dev split).
        seed: Integer >= 0 or None. Seeds the shuffle before the dev split.

    Returns:
        A `DatasetSplits` with float32 images (m, {shape}) and int32 labels (m,).

    Raises:
        DatasetUnavailableError: not cached and the download failed (for example offline); the message says
            what to do.
        ValueError: on an argument outside the ranges above.
    """


def load_mnist(dev_fraction=0.1, num_train=None, seed=None):
    return _load("mnist", dev_fraction, num_train, seed)


def load_fashion_mnist(dev_fraction=0.1, num_train=None, seed=None):
    return _load("fashion_mnist", dev_fraction, num_train, seed)


def load_cifar10(dev_fraction=0.1, num_train=None, seed=None):
    return _load("cifar10", dev_fraction, num_train, seed)


load_mnist.__doc__ = _DOC.format(title="MNIST", shape="28, 28, 1")
load_fashion_mnist.__doc__ = _DOC.format(title="Fashion-MNIST", shape="28, 28, 1")
load_cifar10.__doc__ = _DOC.format(title="CIFAR-10", shape="32, 32, 3")
