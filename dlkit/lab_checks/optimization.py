"""Visible checks for lab 04 (optimization): mini-batches, exponentially weighted averages, momentum, RMSprop,
Adam, learning-rate decay and AdamW.

Each exercise follows `dlkit.lab_checks.expect`'s idiom: a private reference `_reference_<name>` (the formula
written out in NumPy), a table of known mistakes `_<name>_mistakes` on the same inputs, and a public
`check_<name>` that calls the student's function on small fixed inputs and hands its value to
`expect.check_value`. On a mismatch the check names the usual mistake it reproduces (a forgotten `1 - beta`,
Keras's signs, epsilon inside the square root, no bias correction, t counted from 0, the shuffle drawn with
another generator...) and otherwise reports the worst element. Structure is checked first (a list of pairs, a
smaller last mini-batch, X and Y shuffled together, arrays not modified in place). Adam is also run for ten steps
against `dlkit.optimizers.Adam` and `keras.optimizers.Adam`, AdamW against `keras.optimizers.AdamW`, the decay
schedules against Keras's `InverseTimeDecay(staircase=True)` and `ExponentialDecay`.
"""

import numpy as np

from dlkit.lab_checks.expect import check_value, expect_shape, expect_true, fail, passed

# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: random_mini_batches


def _reference_random_mini_batches(x, y, mini_batch_size, seed, generator=np.random.RandomState):
    """The mini-batches of one epoch: one shuffle of the rows, then consecutive slices.

    ```
    permutation = np.random.RandomState(seed).permutation(m)  # DLS: np.random.seed(seed); np.random.permutation(m)
    X, Y = X[permutation], Y[permutation]
    return [(X[k : k + mini_batch_size], Y[k : k + mini_batch_size]) for k in range(0, m, mini_batch_size)]
    ```

    Args:
        x, y: NumPy arrays of shapes (m, n_x) and (m, 1), one example per row.
        mini_batch_size: Integer.
        seed: Integer seed of the permutation.
        generator: Callable `generator(seed)` returning an object with a `permutation` method; the lab's is
            `np.random.RandomState` (the mistake table passes `np.random.default_rng`).

    Returns:
        A list of (mini_batch_X, mini_batch_Y) pairs, the last one smaller when m % mini_batch_size != 0.
    """
    permutation = generator(seed).permutation(len(x))
    x, y = x[permutation], y[permutation]
    return [
        (x[k : k + mini_batch_size], y[k : k + mini_batch_size]) for k in range(0, len(x), mini_batch_size)
    ]


def _example_order(batches):
    """The examples' indices in mini-batch order: column 0 of `_tagged_data`'s X holds each example's index."""
    return np.concatenate([np.asarray(batch_x)[:, 0] for batch_x, _ in batches])


def _random_mini_batches_mistakes(x, y, mini_batch_size, seed):
    """Known wrong orders of the examples (`_example_order` of the mini-batches) on the same inputs."""
    return [
        (
            "the examples come out in their original order: shuffle X and Y (step 1) before partitioning",
            x[:, 0],
        ),
        (
            f"the shuffle order differs from np.random.RandomState(seed).permutation(m) (seed={seed}): draw the "
            f"permutation with that generator (or np.random.seed(seed); np.random.permutation(m)) so results are "
            f"reproducible",
            _example_order(
                _reference_random_mini_batches(x, y, mini_batch_size, seed, np.random.default_rng)
            ),
        ),
    ]


def _tagged_data(m, n_x=3):
    """X (m, n_x) and Y (m, 1) whose column 0 and Y itself hold the example's index: each batch shows its rows."""
    x = np.column_stack([np.arange(m, dtype=float)] + [np.arange(m) * (j + 2.0) for j in range(n_x - 1)])
    y = np.arange(m, dtype=float).reshape(m, 1)
    return x, y


def _check_batches(where, random_mini_batches, m, size, seed):
    """One case of `check_random_mini_batches`: structure first, then the examples' order."""
    x, y = _tagged_data(m)
    x_before, y_before = x.copy(), y.copy()
    batches = random_mini_batches(x, y, size, seed)
    expect_true(
        where,
        np.array_equal(x, x_before) and np.array_equal(y, y_before),
        "X or Y was modified in place: shuffle copies (X[permutation]), not the caller's arrays",
    )
    expect_true(
        where,
        isinstance(batches, list),
        f"must return a list of (mini_batch_X, mini_batch_Y) pairs, got {type(batches).__name__}",
    )
    expected = _reference_random_mini_batches(x_before, y_before, size, seed)
    expected_count = len(expected)
    if len(batches) == m // size and m % size:
        fail(
            where,
            f"m={m}, mini_batch_size={size}: got {len(batches)} mini-batches, expected {expected_count}. The last "
            f"{m % size} examples are missing: add the smaller last mini-batch X[{(m // size) * size}:]",
        )
    sizes = [len(b[0]) if isinstance(b, tuple | list) and len(b) == 2 else None for b in batches]
    if len(batches) == expected_count + 1 and sizes and sizes[-1] == 0:
        fail(
            where,
            f"m={m}, mini_batch_size={size}: the last mini-batch is empty. Add a last, smaller batch only when "
            f"m % mini_batch_size != 0",
        )
    expect_true(
        where,
        len(batches) == expected_count,
        f"m={m}, mini_batch_size={size}: expected ceil(m / mini_batch_size) = {expected_count} mini-batches, "
        f"got {len(batches)}",
    )
    for k, (batch, (expected_x, expected_y)) in enumerate(zip(batches, expected, strict=True)):
        expect_true(
            where,
            isinstance(batch, tuple | list) and len(batch) == 2,
            f"mini-batch {k} must be a pair (mini_batch_X, mini_batch_Y), got {type(batch).__name__}",
        )
        batch_x = np.asarray(batch[0])
        if batch_x.shape == expected_x.T.shape and expected_x.shape[0] != expected_x.shape[1]:
            fail(
                where,
                f"mini-batch {k}: X has shape {batch_x.shape}, the DLS (n_x, m) layout. Here examples are rows: "
                f"X[permutation] has shape (m, n_x)",
            )
        expect_shape(f"{where}, mini-batch {k} X", batch_x, expected_x.shape)
        expect_shape(f"{where}, mini-batch {k} Y", batch[1], expected_y.shape)
    order_x = _example_order(batches)
    order_y = np.concatenate([np.asarray(batch_y)[:, 0] for _, batch_y in batches])
    expect_true(
        where,
        np.array_equal(np.sort(order_x), np.arange(m)),
        "the mini-batches do not hold every example exactly once: partition the shuffled set with slices "
        "[k * mini_batch_size:(k + 1) * mini_batch_size]",
    )
    expect_true(
        where,
        np.array_equal(order_x, order_y),
        "X and Y were shuffled with different permutations, so labels no longer match their examples: draw ONE "
        "permutation and index both with it",
    )
    check_value(
        f"{where}(m={m}, mini_batch_size={size}, seed={seed}): the examples' order vs "
        f"np.random.RandomState(seed).permutation(m)",
        order_x,
        _example_order(expected),
        _random_mini_batches_mistakes(x_before, y_before, size, seed),
        rtol=0.0,
        atol=0.0,
    )


def check_random_mini_batches(random_mini_batches):
    """Checks `random_mini_batches(X, Y, mini_batch_size, seed)`: shuffle, partition, a smaller last batch."""
    where = "random_mini_batches"
    _check_batches(where, random_mini_batches, m=10, size=4, seed=0)
    _check_batches(where, random_mini_batches, m=148, size=64, seed=3)
    _check_batches(where, random_mini_batches, m=128, size=64, seed=1)  # m divisible: no empty last batch
    _check_batches(where, random_mini_batches, m=5, size=8, seed=2)  # one batch smaller than mini_batch_size
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 2: exponentially weighted average


def _reference_ewma(theta, beta, bias_correction=True):
    """The exponentially weighted average of a sequence, from v_0 = 0.

    ```
    v_t = beta * v_{t-1} + (1 - beta) * theta_t      for t = 1, ..., T
    output_t = v_t / (1 - beta**t) if bias_correction else v_t
    ```

    Returns:
        A NumPy array of shape (T,).
    """
    v, out = 0.0, []
    for t, value in enumerate(np.asarray(theta, dtype=float), start=1):
        v = beta * v + (1 - beta) * value
        out.append(v / (1 - beta**t) if bias_correction else v)
    return np.array(out)


def _ewma_mistakes(theta, beta, bias_correction):
    """Known wrong averages on the same inputs: {message: wrong array}."""
    theta = np.asarray(theta, dtype=float)
    wrong = {}
    if 0 < beta < 1:
        wrong[
            "beta and 1 - beta are swapped: v = beta * v + (1 - beta) * theta_t keeps beta on the old average"
        ] = _reference_ewma(theta, 1 - beta, bias_correction)
    if bias_correction:
        wrong["no bias correction: with bias_correction=True return v_t / (1 - beta**t)"] = _reference_ewma(
            theta, beta, False
        )
        # Feeding the corrected value back into the recursion.
        v, fed = 0.0, []
        for t, value in enumerate(theta, start=1):
            v = (beta * v + (1 - beta) * value) / (1 - beta**t)
            fed.append(v)
        wrong[
            "the corrected value was fed back into the average: keep v uncorrected and divide only the output"
        ] = np.array(fed)
        raw, t = _reference_ewma(theta, beta, False), np.arange(1, len(theta) + 1)
        wrong["bias correction uses t + 1: the first value theta_1 is t = 1, so divide by 1 - beta**t"] = (
            raw / (1 - beta ** (t + 1))
        )
    else:
        wrong["bias correction applied although bias_correction=False"] = _reference_ewma(theta, beta, True)
    return wrong


def check_ewma(ewma):
    """Checks `exponentially_weighted_average(theta, beta, bias_correction=True)` against the recursion."""
    where = "exponentially_weighted_average"
    theta = [4.0, 10.0, 7.0, 2.0, 9.0, 5.0]
    for beta in (0.9, 0.5):
        for bias_correction in (False, True):
            value = ewma(np.array(theta), beta, bias_correction=bias_correction)
            label = f"{where}(beta={beta}, bias_correction={bias_correction})"
            expect_shape(label, value, (len(theta),))
            expect_true(
                label,
                np.all(np.isfinite(np.asarray(value, dtype=float))),
                "got NaN or infinite values: count t from 1 (the first value is t = 1, so 1 - beta**t > 0)",
            )
            check_value(
                label,
                value,
                _reference_ewma(theta, beta, bias_correction),
                _ewma_mistakes(theta, beta, bias_correction),
                rtol=1e-6,
                atol=1e-9,
            )
    constant = [10.0, 10.0, 10.0]
    check_value(
        f"{where}(theta=[10, 10, 10], beta=0.9, bias_correction=True): a constant series must average to 10 with "
        f"bias correction",
        ewma(np.array(constant), 0.9, bias_correction=True),
        _reference_ewma(constant, 0.9, True),
        _ewma_mistakes(constant, 0.9, True),
        rtol=1e-6,
        atol=1e-9,
    )
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercises 3-5: momentum, RMSprop, Adam


def _arrays(seed, shape=(3, 2)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=shape), np.abs(rng.normal(size=shape)) * 0.5


def _unchanged(where, before, after, names):
    for name, old, new in zip(names, before, after, strict=True):
        expect_true(
            where,
            np.array_equal(old, new),
            f"argument {name} was modified in place: compute new arrays (w - ...) and return them",
        )


def _outputs(where, result, names):
    """`result` as a tuple of float arrays, after checking it is a tuple of `len(names)` values."""
    expect_true(
        where,
        isinstance(result, tuple) and len(result) == len(names),
        f"must return a tuple ({', '.join(names)}), got {type(result).__name__}"
        + (f" of length {len(result)}" if isinstance(result, tuple) else ""),
    )
    return tuple(np.asarray(r, dtype=float) for r in result)


def _check_outputs(where, values, expected, mistakes, names, order, rtol=1e-5, atol=1e-7):
    """`check_value` on each output in `order`; a mistake is a full wrong tuple, compared output by output."""
    for name in order:
        i = names.index(name)
        check_value(
            f"{where}: {name}",
            values[i],
            expected[i],
            [(message, wrong[i]) for message, wrong in mistakes],
            rtol=rtol,
            atol=atol,
        )


def _reference_momentum_step(w, dw, v, learning_rate, beta):
    """One step of gradient descent with momentum, the course's form.

    ```
    v = beta * v + (1 - beta) * dW
    w = w - learning_rate * v
    ```

    Returns:
        The tuple (w, v) of new arrays.
    """
    v = beta * v + (1 - beta) * dw
    return w - learning_rate * v, v


def _momentum_step_mistakes(w, dw, v, learning_rate, beta):
    """Known wrong (w, v) results on the same inputs: (message, (wrong w, wrong v)) pairs."""
    new_v = _reference_momentum_step(w, dw, v, learning_rate, beta)[1]
    summed, keras_v = beta * v + dw, beta * v - learning_rate * dw
    return [
        (
            "v = beta * v + dW sums the gradients; the course averages them: v = beta * v + (1 - beta) * dW",
            (w - learning_rate * summed, summed),
        ),
        (
            "v = beta * v - learning_rate * dW is Keras's SGD(momentum=...) form; here v = beta * v + (1 - beta) "
            "* dW",
            (w + keras_v, keras_v),
        ),
        (
            "beta and 1 - beta are swapped: v = beta * v + (1 - beta) * dW",
            _reference_momentum_step(w, dw, v, learning_rate, 1 - beta),
        ),
        (
            "w was updated with dW instead of the new velocity: w = w - learning_rate * v",
            (w - learning_rate * dw, new_v),
        ),
        (
            "w was updated with the old velocity: compute the new v first, then w = w - learning_rate * v",
            (w - learning_rate * v, new_v),
        ),
        (
            "w = w + learning_rate * v climbs the cost: subtract",
            _reference_momentum_step(w, dw, v, -learning_rate, beta),
        ),
    ]


def check_momentum_step(update_with_momentum):
    """Checks `update_with_momentum(w, dw, v, learning_rate, beta)` -> (w, v): one step in the course's form."""
    where = "update_with_momentum"
    w, dw, v = _arrays(0)
    lr, beta = 0.1, 0.9
    inputs = [a.copy() for a in (w, dw, v)]
    result = _outputs(where, update_with_momentum(w, dw, v, learning_rate=lr, beta=beta), ("w", "v"))
    _unchanged(where, inputs, (w, dw, v), ("w", "dw", "v"))
    _check_outputs(
        where,
        result,
        _reference_momentum_step(*inputs, lr, beta),
        _momentum_step_mistakes(*inputs, lr, beta),
        names=("w", "v"),
        order=("v", "w"),
    )
    passed(where)


def _reference_rmsprop_step(w, dw, s, learning_rate, beta, epsilon):
    """One step of RMSprop, the course's form (epsilon outside the square root).

    ```
    s = beta * s + (1 - beta) * dW**2
    w = w - learning_rate * dW / (sqrt(s) + epsilon)
    ```

    Returns:
        The tuple (w, s) of new arrays.
    """
    s = beta * s + (1 - beta) * dw**2
    return w - learning_rate * dw / (np.sqrt(s) + epsilon), s


def _rmsprop_step_mistakes(w, dw, s, learning_rate, beta, epsilon):
    """Known wrong (w, s) results on the same inputs: (message, (wrong w, wrong s)) pairs."""
    new_s = _reference_rmsprop_step(w, dw, s, learning_rate, beta, epsilon)[1]
    unsquared = beta * s + (1 - beta) * dw
    with np.errstate(all="ignore"):  # sqrt of the unsquared average, which can be negative
        unsquared_w = w - learning_rate * dw / (np.sqrt(unsquared) + epsilon)
    return [
        (
            "s must average the SQUARED gradients: s = beta * s + (1 - beta) * dW**2",
            (unsquared_w, unsquared),
        ),
        (
            "beta and 1 - beta are swapped: s = beta * s + (1 - beta) * dW**2",
            _reference_rmsprop_step(w, dw, s, learning_rate, 1 - beta, epsilon),
        ),
        (
            "epsilon is inside the square root (Keras's form); the course adds it outside: dW / (sqrt(s) + "
            "epsilon)",
            (w - learning_rate * dw / np.sqrt(new_s + epsilon), new_s),
        ),
        (
            "divide by sqrt(s), not by s: w = w - learning_rate * dW / (sqrt(s) + epsilon)",
            (w - learning_rate * dw / (new_s + epsilon), new_s),
        ),
        (
            "w was updated with the old s: compute the new s first",
            (w - learning_rate * dw / (np.sqrt(s) + epsilon), new_s),
        ),
    ]


def check_rmsprop_step(update_with_rmsprop):
    """Checks `update_with_rmsprop(w, dw, s, learning_rate, beta, epsilon)` -> (w, s)."""
    where = "update_with_rmsprop"
    w, dw, s = _arrays(1)
    lr, beta, eps = 0.01, 0.9, 0.1  # a large epsilon tells "sqrt(s) + eps" from "sqrt(s + eps)"
    inputs = [a.copy() for a in (w, dw, s)]
    result = _outputs(
        where, update_with_rmsprop(w, dw, s, learning_rate=lr, beta=beta, epsilon=eps), ("w", "s")
    )
    _unchanged(where, inputs, (w, dw, s), ("w", "dw", "s"))
    _check_outputs(
        where,
        result,
        _reference_rmsprop_step(*inputs, lr, beta, eps),
        _rmsprop_step_mistakes(*inputs, lr, beta, eps),
        names=("w", "s"),
        order=("s", "w"),
    )
    passed(where)


def _reference_adam_step(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon):
    """Step t (counted from 1) of Adam, the course's form (epsilon added to sqrt(s_hat)).

    ```
    v = beta_1 * v + (1 - beta_1) * dW
    s = beta_2 * s + (1 - beta_2) * dW**2
    v_hat, s_hat = v / (1 - beta_1**t), s / (1 - beta_2**t)
    w = w - learning_rate * v_hat / (sqrt(s_hat) + epsilon)
    ```

    Returns:
        The tuple (w, v, s) of new arrays: the raw averages, not v_hat and s_hat.
    """
    v = beta_1 * v + (1 - beta_1) * dw
    s = beta_2 * s + (1 - beta_2) * dw**2
    v_hat, s_hat = v / (1 - beta_1**t), s / (1 - beta_2**t)
    return w - learning_rate * v_hat / (np.sqrt(s_hat) + epsilon), v, s


def _adam_step_mistakes(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon):
    """Known wrong (w, v, s) results on the same inputs: (message, (wrong w, wrong v, wrong s)) pairs."""
    new_w, new_v, new_s = _reference_adam_step(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon)
    v_hat, s_hat = new_v / (1 - beta_1**t), new_s / (1 - beta_2**t)
    shifted_t = (
        "bias correction uses t - 1 or t + 1: use the step number t as given (the first step is t = 1)"
    )
    mistakes = [
        (
            "return the raw averages v and s, not the bias-corrected v_hat and s_hat (those are only used for this "
            "step's update)",
            (new_w, v_hat, s_hat),
        ),
        (
            "no bias correction: use v_hat = v / (1 - beta_1**t) and s_hat = s / (1 - beta_2**t)",
            (w - learning_rate * new_v / (np.sqrt(new_s) + epsilon), new_v, new_s),
        ),
        (shifted_t, _reference_adam_step(w, dw, v, s, t + 1, learning_rate, beta_1, beta_2, epsilon)),
        (
            "beta_1 and beta_2 are swapped in the bias correction",
            (
                w - learning_rate * (new_v / (1 - beta_2**t)) / (np.sqrt(new_s / (1 - beta_1**t)) + epsilon),
                new_v,
                new_s,
            ),
        ),
        (
            "the update uses v_hat / s_hat: divide by the square root, sqrt(s_hat) + epsilon",
            (w - learning_rate * v_hat / (s_hat + epsilon), new_v, new_s),
        ),
    ]
    if t > 1:  # at t = 1, t - 1 = 0 divides by 1 - beta**0 = 0
        mistakes.append(
            (shifted_t, _reference_adam_step(w, dw, v, s, t - 1, learning_rate, beta_1, beta_2, epsilon))
        )
    return mistakes


def _run_adam(update, w0, grads, **hyperparameters):
    """w after `update(w, g, v, s, t, **hyperparameters)` over `grads` for t = 1, 2, ..., from v = s = 0."""
    w, v, s = np.asarray(w0, dtype=float), np.zeros_like(w0), np.zeros_like(w0)
    for t, g in enumerate(grads, start=1):
        w, v, s = update(w, g, v, s, t, **hyperparameters)
    return np.asarray(w, dtype=float)


def _keras_adam_path(optimizer, w0, grads):
    """w after `optimizer.apply` over `grads` from `w0` (a float32 Keras variable)."""
    import keras

    variable = keras.Variable(np.asarray(w0, dtype="float32"))
    for g in grads:
        optimizer.apply([np.asarray(g, dtype="float32")], [variable])
    return np.asarray(variable.numpy(), dtype=float)


def check_adam_step(update_with_adam):
    """Checks `update_with_adam(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon)` -> (w, v, s).

    One step against the formula (with t = 1 and t = 5, so a missing or misplaced bias correction shows), then
    ten steps on the same gradients against the formula, `dlkit.optimizers.Adam` and `keras.optimizers.Adam`.
    """
    import keras

    from dlkit.optimizers import Adam

    where = "update_with_adam"
    w, dw, _ = _arrays(2)
    hyperparameters = {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}
    rng = np.random.default_rng(3)
    v, s = rng.normal(size=w.shape) * 0.1, np.abs(rng.normal(size=w.shape)) * 0.1
    for t in (5, 1):  # t = 5 first: there t - 1 and t + 1 are both finite mistakes
        inputs = [a.copy() for a in (w, dw, v, s)]
        result = _outputs(where, update_with_adam(w, dw, v, s, t, **hyperparameters), ("w", "v", "s"))
        _unchanged(where, inputs, (w, dw, v, s), ("w", "dw", "v", "s"))
        _check_outputs(
            f"{where} (t={t})",
            result,
            _reference_adam_step(*inputs, t, **hyperparameters),
            _adam_step_mistakes(*inputs, t, **hyperparameters),
            names=("w", "v", "s"),
            order=("v", "s", "w"),
        )

    # Ten steps on a gradient sequence, against the formula and the library optimizers.
    w0 = np.array([[0.5, -1.0], [2.0, 0.0], [-0.3, 0.7]])
    grads = [np.random.default_rng(10 + k).normal(size=w0.shape) for k in range(10)]
    w_student = _run_adam(update_with_adam, w0, grads, **hyperparameters)
    check_value(
        f"{where}, 10 steps vs the NumPy formula",
        w_student,
        _run_adam(_reference_adam_step, w0, grads, **hyperparameters),
        rtol=1e-5,
        atol=1e-7,
    )
    for name, optimizer in (
        ("dlkit.optimizers.Adam", Adam(**hyperparameters)),
        ("keras.optimizers.Adam", keras.optimizers.Adam(**hyperparameters)),
    ):
        check_value(
            f"{where}, 10 steps vs {name}",
            w_student,
            _keras_adam_path(optimizer, w0, grads),
            rtol=1e-5,
            atol=1e-6,
        )
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 6: learning-rate decay


def _reference_learning_rate_decay(learning_rate0, epoch_num, decay_rate, time_interval=1, staircase=True):
    """Inverse-time decay, lowered every `time_interval` epochs (Keras's `InverseTimeDecay(staircase=True)`).

    ```
    learning_rate0 / (1 + decay_rate * floor(epoch_num / time_interval))
    ```

    With `staircase=False` the quotient is not floored (the decay changes every epoch).
    """
    steps = np.asarray(epoch_num, dtype=float) / time_interval
    return learning_rate0 / (1 + decay_rate * (np.floor(steps) if staircase else steps))


def _learning_rate_decay_mistakes(learning_rate0, epoch_num, decay_rate, time_interval):
    """Known wrong schedules on the same inputs: {message: wrong array}."""
    steps = np.floor(np.asarray(epoch_num, dtype=float) / time_interval)
    return {
        "the decay is not stepped: use np.floor(epoch_num / time_interval), so it changes every time_interval "
        "epochs": _reference_learning_rate_decay(
            learning_rate0, epoch_num, decay_rate, time_interval, staircase=False
        ),
        "learning_rate0 / (1 + decay_rate) * epoch_num: the epoch belongs inside the denominator, "
        "learning_rate0 / (1 + decay_rate * epoch_num)": learning_rate0 / (1 + decay_rate) * steps,
        "the 1 is missing: learning_rate0 / (1 + decay_rate * epoch_num)": learning_rate0
        / np.maximum(decay_rate * steps, 1e-300),
    }


def _reference_exponential_decay(learning_rate0, epoch_num, decay_base):
    """Exponential decay (Keras's `ExponentialDecay(learning_rate0, decay_steps=1, decay_rate=decay_base)`).

    ```
    learning_rate0 * decay_base**epoch_num
    ```
    """
    return learning_rate0 * decay_base ** np.asarray(epoch_num, dtype=float)


def _exponential_decay_mistakes(learning_rate0, epoch_num, decay_base):
    """Known wrong schedules on the same inputs: {message: wrong array}."""
    epochs = np.asarray(epoch_num, dtype=float)
    return {
        "the power is on the wrong number: learning_rate0 * decay_base**epoch_num": learning_rate0**epochs
        * decay_base,
        "learning_rate0 * decay_base * epoch_num is linear, not exponential: use decay_base**epoch_num": (
            learning_rate0 * decay_base * epochs
        ),
        "off by one epoch: at epoch 0 the rate is learning_rate0 (decay_base**0 = 1)": _reference_exponential_decay(
            learning_rate0, epochs + 1, decay_base
        ),
    }


def check_learning_rate_decay(learning_rate_decay, exponential_decay):
    """Checks `learning_rate_decay(learning_rate0, epoch_num, decay_rate, time_interval=1)` (1/t decay, stepped
    every `time_interval` epochs) and `exponential_decay(learning_rate0, epoch_num, decay_base)`, against the
    formulas and Keras's `InverseTimeDecay(staircase=True)` / `ExponentialDecay`."""
    import keras

    where = "learning_rate_decay"
    epochs = np.arange(0, 25)
    for lr0, decay_rate, interval in ((0.2, 1.0, 1), (0.5, 0.3, 10)):
        label = f"{where}(learning_rate0={lr0}, decay_rate={decay_rate}, time_interval={interval})"
        check_value(
            f"{label}: at epoch 0 the learning rate must be learning_rate0={lr0}",
            learning_rate_decay(lr0, 0, decay_rate, time_interval=interval),
            _reference_learning_rate_decay(lr0, 0, decay_rate, interval),
            _learning_rate_decay_mistakes(lr0, 0, decay_rate, interval),
            rtol=1e-5,
            atol=1e-7,
        )
        value = learning_rate_decay(lr0, epochs, decay_rate, time_interval=interval)
        expect_true(
            label,
            np.shape(value) == epochs.shape,
            f"must work on a NumPy array of epoch numbers (use np.floor, not math.floor or int()); got shape "
            f"{np.shape(value)}",
        )
        check_value(
            label,
            value,
            _reference_learning_rate_decay(lr0, epochs, decay_rate, interval),
            _learning_rate_decay_mistakes(lr0, epochs, decay_rate, interval),
            rtol=1e-5,
            atol=1e-7,
        )
        schedule = keras.optimizers.schedules.InverseTimeDecay(lr0, interval, decay_rate, staircase=True)
        check_value(
            f"{label} vs keras InverseTimeDecay",
            value,
            [float(schedule(int(e))) for e in epochs],
            rtol=1e-5,
            atol=1e-7,
        )

    where = "exponential_decay"
    lr0, base = 0.1, 0.95
    label = f"{where}(learning_rate0={lr0}, decay_base={base})"
    value = exponential_decay(lr0, epochs, base)
    expect_true(
        label, np.shape(value) == epochs.shape, f"must work on a NumPy array of epochs; got {np.shape(value)}"
    )
    check_value(
        label,
        value,
        _reference_exponential_decay(lr0, epochs, base),
        _exponential_decay_mistakes(lr0, epochs, base),
        rtol=1e-5,
        atol=1e-7,
    )
    schedule = keras.optimizers.schedules.ExponentialDecay(lr0, 1, base)
    check_value(
        f"{label} vs keras ExponentialDecay",
        value,
        [float(schedule(int(e))) for e in epochs],
        rtol=1e-5,
        atol=1e-7,
    )
    passed("learning_rate_decay and exponential_decay")


# ---------------------------------------------------------------------------------------------------------------
# Exercise 7: AdamW (Adam with decoupled weight decay)


def _reference_adamw_step(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon, weight_decay):
    """Step t (counted from 1) of AdamW: decoupled weight decay, then the course-form Adam step.

    Loshchilov & Hutter (2019), "Decoupled Weight Decay Regularization", Algorithm 2, with the decay scaled by the
    learning rate as in `keras.optimizers.AdamW` and `torch.optim.AdamW`:

    ```
    w = w - learning_rate * weight_decay * w          # decay the weights the step starts from (theta_{t-1})
    v = beta_1 * v + (1 - beta_1) * dW                 # the moments see dW only, never weight_decay * w
    s = beta_2 * s + (1 - beta_2) * dW**2
    v_hat, s_hat = v / (1 - beta_1**t), s / (1 - beta_2**t)
    w = w - learning_rate * v_hat / (sqrt(s_hat) + epsilon)
    ```

    Returns:
        The tuple (w, v, s) of new arrays: the raw averages, not v_hat and s_hat.
    """
    decayed = w - learning_rate * weight_decay * w
    return _reference_adam_step(decayed, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon)


def _adamw_step_mistakes(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon, weight_decay):
    """Known wrong (w, v, s) results on the same inputs: (message, (wrong w, wrong v, wrong s)) pairs."""
    adam = (learning_rate, beta_1, beta_2, epsilon)
    adam_w, new_v, new_s = _reference_adam_step(w, dw, v, s, t, *adam)
    decayed = w - learning_rate * weight_decay * w
    v_hat, s_hat = new_v / (1 - beta_1**t), new_s / (1 - beta_2**t)
    return [
        (
            "weight_decay * w was added to the gradient (L2 regularization inside Adam): then v and s average it "
            "and sqrt(s_hat) rescales it. AdamW decouples the decay: v and s see dW only, and "
            "w = w - learning_rate * weight_decay * w is a separate step",
            _reference_adam_step(w, dw + weight_decay * w, v, s, t, *adam),
        ),
        (
            "the weights were not decayed: this is plain Adam. Add w = w - learning_rate * weight_decay * w",
            (adam_w, new_v, new_s),
        ),
        (
            "the decay was applied to the already-updated weights: decay the w the step starts from (the paper's "
            "theta_{t-1}, Keras's order): w - learning_rate * weight_decay * w, then the Adam step",
            (adam_w - learning_rate * weight_decay * adam_w, new_v, new_s),
        ),
        (
            "the decay is not scaled by the learning rate: like keras.optimizers.AdamW and torch.optim.AdamW, "
            "subtract learning_rate * weight_decay * w",
            _reference_adam_step(w - weight_decay * w, dw, v, s, t, *adam),
        ),
        (
            "w + learning_rate * weight_decay * w grows the weights: weight decay subtracts",
            _reference_adam_step(w + learning_rate * weight_decay * w, dw, v, s, t, *adam),
        ),
        (
            "no bias correction: use v_hat = v / (1 - beta_1**t) and s_hat = s / (1 - beta_2**t)",
            (decayed - learning_rate * new_v / (np.sqrt(new_s) + epsilon), new_v, new_s),
        ),
        (
            "return the raw averages v and s, not the bias-corrected v_hat and s_hat (those are only used for this "
            "step's update)",
            (_reference_adam_step(decayed, dw, v, s, t, *adam)[0], v_hat, s_hat),
        ),
        (
            "bias correction uses t - 1 or t + 1: use the step number t as given (the first step is t = 1)",
            _reference_adam_step(decayed, dw, v, s, t + 1, *adam),
        ),
    ]


def check_adamw_step(update_with_adamw):
    """Checks `update_with_adamw(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon, weight_decay)` -> (w, v, s).

    One step against the formula (t = 5, then t = 1) with a large learning_rate * weight_decay (0.05), so that
    decaying before or after the Adam step, or without the learning rate, gives visibly different weights; then
    ten steps on the same gradients against the formula and `keras.optimizers.AdamW`.
    """
    import keras

    where = "update_with_adamw"
    w, dw, _ = _arrays(4)
    hyperparameters = {
        "learning_rate": 0.1,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-8,
        "weight_decay": 0.5,
    }
    rng = np.random.default_rng(5)
    v, s = rng.normal(size=w.shape) * 0.1, np.abs(rng.normal(size=w.shape)) * 0.1
    for t in (5, 1):
        inputs = [a.copy() for a in (w, dw, v, s)]
        result = _outputs(where, update_with_adamw(w, dw, v, s, t, **hyperparameters), ("w", "v", "s"))
        _unchanged(where, inputs, (w, dw, v, s), ("w", "dw", "v", "s"))
        _check_outputs(
            f"{where} (t={t})",
            result,
            _reference_adamw_step(*inputs, t, **hyperparameters),
            _adamw_step_mistakes(*inputs, t, **hyperparameters),
            names=("w", "v", "s"),
            order=("v", "s", "w"),
        )

    # Ten steps against the formula and Keras (Keras adds its epsilon to sqrt(s), not sqrt(s_hat): with
    # epsilon = 1e-8 the difference is far below the tolerance).
    hyperparameters = {**hyperparameters, "learning_rate": 0.01, "weight_decay": 0.2}
    w0 = np.array([[0.5, -1.0], [2.0, 0.0], [-0.3, 0.7]])
    grads = [np.random.default_rng(20 + k).normal(size=w0.shape) for k in range(10)]
    w_student = _run_adam(update_with_adamw, w0, grads, **hyperparameters)
    check_value(
        f"{where}, 10 steps vs the NumPy formula",
        w_student,
        _run_adam(_reference_adamw_step, w0, grads, **hyperparameters),
        rtol=1e-5,
        atol=1e-7,
    )
    check_value(
        f"{where}, 10 steps vs keras.optimizers.AdamW",
        w_student,
        _keras_adam_path(keras.optimizers.AdamW(**hyperparameters), w0, grads),
        rtol=1e-5,
        atol=1e-6,
    )
    passed(where)
