"""Training throughput with each dlkit schedule and callback, relative to a constant learning rate.

Every configuration trains the same MLP on the same synthetic data; epochs are timed round-robin (so drift in
machine load hits all configurations alike) after a warm-up epoch that traces the train step, and the median
epoch time is compared with the constant-rate baseline measured in the same run.
Goals: schedule >= 0.97x, callback >= 0.9x.

Run: .venv/bin/python benchmarks/bench_schedules.py
"""

import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import dlkit  # noqa: E402
from dlkit import callbacks as C  # noqa: E402
from dlkit import schedules as S  # noqa: E402

SAMPLES, FEATURES, CLASSES, BATCH = 6144, 64, 10, 256
STEPS_PER_EPOCH = SAMPLES // BATCH
REPEATS = 7


def build(learning_rate):
    model = keras.Sequential(
        [
            keras.Input((FEATURES,)),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    model.compile(keras.optimizers.SGD(learning_rate, momentum=0.9), "sparse_categorical_crossentropy")
    return model


def configurations(directory):
    total = STEPS_PER_EPOCH * (REPEATS + 2)
    return {
        "constant": ("baseline", lambda: (0.01, [])),
        "CyclicLR": ("schedule", lambda: (S.CyclicLR(0.001, 0.01, 50, mode="exp_range", gamma=0.999), [])),
        "LinearWarmup": (
            "schedule",
            lambda: (S.LinearWarmup(total, keras.optimizers.schedules.ExponentialDecay(0.01, 100, 0.9)), []),
        ),
        "SnapshotCosineDecay": ("schedule", lambda: (S.SnapshotCosineDecay(0.01, total, 5), [])),
        "OneCycleLR": ("schedule", lambda: (S.OneCycleLR(0.01, total, three_phase=True), [])),
        "callbacks.CyclicLR": ("callback", lambda: (0.01, [C.CyclicLR(0.001, 0.01, 50, mode="triangular2")])),
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
    dlkit.set_seed(0, deterministic=False)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, size=SAMPLES)
    with tempfile.TemporaryDirectory() as directory:
        runs = {}
        for name, (kind, make) in configurations(directory).items():
            learning_rate, callbacks = make()
            model = build(learning_rate)
            model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=callbacks, verbose=0)  # warm-up: trace
            runs[name] = (kind, model, callbacks, [], [])
        for _ in range(REPEATS):
            for _name, (_kind, model, callbacks, times, cpu_times) in runs.items():
                start, cpu_start = time.perf_counter(), time.process_time()
                model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=callbacks, verbose=0)
                times.append(time.perf_counter() - start)
                cpu_times.append(time.process_time() - cpu_start)
    baseline = statistics.median(runs["constant"][3])
    cpu_baseline = statistics.median(runs["constant"][4])
    print(f"MLP 64-512-512-10, batch {BATCH}, {STEPS_PER_EPOCH} steps/epoch, median of {REPEATS} epochs")
    print(f"constant learning rate: {baseline * 1e3 / STEPS_PER_EPOCH:.3f} ms/step")
    # Wall-clock throughput is the goal's measure; the CPU-time ratio (all threads of this process) is a
    # cross-check that shrugs off other processes competing for the cores.
    print(
        f"{'configuration':32s} {'kind':9s} {'ms/step':>8s} {'throughput vs constant':>23s} {'(CPU time)':>10s}  goal"
    )
    for name, (kind, _, _, times, cpu_times) in runs.items():
        if kind == "baseline":
            continue
        median = statistics.median(times)
        ratio = baseline / median
        cpu_ratio = cpu_baseline / statistics.median(cpu_times)
        goal = 0.97 if kind == "schedule" else 0.9
        verdict = "ok" if ratio >= goal else "below"
        print(
            f"{name:32s} {kind:9s} {median * 1e3 / STEPS_PER_EPOCH:8.3f} {ratio:22.3f}x {cpu_ratio:9.3f}x"
            f"  >= {goal} {verdict}"
        )


if __name__ == "__main__":
    main()
