"""dlkit's schedules, callbacks and teaching layers on each Keras backend: one table, a column per backend.

Run: .venv/bin/python benchmarks/bench_backends.py [--quick] [--backends tensorflow jax torch]

For every installed backend (TensorFlow, JAX, PyTorch), in turn, a fresh process with `KERAS_BACKEND` set runs
`bench_schedules.py` (each schedule and callback against a constant learning rate: throughput ratio, goals
schedule >= 0.97x, callback >= 0.9x) and `bench_layers.py` (each teaching layer's train step against its Keras
built-in: time ratio, goals BatchNorm <= 1.3x, InvertedDropout <= 1.1x). Each ratio is measured inside its own
backend's run, side by side and alternated (`_timing.compare`); the backends themselves cannot share a process,
so the table puts their ratios (with 95% intervals) next to each other rather than their absolute times. `--quick` (small sizes, few
rounds: a smoke run) and `--repeats N` pass through.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ("tensorflow", "jax", "torch")
SCRIPTS = ("bench_schedules.py", "bench_layers.py")


def run(backend, script, options, folder):
    """The verdict rows `script` wrote under `backend` ([] and the error's tail printed if it failed)."""
    out = os.path.join(folder, f"{backend}-{script}.json")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu")
    command = [sys.executable, os.path.join(HERE, script), "--json", out, *options]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    print(f"== {script} on {backend}\n{done.stdout}", flush=True)
    if done.returncode != 0:
        print(done.stderr[-2000:])
        return []
    with open(out, encoding="utf-8") as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few rounds in every run")
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed rounds per comparison (scripts' default)"
    )
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    args = parser.parse_args()
    options = (["--quick"] if args.quick else []) + ([f"--repeats={args.repeats}"] if args.repeats else [])
    backends = [b for b in args.backends if importlib.util.find_spec(b) is not None]
    for missing in sorted(set(args.backends) - set(backends)):
        print(f"{missing}: not installed, skipped")
    table = {}  # (script, name) -> {"goal": ..., backend: row}
    with tempfile.TemporaryDirectory() as folder:
        for backend in backends:
            for script in SCRIPTS:
                for row in run(backend, script, options, folder):
                    table.setdefault((script, row["name"]), {"goal": row["goal"]})[backend] = row
    width = 30
    print(f"{'configuration':30s} {'goal':>8s} " + " ".join(f"{b:>{width}s}" for b in backends))
    for (script, name), cell in table.items():
        kind = "throughput" if script == "bench_schedules.py" else "time ratio"
        values = []
        for backend in backends:
            row = cell.get(backend)
            if row is None:
                values.append(f"{'failed':>{width}s}")
                continue
            low, high = row["interval"]
            text = f"{row['ratio']:.2f}x ({low:.2f}-{high:.2f})" + (
                f" {row['verdict']}" if row["verdict"] else ""
            )
            values.append(f"{text:>{width}s}")
        print(f"{name:30s} {cell['goal'] or kind:>8s} " + " ".join(values))
    print("(ratio, its 95% interval, and the verdict: met / NOT met only when the whole interval says so)")
    if args.quick:
        print("(--quick sizes: indicative only)")


if __name__ == "__main__":
    main()
