"""dlkit.lab_checks.optimization: accepts correct reference implementations written here, and rejects the typical
wrong ones with a message that points at the mistake."""

import re

import numpy as np
import pytest

from dlkit.lab_checks import ExerciseCheckError
from dlkit.lab_checks import optimization as checks

# ----------------------------------------------------------------------------------------------- references


def mini_batches_ok(X, Y, mini_batch_size=64, seed=0):
    permutation = np.random.RandomState(seed).permutation(X.shape[0])
    X, Y = X[permutation], Y[permutation]
    return [
        (X[k : k + mini_batch_size], Y[k : k + mini_batch_size]) for k in range(0, len(X), mini_batch_size)
    ]


def ewma_ok(theta, beta, bias_correction=True):
    v, out = 0.0, np.zeros(len(theta))
    for t in range(1, len(theta) + 1):
        v = beta * v + (1 - beta) * theta[t - 1]
        out[t - 1] = v / (1 - beta**t) if bias_correction else v
    return out


def momentum_ok(w, dw, v, learning_rate=0.01, beta=0.9):
    v = beta * v + (1 - beta) * dw
    return w - learning_rate * v, v


def rmsprop_ok(w, dw, s, learning_rate=0.01, beta=0.999, epsilon=1e-8):
    s = beta * s + (1 - beta) * dw**2
    return w - learning_rate * dw / (np.sqrt(s) + epsilon), s


def adam_ok(w, dw, v, s, t, learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    v = beta_1 * v + (1 - beta_1) * dw
    s = beta_2 * s + (1 - beta_2) * dw**2
    return w - learning_rate * (v / (1 - beta_1**t)) / (np.sqrt(s / (1 - beta_2**t)) + epsilon), v, s


def adamw_ok(w, dw, v, s, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01):
    w = w - learning_rate * weight_decay * w  # decoupled decay first, on the weights the step starts from
    return adam_ok(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon)


def decay_ok(learning_rate0, epoch_num, decay_rate, time_interval=1):
    return learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))


def exp_ok(learning_rate0, epoch_num, decay_base=0.95):
    return learning_rate0 * decay_base**epoch_num


def _rejects(check, function, text):
    with pytest.raises(ExerciseCheckError, match=re.escape(text)):
        check(function)


# ----------------------------------------------------------------------------------------------- mini-batches


def test_mini_batches_accepts_reference(capsys):
    checks.check_random_mini_batches(mini_batches_ok)
    assert "random_mini_batches: all tests passed" in capsys.readouterr().out


def test_mini_batches_accepts_dls_global_seed(capsys):
    # DLS's form, np.random.seed(seed); np.random.permutation(m), draws the same permutation as RandomState(seed).
    def dls_form(X, Y, mini_batch_size=64, seed=0):
        np.random.seed(seed)
        permutation = np.random.permutation(X.shape[0])
        X, Y = X[permutation], Y[permutation]
        return [
            (X[k : k + mini_batch_size], Y[k : k + mini_batch_size])
            for k in range(0, len(X), mini_batch_size)
        ]

    checks.check_random_mini_batches(dls_form)
    assert "random_mini_batches: all tests passed" in capsys.readouterr().out


def test_mini_batches_names_each_wrong_order():
    def unshuffled(X, Y, mini_batch_size=64, seed=0):
        return [
            (X[k : k + mini_batch_size], Y[k : k + mini_batch_size])
            for k in range(0, len(X), mini_batch_size)
        ]

    def with_permutation(draw):
        def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
            permutation = draw(seed, X.shape[0])
            return unshuffled(X[permutation], Y[permutation], mini_batch_size, seed)

        return random_mini_batches

    _rejects(
        checks.check_random_mini_batches,
        unshuffled,
        "random_mini_batches(m=10, mini_batch_size=4, seed=0): the examples' order vs "
        "np.random.RandomState(seed).permutation(m): the examples come out in their original order: shuffle X and "
        "Y (step 1) before partitioning",
    )
    _rejects(
        checks.check_random_mini_batches,
        with_permutation(lambda seed, m: np.random.default_rng(seed).permutation(m)),
        "the shuffle order differs from np.random.RandomState(seed).permutation(m) (seed=0): draw the permutation "
        "with that generator (or np.random.seed(seed); np.random.permutation(m)) so results are reproducible",
    )
    # Any other permutation: the worst element, under a label that names the expected generator.
    _rejects(
        checks.check_random_mini_batches,
        with_permutation(lambda seed, m: np.random.RandomState(seed + 1).permutation(m)),
        "np.random.RandomState(seed).permutation(m): values differ",
    )


def test_mini_batches_rejects_mistakes():
    def no_shuffle(X, Y, mini_batch_size=64, seed=0):
        return [
            (X[k : k + mini_batch_size], Y[k : k + mini_batch_size])
            for k in range(0, len(X), mini_batch_size)
        ]

    def drops_last(X, Y, mini_batch_size=64, seed=0):
        return mini_batches_ok(X, Y, mini_batch_size, seed)[: len(X) // mini_batch_size]

    def empty_last(X, Y, mini_batch_size=64, seed=0):
        batches = mini_batches_ok(X, Y, mini_batch_size, seed)
        if len(X) % mini_batch_size == 0:
            batches.append((X[:0], Y[:0]))
        return batches

    def two_permutations(X, Y, mini_batch_size=64, seed=0):
        rng = np.random.RandomState(seed)
        X, Y = X[rng.permutation(len(X))], Y[rng.permutation(len(X))]
        return [
            (X[k : k + mini_batch_size], Y[k : k + mini_batch_size])
            for k in range(0, len(X), mini_batch_size)
        ]

    def other_generator(X, Y, mini_batch_size=64, seed=0):
        permutation = np.random.default_rng(seed).permutation(len(X))
        X, Y = X[permutation], Y[permutation]
        return [
            (X[k : k + mini_batch_size], Y[k : k + mini_batch_size])
            for k in range(0, len(X), mini_batch_size)
        ]

    def dls_layout(X, Y, mini_batch_size=64, seed=0):
        return [(bx.T, by) for bx, by in mini_batches_ok(X, Y, mini_batch_size, seed)]

    _rejects(checks.check_random_mini_batches, no_shuffle, "original order")
    _rejects(checks.check_random_mini_batches, drops_last, "smaller last mini-batch")
    _rejects(checks.check_random_mini_batches, empty_last, "empty")
    _rejects(checks.check_random_mini_batches, two_permutations, "different permutations")
    _rejects(checks.check_random_mini_batches, other_generator, "RandomState")
    _rejects(checks.check_random_mini_batches, dls_layout, "(n_x, m)")


# ----------------------------------------------------------------------------------------------- EWMA


def test_ewma_accepts_reference_and_matches_formula(capsys):
    # The test's own implementation, against a hand computation: theta = 4, 10, beta = 0.5 -> v1 = 2, v2 = 6;
    # corrected 4, 8.
    assert np.allclose(ewma_ok([4.0, 10.0], 0.5, False), [2.0, 6.0])
    assert np.allclose(ewma_ok([4.0, 10.0], 0.5, True), [4.0, 8.0])
    checks.check_ewma(ewma_ok)
    assert "all tests passed" in capsys.readouterr().out


def test_ewma_rejects_mistakes():
    def swapped(theta, beta, bias_correction=True):
        return ewma_ok(theta, 1 - beta, bias_correction)

    def never_corrects(theta, beta, bias_correction=True):
        return ewma_ok(theta, beta, False)

    def feeds_back(theta, beta, bias_correction=True):
        v, out = 0.0, np.zeros(len(theta))
        for t in range(1, len(theta) + 1):
            v = beta * v + (1 - beta) * theta[t - 1]
            if bias_correction:
                v = v / (1 - beta**t)
            out[t - 1] = v
        return out

    def t_from_zero(theta, beta, bias_correction=True):
        raw = ewma_ok(theta, beta, False)
        with np.errstate(divide="ignore", invalid="ignore"):  # the mistake divides by 1 - beta**0 = 0
            return raw / (1 - beta ** np.arange(len(theta))) if bias_correction else raw

    def always_corrects(theta, beta, bias_correction=True):
        return ewma_ok(theta, beta, True)

    def t_plus_one(theta, beta, bias_correction=True):
        raw = ewma_ok(theta, beta, False)
        return raw / (1 - beta ** np.arange(2, len(theta) + 2)) if bias_correction else raw

    _rejects(checks.check_ewma, swapped, "swapped")
    _rejects(checks.check_ewma, never_corrects, "no bias correction")
    _rejects(checks.check_ewma, feeds_back, "fed back")
    _rejects(checks.check_ewma, t_from_zero, "count t from 1")
    # Each known mistake, with its full message.
    label = "exponentially_weighted_average(beta=0.9, bias_correction"
    _rejects(
        checks.check_ewma,
        swapped,
        f"{label}=False): beta and 1 - beta are swapped: v = beta * v + (1 - beta) * theta_t keeps beta on the old "
        "average",
    )
    _rejects(
        checks.check_ewma,
        always_corrects,
        f"{label}=False): bias correction applied although bias_correction=False",
    )
    _rejects(
        checks.check_ewma,
        never_corrects,
        f"{label}=True): no bias correction: with bias_correction=True return v_t / (1 - beta**t)",
    )
    _rejects(
        checks.check_ewma,
        feeds_back,
        f"{label}=True): the corrected value was fed back into the average: keep v uncorrected and divide only the "
        "output",
    )
    _rejects(
        checks.check_ewma,
        t_plus_one,
        f"{label}=True): bias correction uses t + 1: the first value theta_1 is t = 1, so divide by 1 - beta**t",
    )
    _rejects(
        checks.check_ewma,
        t_from_zero,
        f"{label}=True): got NaN or infinite values: count t from 1 (the first value is t = 1, so 1 - beta**t > 0)",
    )


# ----------------------------------------------------------------------------------------------- optimizers


def test_update_rules_accept_references(capsys):
    checks.check_momentum_step(momentum_ok)
    checks.check_rmsprop_step(rmsprop_ok)
    checks.check_adam_step(adam_ok)
    assert capsys.readouterr().out.count("all tests passed") == 3


def test_momentum_rejects_mistakes():
    def keras_form(w, dw, v, learning_rate=0.01, beta=0.9):
        v = beta * v - learning_rate * dw
        return w + v, v

    def no_one_minus_beta(w, dw, v, learning_rate=0.01, beta=0.9):
        v = beta * v + dw
        return w - learning_rate * v, v

    def uses_gradient(w, dw, v, learning_rate=0.01, beta=0.9):
        v = beta * v + (1 - beta) * dw
        return w - learning_rate * dw, v

    def in_place(w, dw, v, learning_rate=0.01, beta=0.9):
        v *= beta
        v += (1 - beta) * dw
        w -= learning_rate * v
        return w, v

    def swapped(w, dw, v, learning_rate=0.01, beta=0.9):
        return momentum_ok(w, dw, v, learning_rate, 1 - beta)

    def old_velocity(w, dw, v, learning_rate=0.01, beta=0.9):
        return w - learning_rate * v, beta * v + (1 - beta) * dw

    def climbs(w, dw, v, learning_rate=0.01, beta=0.9):
        return momentum_ok(w, dw, v, -learning_rate, beta)

    _rejects(checks.check_momentum_step, keras_form, "Keras")
    _rejects(checks.check_momentum_step, no_one_minus_beta, "(1 - beta)")
    _rejects(checks.check_momentum_step, uses_gradient, "instead of the new velocity")
    _rejects(checks.check_momentum_step, in_place, "in place")
    _rejects(
        checks.check_momentum_step,
        swapped,
        "update_with_momentum: v: beta and 1 - beta are swapped: v = beta * v + (1 - beta) * dW",
    )
    _rejects(
        checks.check_momentum_step,
        old_velocity,
        "update_with_momentum: w: w was updated with the old velocity: compute the new v first, then "
        "w = w - learning_rate * v",
    )
    _rejects(
        checks.check_momentum_step,
        climbs,
        "update_with_momentum: w: w = w + learning_rate * v climbs the cost: subtract",
    )


def test_rmsprop_rejects_mistakes():
    def eps_inside(w, dw, s, learning_rate=0.01, beta=0.999, epsilon=1e-8):
        s = beta * s + (1 - beta) * dw**2
        return w - learning_rate * dw / np.sqrt(s + epsilon), s

    def not_squared(w, dw, s, learning_rate=0.01, beta=0.999, epsilon=1e-8):
        s = beta * s + (1 - beta) * dw
        return w - learning_rate * dw / (np.sqrt(np.abs(s)) + epsilon), s

    def no_sqrt(w, dw, s, learning_rate=0.01, beta=0.999, epsilon=1e-8):
        s = beta * s + (1 - beta) * dw**2
        return w - learning_rate * dw / (s + epsilon), s

    def swapped(w, dw, s, learning_rate=0.01, beta=0.999, epsilon=1e-8):
        return rmsprop_ok(w, dw, s, learning_rate, 1 - beta, epsilon)

    def old_s(w, dw, s, learning_rate=0.01, beta=0.999, epsilon=1e-8):
        return w - learning_rate * dw / (np.sqrt(s) + epsilon), beta * s + (1 - beta) * dw**2

    _rejects(checks.check_rmsprop_step, eps_inside, "inside the square root")
    _rejects(
        checks.check_rmsprop_step,
        swapped,
        "update_with_rmsprop: s: beta and 1 - beta are swapped: s = beta * s + (1 - beta) * dW**2",
    )
    _rejects(
        checks.check_rmsprop_step,
        old_s,
        "update_with_rmsprop: w: w was updated with the old s: compute the new s first",
    )
    _rejects(checks.check_rmsprop_step, not_squared, "SQUARED")
    _rejects(checks.check_rmsprop_step, no_sqrt, "sqrt(s)")


def test_adam_rejects_mistakes():
    def no_correction(w, dw, v, s, t, learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        v = beta_1 * v + (1 - beta_1) * dw
        s = beta_2 * s + (1 - beta_2) * dw**2
        return w - learning_rate * v / (np.sqrt(s) + epsilon), v, s

    def returns_corrected(w, dw, v, s, t, learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        new_w, v, s = adam_ok(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon)
        return new_w, v / (1 - beta_1**t), s / (1 - beta_2**t)

    def t_plus_one(w, dw, v, s, t, learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        return adam_ok(w, dw, v, s, t + 1, learning_rate, beta_1, beta_2, epsilon)

    def t_minus_one(w, dw, v, s, t, learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        with np.errstate(
            divide="ignore", invalid="ignore"
        ):  # the mistake divides by 1 - beta**0 = 0 at t = 1
            return adam_ok(w, dw, v, s, t - 1, learning_rate, beta_1, beta_2, epsilon)

    def betas_swapped(w, dw, v, s, t, learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        v = beta_1 * v + (1 - beta_1) * dw
        s = beta_2 * s + (1 - beta_2) * dw**2
        return w - learning_rate * (v / (1 - beta_2**t)) / (np.sqrt(s / (1 - beta_1**t)) + epsilon), v, s

    def no_sqrt(w, dw, v, s, t, learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        v = beta_1 * v + (1 - beta_1) * dw
        s = beta_2 * s + (1 - beta_2) * dw**2
        return w - learning_rate * (v / (1 - beta_1**t)) / (s / (1 - beta_2**t) + epsilon), v, s

    _rejects(checks.check_adam_step, no_correction, "no bias correction")
    _rejects(checks.check_adam_step, returns_corrected, "raw averages")
    _rejects(checks.check_adam_step, t_plus_one, "t - 1 or t + 1")
    # Each known mistake, with its full message (step t = 5 is checked first).
    _rejects(
        checks.check_adam_step,
        no_correction,
        "update_with_adam (t=5): w: no bias correction: use v_hat = v / (1 - beta_1**t) and "
        "s_hat = s / (1 - beta_2**t)",
    )
    _rejects(
        checks.check_adam_step,
        returns_corrected,
        "update_with_adam (t=5): v: return the raw averages v and s, not the bias-corrected v_hat and s_hat (those "
        "are only used for this step's update)",
    )
    shifted = (
        "update_with_adam (t=5): w: bias correction uses t - 1 or t + 1: use the step number t as given (the first "
        "step is t = 1)"
    )
    _rejects(checks.check_adam_step, t_plus_one, shifted)
    _rejects(checks.check_adam_step, t_minus_one, shifted)
    _rejects(
        checks.check_adam_step,
        betas_swapped,
        "update_with_adam (t=5): w: beta_1 and beta_2 are swapped in the bias correction",
    )
    _rejects(
        checks.check_adam_step,
        no_sqrt,
        "update_with_adam (t=5): w: the update uses v_hat / s_hat: divide by the square root, sqrt(s_hat) + epsilon",
    )


def test_adam_reference_matches_hand_computation(capsys):
    # The test's own adam_ok, one step from v = s = 0: v_hat = g, s_hat = g**2, so w moves by
    # learning_rate * sign(g) (epsilon = 0); the check accepts it.
    w, v, s = adam_ok(np.array([1.0, -2.0]), np.array([0.3, -5.0]), 0.0, 0.0, 1, 0.1, 0.9, 0.999, 0.0)
    assert np.allclose(w, [0.9, -1.9])
    assert np.allclose(v, [0.03, -0.5]) and np.allclose(s, [0.00009, 0.025])
    checks.check_adam_step(adam_ok)
    assert "update_with_adam: all tests passed" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------- decay


def test_decay_accepts_references(capsys):
    checks.check_learning_rate_decay(decay_ok, exp_ok)
    assert "all tests passed" in capsys.readouterr().out


def test_decay_rejects_mistakes():
    import math

    def not_stepped(learning_rate0, epoch_num, decay_rate, time_interval=1):
        return learning_rate0 / (1 + decay_rate * epoch_num / time_interval)

    def wrong_parentheses(learning_rate0, epoch_num, decay_rate, time_interval=1):
        return learning_rate0 / (1 + decay_rate) * np.floor(epoch_num / time_interval)

    def scalar_only(learning_rate0, epoch_num, decay_rate, time_interval=1):
        return learning_rate0 / (1 + decay_rate * math.floor(np.sum(epoch_num) / time_interval))

    def linear_exp(learning_rate0, epoch_num, decay_base=0.95):
        return learning_rate0 * decay_base * epoch_num

    def check_exp(function):
        checks.check_learning_rate_decay(decay_ok, function)

    def power_on_rate(learning_rate0, epoch_num, decay_base=0.95):
        return learning_rate0**epoch_num * decay_base

    def off_by_one(learning_rate0, epoch_num, decay_base=0.95):
        return learning_rate0 * decay_base ** (epoch_num + 1)

    _rejects(lambda f: checks.check_learning_rate_decay(f, exp_ok), not_stepped, "np.floor")
    _rejects(
        lambda f: checks.check_learning_rate_decay(f, exp_ok),
        not_stepped,
        "learning_rate_decay(learning_rate0=0.5, decay_rate=0.3, time_interval=10): the decay is not stepped: use "
        "np.floor(epoch_num / time_interval), so it changes every time_interval epochs",
    )
    _rejects(
        lambda f: checks.check_learning_rate_decay(f, exp_ok),
        wrong_parentheses,
        "learning_rate_decay(learning_rate0=0.2, decay_rate=1.0, time_interval=1): at epoch 0 the learning rate "
        "must be learning_rate0=0.2: learning_rate0 / (1 + decay_rate) * epoch_num: the epoch belongs inside the "
        "denominator, learning_rate0 / (1 + decay_rate * epoch_num)",
    )
    _rejects(
        check_exp,
        power_on_rate,
        "exponential_decay(learning_rate0=0.1, decay_base=0.95): the power is on the wrong number: "
        "learning_rate0 * decay_base**epoch_num",
    )
    _rejects(
        check_exp,
        linear_exp,
        "exponential_decay(learning_rate0=0.1, decay_base=0.95): learning_rate0 * decay_base * epoch_num is "
        "linear, not exponential: use decay_base**epoch_num",
    )
    _rejects(
        check_exp,
        off_by_one,
        "exponential_decay(learning_rate0=0.1, decay_base=0.95): off by one epoch: at epoch 0 the rate is "
        "learning_rate0 (decay_base**0 = 1)",
    )
    _rejects(lambda f: checks.check_learning_rate_decay(f, exp_ok), wrong_parentheses, "learning_rate0")
    _rejects(lambda f: checks.check_learning_rate_decay(f, exp_ok), scalar_only, "array")
    _rejects(check_exp, linear_exp, "learning_rate0")


def test_decay_formulas_match_keras_schedules():
    # The test's own formulas agree with the Keras schedules the check also compares against.
    import keras

    epochs = np.arange(0, 25)
    inverse = keras.optimizers.schedules.InverseTimeDecay(0.5, 10, 0.3, staircase=True)
    exponential = keras.optimizers.schedules.ExponentialDecay(0.1, 1, 0.95)
    np.testing.assert_allclose(
        decay_ok(0.5, epochs, 0.3, 10), [float(inverse(int(e))) for e in epochs], rtol=1e-6
    )
    np.testing.assert_allclose(
        exp_ok(0.1, epochs, 0.95), [float(exponential(int(e))) for e in epochs], rtol=1e-6
    )


# ----------------------------------------------------------------------------------------------- AdamW


def test_adamw_accepts_reference_and_matches_keras(capsys):
    # The test's own adamw_ok against keras.optimizers.AdamW over ten steps (Keras decays first, then Adam).
    import keras

    w0 = np.array([[0.5, -1.0], [2.0, 0.0]])
    grads = [np.random.default_rng(k).normal(size=w0.shape) for k in range(10)]
    w, v, s = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for t, g in enumerate(grads, start=1):
        w, v, s = adamw_ok(w, g, v, s, t, 0.01, 0.9, 0.999, 1e-8, 0.3)
    variable = keras.Variable(w0.astype("float32"))
    optimizer = keras.optimizers.AdamW(learning_rate=0.01, weight_decay=0.3, epsilon=1e-8)
    for g in grads:
        optimizer.apply([g.astype("float32")], [variable])
    np.testing.assert_allclose(w, variable.numpy(), rtol=1e-5, atol=1e-6)
    # One hand-computed step from v = s = 0, epsilon = 0: w is decayed by (1 - 0.1 * 0.5), then moves by
    # learning_rate * sign(g).
    w, v, s = adamw_ok(np.array([1.0, -2.0]), np.array([0.3, -5.0]), 0.0, 0.0, 1, 0.1, 0.9, 0.999, 0.0, 0.5)
    assert np.allclose(w, [0.95 - 0.1, -1.9 + 0.1])
    assert np.allclose(v, [0.03, -0.5]) and np.allclose(s, [0.00009, 0.025])
    checks.check_adamw_step(adamw_ok)
    assert "update_with_adamw: all tests passed" in capsys.readouterr().out


def test_adamw_rejects_mistakes():
    def l2_in_gradient(
        w, dw, v, s, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01
    ):
        return adam_ok(w, dw + weight_decay * w, v, s, t, learning_rate, beta_1, beta_2, epsilon)

    def no_decay(
        w, dw, v, s, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01
    ):
        return adam_ok(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon)

    def decay_after(
        w, dw, v, s, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01
    ):
        w, v, s = adam_ok(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon)
        return w - learning_rate * weight_decay * w, v, s

    def unscaled(
        w, dw, v, s, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01
    ):
        return adam_ok(w - weight_decay * w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon)

    def grows(w, dw, v, s, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01):
        return adam_ok(
            w + learning_rate * weight_decay * w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon
        )

    def no_correction(
        w, dw, v, s, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01
    ):
        v = beta_1 * v + (1 - beta_1) * dw
        s = beta_2 * s + (1 - beta_2) * dw**2
        return w - learning_rate * weight_decay * w - learning_rate * v / (np.sqrt(s) + epsilon), v, s

    def returns_corrected(
        w, dw, v, s, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01
    ):
        new_w, v, s = adamw_ok(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon, weight_decay)
        return new_w, v / (1 - beta_1**t), s / (1 - beta_2**t)

    def t_plus_one(
        w, dw, v, s, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01
    ):
        return adamw_ok(w, dw, v, s, t + 1, learning_rate, beta_1, beta_2, epsilon, weight_decay)

    def in_place(
        w, dw, v, s, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01
    ):
        w -= learning_rate * weight_decay * w
        return adam_ok(w, dw, v, s, t, learning_rate, beta_1, beta_2, epsilon)

    where = "update_with_adamw (t=5): "
    _rejects(
        checks.check_adamw_step,
        l2_in_gradient,
        where
        + "v: weight_decay * w was added to the gradient (L2 regularization inside Adam): then v and s average "
        "it and sqrt(s_hat) rescales it. AdamW decouples the decay: v and s see dW only, and "
        "w = w - learning_rate * weight_decay * w is a separate step",
    )
    _rejects(
        checks.check_adamw_step,
        no_decay,
        where
        + "w: the weights were not decayed: this is plain Adam. Add w = w - learning_rate * weight_decay * w",
    )
    _rejects(
        checks.check_adamw_step,
        decay_after,
        where
        + "w: the decay was applied to the already-updated weights: decay the w the step starts from (the "
        "paper's theta_{t-1}, Keras's order): w - learning_rate * weight_decay * w, then the Adam step",
    )
    _rejects(
        checks.check_adamw_step,
        unscaled,
        where
        + "w: the decay is not scaled by the learning rate: like keras.optimizers.AdamW and torch.optim.AdamW, "
        "subtract learning_rate * weight_decay * w",
    )
    _rejects(
        checks.check_adamw_step,
        grows,
        where + "w: w + learning_rate * weight_decay * w grows the weights: weight decay subtracts",
    )
    _rejects(
        checks.check_adamw_step,
        no_correction,
        where + "w: no bias correction: use v_hat = v / (1 - beta_1**t) and s_hat = s / (1 - beta_2**t)",
    )
    _rejects(
        checks.check_adamw_step,
        returns_corrected,
        where
        + "v: return the raw averages v and s, not the bias-corrected v_hat and s_hat (those are only used for "
        "this step's update)",
    )
    _rejects(
        checks.check_adamw_step,
        t_plus_one,
        where
        + "w: bias correction uses t - 1 or t + 1: use the step number t as given (the first step is t = 1)",
    )
    _rejects(checks.check_adamw_step, in_place, "argument w was modified in place")


# ----------------------------------------------------------------------------------------------- public names
