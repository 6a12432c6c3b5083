"""dlkit.diagnostics.activation_statistics against NumPy formulas of each activation and its derivative."""

import keras
import numpy as np
import pytest

from dlkit.diagnostics import activation_layers, activation_statistics, dead_fraction


def _model(activation, biases=None):
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(6, activation=activation, name="hidden"),
            keras.layers.Dense(5, name="linear"),
            keras.layers.LeakyReLU(negative_slope=0.1, name="leaky"),
            keras.layers.Dense(2, activation="softmax", name="out"),
        ]
    )
    if biases is not None:
        kernel, _ = model.get_layer("hidden").get_weights()
        model.get_layer("hidden").set_weights([kernel, biases])
    return model


def _numpy_forward(model, x):
    w1, b1 = model.get_layer("hidden").get_weights()
    w2, b2 = model.get_layer("linear").get_weights()
    z1 = x @ w1 + b1
    with np.errstate(over="ignore"):  # exp(-z) of a large negative z: sigmoid 0, as intended
        z2 = (1 / (1 + np.exp(-z1))) @ w2 + b2
    return z1, z2


def test_statistics_match_numpy_for_a_sigmoid_layer_and_an_activation_layer():
    model = _model("sigmoid")
    x = np.random.default_rng(0).normal(scale=4.0, size=(64, 4)).astype("float32")
    stats = activation_statistics(model, x)
    assert list(stats) == ["hidden", "leaky"]  # the linear layer and the output layer are not activations
    z1, z2 = _numpy_forward(model, x)
    a1 = 1 / (1 + np.exp(-z1))
    assert stats["hidden"]["mean"] == pytest.approx(a1.mean(), abs=1e-5)
    assert stats["hidden"]["std"] == pytest.approx(a1.std(), abs=1e-5)
    assert stats["hidden"]["saturated_fraction"] == pytest.approx(np.mean(a1 * (1 - a1) < 0.01))
    assert stats["hidden"]["dead_fraction"] == 0.0
    a2 = np.where(z2 > 0, z2, 0.1 * z2)
    assert stats["leaky"]["mean"] == pytest.approx(a2.mean(), abs=1e-5)
    # Leaky ReLU's derivative is 0.1 or 1: never below 0.01, so never saturated, and never exactly 0.
    assert stats["leaky"]["saturated_fraction"] == 0.0
    assert stats["leaky"]["dead_fraction"] == 0.0
    # A larger threshold counts more entries as saturated (0.1 < 0.25 = the sigmoid's largest slope).
    wide = activation_statistics(model, x, saturation_threshold=0.1)
    assert wide["hidden"]["saturated_fraction"] == pytest.approx(np.mean(a1 * (1 - a1) < 0.1))


def test_relu_dead_units_from_negative_biases():
    biases = np.array([-100.0, -100.0, 0.0, 0.0, 0.0, -100.0], dtype="float32")
    model = _model("relu", biases)
    x = np.random.default_rng(1).normal(size=(50, 4)).astype("float32")
    stats = activation_statistics(model, x)
    z1, _ = _numpy_forward(model, x)
    assert stats["hidden"]["dead_fraction"] == pytest.approx(np.mean(np.all(z1 <= 0, axis=0)))
    assert stats["hidden"]["dead_fraction"] >= 0.5
    # ReLU's derivative is 0 wherever z < 0: the saturated fraction is the share of negative pre-activations.
    assert stats["hidden"]["saturated_fraction"] == pytest.approx(np.mean(z1 < 0))


def test_dead_fraction_formula():
    a = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.5]])
    assert dead_fraction(a) == pytest.approx(1 / 3)
    assert dead_fraction(a, threshold=0.6) == pytest.approx(2 / 3)
    # Spatial axes count as examples: a channel is dead only if silent everywhere.
    assert dead_fraction(np.zeros((2, 3, 3, 4))) == 1.0


def test_activation_layers_and_validation():
    model = _model("tanh")
    assert [layer.name for layer in activation_layers(model)] == ["hidden", "leaky"]
    linear = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="must have a hidden layer with a nonlinear activation"):
        activation_statistics(linear, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="must be a Keras model"):
        activation_layers("model")
    x = np.zeros((2, 4))
    with pytest.raises(ValueError, match=r"Argument `saturation_threshold` must be > 0.0"):
        activation_statistics(model, x, saturation_threshold=0)
    with pytest.raises(ValueError, match=r"Argument `dead_threshold` must be >= 0.0"):
        activation_statistics(model, x, dead_threshold=-1.0)
    with pytest.raises(ValueError, match="Argument `x` must be a non-empty batch"):
        activation_statistics(model, np.zeros((0, 4)))
