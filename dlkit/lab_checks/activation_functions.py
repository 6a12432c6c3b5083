"""Visible checks for lab 10 (activation functions): the activations and their derivatives, gradient norms per
layer, a dead-ReLU callback, PReLU's gradient into alpha, moments through depth, Maxout, and a seeds summary.

Conventions of the lab (Keras's): one example per row; a Dense kernel has shape (fan_in, units).

Each exercise follows the idiom of `dlkit.lab_checks.expect`: a private NumPy reference `_reference_<name>`, a
table of known mistakes `_<name>_mistakes` (the usual slips: sigmoid'(z) computed from z instead of sigma(z),
SELU without its scale lambda, ELU's derivative alpha instead of alpha * exp(z), Leaky ReLU's slope on the
positive side, ...), and a public `check_<name>` that calls the student's code on small fixed inputs and hands
its value to `expect.check_value`.

`gradcheck_your_derivative` is the lab's gradient-checking helper: a `dlkit.gradcheck` report about a
hand-written derivative against the finite differences of Keras's built-in activation.
"""

import numpy as np

from dlkit.lab_checks.expect import (
    as_float_array,
    check_value,
    expect_shape,
    expect_true,
    fail,
    gradcheck_numpy_gradient,
    passed,
)

# Klambauer, Unterthiner, Mayr and Hochreiter (2017), "Self-Normalizing Neural Networks", NeurIPS:
# the alpha_01 and lambda_01 of the fixed point (mean 0, variance 1), as `keras.activations.selu` uses them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_LAMBDA = 1.0507009873554804934193349852946

_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu")
_LEAKY_ALPHA, _ELU_ALPHA = 0.01, 1.0


def _call(function, *args):
    """Calls the student's function with NumPy's warnings off; its errors propagate to the student."""
    with np.errstate(all="ignore"):
        return function(*args)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: the activations and their derivatives


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _reference_activation(name, z, *, alpha=None, scale=_SELU_LAMBDA, selu_alpha=_SELU_ALPHA):
    """The activation `name` at `z`.

    ```
    sigmoid(z) = 1 / (1 + exp(-z))            tanh(z)
    relu(z) = max(0, z)                       leaky_relu(z) = z if z > 0 else alpha * z   (alpha = 0.01)
    elu(z) = z if z > 0 else alpha * (exp(z) - 1)                                           (alpha = 1)
    selu(z) = lambda * (z if z > 0 else alpha * (exp(z) - 1))   (alpha, lambda: Klambauer et al. 2017)
    ```
    """
    with np.errstate(over="ignore"):
        if name == "sigmoid":
            return _sigmoid(z)
        if name == "tanh":
            return np.tanh(z)
        if name == "relu":
            return np.maximum(z, 0.0)
        if name == "leaky_relu":
            return np.where(z > 0, z, (_LEAKY_ALPHA if alpha is None else alpha) * z)
        if name == "elu":
            return np.where(z > 0, z, (_ELU_ALPHA if alpha is None else alpha) * np.expm1(np.minimum(z, 0)))
        if name == "selu":
            return scale * np.where(z > 0, z, selu_alpha * np.expm1(np.minimum(z, 0)))
    raise ValueError(f"unknown activation {name!r}")


def _reference_derivative(name, z, *, alpha=None, scale=_SELU_LAMBDA, selu_alpha=_SELU_ALPHA):
    """The derivative of the activation `name` at `z != 0` (at 0 either one-sided derivative is accepted).

    ```
    sigmoid'(z) = s (1 - s) with s = sigmoid(z)      tanh'(z) = 1 - tanh(z)^2
    relu'(z) = 1 if z > 0 else 0                     leaky_relu'(z) = 1 if z > 0 else alpha
    elu'(z) = 1 if z > 0 else alpha * exp(z)         selu'(z) = lambda * (1 if z > 0 else alpha * exp(z))
    ```
    """
    with np.errstate(over="ignore"):
        if name == "sigmoid":
            s = _sigmoid(z)
            return s * (1 - s)
        if name == "tanh":
            return 1 - np.tanh(z) ** 2
        if name == "relu":
            return (z > 0).astype(float)
        if name == "leaky_relu":
            return np.where(z > 0, 1.0, _LEAKY_ALPHA if alpha is None else alpha)
        if name == "elu":
            return np.where(z > 0, 1.0, (_ELU_ALPHA if alpha is None else alpha) * np.exp(np.minimum(z, 0)))
        if name == "selu":
            return scale * np.where(z > 0, 1.0, selu_alpha * np.exp(np.minimum(z, 0)))
    raise ValueError(f"unknown activation {name!r}")


_ROUNDED = (
    "you used the rounded constants 1.6733 and 1.0507: use the exact published ones, alpha = "
    "1.6732632423543772848 and lambda = 1.0507009873554804934 (Klambauer et al. 2017, as keras.activations.selu)"
)


def _activation_mistakes(name, z):
    """The usual wrong forward values of the activation `name`, as (message, wrong value) pairs."""
    table = {
        "sigmoid": [
            (
                "the sign of the exponent is flipped: sigmoid(z) = 1 / (1 + exp(-z))",
                lambda: 1 / (1 + np.exp(z)),
            ),
        ],
        "tanh": [("that is the sigmoid: tanh(z) = 2 sigmoid(2z) - 1, in (-1, 1)", lambda: _sigmoid(z))],
        "relu": [
            ("you returned min(0, z): ReLU keeps the positive side, max(0, z)", lambda: np.minimum(z, 0.0)),
            (
                "you returned the indicator (z > 0): that is ReLU's derivative, not ReLU",
                lambda: (z > 0) * 1.0,
            ),
        ],
        "leaky_relu": [
            (
                "Leaky ReLU's slope applied to the positive side: it is z for z > 0 and alpha * z for z <= 0",
                lambda: np.where(z > 0, _LEAKY_ALPHA * z, z),
            ),
            ("that is a plain ReLU: for z <= 0 return alpha * z, not 0", lambda: np.maximum(z, 0.0)),
            (
                "you used Keras's default slope 0.2 (or the TF recap's 0.1): use the `alpha` argument (0.01)",
                lambda: _reference_activation(name, z, alpha=0.2),
            ),
            (
                "you used Keras's default slope 0.2 (or the TF recap's 0.1): use the `alpha` argument (0.01)",
                lambda: _reference_activation(name, z, alpha=0.1),
            ),
        ],
        "elu": [
            (
                "ELU for z <= 0 is alpha * (exp(z) - 1): you left out the - 1, so ELU jumps at 0",
                lambda: np.where(z > 0, z, np.exp(z)),
            ),
            ("that is a plain ReLU: for z <= 0, ELU is alpha * (exp(z) - 1)", lambda: np.maximum(z, 0.0)),
        ],
        "selu": [
            (
                "SELU without lambda: selu(z) = lambda * elu(z, alpha), lambda = 1.0507009873554804934",
                lambda: _reference_activation(name, z, scale=1.0),
            ),
            (
                "lambda scales only the positive side in your SELU: it multiplies both sides",
                lambda: np.where(z > 0, _SELU_LAMBDA * z, _SELU_ALPHA * np.expm1(np.minimum(z, 0))),
            ),
            (
                "that is ELU with alpha = 1: SELU uses alpha = 1.6732632... and lambda = 1.0507009...",
                lambda: _reference_activation("elu", z),
            ),
            (_ROUNDED, lambda: _reference_activation(name, z, scale=1.0507, selu_alpha=1.6733)),
        ],
    }
    return table[name]


def _derivative_mistakes(name, z):
    """The usual wrong derivatives of the activation `name` at `z`, as (message, wrong value) pairs."""
    s = _sigmoid(z)
    table = {
        "sigmoid": [
            (
                "sigmoid'(z) computed from z instead of sigma(z): it is s * (1 - s) with s = sigmoid(z), not "
                "z * (1 - z)",
                lambda: z * (1 - z),
            ),
            ("you returned sigmoid(z) itself: the derivative is s * (1 - s) with s = sigmoid(z)", s),
            ("the derivative is s * (1 - s), not s * (1 + s)", lambda: s * (1 + s)),
        ],
        "tanh": [
            (
                "tanh'(z) computed from z instead of tanh(z): it is 1 - tanh(z)**2, not 1 - z**2",
                lambda: 1 - z**2,
            ),
            ("you forgot the square: tanh'(z) = 1 - tanh(z)**2", lambda: 1 - np.tanh(z)),
        ],
        "relu": [
            (
                "you returned ReLU itself: its derivative is 1 for z > 0 and 0 for z < 0",
                lambda: np.maximum(z, 0.0),
            ),
        ],
        "leaky_relu": [
            (
                "Leaky ReLU's slope applied to the positive side: the derivative is 1 for z > 0 and alpha for z < 0",
                lambda: np.where(z > 0, _LEAKY_ALPHA, 1.0),
            ),
            (
                "that is ReLU's derivative: for z < 0 Leaky ReLU's slope is alpha, not 0",
                lambda: (z > 0) * 1.0,
            ),
        ],
        "elu": [
            (
                "ELU's derivative for z < 0 written as alpha instead of alpha * exp(z) (the derivative of "
                "alpha * (exp(z) - 1))",
                lambda: np.where(z > 0, 1.0, _ELU_ALPHA),
            ),
            (
                "for z < 0 you returned ELU's value alpha * (exp(z) - 1); its derivative is alpha * exp(z)",
                lambda: np.where(z > 0, 1.0, np.expm1(np.minimum(z, 0))),
            ),
        ],
        "selu": [
            (
                "SELU without lambda: selu'(z) = lambda * (1 if z > 0 else alpha * exp(z))",
                lambda: _reference_derivative(name, z, scale=1.0),
            ),
            (
                "for z > 0 SELU's derivative is lambda (1.0507...), not 1: lambda scales both sides",
                lambda: np.where(z > 0, 1.0, _SELU_LAMBDA * _SELU_ALPHA * np.exp(np.minimum(z, 0))),
            ),
            (
                "SELU's derivative for z < 0 written as lambda * alpha instead of lambda * alpha * exp(z)",
                lambda: np.where(z > 0, _SELU_LAMBDA, _SELU_LAMBDA * _SELU_ALPHA),
            ),
            (_ROUNDED, lambda: _reference_derivative(name, z, scale=1.0507, selu_alpha=1.6733)),
        ],
    }
    return table[name]


def _one_sided(name):
    """(left, right) derivatives of the activation `name` at 0."""
    left = float(_reference_derivative(name, np.array([-1e-300]))[0])
    right = float(_reference_derivative(name, np.array([1e-300]))[0])
    return left, right


def check_activations(activations):
    """Checks each activation of `activations`, a dict {name: (function, derivative)} naming all six, against its
    formula, its derivative away from 0 against the formula and a gradient check, and its derivative at 0."""
    if not isinstance(activations, dict) or set(activations) != set(_NAMES):
        fail("activations", f"must be a dict with the keys {list(_NAMES)}")
    z = np.array([-6.0, -3.0, -1.5, -0.5, -0.1, 0.2, 0.7, 1.5, 3.0, 6.0])
    for name in _NAMES:
        function, derivative = activations[name]
        where = f"{name}(z) on z = {z.tolist()}"
        out = as_float_array(where, _call(function, z.copy()))
        expect_shape(where, out, z.shape)
        check_value(where, out, _reference_activation(name, z), _activation_mistakes(name, z), rtol=1e-9)

        where = f"{name}_derivative(z) on z = {z.tolist()}"
        out = as_float_array(where, _call(derivative, z.copy()))
        expect_shape(where, out, z.shape)
        check_value(where, out, _reference_derivative(name, z), _derivative_mistakes(name, z), rtol=1e-9)

        where = f"{name}_derivative(z) at the kink z = 0"
        at_zero = as_float_array(where, _call(derivative, np.array([0.0])))
        left, right = _one_sided(name)
        expect_true(
            where,
            at_zero.shape == (1,) and any(np.isclose(at_zero[0], side, rtol=1e-9) for side in (left, right)),
            f"returned {at_zero.ravel()[:1]}: at 0 return one of the one-sided derivatives, {left:.6g} (from the "
            f"left) or {right:.6g} (from the right)",
        )
        report = gradcheck_your_derivative(name, derivative, z)
        expect_true(
            f"gradcheck of your {name}_derivative",
            report.passed,
            f"the gradient check failed (difference {report.difference:.2e} >= {report.threshold:g})",
        )
    passed("activations")


def gradcheck_your_derivative(name, derivative, z, **kwargs):
    """`dlkit.gradcheck` of J(z) = sum(keras.activations.<name>(z)) with the hand-written `derivative` as its gradient.

    The cost is Keras's built-in activation (float64, so the finite differences are exact to rounding); its
    gradient is not autodiff but `derivative(z)` called on NumPy values. Keep `z` away from 0 (the kink of ReLU,
    Leaky ReLU and SELU: there the two-sided difference averages the one-sided derivatives).

    Example:

    >>> report = gradcheck_your_derivative("elu", elu_derivative, np.array([-2.0, -0.5, 0.5, 2.0]))
    >>> report.passed, report.difference

    Args:
        name: String, one of "sigmoid", "tanh", "relu", "leaky_relu" (slope 0.01), "elu" (alpha 1), "selu".
        derivative: Callable z -> the derivative at each entry of z (a NumPy array of z's shape).
        z: Float array. The points to check at.
        **kwargs: Passed to `dlkit.gradcheck.gradcheck` (epsilon, threshold, ...).

    Returns:
        A `GradcheckReport`.

    Raises:
        ValueError: if `name` is not one of the six.
    """
    if name not in _NAMES:
        raise ValueError(f"Argument `name` must be one of {list(_NAMES)}. Received: name={name!r}")
    import keras
    import tensorflow as tf

    builtins = {
        "sigmoid": keras.activations.sigmoid,
        "tanh": keras.activations.tanh,
        "relu": keras.activations.relu,
        "leaky_relu": lambda t: keras.activations.leaky_relu(t, negative_slope=_LEAKY_ALPHA),
        "elu": lambda t: keras.activations.elu(t, alpha=_ELU_ALPHA),
        "selu": keras.activations.selu,
    }
    return gradcheck_numpy_gradient(lambda t: tf.reduce_sum(builtins[name](t)), derivative, z, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: the gradient norm reaching each layer


def _kernels(model):
    return [layer.kernel for layer in model.layers if getattr(layer, "kernel", None) is not None]


def _reference_layer_gradient_norms(model, x, y, loss_fn, *, with_biases=False, square=False):
    """The Frobenius norm of dJ/dW for each layer's kernel W, first layer first.

    ```
    J = loss_fn(y, model(x))             # one batch, training mode
    norms[l] = sqrt(sum(dJ/dW_l ** 2))   # l = 1 .. L
    ```
    """
    import tensorflow as tf

    variables = model.trainable_weights if with_biases else _kernels(model)
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, variables)
    sums = np.array([float(tf.reduce_sum(tf.square(g))) for g in grads])
    return sums if square else np.sqrt(sums)


def _layer_gradient_norms_mistakes(model, x, y, loss_fn):
    norms = _reference_layer_gradient_norms(model, x, y, loss_fn)
    return [
        (
            "you returned the norms of the weights, not of their gradients dJ/dW",
            lambda: np.array([float(np.linalg.norm(np.asarray(k))) for k in _kernels(model)]),
        ),
        ("the layers are in reverse order: the first layer (next to the input) first", norms[::-1]),
        (
            "you returned the sum of squares: the norm is its square root, sqrt(sum(dW ** 2))",
            lambda: _reference_layer_gradient_norms(model, x, y, loss_fn, square=True),
        ),
        (
            "one norm per layer's kernel: leave out the biases' gradients",
            lambda: _reference_layer_gradient_norms(model, x, y, loss_fn, with_biases=True),
        ),
    ]


def _gradient_probe_model():
    import keras

    keras.utils.set_random_seed(11)
    model = keras.Sequential(
        [keras.Input((5,))]
        + [keras.layers.Dense(6, activation="sigmoid", kernel_initializer="he_normal") for _ in range(3)]
        + [keras.layers.Dense(2, activation="softmax")]
    )
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 5)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 2, size=16), 2)
    return model, x, y, keras.losses.CategoricalCrossentropy()


def check_layer_gradient_norms(layer_gradient_norms):
    """Checks `layer_gradient_norms(model, x, y, loss_fn)`: one gradient norm per Dense kernel, first layer first."""
    model, x, y, loss_fn = _gradient_probe_model()
    before = [np.array(w) for w in model.get_weights()]
    where = "layer_gradient_norms on a 4-layer sigmoid net, batch of 16"
    out = as_float_array(where, _call(layer_gradient_norms, model, x, y, loss_fn)).ravel()
    expect_true(
        where,
        all(np.array_equal(a, np.array(b)) for a, b in zip(before, model.get_weights(), strict=True)),
        "your function changed the model's weights: only compute the gradients, do not apply them",
    )
    expected = _reference_layer_gradient_norms(model, x, y, loss_fn)
    mistakes = _layer_gradient_norms_mistakes(model, x, y, loss_fn)
    wrong_size = (
        None
        if out.shape == expected.shape
        else f"expected {len(expected)} norms (one per layer's kernel, the output layer included), got {out.size}"
    )
    check_value(where, out, expected, mistakes, rtol=1e-4, atol=1e-7, otherwise=wrong_size)
    passed("layer_gradient_norms")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: the dead-ReLU callback


def _hidden_outputs(model, x):
    """The output of each layer but the last, applied in sequence (inference mode)."""
    import keras

    outputs, h = [], keras.ops.convert_to_tensor(np.asarray(x, dtype="float32"))
    for layer in model.layers[:-1]:
        h = layer(h, training=False)
        outputs.append(np.asarray(keras.ops.convert_to_numpy(h)))
    return outputs


def _reference_dead_fractions(model, x, *, rule="all", per="unit"):
    """Per hidden layer: the fraction of its units whose output is 0 on every example of `x`.

    ```
    for each layer l but the last:  dead[l] = mean_u all_i (a_l[i, u] == 0)
    ```
    """
    fractions = []
    for a in _hidden_outputs(model, x):
        silent = a == 0.0
        if per == "entry":
            fractions.append(float(np.mean(silent)))
        elif per == "count":
            fractions.append(float(np.sum(np.all(silent, axis=0))))
        else:
            fractions.append(
                float(np.mean(np.all(silent, axis=0) if rule == "all" else np.any(silent, axis=0)))
            )
    return np.array(fractions)


def _dead_fractions_mistakes(model, x):
    return [
        (
            "a unit is dead when its output is 0 on EVERY example of the probe batch (np.all over axis 0), not on "
            "some of them (np.any)",
            lambda: _reference_dead_fractions(model, x, rule="any"),
        ),
        (
            "you counted zero outputs (entries), not dead units: a unit is dead when its column is 0 on every "
            "example, dead fraction = mean over units of np.all(a == 0, axis=0)",
            lambda: _reference_dead_fractions(model, x, per="entry"),
        ),
        (
            "you returned the number of dead units: divide by the layer's width to get the fraction",
            lambda: _reference_dead_fractions(model, x, per="count"),
        ),
    ]


def _dead_probe_model():
    import keras

    keras.utils.set_random_seed(5)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu", bias_initializer=keras.initializers.Constant(-0.6)),
            keras.layers.Dense(10, activation="relu", bias_initializer=keras.initializers.Constant(-0.3)),
            keras.layers.Dense(1),
        ]
    )
    x = np.random.default_rng(4).normal(size=(12, 4)).astype("float32")
    return model, x


def check_dead_relu_counter(counter_class):
    """Checks `counter_class(x_probe)`, a keras Callback: after each epoch it appends to `history` the dead
    fraction of each hidden layer (every layer but the last) on the probe batch."""
    import keras

    model, x = _dead_probe_model()
    counter = counter_class(x)
    where = "DeadReluCounter(x_probe) after 2 epochs of fit (learning rate 0: the weights do not move)"
    expect_true(where, isinstance(counter, keras.callbacks.Callback), "must be a keras.callbacks.Callback")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    model.fit(x, x[:, :1], epochs=2, batch_size=len(x), verbose=0, callbacks=[counter])
    history = getattr(counter, "history", None)
    expect_true(
        where,
        isinstance(history, list) and len(history) == 2,
        f"`history` must be a list with one entry per epoch (2 here), got {history!r}",
    )
    expected = _reference_dead_fractions(model, x)
    for epoch, fractions in enumerate(history):
        value = as_float_array(f"{where}, history[{epoch}]", fractions).ravel()
        if value.shape != expected.shape:
            fail(
                f"{where}, history[{epoch}]",
                f"expected {len(expected)} fractions (one per hidden layer: every layer but the output layer), "
                f"got {value.size}",
            )
        check_value(f"{where}, history[{epoch}]", value, expected, _dead_fractions_mistakes(model, x))
    passed("dead_relu_counter")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: PReLU and the gradient into alpha


def _reference_prelu(z, alpha):
    """PReLU (He et al. 2015): z for z > 0, alpha * z otherwise; alpha has one value per channel (last axis)."""
    return np.where(z > 0, z, alpha * z)


def _reference_prelu_alpha_gradient(z, upstream, *, reduce=np.sum, side="negative"):
    """dL/dalpha per channel, given the upstream gradient dL/da of a = prelu(z, alpha).

    ```
    da/dalpha = z where z <= 0, else 0
    dL/dalpha[c] = sum_i upstream[i, c] * min(z[i, c], 0)      # summed over the batch: alpha is shared
    ```
    """
    local = np.minimum(z, 0.0) if side == "negative" else z
    return reduce(upstream * local, axis=0)


def _prelu_alpha_gradient_mistakes(z, upstream):
    return [
        (
            "alpha only acts on the negative side: da/dalpha = z where z <= 0 and 0 where z > 0",
            _reference_prelu_alpha_gradient(z, upstream, side="all"),
        ),
        (
            "alpha is shared by every example: sum the contributions over the batch (axis 0), not the mean",
            _reference_prelu_alpha_gradient(z, upstream, reduce=np.mean),
        ),
        (
            "you forgot the upstream gradient: dL/dalpha = sum_i upstream * min(z, 0) (the chain rule)",
            _reference_prelu_alpha_gradient(z, np.ones_like(upstream)),
        ),
    ]


def check_prelu(prelu, prelu_alpha_gradient):
    """Checks `prelu(z, alpha)` and `prelu_alpha_gradient(z, upstream)` (one value per channel)."""
    rng = np.random.default_rng(40)
    z = rng.normal(size=(6, 3))
    alpha = np.array([0.25, 0.1, -0.2])
    upstream = rng.normal(size=(6, 3))
    where = "prelu(z, alpha) on z of shape (6, 3), alpha = [0.25, 0.1, -0.2]"
    out = as_float_array(where, _call(prelu, z.copy(), alpha.copy()))
    expect_shape(where, out, z.shape)
    check_value(
        where,
        out,
        _reference_prelu(z, alpha),
        [
            (
                "alpha applied to the positive side: prelu(z) = z for z > 0, alpha * z for z <= 0",
                np.where(z > 0, alpha * z, z),
            )
        ],
    )
    where = "prelu_alpha_gradient(z, upstream) on z, upstream of shape (6, 3)"
    out = as_float_array(where, _call(prelu_alpha_gradient, z.copy(), upstream.copy()))
    if out.shape == z.shape:
        fail(
            where, "one value per channel (alpha's shape, (3,)): sum the contributions over the batch, axis 0"
        )
    expect_shape(where, out, (3,))
    check_value(
        where,
        out,
        _reference_prelu_alpha_gradient(z, upstream),
        _prelu_alpha_gradient_mistakes(z, upstream),
    )
    passed("prelu")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 5: mean and variance through depth


def _reference_moments_through_depth(
    x, weights, activation, *, of="output", stat=np.var, include_input=False
):
    """The mean and variance over every entry of each layer's activations.

    ```
    h = x
    for W in weights: h = activation(h @ W); means.append(mean(h)); variances.append(var(h))
    ```
    """
    h, means, variances = np.asarray(x, dtype=np.float64), [], []
    if include_input:
        means.append(float(h.mean()))
        variances.append(float(stat(h)))
    for W in weights:
        z = h @ W
        h = activation(z)
        shown = z if of == "pre" else h
        means.append(float(shown.mean()))
        variances.append(float(stat(shown)))
    if include_input:
        means, variances = means[:-1], variances[:-1]
    return np.array(means), np.array(variances)


def _moments_through_depth_mistakes(x, weights, activation):
    return [
        (
            "you returned the standard deviation: the second array is the variance, np.var (std ** 2)",
            lambda: np.stack(_reference_moments_through_depth(x, weights, activation, stat=np.std)),
        ),
        (
            "you measured the pre-activations z = h @ W: measure each layer's output activation(h @ W)",
            lambda: np.stack(_reference_moments_through_depth(x, weights, activation, of="pre")),
        ),
        (
            "off by one layer: entry l is the output of layer l + 1 (the input x itself is not a layer)",
            lambda: np.stack(_reference_moments_through_depth(x, weights, activation, include_input=True)),
        ),
    ]


def check_moments_through_depth(moments_through_depth):
    """Checks `moments_through_depth(x, weights, activation)` -> (means, variances), one entry per layer."""
    rng = np.random.default_rng(50)
    x = rng.normal(size=(20, 6))
    weights = [rng.normal(scale=np.sqrt(1 / 6), size=(6, 6)) for _ in range(4)]
    for label, activation in (("tanh", np.tanh), ("relu", lambda z: np.maximum(z, 0.0))):
        where = f"moments_through_depth(x, weights, {label}) with 4 layers"
        result = _call(moments_through_depth, x.copy(), [w.copy() for w in weights], activation)
        expect_true(
            where,
            isinstance(result, tuple | list) and len(result) == 2,
            "must return a tuple (means, variances)",
        )
        parts = [as_float_array(where, part).ravel() for part in result]
        if [part.size for part in parts] != [4, 4]:
            fail(
                where,
                f"expected 4 means and 4 variances (one per layer), got sizes {[p.size for p in parts]}",
            )
        value = np.stack(parts)
        check_value(
            where,
            value,
            np.stack(_reference_moments_through_depth(x, weights, activation)),
            _moments_through_depth_mistakes(x, weights, activation),
        )
    passed("moments_through_depth")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 6: Maxout


def _maxout_output(kernel, bias, x, num_pieces=2):
    """dlkit.layers.Maxout's formula in NumPy: column u * num_pieces + k is piece k of unit u."""
    z = x @ kernel + bias
    return z.reshape(*z.shape[:-1], -1, num_pieces).max(axis=-1)


def _reference_maxout_target(target, x):
    """The function the Maxout layer must represent: ReLU (max(x, 0)) or |x| (max(x, -x)), elementwise."""
    return np.maximum(x, 0.0) if target == "relu" else np.abs(x)


def _reference_maxout_parameter_count(input_dim, units, num_pieces, *, bias=True, pieces=True):
    """Weights of a Maxout layer: k pieces of a Dense layer's, (input_dim + 1) * units * k."""
    return (input_dim + (1 if bias else 0)) * units * (num_pieces if pieces else 1)


def _piece_major(target, n):
    """The right pieces in the wrong layout (column k * n + u instead of u * num_pieces + k)."""
    second = np.zeros((n, n)) if target == "relu" else -np.eye(n)
    return np.concatenate([np.eye(n), second], axis=1), np.zeros(2 * n)


def check_maxout(maxout_weights, maxout_parameter_count):
    """Checks `maxout_weights(n, target)` (a Maxout layer with 2 pieces computing ReLU or |x|) and
    `maxout_parameter_count(input_dim, units, num_pieces)`."""
    x = np.array([[-2.0, -0.5, 0.0, 0.75], [1.5, -3.0, 2.0, -0.25], [0.3, 0.1, -1.0, 4.0]])
    n = x.shape[1]
    for target in ("relu", "abs"):
        where = f"maxout_weights({n}, {target!r}) loaded into Maxout({n}, num_pieces=2)"
        result = _call(maxout_weights, n, target)
        expect_true(
            where, isinstance(result, tuple | list) and len(result) == 2, "must return (kernel, bias)"
        )
        kernel, bias = (as_float_array(where, part) for part in result)
        expect_shape(where + ", kernel", kernel, (n, 2 * n))
        expect_shape(where + ", bias", bias, (2 * n,))
        wrong_kernel, wrong_bias = _piece_major(target, n)
        check_value(
            where,
            _maxout_output(kernel, bias, x),
            _reference_maxout_target(target, x),
            [
                (
                    "your pieces are in the wrong columns: column u * num_pieces + k is piece k of unit u "
                    "(dlkit.layers.Maxout's layout), so unit u's two pieces are columns 2u and 2u + 1",
                    _maxout_output(wrong_kernel, wrong_bias, x),
                )
            ],
            otherwise=f"the layer's output is not {target}(x) elementwise",
        )
    where = "maxout_parameter_count(64, 32, 3)"
    value = as_float_array(where, _call(maxout_parameter_count, 64, 32, 3))
    check_value(
        where,
        value,
        _reference_maxout_parameter_count(64, 32, 3),
        [
            (
                "you left out the biases: each piece of each unit has one",
                _reference_maxout_parameter_count(64, 32, 3, bias=False),
            ),
            (
                "a Maxout unit has num_pieces linear pieces, each with its own weights and bias: k times a Dense "
                "layer's (input_dim + 1) * units",
                _reference_maxout_parameter_count(64, 32, 3, pieces=False),
            ),
        ],
    )
    passed("maxout")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 7: summarizing runs over seeds


def _reference_summarize_runs(curves, target, *, ddof=1, first=1):
    """(mean of the final values, their sample std, the first epoch (1-based) each run reaches `target`).

    ```
    final = curves[:, -1];  mean(final), std(final, ddof=1)
    epochs[s] = 1 + min{e : curves[s, e] >= target}   (inf if never)
    ```
    """
    curves = np.asarray(curves, dtype=np.float64)
    final = curves[:, -1]
    reached = curves >= target
    epochs = np.where(reached.any(axis=1), np.argmax(reached, axis=1) + first, np.inf)
    return float(final.mean()), float(final.std(ddof=ddof)), epochs


def _flatten_summary(summary):
    """[mean, std, *epochs] with "never" (inf) as -1, so that `check_value` (finite values only) compares it."""
    mean, std, epochs = summary
    epochs = np.asarray(epochs, dtype=float).ravel()
    return np.concatenate([[mean, std], np.where(np.isinf(epochs), -1.0, epochs)])


def _summarize_runs_mistakes(curves, target):
    curves = np.asarray(curves, dtype=np.float64)
    return [
        (
            "you used the population std (ddof=0): over a few seeds use the sample std, np.std(final, ddof=1)",
            _flatten_summary(_reference_summarize_runs(curves, target, ddof=0)),
        ),
        (
            "epochs count from 1: the first epoch is epoch 1, so add 1 to the 0-based index",
            _flatten_summary(_reference_summarize_runs(curves, target, first=0)),
        ),
        (
            "the mean and std are of the final epoch's values (curves[:, -1]), not of the whole curves",
            lambda: _flatten_summary(
                (
                    float(curves.mean()),
                    float(curves.mean(axis=1).std(ddof=1)),
                    _reference_summarize_runs(curves, target)[2],
                )
            ),
        ),
    ]


def check_summarize_runs(summarize_runs):
    """Checks `summarize_runs(curves, target)` -> (final mean, final sample std, epochs to target per run)."""
    curves = np.array(
        [
            [0.50, 0.71, 0.83, 0.90, 0.93, 0.95],
            [0.42, 0.66, 0.79, 0.86, 0.91, 0.92],
            [0.55, 0.80, 0.91, 0.94, 0.96, 0.97],
            [0.30, 0.40, 0.55, 0.61, 0.70, 0.78],
        ]
    )
    where = "summarize_runs(curves, target=0.9) on 4 runs of 6 epochs (the last never reaches 0.9)"
    result = _call(summarize_runs, curves.copy(), 0.9)
    expect_true(
        where,
        isinstance(result, tuple | list) and len(result) == 3,
        "must return a tuple (mean, std, epochs)",
    )
    epochs = as_float_array(where, result[2]).ravel()
    expect_shape(where + ", epochs", epochs, (4,))
    expect_true(
        where,
        np.isinf(epochs[3]),
        f"a run that never reaches the target must count np.inf epochs, got {epochs[3]:g}",
    )
    value = _flatten_summary((*as_float_array(where, list(result[:2])).ravel()[:2], epochs))
    check_value(
        where,
        value,
        _flatten_summary(_reference_summarize_runs(curves, 0.9)),
        _summarize_runs_mistakes(curves, 0.9),
    )
    passed("summarize_runs")
