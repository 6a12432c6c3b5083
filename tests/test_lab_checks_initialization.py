"""The lab 01 checks accept correct initializations and reject the usual mistakes with a message that names them."""

import re

import numpy as np
import pytest

from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import initialization as checks

_LAYOUT = (
    "you drew np.random.randn(n_l, n_{l-1}) and transposed it: the same distribution, but the grader "
    "reproduces your numbers, so draw np.random.randn(n_{l-1}, n_l) directly"
)


def _init(std, *, transposed=False, bias=np.zeros, dtype=float):
    """Builds an initialize_* function: W{l} = randn(n_in, n_out) * std(n_in, n_out), b{l} = bias(n_out)."""

    def initialize(layer_dims, **kwargs):
        parameters = {}
        for layer in range(1, len(layer_dims)):
            n_in, n_out = layer_dims[layer - 1], layer_dims[layer]
            draw = np.random.randn(n_out, n_in).T if transposed else np.random.randn(n_in, n_out)
            parameters[f"W{layer}"] = (draw * std(n_in, n_out, **kwargs)).astype(dtype)
            parameters[f"b{layer}"] = bias(n_out)
        return parameters

    return initialize


def he(i, o):
    return np.sqrt(2.0 / i)


def xavier(i, o, mode="fan_in"):
    return np.sqrt(1.0 / i) if mode == "fan_in" else np.sqrt(2.0 / (i + o))


def random(i, o, scale=10.0):
    return scale


def test_zeros_accepts_reference(capsys):
    def initialize_parameters_zeros(layer_dims):
        return {
            key: value
            for layer in range(1, len(layer_dims))
            for key, value in (
                (f"W{layer}", np.zeros((layer_dims[layer - 1], layer_dims[layer]))),
                (f"b{layer}", np.zeros(layer_dims[layer])),
            )
        }

    checks.check_zeros_init(initialize_parameters_zeros)
    assert "initialize_parameters_zeros: all tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "function, message",
    [
        (
            lambda dims: (
                {f"W{layer}": np.zeros((dims[layer], dims[layer - 1])) for layer in range(1, len(dims))}
                | {f"b{layer}": np.zeros(dims[layer]) for layer in range(1, len(dims))}
            ),
            "DLS layout",
        ),
        (
            lambda dims: {
                f"W{layer}": np.zeros((dims[layer - 1], dims[layer])) for layer in range(1, len(dims))
            },
            "missing keys",
        ),
        (
            lambda dims: (
                {f"W{layer}": np.zeros((dims[layer - 1], dims[layer])) for layer in range(1, len(dims))}
                | {f"b{layer}": np.zeros((dims[layer], 1)) for layer in range(1, len(dims))}
            ),
            "1-D",
        ),
        (
            lambda dims: (
                {f"W{layer}": np.ones((dims[layer - 1], dims[layer])) for layer in range(1, len(dims))}
                | {f"b{layer}": np.zeros(dims[layer]) for layer in range(1, len(dims))}
            ),
            "W1 must be all zeros",
        ),
        (
            lambda dims: (
                {
                    f"W{layer}": np.zeros((dims[layer - 1], dims[layer]), dtype=int)
                    for layer in range(1, len(dims))
                }
                | {f"b{layer}": np.zeros(dims[layer]) for layer in range(1, len(dims))}
            ),
            "must hold floats",
        ),
        (lambda dims: [np.zeros(2)], "must return a dict"),
    ],
)
def test_zeros_rejects_mistakes(function, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_zeros_init(function)


def test_zeros_names_np_ones():
    def ones(dims):
        return {f"W{layer}": np.ones((dims[layer - 1], dims[layer])) for layer in range(1, len(dims))} | {
            f"b{layer}": np.zeros(dims[layer]) for layer in range(1, len(dims))
        }

    message = (
        "W1 must be all zeros (np.zeros): you used np.ones; this exercise starts every weight at 0 (np.zeros)"
    )
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_zeros_init(ones)


def test_random_accepts_reference(capsys):
    checks.check_random_init(_init(random))
    assert "initialize_parameters_random: all tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "function, message",
    [
        (_init(lambda i, o, scale=10.0: 1.0), "not scaled"),
        (_init(lambda i, o, scale=10.0: 10.0), "fixed 10"),
        (_init(lambda i, o, scale=10.0: np.sqrt(scale)), "square root of `scale`"),
        (_init(random, transposed=True), "transposed"),
        (_init(random, bias=np.ones), "b1 is not all zeros"),
        (_init(random, bias=lambda n: np.random.randn(n) * 10), "b1 is not all zeros"),
    ],
)
def test_random_rejects_mistakes(function, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_random_init(function)


@pytest.mark.parametrize(
    "function, message",
    [
        (_init(lambda i, o, scale=10.0: 10.0), "you used a fixed 10: multiply by the `scale` argument"),
        (
            _init(lambda i, o, scale=10.0: 1.0),
            "the weights are not scaled: multiply np.random.randn(...) by `scale`",
        ),
        (
            _init(lambda i, o, scale=10.0: np.sqrt(scale)),
            "you multiplied by the square root of `scale`; multiply by `scale` itself",
        ),
        (_init(random, transposed=True), _LAYOUT),
    ],
)
def test_random_names_each_known_mistake(function, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_random_init(function)


def test_random_rejects_uniform_and_own_generators():
    def uniform(layer_dims, scale=10.0):
        return {
            k: v
            for layer in range(1, len(layer_dims))
            for k, v in (
                (f"W{layer}", np.random.rand(layer_dims[layer - 1], layer_dims[layer]) * scale),
                (f"b{layer}", np.zeros(layer_dims[layer])),
            )
        }

    def seeded_inside(layer_dims, scale=10.0):
        np.random.seed(3)
        return _init(random)(layer_dims, scale=scale)

    def own_generator(layer_dims, scale=10.0):
        rng = np.random.default_rng()
        return {
            k: v
            for layer in range(1, len(layer_dims))
            for k, v in (
                (f"W{layer}", rng.standard_normal((layer_dims[layer - 1], layer_dims[layer])) * scale),
                (f"b{layer}", np.zeros(layer_dims[layer])),
            )
        }

    with pytest.raises(ExerciseCheckError, match="np.random.rand"):
        checks.check_random_init(uniform)
    with pytest.raises(ExerciseCheckError, match="do not call np.random.seed"):
        checks.check_random_init(seeded_inside)
    with pytest.raises(ExerciseCheckError, match="different weights"):
        checks.check_random_init(own_generator)


def test_he_accepts_reference(capsys):
    checks.check_he_init(_init(he))
    assert "initialize_parameters_he: all tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "std, message",
    [
        (lambda i, o: np.sqrt(2.0 / o), "fan_out"),
        (lambda i, o: 2.0 / i, "variance"),
        (lambda i, o: np.sqrt(1.0 / i), "Xavier"),
        (lambda i, o: np.sqrt(2.0 / (i + o)), "average"),
        (lambda i, o: 1.0, "not scaled"),
        (lambda i, o: np.sqrt(2.0 / i) * 1.5, "standard deviation"),
    ],
)
def test_he_rejects_wrong_variance(std, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_he_init(_init(std))


@pytest.mark.parametrize(
    "std, transposed, message",
    [
        (
            lambda i, o: np.sqrt(2.0 / o),
            False,
            "you scaled with n_l, the layer's own units (fan_out); He uses n_{l-1}, the number of inputs each "
            "unit sums over (fan_in)",
        ),
        (
            lambda i, o: 2.0 / i,
            False,
            "you multiplied by the variance 2 / n_{l-1}; multiply randn by its square root, the standard deviation",
        ),
        (
            lambda i, o: np.sqrt(1.0 / i),
            False,
            "that is Xavier / LeCun, variance 1 / n_{l-1}; He doubles it to 2 / n_{l-1} because ReLU zeroes "
            "about half of its inputs, which halves the second moment E[a^2] that the next layer sees",
        ),
        (
            lambda i, o: np.sqrt(2.0 / (i + o)),
            False,
            "that is Glorot's average variance 2 / (n_{l-1} + n_l); He uses 2 / n_{l-1}",
        ),
        (
            lambda i, o: 1.0,
            False,
            "the weights are not scaled: multiply np.random.randn(...) by sqrt(2 / n_{l-1})",
        ),
        (he, True, _LAYOUT),
    ],
)
def test_he_names_each_known_mistake(std, transposed, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_he_init(_init(std, transposed=transposed))


def test_he_rejects_layout_and_bias():
    with pytest.raises(ExerciseCheckError, match="transposed"):
        checks.check_he_init(_init(he, transposed=True))
    with pytest.raises(ExerciseCheckError, match="b1 is not all zeros"):
        checks.check_he_init(_init(he, bias=lambda n: np.full(n, 0.01)))


def test_he_reference_matches_keras_variance_scaling():
    # Independent of the check's own formula: Keras's He-normal spread (untruncated) is the same sqrt(2 / fan_in).
    import keras

    keras.utils.set_random_seed(0)
    kernel = keras.initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal")((400, 100))
    np.random.seed(0)
    ours = _init(he)([400, 100])["W1"]
    assert abs(float(np.std(kernel)) / float(np.std(ours)) - 1) < 0.03


def test_xavier_accepts_reference(capsys):
    checks.check_xavier_init(_init(xavier))
    assert "initialize_parameters_xavier: all tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "std, message",
    [
        (lambda i, o, mode="fan_in": np.sqrt(1.0 / i), "is `mode` ignored"),
        (lambda i, o, mode="fan_in": np.sqrt(2.0 / (i + o)), "you used the average"),
        (lambda i, o, mode="fan_in": np.sqrt(1.0 / o) if mode == "fan_in" else xavier(i, o, mode), "fan_out"),
        (lambda i, o, mode="fan_in": xavier(i, o) if mode == "fan_in" else np.sqrt(1.0 / (i + o)), "1 / \\("),
        (lambda i, o, mode="fan_in": xavier(i, o, mode) ** 2, "variance"),
        (lambda i, o, mode="fan_in": np.sqrt(2.0 / i), "He"),
    ],
)
def test_xavier_rejects_mistakes(std, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_xavier_init(_init(std))


def _modes(fan_in, fan_avg):
    """An Xavier std: `fan_in(i, o)` for mode "fan_in", `fan_avg(i, o)` for mode "fan_avg"."""
    return lambda i, o, mode="fan_in": fan_in(i, o) if mode == "fan_in" else fan_avg(i, o)


@pytest.mark.parametrize(
    "std, transposed, message",
    [
        (
            _modes(lambda i, o: np.sqrt(2.0 / (i + o)), lambda i, o: xavier(i, o, "fan_avg")),
            False,
            "with mode='fan_in' you used the average 2 / (n_{l-1} + n_l); 'fan_in' is Var(W) = 1 / n_{l-1}",
        ),
        (
            _modes(lambda i, o: np.sqrt(1.0 / o), lambda i, o: xavier(i, o, "fan_avg")),
            False,
            "you scaled with n_l (fan_out); 'fan_in' uses n_{l-1}, the number of inputs of each unit",
        ),
        (
            _modes(lambda i, o: 1.0 / i, lambda i, o: xavier(i, o, "fan_avg")),
            False,
            "you multiplied by the variance 1 / n_{l-1}; multiply randn by its square root",
        ),
        (
            _modes(he, lambda i, o: xavier(i, o, "fan_avg")),
            False,
            "that is He (2 / n_{l-1}); Xavier for tanh uses 1 / n_{l-1}",
        ),
        (_modes(xavier, lambda i, o: xavier(i, o, "fan_avg")), True, _LAYOUT),
        (
            _modes(xavier, xavier),
            False,
            "with mode='fan_avg' you used 1 / n_{l-1}: is `mode` ignored? 'fan_avg' is Var(W) = 2 / (n_{l-1} + n_l)",
        ),
        (
            _modes(xavier, lambda i, o: np.sqrt(1.0 / (i + o))),
            False,
            "you used 1 / (n_{l-1} + n_l); the Glorot variance is 2 / (n_{l-1} + n_l), the inverse of the "
            "average fan (n_{l-1} + n_l) / 2",
        ),
        (
            _modes(xavier, lambda i, o: 2.0 / (i + o)),
            False,
            "you multiplied by the variance 2 / (n_{l-1} + n_l); multiply randn by its square root",
        ),
        (
            _modes(xavier, he),
            False,
            "you used 2 / n_{l-1} (He); 'fan_avg' is 2 / (n_{l-1} + n_l)",
        ),
    ],
)
def test_xavier_names_each_known_mistake(std, transposed, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_xavier_init(_init(std, transposed=transposed))


def test_xavier_rejects_layout_for_fan_avg():
    layout_on_fan_avg = _init(xavier, transposed=True)

    def initialize(layer_dims, mode="fan_in"):
        if mode == "fan_in":
            return _init(xavier)(layer_dims, mode=mode)
        return layout_on_fan_avg(layer_dims, mode=mode)

    with pytest.raises(ExerciseCheckError, match=re.escape("mode='fan_avg'") + ".*" + re.escape(_LAYOUT)):
        checks.check_xavier_init(initialize)
