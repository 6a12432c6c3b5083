"""Training throughput with each dlkit schedule and callback, relative to a constant learning rate.

Run: .venv/bin/python benchmarks/bench_schedules.py [--quick] [--repeats N]

Every configuration trains its own copy of the same MLP (64-512-512-10, SGD with momentum, batch 256) on the
same synthetic data, timed by `_timing.compare` against the constant-rate model (ratio of medians, constant /
configuration = throughput, with its 95% paired-bootstrap interval):

- schedules: a sample is one train step (`train_on_batch`: the train function `fit` runs, where the
  optimizer evaluates the schedule), all models in turn and the order reversed every round, 400 rounds after
  5 warm-up steps each. Keras's own ExponentialDecay is timed the same way, for scale.
- callbacks: a sample is one `model.fit(..., epochs=1)` call (24 steps, the callbacks' per-fit work included,
  as in a real run), each callback in a pair with the constant-rate model, `--repeats` (default 30) rounds
  after one warm-up epoch each (it traces the train step).

A goal (schedule >= 0.97x, callback >= 0.9x) is "met" or "NOT met" only when the whole interval says so, else
"undecided". Control rows time a second constant-rate model the same ways: their intervals are the run's
noise and should contain 1.0. On 2 cores the same epoch's time varies by 15-25% under TensorFlow (less under
JAX and PyTorch), which step-by-step alternation cancels for the schedules; for the callbacks the intervals
say what a run can show. The cost column (microseconds per step) carries over to other step times:
throughput = step / (step + cost).

`--quick` uses a narrower MLP, fewer samples, 30 step rounds and 3 epoch rounds (a smoke run; verdicts only
indicative).
It runs on the active Keras backend (`KERAS_BACKEND`); `benchmarks/bench_backends.py` runs it on each one.
`--json PATH` also writes the verdicts (name, ratio, interval, goal, verdict) for that driver.
"""

import argparse
import json
import os
import tempfile

from _timing import compare, verdict

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import dlkit  # noqa: E402
from dlkit import callbacks as C  # noqa: E402
from dlkit import schedules as S  # noqa: E402

FEATURES, CLASSES, BATCH = 64, 10, 256
GOALS = {"schedule": 0.97, "callback": 0.9}


def build(learning_rate, width):
    model = keras.Sequential(
        [
            keras.Input((FEATURES,)),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.SGD(learning_rate, momentum=0.9), "sparse_categorical_crossentropy")
    return model


def schedule_configurations(total):
    """name -> (kind, learning rate or schedule); `total` steps in the run."""
    return {
        "constant": ("baseline", 0.01),
        # The same configuration as the baseline, in a second model: the run's noise.
        "control: constant, per step": ("control", 0.01),
        # Keras's own schedule, for scale: what any schedule costs in the train step.
        "keras ExponentialDecay": ("reference", keras.optimizers.schedules.ExponentialDecay(0.01, 100, 0.9)),
        "CyclicLR": ("schedule", S.CyclicLR(0.001, 0.01, 50, mode="exp_range", gamma=0.999)),
        "LinearWarmup": (
            "schedule",
            S.LinearWarmup(total // 2, keras.optimizers.schedules.ExponentialDecay(0.01, 100, 0.9)),
        ),
        "SnapshotCosineDecay": ("schedule", S.SnapshotCosineDecay(0.01, total, 5)),
        "OneCycleLR": ("schedule", S.OneCycleLR(0.01, total, three_phase=True)),
    }


def callback_configurations(directory, total):
    """name -> (kind, factory returning the callbacks); `total` steps in the run, at a constant rate."""
    return {
        "constant": ("baseline", lambda: []),
        "control: constant, per epoch": ("control", lambda: []),
        "callbacks.CyclicLRCallback": (
            "callback",
            lambda: [C.CyclicLRCallback(0.001, 0.01, 50, mode="triangular2")],
        ),
        # Warmup spans the whole run so that the callback is active on every step.
        "callbacks.LearningRateWarmup": ("callback", lambda: [C.LearningRateWarmup(total)]),
        # M = 4 snapshot files written during the run, as in a real one.
        "callbacks.SnapshotEnsemble": (
            "callback",
            lambda: [C.SnapshotEnsemble(4, 0.01, os.path.join(directory, "snap"), total_steps=total)],
        ),
        # A ramp longer than the run, so the range test never stops it early.
        "callbacks.LRFinder": (
            "callback",
            lambda: [C.LRFinder(1e-5, 1e-4, num_steps=10 * total, stop_factor=1e9)],
        ),
        "callbacks.LearningRateLogger": ("callback", lambda: [C.LearningRateLogger()]),
    }


def judge(name, kind, baseline, timing, steps_per_sample):
    """One table row: throughput vs the constant rate, its interval, the cost per step and the verdict."""
    throughput = 1.0 / timing.ratio
    low, high = (1.0 / bound for bound in reversed(timing.ratio_interval))
    goal = GOALS.get(kind)
    if goal is None:
        judged = "interval contains 1.0" if low <= 1.0 <= high else "interval does NOT contain 1.0"
    else:
        judged = verdict((low, high), goal, at_least=True)
    cost = (timing.median - baseline.median) / steps_per_sample * 1e6
    print(
        f"{name:30s} {kind:9s} {timing.median * 1e3 / steps_per_sample:8.3f} "
        f"{baseline.median * 1e3 / steps_per_sample:8.3f} {cost:12.0f} {throughput:22.3f}x"
        f" {low:6.3f}-{high:6.3f} {baseline.cpu_median / timing.cpu_median:9.3f}x  "
        + (judged if goal is None else f">= {goal}: {judged}")
    )
    return {
        "name": name,
        "ratio": throughput,
        "interval": [low, high],
        "goal": None if goal is None else f">= {goal}",
        "verdict": judged if goal is not None else None,
    }


HEADER = (
    f"{'configuration':30s} {'kind':9s} {'ms/step':>8s} {'constant':>8s} {'cost us/step':>12s}"
    f" {'throughput vs constant':>23s} {'95% CI':>13s} {'(CPU time)':>10s}  goal"
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="narrow MLP, 2048 samples, few rounds")
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed epochs per callback pair (default 30)"
    )
    parser.add_argument("--json", default=None, help="also write the verdicts to this JSON file")
    args = parser.parse_args()
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 30)
    step_rounds = 30 if args.quick else 400
    samples, width = (2048, 128) if args.quick else (6144, 512)
    steps_per_epoch = samples // BATCH
    total = steps_per_epoch * (repeats + 2)  # warm-up epoch + timed epochs + one spare

    dlkit.set_seed(0, deterministic=False)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, size=samples)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"MLP {FEATURES}-{width}-{width}-{CLASSES}, batch {BATCH}, Keras {keras.__version__} on "
        f"{keras.backend.backend()}, {cores} core(s)"
    )
    rows = []

    # Schedules: one train step (`train_on_batch`, the train function `fit` runs) per sample, every model in
    # turn, so that each round's steps run within milliseconds of each other.
    x_batch, y_batch = x[:BATCH], y[:BATCH]
    kinds, steps = {}, {}
    for name, (kind, learning_rate) in schedule_configurations(step_rounds + 10).items():
        kinds[name] = kind
        model = build(learning_rate, width)
        steps[name] = lambda model=model: model.train_on_batch(x_batch, y_batch)
    timings = compare(
        steps,
        step_rounds,
        warmup=5,
        reference="constant",
        label="time/const",
        title="schedules: time per step",
    )
    print(HEADER)
    for name, timing in list(timings.items())[1:]:
        rows.append(judge(name, kinds[name], timings["constant"], timing, 1))

    # Callbacks: one `model.fit(..., epochs=1)` per sample (the callbacks' per-fit work included), each
    # configuration in a pair with the constant-rate model.
    kinds, fits, results = {}, {}, {}
    with tempfile.TemporaryDirectory() as directory:
        for name, (kind, make) in callback_configurations(directory, total).items():
            kinds[name] = kind
            model, callbacks = build(0.01, width), make()
            fits[name] = lambda model=model, callbacks=callbacks: model.fit(
                x, y, batch_size=BATCH, epochs=1, callbacks=callbacks, verbose=0
            )
        constant = fits.pop("constant")
        print(
            f"\ncallbacks: time per epoch ({steps_per_epoch} steps, one fit call), each against the constant rate"
        )
        for name, fit in fits.items():
            results[name] = compare(
                {"constant": constant, name: fit},
                repeats,
                label="time/const",
                title=f"{name} ({kinds[name]})",
            )
    print(HEADER)
    for name, pair in results.items():
        rows.append(judge(name, kinds[name], pair["constant"], pair[name], steps_per_epoch))

    judged = [row["verdict"] for row in rows if row["verdict"] is not None]
    note = " (--quick sizes: indicative only)" if args.quick else ""
    print(
        f"goals met: {judged.count('met')} of {len(judged)}, NOT met: {judged.count('NOT met')}, "
        f"undecided: {judged.count('undecided')}{note}"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f)


if __name__ == "__main__":
    main()
