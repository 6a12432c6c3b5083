"""Offline, seeded data sets for the labs, and loaders for the classic downloadable ones."""

from dlkit.datasets.digits import load_digits
from dlkit.datasets.keras_datasets import (
    DatasetUnavailableError,
    is_cached,
    keras_cache_dir,
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
)
from dlkit.datasets.planar import load_blobs, load_circles, load_moons, load_overfit_2d, load_spiral
from dlkit.datasets.splits import DatasetSplits

__all__ = [
    "DatasetSplits",
    "DatasetUnavailableError",
    "is_cached",
    "keras_cache_dir",
    "load_blobs",
    "load_circles",
    "load_cifar10",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_moons",
    "load_overfit_2d",
    "load_spiral",
]
