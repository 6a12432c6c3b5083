"""Training throughput with each dlkit schedule and callback, relative to a constant learning rate.

Run: .venv/bin/python benchmarks/bench_schedules.py [--quick] [--repeats N]

Every configuration trains its own copy of the same MLP (64-512-512-10, SGD with momentum, batch 256) on the
same synthetic data; a sample is one `model.fit(..., epochs=1)` call (24 steps, the callbacks' per-fit work
included, as in a real run). Each configuration is timed against the constant-rate model by
`_timing.compare`: one untimed warm-up epoch each (it traces the train step), then `--repeats` (default 15)
rounds alternating the order (constant config, config constant, ...). Pairs rather than one round over all
ten models: a round of two epochs takes half a second, so bursts of load from other processes hit both sides
of a pair alike, where a ten-model round (several seconds) let them hit some models and miss others. The
tables give min/median/max per epoch; throughput relative to the constant rate is the ratio of medians,
constant / configuration, within the pair. Goals: schedule >= 0.97x, callback >= 0.9x.

`--quick` uses a narrower MLP, fewer samples and 3 timed rounds (a smoke run; verdicts only indicative).
It runs on the active Keras backend (`KERAS_BACKEND`); `benchmarks/bench_backends.py` runs it on each one.
`--json PATH` also writes the verdicts (name, ratio, goal, met) for that driver.
"""

import argparse
import json
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _timing import compare  # noqa: E402

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


def configurations(directory, total):
    """name -> (kind, factory returning (learning rate or schedule, callbacks)); `total` steps in the run."""
    return {
        "constant": ("baseline", lambda: (0.01, [])),
        "CyclicLR": ("schedule", lambda: (S.CyclicLR(0.001, 0.01, 50, mode="exp_range", gamma=0.999), [])),
        "LinearWarmup": (
            "schedule",
            lambda: (S.LinearWarmup(total, keras.optimizers.schedules.ExponentialDecay(0.01, 100, 0.9)), []),
        ),
        "SnapshotCosineDecay": ("schedule", lambda: (S.SnapshotCosineDecay(0.01, total, 5), [])),
        "OneCycleLR": ("schedule", lambda: (S.OneCycleLR(0.01, total, three_phase=True), [])),
        "callbacks.CyclicLRCallback": (
            "callback",
            lambda: (0.01, [C.CyclicLRCallback(0.001, 0.01, 50, mode="triangular2")]),
        ),
        # Warmup spans the whole run so that the callback is active on every step.
        "callbacks.LearningRateWarmup": ("callback", lambda: (0.01, [C.LearningRateWarmup(total)])),
        # M = 4 snapshot files written during the run, as in a real one.
        "callbacks.SnapshotEnsemble": (
            "callback",
            lambda: (0.01, [C.SnapshotEnsemble(4, 0.01, os.path.join(directory, "snap"), total_steps=total)]),
        ),
        # A ramp longer than the run, so the range test never stops it early.
        "callbacks.LRFinder": (
            "callback",
            lambda: (0.01, [C.LRFinder(1e-5, 1e-4, num_steps=10 * total, stop_factor=1e9)]),
        ),
        "callbacks.LearningRateLogger": ("callback", lambda: (0.01, [C.LearningRateLogger()])),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="narrow MLP, 2048 samples, 3 timed rounds")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds (default 15)")
    parser.add_argument("--json", default=None, help="also write the verdicts to this JSON file")
    args = parser.parse_args()
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 15)
    samples, width = (2048, 128) if args.quick else (6144, 512)
    steps_per_epoch = samples // BATCH
    total = steps_per_epoch * (repeats + 2)  # warm-up epoch + timed epochs + one spare

    dlkit.set_seed(0, deterministic=False)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, size=samples)
    kinds, fits, results = {}, {}, {}
    with tempfile.TemporaryDirectory() as directory:
        for name, (kind, make) in configurations(directory, total).items():
            kinds[name] = kind
            learning_rate, callbacks = make()
            model = build(learning_rate, width)
            fits[name] = lambda model=model, callbacks=callbacks: model.fit(
                x, y, batch_size=BATCH, epochs=1, callbacks=callbacks, verbose=0
            )
        constant = fits.pop("constant")
        print(
            f"MLP {FEATURES}-{width}-{width}-{CLASSES}, batch {BATCH}, {steps_per_epoch} steps/epoch; "
            "time per epoch (one fit call), each configuration against the constant rate:"
        )
        for name, fit in fits.items():
            results[name] = compare(
                {"constant": constant, name: fit},
                repeats,
                label="time/const",
                title=f"{name} ({kinds[name]})",
            )
    # The goal's measure is wall-clock throughput (ratio of medians); the CPU-time ratio (all threads of this
    # process) is a cross-check that other processes competing for the cores disturb much less.
    print(
        f"{'configuration':30s} {'kind':9s} {'ms/step':>8s} {'constant':>8s} {'throughput vs constant':>23s}"
        f" {'(CPU time)':>10s}  goal"
    )
    verdicts, rows = [], []
    for name, timings in results.items():
        baseline, timing = timings["constant"], timings[name]
        throughput = baseline.median / timing.median
        cpu_throughput = baseline.cpu_median / timing.cpu_median
        goal = GOALS[kinds[name]]
        verdicts.append(throughput >= goal)
        rows.append({"name": name, "ratio": throughput, "goal": f">= {goal}", "met": throughput >= goal})
        print(
            f"{name:30s} {kinds[name]:9s} {timing.median * 1e3 / steps_per_epoch:8.3f} "
            f"{baseline.median * 1e3 / steps_per_epoch:8.3f} {throughput:22.3f}x {cpu_throughput:9.3f}x"
            f"  >= {goal}: {'met' if throughput >= goal else 'NOT met'}"
        )
    note = " (--quick sizes: indicative only)" if args.quick else ""
    print(f"goals met: {sum(verdicts)} of {len(verdicts)}{note}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f)


if __name__ == "__main__":
    main()
