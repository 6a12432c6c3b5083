"""Lab 08's visible checks accept a correct softmax regression written here and name the usual mistakes."""

import re

import numpy as np
import pytest

from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import softmax as checks

# ---------------------------------------------------------------------------------------------------------------
# A correct reference solution, written independently of dlkit.lab_checks.softmax.


def softmax(z):
    exps = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return exps / np.sum(exps, axis=-1, keepdims=True)


def cross_entropy(y_hat, y):
    return float(-np.mean(np.sum(y * np.log(np.clip(y_hat, 1e-12, 1.0)), axis=-1)))


def cross_entropy_gradient(z, y):
    return (softmax(z) - y) / len(z)


def gradient_descent_step(W, b, x, y, learning_rate):
    z = x @ W + b
    dz = cross_entropy_gradient(z, y)
    return W - learning_rate * x.T @ dz, b - learning_rate * dz.sum(axis=0), cross_entropy(softmax(z), y)


def make_trainer(step=gradient_descent_step, shuffle="seeded", per="epoch"):
    def train(x, labels, num_classes, num_epochs, learning_rate, batch_size=32, seed=0):
        m, n = x.shape
        y = np.eye(num_classes)[labels]
        W, b = np.zeros((n, num_classes)), np.zeros(num_classes)
        rng = np.random.default_rng(seed if shuffle == "seeded" else 0)
        costs = []
        for _ in range(num_epochs):
            order = np.random.permutation(m) if shuffle == "global" else rng.permutation(m)
            batch_costs = []
            for start in range(0, m, batch_size):
                batch = order[start : start + batch_size]
                W, b, cost = step(W, b, x[batch], y[batch], learning_rate)
                batch_costs.append(cost)
            if per == "batch":
                costs.extend(batch_costs)
            else:
                costs.append(float(np.mean(batch_costs)))
        return W, b, costs

    return train


def predict(W, b, x):
    return np.argmax(x @ W + b, axis=1)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: softmax


def test_softmax_accepts_the_stable_softmax(capsys):
    checks.check_softmax(softmax)
    assert "softmax: all tests passed" in capsys.readouterr().out


def _naive(z):
    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)


def _global_max(z):
    exps = np.exp(z - z.max())
    return exps / exps.sum(axis=-1, keepdims=True)


def _columns(z):
    exps = np.exp(z - z.max(axis=0, keepdims=True))
    return exps / exps.sum(axis=0, keepdims=True)


def _in_place(z):
    z -= z.max(axis=-1, keepdims=True)
    exps = np.exp(z)
    return exps / exps.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_naive, "overflows"),
        (_global_max, "each row's own max"),
        (_columns, "each column sums to 1"),
        (_in_place, "in place"),
        (lambda z: z / z.sum(axis=-1, keepdims=True), r"normalizes exp\(z\)"),
        (lambda z: np.exp(z - z.max(axis=-1, keepdims=True)), "without dividing"),
        (lambda z: softmax(z)[:, :-1], "expected shape"),
    ],
)
def test_softmax_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_softmax(wrong)


def test_softmax_lets_the_students_own_errors_through():
    def unfinished(z):
        raise NotImplementedError("softmax: exercise not done yet")

    with pytest.raises(NotImplementedError, match="^softmax: exercise not done yet$"):
        checks.check_softmax(unfinished)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: cross-entropy


def test_cross_entropy_accepts_the_mean_cost(capsys):
    checks.check_cross_entropy(cross_entropy)
    assert "cross_entropy: all tests passed" in capsys.readouterr().out
    # Keras's own clipping (1e-7 instead of 1e-12) is fine too.
    checks.check_cross_entropy(
        lambda y_hat, y: -np.mean(np.sum(y * np.log(np.clip(y_hat, 1e-7, 1.0)), axis=1))
    )


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda y_hat, y: -np.sum(y * np.log(np.clip(y_hat, 1e-12, 1))), "summed over the batch"),
        (lambda y_hat, y: -np.sum(y * np.log(np.clip(y_hat, 1e-12, 1)), axis=1), "one loss per example"),
        (lambda y_hat, y: np.mean(np.sum(y * np.log(np.clip(y_hat, 1e-12, 1)), axis=1)), "sign is flipped"),
        (
            lambda y_hat, y: -np.mean(np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat), axis=1)),
            "binary cross-entropy",
        ),
        (lambda y_hat, y: -np.mean(y * np.log(np.clip(y_hat, 1e-12, 1))), "sum over the classes first"),
        (lambda y_hat, y: -np.mean(np.sum(y * np.log10(np.clip(y_hat, 1e-12, 1)), axis=1)), "natural log"),
        (lambda y_hat, y: -np.mean(np.sum(y * np.log(y_hat), axis=1)), r"0 \* log\(0\)"),
        (lambda y_hat, y: -np.mean(np.sum(y_hat * np.log(np.clip(y, 1e-12, 1)), axis=1)), "swapped"),
    ],
)
def test_cross_entropy_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_cross_entropy(wrong)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: the gradient


def test_gradient_accepts_y_hat_minus_y_over_m(capsys):
    checks.check_cross_entropy_gradient(cross_entropy_gradient)
    assert "cross_entropy_gradient: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda z, y: softmax(z) - y, "m = 5 times too large"),
        (lambda z, y: (y - softmax(z)) / len(z), "sign is flipped"),
        (lambda z, y: softmax(z) / len(z), "forgot to subtract the labels"),
        (lambda z, y: (softmax(z) - y) / len(z) ** 2, "divided by m twice"),
        (lambda z, y: (z - y) / len(z), r"z instead of softmax\(z\)"),
        (lambda z, y: (_naive(z) - y) / len(z), "large logits"),
        (lambda z, y: ((softmax(z) - y) / len(z)).T, "expected shape"),
    ],
)
def test_gradient_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_cross_entropy_gradient(wrong)


def test_gradcheck_helper_tells_a_right_gradient_from_a_wrong_one():
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(4, 3)), np.eye(3)[[0, 1, 2, 1]]
    good = checks.gradcheck_your_gradient(cross_entropy_gradient, z, y)
    assert good.passed and good.difference < 1e-7
    # A flipped sign gives ||g - (-g)|| / (||g|| + ||-g||) = 1 exactly.
    flipped = checks.gradcheck_your_gradient(lambda z, y: -cross_entropy_gradient(z, y), z, y)
    assert not flipped.passed
    assert flipped.difference == pytest.approx(1.0, abs=1e-6)
    # Without the 1/m the gradient is m times too large: (m - 1) / (m + 1).
    unscaled = checks.gradcheck_your_gradient(lambda z, y: softmax(z) - y, z, y)
    assert unscaled.difference == pytest.approx(3 / 5, abs=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: one gradient descent step


def test_step_accepts_a_correct_step(capsys):
    checks.check_gradient_descent_step(gradient_descent_step)
    assert "gradient_descent_step: all tests passed" in capsys.readouterr().out


def _step_variant(
    *, sign=1.0, dw_scale=1.0, db="sum", cost_after=False, transpose=False, b_2d=False, lr=None
):
    def step(W, b, x, y, learning_rate):
        alpha = learning_rate if lr is None else lr
        z = x @ W + b
        dz = cross_entropy_gradient(z, y)
        dW = (dz.T @ x) if transpose else x.T @ dz * dw_scale
        db_value = dz.sum(axis=0, keepdims=b_2d) if db == "sum" else dz.mean(axis=0)
        new_W, new_b = W - sign * alpha * dW, b - sign * alpha * db_value
        cost = cross_entropy(softmax(x @ new_W + new_b), y) if cost_after else cross_entropy(softmax(z), y)
        return new_W, new_b, cost

    return step


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_step_variant(sign=-1.0), "W moved uphill"),
        (_step_variant(db="mean"), "db is m times too small"),
        (_step_variant(dw_scale=6.0), "dW is m times too large"),
        (_step_variant(dw_scale=1 / 6), "dW is m times too small"),
        (_step_variant(cost_after=True), "cost after the update"),
        (_step_variant(b_2d=True), "keep b 1-D"),
        (_step_variant(lr=1.0), "learning rate is not applied"),
        (lambda W, b, x, y, learning_rate: (W, b), r"tuple \(W, b, cost\)"),
    ],
)
def test_step_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_gradient_descent_step(wrong)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 5: training and prediction


def test_step_lets_the_students_own_errors_through():
    # dZ.T @ x has shape (K, n): W - it raises in the student's code, and the traceback should point there.
    with pytest.raises(ValueError, match="operands could not be broadcast together"):
        checks.check_gradient_descent_step(_step_variant(transpose=True))


def test_training_accepts_mini_batch_gradient_descent(capsys):
    checks.check_softmax_regression(make_trainer(), predict)
    assert "softmax_regression: all tests passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "train, predict_fn, message",
    [
        (make_trainer(shuffle="global"), predict, "gave different W"),
        (make_trainer(shuffle="fixed"), predict, "gave the same W"),
        (make_trainer(step=_step_variant(sign=-1.0)), predict, "did not fall"),
        (make_trainer(per="batch"), predict, "one number per epoch"),
        (make_trainer(), lambda W, b, x: softmax(x @ W + b), "returned probabilities"),
        (make_trainer(), lambda W, b, x: np.argmax(x @ W + b, axis=1).astype(float), "integer class ids"),
        (make_trainer(), lambda W, b, x: np.argmin(x @ W + b, axis=1), "most probable classes"),
    ],
)
def test_training_names_the_mistake(train, predict_fn, message):
    with pytest.raises(ExerciseCheckError, match=message):
        checks.check_softmax_regression(train, predict_fn)


def test_reference_solution_reaches_the_accuracy_the_checks_demand():
    """The blobs the check trains on are separable enough for the reference to clear the check's 90%."""
    from dlkit.datasets import load_blobs

    data = load_blobs(num_classes=3, seed=1)
    W, b, costs = make_trainer()(data.x_train.astype(float), data.y_train, 3, 20, 0.1, 32, seed=0)
    assert np.mean(predict(W, b, data.x_train) == data.y_train) >= 0.9
    assert costs[0] <= np.log(3.0) + 1e-9 and costs[-1] < costs[0]


# ---------------------------------------------------------------------------------------------------------------
# The idiom: private references that agree with this file's solution, every known mistake named in full.


def test_references_agree_with_this_files_solution():
    rng = np.random.default_rng(5)
    z, y = rng.normal(scale=3.0, size=(6, 4)), np.eye(4)[[0, 1, 2, 3, 3, 1]]
    np.testing.assert_allclose(checks._reference_softmax(z), softmax(z), rtol=1e-12)
    y_hat = softmax(z)
    assert checks._reference_cross_entropy(y_hat, y) == pytest.approx(cross_entropy(y_hat, y), rel=1e-12)
    np.testing.assert_allclose(
        checks._reference_cross_entropy_gradient(z, y), cross_entropy_gradient(z, y), rtol=1e-12
    )
    x, W, b = rng.normal(size=(6, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    for got, want in zip(
        checks._reference_gradient_descent_step(W, b, x, y, 0.3),
        gradient_descent_step(W, b, x, y, 0.3),
        strict=True,
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_array_equal(checks._reference_predict(W, b, x), predict(W, b, x))


SOFTMAX_MESSAGES = [
    (
        lambda z: 2 * softmax(z),
        "each row must sum to 1; your row sums are [2. 2. 2. 2.]",
    ),
    (
        _columns,
        "each column sums to 1 instead of each row: one example per row, so normalize over the classes, the last "
        "axis (axis=-1, keepdims=True)",
    ),
    (
        lambda z: z / z.sum(axis=-1, keepdims=True),
        "you normalized the logits themselves (z / sum(z)); softmax normalizes exp(z): exp(z) / sum(exp(z))",
    ),
    (
        lambda z: np.exp(z - z.max(axis=-1, keepdims=True)),
        "you returned exp(z - max) without dividing by the row's sum of exp",
    ),
    (
        lambda z: np.full_like(z, np.nan),
        "returned NaN or infinite values on small logits",
    ),
]


@pytest.mark.parametrize(("wrong", "message"), SOFTMAX_MESSAGES)
def test_softmax_names_each_mistake_in_full(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_softmax(wrong)


def _nan_when_perfect(y_hat, y):
    return np.nan if np.max(y_hat) == 1.0 else cross_entropy(y_hat, y)


CROSS_ENTROPY_MESSAGES = [
    (
        lambda y_hat, y: -np.sum(y * np.log(y_hat), axis=1),
        "returned one loss per example: average them into one number (np.mean over the batch)",
    ),
    (
        lambda y_hat, y: -y * np.log(y_hat),
        "must return one number (the mean over the batch), got an array of shape (4, 3)",
    ),
    (
        lambda y_hat, y: -np.sum(y * np.log(y_hat)),
        "you summed over the batch: the cost is the mean, (1/m) * sum over the m examples",
    ),
    (
        lambda y_hat, y: np.mean(np.sum(y * np.log(y_hat), axis=1)),
        "the sign is flipped: log(y_hat) <= 0, so the cost is -mean(sum(y * log(y_hat)))",
    ),
    (
        lambda y_hat, y: -np.mean(np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat), axis=1)),
        "that is the binary cross-entropy summed over classes (it adds (1 - y) log(1 - y_hat)); with softmax "
        "outputs the cost is only -sum_k y_k log(y_hat_k)",
    ),
    (
        lambda y_hat, y: -np.mean(y * np.log(y_hat)),
        "you took the mean over all m * K entries of y * log(y_hat): sum over the classes first, then average "
        "over the examples",
    ),
    (
        lambda y_hat, y: -np.mean(np.sum(y * np.log10(np.clip(y_hat, 1e-12, 1)), axis=1)),
        "you used log10 or log2: use the natural log (np.log)",
    ),
    (
        lambda y_hat, y: -np.mean(np.sum(y * np.log2(np.clip(y_hat, 1e-12, 1)), axis=1)),
        "you used log10 or log2: use the natural log (np.log)",
    ),
    (
        lambda y_hat, y: -np.mean(np.sum(y_hat * np.log(np.clip(y, 1e-12, 1)), axis=1)),
        "the arguments are swapped in your formula: it is -y * log(y_hat), with y the labels",
    ),
    (
        lambda y_hat, y: -np.mean(np.sum(y * np.log(y_hat), axis=1)),
        "got NaN: y_hat has an exact 0 (softmax outputs can underflow to 0) and 0 * log(0) = 0 * -inf is nan. "
        "Clip y_hat before the log, e.g. np.log(np.clip(y_hat, 1e-12, 1.0))",
    ),
    (
        _nan_when_perfect,
        "got NaN for perfect predictions: 0 * log(0) is nan. Clip y_hat before the log",
    ),
]


@pytest.mark.parametrize(("wrong", "message"), CROSS_ENTROPY_MESSAGES)
def test_cross_entropy_names_each_mistake_in_full(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_cross_entropy(wrong)


def _gradient_in_place(z, y):
    z -= z.max(axis=-1, keepdims=True)
    return cross_entropy_gradient(z, y)


def _right_only_on_the_first_calls():
    calls = []

    def gradient(z, y):
        calls.append(1)
        return cross_entropy_gradient(z, y) * (1.0 if len(calls) <= 2 else 1.5)

    return gradient


GRADIENT_MESSAGES = [
    (
        lambda z, y: softmax(z) - y,
        "your gradient is m = 5 times too large: J averages over the m examples, so dJ/dz = (y_hat - y) / m",
    ),
    (
        lambda z, y: (y - softmax(z)) / len(z),
        "the sign is flipped: dJ/dz = (y_hat - y) / m, not (y - y_hat) / m (it must point uphill; gradient "
        "descent then subtracts it)",
    ),
    (
        lambda z, y: y - softmax(z),
        "the sign is flipped and the 1/m is missing: dJ/dz = (y_hat - y) / m with m = 5",
    ),
    (lambda z, y: softmax(z) / len(z), "you forgot to subtract the labels: dJ/dz = (softmax(z) - y) / m"),
    (lambda z, y: (softmax(z) - y) / len(z) ** 2, "you divided by m twice"),
    (lambda z, y: (z - y) / len(z), "you used z instead of softmax(z): dJ/dz = (softmax(z) - y) / m"),
    (_gradient_in_place, "your function changed `z` in place: leave the caller's logits alone"),
    (
        lambda z, y: (_naive(z) - y) / len(z),
        "got NaN or the wrong shape on large logits: compute softmax(z) with your stable softmax",
    ),
    (
        _right_only_on_the_first_calls(),
        "your gradient is not the derivative of J(z) = cross_entropy(softmax(z), y)",
    ),
]


@pytest.mark.parametrize(("wrong", "message"), GRADIENT_MESSAGES)
def test_gradient_names_each_mistake_in_full(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_cross_entropy_gradient(wrong)


def _step_with(*, W_of=None, b_of=None, cost_of=None):
    """The correct step with one output replaced: `W_of(W, new_W, dW)` etc."""

    def step(W, b, x, y, learning_rate):
        z = x @ W + b
        dz = cross_entropy_gradient(z, y)
        dW, db = x.T @ dz, dz.sum(axis=0)
        new_W, new_b, cost = W - learning_rate * dW, b - learning_rate * db, cross_entropy(softmax(z), y)
        if W_of is not None:
            new_W = W_of(W, learning_rate, dW)
        if b_of is not None:
            new_b = b_of(b, learning_rate, db)
        if cost_of is not None:
            cost = cost_of(cost)
        return new_W, new_b, cost

    return step


STEP_MESSAGES = [
    (
        _step_with(W_of=lambda W, lr, dW: W + lr * dW),
        "W moved uphill: gradient descent subtracts, W = W - learning_rate * dW",
    ),
    (_step_with(W_of=lambda W, lr, dW: W), "W did not change: update it, W = W - learning_rate * dW"),
    (
        _step_with(W_of=lambda W, lr, dW: W - lr * 6 * dW),
        "dW is m times too large: dZ = cross_entropy_gradient(Z, y) already holds the 1/m, so dW = x.T @ dZ",
    ),
    (
        _step_with(W_of=lambda W, lr, dW: W - lr * dW / 6),
        "dW is m times too small: dZ already holds the 1/m, so do not divide again (dW = x.T @ dZ)",
    ),
    (
        _step_with(W_of=lambda W, lr, dW: W - dW),
        "the learning rate is not applied to dW: W = W - learning_rate * dW",
    ),
    (
        _step_with(W_of=lambda W, lr, dW: (W - lr * dW).T),
        "the new W has shape (4, 3), the transpose: dW = x.T @ dZ has the shape of W, (n, K)",
    ),
    (_step_with(b_of=lambda b, lr, db: b + lr * db), "b moved uphill: b = b - learning_rate * db"),
    (_step_with(b_of=lambda b, lr, db: b), "b did not change: update it too, b = b - learning_rate * db"),
    (
        _step_with(b_of=lambda b, lr, db: b - lr * db / 6),
        "db is m times too small: dZ already holds the 1/m, so db = dZ.sum(axis=0), not dZ.mean(axis=0)",
    ),
    (
        _step_with(b_of=lambda b, lr, db: b - lr * db * 6),
        "db is m times too large: dZ already holds the 1/m, so db = dZ.sum(axis=0)",
    ),
    (
        _step_with(b_of=lambda b, lr, db: (b - lr * db)[None, :]),
        "the new b has shape (1, 4): sum dZ over the batch axis only, dZ.sum(axis=0), to keep b 1-D with shape (K,)",
    ),
    (
        _step_with(cost_of=lambda cost: [cost, cost]),
        "the cost must be one number, got shape (2,)",
    ),
    (
        _step_variant(cost_after=True),
        "you returned the cost after the update: return J(W, b) of the parameters you were given",
    ),
    (
        lambda W, b, x, y, learning_rate: (W, b),
        "must return a tuple (W, b, cost): the updated parameters and the cost before the update",
    ),
]


@pytest.mark.parametrize(("wrong", "message"), STEP_MESSAGES)
def test_step_names_each_mistake_in_full(wrong, message):
    with pytest.raises(ExerciseCheckError, match=re.escape(message)):
        checks.check_gradient_descent_step(wrong)


def _trainer_from_large_weights(x, labels, num_classes, num_epochs, learning_rate, batch_size=32, seed=0):
    """Mini-batch gradient descent that starts far from W = 0: the first epoch's cost is above ln 3."""
    m, n = x.shape
    y = np.eye(num_classes)[labels]
    W, b = np.array([[-8.0, 0.0, 8.0], [8.0, 0.0, -8.0]]), np.zeros(num_classes)
    rng = np.random.default_rng(seed)
    costs = []
    for _ in range(num_epochs):
        order = rng.permutation(m)
        batch_costs = []
        for start in range(0, m, batch_size):
            batch = order[start : start + batch_size]
            W, b, cost = gradient_descent_step(W, b, x[batch], y[batch], learning_rate)
            batch_costs.append(cost)
        costs.append(float(np.mean(batch_costs)))
    return W, b, costs


def test_training_and_predict_name_each_mistake_in_full():
    with pytest.raises(
        ExerciseCheckError,
        match=re.escape(
            "must return a tuple (W, b, costs): the trained parameters and the list of per-epoch costs"
        ),
    ):
        checks.check_softmax_regression(lambda *args, **kwargs: make_trainer()(*args, **kwargs)[:2], predict)
    with pytest.raises(
        ExerciseCheckError,
        match=re.escape(
            "the predictions are not the most probable classes, argmax over the classes of x @ W + b"
        ),
    ):
        checks.check_softmax_regression(make_trainer(), lambda W, b, x: np.zeros(len(x), dtype=int))
    with pytest.raises(
        ExerciseCheckError, match=re.escape("is above ln 3 = 1.099, the cost of W = 0, b = 0")
    ):
        checks.check_softmax_regression(_trainer_from_large_weights, predict)
