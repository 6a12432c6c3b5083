"""dlkit.datasets: shapes, dtypes, splits, determinism, bad arguments and the offline loader errors."""

import gzip
import os
import pickle

import numpy as np
import pytest

import dlkit
from dlkit import datasets

PLANAR = {
    "circles": lambda seed: datasets.load_circles(seed=seed),
    "moons": lambda seed: datasets.load_moons(seed=seed),
    "overfit_2d": lambda seed: datasets.load_overfit_2d(seed=seed),
    "spiral": lambda seed: datasets.load_spiral(seed=seed),
    "blobs": lambda seed: datasets.load_blobs(seed=seed),
}


@pytest.mark.parametrize(
    "loader, train, test",
    [
        (lambda: datasets.load_circles(seed=1), 300, 100),  # DLS initialization data
        (lambda: datasets.load_moons(seed=1), 300, 100),  # DLS optimization data (300 train)
        (lambda: datasets.load_overfit_2d(seed=1), 211, 200),  # DLS regularization data sizes
    ],
)
def test_binary_sets_have_the_course_sizes(loader, train, test):
    data = loader()
    assert data.x_train.shape == (train, 2) and data.x_test.shape == (test, 2)
    assert data.y_train.shape == (train, 1) and data.y_test.shape == (test, 1)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.float32
    assert set(np.unique(data.y_train)) == {0.0, 1.0}
    assert data.num_classes == 2 and len(data.x_dev) == 0


def test_circles_geometry_matches_the_definition():
    data = datasets.load_circles(noise=0.0, factor=0.5, seed=3)
    radius = np.linalg.norm(data.x_train, axis=1)
    inner = data.y_train[:, 0] == 1
    np.testing.assert_allclose(radius[inner], 0.5, atol=1e-6)
    np.testing.assert_allclose(radius[~inner], 1.0, atol=1e-6)


def test_moons_geometry_matches_the_definition():
    # Without noise: class 0 is the upper half of the unit circle, class 1 the lower half of the unit circle
    # centred at (1, 0.5).
    data = datasets.load_moons(noise=0.0, seed=2)
    for x, y in ((data.x_train, data.y_train[:, 0]), (data.x_test, data.y_test[:, 0])):
        upper, lower = x[y == 0], x[y == 1]
        assert len(upper) and len(lower)
        np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0, atol=1e-6)
        assert upper[:, 1].min() >= -1e-6
        np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0, atol=1e-6)
        assert lower[:, 1].max() <= 0.5 + 1e-6


def test_blobs_are_tight_stratified_clusters():
    data = datasets.load_blobs(
        num_classes=4, num_samples=400, cluster_std=0.05, split=(0.5, 0.25, 0.25), seed=0
    )
    assert data.num_classes == 4
    assert (len(data.x_train), len(data.x_dev), len(data.x_test)) == (200, 100, 100)
    assert (
        data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32 and data.y_train.shape == (200,)
    )
    for part in (data.y_train, data.y_dev, data.y_test):
        assert np.bincount(part, minlength=4).tolist() == [len(part) // 4] * 4
    x = np.concatenate([data.x_train, data.x_dev, data.x_test])
    y = np.concatenate([data.y_train, data.y_dev, data.y_test])
    centres = np.array([x[y == k].mean(axis=0) for k in range(4)])
    for k in range(4):
        # 100 points per blob: the sample std is within 30% of cluster_std (about 7 standard errors).
        np.testing.assert_allclose(x[y == k].std(axis=0), 0.05, rtol=0.3)
    # Linearly separable: every point is nearest to its own blob's centre.
    nearest = np.linalg.norm(x[:, None, :] - centres[None], axis=2).argmin(axis=1)
    np.testing.assert_array_equal(nearest, y)


def test_overfit_set_label_noise_is_the_requested_rate():
    data = datasets.load_overfit_2d(num_train=20000, num_test=0, flip_rate=0.1, seed=0)
    x, y = data.x_train, data.y_train[:, 0]
    clean = (x[:, 1] > 0.12 * np.sin(3.0 * x[:, 0]) + 0.25 * x[:, 0] - 0.05).astype(np.float32)
    assert abs(np.mean(clean != y) - 0.1) < 0.01


@pytest.mark.parametrize("name", sorted(PLANAR))
def test_same_seed_same_data_other_seed_other_data(name):
    a, b, c = PLANAR[name](7), PLANAR[name](7), PLANAR[name](8)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)


def test_seed_none_follows_dlkit_set_seed():
    dlkit.set_seed(5)
    first = datasets.load_moons().x_train
    dlkit.set_seed(5)
    np.testing.assert_array_equal(first, datasets.load_moons().x_train)


def test_spiral_follows_the_cs231n_formula():
    data = datasets.load_spiral(num_classes=3, points_per_class=50, noise=0.0, split=(0.5, 0.0, 0.5), seed=0)
    x = np.concatenate([data.x_train, data.x_test])
    y = np.concatenate([data.y_train, data.y_test])
    assert data.y_train.dtype == np.int32 and np.bincount(y).tolist() == [50, 50, 50]
    j = 1
    r = np.linspace(0, 1, 50)
    t = np.linspace(4 * j, 4 * (j + 1), 50)
    expected = np.column_stack([r * np.sin(t), r * np.cos(t)]).astype(np.float32)
    got = x[y == j]
    # Order is shuffled by the split: compare as sets of points.
    np.testing.assert_allclose(np.sort(got, axis=0), np.sort(expected, axis=0), atol=1e-6)


def test_digits_split_is_stratified_and_complete():
    data = datasets.load_digits(split=(0.6, 0.2, 0.2), seed=0)
    total = len(data.x_train) + len(data.x_dev) + len(data.x_test)
    assert total == 1797
    assert data.x_train.shape[1:] == (8, 8, 1) and data.x_train.dtype == np.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    for part in (data.y_train, data.y_dev, data.y_test):
        shares = np.bincount(part, minlength=10) / len(part)
        assert np.all(np.abs(shares - 0.1) < 0.02)
    flat = datasets.load_digits(flatten=True, seed=0)
    assert flat.x_train.shape[1:] == (64,)
    np.testing.assert_array_equal(flat.x_train.reshape(-1, 8, 8, 1), data.x_train)


def test_digits_without_dev_split():
    data = datasets.load_digits(split=(0.8, 0.0, 0.2), seed=0)
    assert len(data.x_dev) == 0 and len(data.x_train) + len(data.x_test) == 1797


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: datasets.load_circles(num_train=0), r"`num_train` must be >= 2\. Received: num_train=0"),
        (lambda: datasets.load_circles(noise=-0.1), r"`noise` must be >= 0\.0\. Received: noise=-0\.1"),
        (lambda: datasets.load_circles(factor=1.5), r"`factor` must be < 1\.0\. Received: factor=1\.5"),
        (lambda: datasets.load_circles(seed=-1), r"`seed` must be >= 0\. Received: seed=-1"),
        (lambda: datasets.load_moons(num_test=-5), r"`num_test` must be >= 0\. Received: num_test=-5"),
        (
            lambda: datasets.load_moons(num_train=2.5),
            r"`num_train` must be an integer\. Received: num_train=2\.5",
        ),
        (
            lambda: datasets.load_overfit_2d(flip_rate=0.5),
            r"`flip_rate` must be < 0\.5\. Received: flip_rate=0\.5",
        ),
        (
            lambda: datasets.load_spiral(num_classes=1),
            r"`num_classes` must be >= 2\. Received: num_classes=1",
        ),
        (
            lambda: datasets.load_spiral(split=(0.5, 0.5)),
            r"`split` must hold 3 fractions in \[0, 1\) with train > 0\. Received: split=\(0\.5, 0\.5\)",
        ),
        (
            lambda: datasets.load_blobs(split=(0.5, 0.2, 0.2)),
            r"`split` must sum to 1\. Received: split=\(0\.5, 0\.2, 0\.2\)",
        ),
        (
            lambda: datasets.load_blobs(cluster_std=0),
            r"`cluster_std` must be > 0\.0\. Received: cluster_std=0\.0",
        ),
        (
            lambda: datasets.load_digits(flatten="yes"),
            r"`flatten` must be True or False\. Received: flatten='yes'",
        ),
        (
            lambda: datasets.load_mnist(dev_fraction=1.0),
            r"`dev_fraction` must be < 1\.0\. Received: dev_fraction=1\.0",
        ),
        (lambda: datasets.load_cifar10(num_train=0), r"`num_train` must be >= 1\. Received: num_train=0"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- downloadable sets: a fake Keras cache, never the network ------------------------------------------------


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    cache = tmp_path / "datasets"
    cache.mkdir()
    return cache


def test_mnist_reads_a_cached_file(keras_home):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    y_train = rng.integers(0, 10, 50, dtype=np.uint8)
    x_test = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    y_test = rng.integers(0, 10, 20, dtype=np.uint8)
    assert not datasets.is_cached("mnist")
    np.savez(keras_home / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    assert datasets.is_cached("mnist") and not datasets.is_cached("cifar10")
    data = datasets.load_mnist(dev_fraction=0.2, seed=0)
    assert data.x_train.shape == (40, 28, 28, 1) and data.x_dev.shape == (10, 28, 28, 1)
    assert data.x_test.dtype == np.float32
    np.testing.assert_allclose(data.x_test[..., 0], x_test / 255.0, rtol=1e-6)
    # Train + dev is a permutation of the cached training set, labels kept with their images.
    merged = np.concatenate([data.x_dev, data.x_train])[..., 0]
    order = np.random.default_rng(0).permutation(50)
    np.testing.assert_allclose(merged, x_train[order] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(np.concatenate([data.y_dev, data.y_train]), y_train[order])
    assert len(datasets.load_mnist(dev_fraction=0.2, num_train=7, seed=0).x_train) == 7


def test_fashion_mnist_reads_cached_idx_files(keras_home):
    folder = keras_home / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(1)
    images = {
        "train": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        "t10k": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
    }
    labels = {
        "train": rng.integers(0, 10, 30, dtype=np.uint8),
        "t10k": rng.integers(0, 10, 10, dtype=np.uint8),
    }
    for part in ("train", "t10k"):
        with gzip.open(folder / f"{part}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\x00" * 8 + labels[part].tobytes())
        with gzip.open(folder / f"{part}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\x00" * 16 + images[part].tobytes())
        assert datasets.is_cached("fashion_mnist") == (part == "t10k")  # all four files, not two
    data = datasets.load_fashion_mnist(dev_fraction=0.0, seed=0)
    assert data.x_train.shape == (30, 28, 28, 1)
    np.testing.assert_array_equal(data.y_test, labels["t10k"])
    np.testing.assert_allclose(data.x_test[..., 0], images["t10k"] / 255.0, rtol=1e-6)


def test_cifar10_reads_cached_batches(keras_home):
    folder = keras_home / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        assert not datasets.is_cached(
            "cifar10"
        )  # every batch file, or the loader would fail on the missing one
        data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, 4).tolist()
        batches[name] = (data, labels)
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": labels}, f)
    assert datasets.is_cached("cifar10")
    data = datasets.load_cifar10(dev_fraction=0.0, seed=0)
    assert data.x_train.shape == (20, 32, 32, 3) and data.x_test.shape == (4, 32, 32, 3)
    raw, labels = batches["test_batch"]
    # CIFAR stores planes R, G, B of 32x32 each, row-major.
    expected = raw.reshape(4, 3, 32, 32).transpose(0, 2, 3, 1) / 255.0
    np.testing.assert_allclose(data.x_test, expected, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, labels)


@pytest.mark.parametrize("loader", [datasets.load_mnist, datasets.load_fashion_mnist, datasets.load_cifar10])
def test_uncached_and_offline_says_what_to_do(keras_home, monkeypatch, loader):
    import keras

    def offline(*args, **kwargs):
        raise OSError("[Errno -2] Name or service not known")

    # The network is never touched: keras's downloader is replaced by one that fails like an offline machine.
    monkeypatch.setattr(keras.utils, "get_file", offline)
    import keras.src.utils.file_utils as file_utils

    monkeypatch.setattr(file_utils, "get_file", offline)
    for module in ("mnist", "fashion_mnist", "cifar10"):
        source = __import__(f"keras.src.datasets.{module}", fromlist=["get_file"])
        monkeypatch.setattr(source, "get_file", offline)
    with pytest.raises(
        datasets.DatasetUnavailableError,
        match=r"not in Keras's cache .* download failed \(OSError: \[Errno -2\] Name or service not known\)",
    ) as error:
        loader()
    message = str(error.value)
    assert str(keras_home) in message and "load_digits" in message and "KERAS_HOME" in message


def test_is_cached_rejects_an_unknown_name():
    with pytest.raises(
        ValueError,
        match=r"`name` must be one of \['cifar10', 'fashion_mnist', 'mnist'\]. Received: name='cifar100'",
    ):
        datasets.is_cached("cifar100")


def test_keras_cache_dir_follows_keras_home(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert datasets.keras_cache_dir() == os.path.join(str(tmp_path), "datasets")
