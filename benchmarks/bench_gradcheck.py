"""Gradient-check wall time: dlkit full mode vs tf.test.compute_gradient, and fast mode vs full mode.

Run: .venv/bin/python benchmarks/bench_gradcheck.py [--quick] [--repeats N]

The function checked is a 3-layer tanh MLP's float64 cross-entropy cost with a hand-written backward pass
(`tf.custom_gradient`), the thing gradient checking is for. Every timed call is one end-to-end check as a user
runs it (a `gradcheck` call traces its own tf.functions every time, so that is included), and the two sides of
each comparison are timed by `_timing.compare`: one untimed warm-up call each, then `--repeats` (default 7)
rounds alternating the order (A B, B A, ...); the table gives min/median/max per side and the goal is judged on
the ratio of the medians.

1. ~2k parameters (MLP 20-44-24-1): `gradcheck(mode="full")` vs `tf.test.compute_gradient` on the same function
   (which returns both Jacobians, perturbing one element at a time in Python); both return the same numbers.
   Goal: full mode >= 10x faster.
2. ~10k parameters (MLP 80-96-24-1), correct gradient: `gradcheck(mode="fast")` vs `gradcheck(mode="full")`.
   Goal: fast mode >= 20x faster. Then three planted bugs (a scaled weight gradient, a wrong bias gradient, a
   missing L2 term) and the correct gradient, checked once in each mode (untimed): the verdicts and the worst
   variable must be the same in both modes.

`--quick` shrinks both MLPs (a smoke run; its goal verdicts are only indicative) and runs 3 timed rounds.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from _timing import compare  # noqa: E402

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


def goal_line(what, speedup, goal, quick):
    verdict = "met" if speedup >= goal else "NOT met"
    note = " (--quick sizes: indicative only)" if quick else ""
    return f"    {what}: {speedup:.1f}x faster (ratio of medians; goal >= {goal:g}x: {verdict}){note}"


def full_vs_compute_gradient(repeats, quick):
    sizes = (10, 12, 8, 1) if quick else (20, 44, 24, 1)
    x, y, params = problem(sizes, 64)
    num_params = sum(p.size for p in params)
    cost = mlp_cost(x, y)
    tensors = [tf.constant(p) for p in params]
    timings = compare(
        {
            "tf.test.compute_gradient": lambda: tf.test.compute_gradient(cost, tensors, delta=1e-7),
            "gradcheck full": lambda: gradcheck(cost, params, names=NAMES),
        },
        repeats,
        title=f"[1] MLP {'-'.join(map(str, sizes))}, {num_params} parameters, 64 examples",
    )
    analytic, numeric = timings["tf.test.compute_gradient"].result
    report = timings["gradcheck full"].result
    # Same numbers: compute_gradient's Jacobians (1 x n per input) against the report's vectors.
    assert np.allclose(np.concatenate([j.ravel() for j in analytic]), report.grad, rtol=1e-12)
    assert np.allclose(np.concatenate([j.ravel() for j in numeric]), report.gradapprox, atol=1e-7)
    print(f"    full mode: {report.evaluation}, difference {report.difference:.2e}; same Jacobians as TF")
    speedup = timings["tf.test.compute_gradient"].median / timings["gradcheck full"].median
    print(goal_line("full vs tf.test.compute_gradient", speedup, 10, quick))


def fast_vs_full(repeats, quick):
    sizes = (40, 48, 12, 1) if quick else (80, 96, 24, 1)
    x, y, params = problem(sizes, 64, seed=1)
    num_params = sum(p.size for p in params)
    correct = mlp_cost(x, y, lambd=0.5)
    timings = compare(
        {
            "gradcheck full": lambda: gradcheck(correct, params, names=NAMES),
            "gradcheck fast": lambda: gradcheck(correct, params, names=NAMES, mode="fast", seed=0),
        },
        repeats,
        title=f"[2] MLP {'-'.join(map(str, sizes))}, {num_params} parameters, 64 examples, correct gradient",
    )
    speedup = timings["gradcheck full"].median / timings["gradcheck fast"].median
    print(goal_line(f"fast vs full ({num_params} parameters)", speedup, 20, quick))

    cases = {
        "correct": {"lambd": 0.5},
        "scaled weight gradient (dW2 * 1.05)": {"scale_dw2": 1.05},
        "wrong bias gradient (db2 mean, not sum)": {"bias_bug": True},
        "missing L2 term gradient": {"lambd": 0.5, "drop_l2_grad": True},
    }
    print("    verdicts on planted bugs (one untimed check per mode):")
    agree = True
    for label, kwargs in cases.items():
        cost = mlp_cost(x, y, **kwargs)
        full = gradcheck(cost, params, names=NAMES)
        fast = gradcheck(cost, params, names=NAMES, mode="fast", seed=0)
        same = full.passed == fast.passed and (full.passed or full.worst.name == fast.worst.name)
        agree &= same
        print(
            f"    {label:40s} full: {'pass' if full.passed else 'FAIL'} (worst {full.worst.name}, "
            f"{full.difference:.1e}) | fast: {'pass' if fast.passed else 'FAIL'} "
            f"(worst {fast.worst.name}, {fast.difference:.1e}{', localized' if fast.localized else ''}) "
            f"| {'same verdict' if same else 'DIFFERENT VERDICT'}"
        )
    print(
        f"    verdicts identical in both modes on all {len(cases)} cases (goal): {'met' if agree else 'NOT met'}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small MLPs and 3 timed rounds (smoke run)")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per comparison (default 7)")
    args = parser.parse_args()
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 7)
    start = time.perf_counter()
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs")
    full_vs_compute_gradient(repeats, args.quick)
    fast_vs_full(repeats, args.quick)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
