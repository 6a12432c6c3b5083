"""dlkit.set_seed: a run repeated after the same seed prints the same numbers."""

import random

import keras
import numpy as np
import pytest

import dlkit


def _train_once(seed):
    dlkit.set_seed(seed)
    data = dlkit.datasets.load_moons(num_train=64, num_test=0)
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    history = model.fit(data.x_train, data.y_train, epochs=3, batch_size=16, shuffle=True, verbose=0)
    return history.history["loss"], [w.copy() for w in model.get_weights()], random.random(), np.random.rand()


def test_two_runs_with_the_same_seed_are_equal():
    first, second = _train_once(11), _train_once(11)
    assert first[0] == second[0]  # loss per epoch, bit for bit
    for a, b in zip(first[1], second[1]):
        np.testing.assert_array_equal(a, b)
    assert first[2:] == second[2:]


def test_set_seed_seeds_python_and_numpy_like_their_own_seed_functions():
    assert dlkit.set_seed(7) == 7
    assert random.random() == random.Random(7).random()
    np.testing.assert_array_equal(np.random.rand(3), np.random.RandomState(7).rand(3))


def test_another_seed_gives_other_numbers():
    assert _train_once(11)[0] != _train_once(12)[0]


def test_set_seed_seeds_keras_random_ops():
    dlkit.set_seed(3)
    a = keras.random.normal((4,)).numpy()
    dlkit.set_seed(3)
    b = keras.random.normal((4,)).numpy()
    np.testing.assert_array_equal(a, b)
    dlkit.set_seed(4)
    assert not np.array_equal(a, keras.random.normal((4,)).numpy())


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (-1, r"`seed` must be >= 0\. Received: seed=-1"),
        (1.5, r"`seed` must be an integer\. Received: seed=1\.5"),
        ("1", r"`seed` must be an integer\. Received: seed='1'"),
        (None, r"`seed` must be an integer\. Received: seed=None"),
        (True, r"`seed` must be an integer\. Received: seed=True"),
        (2**32, r"`seed` must be <= 4294967295\. Received: seed=4294967296"),
    ],
)
def test_bad_seed_raises(seed, message):
    with pytest.raises(ValueError, match=message):
        dlkit.set_seed(seed)
