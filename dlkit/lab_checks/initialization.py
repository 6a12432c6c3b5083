"""Visible checks for lab 01 (weight initialization): zeros, large random, He and Xavier initializations.

Every exercise returns a dict of Keras-layout parameters for layer sizes [n_0, n_1, ..., n_L]:
"W{l}" of shape (n_{l-1}, n_l) and "b{l}" of shape (n_l,). Each check seeds NumPy, calls the student's function,
and compares the result with weights drawn here from the formula, W{l} = randn(n_{l-1}, n_l) * std. On a mismatch
it tries the usual mistakes (fan_out instead of fan_in, the variance instead of the standard deviation, DLS's
(n_l, n_{l-1}) layout, a forgotten scale) and names the one that matches.
"""

import numpy as np

from dlkit.lab_checks.expect import expect_close, expect_true, fail, passed

# Layer sizes with n_{l-1} != n_l everywhere, so that fan_in, fan_out and fan_avg give different numbers.
_SMALL_DIMS = [3, 5, 2, 1]
_NET_DIMS = [2, 10, 5, 1]
_WIDE_DIMS = [400, 100, 1]


def _call(function, layer_dims, seed, **kwargs):
    np.random.seed(seed)
    return function(list(layer_dims), **kwargs)


def _draw(layer_dims, seed, std, *, transposed=False):
    """The reference: W{l} = randn(n_{l-1}, n_l) * std(n_{l-1}, n_l), drawn layer after layer after seeding."""
    rng = np.random.RandomState(seed)
    weights = {}
    for layer in range(1, len(layer_dims)):
        n_in, n_out = layer_dims[layer - 1], layer_dims[layer]
        draw = rng.standard_normal((n_out, n_in)).T if transposed else rng.standard_normal((n_in, n_out))
        weights[f"W{layer}"] = draw * std(n_in, n_out)
    return weights


def _check_structure(where, parameters, layer_dims):
    num_layers = len(layer_dims) - 1
    expect_true(
        where,
        isinstance(parameters, dict),
        f"must return a dict of parameters, got {type(parameters).__name__}",
    )
    expected_keys = {f"{p}{layer}" for layer in range(1, num_layers + 1) for p in "Wb"}
    missing = sorted(expected_keys - set(parameters))
    expect_true(
        where,
        not missing,
        f"missing keys {missing}: return 'W{{l}}' and 'b{{l}}' for every layer l = 1..{num_layers} "
        f"(range(1, len(layer_dims)))",
    )
    extra = sorted(str(k) for k in set(parameters) - expected_keys)
    expect_true(
        where, not extra, f"unexpected keys {extra}: only 'W1', 'b1', ..., 'W{num_layers}', 'b{num_layers}'"
    )
    for layer in range(1, num_layers + 1):
        n_in, n_out = layer_dims[layer - 1], layer_dims[layer]
        weights, bias = np.asarray(parameters[f"W{layer}"]), np.asarray(parameters[f"b{layer}"])
        if weights.shape == (n_out, n_in) and n_in != n_out:
            fail(
                where,
                f"W{layer} has shape {weights.shape} = (n_{layer}, n_{layer - 1}), the DLS layout. Keras computes x @ W + b "
                f"with one example per row, so its kernel is (n_{layer - 1}, n_{layer}) = {(n_in, n_out)}",
            )
        expect_true(
            where,
            weights.shape == (n_in, n_out),
            f"W{layer} must have shape {(n_in, n_out)}, got {weights.shape}",
        )
        if bias.shape in ((n_out, 1), (1, n_out)) and n_out != 1:
            fail(where, f"b{layer} has shape {bias.shape}; a Keras Dense bias is 1-D: shape ({n_out},)")
        expect_true(where, bias.shape == (n_out,), f"b{layer} must have shape ({n_out},), got {bias.shape}")
        for name, value in ((f"W{layer}", weights), (f"b{layer}", bias)):
            expect_true(
                where,
                value.dtype.kind == "f",
                f"{name} must hold floats, got dtype {value.dtype} (np.zeros and np.random.randn give float64)",
            )
            expect_true(where, np.all(np.isfinite(value)), f"{name} holds NaN or infinite values")
        expect_true(
            where,
            np.all(bias == 0),
            f"b{layer} is not all zeros: every scheme in this lab draws only W at random and starts the biases at 0 "
            "(np.zeros); the random weights already break the symmetry",
        )


def _check_random_weights(where, function, layer_dims, std, formula, mistakes, **kwargs):
    """Compares with the seeded reference; on a mismatch names the first of `mistakes` that reproduces the result."""
    seed = 1
    parameters = _call(function, layer_dims, seed, **kwargs)
    _check_structure(where, parameters, layer_dims)
    got = {k: np.asarray(v, dtype=float) for k, v in parameters.items() if k.startswith("W")}
    expected = _draw(layer_dims, seed, std)
    if all(np.allclose(got[k], expected[k], rtol=1e-6, atol=1e-9) for k in expected):
        return
    for message, wrong_std, transposed in mistakes:
        wrong = _draw(layer_dims, seed, wrong_std, transposed=transposed)
        if all(np.allclose(got[k], wrong[k], rtol=1e-6, atol=1e-9) for k in wrong):
            fail(where, f"{message}. Expected W{{l}} = {formula}")
    again = {k: np.asarray(v, dtype=float) for k, v in _call(function, layer_dims, seed, **kwargs).items()}
    expect_true(
        where,
        all(np.array_equal(got[k], again[k]) for k in got),
        "two calls after the same np.random.seed gave different weights: draw them with np.random.randn "
        "(NumPy's global generator, not np.random.default_rng, random or keras.random)",
    )
    other = {
        k: np.asarray(v, dtype=float) for k, v in _call(function, layer_dims, seed + 1, **kwargs).items()
    }
    expect_true(
        where,
        not all(np.array_equal(got[k], other[k]) for k in got),
        "different np.random.seed values gave the same weights: do not call np.random.seed inside the function "
        "(the caller seeds)",
    )
    wide = _call(function, _WIDE_DIMS, seed, **kwargs)
    weights = np.asarray(wide["W1"], dtype=float)
    target = std(_WIDE_DIMS[0], _WIDE_DIMS[1])
    expect_true(
        where,
        abs(float(weights.mean())) < 0.1 * target,
        f"W1 of layer sizes {_WIDE_DIMS} has mean {weights.mean():.3g}; randn weights are centred on 0. "
        "Use np.random.randn (standard normal), not np.random.rand (uniform on [0, 1))",
    )
    expect_true(
        where,
        abs(float(weights.std()) / target - 1) < 0.05,
        f"W1 of layer sizes {_WIDE_DIMS} has standard deviation {weights.std():.4g}, expected {target:.4g} "
        f"from W{{l}} = {formula}",
    )
    for key in expected:
        expect_close(
            f"{where}: {key} after np.random.seed({seed}) (draw np.random.randn(n_{{l-1}}, n_l) for layer 1, 2, ... "
            "in order, nothing else)",
            got[key],
            expected[key],
            rtol=1e-6,
            atol=1e-9,
        )


def _layout_mistake(std):
    return (
        "you drew np.random.randn(n_l, n_{l-1}) and transposed it: the same distribution, but the grader "
        "reproduces your numbers, so draw np.random.randn(n_{l-1}, n_l) directly",
        std,
        True,
    )


def check_zeros_init(initialize_parameters_zeros):
    """Checks `initialize_parameters_zeros(layer_dims)`: every W{l} and b{l} is zero, with Keras shapes."""
    for layer_dims in (_SMALL_DIMS, _NET_DIMS, [4, 1]):
        where = f"initialize_parameters_zeros({layer_dims})"
        parameters = initialize_parameters_zeros(list(layer_dims))
        _check_structure(where, parameters, layer_dims)
        for key, value in parameters.items():
            expect_true(where, np.all(np.asarray(value) == 0), f"{key} must be all zeros (np.zeros)")
    passed("initialize_parameters_zeros")


def check_random_init(initialize_parameters_random):
    """Checks `initialize_parameters_random(layer_dims, scale=10.0)`: W{l} = randn(n_{l-1}, n_l) * scale."""
    for layer_dims, kwargs in ((_SMALL_DIMS, {}), (_NET_DIMS, {"scale": 0.5})):
        scale = kwargs.get("scale", 10.0)
        where = f"initialize_parameters_random({layer_dims}{', scale=0.5' if kwargs else ''})"
        mistakes = [
            ("the weights are not scaled: multiply np.random.randn(...) by `scale`", lambda i, o: 1.0, False),
            (
                "you multiplied by the square root of `scale`; multiply by `scale` itself",
                lambda i, o, s=scale: s**0.5,
                False,
            ),
            _layout_mistake(lambda i, o, s=scale: s),
        ]
        if scale != 10.0:
            mistakes.insert(
                0, ("you used a fixed 10: multiply by the `scale` argument", lambda i, o: 10.0, False)
            )
        _check_random_weights(
            where,
            initialize_parameters_random,
            layer_dims,
            lambda i, o, s=scale: s,
            "randn(n_{l-1}, n_l) * scale",
            mistakes,
            **kwargs,
        )
    passed("initialize_parameters_random")


def check_he_init(initialize_parameters_he):
    """Checks `initialize_parameters_he(layer_dims)`: W{l} = randn(n_{l-1}, n_l) * sqrt(2 / n_{l-1})."""
    mistakes = [
        (
            "you scaled with n_l, the layer's own units (fan_out); He uses n_{l-1}, the number of inputs each unit "
            "sums over (fan_in)",
            lambda i, o: np.sqrt(2.0 / o),
            False,
        ),
        (
            "you multiplied by the variance 2 / n_{l-1}; multiply randn by its square root, the standard deviation",
            lambda i, o: 2.0 / i,
            False,
        ),
        (
            "that is Xavier / LeCun, variance 1 / n_{l-1}; He doubles it to 2 / n_{l-1} because ReLU zeroes about "
            "half of its inputs, which halves the second moment E[a^2] that the next layer sees",
            lambda i, o: np.sqrt(1.0 / i),
            False,
        ),
        (
            "that is Glorot's average variance 2 / (n_{l-1} + n_l); He uses 2 / n_{l-1}",
            lambda i, o: np.sqrt(2.0 / (i + o)),
            False,
        ),
        (
            "the weights are not scaled: multiply np.random.randn(...) by sqrt(2 / n_{l-1})",
            lambda i, o: 1.0,
            False,
        ),
        _layout_mistake(lambda i, o: np.sqrt(2.0 / i)),
    ]
    for layer_dims in (_SMALL_DIMS, _NET_DIMS):
        _check_random_weights(
            f"initialize_parameters_he({layer_dims})",
            initialize_parameters_he,
            layer_dims,
            lambda i, o: np.sqrt(2.0 / i),
            "randn(n_{l-1}, n_l) * sqrt(2 / n_{l-1})",
            mistakes,
        )
    passed("initialize_parameters_he")


def check_xavier_init(initialize_parameters_xavier):
    """Checks `initialize_parameters_xavier(layer_dims, mode)` for mode "fan_in" and mode "fan_avg"."""
    fan_in = lambda i, o: np.sqrt(1.0 / i)  # noqa: E731
    fan_avg = lambda i, o: np.sqrt(2.0 / (i + o))  # noqa: E731
    fan_in_mistakes = [
        (
            "with mode='fan_in' you used the average 2 / (n_{l-1} + n_l); 'fan_in' is Var(W) = 1 / n_{l-1}",
            fan_avg,
            False,
        ),
        (
            "you scaled with n_l (fan_out); 'fan_in' uses n_{l-1}, the number of inputs of each unit",
            lambda i, o: np.sqrt(1.0 / o),
            False,
        ),
        (
            "you multiplied by the variance 1 / n_{l-1}; multiply randn by its square root",
            lambda i, o: 1.0 / i,
            False,
        ),
        ("that is He (2 / n_{l-1}); Xavier for tanh uses 1 / n_{l-1}", lambda i, o: np.sqrt(2.0 / i), False),
        _layout_mistake(fan_in),
    ]
    fan_avg_mistakes = [
        (
            "with mode='fan_avg' you used 1 / n_{l-1}: is `mode` ignored? 'fan_avg' is Var(W) = 2 / (n_{l-1} + n_l)",
            fan_in,
            False,
        ),
        (
            "you used 1 / (n_{l-1} + n_l); the Glorot variance is 2 / (n_{l-1} + n_l), the inverse of the average "
            "fan (n_{l-1} + n_l) / 2",
            lambda i, o: np.sqrt(1.0 / (i + o)),
            False,
        ),
        (
            "you multiplied by the variance 2 / (n_{l-1} + n_l); multiply randn by its square root",
            lambda i, o: 2.0 / (i + o),
            False,
        ),
        ("you used 2 / n_{l-1} (He); 'fan_avg' is 2 / (n_{l-1} + n_l)", lambda i, o: np.sqrt(2.0 / i), False),
        _layout_mistake(fan_avg),
    ]
    for layer_dims in (_SMALL_DIMS, _NET_DIMS):
        _check_random_weights(
            f"initialize_parameters_xavier({layer_dims}, mode='fan_in')",
            initialize_parameters_xavier,
            layer_dims,
            fan_in,
            "randn(n_{l-1}, n_l) * sqrt(1 / n_{l-1})",
            fan_in_mistakes,
            mode="fan_in",
        )
        _check_random_weights(
            f"initialize_parameters_xavier({layer_dims}, mode='fan_avg')",
            initialize_parameters_xavier,
            layer_dims,
            fan_avg,
            "randn(n_{l-1}, n_l) * sqrt(2 / (n_{l-1} + n_l))",
            fan_avg_mistakes,
            mode="fan_avg",
        )
    passed("initialize_parameters_xavier")
