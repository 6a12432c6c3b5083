"""The benchmark scripts still import: they are not run by `make test` (they time things), so a renamed module
would otherwise break them unnoticed (it happened: `find_labs` moved to `dlkit.lab_files`)."""

import glob
import importlib.util
import os
import sys

import numpy as np
import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")
SCRIPTS = sorted(glob.glob(os.path.join(BENCHMARKS, "*.py")))


@pytest.mark.parametrize("path", SCRIPTS, ids=[os.path.basename(p) for p in SCRIPTS])
def test_benchmark_script_imports_and_has_a_main(path, monkeypatch):
    monkeypatch.syspath_prepend(BENCHMARKS)  # the scripts import their shared `_timing` helper by name
    name = "benchmark_" + os.path.basename(path).removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(
        module
    )  # top-level code only: every script runs under `if __name__ == "__main__"`
    if not os.path.basename(path).startswith("_"):
        assert callable(getattr(module, "main", None)), f"{path} has no main()"


def test_ratio_interval_and_verdict(monkeypatch):
    monkeypatch.syspath_prepend(BENCHMARKS)
    import _timing

    rng = np.random.default_rng(1)
    reference = rng.uniform(1.0, 2.0, size=40)
    # A side exactly 2x slower in every round: every resample gives 2.
    assert _timing.ratio_interval(2.0 * reference, reference, rng) == pytest.approx((2.0, 2.0))
    # Independent noise: the interval brackets the ratio of medians, and is not a point.
    noisy = 1.5 * reference * rng.uniform(0.8, 1.2, size=40)
    low, high = _timing.ratio_interval(noisy, reference, rng)
    assert low < np.median(noisy) / np.median(reference) < high and high - low > 0.01
    assert _timing.verdict((0.98, 1.02), 0.97, at_least=True) == "met"
    assert _timing.verdict((0.90, 0.96), 0.97, at_least=True) == "NOT met"
    assert _timing.verdict((0.95, 1.01), 0.97, at_least=True) == "undecided"
    assert _timing.verdict((1.10, 1.25), 1.3, at_least=False) == "met"
    assert _timing.verdict((1.31, 1.40), 1.3, at_least=False) == "NOT met"
    assert _timing.verdict((1.25, 1.35), 1.3, at_least=False) == "undecided"
