"""The benchmark scripts still import: they are not run by `make test` (they time things), so a renamed module
would otherwise break them unnoticed (it happened: `find_labs` moved to `dlkit.lab_files`)."""

import glob
import importlib.util
import os
import sys

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
