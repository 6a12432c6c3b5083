"""The benchmarks' one timing idiom: warm every side up, then time the sides alternately, repeatedly.

`compare({"A": call_a, "B": call_b}, repeats=7)` does, in this order:

1. warm-up: `warmup` untimed calls of every side (first call, tracing, compilation and caches excluded);
2. `repeats` timed rounds in which every side runs once, the order reversed every other round (A B, B A,
   A B, ...; with three sides A B C, C B A, ...), so drift and load from other processes hit all sides alike
   and no side always runs first or right after the same neighbour;
3. a table: per side the min, median and max of its timed samples and the ratio of its median to the
   reference side's median (wall clock, and process CPU time as a cross-check that other processes
   competing for the cores disturb much less, though not at all only on an idle machine).

A sample is `number` back-to-back calls, divided by `number` (for calls too short to time one by one).
"""

import gc
import statistics
import time
from dataclasses import dataclass


@dataclass
class Timings:
    """One side's timed samples (seconds per call) and the value its last call returned."""

    times: list
    cpu_times: list
    result: object = None

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
    unit, scale = _unit(ref.median)
    if title:
        print(title)
    print(
        f"  {warmup} warm-up round(s), then {repeats} timed rounds alternating the order (A B, B A, ...)"
        + (f", {number} calls per sample" if number > 1 else "")
    )
    width = max(len(name) for name in names)
    headers = [f"{stat} ({unit})" for stat in ("min", "median", "max")] + [label, "CPU med/ref"]
    print(f"  {'':{width}s}" + "".join(f" {header:>14s}" for header in headers))
    for name, t in timings.items():
        ratio = "reference" if name == reference else f"{t.median / ref.median:.3f}x"
        cpu = "" if name == reference else f"{t.cpu_median / ref.cpu_median:.3f}x"
        cells = [f"{value * scale:.3f}" for value in (t.min, t.median, t.max)] + [ratio, cpu]
        print(f"  {name:{width}s}" + "".join(f" {cell:>14s}" for cell in cells))
    return timings
