"""Gradient-check wall time: dlkit full mode vs tf.test.compute_gradient, and fast mode vs full mode.

Run: .venv/bin/python benchmarks/bench_gradcheck.py

The function checked is a 3-layer tanh MLP's float64 cross-entropy cost with a hand-written backward pass
(`tf.custom_gradient`), the thing gradient checking is for. Every timing is end to end (tracing included, as a
user pays it), after one warm-up call, median of repeats.

1. ~2k parameters: `gradcheck(mode="full")` vs `tf.test.compute_gradient` on the same function (which returns
   both Jacobians, perturbing one element at a time in Python). Goal: >= 10x faster.
2. ~10k parameters: `gradcheck(mode="fast")` vs `gradcheck(mode="full")`, with three planted bugs (a scaled
   weight gradient, a wrong bias gradient, a missing L2 term) and the correct gradient: same verdicts and the
   same worst variable. Goal: >= 20x faster.
"""

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from dlkit.gradcheck import gradcheck  # noqa: E402

NAMES = ["W1", "b1", "W2", "b2", "W3", "b3"]


def problem(sizes, num_examples, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((num_examples, sizes[0]))
    y = (rng.random((num_examples, 1)) < 0.5).astype(np.float64)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        params += [
            rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in),
            0.1 * rng.standard_normal(fan_out),
        ]
    return x, y, params


def mlp_cost(x, y, *, scale_dw2=1.0, bias_bug=False, lambd=0.0, drop_l2_grad=False):
    """Cross-entropy (+ L2) of a tanh-tanh-sigmoid MLP, with a hand-written backward pass and optional bugs."""
    x, y = tf.constant(x), tf.constant(y)
    m = float(x.shape[0])

    @tf.custom_gradient
    def cost(w1, b1, w2, b2, w3, b3):
        a1 = tf.tanh(x @ w1 + b1)
        a2 = tf.tanh(a1 @ w2 + b2)
        logits = a2 @ w3 + b3
        j = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(y, logits))
        j += lambd / (2 * m) * (tf.reduce_sum(w1**2) + tf.reduce_sum(w2**2) + tf.reduce_sum(w3**2))

        def backward(upstream):
            dz3 = (tf.sigmoid(logits) - y) / m
            dz2 = dz3 @ tf.transpose(w3) * (1 - a2**2)
            dz1 = dz2 @ tf.transpose(w2) * (1 - a1**2)
            dw1, dw2, dw3 = tf.transpose(x) @ dz1, tf.transpose(a1) @ dz2 * scale_dw2, tf.transpose(a2) @ dz3
            if not drop_l2_grad:
                dw1, dw2, dw3 = dw1 + lambd / m * w1, dw2 + lambd / m * w2, dw3 + lambd / m * w3
            # The bias bug: forgetting to sum over the examples' axis properly (mean instead of sum).
            db2 = tf.reduce_mean(dz2, 0) if bias_bug else tf.reduce_sum(dz2, 0)
            grads = (dw1, tf.reduce_sum(dz1, 0), dw2, db2, dw3, tf.reduce_sum(dz3, 0))
            return [upstream * g for g in grads]

        return j, backward

    return cost


def median_time(call, repeats, warm_up=True):
    if warm_up:
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def full_vs_compute_gradient():
    x, y, params = problem((20, 44, 24, 1), 64)
    num_params = sum(p.size for p in params)
    cost = mlp_cost(x, y)
    tensors = [tf.constant(p) for p in params]
    ours, report = median_time(lambda: gradcheck(cost, params, names=NAMES), repeats=3)
    # compute_gradient takes a minute: one run, after our runs warmed TF up (no warm-up call of its own).
    start = time.perf_counter()
    analytic, numeric = tf.test.compute_gradient(cost, tensors, delta=1e-7)
    theirs = time.perf_counter() - start
    # Same numbers: compute_gradient's Jacobians (1 x n per input) against the report's vectors.
    assert np.allclose(np.concatenate([j.ravel() for j in analytic]), report.grad, rtol=1e-12)
    assert np.allclose(np.concatenate([j.ravel() for j in numeric]), report.gradapprox, atol=1e-7)
    print(
        f"[1] MLP 20-44-24-1, {num_params} parameters, 64 examples: full mode {ours:.2f} s "
        f"({report.evaluation}, difference {report.difference:.2e}), tf.test.compute_gradient {theirs:.2f} s"
    )
    print(f"    full vs tf.test.compute_gradient: {theirs / ours:.1f}x faster (goal >= 10x)")


def fast_vs_full():
    x, y, params = problem((80, 96, 24, 1), 64, seed=1)
    num_params = sum(p.size for p in params)
    cases = {
        "correct": {"lambd": 0.5},
        "scaled weight gradient (dW2 * 1.05)": {"scale_dw2": 1.05},
        "wrong bias gradient (db2 mean, not sum)": {"bias_bug": True},
        "missing L2 term gradient": {"lambd": 0.5, "drop_l2_grad": True},
    }
    print(f"[2] MLP 80-96-24-1, {num_params} parameters, 64 examples; verdicts on planted bugs:")
    ratios, agree = [], True
    for label, kwargs in cases.items():
        cost = mlp_cost(x, y, **kwargs)
        # TF is warm from part 1; full mode runs once per case (it is the slow one), fast mode 3 times.
        full_time, full = median_time(
            lambda cost=cost: gradcheck(cost, params, names=NAMES), 1, warm_up=False
        )
        fast_time, fast = median_time(
            lambda cost=cost: gradcheck(cost, params, names=NAMES, mode="fast", seed=0),
            3 if label == "correct" else 1,
            warm_up=False,
        )
        same = full.passed == fast.passed and (full.passed or full.worst.name == fast.worst.name)
        agree &= same
        if label == "correct":
            ratios.append(full_time / fast_time)
        print(
            f"    {label:40s} full: {'pass' if full.passed else 'FAIL'} (worst {full.worst.name}, "
            f"{full.difference:.1e}) {full_time:6.2f} s | fast: {'pass' if fast.passed else 'FAIL'} "
            f"(worst {fast.worst.name}, {fast.difference:.1e}{', localized' if fast.localized else ''}) "
            f"{fast_time:5.2f} s | {'same verdict' if same else 'DIFFERENT VERDICT'}"
        )
    print(
        f"    fast vs full (correct gradient, {num_params} parameters): {ratios[0]:.1f}x faster (goal >= 20x); "
        f"verdicts {'identical' if agree else 'DIFFER'} on all {len(cases)} cases"
    )


if __name__ == "__main__":
    start = time.perf_counter()
    full_vs_compute_gradient()
    fast_vs_full()
    print(f"total {time.perf_counter() - start:.0f} s")
