"""Visible checks for lab 12 (TensorFlow from the ground up: GradientTape, backprop, losses, training loops).

Conventions of the lab (Keras's): one example per row; losses take `(y_true, y_pred)` and return the batch MEAN
as one number, except `compute_total_loss` (exercise 5), which returns the batch SUM as in DLS Course 2 week 3.

Each exercise follows the idiom of `dlkit.lab_checks.expect`: a private reference `_reference_<name>`, a table of
known mistakes `_<name>_mistakes` (each a wrong value and the message naming the slip), and a public
`check_<name>` that calls the student's function on small fixed inputs and compares through
`expect.check_value`. References are NumPy formulas written out, `tf.GradientTape` (the engine of exercise 2 is
checked against it) or the Keras built-in (Glorot initialization).

Public helpers the lab calls: `random_expression` and `engine_gradients` (exercise 2's random expressions, built
with the student's own `Value` class).
"""

import numpy as np

from dlkit.lab_checks.expect import (
    as_float_array,
    check_value,
    expect_shape,
    expect_true,
    fail,
    passed,
)

_EPSILON = 1e-7  # keras.config.epsilon(): Keras clips probabilities into [eps, 1 - eps]


def _call(function, *args, **kwargs):
    with np.errstate(all="ignore"):
        return function(*args, **kwargs)


def _scalar(where, value):
    value = as_float_array(where, value)
    expect_true(where, value.size == 1, f"must return one number, got an array of shape {value.shape}")
    return value.reshape(())


# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: the seed's example f(x, y, z) = (x + y) z by hand, and tf.GradientTape

_HAND_KEYS = ("q", "f", "df_dq", "df_dx", "df_dy", "df_dz")


def _reference_backprop_by_hand(x, y, z, *, mul="switch", upstream=True):
    """Forward and backward pass of f = (x + y) z, node by node (cs231n's example).

    ```
    q = x + y;  f = q z
    df/dq = z, df/dz = q                 (mul gate: each input gets the OTHER input times upstream 1)
    df/dx = df/dq * 1, df/dy = df/dq * 1 (add gate: distributes the upstream gradient)
    ```

    Args:
        x, y, z: Floats.
        mul: "switch" (right) or "own" (mistake: each input times its own value).
        upstream: Bool. False: the add gate's local gradient 1 without the upstream df/dq (a mistake).

    Returns:
        Array [q, f, df_dq, df_dx, df_dy, df_dz].
    """
    q = x + y
    f = q * z
    df_dq, df_dz = (z, q) if mul == "switch" else (q, z)
    df_dx = df_dy = df_dq * 1.0 if upstream else 1.0
    return np.array([q, f, df_dq, df_dx, df_dy, df_dz], dtype=float)


def _backprop_by_hand_mistakes(x, y, z):
    return [
        (
            "the mul gate is a switcher: df/dq is the OTHER input z, and df/dz is q; you multiplied each input "
            "by its own value",
            _reference_backprop_by_hand(x, y, z, mul="own"),
        ),
        (
            "you forgot the upstream gradient at the add gate: df/dx = df/dq * dq/dx = df/dq * 1, not the local "
            "gradient 1 alone (chain rule: upstream x local)",
            _reference_backprop_by_hand(x, y, z, upstream=False),
        ),
    ]


def _hand_values(where, out):
    expect_true(
        where,
        isinstance(out, dict) and set(_HAND_KEYS) <= set(out),
        f"must return a dict with the keys {list(_HAND_KEYS)}",
    )
    return np.array([float(as_float_array(where, out[key])) for key in _HAND_KEYS])


def check_backprop_by_hand(backprop_by_hand):
    """Checks `backprop_by_hand(x, y, z)` on the seed's point (-2, 5, -4) and on another point."""
    for x, y, z in ((-2.0, 5.0, -4.0), (1.5, -0.5, 3.0)):
        where = f"backprop_by_hand(x={x:g}, y={y:g}, z={z:g})"
        value = _hand_values(where, _call(backprop_by_hand, x, y, z))
        check_value(where, value, _reference_backprop_by_hand(x, y, z), _backprop_by_hand_mistakes(x, y, z))
    passed("backprop_by_hand")


def _reference_tape_gradients(name, values):
    """Hand-derived gradients of the check's two functions (NumPy)."""
    if name == "(x + y) z":
        x, y, z = values
        return np.array([z, z, x + y])
    a, b = values  # a^2 b + sin(b)
    return np.array([2 * a * b, a * a + np.cos(b)])


def check_tape_gradients(tape_gradients):
    """Checks `tape_gradients(fn, values)`: one gradient per input of `fn`, at constant (unwatched) inputs."""
    import tensorflow as tf

    cases = [
        ("(x + y) z", lambda x, y, z: (x + y) * z, [-2.0, 5.0, -4.0]),
        ("a^2 b + sin(b)", lambda a, b: a * a * b + tf.sin(b), [1.5, 0.5]),
    ]
    for name, fn, values in cases:
        where = f"tape_gradients(f, {values}) with f = {name}"
        try:
            out = _call(tape_gradients, fn, list(values))
        except RuntimeError as error:
            if "non-persistent" in str(error):
                fail(
                    where,
                    "a non-persistent tape gives gradients once: ask for all of them in ONE "
                    "tape.gradient(f, [x, y, z]) call, or open the tape with persistent=True",
                )
            raise
        expect_true(where, isinstance(out, (list, tuple)), "must return a list: one gradient per input")
        expect_true(
            where,
            all(gradient is not None for gradient in out),
            "the tape returned None: it watches trainable tf.Variables automatically, but not tf.constant "
            "tensors. Call tape.watch(t) on each input inside the `with tf.GradientTape() as tape:` block",
        )
        value = np.array([float(as_float_array(where, gradient)) for gradient in out])
        check_value(where, value, _reference_tape_gradients(name, values), rtol=1e-5, atol=1e-6)
    passed("tape_gradients")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: a micrograd-style engine. An expression is a tree: a leaf name (str), ("tanh", e) or
# (op, e1, e2) with op in "add", "mul", "max".


def random_expression(seed, leaves=("a", "b", "c"), depth=3):
    """A random expression tree over `leaves` with add, mul, max and tanh (leaves may repeat).

    Example:

    >>> random_expression(0)
    ('mul', ('max', 'c', 'a'), ('tanh', 'b'))   # for instance

    Args:
        seed: Integer. Seeds NumPy's generator.
        leaves: Tuple of strings. The inputs' names.
        depth: Integer >= 1. The depth of the tree.

    Returns:
        A nested tuple.
    """
    rng = np.random.default_rng(seed)

    def build(level):
        if level == 0:
            return str(rng.choice(leaves))
        op = str(rng.choice(["add", "mul", "max", "tanh", "mul"]))
        if op == "tanh":
            return ("tanh", build(level - 1))
        return (op, build(level - 1), build(level - 1 if rng.random() < 0.7 else 0))

    return build(depth)


def engine_gradients(Value, expression, inputs):
    """Builds `expression` with the student's `Value` class, runs `backward()` and returns the gradients.

    Example:

    >>> engine_gradients(Value, ("mul", ("add", "x", "y"), "z"), {"x": -2.0, "y": 5.0, "z": -4.0})
    array([-12., -4., -4., 3.])

    Args:
        Value: The engine's node class: `Value(data)`, `+`, `*`, `.maximum(other)`, `.tanh()`, `.backward()`.
        expression: A tree as `random_expression` returns.
        inputs: Dict leaf name -> float.

    Returns:
        Array [output value, grad of each input in `inputs`' order].
    """
    leaves = {name: Value(float(value)) for name, value in inputs.items()}

    def build(node):
        if isinstance(node, str):
            return leaves[node]
        if node[0] == "tanh":
            return build(node[1]).tanh()
        left, right = build(node[1]), build(node[2])
        if node[0] == "add":
            return left + right
        if node[0] == "mul":
            return left * right
        return left.maximum(right)

    out = build(expression)
    out.backward()
    return np.array([float(out.data)] + [float(leaves[name].grad) for name in inputs])


def _reference_engine(expression, inputs):
    """[output, d out / d input...] by tf.GradientTape in float64 (the independent reference)."""
    import tensorflow as tf

    tensors = {name: tf.constant(float(value), dtype=tf.float64) for name, value in inputs.items()}
    ops = {"add": tf.add, "mul": tf.multiply, "max": tf.maximum}

    def build(node):
        if isinstance(node, str):
            return tensors[node]
        if node[0] == "tanh":
            return tf.tanh(build(node[1]))
        return ops[node[0]](build(node[1]), build(node[2]))

    with tf.GradientTape() as tape:
        for tensor in tensors.values():
            tape.watch(tensor)
        out = build(expression)
    gradients = tape.gradient(out, list(tensors.values()), unconnected_gradients="zero")
    return np.array([float(out.numpy())] + [float(g.numpy()) for g in gradients])


def _mistaken_engine(expression, inputs, mistake):
    """The engine with one slip in its backward pass: nodes in a graph, backward in (reverse) topological order."""
    nodes = []  # (op, children, data), children as node indices

    leaf_index = {}
    for name, value in inputs.items():
        leaf_index[name] = len(nodes)
        nodes.append(("leaf", (), float(value)))

    def build(node):
        if isinstance(node, str):
            return leaf_index[node]
        children = tuple(build(child) for child in node[1:])
        data = [nodes[c][2] for c in children]
        value = {
            "add": lambda: data[0] + data[1],
            "mul": lambda: data[0] * data[1],
            "max": lambda: max(data),
            "tanh": lambda: np.tanh(data[0]),
        }[node[0]]()
        nodes.append((node[0], children, value))
        return len(nodes) - 1

    out = build(expression)
    grads = [0.0] * len(nodes)
    grads[out] = 0.0 if mistake == "no_seed" else 1.0
    order = range(len(nodes)) if mistake == "forward_order" else reversed(range(len(nodes)))

    def give(child, amount):
        grads[child] = amount if mistake == "overwrite" else grads[child] + amount

    for index in order:
        op, children, value = nodes[index]
        upstream = grads[index]
        if op == "add":
            for child in children:
                give(child, upstream)
        elif op == "mul":
            a, b = (nodes[c][2] for c in children)
            own = mistake == "mul_own"
            give(children[0], upstream * (a if own else b))
            give(children[1], upstream * (b if own else a))
        elif op == "max":
            a, b = (nodes[c][2] for c in children)
            if mistake == "max_both":
                give(children[0], upstream)
                give(children[1], upstream)
            else:
                winner = (0 if a >= b else 1) if mistake != "max_smaller" else (1 if a >= b else 0)
                give(children[winner], upstream)
                give(children[1 - winner], 0.0)
        elif op == "tanh":
            x = nodes[children[0]][2]
            local = 1.0 - x * x if mistake == "tanh_input" else 1.0 - value * value
            give(children[0], upstream * local)
    return np.array([nodes[out][2]] + [grads[leaf_index[name]] for name in inputs])


def _engine_mistakes(expression, inputs):
    return [
        (
            "mul gate: each input gets the upstream gradient times the OTHER input (a switcher); you used its "
            "own value",
            lambda: _mistaken_engine(expression, inputs, "mul_own"),
        ),
        (
            "max gate: the whole upstream gradient goes to the larger input only (a router), the other gets 0; "
            "you sent it to both",
            lambda: _mistaken_engine(expression, inputs, "max_both"),
        ),
        (
            "max gate: the gradient goes to the LARGER input (the one max returned); you routed it to the smaller",
            lambda: _mistaken_engine(expression, inputs, "max_smaller"),
        ),
        (
            "tanh: the local gradient is 1 - tanh(x)^2, i.e. 1 - out.data**2; you used 1 - x**2",
            lambda: _mistaken_engine(expression, inputs, "tanh_input"),
        ),
        (
            "gradients must accumulate (+=): a node used twice (x * x, or an input in two places) receives the "
            "sum over its paths; you overwrote it (=)",
            lambda: _mistaken_engine(expression, inputs, "overwrite"),
        ),
        (
            "set the output's grad to 1.0 (dOut/dOut = 1) before calling the nodes' _backward",
            lambda: _mistaken_engine(expression, inputs, "no_seed"),
        ),
        (
            "wrong order: call _backward in REVERSE topological order (the output first, so that each node's "
            "grad is complete before it is passed on to its children)",
            lambda: _mistaken_engine(expression, inputs, "forward_order"),
        ),
    ]


def check_engine(Value):
    """Checks the `Value` engine: the seed's example, a node used twice, and random expressions vs GradientTape."""
    cases = [
        (("mul", ("add", "x", "y"), "z"), {"x": -2.0, "y": 5.0, "z": -4.0}),
        (("add", ("mul", "x", "x"), ("max", "x", "y")), {"x": 1.5, "y": -0.5}),
        (("mul", ("tanh", ("mul", "x", "y")), ("max", "y", "z")), {"x": 0.3, "y": -1.2, "z": -2.0}),
    ]
    rng = np.random.default_rng(12)
    for seed in range(6):
        cases.append((random_expression(seed), dict(zip("abc", rng.uniform(-2.0, 2.0, size=3).round(3)))))
    for expression, inputs in cases:
        where = f"Value engine on {expression} at {inputs}: [out, grads of {', '.join(inputs)}]"
        value = as_float_array(where, _call(engine_gradients, Value, expression, inputs))
        check_value(
            where,
            value,
            _reference_engine(expression, inputs),
            _engine_mistakes(expression, inputs),
            rtol=1e-6,
            atol=1e-9,
        )
    passed("engine")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 3: losses by hand (batch means)


_FLOAT32_TOP = float(np.float32(1.0 - 1e-7))  # 1 - eps rounded in float32, where Keras clips


def _log_clip(p, top=1.0 - _EPSILON):
    return np.log(np.clip(p, _EPSILON, top))


def _reference_mse(y_true, y_pred, *, reduce=np.mean, power=2.0):
    """MSE = mean((y - y_hat)^2) over every entry (the seed's L = 1/n sum (y - y*)^2)."""
    return float(reduce(np.abs(y_true - y_pred) ** power))


def _mse_mistakes(y_true, y_pred):
    return [
        (
            "you summed the squared errors: MSE is the MEAN, (1/n) * sum",
            _reference_mse(y_true, y_pred, reduce=np.sum),
        ),
        (
            "that is the mean ABSOLUTE error: square the differences",
            _reference_mse(y_true, y_pred, power=1.0),
        ),
        (
            "you halved it: the MSE of the seed and of keras.losses has no 1/2",
            0.5 * _reference_mse(y_true, y_pred),
        ),
        (
            "that is the root of the MSE (RMSE): leave out the square root",
            np.sqrt(_reference_mse(y_true, y_pred)),
        ),
    ]


def _reference_binary_cross_entropy(y_true, p, *, reduce=np.mean, negative_term=True, top=1.0 - _EPSILON):
    """BCE = -mean(y log p + (1 - y) log(1 - p)), p clipped into [eps, 1 - eps] (as Keras)."""
    p = np.clip(p, _EPSILON, top)
    losses = y_true * np.log(p) + ((1 - y_true) * np.log(1 - p) if negative_term else 0.0)
    return float(-reduce(losses))


def _binary_cross_entropy_mistakes(y_true, p):
    return [
        (
            "you forgot the (1 - y) log(1 - p) term: with y = 0 the loss must still punish a large p",
            _reference_binary_cross_entropy(y_true, p, negative_term=False),
        ),
        (
            "the sign is flipped: log p <= 0, so the loss is -mean(...)",
            -_reference_binary_cross_entropy(y_true, p),
        ),
        (
            "you summed over the batch: the loss is the mean over the examples",
            _reference_binary_cross_entropy(y_true, p, reduce=np.sum),
        ),
    ]


def _reference_binary_cross_entropy_from_logits(y_true, z, *, reduce=np.mean):
    """Stable BCE from logits: mean(max(z, 0) - z y + log(1 + exp(-|z|))) (= tf.nn.sigmoid_cross_entropy_with_logits)."""
    return float(reduce(np.maximum(z, 0.0) - z * y_true + np.log1p(np.exp(-np.abs(z)))))


def _binary_cross_entropy_from_logits_mistakes(y_true, z):
    return [
        (
            "you took the cross-entropy of the logits as if they were probabilities (from_logits=False): "
            "apply the sigmoid first, or use the stable logits formula max(z, 0) - z y + log(1 + exp(-|z|))",
            _reference_binary_cross_entropy(y_true, z),
        ),
        (
            "you took the cross-entropy of the logits as if they were probabilities (from_logits=False): "
            "apply the sigmoid first, or use the stable logits formula max(z, 0) - z y + log(1 + exp(-|z|))",
            _reference_binary_cross_entropy(y_true, z, top=_FLOAT32_TOP),
        ),
        (
            "you summed over the batch: the loss is the mean over the examples",
            _reference_binary_cross_entropy_from_logits(y_true, z, reduce=np.sum),
        ),
        (
            "the sign of z is flipped: the loss of label y = 1 is log(1 + exp(-z)) (that is -log sigmoid(z))",
            _reference_binary_cross_entropy_from_logits(y_true, -z),
        ),
    ]


def _reference_categorical_cross_entropy(y_true, p, *, reduce=np.mean, axis=-1, top=1.0 - _EPSILON):
    """CCE = mean_i -sum_k y_ik log p_ik, p clipped into [eps, 1 - eps]."""
    return float(reduce(-np.sum(y_true * _log_clip(p, top), axis=axis)))


def _categorical_cross_entropy_mistakes(y_true, p):
    return [
        (
            "you summed over the batch: the loss is the mean over the examples",
            _reference_categorical_cross_entropy(y_true, p, reduce=np.sum),
        ),
        (
            "you took the mean over all m * K entries: sum over the classes first, then average over the examples",
            _reference_categorical_cross_entropy(y_true, p) / y_true.shape[-1],
        ),
        (
            "that is the binary cross-entropy summed over the classes (it adds (1 - y) log(1 - p)); the categorical "
            "loss is only -sum_k y_k log p_k",
            _reference_categorical_cross_entropy(y_true, p)
            + _reference_categorical_cross_entropy(1 - y_true, 1 - p),
        ),
    ]


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _reference_categorical_cross_entropy_from_logits(y_true, z, *, reduce=np.mean):
    """Stable CCE from logits: mean_i (logsumexp(z_i) - sum_k y_ik z_ik) (= softmax_cross_entropy_with_logits)."""
    return float(reduce(-np.sum(y_true * _log_softmax(z), axis=-1)))


def _categorical_cross_entropy_from_logits_mistakes(y_true, z):
    return [
        (
            "you took the cross-entropy of the logits as if they were probabilities (from_logits=False): "
            "apply the softmax first (log_softmax(z) = z - logsumexp(z)), or from_logits=True in Keras",
            lambda: _reference_categorical_cross_entropy(y_true, z),
        ),
        (
            "you took the cross-entropy of the logits as if they were probabilities (from_logits=False): "
            "apply the softmax first (log_softmax(z) = z - logsumexp(z)), or from_logits=True in Keras",
            lambda: _reference_categorical_cross_entropy(y_true, z / z.sum(axis=-1, keepdims=True)),
        ),
        (
            "you took the cross-entropy of the logits as if they were probabilities (from_logits=False): "
            "apply the softmax first (log_softmax(z) = z - logsumexp(z)), or from_logits=True in Keras",
            lambda: _reference_categorical_cross_entropy(
                y_true, z / z.sum(axis=-1, keepdims=True), top=_FLOAT32_TOP
            ),
        ),
        (
            "you summed over the batch: the loss is the mean over the examples",
            _reference_categorical_cross_entropy_from_logits(y_true, z, reduce=np.sum),
        ),
    ]


def _reference_kl_divergence(p, q, *, reduce=np.mean, entropy=True):
    """KL(p || q) = mean_i sum_k p log(p / q) = H(p, q) - H(p); p and q clipped into [eps, 1] (as Keras)."""
    p_clip, q_clip = np.clip(p, _EPSILON, 1.0), np.clip(q, _EPSILON, 1.0)
    cross = -np.sum(p * np.log(q_clip), axis=-1)
    own = -np.sum(p * np.log(p_clip), axis=-1) if entropy else 0.0
    return float(reduce(cross - own))


def _kl_divergence_mistakes(p, q):
    return [
        (
            "KL is not symmetric: D_KL(p || q) = sum p log(p / q) with p the label distribution (first argument); "
            "you computed D_KL(q || p)",
            _reference_kl_divergence(q, p),
        ),
        (
            "that is the cross-entropy H(p, q); the KL divergence subtracts the entropy: D_KL = H(p, q) - H(p)",
            _reference_kl_divergence(p, q, entropy=False),
        ),
        ("the sign is flipped: D_KL(p || q) = sum p log(p / q) >= 0", -_reference_kl_divergence(p, q)),
        (
            "you summed over the batch: the loss is the mean over the examples",
            _reference_kl_divergence(p, q, reduce=np.sum),
        ),
    ]


def _reference_multiclass_svm_loss(
    scores, labels, W, reg, *, skip_correct=True, penalty=1.0, reduce=np.mean, over="sum"
):
    """cs231n's multiclass SVM loss with weight decay (the seed's formula).

    ```
    L = (1/N) sum_i sum_{j != y_i} max(0, s_ij - s_i,y_i + 1) + reg * sum(W^2)
    ```
    """
    correct = scores[np.arange(len(scores)), labels][:, None]
    margins = np.maximum(0.0, scores - correct + 1.0)
    if skip_correct:
        margins[np.arange(len(scores)), labels] = 0.0
    per_example = margins.sum(axis=1) if over == "sum" else margins.max(axis=1)
    return float(reduce(per_example) + penalty * reg * np.sum(W * W))


def _multiclass_svm_loss_mistakes(scores, labels, W, reg):
    reference = _reference_multiclass_svm_loss
    return [
        (
            "you counted the correct class's margin: j = y_i adds max(0, s_y - s_y + 1) = 1 per example; the sum "
            "runs over j != y_i only",
            reference(scores, labels, W, reg, skip_correct=False),
        ),
        ("you forgot the weight decay reg * sum(W^2)", reference(scores, labels, W, reg, penalty=0.0)),
        ("the weight decay is reg * sum(W^2), without 1/2", reference(scores, labels, W, reg, penalty=0.5)),
        (
            "you summed over the examples: the data loss is (1/N) sum_i",
            reference(scores, labels, W, reg, reduce=np.sum),
        ),
        (
            "that is the max over j (Crammer-Singer, keras.losses.CategoricalHinge); the seed's multiclass SVM "
            "loss SUMS the margins over j != y_i",
            reference(scores, labels, W, reg, over="max"),
        ),
    ]


def _loss_inputs():
    rng = np.random.default_rng(3)
    labels = np.array([0, 2, 1, 2, 0])
    one_hot = np.eye(3)[labels]
    logits = rng.normal(scale=2.0, size=(5, 3))
    probabilities = np.exp(_log_softmax(logits))
    binary = np.array([[1.0], [0.0], [1.0], [0.0], [1.0], [1.0]])
    binary_logits = np.array([[2.0], [-1.5], [-0.5], [3.0], [0.2], [-4.0]])
    return labels, one_hot, logits, probabilities, binary, binary_logits


def _check_loss(name, function, args, reference, mistakes, extreme=None):
    where = f"{name} on a batch of {len(args[0])} examples"
    value = _scalar(where, _call(function, *[np.array(a, copy=True) for a in args]))
    check_value(where, value, reference(*args), mistakes(*args), rtol=1e-5, atol=1e-7)
    if extreme is not None:
        extreme_args, message = extreme
        where = f"{name} on extreme inputs {[a.tolist() for a in extreme_args]}"
        value = _scalar(where, _call(function, *extreme_args))
        expect_true(where, np.isfinite(value), message)
        check_value(where, value, reference(*extreme_args), rtol=1e-4, atol=1e-5)
    passed(name)


def check_mse(mse):
    """Checks `mse(y_true, y_pred)`: the mean of the squared errors."""
    y_true = np.array([[1.0, -0.5], [2.0, 0.0], [0.5, 3.0]])
    y_pred = np.array([[0.5, 0.5], [2.5, -1.0], [0.0, 1.0]])
    _check_loss("mse", mse, (y_true, y_pred), _reference_mse, _mse_mistakes)


def check_binary_cross_entropy(binary_cross_entropy):
    """Checks `binary_cross_entropy(y_true, p)` from probabilities, finite at p = 0 and p = 1."""
    y_true = np.array([[1.0], [0.0], [1.0], [0.0], [1.0]])
    p = np.array([[0.9], [0.2], [0.4], [0.7], [0.55]])
    extreme = (
        (np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]])),
        "got NaN or inf: log(0) = -inf. Clip p into [eps, 1 - eps] (Keras: eps = 1e-7) before the logs",
    )
    _check_loss(
        "binary_cross_entropy",
        binary_cross_entropy,
        (y_true, p),
        _reference_binary_cross_entropy,
        _binary_cross_entropy_mistakes,
        extreme,
    )


def check_binary_cross_entropy_from_logits(binary_cross_entropy_from_logits):
    """Checks `binary_cross_entropy_from_logits(y_true, z)`: stable for logits of +-1000."""
    _, _, _, _, binary, binary_logits = _loss_inputs()
    extreme = (
        (np.array([[1.0], [0.0], [1.0]]), np.array([[1000.0], [1000.0], [-1000.0]])),
        "got NaN or inf on logits of +-1000: exp(1000) overflows. Use the stable form "
        "max(z, 0) - z * y + log(1 + exp(-|z|))",
    )
    _check_loss(
        "binary_cross_entropy_from_logits",
        binary_cross_entropy_from_logits,
        (binary, binary_logits),
        _reference_binary_cross_entropy_from_logits,
        _binary_cross_entropy_from_logits_mistakes,
        extreme,
    )


def check_categorical_cross_entropy(categorical_cross_entropy):
    """Checks `categorical_cross_entropy(y_true, p)` from probabilities, finite when p has zeros."""
    _, one_hot, _, probabilities, _, _ = _loss_inputs()
    extreme = (
        (np.eye(3)[[0, 1]], np.array([[0.0, 0.5, 0.5], [0.0, 1.0, 0.0]])),
        "got NaN or inf: p has an exact 0 and log(0) = -inf. Clip p into [eps, 1 - eps] before the log",
    )
    _check_loss(
        "categorical_cross_entropy",
        categorical_cross_entropy,
        (one_hot, probabilities),
        _reference_categorical_cross_entropy,
        _categorical_cross_entropy_mistakes,
        extreme,
    )


def check_categorical_cross_entropy_from_logits(categorical_cross_entropy_from_logits):
    """Checks `categorical_cross_entropy_from_logits(y_true, z)`: log-softmax, stable for logits of 1000."""
    _, one_hot, logits, _, _, _ = _loss_inputs()
    extreme = (
        (np.eye(3)[[2, 0]], np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])),
        "got NaN or inf on logits of 1000: exp(1000) overflows. Subtract each row's max before exp "
        "(log_softmax(z) = (z - max) - log(sum(exp(z - max))))",
    )
    _check_loss(
        "categorical_cross_entropy_from_logits",
        categorical_cross_entropy_from_logits,
        (one_hot, logits),
        _reference_categorical_cross_entropy_from_logits,
        _categorical_cross_entropy_from_logits_mistakes,
        extreme,
    )


def check_kl_divergence(kl_divergence):
    """Checks `kl_divergence(p, q)` on soft labels, and that a one-hot p gives the cross-entropy (H(p) = 0)."""
    p = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.25, 0.25, 0.5]])
    q = np.array([[0.4, 0.4, 0.2], [0.3, 0.2, 0.5], [0.6, 0.2, 0.2]])
    extreme = (
        (np.eye(3)[[0, 2]], np.array([[0.7, 0.2, 0.1], [0.2, 0.2, 0.6]])),
        "got NaN for a one-hot p: 0 * log(0) is nan. Clip p and q into [eps, 1] before the log (Keras does)",
    )
    _check_loss(
        "kl_divergence", kl_divergence, (p, q), _reference_kl_divergence, _kl_divergence_mistakes, extreme
    )


def check_multiclass_svm_loss(multiclass_svm_loss):
    """Checks `multiclass_svm_loss(scores, labels, W, reg)` (cs231n's hinge loss with weight decay)."""
    scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1], [0.5, 0.1, 0.4]])
    labels = np.array([0, 1, 2, 0])
    W = np.array([[0.2, -0.5, 0.1], [1.5, 1.3, -0.2]])
    args = (scores, labels, W, 0.1)
    where = "multiclass_svm_loss(scores, labels, W, reg=0.1) on 4 examples, 3 classes"
    value = _scalar(where, _call(multiclass_svm_loss, scores.copy(), labels.copy(), W.copy(), 0.1))
    check_value(where, value, _reference_multiclass_svm_loss(*args), _multiclass_svm_loss_mistakes(*args))
    passed("multiclass_svm_loss")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 4: gradient descent by hand (linear regression), GradientTape + tf.data (logistic regression)


def _reference_linear_regression_gd(
    x, y, learning_rate, num_iterations, *, factor=2.0, sign=1.0, average=True, record_after=False
):
    """Full-batch gradient descent on J(w, b) = mean((x w + b - y)^2) from w = 0, b = 0.

    ```
    r = x w + b - y;  dJ/dw = (2/m) x^T r;  dJ/db = (2/m) sum(r)
    w -= lr * dJ/dw;  b -= lr * dJ/db        (losses[i] = J before step i)
    ```
    """
    m, n = x.shape
    w, b = np.zeros(n), 0.0
    losses = []
    for _ in range(num_iterations):
        residual = x @ w + b - y
        if not record_after:
            losses.append(float(np.mean(residual**2)))
        scale = factor / m if average else factor
        w = w - sign * learning_rate * scale * (x.T @ residual)
        b = b - sign * learning_rate * scale * np.sum(residual)
        if record_after:
            losses.append(float(np.mean((x @ w + b - y) ** 2)))
    return w, b, losses


def _flat_linear(result):
    w, b, losses = result
    return np.concatenate([np.ravel(w), [b], losses])


def _linear_regression_gd_mistakes(x, y, learning_rate, num_iterations):
    args = (x, y, learning_rate, num_iterations)
    return [
        (
            "your gradient misses the 2 of d/dw (x w + b - y)^2 = 2 (x w + b - y) x: dJ/dw = (2/m) x^T (x w + b - y)",
            lambda: _flat_linear(_reference_linear_regression_gd(*args, factor=1.0)),
        ),
        (
            "you stepped uphill: gradient DESCENT subtracts, w <- w - learning_rate * dJ/dw",
            lambda: _flat_linear(_reference_linear_regression_gd(*args, sign=-1.0)),
        ),
        (
            "your gradient is summed over the m examples: J is a mean, so dJ/dw = (2/m) x^T r",
            lambda: _flat_linear(_reference_linear_regression_gd(*args, average=False)),
        ),
        (
            "losses[i] must be the loss BEFORE step i (losses[0] = J(0, 0) = mean(y^2)); you recorded it after",
            lambda: _flat_linear(_reference_linear_regression_gd(*args, record_after=True)),
        ),
    ]


def _line_data():
    rng = np.random.default_rng(4)
    x = rng.uniform(-1.0, 1.0, size=(20, 2))
    y = x @ np.array([1.5, -2.0]) + 0.5 + rng.normal(scale=0.1, size=20)
    return x, y


def check_linear_regression_gd(linear_regression_gd):
    """Checks `linear_regression_gd(x, y, learning_rate, num_iterations)` -> (w, b, losses) on 20 points."""
    x, y = _line_data()
    where = "linear_regression_gd(x, y, learning_rate=0.1, num_iterations=15) on 20 points, 2 features"
    out = _call(linear_regression_gd, x.copy(), y.copy(), 0.1, 15)
    expect_true(where, isinstance(out, (tuple, list)) and len(out) == 3, "must return a tuple (w, b, losses)")
    w, b, losses = (as_float_array(where, value) for value in out)
    expect_shape(f"{where}: w", w, (2,))
    expect_true(where, b.size == 1, f"b must be one number, got shape {b.shape}")
    expect_true(
        where, losses.shape == (15,), f"losses must hold one number per iteration (15), got {losses.shape}"
    )
    value = np.concatenate([w, b.reshape(1), losses])
    expected = _flat_linear(_reference_linear_regression_gd(x, y, 0.1, 15))
    check_value(where, value, expected, _linear_regression_gd_mistakes(x, y, 0.1, 15), rtol=1e-6, atol=1e-9)
    passed("linear_regression_gd")


def _reference_logistic_full_batch(x, y, num_epochs, learning_rate, *, scale=1.0, loss_scale=1.0):
    """Full-batch gradient descent on the mean binary cross-entropy of sigmoid(x w + b), from zeros (NumPy).

    ```
    p = sigmoid(x w + b);  dJ/dw = x^T (p - y) / m;  dJ/db = mean(p - y)
    ```
    Returns [w..., b, loss of each epoch (before its step)].
    """
    m, n = x.shape
    w, b = np.zeros(n), 0.0
    losses = []
    for _ in range(num_epochs):
        z = x @ w + b
        losses.append(loss_scale * _reference_binary_cross_entropy_from_logits(y, z))
        error = 1.0 / (1.0 + np.exp(-z)) - y
        w = w - learning_rate * scale * x.T @ error / m
        b = b - learning_rate * scale * np.mean(error)
    return np.concatenate([w, [b], losses])


def _logistic_mistakes(x, y, num_epochs, learning_rate):
    message = (
        "your loss is SUMMED over the batch, so the steps are m times too large: take the mean "
        "(tf.reduce_mean) of the per-example losses"
    )
    m = len(x)
    return [
        (
            message,
            lambda: _reference_logistic_full_batch(x, y, num_epochs, learning_rate, scale=m, loss_scale=m),
        ),
        (message, lambda: _reference_logistic_full_batch(x, y, num_epochs, learning_rate, scale=m)),
    ]


def _separable_2d():
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.normal(-1.0, 0.6, size=(30, 2)), rng.normal(1.0, 0.6, size=(30, 2))])
    y = np.concatenate([np.zeros(30), np.ones(30)])
    return x.astype(np.float32), y.astype(np.float32)


def check_train_logistic_regression(train_logistic_regression):
    """Checks `train_logistic_regression(x, y, num_epochs, learning_rate, batch_size, seed)` -> (w, b, losses):
    full-batch values against NumPy, and mini-batches: shapes, a falling loss, reproducibility."""
    x, y = _separable_2d()
    where = (
        "train_logistic_regression(x, y, num_epochs=10, learning_rate=0.5, batch_size=60) (one full batch)"
    )
    out = _call(train_logistic_regression, x.copy(), y.copy(), 10, 0.5, 60, seed=0)
    expect_true(where, isinstance(out, (tuple, list)) and len(out) == 3, "must return a tuple (w, b, losses)")
    w, b, losses = (as_float_array(where, value) for value in out)
    expect_true(where, w.size == 2, f"w must hold 2 weights (one per feature), got shape {w.shape}")
    expect_true(where, b.size == 1, f"b must be one number, got shape {b.shape}")
    expect_true(
        where, losses.shape == (10,), f"losses must hold one number per epoch (10), got {losses.shape}"
    )
    # Not a known mistake but a wrong first loss: say what it should be rather than name an element.
    first_loss = (
        None
        if abs(losses[0] - np.log(2.0)) < 1e-4
        else f"the first epoch's loss {losses[0]:.5g} is not ln 2 = {np.log(2.0):.5g}, the loss of w = 0, b = 0: "
        "start from zeros, compute the mean loss from the LOGITS (from_logits=True) and record the loss "
        "of each batch before its step"
    )
    value = np.concatenate([w.ravel(), b.reshape(1), losses])
    check_value(
        where,
        value,
        _reference_logistic_full_batch(x.astype(float), y.astype(float), 10, 0.5),
        _logistic_mistakes(x.astype(float), y.astype(float), 10, 0.5),
        rtol=1e-4,
        atol=1e-5,
        otherwise=first_loss,
    )

    where = "train_logistic_regression(x, y, num_epochs=5, learning_rate=0.5, batch_size=16, seed=0)"
    first = [
        as_float_array(where, v)
        for v in _call(train_logistic_regression, x.copy(), y.copy(), 5, 0.5, 16, seed=0)
    ]
    expect_true(
        where, first[2].shape == (5,), f"losses must hold one number per epoch (5), got {first[2].shape}"
    )
    expect_true(where, first[2][-1] < first[2][0], "the loss did not fall over 5 epochs of mini-batches")
    again = [
        as_float_array(where, v)
        for v in _call(train_logistic_regression, x.copy(), y.copy(), 5, 0.5, 16, seed=0)
    ]
    expect_true(
        where,
        np.allclose(again[0], first[0]),
        "two runs with seed=0 gave different w: shuffle with dataset.shuffle(m, seed=seed)",
    )
    passed("train_logistic_regression")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 5: the DLS C2W3 pipeline (one_hot, Glorot tf.Variables, forward propagation, total loss, Adam step)


def _reference_one_hot(labels, depth):
    return np.eye(depth)[np.asarray(labels)]


def check_one_hot_matrix(one_hot_matrix):
    """Checks `one_hot_matrix(labels, depth)`: shape (m, depth), a single 1 per row at the label."""
    labels = np.array([1, 0, 3, 2, 3])
    where = "one_hot_matrix([1, 0, 3, 2, 3], depth=4)"
    value = as_float_array(where, _call(one_hot_matrix, labels.copy(), 4))
    if value.shape == (4, 5):
        fail(
            where,
            "got shape (depth, m): Keras puts one example per row, (m, depth) (DLS's columns are transposed)",
        )
    expect_shape(where, value, (5, 4))
    check_value(where, value, _reference_one_hot(labels, 4), atol=0.0, rtol=0.0)
    passed("one_hot_matrix")


def _reference_initialize_parameters(layer_sizes, seed):
    """W{l} = keras.initializers.GlorotNormal(seed=seed + l)(shape=(n_{l-1}, n_l)), b{l} = zeros(n_l)."""
    import keras

    parameters = {}
    for layer in range(1, len(layer_sizes)):
        shape = (layer_sizes[layer - 1], layer_sizes[layer])
        initializer = keras.initializers.GlorotNormal(seed=seed + layer)
        parameters[f"W{layer}"] = np.asarray(
            keras.ops.convert_to_numpy(initializer(shape=shape)), dtype=float
        )
        parameters[f"b{layer}"] = np.zeros(layer_sizes[layer])
    return parameters


def _initialize_mistakes(layer_sizes, seed):
    import keras

    def uniform():
        flat = []
        for layer in range(1, len(layer_sizes)):
            shape = (layer_sizes[layer - 1], layer_sizes[layer])
            initializer = keras.initializers.GlorotUniform(seed=seed + layer)
            flat.append(np.ravel(keras.ops.convert_to_numpy(initializer(shape=shape))))
            flat.append(np.zeros(layer_sizes[layer]))
        return np.concatenate(flat)

    def one_seed():
        flat = []
        for layer in range(1, len(layer_sizes)):
            shape = (layer_sizes[layer - 1], layer_sizes[layer])
            flat.append(
                np.ravel(keras.ops.convert_to_numpy(keras.initializers.GlorotNormal(seed=seed)(shape=shape)))
            )
            flat.append(np.zeros(layer_sizes[layer]))
        return np.concatenate(flat)

    return [
        ("you drew from GlorotUniform: use keras.initializers.GlorotNormal (DLS's choice)", uniform),
        (
            "every layer used the same seed: give layer l its own initializer, GlorotNormal(seed=seed + l) (a "
            "seeded Keras 3 initializer repeats its values)",
            one_seed,
        ),
    ]


def check_initialize_parameters(initialize_parameters):
    """Checks `initialize_parameters(layer_sizes, seed)`: tf.Variables W{l} (n_{l-1}, n_l), b{l} zeros (n_l,)."""
    import tensorflow as tf

    sizes, seed = [6, 4, 3], 2
    where = f"initialize_parameters({sizes}, seed={seed})"
    parameters = _call(initialize_parameters, sizes, seed=seed)
    expect_true(
        where,
        isinstance(parameters, dict) and set(parameters) == {"W1", "b1", "W2", "b2"},
        "must return a dict with the keys W1, b1, W2, b2",
    )
    for name, value in parameters.items():
        expect_true(
            f"{where}: {name}",
            isinstance(value, tf.Variable),
            f"{name} must be a tf.Variable (the tape watches trainable variables and the optimizer updates "
            f"them in place), got {type(value).__name__}",
        )
    reference = _reference_initialize_parameters(sizes, seed)
    for name in ("W1", "b1", "W2", "b2"):
        expect_shape(f"{where}: {name}", parameters[name].numpy(), reference[name].shape)
    value = np.concatenate([np.ravel(parameters[name].numpy()) for name in ("W1", "b1", "W2", "b2")])
    expected = np.concatenate([np.ravel(reference[name]) for name in ("W1", "b1", "W2", "b2")])
    check_value(where, value, expected, _initialize_mistakes(sizes, seed), rtol=1e-5, atol=1e-6)
    passed("initialize_parameters")


def _relu(a):
    return np.maximum(a, 0.0)


def _reference_forward_propagation(x, parameters, *, output_relu=False, hidden_relu=True):
    """Logits of LINEAR -> RELU -> ... -> LINEAR: a_l = relu(a_{l-1} W_l + b_l), logits = a_{L-1} W_L + b_L."""
    num_layers = len(parameters) // 2
    a = x
    for layer in range(1, num_layers + 1):
        z = a @ parameters[f"W{layer}"] + parameters[f"b{layer}"]
        last = layer == num_layers
        a = (_relu(z) if output_relu else z) if last else (_relu(z) if hidden_relu else z)
    return a


def _forward_mistakes(x, parameters):
    return [
        (
            "you applied ReLU to the last layer: forward_propagation returns the LOGITS (no activation); the "
            "softmax lives in the loss (from_logits=True)",
            _reference_forward_propagation(x, parameters, output_relu=True),
        ),
        (
            "the hidden layers need their ReLU: a_l = relu(a_{l-1} W_l + b_l)",
            _reference_forward_propagation(x, parameters, hidden_relu=False),
        ),
    ]


def _small_network():
    rng = np.random.default_rng(9)
    parameters = {
        "W1": rng.normal(size=(5, 4)) * 0.5,
        "b1": rng.normal(size=4) * 0.1,
        "W2": rng.normal(size=(4, 4)) * 0.5,
        "b2": rng.normal(size=4) * 0.1,
        "W3": rng.normal(size=(4, 3)) * 0.5,
        "b3": rng.normal(size=3) * 0.1,
    }
    x = rng.normal(size=(6, 5))
    labels = np.array([0, 2, 1, 1, 0, 2])
    return parameters, x, labels


def _as_variables(parameters):
    import tensorflow as tf

    return {name: tf.Variable(value.astype(np.float32)) for name, value in parameters.items()}


def check_forward_propagation(forward_propagation):
    """Checks `forward_propagation(x, parameters)`: LINEAR -> RELU -> LINEAR -> RELU -> LINEAR logits."""
    parameters, x, _ = _small_network()
    where = "forward_propagation(x, parameters) with 3 layers (5 -> 4 -> 4 -> 3) on 6 examples"
    value = as_float_array(where, _call(forward_propagation, x.astype(np.float32), _as_variables(parameters)))
    expect_shape(where, value, (6, 3))
    check_value(
        where,
        value,
        _reference_forward_propagation(x, parameters),
        _forward_mistakes(x, parameters),
        rtol=1e-5,
        atol=1e-5,
    )
    passed("forward_propagation")


def _reference_compute_total_loss(logits, labels_one_hot, *, reduce=np.sum):
    """DLS C2W3's total loss: the SUM over the batch of the categorical cross-entropy from logits."""
    return _reference_categorical_cross_entropy_from_logits(labels_one_hot, logits, reduce=reduce)


def _compute_total_loss_mistakes(logits, labels_one_hot):
    return [
        (
            "you returned the MEAN over the batch: compute_total_loss returns the SUM (DLS C2W3); the epoch's "
            "cost divides the summed losses by m once, at the end of the epoch",
            _reference_compute_total_loss(logits, labels_one_hot, reduce=np.mean),
        ),
        (
            "you took the cross-entropy of the logits as if they were probabilities: pass from_logits=True",
            lambda: _reference_categorical_cross_entropy(
                labels_one_hot, logits / logits.sum(-1, keepdims=True), reduce=np.sum
            ),
        ),
        (
            "you took the cross-entropy of the logits as if they were probabilities: pass from_logits=True",
            lambda: _reference_categorical_cross_entropy(
                labels_one_hot, logits / logits.sum(-1, keepdims=True), reduce=np.sum, top=_FLOAT32_TOP
            ),
        ),
        (
            "you took the cross-entropy of the logits as if they were probabilities: pass from_logits=True",
            lambda: _reference_categorical_cross_entropy(labels_one_hot, logits, reduce=np.sum),
        ),
    ]


def check_compute_total_loss(compute_total_loss):
    """Checks `compute_total_loss(logits, labels_one_hot)`: the batch SUM of the cross-entropy from logits."""
    _, one_hot, logits, _, _, _ = _loss_inputs()
    where = "compute_total_loss(logits, labels_one_hot) on 5 examples, 3 classes"
    value = _scalar(where, _call(compute_total_loss, logits.astype(np.float32), one_hot.astype(np.float32)))
    check_value(
        where,
        value,
        _reference_compute_total_loss(logits, one_hot),
        _compute_total_loss_mistakes(logits, one_hot),
        rtol=1e-5,
        atol=1e-5,
    )
    passed("compute_total_loss")


def _reference_train_steps(parameters, x, one_hot, learning_rate, steps, *, scale=1.0, loss_scale=1.0):
    """Plain SGD on the total (summed) loss, with hand-written backprop of the 3-layer net (NumPy).

    Returns [loss before each step..., the parameters after the last step flattened W1, b1, W2, b2, W3, b3].
    """
    params = {k: v.astype(float).copy() for k, v in parameters.items()}
    losses = []
    for _ in range(steps):
        a0 = x
        z1 = a0 @ params["W1"] + params["b1"]
        a1 = _relu(z1)
        z2 = a1 @ params["W2"] + params["b2"]
        a2 = _relu(z2)
        z3 = a2 @ params["W3"] + params["b3"]
        losses.append(loss_scale * _reference_compute_total_loss(z3, one_hot))
        dz3 = (np.exp(_log_softmax(z3)) - one_hot) * scale  # d(sum of losses)/dz3
        grads = {"W3": a2.T @ dz3, "b3": dz3.sum(0)}
        dz2 = dz3 @ params["W3"].T * (z2 > 0)
        grads.update({"W2": a1.T @ dz2, "b2": dz2.sum(0)})
        dz1 = dz2 @ params["W2"].T * (z1 > 0)
        grads.update({"W1": a0.T @ dz1, "b1": dz1.sum(0)})
        for name in params:
            params[name] = params[name] - learning_rate * grads[name]
    order = ("W1", "b1", "W2", "b2", "W3", "b3")
    return np.concatenate([losses] + [np.ravel(params[name]) for name in order])


def check_train_step(train_step):
    """Checks `train_step(parameters, optimizer, x, labels_one_hot)`: returns the batch's total loss and applies
    the optimizer to the gradients of that total loss (3 steps of SGD, against NumPy backprop)."""
    import keras

    parameters, x, labels = _small_network()
    one_hot = np.eye(3)[labels]
    variables = _as_variables(parameters)
    optimizer = keras.optimizers.SGD(learning_rate=0.05)
    where = (
        "3 calls of train_step(parameters, SGD(0.05), x, labels_one_hot) on 6 examples: [losses, parameters]"
    )
    losses = [
        _scalar(
            where, _call(train_step, variables, optimizer, x.astype(np.float32), one_hot.astype(np.float32))
        )
        for _ in range(3)
    ]
    order = ("W1", "b1", "W2", "b2", "W3", "b3")
    value = np.concatenate([np.ravel(losses)] + [np.ravel(variables[name].numpy()) for name in order])
    mistakes = [
        (
            "you differentiated the MEAN loss: train_step differentiates compute_total_loss (the SUM, as DLS); "
            "with SGD the steps are then m times smaller",
            lambda: _reference_train_steps(parameters, x, one_hot, 0.05, 3, scale=1.0 / len(x)),
        ),
        (
            "you differentiated the MEAN loss: train_step differentiates compute_total_loss (the SUM, as DLS); "
            "with SGD the steps are then m times smaller",
            lambda: _reference_train_steps(
                parameters, x, one_hot, 0.05, 3, scale=1.0 / len(x), loss_scale=1.0 / len(x)
            ),
        ),
    ]
    check_value(
        where, value, _reference_train_steps(parameters, x, one_hot, 0.05, 3), mistakes, rtol=2e-4, atol=2e-5
    )
    passed("train_step")
