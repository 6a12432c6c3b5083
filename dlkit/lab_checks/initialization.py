"""Visible checks for lab 01 (weight initialization): zeros, large random, He and Xavier initializations.

Every exercise returns a dict of Keras-layout parameters for layer sizes [n_0, n_1, ..., n_L]:
"W{l}" of shape (n_{l-1}, n_l) and "b{l}" of shape (n_l,). Each exercise has a private reference
(`_reference_<name>`: the parameters computed here from the formula after seeding NumPy,
W{l} = randn(n_{l-1}, n_l) * std and b{l} = 0), a table of known mistakes (`_<name>_mistakes`: fan_out instead of
fan_in, the variance instead of the standard deviation, DLS's (n_l, n_{l-1}) layout, a forgotten scale, ...) and a
public check (`check_<name>`), as described in `dlkit.lab_checks.expect`. Each check seeds NumPy, calls the
student's function, checks the parameters' keys, shapes and dtypes, that the weights come from NumPy's seeded
global generator and have the right spread on a wide layer, then compares them with the reference's.
"""

import numpy as np

from dlkit.lab_checks.expect import check_value, expect_true, fail, passed

# Layer sizes with n_{l-1} != n_l everywhere, so that fan_in, fan_out and fan_avg give different numbers.
_SMALL_DIMS = [3, 5, 2, 1]
_NET_DIMS = [2, 10, 5, 1]
_WIDE_DIMS = [400, 100, 1]
_SEED = 1


def _call(function, layer_dims, seed, **kwargs):
    np.random.seed(seed)
    return function(list(layer_dims), **kwargs)


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


def _rescaled(layer_dims, seed, std):
    """W{l} = randn(n_{l-1}, n_l) * std(n_{l-1}, n_l): the seeded standard normal draws (the random
    initialization with scale 1), each layer multiplied by a (wrong) standard deviation."""
    parameters = _reference_random_init(layer_dims, seed, scale=1.0)
    for layer in range(1, len(layer_dims)):
        parameters[f"W{layer}"] = parameters[f"W{layer}"] * std(layer_dims[layer - 1], layer_dims[layer])
    return parameters


def _layout_mistake(parameters, layer_dims):
    """The DLS-layout mistake on `parameters`: each W{l} drawn as randn(n_l, n_{l-1}) and transposed.

    The same numbers of the stream fill an (n_l, n_{l-1}) array instead, so W{l}.reshape(n_l, n_{l-1}).T.
    """
    transposed = dict(parameters)
    for layer in range(1, len(layer_dims)):
        n_in, n_out = layer_dims[layer - 1], layer_dims[layer]
        transposed[f"W{layer}"] = np.asarray(parameters[f"W{layer}"]).reshape(n_out, n_in).T
    message = (
        "you drew np.random.randn(n_l, n_{l-1}) and transposed it: the same distribution, but the grader "
        "reproduces your numbers, so draw np.random.randn(n_{l-1}, n_l) directly"
    )
    return message, transposed


def _check_random_weights(where, function, layer_dims, formula, reference, mistakes, **kwargs):
    """Checks a random initialization against `reference(layer_dims, seed)` and `mistakes(layer_dims, seed)`.

    In order: the structure; the same weights after the same `np.random.seed` and different ones after another;
    on a wide layer, a mean near 0 and the reference's standard deviation (naming a mistake by its spread); then
    every W{l} against the reference drawn with the same seed.
    """
    parameters = _call(function, layer_dims, _SEED, **kwargs)
    _check_structure(where, parameters, layer_dims)
    got = {k: np.asarray(v, dtype=float) for k, v in parameters.items() if k.startswith("W")}
    again = {k: np.asarray(v, dtype=float) for k, v in _call(function, layer_dims, _SEED, **kwargs).items()}
    expect_true(
        where,
        all(np.array_equal(got[k], again[k]) for k in got),
        "two calls after the same np.random.seed gave different weights: draw them with np.random.randn "
        "(NumPy's global generator, not np.random.default_rng, random or keras.random)",
    )
    other = {
        k: np.asarray(v, dtype=float) for k, v in _call(function, layer_dims, _SEED + 1, **kwargs).items()
    }
    expect_true(
        where,
        not all(np.array_equal(got[k], other[k]) for k in got),
        "different np.random.seed values gave the same weights: do not call np.random.seed inside the function "
        "(the caller seeds)",
    )

    weights = np.asarray(_call(function, _WIDE_DIMS, _SEED, **kwargs)["W1"], dtype=float)
    target = float(np.std(reference(_WIDE_DIMS, _SEED)["W1"]))
    expect_true(
        where,
        abs(float(weights.mean())) < 0.1 * max(float(weights.std()), target),
        f"W1 of layer sizes {_WIDE_DIMS} has mean {weights.mean():.3g}; randn weights are centred on 0. "
        "Use np.random.randn (standard normal), not np.random.rand (uniform on [0, 1))",
    )
    check_value(
        f"{where}: the standard deviation of W1 for layer sizes {_WIDE_DIMS} (W{{l}} = {formula})",
        float(weights.std()),
        target,
        [(message, float(np.std(wrong["W1"]))) for message, wrong in mistakes(_WIDE_DIMS, _SEED)],
        rtol=0.05,
    )

    expected = reference(layer_dims, _SEED)
    table = mistakes(layer_dims, _SEED)
    for key in [name for name in expected if name.startswith("W")]:
        check_value(
            f"{where}: {key} after np.random.seed({_SEED}) (W{{l}} = {formula}: draw np.random.randn(n_{{l-1}}, "
            "n_l) for layer 1, 2, ... in order, nothing else)",
            got[key],
            expected[key],
            [(message, wrong[key]) for message, wrong in table],
            rtol=1e-6,
            atol=1e-9,
        )


# ---- exercise 1: zeros -----------------------------------------------------------------------------------------
def _reference_zeros_init(layer_dims):
    """Zero initialization: W{l} = zeros(n_{l-1}, n_l), b{l} = zeros(n_l)."""
    parameters = {}
    for layer in range(1, len(layer_dims)):
        parameters[f"W{layer}"] = np.zeros((layer_dims[layer - 1], layer_dims[layer]))
        parameters[f"b{layer}"] = np.zeros(layer_dims[layer])
    return parameters


def _zeros_init_mistakes(layer_dims):
    """(message, wrong parameters) pairs for `initialize_parameters_zeros(layer_dims)`."""
    ones = {key: np.ones_like(value) for key, value in _reference_zeros_init(layer_dims).items()}
    return [("you used np.ones; this exercise starts every weight at 0 (np.zeros)", ones)]


def check_zeros_init(initialize_parameters_zeros):
    """Checks `initialize_parameters_zeros(layer_dims)`: every W{l} and b{l} is zero, with Keras shapes."""
    for layer_dims in (_SMALL_DIMS, _NET_DIMS, [4, 1]):
        where = f"initialize_parameters_zeros({layer_dims})"
        parameters = initialize_parameters_zeros(list(layer_dims))
        _check_structure(where, parameters, layer_dims)
        expected = _reference_zeros_init(layer_dims)
        table = _zeros_init_mistakes(layer_dims)
        for key in expected:
            check_value(
                f"{where}: {key} must be all zeros (np.zeros)",
                parameters[key],
                expected[key],
                [(message, wrong[key]) for message, wrong in table],
                rtol=0,
                atol=0,
            )
    passed("initialize_parameters_zeros")


# ---- exercise 2: large random weights --------------------------------------------------------------------------
def _reference_random_init(layer_dims, seed, scale=10.0):
    """Random initialization after `np.random.seed(seed)`, drawn layer after layer.

    ```
    W{l} = randn(n_{l-1}, n_l) * scale
    b{l} = zeros(n_l)
    ```
    """
    rng = np.random.RandomState(seed)
    parameters = {}
    for layer in range(1, len(layer_dims)):
        n_in, n_out = layer_dims[layer - 1], layer_dims[layer]
        parameters[f"W{layer}"] = rng.standard_normal((n_in, n_out)) * scale
        parameters[f"b{layer}"] = np.zeros(n_out)
    return parameters


def _random_init_mistakes(layer_dims, seed, scale=10.0):
    """(message, wrong parameters) pairs for `initialize_parameters_random(layer_dims, scale)`."""
    return [
        (
            "you used a fixed 10: multiply by the `scale` argument",
            _reference_random_init(layer_dims, seed, scale=10.0),
        ),
        (
            "the weights are not scaled: multiply np.random.randn(...) by `scale`",
            _reference_random_init(layer_dims, seed, scale=1.0),
        ),
        (
            "you multiplied by the square root of `scale`; multiply by `scale` itself",
            _reference_random_init(layer_dims, seed, scale=scale**0.5),
        ),
        _layout_mistake(_reference_random_init(layer_dims, seed, scale=scale), layer_dims),
    ]


def check_random_init(initialize_parameters_random):
    """Checks `initialize_parameters_random(layer_dims, scale=10.0)`: W{l} = randn(n_{l-1}, n_l) * scale."""
    for layer_dims, kwargs in ((_SMALL_DIMS, {}), (_NET_DIMS, {"scale": 0.5})):
        scale = kwargs.get("scale", 10.0)
        _check_random_weights(
            f"initialize_parameters_random({layer_dims}{', scale=0.5' if kwargs else ''})",
            initialize_parameters_random,
            layer_dims,
            "randn(n_{l-1}, n_l) * scale",
            lambda dims, seed, scale=scale: _reference_random_init(dims, seed, scale),
            lambda dims, seed, scale=scale: _random_init_mistakes(dims, seed, scale),
            **kwargs,
        )
    passed("initialize_parameters_random")


# ---- exercise 3: He --------------------------------------------------------------------------------------------
def _reference_he_init(layer_dims, seed):
    """He initialization after `np.random.seed(seed)`, drawn layer after layer.

    ```
    W{l} = randn(n_{l-1}, n_l) * sqrt(2 / n_{l-1})
    b{l} = zeros(n_l)
    ```
    """
    rng = np.random.RandomState(seed)
    parameters = {}
    for layer in range(1, len(layer_dims)):
        n_in, n_out = layer_dims[layer - 1], layer_dims[layer]
        parameters[f"W{layer}"] = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
        parameters[f"b{layer}"] = np.zeros(n_out)
    return parameters


def _he_init_mistakes(layer_dims, seed):
    """(message, wrong parameters) pairs for `initialize_parameters_he(layer_dims)`."""
    return [
        (
            "you scaled with n_l, the layer's own units (fan_out); He uses n_{l-1}, the number of inputs each unit "
            "sums over (fan_in)",
            _rescaled(layer_dims, seed, lambda n_in, n_out: np.sqrt(2.0 / n_out)),
        ),
        (
            "you multiplied by the variance 2 / n_{l-1}; multiply randn by its square root, the standard deviation",
            _rescaled(layer_dims, seed, lambda n_in, n_out: 2.0 / n_in),
        ),
        (
            "that is Xavier / LeCun, variance 1 / n_{l-1}; He doubles it to 2 / n_{l-1} because ReLU zeroes about "
            "half of its inputs, which halves the second moment E[a^2] that the next layer sees",
            _reference_xavier_init(layer_dims, seed, mode="fan_in"),
        ),
        (
            "that is Glorot's average variance 2 / (n_{l-1} + n_l); He uses 2 / n_{l-1}",
            _reference_xavier_init(layer_dims, seed, mode="fan_avg"),
        ),
        (
            "the weights are not scaled: multiply np.random.randn(...) by sqrt(2 / n_{l-1})",
            _reference_random_init(layer_dims, seed, scale=1.0),
        ),
        _layout_mistake(_reference_he_init(layer_dims, seed), layer_dims),
    ]


def check_he_init(initialize_parameters_he):
    """Checks `initialize_parameters_he(layer_dims)`: W{l} = randn(n_{l-1}, n_l) * sqrt(2 / n_{l-1})."""
    for layer_dims in (_SMALL_DIMS, _NET_DIMS):
        _check_random_weights(
            f"initialize_parameters_he({layer_dims})",
            initialize_parameters_he,
            layer_dims,
            "randn(n_{l-1}, n_l) * sqrt(2 / n_{l-1})",
            _reference_he_init,
            _he_init_mistakes,
        )
    passed("initialize_parameters_he")


# ---- exercise 4: Xavier / Glorot -------------------------------------------------------------------------------
def _reference_xavier_init(layer_dims, seed, mode="fan_in"):
    """Xavier initialization after `np.random.seed(seed)`, drawn layer after layer.

    ```
    mode "fan_in":  W{l} = randn(n_{l-1}, n_l) * sqrt(1 / n_{l-1})
    mode "fan_avg": W{l} = randn(n_{l-1}, n_l) * sqrt(2 / (n_{l-1} + n_l))
    b{l} = zeros(n_l)
    ```
    """
    rng = np.random.RandomState(seed)
    parameters = {}
    for layer in range(1, len(layer_dims)):
        n_in, n_out = layer_dims[layer - 1], layer_dims[layer]
        variance = 1.0 / n_in if mode == "fan_in" else 2.0 / (n_in + n_out)
        parameters[f"W{layer}"] = rng.standard_normal((n_in, n_out)) * np.sqrt(variance)
        parameters[f"b{layer}"] = np.zeros(n_out)
    return parameters


def _xavier_init_mistakes(layer_dims, seed, mode="fan_in"):
    """(message, wrong parameters) pairs for `initialize_parameters_xavier(layer_dims, mode)`."""
    if mode == "fan_in":
        return [
            (
                "with mode='fan_in' you used the average 2 / (n_{l-1} + n_l); 'fan_in' is Var(W) = 1 / n_{l-1}",
                _reference_xavier_init(layer_dims, seed, mode="fan_avg"),
            ),
            (
                "you scaled with n_l (fan_out); 'fan_in' uses n_{l-1}, the number of inputs of each unit",
                _rescaled(layer_dims, seed, lambda n_in, n_out: np.sqrt(1.0 / n_out)),
            ),
            (
                "you multiplied by the variance 1 / n_{l-1}; multiply randn by its square root",
                _rescaled(layer_dims, seed, lambda n_in, n_out: 1.0 / n_in),
            ),
            (
                "that is He (2 / n_{l-1}); Xavier for tanh uses 1 / n_{l-1}",
                _reference_he_init(layer_dims, seed),
            ),
            _layout_mistake(_reference_xavier_init(layer_dims, seed, mode), layer_dims),
        ]
    return [
        (
            "with mode='fan_avg' you used 1 / n_{l-1}: is `mode` ignored? 'fan_avg' is Var(W) = 2 / (n_{l-1} + n_l)",
            _reference_xavier_init(layer_dims, seed, mode="fan_in"),
        ),
        (
            "you used 1 / (n_{l-1} + n_l); the Glorot variance is 2 / (n_{l-1} + n_l), the inverse of the average "
            "fan (n_{l-1} + n_l) / 2",
            _rescaled(layer_dims, seed, lambda n_in, n_out: np.sqrt(1.0 / (n_in + n_out))),
        ),
        (
            "you multiplied by the variance 2 / (n_{l-1} + n_l); multiply randn by its square root",
            _rescaled(layer_dims, seed, lambda n_in, n_out: 2.0 / (n_in + n_out)),
        ),
        ("you used 2 / n_{l-1} (He); 'fan_avg' is 2 / (n_{l-1} + n_l)", _reference_he_init(layer_dims, seed)),
        _layout_mistake(_reference_xavier_init(layer_dims, seed, mode), layer_dims),
    ]


def check_xavier_init(initialize_parameters_xavier):
    """Checks `initialize_parameters_xavier(layer_dims, mode)` for mode "fan_in" and mode "fan_avg"."""
    formulas = {
        "fan_in": "randn(n_{l-1}, n_l) * sqrt(1 / n_{l-1})",
        "fan_avg": "randn(n_{l-1}, n_l) * sqrt(2 / (n_{l-1} + n_l))",
    }
    for layer_dims in (_SMALL_DIMS, _NET_DIMS):
        for mode, formula in formulas.items():
            _check_random_weights(
                f"initialize_parameters_xavier({layer_dims}, mode={mode!r})",
                initialize_parameters_xavier,
                layer_dims,
                formula,
                lambda dims, seed, mode=mode: _reference_xavier_init(dims, seed, mode),
                lambda dims, seed, mode=mode: _xavier_init_mistakes(dims, seed, mode),
                mode=mode,
            )
    passed("initialize_parameters_xavier")
