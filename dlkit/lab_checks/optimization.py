"""Visible checks for lab 04 (optimization): mini-batches, exponentially weighted averages, momentum, RMSprop,
Adam and learning-rate decay.

Each check calls the student's function on small fixed inputs and compares the result with the formula written
here in NumPy (and, for Adam and the decay schedules, with `dlkit.optimizers.Adam`, `keras.optimizers.Adam` and
Keras's learning-rate schedules). On a mismatch it tries the usual mistakes (a forgotten `1 - beta`, Keras's
signs, epsilon inside the square root, no bias correction, t counted from 0, a dropped last mini-batch, X and Y
shuffled apart) and names the one that matches.
"""

import math

import numpy as np

from dlkit.lab_checks.expect import diagnose, expect_close, expect_shape, expect_true, fail, matches, passed

# ---------------------------------------------------------------------------------------------------------------
# Exercise 1: random_mini_batches


def reference_mini_batch_order(m, seed):
    """The shuffle the lab asks for: `np.random.RandomState(seed).permutation(m)` (DLS's `np.random.seed(seed)`)."""
    return np.random.RandomState(seed).permutation(m)


def _tagged_data(m, n_x=3):
    # Column 0 of X and Y itself hold the example's index, so each batch reveals which examples it holds.
    x = np.column_stack([np.arange(m, dtype=float)] + [np.arange(m) * (j + 2.0) for j in range(n_x - 1)])
    y = np.arange(m, dtype=float).reshape(m, 1)
    return x, y


def _check_batches(where, random_mini_batches, m, size, seed):
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
    expected_count = math.ceil(m / size)
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
    order_x, order_y = [], []
    for k, batch in enumerate(batches):
        expect_true(
            where,
            isinstance(batch, tuple | list) and len(batch) == 2,
            f"mini-batch {k} must be a pair (mini_batch_X, mini_batch_Y), got {type(batch).__name__}",
        )
        batch_x, batch_y = np.asarray(batch[0]), np.asarray(batch[1])
        expected_size = size if k < m // size else m - (m // size) * size
        if batch_x.shape == (x.shape[1], expected_size) and expected_size != x.shape[1]:
            fail(
                where,
                f"mini-batch {k}: X has shape {batch_x.shape}, the DLS (n_x, m) layout. Here examples are rows: "
                f"X[permutation] has shape (m, n_x)",
            )
        expect_shape(f"{where}, mini-batch {k} X", batch_x, (expected_size, x.shape[1]))
        expect_shape(f"{where}, mini-batch {k} Y", batch_y, (expected_size, 1))
        order_x.append(batch_x[:, 0])
        order_y.append(batch_y[:, 0])
    order_x, order_y = np.concatenate(order_x), np.concatenate(order_y)
    if np.array_equal(order_x, np.arange(m)):
        fail(
            where,
            "the examples come out in their original order: shuffle X and Y (step 1) before partitioning",
        )
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
    expected = reference_mini_batch_order(m, seed)
    expect_true(
        where,
        np.array_equal(order_x, expected),
        f"the shuffle order differs from np.random.RandomState(seed).permutation(m) (seed={seed}): draw the "
        f"permutation with that generator (or np.random.seed(seed); np.random.permutation(m)) so results are "
        f"reproducible",
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


def reference_ewma(theta, beta, bias_correction=True):
    """v_t = beta * v_{t-1} + (1 - beta) * theta_t from v_0 = 0; optionally v_t / (1 - beta**t)."""
    v, out = 0.0, []
    for t, value in enumerate(np.asarray(theta, dtype=float), start=1):
        v = beta * v + (1 - beta) * value
        out.append(v / (1 - beta**t) if bias_correction else v)
    return np.array(out)


def _ewma_mistakes(theta, beta, bias_correction):
    theta = np.asarray(theta, dtype=float)
    swapped = reference_ewma(theta, 1 - beta, bias_correction) if 0 < beta < 1 else None
    wrong = {}
    if swapped is not None:
        wrong[
            "beta and 1 - beta are swapped: v = beta * v + (1 - beta) * theta_t keeps beta on the old average"
        ] = swapped
    if bias_correction:
        wrong["no bias correction: with bias_correction=True return v_t / (1 - beta**t)"] = reference_ewma(
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
        raw, t = reference_ewma(theta, beta, False), np.arange(1, len(theta) + 1)
        wrong["bias correction uses t + 1: the first value theta_1 is t = 1, so divide by 1 - beta**t"] = (
            raw / (1 - beta ** (t + 1))
        )
    else:
        wrong["bias correction applied although bias_correction=False"] = reference_ewma(theta, beta, True)
    return wrong


def _check_ewma_case(where, ewma, theta, beta, bias_correction):
    value = ewma(np.array(theta, dtype=float), beta, bias_correction=bias_correction)
    label = f"{where}(beta={beta}, bias_correction={bias_correction})"
    expect_shape(label, value, (len(theta),))
    expected = reference_ewma(theta, beta, bias_correction)
    if not np.all(np.isfinite(np.asarray(value, dtype=float))):
        fail(
            label, "got NaN or infinite values: count t from 1 (the first value is t = 1, so 1 - beta**t > 0)"
        )
    if not matches(value, expected):
        diagnose(label, value, _ewma_mistakes(theta, beta, bias_correction))
    expect_close(label, value, expected, rtol=1e-6, atol=1e-9)


def check_ewma(ewma):
    """Checks `exponentially_weighted_average(theta, beta, bias_correction=True)` against the recursion."""
    where = "exponentially_weighted_average"
    theta = [4.0, 10.0, 7.0, 2.0, 9.0, 5.0]
    for beta in (0.9, 0.5):
        for bias_correction in (False, True):
            _check_ewma_case(where, ewma, theta, beta, bias_correction)
    value = ewma(np.array([10.0, 10.0, 10.0]), 0.9, bias_correction=True)
    expect_true(
        where,
        matches(value, [10.0, 10.0, 10.0]),
        f"a constant series 10, 10, 10 must average to 10 with bias correction (beta=0.9); got {np.round(value, 4)}",
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


def _pair(where, result, names):
    expect_true(
        where,
        isinstance(result, tuple) and len(result) == len(names),
        f"must return a tuple ({', '.join(names)}), got {type(result).__name__}"
        + (f" of length {len(result)}" if isinstance(result, tuple) else ""),
    )
    return tuple(np.asarray(r, dtype=float) for r in result)


def check_momentum_step(update_with_momentum):
    """Checks `update_with_momentum(w, dw, v, learning_rate, beta)` -> (w, v): one step in the course's form."""
    where = "update_with_momentum"
    w, dw, v = _arrays(0)
    lr, beta = 0.1, 0.9
    inputs = [a.copy() for a in (w, dw, v)]
    new_w, new_v = _pair(where, update_with_momentum(w, dw, v, learning_rate=lr, beta=beta), ("w", "v"))
    _unchanged(where, inputs, (w, dw, v), ("w", "dw", "v"))
    expected_v = beta * v + (1 - beta) * dw
    expect_shape(f"{where}: v", new_v, w.shape)
    if not matches(new_v, expected_v):
        diagnose(
            f"{where}: v",
            new_v,
            {
                "v = beta * v + dW sums the gradients; the course averages them: v = beta * v + (1 - beta) * dW": beta
                * v
                + dw,
                "v = beta * v - learning_rate * dW is Keras's SGD(momentum=...) form; here v = beta * v + (1 - beta) * dW": beta
                * v
                - lr * dw,
                "beta and 1 - beta are swapped: v = beta * v + (1 - beta) * dW": (1 - beta) * v + beta * dw,
            },
        )
    expect_close(f"{where}: v", new_v, expected_v)
    expected_w = w - lr * expected_v
    if not matches(new_w, expected_w):
        diagnose(
            f"{where}: w",
            new_w,
            {
                "w was updated with dW instead of the new velocity: w = w - learning_rate * v": w - lr * dw,
                "w was updated with the old velocity: compute the new v first, then w = w - learning_rate * v": w
                - lr * v,
                "w = w + learning_rate * v climbs the cost: subtract": w + lr * expected_v,
            },
        )
    expect_close(f"{where}: w", new_w, expected_w)
    passed(where)


def check_rmsprop_step(update_with_rmsprop):
    """Checks `update_with_rmsprop(w, dw, s, learning_rate, beta, epsilon)` -> (w, s)."""
    where = "update_with_rmsprop"
    w, dw, s = _arrays(1)
    lr, beta, eps = 0.01, 0.9, 0.1  # a large epsilon tells "sqrt(s) + eps" from "sqrt(s + eps)"
    inputs = [a.copy() for a in (w, dw, s)]
    new_w, new_s = _pair(
        where, update_with_rmsprop(w, dw, s, learning_rate=lr, beta=beta, epsilon=eps), ("w", "s")
    )
    _unchanged(where, inputs, (w, dw, s), ("w", "dw", "s"))
    expected_s = beta * s + (1 - beta) * dw**2
    expect_shape(f"{where}: s", new_s, w.shape)
    if not matches(new_s, expected_s):
        diagnose(
            f"{where}: s",
            new_s,
            {
                "s must average the SQUARED gradients: s = beta * s + (1 - beta) * dW**2": beta * s
                + (1 - beta) * dw,
                "beta and 1 - beta are swapped: s = beta * s + (1 - beta) * dW**2": (1 - beta) * s
                + beta * dw**2,
            },
        )
    expect_close(f"{where}: s", new_s, expected_s)
    expected_w = w - lr * dw / (np.sqrt(expected_s) + eps)
    if not matches(new_w, expected_w):
        diagnose(
            f"{where}: w",
            new_w,
            {
                "epsilon is inside the square root (Keras's form); the course adds it outside: dW / (sqrt(s) + epsilon)": w
                - lr * dw / np.sqrt(expected_s + eps),
                "divide by sqrt(s), not by s: w = w - learning_rate * dW / (sqrt(s) + epsilon)": w
                - lr * dw / (expected_s + eps),
                "w was updated with the old s: compute the new s first": w - lr * dw / (np.sqrt(s) + eps),
            },
        )
    expect_close(f"{where}: w", new_w, expected_w)
    passed(where)


def reference_adam(w, grads, learning_rate, beta_1, beta_2, epsilon):
    """Adam from v = s = 0 over a gradient sequence; returns (w, v, s) after the last step."""
    w = np.asarray(w, dtype=float)
    v, s = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        v = beta_1 * v + (1 - beta_1) * g
        s = beta_2 * s + (1 - beta_2) * g**2
        w = w - learning_rate * (v / (1 - beta_1**t)) / (np.sqrt(s / (1 - beta_2**t)) + epsilon)
    return w, v, s


def _keras_adam_path(optimizer, w0, grads):
    import keras

    variable = keras.Variable(np.asarray(w0, dtype="float32"))
    for g in grads:
        optimizer.apply([np.asarray(g, dtype="float32")], [variable])
    return np.asarray(variable.numpy(), dtype=float)


def check_adam_step(update_with_adam):
    """Checks `update_with_adam(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon)` -> (w, v, s).

    One step against the formula (with t = 1 and t = 5, so a missing or misplaced bias correction shows), then
    ten steps on the same gradients against `dlkit.optimizers.Adam` and `keras.optimizers.Adam`.
    """
    import keras

    from dlkit.optimizers import Adam

    where = "update_with_adam"
    w, dw, _ = _arrays(2)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    rng = np.random.default_rng(3)
    v, s = rng.normal(size=w.shape) * 0.1, np.abs(rng.normal(size=w.shape)) * 0.1
    for t in (1, 5):
        inputs = [a.copy() for a in (w, dw, v, s)]
        result = update_with_adam(w, dw, v, s, t, learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps)
        new_w, new_v, new_s = _pair(where, result, ("w", "v", "s"))
        _unchanged(where, inputs, (w, dw, v, s), ("w", "dw", "v", "s"))
        label = f"{where} (t={t})"
        expected_v = b1 * v + (1 - b1) * dw
        expected_s = b2 * s + (1 - b2) * dw**2
        v_hat, s_hat = expected_v / (1 - b1**t), expected_s / (1 - b2**t)
        if matches(new_v, v_hat) or matches(new_s, s_hat):
            fail(
                label,
                "return the raw averages v and s, not the bias-corrected v_hat and s_hat (those are only "
                "used for this step's update)",
            )
        expect_close(f"{label}: v", new_v, expected_v)
        expect_close(f"{label}: s", new_s, expected_s)
        expected_w = w - lr * v_hat / (np.sqrt(s_hat) + eps)
        if not matches(new_w, expected_w):
            diagnose(
                f"{label}: w",
                new_w,
                {
                    "no bias correction: use v_hat = v / (1 - beta_1**t) and s_hat = s / (1 - beta_2**t)": w
                    - lr * expected_v / (np.sqrt(expected_s) + eps),
                    "bias correction uses t - 1 or t + 1: use the step number t as given (the first step is t = 1)": w
                    - lr
                    * (expected_v / (1 - b1 ** (t + 1)))
                    / (np.sqrt(expected_s / (1 - b2 ** (t + 1))) + eps),
                    "beta_1 and beta_2 are swapped in the bias correction": w
                    - lr * (expected_v / (1 - b2**t)) / (np.sqrt(expected_s / (1 - b1**t)) + eps),
                    "the update uses v_hat / s_hat: divide by the square root, sqrt(s_hat) + epsilon": w
                    - lr * v_hat / (s_hat + eps),
                },
            )
        expect_close(f"{label}: w", new_w, expected_w)

    # Ten steps on a gradient sequence, against the library optimizers.
    w0 = np.array([[0.5, -1.0], [2.0, 0.0], [-0.3, 0.7]])
    grads = [np.random.default_rng(10 + k).normal(size=w0.shape) for k in range(10)]
    w_student, v_student, s_student = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for t, g in enumerate(grads, start=1):
        w_student, v_student, s_student = update_with_adam(
            w_student, g, v_student, s_student, t, learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps
        )
    expect_close(
        f"{where}, 10 steps vs the NumPy formula", w_student, reference_adam(w0, grads, lr, b1, b2, eps)[0]
    )
    dlkit_w = _keras_adam_path(Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps), w0, grads)
    expect_close(f"{where}, 10 steps vs dlkit.optimizers.Adam", w_student, dlkit_w, rtol=1e-5, atol=1e-6)
    keras_w = _keras_adam_path(
        keras.optimizers.Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps), w0, grads
    )
    expect_close(f"{where}, 10 steps vs keras.optimizers.Adam", w_student, keras_w, rtol=1e-5, atol=1e-6)
    passed(where)


# ---------------------------------------------------------------------------------------------------------------
# Exercise 6: learning-rate decay


def check_learning_rate_decay(learning_rate_decay, exponential_decay):
    """Checks `learning_rate_decay(learning_rate0, epoch_num, decay_rate, time_interval=1)` (1/t decay, stepped
    every `time_interval` epochs) and `exponential_decay(learning_rate0, epoch_num, decay_base)`, against the
    formulas and Keras's `InverseTimeDecay(staircase=True)` / `ExponentialDecay`."""
    import keras

    where = "learning_rate_decay"
    epochs = np.arange(0, 25)
    for lr0, decay_rate, interval in ((0.2, 1.0, 1), (0.5, 0.3, 10)):
        label = f"{where}(learning_rate0={lr0}, decay_rate={decay_rate}, time_interval={interval})"
        first = learning_rate_decay(lr0, 0, decay_rate, time_interval=interval)
        expect_true(
            label,
            matches(first, lr0),
            f"at epoch 0 the learning rate must be learning_rate0={lr0}, got {first}",
        )
        value = learning_rate_decay(lr0, epochs, decay_rate, time_interval=interval)
        expect_true(
            label,
            np.shape(value) == epochs.shape,
            f"must work on a NumPy array of epoch numbers (use np.floor, not math.floor or int()); got shape "
            f"{np.shape(value)}",
        )
        expected = lr0 / (1 + decay_rate * np.floor(epochs / interval))
        if not matches(value, expected):
            diagnose(
                label,
                value,
                {
                    "the decay is not stepped: use np.floor(epoch_num / time_interval), so it changes every time_interval "
                    "epochs": lr0 / (1 + decay_rate * epochs / interval),
                    "learning_rate0 / (1 + decay_rate) * epoch_num: the epoch belongs inside the denominator, "
                    "learning_rate0 / (1 + decay_rate * epoch_num)": lr0
                    / (1 + decay_rate)
                    * np.floor(epochs / interval),
                    "the 1 is missing: learning_rate0 / (1 + decay_rate * epoch_num)": lr0
                    / np.maximum(decay_rate * np.floor(epochs / interval), 1e-300),
                },
            )
        expect_close(label, value, expected)
        schedule = keras.optimizers.schedules.InverseTimeDecay(lr0, interval, decay_rate, staircase=True)
        expect_close(
            f"{label} vs keras InverseTimeDecay", value, [float(schedule(int(e))) for e in epochs], rtol=1e-5
        )

    where = "exponential_decay"
    lr0, base = 0.1, 0.95
    label = f"{where}(learning_rate0={lr0}, decay_base={base})"
    value = exponential_decay(lr0, epochs, base)
    expect_true(
        label, np.shape(value) == epochs.shape, f"must work on a NumPy array of epochs; got {np.shape(value)}"
    )
    expected = lr0 * base**epochs
    if not matches(value, expected):
        diagnose(
            label,
            value,
            {
                "the power is on the wrong number: learning_rate0 * decay_base**epoch_num": lr0**epochs
                * base,
                "learning_rate0 * decay_base * epoch_num is linear, not exponential: use decay_base**epoch_num": lr0
                * base
                * epochs,
                "off by one epoch: at epoch 0 the rate is learning_rate0 (decay_base**0 = 1)": lr0
                * base ** (epochs + 1),
            },
        )
    expect_close(label, value, expected)
    schedule = keras.optimizers.schedules.ExponentialDecay(lr0, 1, base)
    expect_close(
        f"{label} vs keras ExponentialDecay", value, [float(schedule(int(e))) for e in epochs], rtol=1e-5
    )
    passed("learning_rate_decay and exponential_decay")
