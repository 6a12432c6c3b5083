"""Lab 10's visible checks accept correct activations, gradient norms, callbacks, ... written here (NumPy formulas
and Keras built-ins) and name every known mistake by its full message."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import activation_functions as checks

# ---------------------------------------------------------------------------------------------------------------
# A correct solution, written independently of dlkit.lab_checks.activation_functions.

ALPHA = 1.6732632423543772848170429916717  # Klambauer et al. 2017
LAMBDA = 1.0507009873554804934193349852946


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def solution(**overrides):
    table = {
        "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z))),
        "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
        "relu": (lambda z: np.maximum(0, z), lambda z: (z > 0).astype(float)),
        "leaky_relu": (lambda z: np.maximum(0.01 * z, z), lambda z: np.where(z > 0, 1.0, 0.01)),
        "elu": (lambda z: np.where(z > 0, z, np.exp(z) - 1), lambda z: np.where(z > 0, 1.0, np.exp(z))),
        "selu": (
            lambda z: LAMBDA * np.where(z > 0, z, ALPHA * (np.exp(z) - 1)),
            lambda z: LAMBDA * np.where(z > 0, 1.0, ALPHA * np.exp(z)),
        ),
    }
    table.update(overrides)
    return table


def _keras(name, z):
    fn = {
        "sigmoid": keras.activations.sigmoid,
        "tanh": keras.activations.tanh,
        "relu": keras.activations.relu,
        "leaky_relu": lambda t: keras.activations.leaky_relu(t, negative_slope=0.01),
        "elu": keras.activations.elu,
        "selu": keras.activations.selu,
    }[name]
    return np.asarray(fn(tf.constant(z, tf.float64)))


def _message(text):
    return re.escape(text)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1


def test_solution_agrees_with_keras_and_autodiff():
    z = np.linspace(-5, 5, 41)
    z = z[z != 0]
    for name, (fn, derivative) in solution().items():
        np.testing.assert_allclose(fn(z), _keras(name, z), rtol=1e-6, atol=1e-12)
        t = tf.constant(z)
        with tf.GradientTape() as tape:
            tape.watch(t)
            out = tf.reduce_sum(_keras_tensor(name, t))
        np.testing.assert_allclose(derivative(z), np.asarray(tape.gradient(out, t)), rtol=1e-6, atol=1e-12)


def _keras_tensor(name, t):
    return {
        "sigmoid": keras.activations.sigmoid,
        "tanh": keras.activations.tanh,
        "relu": keras.activations.relu,
        "leaky_relu": lambda v: keras.activations.leaky_relu(v, negative_slope=0.01),
        "elu": keras.activations.elu,
        "selu": keras.activations.selu,
    }[name](t)


def test_activations_accept_the_solution_and_either_side_at_the_kink(capsys):
    checks.check_activations(solution())
    assert "activations: all tests passed" in capsys.readouterr().out
    # ReLU's derivative 1 at 0 (from the right), SELU's lambda * alpha at 0 (from the left): both fine.
    checks.check_activations(
        solution(
            relu=(lambda z: np.maximum(0, z), lambda z: (z >= 0).astype(float)),
            selu=(solution()["selu"][0], lambda z: LAMBDA * np.where(z >= 0, 1.0, ALPHA * np.exp(z))),
        )
    )


def test_the_kink_needs_a_one_sided_derivative():
    half = solution(relu=(lambda z: np.maximum(0, z), lambda z: np.where(z == 0, 0.5, (z > 0) * 1.0)))
    with pytest.raises(ExerciseCheckError, match="return one of the one-sided derivatives, 0"):
        checks.check_activations(half)


FORWARD = [
    (
        "sigmoid",
        lambda z: 1 / (1 + np.exp(z)),
        "the sign of the exponent is flipped: sigmoid(z) = 1 / (1 + exp(-z))",
    ),
    ("tanh", sigmoid, "that is the sigmoid: tanh(z) = 2 sigmoid(2z) - 1, in (-1, 1)"),
    ("relu", lambda z: np.minimum(0, z), "you returned min(0, z): ReLU keeps the positive side, max(0, z)"),
    (
        "relu",
        lambda z: (z > 0) * 1.0,
        "you returned the indicator (z > 0): that is ReLU's derivative, not ReLU",
    ),
    (
        "leaky_relu",
        lambda z: np.where(z > 0, 0.01 * z, z),
        "Leaky ReLU's slope applied to the positive side: it is z for z > 0 and alpha * z for z <= 0",
    ),
    ("leaky_relu", lambda z: np.maximum(0, z), "that is a plain ReLU: for z <= 0 return alpha * z, not 0"),
    (
        "leaky_relu",
        lambda z: np.maximum(0.2 * z, z),
        "you used Keras's default slope 0.2 (or the TF recap's 0.1): use the `alpha` argument (0.01)",
    ),
    (
        "elu",
        lambda z: np.where(z > 0, z, np.exp(z)),
        "ELU for z <= 0 is alpha * (exp(z) - 1): you left out the - 1, so ELU jumps at 0",
    ),
    ("elu", lambda z: np.maximum(0, z), "that is a plain ReLU: for z <= 0, ELU is alpha * (exp(z) - 1)"),
    (
        "selu",
        lambda z: np.where(z > 0, z, ALPHA * (np.exp(z) - 1)),
        "SELU without lambda: selu(z) = lambda * elu(z, alpha), lambda = 1.0507009873554804934",
    ),
    (
        "selu",
        lambda z: np.where(z > 0, LAMBDA * z, ALPHA * (np.exp(z) - 1)),
        "lambda scales only the positive side in your SELU: it multiplies both sides",
    ),
    (
        "selu",
        lambda z: np.where(z > 0, z, np.exp(z) - 1),
        "that is ELU with alpha = 1: SELU uses alpha = 1.6732632... and lambda = 1.0507009...",
    ),
    (
        "selu",
        lambda z: 1.0507 * np.where(z > 0, z, 1.6733 * (np.exp(z) - 1)),
        "you used the rounded constants 1.6733 and 1.0507: use the exact published ones, alpha = "
        "1.6732632423543772848 and lambda = 1.0507009873554804934 (Klambauer et al. 2017, as keras.activations.selu)",
    ),
]


@pytest.mark.parametrize(
    "name, wrong, message", FORWARD, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(FORWARD)]
)
def test_activations_name_the_forward_mistake(name, wrong, message):
    table = solution(**{name: (wrong, solution()[name][1])})
    with pytest.raises(ExerciseCheckError, match=_message(message)):
        checks.check_activations(table)


DERIVATIVES = [
    (
        "sigmoid",
        lambda z: z * (1 - z),
        "sigmoid'(z) computed from z instead of sigma(z): it is s * (1 - s) with s = sigmoid(z), not z * (1 - z)",
    ),
    ("sigmoid", sigmoid, "you returned sigmoid(z) itself: the derivative is s * (1 - s) with s = sigmoid(z)"),
    ("sigmoid", lambda z: sigmoid(z) * (1 + sigmoid(z)), "the derivative is s * (1 - s), not s * (1 + s)"),
    (
        "tanh",
        lambda z: 1 - z**2,
        "tanh'(z) computed from z instead of tanh(z): it is 1 - tanh(z)**2, not 1 - z**2",
    ),
    ("tanh", lambda z: 1 - np.tanh(z), "you forgot the square: tanh'(z) = 1 - tanh(z)**2"),
    (
        "relu",
        lambda z: np.maximum(0, z),
        "you returned ReLU itself: its derivative is 1 for z > 0 and 0 for z < 0",
    ),
    (
        "leaky_relu",
        lambda z: np.where(z > 0, 0.01, 1.0),
        "Leaky ReLU's slope applied to the positive side: the derivative is 1 for z > 0 and alpha for z < 0",
    ),
    (
        "leaky_relu",
        lambda z: (z > 0) * 1.0,
        "that is ReLU's derivative: for z < 0 Leaky ReLU's slope is alpha, not 0",
    ),
    (
        "elu",
        lambda z: np.where(z > 0, 1.0, 1.0),
        "ELU's derivative for z < 0 written as alpha instead of alpha * exp(z) (the derivative of "
        "alpha * (exp(z) - 1))",
    ),
    (
        "elu",
        lambda z: np.where(z > 0, 1.0, np.exp(z) - 1),
        "for z < 0 you returned ELU's value alpha * (exp(z) - 1); its derivative is alpha * exp(z)",
    ),
    (
        "selu",
        lambda z: np.where(z > 0, 1.0, ALPHA * np.exp(z)),
        "SELU without lambda: selu'(z) = lambda * (1 if z > 0 else alpha * exp(z))",
    ),
    (
        "selu",
        lambda z: np.where(z > 0, 1.0, LAMBDA * ALPHA * np.exp(z)),
        "for z > 0 SELU's derivative is lambda (1.0507...), not 1: lambda scales both sides",
    ),
    (
        "selu",
        lambda z: np.where(z > 0, LAMBDA, LAMBDA * ALPHA),
        "SELU's derivative for z < 0 written as lambda * alpha instead of lambda * alpha * exp(z)",
    ),
]


@pytest.mark.parametrize(
    "name, wrong, message", DERIVATIVES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(DERIVATIVES)]
)
def test_activations_name_the_derivative_mistake(name, wrong, message):
    table = solution(**{name: (solution()[name][0], wrong)})
    with pytest.raises(ExerciseCheckError, match=_message(message)):
        checks.check_activations(table)


def test_gradcheck_helper_tells_a_right_derivative_from_a_wrong_one():
    z = np.array([-2.0, -0.7, 0.4, 1.9])
    good = checks.gradcheck_your_derivative("elu", solution()["elu"][1], z)
    assert good.passed and good.difference < 1e-7
    # A flipped sign: ||g - (-g)|| / (||g|| + ||-g||) = 1.
    flipped = checks.gradcheck_your_derivative("sigmoid", lambda t: -solution()["sigmoid"][1](t), z)
    assert not flipped.passed and flipped.difference == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="Argument `name` must be one of"):
        checks.gradcheck_your_derivative("swish", np.tanh, z)


def test_activations_wants_all_six():
    with pytest.raises(ExerciseCheckError, match="must be a dict with the keys"):
        checks.check_activations({"relu": solution()["relu"]})


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: gradient norms, against NumPy backpropagation through the probe net


def layer_gradient_norms(model, x, y, loss_fn):
    kernels = [layer.kernel for layer in model.layers]
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    return np.array([float(tf.norm(g)) for g in tape.gradient(loss, kernels)])


def _numpy_norms(model, x, y):
    """Backpropagation by hand: sigmoid hidden layers, softmax + mean cross-entropy output."""
    weights = [layer.get_weights() for layer in model.layers]
    hs = [x.astype(np.float64)]
    for W, b in weights[:-1]:
        hs.append(sigmoid(hs[-1] @ W + b))
    W, b = weights[-1]
    z = hs[-1] @ W + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = (p - y) / len(x)
    norms = []
    for layer in range(len(weights) - 1, -1, -1):
        norms.append(np.linalg.norm(hs[layer].T @ delta))
        if layer:
            delta = (delta @ weights[layer][0].T) * hs[layer] * (1 - hs[layer])
    return np.array(norms[::-1])


def test_gradient_norms_reference_is_backprop():
    model, x, y, loss_fn = checks._gradient_probe_model()
    np.testing.assert_allclose(
        layer_gradient_norms(model, x, y, loss_fn), _numpy_norms(model, x, y), rtol=1e-4
    )


def test_gradient_norms_accept_the_solution(capsys):
    checks.check_layer_gradient_norms(layer_gradient_norms)
    assert "layer_gradient_norms: all tests passed" in capsys.readouterr().out


def _weights_norms(model, x, y, loss_fn):
    return np.array([np.linalg.norm(layer.kernel) for layer in model.layers])


def _all_variables(model, x, y, loss_fn):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    return np.array([float(tf.norm(g)) for g in tape.gradient(loss, model.trainable_weights)])


def _applied(model, x, y, loss_fn):
    norms = layer_gradient_norms(model, x, y, loss_fn)
    model.layers[0].kernel.assign(model.layers[0].kernel * 0.5)
    return norms


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_weights_norms, "you returned the norms of the weights, not of their gradients dJ/dW"),
        (
            lambda *a: layer_gradient_norms(*a)[::-1],
            "the layers are in reverse order: the first layer (next to the input) first",
        ),
        (
            lambda *a: layer_gradient_norms(*a) ** 2,
            "you returned the sum of squares: the norm is its square root, sqrt(sum(dW ** 2))",
        ),
        (_all_variables, "one norm per layer's kernel: leave out the biases' gradients"),
        (
            lambda *a: layer_gradient_norms(*a)[:-1],
            "expected 4 norms (one per layer's kernel, the output layer included), got 3",
        ),
        (
            _applied,
            "your function changed the model's weights: only compute the gradients, do not apply them",
        ),
    ],
)
def test_gradient_norms_name_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=_message(message)):
        checks.check_layer_gradient_norms(wrong)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: the dead-ReLU counter


def make_counter(rule=np.all, per_unit=True, count=False, layers=slice(None, -1), append=True):
    class Counter(keras.callbacks.Callback):
        def __init__(self, x_probe):
            super().__init__()
            self.x_probe, self.history = x_probe, []

        def on_epoch_end(self, epoch, logs=None):
            h, fractions = self.x_probe, []
            for layer in self.model.layers[layers]:
                h = layer(h)
                silent = keras.ops.convert_to_numpy(h) == 0
                if not per_unit:
                    fractions.append(float(silent.mean()))
                elif count:
                    fractions.append(float(rule(silent, axis=0).sum()))
                else:
                    fractions.append(float(rule(silent, axis=0).mean()))
            if append or not self.history:
                self.history.append(fractions)

    return Counter


def test_dead_counter_reference_matches_numpy():
    model, x = checks._dead_probe_model()
    h, expected = x.astype(np.float64), []
    for layer in model.layers[:-1]:
        kernel, bias = layer.get_weights()
        h = np.maximum(h @ kernel + bias, 0)
        expected.append(np.mean(np.all(h == 0, axis=0)))
    np.testing.assert_allclose(checks._reference_dead_fractions(model, x), expected)
    assert 0 < expected[0] < 1 and 0 < expected[1] < 1  # the probe has dead and live units in both layers


def test_dead_counter_accepts_the_solution(capsys):
    checks.check_dead_relu_counter(make_counter())
    assert "dead_relu_counter: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            make_counter(rule=np.any),
            "a unit is dead when its output is 0 on EVERY example of the probe batch (np.all over axis 0), not on "
            "some of them (np.any)",
        ),
        (
            make_counter(per_unit=False),
            "you counted zero outputs (entries), not dead units: a unit is dead when its column is 0 on every "
            "example, dead fraction = mean over units of np.all(a == 0, axis=0)",
        ),
        (make_counter(count=True), "you returned the number of dead units: divide by the layer's width"),
        (
            make_counter(layers=slice(None)),
            "expected 2 fractions (one per hidden layer: every layer but the output layer), got 3",
        ),
        (make_counter(append=False), "`history` must be a list with one entry per epoch (2 here)"),
    ],
)
def test_dead_counter_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=_message(message)):
        checks.check_dead_relu_counter(wrong)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: PReLU, against keras.layers.PReLU and autodiff


def prelu(z, alpha):
    return np.where(z > 0, z, alpha * z)


def prelu_alpha_gradient(z, upstream):
    return np.sum(upstream * np.where(z > 0, 0.0, z), axis=0)


def test_prelu_solution_agrees_with_keras_prelu():
    rng = np.random.default_rng(0)
    z, upstream = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    layer = keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.3), dtype="float64")
    t = tf.constant(z)
    with tf.GradientTape() as tape:
        out = layer(t)
        loss = tf.reduce_sum(out * upstream)
    np.testing.assert_allclose(prelu(z, 0.3), np.asarray(out))
    np.testing.assert_allclose(
        prelu_alpha_gradient(z, upstream), np.asarray(tape.gradient(loss, layer.alpha))
    )


def test_prelu_accepts_the_solution(capsys):
    checks.check_prelu(prelu, prelu_alpha_gradient)
    assert "prelu: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong_prelu, wrong_gradient, message",
    [
        (
            lambda z, a: np.where(z > 0, a * z, z),
            prelu_alpha_gradient,
            "alpha applied to the positive side: prelu(z) = z for z > 0, alpha * z for z <= 0",
        ),
        (
            prelu,
            lambda z, u: np.sum(u * z, axis=0),
            "alpha only acts on the negative side: da/dalpha = z where z <= 0 and 0 where z > 0",
        ),
        (
            prelu,
            lambda z, u: np.mean(u * np.minimum(z, 0), axis=0),
            "alpha is shared by every example: sum the contributions over the batch (axis 0), not the mean",
        ),
        (
            prelu,
            lambda z, u: np.sum(np.minimum(z, 0), axis=0),
            "you forgot the upstream gradient: dL/dalpha = sum_i upstream * min(z, 0) (the chain rule)",
        ),
        (
            prelu,
            lambda z, u: u * np.minimum(z, 0),
            "one value per channel (alpha's shape, (3,)): sum the contributions over the batch, axis 0",
        ),
    ],
)
def test_prelu_names_the_mistake(wrong_prelu, wrong_gradient, message):
    with pytest.raises(ExerciseCheckError, match=_message(message)):
        checks.check_prelu(wrong_prelu, wrong_gradient)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 5: moments through depth


def moments_through_depth(x, weights, activation):
    means, variances = [], []
    for W in weights:
        x = activation(x @ W)
        means.append(x.mean())
        variances.append(x.var())
    return np.array(means), np.array(variances)


def test_moments_accept_the_solution_and_match_a_loop_over_layers(capsys):
    checks.check_moments_through_depth(moments_through_depth)
    assert "moments_through_depth: all tests passed" in capsys.readouterr().out
    rng = np.random.default_rng(1)
    x, weights = rng.normal(size=(5, 3)), [rng.normal(size=(3, 3)), rng.normal(size=(3, 3))]
    means, variances = moments_through_depth(x, weights, np.tanh)
    second = np.tanh(np.tanh(x @ weights[0]) @ weights[1])
    assert means[1] == pytest.approx(second.mean()) and variances[1] == pytest.approx(second.var())


def _pre(x, weights, activation):
    means, variances = [], []
    for W in weights:
        z = x @ W
        x = activation(z)
        means.append(z.mean())
        variances.append(z.var())
    return means, variances


def _with_input(x, weights, activation):
    means, variances = [x.mean()], [x.var()]
    for W in weights[:-1]:
        x = activation(x @ W)
        means.append(x.mean())
        variances.append(x.var())
    return means, variances


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda *a: (moments_through_depth(*a)[0], np.sqrt(moments_through_depth(*a)[1])),
            "you returned the standard deviation: the second array is the variance, np.var (std ** 2)",
        ),
        (_pre, "you measured the pre-activations z = h @ W: measure each layer's output activation(h @ W)"),
        (
            _with_input,
            "off by one layer: entry l is the output of layer l + 1 (the input x itself is not a layer)",
        ),
        (lambda *a: moments_through_depth(*a)[0], "must return a tuple (means, variances)"),
        (
            lambda x, w, f: moments_through_depth(x, w[:-1], f),
            "expected 4 means and 4 variances (one per layer), got sizes [3, 3]",
        ),
    ],
)
def test_moments_name_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=_message(message)):
        checks.check_moments_through_depth(wrong)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 6: Maxout, through dlkit.layers.Maxout itself


def maxout_weights(n, target):
    kernel = np.zeros((n, 2 * n))
    kernel[np.arange(n), 2 * np.arange(n)] = 1.0
    if target == "abs":
        kernel[np.arange(n), 2 * np.arange(n) + 1] = -1.0
    return kernel, np.zeros(2 * n)


def maxout_parameter_count(input_dim, units, num_pieces):
    return (input_dim + 1) * units * num_pieces


def test_maxout_solution_in_the_real_layer():
    from dlkit.layers import Maxout

    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    for target, expected in (("relu", np.maximum(x, 0)), ("abs", np.abs(x))):
        layer = Maxout(4, num_pieces=2)
        layer.build(x.shape)
        layer.set_weights([w.astype("float32") for w in maxout_weights(4, target)])
        np.testing.assert_allclose(np.asarray(layer(x)), expected, atol=1e-7)
        assert layer.count_params() == maxout_parameter_count(4, 4, 2)
    built = Maxout(32, num_pieces=3)
    built.build((None, 64))
    assert built.count_params() == maxout_parameter_count(64, 32, 3)


def test_maxout_accepts_the_solution(capsys):
    checks.check_maxout(maxout_weights, maxout_parameter_count)
    assert "maxout: all tests passed" in capsys.readouterr().out


def _piece_major(n, target):
    second = np.zeros((n, n)) if target == "relu" else -np.eye(n)
    return np.concatenate([np.eye(n), second], axis=1), np.zeros(2 * n)


@pytest.mark.parametrize(
    "wrong_weights, wrong_count, message",
    [
        (
            _piece_major,
            maxout_parameter_count,
            "your pieces are in the wrong columns: column u * num_pieces + k is piece k of unit u "
            "(dlkit.layers.Maxout's layout), so unit u's two pieces are columns 2u and 2u + 1",
        ),
        (
            lambda n, t: maxout_weights(n, "relu"),
            maxout_parameter_count,
            "the layer's output is not abs(x) elementwise",
        ),
        (
            maxout_weights,
            lambda i, u, k: i * u * k,
            "you left out the biases: each piece of each unit has one",
        ),
        (
            maxout_weights,
            lambda i, u, k: (i + 1) * u,
            "a Maxout unit has num_pieces linear pieces, each with its own weights and bias: k times a Dense "
            "layer's (input_dim + 1) * units",
        ),
    ],
)
def test_maxout_names_the_mistake(wrong_weights, wrong_count, message):
    with pytest.raises(ExerciseCheckError, match=_message(message)):
        checks.check_maxout(wrong_weights, wrong_count)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 7: summarizing runs over seeds


def summarize_runs(curves, target):
    final = curves[:, -1]
    epochs = []
    for curve in curves:
        hits = np.nonzero(curve >= target)[0]
        epochs.append(hits[0] + 1 if len(hits) else np.inf)
    return final.mean(), final.std(ddof=1), np.array(epochs, dtype=float)


def test_summarize_runs_accepts_the_solution(capsys):
    checks.check_summarize_runs(summarize_runs)
    assert "summarize_runs: all tests passed" in capsys.readouterr().out
    mean, std, epochs = summarize_runs(np.array([[0.5, 0.9], [0.7, 0.8]]), 0.85)
    assert (
        mean == pytest.approx(0.85) and std == pytest.approx(np.sqrt(0.005)) and list(epochs) == [2, np.inf]
    )


@pytest.mark.parametrize(
    "wrong, message",
    [
        (
            lambda c, t: (summarize_runs(c, t)[0], c[:, -1].std(), summarize_runs(c, t)[2]),
            "you used the population std (ddof=0): over a few seeds use the sample std, np.std(final, ddof=1)",
        ),
        (
            lambda c, t: (*summarize_runs(c, t)[:2], summarize_runs(c, t)[2] - 1),
            "epochs count from 1: the first epoch is epoch 1, so add 1 to the 0-based index",
        ),
        (
            lambda c, t: (c.mean(), c.mean(axis=1).std(ddof=1), summarize_runs(c, t)[2]),
            "the mean and std are of the final epoch's values (curves[:, -1]), not of the whole curves",
        ),
        (
            lambda c, t: (
                *summarize_runs(c, t)[:2],
                np.where(np.isinf(summarize_runs(c, t)[2]), 7, summarize_runs(c, t)[2]),
            ),
            "a run that never reaches the target must count np.inf epochs, got 7",
        ),
    ],
)
def test_summarize_runs_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=_message(message)):
        checks.check_summarize_runs(wrong)


# ---------------------------------------------------------------------------------------------------------------
# The idiom


def test_checks_let_the_students_own_errors_through():
    def unfinished(*args):
        raise NotImplementedError("not done yet")

    with pytest.raises(NotImplementedError, match="^not done yet$"):
        checks.check_moments_through_depth(unfinished)
    with pytest.raises(NotImplementedError, match="^not done yet$"):
        checks.check_activations(solution(elu=(unfinished, unfinished)))
