"""dlkit.initializers: sample statistics against the stated variances, and Keras's named initializers."""

import keras
import numpy as np
import pytest

from dlkit.initializers import LargeRandomNormal, XavierNormal


def _check_normal(values, std):
    """Mean and std of n draws of N(0, std^2) within 5 standard errors; normal, not truncated, tails."""
    values = keras.ops.convert_to_numpy(values).astype(np.float64).ravel()
    n = values.size
    assert abs(values.mean()) < 5 * std / np.sqrt(n)
    assert abs(values.std() - std) < 5 * std / np.sqrt(2 * n)
    # An untruncated normal has ~0.27% beyond 3 sigma; a truncated one (Keras's) has none beyond 2 sigma.
    assert (np.abs(values) > 2.5 * std).mean() > 0.005


def test_large_random_is_randn_times_scale():
    _check_normal(LargeRandomNormal(scale=10.0, seed=1)((300, 200)), 10.0)
    _check_normal(LargeRandomNormal(scale=0.5, seed=2)((300, 200)), 0.5)


@pytest.mark.parametrize(
    "variance, shape, expected_std",
    [
        ("fan_in", (400, 100), np.sqrt(1 / 400)),
        ("fan_avg", (400, 100), np.sqrt(2 / 500)),
        ("fan_in", (3, 3, 16, 32), np.sqrt(1 / (9 * 16))),
        ("fan_avg", (3, 3, 16, 32), np.sqrt(2 / (9 * 48))),
    ],
)
def test_xavier_variances(variance, shape, expected_std):
    _check_normal(XavierNormal(variance, seed=3)(shape), expected_std)


def test_xavier_variances_match_keras_lecun_and_glorot():
    draw = keras.ops.convert_to_numpy
    lecun = draw(keras.initializers.LecunNormal(seed=0)((400, 100)))
    glorot = draw(keras.initializers.GlorotNormal(seed=0)((400, 100)))
    assert abs(np.std(draw(XavierNormal("fan_in", seed=0)((400, 100)))) / lecun.std() - 1) < 0.03
    assert abs(np.std(draw(XavierNormal("fan_avg", seed=0)((400, 100)))) / glorot.std() - 1) < 0.03


def test_seeded_initializers_are_reproducible():
    for make in (lambda s: LargeRandomNormal(seed=s), lambda s: XavierNormal("fan_avg", seed=s)):
        a, b, c = (keras.ops.convert_to_numpy(make(seed)((20, 10))) for seed in (5, 5, 6))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_initializers_in_a_model_round_trip(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((30,)),
            keras.layers.Dense(20, kernel_initializer=LargeRandomNormal(seed=1)),
            keras.layers.Dense(5, kernel_initializer=XavierNormal("fan_avg", seed=2)),
        ]
    )
    assert np.std(keras.ops.convert_to_numpy(model.layers[0].kernel)) > 5  # the large init reached the layer
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[0].kernel_initializer.get_config() == {"scale": 10.0, "seed": 1}
    assert loaded.layers[1].kernel_initializer.get_config() == {"variance": "fan_avg", "seed": 2}
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded.layers[0].kernel),
        keras.ops.convert_to_numpy(model.layers[0].kernel),
    )


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: LargeRandomNormal(scale=0.0), r"`scale` must be > 0\.0\. Received: scale=0\.0"),
        (lambda: LargeRandomNormal(scale=-1.0), r"`scale` must be > 0\.0\. Received: scale=-1\.0"),
        (lambda: LargeRandomNormal(seed=-2), r"`seed` must be >= 0\. Received: seed=-2"),
        (
            lambda: XavierNormal("fan_out"),
            r"`variance` must be one of 'fan_in', 'fan_avg'\. Received: variance='fan_out'",
        ),
        (lambda: XavierNormal(seed=1.5), r"`seed` must be an integer\. Received: seed=1\.5"),
        (
            lambda: XavierNormal()((10,)),
            r"XavierNormal needs a kernel shape of rank >= 2\. Received shape \(10,\)",
        ),
    ],
)
def test_rejects_bad_arguments(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()
