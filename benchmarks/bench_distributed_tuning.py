"""Wall time of the same keras-tuner trials run by 1 worker vs 2 workers (chief + workers on loopback).

    .venv/bin/python benchmarks/bench_distributed_tuning.py [--trials 4] [--epochs 5] [--repeats 3]

Each run is one `dlkit.tuning.DistributedSearch` of `dlkit.tuning.examples:moons_search` (a tiny Keras network
on the moons data, learning rate log-uniform in [1e-4, 1]); the oracle is seeded, so every run trains the same
learning rates. Every worker gets one TensorFlow thread, like one machine each.

Fair comparison: one untimed warm-up run of each (fills the file cache with TensorFlow's files, so the first
timed run is not slower for that alone), then the timed runs alternate 1, 2, 2, 1, 1, 2, ... (ABBA), so a drift in
the machine's load hits both sides alike. Printed per worker count: min / median / max of `search` = first trial
created -> last worker done (what parallel workers speed up) and `wall` = including the start-up of the chief and
worker processes (a fixed cost per machine), and the ratio of medians, 2 workers / 1 worker (below 1: faster; on a
2-core machine it is at best 0.5, and other load on the machine eats into that).
"""

import argparse
import os
import statistics
import time

from dlkit.tuning import DistributedSearch


def run_once(num_workers, trials, epochs):
    """Runs one search; returns (search seconds, wall seconds, learning rates tried, trials per worker)."""
    search = DistributedSearch(
        "dlkit.tuning.examples:moons_search",
        num_workers=num_workers,
        target_kwargs={"max_trials": trials, "num_epochs": epochs, "seed": 0},
        threads_per_worker=1,
        timeout=600,
    )
    result = search.run()
    statuses = [t["status"] for t in result["trials"]]
    if statuses.count("COMPLETED") != trials:
        raise RuntimeError(f"Expected {trials} completed trials. Received: statuses={statuses}")
    learning_rates = tuple(sorted(round(t["hyperparameters"]["learning_rate"], 12) for t in result["trials"]))
    workers = [t["worker"] for t in result["trials"]]
    per_worker = {w: workers.count(w) for w in sorted(set(workers), key=str)}
    return result["search_seconds"], result["wall_seconds"], learning_rates, per_worker


def alternating_order(repeats):
    """Returns the timed runs' worker counts: 1, 2, 2, 1, 1, 2, ... (`repeats` of each).

    Args:
        repeats: Integer >= 1. Timed runs per worker count.

    Returns:
        List of 2 * `repeats` worker counts.

    Raises:
        ValueError: if `repeats` < 1.
    """
    if repeats < 1:
        raise ValueError(f"Argument `repeats` must be >= 1. Received: repeats={repeats}")
    return [n for i in range(repeats) for n in ((1, 2) if i % 2 == 0 else (2, 1))]


def _spread(values):
    return f"min {min(values):6.1f}  median {statistics.median(values):6.1f}  max {max(values):6.1f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per worker count (default 3)")
    parser.add_argument(
        "--no-warmup", dest="warmup", action="store_false", help="skip the untimed warm-up runs"
    )
    args = parser.parse_args()
    order = alternating_order(args.repeats)
    print(
        f"cores: {os.cpu_count()}  trials: {args.trials}  epochs/trial: {args.epochs}  timed runs: "
        f"{args.repeats} per worker count, order {order}  load average before: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    start = time.perf_counter()
    rates = set()
    if args.warmup:
        for num_workers in (1, 2):
            search_s, wall_s, learning_rates, _ = run_once(num_workers, args.trials, args.epochs)
            rates.add(learning_rates)
            print(
                f"  warm-up  {num_workers} worker(s): search {search_s:6.1f} s   wall {wall_s:6.1f} s",
                flush=True,
            )
    times = {1: {"search": [], "wall": []}, 2: {"search": [], "wall": []}}
    for num_workers in order:
        search_s, wall_s, learning_rates, per_worker = run_once(num_workers, args.trials, args.epochs)
        rates.add(learning_rates)
        times[num_workers]["search"].append(search_s)
        times[num_workers]["wall"].append(wall_s)
        print(
            f"  timed    {num_workers} worker(s): search {search_s:6.1f} s   wall {wall_s:6.1f} s   "
            f"trials per worker {per_worker}",
            flush=True,
        )
    print(f"same learning rates tried by every run: {len(rates) == 1}")
    for kind in ("search", "wall"):
        for num_workers in (1, 2):
            print(f"{kind:6s} {num_workers} worker(s): {_spread(times[num_workers][kind])}")
    for kind, label in (("search", "search (trials only)"), ("wall", "wall (with process start)")):
        median_1 = statistics.median(times[1][kind])
        median_2 = statistics.median(times[2][kind])
        print(
            f"ratio of medians, 2 workers / 1 worker, {label:26s}: {median_2 / median_1:.2f} "
            f"(speed-up {median_1 / median_2:.2f}x)"
        )
    print(
        f"benchmark took {time.perf_counter() - start:.0f} s; load average after: {os.getloadavg()[0]:.1f} "
        "(other processes on the cores shrink the speed-up)"
    )


if __name__ == "__main__":
    main()
