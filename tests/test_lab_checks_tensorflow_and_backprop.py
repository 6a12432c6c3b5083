"""Lab 12's visible checks accept correct solutions written here and name every known mistake by its message.

The solutions below are written independently of dlkit.lab_checks.tensorflow_and_backprop (NumPy formulas,
tf.GradientTape, the Keras built-ins); the references are compared with Keras where Keras has the function.
"""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import tensorflow_and_backprop as checks

EPS = 1e-7


def _raises(message):
    return pytest.raises(ExerciseCheckError, match=re.escape(message))


def _messages(table):
    return list(dict.fromkeys(message for message, _ in table))


def _covered(table, tested):
    assert set(_messages(table)) <= set(tested), set(_messages(table)) - set(tested)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1


def hand(x, y, z, mul_own=False, upstream=True):
    q, f = x + y, (x + y) * z
    dq, dz = (q, z) if mul_own else (z, q)
    dx = dq if upstream else 1.0
    return {"q": q, "f": f, "df_dq": dq, "df_dx": dx, "df_dy": dx, "df_dz": dz}


def tape_gradients(fn, values, watch=True, calls="one"):
    inputs = [tf.constant(v, dtype=tf.float64) for v in values]
    with tf.GradientTape() as tape:
        if watch:
            for t in inputs:
                tape.watch(t)
        out = fn(*inputs)
    if calls == "one":
        return tape.gradient(out, inputs)
    return [tape.gradient(out, t) for t in inputs]


def test_backprop_by_hand_accepts_the_chain_rule(capsys):
    checks.check_backprop_by_hand(hand)
    assert "backprop_by_hand: all tests passed" in capsys.readouterr().out
    value = hand(-2.0, 5.0, -4.0)
    assert (value["df_dx"], value["df_dy"], value["df_dz"], value["f"]) == (-4.0, -4.0, 3.0, -12.0)


def test_backprop_by_hand_names_the_mistakes():
    table = checks._backprop_by_hand_mistakes(-2.0, 5.0, -4.0)
    messages = _messages(table)
    with _raises(messages[0]):
        checks.check_backprop_by_hand(lambda x, y, z: hand(x, y, z, mul_own=True))
    with _raises(messages[1]):
        checks.check_backprop_by_hand(lambda x, y, z: hand(x, y, z, upstream=False))
    with _raises("must return a dict"):
        checks.check_backprop_by_hand(lambda x, y, z: (x + y) * z)


def test_tape_gradients_accepts_a_watched_tape_and_names_the_slips(capsys):
    checks.check_tape_gradients(tape_gradients)
    checks.check_tape_gradients(lambda fn, v: [g.numpy() for g in tape_gradients(fn, v)])
    assert "tape_gradients: all tests passed" in capsys.readouterr().out
    with _raises("the tape returned None"):
        checks.check_tape_gradients(lambda fn, v: tape_gradients(fn, v, watch=False))
    with _raises("a non-persistent tape gives gradients once"):
        checks.check_tape_gradients(lambda fn, v: tape_gradients(fn, v, calls="each"))


def test_tape_gradients_lets_the_students_own_errors_through():
    def unfinished(fn, values):
        raise NotImplementedError("not yet")

    with pytest.raises(NotImplementedError, match="^not yet$"):
        checks.check_tape_gradients(unfinished)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: an engine with switchable slips


def make_value(mistake=None):
    class Value:
        def __init__(self, data, children=()):
            self.data, self.grad, self._children = float(data), 0.0, tuple(children)
            self._backward = lambda: None

        def _give(self, amount):
            self.grad = amount if mistake == "overwrite" else self.grad + amount

        def __add__(self, other):
            out = Value(self.data + other.data, (self, other))

            def backward():
                self._give(out.grad)
                other._give(out.grad)

            out._backward = backward
            return out

        def __mul__(self, other):
            out = Value(self.data * other.data, (self, other))

            def backward():
                own = mistake == "mul_own"
                self._give((self.data if own else other.data) * out.grad)
                other._give((other.data if own else self.data) * out.grad)

            out._backward = backward
            return out

        def maximum(self, other):
            out = Value(max(self.data, other.data), (self, other))

            def backward():
                if mistake == "max_both":
                    self._give(out.grad)
                    other._give(out.grad)
                    return
                first = self.data >= other.data
                if mistake == "max_smaller":
                    first = not first
                (self if first else other)._give(out.grad)
                (other if first else self)._give(0.0)

            out._backward = backward
            return out

        def tanh(self):
            out = Value(np.tanh(self.data), (self,))

            def backward():
                local = 1 - self.data**2 if mistake == "tanh_input" else 1 - out.data**2
                self._give(local * out.grad)

            out._backward = backward
            return out

        def backward(self):
            order, seen = [], set()

            def visit(node):
                if id(node) not in seen:
                    seen.add(id(node))
                    for child in node._children:
                        visit(child)
                    order.append(node)

            visit(self)
            self.grad = 0.0 if mistake == "no_seed" else 1.0
            for node in order if mistake == "forward_order" else reversed(order):
                node._backward()

    return Value


def test_engine_accepts_a_correct_engine(capsys):
    checks.check_engine(make_value())
    assert "engine: all tests passed" in capsys.readouterr().out


def test_engine_reference_is_the_tape_and_the_slip_free_engine_agrees():
    for seed in range(20):
        expression = checks.random_expression(seed, depth=4)
        inputs = dict(zip("abc", np.random.default_rng(seed).uniform(-2, 2, size=3)))
        ours = checks.engine_gradients(make_value(), expression, inputs)
        np.testing.assert_allclose(checks._reference_engine(expression, inputs), ours, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            checks._mistaken_engine(expression, inputs, None), ours, rtol=1e-9, atol=1e-12
        )
    x, y, z = -2.0, 5.0, -4.0
    np.testing.assert_allclose(
        checks.engine_gradients(make_value(), ("mul", ("add", "x", "y"), "z"), {"x": x, "y": y, "z": z}),
        [-12.0, -4.0, -4.0, 3.0],
    )


ENGINE_SLIPS = ["mul_own", "max_both", "max_smaller", "tanh_input", "overwrite", "no_seed", "forward_order"]


@pytest.mark.parametrize("index, mistake", list(enumerate(ENGINE_SLIPS)), ids=ENGINE_SLIPS)
def test_engine_names_each_slip(index, mistake):
    message = _messages(checks._engine_mistakes("x", {"x": 1.0}))[index]
    with _raises(message):
        checks.check_engine(make_value(mistake))


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: losses


def np_clip(p):
    return np.clip(p, EPS, 1 - EPS)


def mse(y, p):
    return np.mean((y - p) ** 2)


def bce(y, p):
    p = np_clip(p)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def bce_logits(y, z):
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


def cce(y, p):
    return np.mean(-np.sum(y * np.log(np_clip(p)), axis=-1))


def log_softmax(z):
    s = z - z.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def cce_logits(y, z):
    return np.mean(-np.sum(y * log_softmax(z), axis=-1))


def kl(p, q):
    return np.mean(np.sum(p * np.log(np.clip(p, EPS, 1) / np.clip(q, EPS, 1)), axis=-1))


def svm(scores, labels, W, reg, count_correct=False, reduce=np.mean, over="sum", penalty=1.0):
    losses = []
    for s, label in zip(scores, labels):
        margins = [max(0.0, s[j] - s[label] + 1) for j in range(len(s)) if count_correct or j != label]
        losses.append(sum(margins) if over == "sum" else max(margins))
    return reduce(losses) + penalty * reg * np.sum(W**2)


def test_references_match_keras():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2.0, size=(6, 3))
    p = np.exp(log_softmax(z))
    y = np.eye(3)[[0, 1, 2, 2, 1, 0]]
    yb, zb = y[:, :1], z[:, :1]

    def k(loss, *args):
        return float(keras.ops.convert_to_numpy(loss(*args)))

    assert np.isclose(checks._reference_mse(y, p), k(keras.losses.MeanSquaredError(), y, p), rtol=1e-6)
    pb = 1 / (1 + np.exp(-zb))
    assert np.isclose(
        checks._reference_binary_cross_entropy(yb, pb), k(keras.losses.BinaryCrossentropy(), yb, pb)
    )
    assert np.isclose(
        checks._reference_binary_cross_entropy_from_logits(yb, zb),
        k(keras.losses.BinaryCrossentropy(from_logits=True), yb, zb),
    )
    assert np.isclose(
        checks._reference_categorical_cross_entropy(y, p), k(keras.losses.CategoricalCrossentropy(), y, p)
    )
    assert np.isclose(
        checks._reference_categorical_cross_entropy_from_logits(y, z),
        k(keras.losses.CategoricalCrossentropy(from_logits=True), y, z),
    )
    soft = np.array([[0.6, 0.3, 0.1]]).repeat(6, axis=0)
    assert np.isclose(checks._reference_kl_divergence(soft, p), k(keras.losses.KLDivergence(), soft, p))
    # The "logits without from_logits" mistake is what Keras computes with from_logits=False.
    assert np.isclose(
        checks._reference_binary_cross_entropy(yb, zb, top=checks._FLOAT32_TOP),
        k(keras.losses.BinaryCrossentropy(), yb, zb),
        rtol=1e-5,
    )
    assert np.isclose(
        checks._reference_categorical_cross_entropy(y, z / z.sum(-1, keepdims=True), top=checks._FLOAT32_TOP),
        k(keras.losses.CategoricalCrossentropy(), y, z),
        rtol=1e-5,
    )
    W = rng.normal(size=(2, 3))
    labels = np.array([0, 1, 2, 2, 1, 0])
    assert np.isclose(checks._reference_multiclass_svm_loss(z, labels, W, 0.1), svm(z, labels, W, 0.1))


def test_losses_accept_correct_implementations(capsys):
    checks.check_mse(mse)
    checks.check_binary_cross_entropy(bce)
    checks.check_binary_cross_entropy_from_logits(bce_logits)
    checks.check_categorical_cross_entropy(cce)
    checks.check_categorical_cross_entropy_from_logits(cce_logits)
    checks.check_kl_divergence(kl)
    checks.check_multiclass_svm_loss(svm)
    # Keras-style float32 results pass too.
    checks.check_categorical_cross_entropy_from_logits(
        lambda y, z: keras.ops.convert_to_numpy(keras.losses.CategoricalCrossentropy(from_logits=True)(y, z))
    )
    assert capsys.readouterr().out.count("all tests passed") == 8


def _bce_unclipped(y, p):
    with np.errstate(all="ignore"):
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


LOSS_SLIPS = [
    ("mse", lambda y, p: np.sum((y - p) ** 2), "you summed the squared errors"),
    ("mse", lambda y, p: np.mean(np.abs(y - p)), "that is the mean ABSOLUTE error"),
    ("mse", lambda y, p: 0.5 * mse(y, p), "you halved it"),
    ("mse", lambda y, p: np.sqrt(mse(y, p)), "that is the root of the MSE (RMSE)"),
    (
        "binary_cross_entropy",
        lambda y, p: -np.mean(y * np.log(np_clip(p))),
        "you forgot the (1 - y) log(1 - p) term",
    ),
    ("binary_cross_entropy", lambda y, p: -bce(y, p), "the sign is flipped: log p <= 0"),
    ("binary_cross_entropy", lambda y, p: bce(y, p) * len(y), "you summed over the batch"),
    ("binary_cross_entropy", _bce_unclipped, "Clip p into [eps, 1 - eps]"),
    ("binary_cross_entropy_from_logits", bce, "as if they were probabilities (from_logits=False)"),
    ("binary_cross_entropy_from_logits", lambda y, z: bce_logits(y, z) * len(y), "you summed over the batch"),
    ("binary_cross_entropy_from_logits", lambda y, z: bce_logits(y, -z), "the sign of z is flipped"),
    (
        "binary_cross_entropy_from_logits",
        lambda y, z: _bce_unclipped(y, 1 / (1 + np.exp(-z))),
        "exp(1000) overflows. Use the stable form",
    ),
    ("categorical_cross_entropy", lambda y, p: cce(y, p) * len(y), "you summed over the batch"),
    ("categorical_cross_entropy", lambda y, p: cce(y, p) / 3, "you took the mean over all m * K entries"),
    (
        "categorical_cross_entropy",
        lambda y, p: cce(y, p) + cce(1 - y, 1 - p),
        "that is the binary cross-entropy",
    ),
    (
        "categorical_cross_entropy",
        lambda y, p: np.mean(-np.sum(y * np.log(p), axis=-1)),
        "p has an exact 0 and log(0) = -inf",
    ),
    ("categorical_cross_entropy_from_logits", cce, "as if they were probabilities (from_logits=False)"),
    (
        "categorical_cross_entropy_from_logits",
        lambda y, z: float(keras.losses.CategoricalCrossentropy()(y, z)),
        "as if they were probabilities (from_logits=False)",
    ),
    (
        "categorical_cross_entropy_from_logits",
        lambda y, z: cce_logits(y, z) * len(y),
        "you summed over the batch",
    ),
    (
        "categorical_cross_entropy_from_logits",
        lambda y, z: cce(y, np.exp(z) / np.exp(z).sum(-1, keepdims=True)),
        "exp(1000) overflows. Subtract each row's max",
    ),
    ("kl_divergence", lambda p, q: kl(q, p), "KL is not symmetric"),
    ("kl_divergence", cce, "that is the cross-entropy H(p, q)"),
    ("kl_divergence", lambda p, q: -kl(p, q), "the sign is flipped: D_KL(p || q)"),
    ("kl_divergence", lambda p, q: kl(p, q) * len(p), "you summed over the batch"),
    ("kl_divergence", lambda p, q: np.mean(np.sum(p * np.log(p / q), axis=-1)), "0 * log(0) is nan"),
    (
        "multiclass_svm_loss",
        lambda s, y, W, r: svm(s, y, W, r, count_correct=True),
        "you counted the correct class",
    ),
    ("multiclass_svm_loss", lambda s, y, W, r: svm(s, y, W, r, penalty=0.0), "you forgot the weight decay"),
    ("multiclass_svm_loss", lambda s, y, W, r: svm(s, y, W, r, penalty=0.5), "without 1/2"),
    (
        "multiclass_svm_loss",
        lambda s, y, W, r: svm(s, y, W, r, reduce=np.sum),
        "you summed over the examples",
    ),
    ("multiclass_svm_loss", lambda s, y, W, r: svm(s, y, W, r, over="max"), "that is the max over j"),
]


@pytest.mark.parametrize(
    "name, wrong, fragment", LOSS_SLIPS, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LOSS_SLIPS)]
)
def test_losses_name_the_mistake(name, wrong, fragment):
    table = {
        "mse": checks._mse_mistakes(np.ones(2), np.zeros(2)),
        "binary_cross_entropy": checks._binary_cross_entropy_mistakes(np.ones(2), np.full(2, 0.5)),
        "binary_cross_entropy_from_logits": checks._binary_cross_entropy_from_logits_mistakes(
            np.ones(2), np.ones(2)
        ),
        "categorical_cross_entropy": checks._categorical_cross_entropy_mistakes(
            np.eye(2), np.full((2, 2), 0.5)
        ),
        "categorical_cross_entropy_from_logits": checks._categorical_cross_entropy_from_logits_mistakes(
            np.eye(2), np.ones((2, 2))
        ),
        "kl_divergence": checks._kl_divergence_mistakes(np.full((1, 2), 0.5), np.full((1, 2), 0.5)),
        "multiclass_svm_loss": checks._multiclass_svm_loss_mistakes(
            np.eye(2), np.array([0, 1]), np.eye(2), 0.1
        ),
    }[name]
    full = [message for message in _messages(table) if fragment in message]
    # A table message is named in full; the extreme-input messages are the checks' own (not in the table).
    with pytest.raises(ExerciseCheckError, match=re.escape(full[0] if full else fragment)):
        getattr(checks, f"check_{name}")(wrong)


def test_every_loss_mistake_is_tested():
    tested = {fragment for _, _, fragment in LOSS_SLIPS}
    tables = [
        checks._mse_mistakes(np.ones(2), np.zeros(2)),
        checks._binary_cross_entropy_mistakes(np.ones(2), np.full(2, 0.5)),
        checks._binary_cross_entropy_from_logits_mistakes(np.ones(2), np.ones(2)),
        checks._categorical_cross_entropy_mistakes(np.eye(2), np.full((2, 2), 0.5)),
        checks._categorical_cross_entropy_from_logits_mistakes(np.eye(2), np.ones((2, 2))),
        checks._kl_divergence_mistakes(np.full((1, 2), 0.5), np.full((1, 2), 0.5)),
        checks._multiclass_svm_loss_mistakes(np.eye(2), np.array([0, 1]), np.eye(2), 0.1),
    ]
    for table in tables:
        for message in _messages(table):
            assert any(fragment in message for fragment in tested), message


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4


def linear_gd(x, y, lr, n, factor=2.0, sign=1.0, average=True, after=False):
    m = len(x)
    w, b, losses = np.zeros(x.shape[1]), 0.0, []
    for _ in range(n):
        r = x @ w + b - y
        if not after:
            losses.append(np.mean(r**2))
        scale = factor / m if average else factor
        w, b = w - sign * lr * scale * x.T @ r, b - sign * lr * scale * r.sum()
        if after:
            losses.append(np.mean((x @ w + b - y) ** 2))
    return w, b, losses


def test_linear_regression_gd_converges_to_the_closed_form_and_is_accepted(capsys):
    checks.check_linear_regression_gd(linear_gd)
    assert "linear_regression_gd: all tests passed" in capsys.readouterr().out
    x, y = checks._line_data()
    w, b, _ = checks._reference_linear_regression_gd(x, y, 0.3, 2000)
    theta, *_ = np.linalg.lstsq(np.column_stack([x, np.ones(len(x))]), y, rcond=None)
    np.testing.assert_allclose(np.append(w, b), theta, rtol=1e-6)


@pytest.mark.parametrize(
    "index, kwargs",
    [(0, {"factor": 1.0}), (1, {"sign": -1.0}), (2, {"average": False}), (3, {"after": True})],
)
def test_linear_regression_gd_names_the_mistake(index, kwargs):
    x, y = checks._line_data()
    message = _messages(checks._linear_regression_gd_mistakes(x, y, 0.1, 15))[index]
    with _raises(message):
        checks.check_linear_regression_gd(lambda x, y, lr, n: linear_gd(x, y, lr, n, **kwargs))


def logistic(x, y, num_epochs, lr, batch_size, seed=0, reduce=tf.reduce_mean, logits=True, seeded=True):
    m, n = x.shape
    w, b = tf.Variable(tf.zeros((n, 1))), tf.Variable(0.0)
    data = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y.astype(np.float32).reshape(-1, 1)))
    data = data.shuffle(m, seed=seed if seeded else None).batch(batch_size)
    losses = []
    for _ in range(num_epochs):
        batch = []
        for xb, yb in data:
            with tf.GradientTape() as tape:
                z = xb @ w + b
                if logits:
                    loss = reduce(tf.nn.sigmoid_cross_entropy_with_logits(labels=yb, logits=z))
                else:
                    loss = reduce(keras.losses.binary_crossentropy(yb, z))
            dw, db = tape.gradient(loss, [w, b])
            w.assign_sub(lr * dw)
            b.assign_sub(lr * db)
            batch.append(float(loss))
        losses.append(np.mean(batch))
    return w.numpy(), float(b.numpy()), losses


def test_logistic_regression_accepts_a_tape_loop_and_names_the_mistakes(capsys):
    checks.check_train_logistic_regression(logistic)
    assert "train_logistic_regression: all tests passed" in capsys.readouterr().out
    x, y = checks._separable_2d()
    (summed,) = _messages(checks._logistic_mistakes(x, y, 10, 0.5))
    with _raises(summed):
        checks.check_train_logistic_regression(lambda *a, **k: logistic(*a, **k, reduce=tf.reduce_sum))
    with _raises(summed):  # a summed step, the mean recorded
        checks.check_train_logistic_regression(
            lambda x, y, e, lr, bs, seed=0: logistic(x, y, e, lr * len(x) if bs == len(x) else lr, bs, seed)
        )
    with _raises("compute the mean loss from the LOGITS (from_logits=True)"):
        checks.check_train_logistic_regression(lambda *a, **k: logistic(*a, **k, logits=False))
    # As in the lab (dlkit.set_seed): a global seed is set, so an unseeded shuffle draws a new op seed per call
    # (with op determinism on, as set_seed leaves it, an unseeded op without a global seed would raise instead).
    tf.random.set_seed(1234)
    with _raises("two runs with seed=0 gave different w"):
        checks.check_train_logistic_regression(lambda *a, **k: logistic(*a, **k, seeded=False))


# ---------------------------------------------------------------------------------------------------------------
# Exercise 5


def one_hot(labels, depth):
    return np.eye(depth)[labels]


def init(sizes, seed=1, initializer=keras.initializers.GlorotNormal, seeds="per layer", variables=True):
    out = {}
    for layer in range(1, len(sizes)):
        draw = initializer(seed=seed + layer if seeds == "per layer" else seed)
        W = draw(shape=(sizes[layer - 1], sizes[layer]))
        b = tf.zeros(sizes[layer])
        out[f"W{layer}"], out[f"b{layer}"] = (tf.Variable(W), tf.Variable(b)) if variables else (W, b)
    return out


def forward(x, params, output_relu=False, hidden_relu=True):
    a = tf.cast(x, tf.float32)
    L = len(params) // 2
    for layer in range(1, L + 1):
        z = a @ params[f"W{layer}"] + params[f"b{layer}"]
        a = (tf.nn.relu(z) if output_relu else z) if layer == L else (tf.nn.relu(z) if hidden_relu else z)
    return a


def total_loss(logits, labels, reduce=tf.reduce_sum, from_logits=True):
    return reduce(keras.losses.categorical_crossentropy(labels, logits, from_logits=from_logits))


def train_step(params, optimizer, x, labels, reduce=tf.reduce_sum):
    variables = list(params.values())
    with tf.GradientTape() as tape:
        loss = total_loss(forward(x, params), labels, reduce=reduce)
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss


def test_pipeline_accepts_correct_pieces(capsys):
    checks.check_one_hot_matrix(one_hot)
    checks.check_one_hot_matrix(lambda labels, depth: tf.one_hot(labels, depth))
    checks.check_initialize_parameters(init)
    checks.check_forward_propagation(forward)
    checks.check_compute_total_loss(total_loss)
    checks.check_train_step(train_step)
    assert capsys.readouterr().out.count("all tests passed") == 6


def test_glorot_reference_has_the_glorot_spread():
    parameters = checks._reference_initialize_parameters([400, 300], seed=0)
    # Truncated normal at 2 sigma: its std is 0.87962566 * sigma; Keras divides sigma by that constant.
    assert np.isclose(parameters["W1"].std(), np.sqrt(2.0 / 700), rtol=0.02)
    assert not parameters["b1"].any()


def test_train_step_reference_is_the_tape_gradient():
    parameters, x, labels = checks._small_network()
    y = np.eye(3)[labels]
    variables = {k: tf.Variable(v) for k, v in parameters.items()}  # float64

    def train_step64(params, optimizer, x, labels):
        with tf.GradientTape() as tape:
            a = x
            for layer in (1, 2, 3):
                a = a @ params[f"W{layer}"] + params[f"b{layer}"]
                a = tf.nn.relu(a) if layer < 3 else a
            loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=a))
        optimizer.apply_gradients(zip(tape.gradient(loss, list(params.values())), list(params.values())))
        return loss

    optimizer = keras.optimizers.SGD(learning_rate=0.05)
    losses = [float(train_step64(variables, optimizer, tf.constant(x), tf.constant(y))) for _ in range(3)]
    ours = np.concatenate(
        [losses] + [variables[k].numpy().ravel() for k in ("W1", "b1", "W2", "b2", "W3", "b3")]
    )
    # rtol: Keras keeps the learning rate 0.05 in float32.
    np.testing.assert_allclose(checks._reference_train_steps(parameters, x, y, 0.05, 3), ours, rtol=1e-6)


def test_pipeline_names_the_mistakes():
    with _raises("got shape (depth, m)"):
        checks.check_one_hot_matrix(lambda labels, depth: one_hot(labels, depth).T)
    uniform, same_seed = _messages(checks._initialize_mistakes([2, 2], 0))
    with _raises(uniform):
        checks.check_initialize_parameters(lambda s, seed=1: init(s, seed, keras.initializers.GlorotUniform))
    with _raises(same_seed):
        checks.check_initialize_parameters(lambda s, seed=1: init(s, seed, seeds="one"))
    with _raises("W1 must be a tf.Variable"):
        checks.check_initialize_parameters(lambda s, seed=1: init(s, seed, variables=False))
    parameters, x, _ = checks._small_network()
    output_relu, no_hidden = _messages(checks._forward_mistakes(x, parameters))
    with _raises(output_relu):
        checks.check_forward_propagation(lambda x, p: forward(x, p, output_relu=True))
    with _raises(no_hidden):
        checks.check_forward_propagation(lambda x, p: forward(x, p, hidden_relu=False))
    mean, probabilities = _messages(checks._compute_total_loss_mistakes(np.ones((1, 2)), np.eye(2)[:1]))
    with _raises(mean):
        checks.check_compute_total_loss(lambda z, y: total_loss(z, y, reduce=tf.reduce_mean))
    with _raises(probabilities):
        checks.check_compute_total_loss(lambda z, y: total_loss(z, y, from_logits=False))
    with _raises(probabilities):
        checks.check_compute_total_loss(
            lambda z, y: -tf.reduce_sum(y * tf.math.log(tf.clip_by_value(z, EPS, 1 - EPS)))
        )
    with _raises("you differentiated the MEAN loss"):
        checks.check_train_step(lambda p, o, x, y: train_step(p, o, x, y, reduce=tf.reduce_mean) * len(x))
    with _raises("you differentiated the MEAN loss"):
        checks.check_train_step(lambda p, o, x, y: train_step(p, o, x, y, reduce=tf.reduce_mean))
