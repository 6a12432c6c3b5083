"""Stress run of `DistributedSearch` (chief + 2 workers), N times in a row, on a loaded machine. Not part of CI.

    .venv/bin/python benchmarks/stress_distributed_search.py [--runs 20] [--no-load] [--target quick|moons]

Each run is one chief + `--workers` worker search that must end with every trial COMPLETED, exactly `--trials`
trials and no trial id twice. `--target quick` (default) scores a trial without training, so a worker finishes
every trial in a fraction of a second while the other may still be importing TensorFlow: the timing in which a
chief that stops too early loses a worker (issue 23). `--target moons` trains the small Keras model of
`dlkit.tuning.examples.moons_search` instead. With `--load` (default) two busy-loop processes keep the cores busy
meanwhile, so process start-up is slow and uneven, as on a shared machine.

Prints one line per run (status, wall time, trials per worker) and finally `K failures in N runs`; exits 1 if any
run failed (its files are kept; the error names the directory).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import keras_tuner
import numpy as np

from dlkit.tuning import DistributedSearch

_THIS_FILE = os.path.abspath(__file__)


class _QuickTuner(keras_tuner.RandomSearch):
    """No training: the score is a known function of the learning rate, and the trial leaves a folder behind."""

    def run_trial(self, trial, *args, **kwargs):
        learning_rate = trial.hyperparameters.Float("learning_rate", 1e-4, 1.0, sampling="log")
        # The worker's own trial folder tells `DistributedSearch` which worker ran the trial.
        os.makedirs(self.get_trial_dir(trial.trial_id), exist_ok=True)
        return {"score": -((np.log10(learning_rate) + 2.0) ** 2)}


def quick_search(directory, max_trials=6):
    """The search every process of a `--target quick` run calls (imported by file path)."""
    tuner = _QuickTuner(
        objective=keras_tuner.Objective("score", "max"),
        max_trials=max_trials,
        seed=3,
        directory=directory,
        project_name="quick",
        overwrite=True,
    )
    tuner.search(verbose=0)


def _start_load(num_processes):
    # Separate processes, not threads: each one keeps a whole core busy regardless of the GIL.
    return [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
        for _ in range(num_processes)
    ]


def _stop_load(processes):
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _check(result, max_trials):
    """Returns a list of problems with a finished search (empty if none)."""
    trials = result["trials"]
    ids = [t["trial_id"] for t in trials]
    problems = []
    if len(trials) != max_trials:
        problems.append(f"{len(trials)} trials, expected {max_trials}")
    if len(set(ids)) != len(ids):
        problems.append(f"a trial id twice: {ids}")
    not_completed = {t["trial_id"]: t["status"] for t in trials if t["status"] != "COMPLETED"}
    if not_completed:
        problems.append(f"trials not COMPLETED: {not_completed}")
    return problems


def run_once(args):
    """Runs one search; returns (ok, wall seconds, one-line detail)."""
    target = f"{_THIS_FILE}:quick_search" if args.target == "quick" else "dlkit.tuning.examples:moons_search"
    target_kwargs = {"max_trials": args.trials}
    if args.target == "moons":
        target_kwargs.update(num_epochs=args.epochs, seed=0)
    search = DistributedSearch(
        target,
        num_workers=args.workers,
        target_kwargs=target_kwargs,
        threads_per_worker=1,
        timeout=args.timeout,
    )
    start = time.perf_counter()
    try:
        result = search.run()
    except RuntimeError as error:
        return False, time.perf_counter() - start, str(error)
    seconds = time.perf_counter() - start
    problems = _check(result, args.trials)
    if problems:
        return False, seconds, "; ".join(problems)
    workers = [t["worker"] for t in result["trials"]]
    per_worker = {w: workers.count(w) for w in sorted(set(workers), key=str)}
    return True, seconds, f"search {result['search_seconds']:5.1f} s  trials per worker {per_worker}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="searches in a row (default 20)")
    parser.add_argument(
        "--load",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run 2 busy-loop processes meanwhile (default: on)",
    )
    parser.add_argument("--target", choices=["quick", "moons"], default="quick")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=5, help="epochs per trial with --target moons")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per search")
    args = parser.parse_args()
    for name in ("runs", "workers", "trials", "epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1. Received: {getattr(args, name)}")

    print(
        f"cores: {os.cpu_count()}  runs: {args.runs}  target: {args.target}  workers: {args.workers}  "
        f"trials: {args.trials}  load: {'2 busy-loop processes' if args.load else 'none'}  "
        f"load average before: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    load = _start_load(2) if args.load else []
    failures, times = 0, []
    try:
        for run in range(1, args.runs + 1):
            ok, seconds, detail = run_once(args)
            times.append(seconds)
            if ok:
                print(f"run {run:3d}/{args.runs}: ok      {seconds:6.1f} s  {detail}", flush=True)
            else:
                failures += 1
                print(f"run {run:3d}/{args.runs}: FAILED  {seconds:6.1f} s\n{detail}\n", flush=True)
    finally:
        _stop_load(load)
    print(
        f"per-run time: min {min(times):.1f} s  median {statistics.median(times):.1f} s  max {max(times):.1f} s; "
        f"load average after: {os.getloadavg()[0]:.1f}"
    )
    print(f"{failures} failures in {args.runs} runs")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
