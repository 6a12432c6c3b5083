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


def test_mini_batch_order_is_dls_permutation():
    np.random.seed(3)
    assert np.array_equal(checks.reference_mini_batch_order(300, 3), np.random.permutation(300))


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
    checks.check_ewma(ewma_ok)
    assert "all tests passed" in capsys.readouterr().out
    # Independent hand computation: theta = 4, 10, beta = 0.5 -> v1 = 2, v2 = 6; corrected 4, 8.
    assert np.allclose(checks.reference_ewma([4.0, 10.0], 0.5, False), [2.0, 6.0])
    assert np.allclose(checks.reference_ewma([4.0, 10.0], 0.5, True), [4.0, 8.0])


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

    _rejects(checks.check_ewma, swapped, "swapped")
    _rejects(checks.check_ewma, never_corrects, "no bias correction")
    _rejects(checks.check_ewma, feeds_back, "fed back")
    _rejects(checks.check_ewma, t_from_zero, "count t from 1")


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

    _rejects(checks.check_momentum_step, keras_form, "Keras")
    _rejects(checks.check_momentum_step, no_one_minus_beta, "(1 - beta)")
    _rejects(checks.check_momentum_step, uses_gradient, "instead of the new velocity")
    _rejects(checks.check_momentum_step, in_place, "in place")


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

    _rejects(checks.check_rmsprop_step, eps_inside, "inside the square root")
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

    _rejects(checks.check_adam_step, no_correction, "no bias correction")
    _rejects(checks.check_adam_step, returns_corrected, "raw averages")
    _rejects(checks.check_adam_step, t_plus_one, "t - 1 or t + 1")


def test_reference_adam_matches_hand_computation():
    # One step from v = s = 0: v_hat = g, s_hat = g**2, so w moves by learning_rate * sign(g) (epsilon = 0).
    w, v, s = checks.reference_adam(np.array([1.0, -2.0]), [np.array([0.3, -5.0])], 0.1, 0.9, 0.999, 0.0)
    assert np.allclose(w, [0.9, -1.9])
    assert np.allclose(v, [0.03, -0.5]) and np.allclose(s, [0.00009, 0.025])


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

    _rejects(lambda f: checks.check_learning_rate_decay(f, exp_ok), not_stepped, "np.floor")
    _rejects(lambda f: checks.check_learning_rate_decay(f, exp_ok), wrong_parentheses, "learning_rate0")
    _rejects(lambda f: checks.check_learning_rate_decay(f, exp_ok), scalar_only, "array")
    _rejects(check_exp, linear_exp, "learning_rate0")
