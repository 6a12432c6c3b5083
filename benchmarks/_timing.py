"""The benchmarks' one timing idiom: warm every side up, then time the sides alternately, repeatedly.

`compare({"A": call_a, "B": call_b}, repeats=7)` does, in this order:

1. warm-up: `warmup` untimed calls of every side (first call, tracing, compilation and caches excluded);
2. `repeats` timed rounds in which every side runs once, the order reversed every other round (A B, B A,
   A B, ...; with three sides A B C, C B A, ...), so drift and load from other processes hit all sides alike
   and no side always runs first or right after the same neighbour;
3. a table: per side the min, median and max of its timed samples, the ratio of its median to the reference
   side's median with its confidence interval (wall clock), and the same ratio in process CPU time (a
   cross-check: other processes competing for the cores disturb it less, though not at all only when idle).

A sample is `number` back-to-back calls, divided by `number` (for calls too short to time one by one).

Each ratio comes with a 95% confidence interval: the rounds are resampled with replacement (a paired
bootstrap: a round keeps all its sides' samples together, so what hit a round hits both sides of the ratio)
and the ratio of medians recomputed each time. A goal is decided only when the interval is on one side of it.

The machine's own noise is large for Keras training loops on 2 cores (the same TensorFlow epoch takes
1x to 1.5x its usual time, where a NumPy matmul loop varies by 2%), hence the intervals and control rows.
Pinning the process to one core was tried: it steadies an epoch to about 1%, but eager ops issued from a
callback then wait milliseconds for a TensorFlow thread to be scheduled, a cost callbacks do not have on
2 cores; so the benchmarks use all cores and say how sure each ratio is.
"""

import gc
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

BOOTSTRAP_RESAMPLES = 2000


@dataclass
class Timings:
    """One side's timed samples (seconds per call) and the value its last call returned."""

    times: list
    cpu_times: list
    result: object = None
    ratio: float = 1.0  # median / the reference's median
    ratio_interval: tuple = field(default=(1.0, 1.0))  # its 95% paired-bootstrap confidence interval

    @property
    def min(self):
        return min(self.times)

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def max(self):
        return max(self.times)

    @property
    def cpu_median(self):
        return statistics.median(self.cpu_times)


def ratio_interval(samples, reference_samples, rng, resamples=BOOTSTRAP_RESAMPLES):
    """The 95% paired-bootstrap confidence interval of median(samples) / median(reference_samples).

    Args:
        samples: Sequence of floats, one per round.
        reference_samples: Sequence of floats, one per round (the same rounds).
        rng: A `numpy.random.Generator`.
        resamples: Integer >= 1.

    Returns:
        (low, high): the 2.5th and 97.5th percentiles of the resampled ratios.
    """
    samples, reference_samples = np.asarray(samples), np.asarray(reference_samples)
    rounds = rng.integers(0, len(samples), size=(resamples, len(samples)))
    ratios = np.median(samples[rounds], axis=1) / np.median(reference_samples[rounds], axis=1)
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(low), float(high)


def verdict(interval, goal, at_least):
    """The verdict on a goal, "met", "NOT met" or "undecided", from where a ratio's 95% interval lies.

    Args:
        interval: (low, high), a ratio's confidence interval.
        goal: Float, the goal's bound.
        at_least: Boolean. True for a goal `ratio >= goal` (throughput), False for `ratio <= goal` (time).

    Returns:
        "met" when the whole interval meets the goal, "NOT met" when none of it does, else "undecided" (the
        noise of this run is larger than the distance to the goal: more rounds, or a quieter machine).
    """
    low, high = interval
    if at_least:
        return "met" if low >= goal else "NOT met" if high < goal else "undecided"
    return "met" if high <= goal else "NOT met" if low > goal else "undecided"


def _unit(seconds):
    if seconds >= 1.0:
        return "s", 1.0
    if seconds >= 1e-3:
        return "ms", 1e3
    return "us", 1e6


def compare(named_callables, repeats, warmup=1, *, number=1, reference=None, title=None, label="median/ref"):
    """Times every callable of `named_callables` (a dict name -> zero-argument callable) side by side.

    Args:
        named_callables: Dict name -> callable (at least one); the dict order is the first round's order.
        repeats: Integer >= 1. Timed rounds (one sample per side per round).
        warmup: Integer >= 0. Untimed rounds first (alternated like the timed ones).
        number: Integer >= 1. Calls per sample; a sample is their mean time.
        reference: Name of the side the ratios are taken against (default: the first).
        title: String printed above the table, or None.
        label: Header of the ratio column (the ratio is always this side's median / the reference's).

    Returns:
        Dict name -> `Timings`, in the order of `named_callables`.
    """
    names = list(named_callables)
    if not names or repeats < 1 or warmup < 0 or number < 1:
        raise ValueError(f"compare: need >= 1 callable, repeats >= 1, warmup >= 0, number >= 1 ({repeats=})")
    reference = names[0] if reference is None else reference
    timings = {name: Timings([], []) for name in names}
    for round_index in range(warmup + repeats):
        order = names if round_index % 2 == 0 else names[::-1]
        for name in order:
            call, timing = named_callables[name], timings[name]
            if round_index < warmup:
                timing.result = call()
                continue
            if round_index == warmup and name == order[0]:
                gc.collect()  # garbage left by the warm-up is collected outside the timed region
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(number):
                timing.result = call()
            timing.times.append((time.perf_counter() - start) / number)
            timing.cpu_times.append((time.process_time() - cpu_start) / number)

    ref = timings[reference]
    rng = np.random.default_rng(0)
    for t in timings.values():
        t.ratio = t.median / ref.median
        t.ratio_interval = ratio_interval(t.times, ref.times, rng)
    unit, scale = _unit(ref.median)
    if title:
        print(title)
    print(
        f"  {warmup} warm-up round(s), then {repeats} timed rounds alternating the order (A B, B A, ...)"
        + (f", {number} calls per sample" if number > 1 else "")
    )
    width = max(len(name) for name in names)
    headers = [f"{stat} ({unit})" for stat in ("min", "median", "max")] + [label, "95% CI", "CPU med/ref"]
    print(f"  {'':{width}s}" + "".join(f" {header:>14s}" for header in headers))
    for name, t in timings.items():
        ratio = "reference" if name == reference else f"{t.ratio:.3f}x"
        interval = "" if name == reference else "{:.3f}-{:.3f}".format(*t.ratio_interval)
        cpu = "" if name == reference else f"{t.cpu_median / ref.cpu_median:.3f}x"
        cells = [f"{value * scale:.3f}" for value in (t.min, t.median, t.max)] + [ratio, interval, cpu]
        print(f"  {name:{width}s}" + "".join(f" {cell:>14s}" for cell in cells))
    return timings
