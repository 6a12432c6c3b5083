"""dlkit.gradcheck against closed forms, tf.test.compute_gradient, the course's published numbers and planted bugs."""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

import dlkit
from dlkit.gradcheck import GradcheckReport, gradcheck, gradcheck_model, numerical_gradient
from dlkit.gradcheck.report import DEFAULT_THRESHOLD, ROUNDOFF_ULPS, roundoff_tolerance, verdict_for

NAMES = ["W1", "b1", "W2", "b2", "W3", "b3"]


# --- The DLS course 2 "Gradient Checking" network, written twice: NumPy (the reference) and TF (checked) -----------


def _course_case():
    # gradient_check_n_test_case() of the assignment.
    np.random.seed(1)
    x = np.random.randn(4, 3)
    y = np.array([1, 1, 0])
    shapes = [(5, 4), (5, 1), (3, 5), (3, 1), (1, 3), (1, 1)]
    return x, y, [np.random.randn(*shape) for shape in shapes]


def _numpy_forward(x, y, params, lambd=0.0):
    w1, b1, w2, b2, w3, b3 = params
    m = x.shape[1]
    a1 = np.maximum(0, w1 @ x + b1)
    a2 = np.maximum(0, w2 @ a1 + b2)
    a3 = 1 / (1 + np.exp(-(w3 @ a2 + b3)))
    cost = 1.0 / m * np.sum(-np.log(a3) * y - np.log(1 - a3) * (1 - y))
    return cost + lambd / (2 * m) * sum(np.sum(w**2) for w in (w1, w2, w3))


def _numpy_gradient_check_n(x, y, params, grads, epsilon=1e-7):
    """The assignment's gradient_check_n loop, element by element."""
    theta = np.concatenate([p.ravel() for p in params])
    grad = np.concatenate([g.ravel() for g in grads])
    offsets = np.cumsum([0] + [p.size for p in params])

    def unvec(vector):
        return [vector[offsets[i] : offsets[i + 1]].reshape(p.shape) for i, p in enumerate(params)]

    gradapprox = np.zeros_like(theta)
    for i in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += epsilon
        minus[i] -= epsilon
        gradapprox[i] = (_numpy_forward(x, y, unvec(plus)) - _numpy_forward(x, y, unvec(minus))) / (
            2 * epsilon
        )
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))


def _course_cost(x, y, *, scale_dw2=1.0, scale_db1=1.0, scale_db3=1.0, lambd=0.0, drop_l2_grad=False):
    """J(W1, b1, ..., b3) in TF with the assignment's hand-written backward pass (optionally with planted bugs)."""
    x, y = tf.constant(x), tf.constant(y, tf.float64)
    m = 3.0

    @tf.custom_gradient
    def cost(w1, b1, w2, b2, w3, b3):
        z1 = w1 @ x + b1
        a1 = tf.nn.relu(z1)
        z2 = w2 @ a1 + b2
        a2 = tf.nn.relu(z2)
        a3 = tf.sigmoid(w3 @ a2 + b3)
        j = 1.0 / m * tf.reduce_sum(-tf.math.log(a3) * y - tf.math.log(1 - a3) * (1 - y))
        j += lambd / (2 * m) * (tf.reduce_sum(w1**2) + tf.reduce_sum(w2**2) + tf.reduce_sum(w3**2))

        def backward(upstream):
            dz3 = a3 - y
            dw3 = 1.0 / m * dz3 @ tf.transpose(a2)
            db3 = scale_db3 / m * tf.reduce_sum(dz3, axis=1, keepdims=True)
            dz2 = tf.transpose(w3) @ dz3 * tf.cast(a2 > 0, tf.float64)
            dw2 = 1.0 / m * dz2 @ tf.transpose(a1) * scale_dw2
            db2 = 1.0 / m * tf.reduce_sum(dz2, axis=1, keepdims=True)
            dz1 = tf.transpose(w2) @ dz2 * tf.cast(a1 > 0, tf.float64)
            dw1 = 1.0 / m * dz1 @ tf.transpose(x)
            db1 = scale_db1 / m * tf.reduce_sum(dz1, axis=1, keepdims=True)
            if not drop_l2_grad:
                dw1, dw2, dw3 = dw1 + lambd / m * w1, dw2 + lambd / m * w2, dw3 + lambd / m * w3
            return [upstream * g for g in (dw1, db1, dw2, db2, dw3, db3)]

        return j, backward

    return cost


def _numpy_course_grads(x, y, params, *, scale_dw2=1.0, scale_db1=1.0):
    """The assignment's backward_propagation_n, operation for operation (its bugs: dW2 * 2, db1 with 4./m)."""
    w1, b1, w2, b2, w3, b3 = params
    m = x.shape[1]
    a1 = np.maximum(0, np.dot(w1, x) + b1)
    a2 = np.maximum(0, np.dot(w2, a1) + b2)
    a3 = 1 / (1 + np.exp(-(np.dot(w3, a2) + b3)))
    dz3 = a3 - y
    dw3 = 1.0 / m * np.dot(dz3, a2.T)
    db3 = 1.0 / m * np.sum(dz3, axis=1, keepdims=True)
    dz2 = np.multiply(np.dot(w3.T, dz3), np.int64(a2 > 0))
    dw2 = 1.0 / m * np.dot(dz2, a1.T) * scale_dw2
    db2 = 1.0 / m * np.sum(dz2, axis=1, keepdims=True)
    dz1 = np.multiply(np.dot(w2.T, dz2), np.int64(a1 > 0))
    dw1 = 1.0 / m * np.dot(dz1, x.T)
    db1 = scale_db1 / m * np.sum(dz1, axis=1, keepdims=True)
    return [dw1, db1, dw2, db2, dw3, db3]


def _numpy_cost_with_hand_gradient(x, y, **scales):
    """The assignment's own NumPy forward and backward passes, wrapped as a TF function for gradcheck."""

    @tf.custom_gradient
    def cost(*params):
        j = tf.reshape(
            tf.numpy_function(lambda *p: np.float64(_numpy_forward(x, y, p)), params, tf.float64), []
        )

        def backward(upstream):
            grads = tf.numpy_function(
                lambda *p: _numpy_course_grads(x, y, p, **scales), params, [tf.float64] * 6
            )
            return [upstream * g for g in grads]

        return j, backward

    return cost


# --- Closed forms and published numbers ---------------------------------------------------------------------------


def test_two_sided_difference_on_cubic_matches_the_lecture():
    # Lecture "Numerical approximation of gradients": f = theta^3 at theta = 1, eps = 0.01.
    two_sided = float(numerical_gradient(lambda theta: theta**3, [1.0], epsilon=0.01)[0])
    one_sided = ((1.0 + 0.01) ** 3 - 1.0) / 0.01
    assert two_sided == pytest.approx(3.0001, abs=1e-9)
    assert one_sided == pytest.approx(3.0301, abs=1e-9)
    assert abs(two_sided - 3.0) < abs(one_sided - 3.0) / 100


@pytest.mark.parametrize(
    ("x", "theta", "published"), [(2, 4, 2.919335883291695e-10), (3, 4, 7.814075313343006e-11)]
)
def test_course_one_dimensional_check(x, theta, published):
    report = gradcheck(lambda t: t * x, [theta])
    assert report.difference == pytest.approx(published, rel=1e-9, abs=0)
    assert report.passed and report.verdict == "great"
    np.testing.assert_allclose(report.grad, [x])


@pytest.mark.parametrize(
    ("scales", "published"), [((2.0, 4.0), 0.2850931567761624), ((1.0, 1.0), 1.1890913024229996e-07)]
)
def test_course_n_dimensional_check_reproduces_published_difference(scales, published):
    # gradient_check_n of the assignment: "There is a mistake ... difference = 0.2850931567761624" with its two
    # planted bugs, and 1.1890913024229996e-07 once they are fixed.
    x, y, params = _course_case()
    grads = _numpy_course_grads(x, y, params, scale_dw2=scales[0], scale_db1=scales[1])
    reference = _numpy_gradient_check_n(x, y, params, grads)
    assert reference == pytest.approx(
        published, rel=1e-12, abs=0
    )  # the NumPy reference is the assignment's code
    # The assignment's own NumPy passes, checked through gradcheck: the published number to the last digits.
    exact = gradcheck(_numpy_cost_with_hand_gradient(x, y, scale_dw2=scales[0], scale_db1=scales[1]), params)
    assert exact.difference == pytest.approx(published, rel=1e-12, abs=0)
    assert exact.passed == (published < 2e-7)
    # The same network written with TF ops and a tf.custom_gradient backward pass.
    report = gradcheck(_course_cost(x, y, scale_dw2=scales[0], scale_db1=scales[1]), params, names=NAMES)
    np.testing.assert_allclose(report.grad, np.concatenate([g.ravel() for g in grads]), rtol=1e-12)
    if published > 1e-3:
        assert report.difference == pytest.approx(published, rel=1e-6)
        assert not report.passed and report.verdict == "almost certainly a bug"
        assert report.worst.name == "b1"  # db1 is 4x too large, dW2 only 2x: b1 differs most
    else:
        # At this level the difference is float64 rounding noise: the same order, under the course's 2e-7.
        assert report.passed and 1e-9 < report.difference < 2e-7


def test_numerical_gradient_matches_tf_test_compute_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3))
    w, b = rng.standard_normal((3, 4)), rng.standard_normal(4)

    def cost(w, b):
        return tf.reduce_sum(tf.tanh(x @ w + b) ** 2) + tf.reduce_sum(w**3) / 7

    ours = numerical_gradient(cost, [w, b], epsilon=1e-4)
    theirs_analytic, theirs_numeric = tf.test.compute_gradient(
        cost, [tf.constant(w), tf.constant(b)], delta=1e-4
    )
    for mine, jacobian, shape in zip(ours, theirs_numeric, (w.shape, b.shape), strict=True):
        assert mine.shape == shape
        np.testing.assert_allclose(mine.ravel(), jacobian.ravel(), rtol=1e-8, atol=1e-9)
    report = gradcheck(cost, [w, b], epsilon=1e-4, threshold=1e-6)
    np.testing.assert_allclose(report.grad, np.concatenate([j.ravel() for j in theirs_analytic]), rtol=1e-12)
    assert report.evaluation == "vectorized"


def test_chunking_and_zero_gradient():
    theta = np.linspace(-1, 1, 11).reshape(11, 1)
    closed_form = 3 * theta**2
    for chunk_size in (1, 4, None):
        approx = numerical_gradient(lambda t: tf.reduce_sum(t**3), [theta], 1e-5, chunk_size=chunk_size)[0]
        np.testing.assert_allclose(approx, closed_form, atol=1e-9)
    report = gradcheck(lambda t: tf.reduce_sum(t * 0.0), [theta])
    assert report.difference == 0.0 and report.passed  # both norms 0


def test_untraceable_fn_falls_back_to_eager_and_is_still_right():
    def cost(t):
        # Python control flow on a value: cannot be traced into a graph.
        return tf.reduce_sum(t**2) if float(tf.reduce_sum(t)) > -100 else tf.reduce_sum(t)

    theta = np.array([0.5, -2.0, 3.0])
    report = gradcheck(cost, [theta])
    assert report.evaluation == "eager" and report.passed
    np.testing.assert_allclose(report.gradapprox, 2 * theta, atol=1e-7)


# --- Planted bugs in hand-written gradients -----------------------------------------------------------------------

PLANTED = {
    "scaled weight gradient": ({"scale_dw2": 1.1}, {"W2"}),
    "wrong bias gradient": ({"scale_db1": 4.0}, {"b1"}),
    "missing L2 term gradient": ({"lambd": 0.7, "drop_l2_grad": True}, {"W1", "W2", "W3"}),
}


@pytest.mark.parametrize("mode", ["full", "fast"])
@pytest.mark.parametrize("bug", list(PLANTED))
def test_planted_bugs_fail_with_the_right_variable_worst(bug, mode):
    x, y, params = _course_case()
    kwargs, culprits = PLANTED[bug]
    report = gradcheck(_course_cost(x, y, **kwargs), params, names=NAMES, mode=mode, seed=3)
    assert not report.passed
    assert report.worst.name in culprits
    # Rows away from the bug stay at the rounding-noise level (~1e-7 here); the buggy ones are in the bug band.
    assert {row.name for row in report.rows if row.verdict == "almost certainly a bug"} == culprits
    assert all(row.difference < 1e-6 for row in report.rows if row.name not in culprits)
    if mode == "fast":
        assert report.localized and "localize" in report.note
        assert culprits <= {row.name for row in report.rows if row.mode == "full"}
        assert report.worst.worst_index is not None


@pytest.mark.parametrize("mode", ["full", "fast"])
@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_correct_custom_gradients_pass(mode, lambd):
    x, y, params = _course_case()
    report = gradcheck(_course_cost(x, y, lambd=lambd), params, names=NAMES, mode=mode, seed=3)
    assert report.passed and not report.localized
    assert report.cost == pytest.approx(_numpy_forward(x, y, params, lambd), rel=1e-12)


# --- Keras models -------------------------------------------------------------------------------------------------


def _data(m=16, n=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n)).astype("float32"), rng.standard_normal((m, 1)).astype("float32")


def test_model_check_counts_regularization_closed_form(seeded):
    x, y = _data()
    lambd = 0.0625  # exact in float32: Keras's L2 casts its factor through a float32 constant
    regularizer = keras.regularizers.L2(lambd)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(1, kernel_regularizer=regularizer, name="linear")]
    )
    before = [v.numpy().copy() for v in model.weights]
    report = gradcheck_model(model, x, y, loss="mse")
    w, b = (v.numpy().astype(np.float64) for v in model.weights)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    residual = x64 @ w + b - y64
    expected = {
        "linear/kernel": 2 / len(x) * x64.T @ residual + 2 * lambd * w,
        "linear/bias": 2 * residual.mean(0),
    }
    assert [row.name for row in report.rows] == ["linear/kernel", "linear/bias"]
    for name, gradient in expected.items():
        np.testing.assert_allclose(report[name].grad, gradient, rtol=1e-10)
        np.testing.assert_allclose(report[name].gradapprox, gradient, atol=1e-7)
    assert report.cost == pytest.approx(np.mean(residual**2) + lambd * np.sum(w**2), rel=1e-12)
    assert report.passed and "float64 clone" in report.note
    assert all(v.dtype == "float32" for v in model.weights)
    for value, variable in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(value, variable.numpy())


@keras.saving.register_keras_serializable(package="dlkit_tests")
class HandDense(keras.layers.Layer):
    """Dense with a hand-written backward pass; `kernel_grad_scale` != 1 plants a bug."""

    def __init__(self, units, kernel_grad_scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.kernel_grad_scale = units, kernel_grad_scale

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer="random_normal")

    def call(self, inputs):
        scale = self.kernel_grad_scale

        @tf.custom_gradient
        def affine(x, kernel, bias):
            def backward(upstream):
                return (
                    upstream @ tf.transpose(kernel),
                    scale * tf.transpose(x) @ upstream,
                    tf.reduce_sum(upstream, axis=0),
                )

            return x @ kernel + bias, backward

        return affine(inputs, tf.convert_to_tensor(self.kernel), tf.convert_to_tensor(self.bias))

    def get_config(self):
        return {**super().get_config(), "units": self.units, "kernel_grad_scale": self.kernel_grad_scale}


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_model_with_custom_gradient_layer_reports_the_buggy_variable(seeded, mode):
    x, y = _data()
    model = keras.Sequential(
        [
            keras.Input((3,)),
            HandDense(5, name="hand_1"),
            keras.layers.Activation("tanh"),
            HandDense(1, kernel_grad_scale=0.9, name="hand_2"),
        ]
    )
    model.compile(loss="mse")  # the compiled loss is used when `loss` is None
    report = gradcheck_model(model, x, y, mode=mode, seed=0)
    assert not report.passed and report.worst.name == "hand_2/kernel"
    assert [row.name for row in report.rows if not row.passed] == ["hand_2/kernel"]
    assert report.cost == pytest.approx(float(keras.losses.MeanSquaredError()(y, model(x))), rel=1e-5)
    fixed = keras.Sequential([keras.Input((3,)), HandDense(5), keras.layers.Activation("tanh"), HandDense(1)])
    assert gradcheck_model(fixed, x, y, loss="mse", mode=mode, seed=0).passed


@pytest.mark.parametrize(
    "noise_layer", ["Dropout", "GaussianNoise", "GaussianDropout", "SpatialDropout1D", "AlphaDropout"]
)
def test_random_layers_refuse_training_mode(noise_layer):
    model = keras.Sequential(
        [
            keras.Input((4, 3)),
            keras.layers.Dense(2),
            getattr(keras.layers, noise_layer)(0.2),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    x, y = np.ones((8, 4, 3), "float32"), np.zeros((8, 1), "float32")
    with pytest.raises(ValueError, match=r"doesn't work with dropout.*training=False"):
        gradcheck_model(model, x, y, loss="mse", training=True)


def test_dropout_model_passes_in_inference_mode(seeded):
    x = np.random.default_rng(1).standard_normal((8, 4, 3)).astype("float32")
    y = np.zeros((8, 1), "float32")
    model = keras.Sequential(
        [
            keras.Input((4, 3)),
            keras.layers.Dense(2, activation="tanh"),
            keras.layers.Dropout(0.5),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    assert gradcheck_model(model, x, y, loss="binary_crossentropy", training=False).passed


def test_batch_norm_in_training_mode_is_checked(seeded):
    x, y = _data(m=12)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("tanh"),
            keras.layers.Dense(1),
        ]
    )
    moving_mean = model.layers[1].moving_mean.numpy().copy()
    report = gradcheck_model(model, x, y, loss=keras.losses.MeanSquaredError(), training=True)
    assert report.passed and len(report.rows) == 6
    np.testing.assert_array_equal(model.layers[1].moving_mean.numpy(), moving_mean)  # stateless: no update


# --- Report and arguments -----------------------------------------------------------------------------------------


def test_report_rendering_and_verdict_bands():
    x, y, params = _course_case()
    report = gradcheck(_course_cost(x, y, scale_db1=4.0), params, names=NAMES)
    assert isinstance(report, GradcheckReport)
    text = str(report)
    assert "FAILED" in text and "<- worst" in text and text.count("\n") >= 7
    html = report._repr_html_()
    assert "<table>" in html and "b1" in html and "FAILED" in html
    worst = report.worst
    errors = np.abs(worst.grad - worst.gradapprox)
    assert worst.max_abs_error == pytest.approx(errors.max())
    assert worst.worst_index == np.unravel_index(errors.argmax(), worst.shape)
    assert [verdict_for(d) for d in (9.9e-8, 1e-7, 1e-5, 9.9e-4, 1e-3, 0.3)] == [
        "great",
        "double-check",
        "double-check",
        "double-check",
        "almost certainly a bug",
        "almost certainly a bug",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "medium"}, r"`mode` must be one of 'full', 'fast'\. Received: mode='medium'"),
        ({"epsilon": 0.0}, r"`epsilon` must be > 0\.0\. Received: epsilon=0\.0"),
        ({"epsilon": -1e-7}, r"`epsilon` must be > 0\.0\. Received: epsilon=-1e-07"),
        ({"threshold": 0.0}, r"`threshold` must be > 0\.0\. Received: threshold=0\.0"),
        ({"num_directions": 0}, r"`num_directions` must be >= 1\. Received: num_directions=0"),
        ({"seed": -1}, r"`seed` must be >= 0\. Received: seed=-1"),
        ({"chunk_size": 0}, r"`chunk_size` must be >= 1\. Received: chunk_size=0"),
        (
            {"names": ["only_one"]},
            r"`names` must be a list of 2 strings, one per input\. Received: names=\['only_one'\]",
        ),
    ],
)
def test_bad_settings_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradcheck(lambda a, b: tf.reduce_sum(a * b), [np.ones(2), np.ones(2)], **kwargs)


def test_bad_inputs_and_fns_raise():
    with pytest.raises(ValueError, match=r"`inputs` must hold at least one array\. Received: inputs=\[\]"):
        gradcheck(lambda: tf.constant(1.0, tf.float64), [])
    with pytest.raises(ValueError, match=r"`inputs\[0\]` must not be empty\. Received shape \(0, 3\)"):
        gradcheck(tf.reduce_sum, [np.zeros((0, 3))])
    with pytest.raises(
        ValueError, match=r"`fn` must return a scalar cost J\. Received a tensor of shape \(3,\)"
    ):
        gradcheck(lambda t: t * 2.0, [np.ones(3)])
    with pytest.raises(
        ValueError, match=r"`fn` must return a float64 scalar cost J .*Received dtype float32"
    ):
        gradcheck(lambda t: tf.cast(tf.reduce_sum(t), tf.float32), [np.ones(3)])
    with pytest.raises(ValueError, match=r"`fn` must be callable\. Received: fn='not a function'"):
        gradcheck("not a function", [np.ones(3)])
    with pytest.raises(ValueError, match=r"`inputs\[0\]` must hold real numbers\. Received: dtype <U1"):
        numerical_gradient(tf.reduce_sum, [np.array(["a", "b"])])
    with pytest.raises(ValueError, match=r"`epsilon` must be > 0\.0\. Received: epsilon=0\b"):
        numerical_gradient(tf.reduce_sum, [np.ones(3)], epsilon=0)


def test_bad_model_arguments_raise(seeded):
    x, y = _data()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"`loss` is required: the model is not compiled with a single loss"):
        gradcheck_model(model, x, y)  # not compiled, no loss given
    with pytest.raises(ValueError, match=r"`model` must be a Keras model or layer\. Received: function"):
        gradcheck_model(lambda t: t, x, y, loss="mse")
    with pytest.raises(ValueError, match=r"`training` must be a boolean\. Received: training='yes'"):
        gradcheck_model(model, x, y, loss="mse", training="yes")
    with pytest.raises(ValueError, match=r"`mode` must be one of 'full', 'fast'\. Received: mode='slow'"):
        gradcheck_model(model, x, y, loss="mse", mode="slow")


def test_fast_mode_is_seeded():
    x, y, params = _course_case()
    cost = _course_cost(x, y)
    first = gradcheck(cost, params, mode="fast", seed=7)
    dlkit.set_seed(0)
    again = gradcheck(cost, params, mode="fast", seed=7)
    np.testing.assert_array_equal(first.directional_grad, again.directional_grad)
    assert first.num_evaluations == 2 * 8 * len(params)
    # The seed picks the directions: another seed gives other directional derivatives, just as right.
    other = gradcheck(cost, params, mode="fast", seed=8)
    assert not np.allclose(first.directional_grad, other.directional_grad)
    assert first.passed and other.passed
    # Two-sided differences at epsilon = 1e-7 carry ~1e-7 of rounding noise.
    np.testing.assert_allclose(first.directional_grad, first.directional_gradapprox, rtol=0, atol=1e-6)


# --- One threshold; rows that differ only by round-off -------------------------------------------------------------


def _least_squares_case(bias_offset):
    """x, y, w and a one-element bias b at the least-squares optimum for w, plus `bias_offset`."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((20, 3))
    y = rng.standard_normal((20, 1))
    w = rng.standard_normal((3, 1))
    b = np.array([np.mean(y - x @ w) + bias_offset])  # dJ/db = 2 mean(x w + b - y) = 2 * bias_offset
    return x, y, w, b


def _least_squares_cost(x, y, *, scale_db=1.0):
    """J(w, b) = mean((x w + b - y)^2) with a hand-written backward pass; `scale_db` plants a bias-gradient bug."""
    x, y = tf.constant(x), tf.constant(y)
    m = float(x.shape[0])

    @tf.custom_gradient
    def cost(w, b):
        residual = x @ w + b - y
        j = tf.reduce_mean(residual**2)

        def backward(upstream):
            dw = 2.0 / m * tf.transpose(x) @ residual
            db = scale_db * 2.0 / m * tf.reshape(tf.reduce_sum(residual), [1])
            return [upstream * dw, upstream * db]

        return j, backward

    return cost


def test_threshold_is_the_assignments_2e7_everywhere():
    # One pass/fail threshold, 2e-7 (the assignment's `difference > 2e-7`), in both entry points and every report.
    assert DEFAULT_THRESHOLD == 2e-7
    for function in (gradcheck, gradcheck_model):
        assert inspect.signature(function).parameters["threshold"].default == DEFAULT_THRESHOLD
    x, y, params = _course_case()
    reports = [
        gradcheck(_course_cost(x, y, scale_db1=4.0), params, mode=mode, seed=0) for mode in ("full", "fast")
    ]
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    reports.append(gradcheck_model(model, x.T, y.reshape(-1, 1), loss="mse"))
    for report in reports:
        assert report.threshold == 2e-7
        assert "threshold=2e-07)" in str(report).splitlines()[0]
        assert "threshold=2e-07)" in report._repr_html_()
    # The verdict is the lecture's rule of thumb, separate from pass/fail: 1.5e-7 passes but is "double-check".
    assert verdict_for(1.5e-7) == "double-check" and 1.5e-7 < DEFAULT_THRESHOLD


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_correct_course_network_has_no_fail_row(mode):
    # The correct backward pass: b3 (one element) reads ~2.4e-7 in full mode and b2 ~3e-7 in fast mode, from
    # round-off alone. No row may be flagged FAIL in a passing report.
    x, y, params = _course_case()
    report = gradcheck(_course_cost(x, y), params, names=NAMES, mode=mode, seed=0)
    assert report.passed
    assert all(row.passed for row in report.rows)
    assert "FAIL" not in str(report) and "FAIL" not in report._repr_html_()
    assert all(row.max_abs_error <= report.roundoff for row in report.rows if row.passed_by_roundoff)


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_near_zero_bias_gradient_passes_as_round_off(mode):
    # A correct function whose one-element input has a gradient of 1e-12: two-sided differences at epsilon=1e-7
    # cannot resolve it (their round-off is ~eps |J| / epsilon ~ 1e-9), so its relative difference is noise.
    x, y, w, b = _least_squares_case(bias_offset=5e-13)
    report = gradcheck(_least_squares_cost(x, y), [w, b], names=["w", "b"], mode=mode, seed=0)
    row = report["b"]
    assert abs(row.grad[0]) == pytest.approx(1e-12, rel=1e-3)
    assert row.difference > 1e-3  # by the relative difference alone this row would fail
    assert row.passed and row.passed_by_roundoff and report.passed
    assert report.roundoff == pytest.approx(ROUNDOFF_ULPS * np.finfo(float).eps * report.cost / 1e-7)
    assert row.max_abs_error <= report.roundoff
    assert "FAIL" not in str(report)
    assert "b: difference >= threshold 2e-07, but max abs error <=" in report.note


@pytest.mark.parametrize("mode", ["full", "fast"])
@pytest.mark.parametrize("scale_db", [1.05, 0.0])
def test_buggy_one_element_bias_still_fails(scale_db, mode):
    # A bias gradient 5% too large, or missing (0): an error of order of the gradient, far above round-off.
    x, y, w, b = _least_squares_case(bias_offset=0.3)
    report = gradcheck(
        _least_squares_cost(x, y, scale_db=scale_db), [w, b], names=["w", "b"], mode=mode, seed=0
    )
    assert not report.passed and not report["b"].passed and report["w"].passed
    assert report.worst.name == "b"
    assert report["b"].max_abs_error > 1e3 * report.roundoff
    assert any(line.startswith("b ") and "FAIL" in line for line in str(report).splitlines())


@pytest.mark.parametrize("scale_db3", [1.05, 0.0])
def test_buggy_one_element_bias_of_the_course_network_fails(scale_db3):
    x, y, params = _course_case()
    report = gradcheck(_course_cost(x, y, scale_db3=scale_db3), params, names=NAMES)
    assert not report.passed and not report["b3"].passed and report.worst.name == "b3"
    assert [row.name for row in report.rows if not row.passed] == ["b3"]


def test_roundoff_tolerance_formula():
    eps = np.finfo(np.float64).eps
    assert roundoff_tolerance(2.0, 1e-7) == pytest.approx(ROUNDOFF_ULPS * eps * 2.0 / 1e-7)
    assert roundoff_tolerance(-2.0, 1e-4) == pytest.approx(ROUNDOFF_ULPS * eps * 2.0 / 1e-4)
    assert roundoff_tolerance(float("nan"), 1e-7) == 0.0
