"""Wall time of the same keras-tuner trials run by 1 worker vs 2 workers (chief + workers on loopback).

    .venv/bin/python benchmarks/bench_distributed_tuning.py [--trials 4] [--epochs 5] [--repeats 1]

Each run is one `dlkit.tuning.DistributedSearch` of `dlkit.tuning.examples:moons_search` (a tiny Keras network
on the moons data, learning rate log-uniform in [1e-4, 1]); the oracle is seeded, so both runs train the same
learning rates. Every worker gets one TensorFlow thread, like one machine each. Printed per worker count:
`search` = first trial created -> last trial done (what parallel workers speed up) and `wall` = including the
start-up of the chief and worker processes (a fixed cost per machine). The ratios are 1-worker time / 2-worker time;
on a 2-core machine 2 workers can at best halve the time, and other load on the machine eats into that.
"""

import argparse
import os
import statistics
import time

from dlkit.tuning import DistributedSearch


def run_once(num_workers, trials, epochs):
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
        raise RuntimeError(f"expected {trials} completed trials, got {statuses}")
    learning_rates = tuple(round(t["hyperparameters"]["learning_rate"], 12) for t in result["trials"])
    workers = [t["worker"] for t in result["trials"]]
    per_worker = {w: workers.count(w) for w in sorted(set(workers), key=str)}
    return result["search_seconds"], result["wall_seconds"], learning_rates, per_worker


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    print(
        f"cores: {os.cpu_count()}  trials: {args.trials}  epochs/trial: {args.epochs}  repeats: {args.repeats}  "
        f"load average before: {os.getloadavg()[0]:.1f}"
    )
    times = {1: [], 2: []}
    rates = {}
    start = time.perf_counter()
    for _ in range(args.repeats):
        for num_workers in (1, 2):
            search_s, wall_s, learning_rates, per_worker = run_once(num_workers, args.trials, args.epochs)
            times[num_workers].append((search_s, wall_s))
            rates[num_workers] = learning_rates
            print(
                f"  {num_workers} worker(s): search {search_s:6.1f} s   wall {wall_s:6.1f} s   trials per worker {per_worker}"
            )
    same = sorted(rates[1]) == sorted(rates[2])
    print(f"same learning rates tried by both runs: {same}")
    median = {
        n: (statistics.median(s for s, _ in v), statistics.median(w for _, w in v)) for n, v in times.items()
    }
    print(f"median search time: 1 worker {median[1][0]:.1f} s, 2 workers {median[2][0]:.1f} s")
    print(f"speed-up 2 vs 1 workers (search, trials only):     {median[1][0] / median[2][0]:.2f}x")
    print(f"speed-up 2 vs 1 workers (wall, with process start): {median[1][1] / median[2][1]:.2f}x")
    print(
        f"benchmark took {time.perf_counter() - start:.0f} s; load average after: {os.getloadavg()[0]:.1f} "
        "(other processes on the cores shrink the speed-up)"
    )


if __name__ == "__main__":
    main()
