"""dlkit: the library behind the dlkit labs for "Improving Deep Neural Networks" (Keras 3 / TensorFlow)."""

import importlib
import os

# Keep TensorFlow's C++ log lines (start-up banners, harmless graph warnings) out of lab outputs: they land
# on stderr, which nbval compares. Python exceptions are unaffected; a user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from dlkit import datasets, plots  # noqa: E402
from dlkit.exercises import exercise_done, requires  # noqa: E402
from dlkit.full_size import full_size  # noqa: E402
from dlkit.results_table import ResultsTable  # noqa: E402
from dlkit.seed import set_seed  # noqa: E402

__version__ = "0.1.0"

# Subpackages that import Keras (and its backend) or TensorFlow load on first use (`dlkit.layers.BatchNorm`), so
# `import dlkit` and the `dlkit` command stay quick.
_LAZY_SUBPACKAGES = (
    "callbacks",
    "diagnostics",
    "gradcheck",
    "grading",
    "initializers",
    "lab_checks",
    "layers",
    "losses",
    "optimizers",
    "preprocessing",
    "schedules",
    "tuning",
)


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        module = importlib.import_module(f"dlkit.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'dlkit' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY_SUBPACKAGES))


__all__ = [
    "ResultsTable",
    "datasets",
    "exercise_done",
    "full_size",
    "plots",
    "requires",
    "set_seed",
    "__version__",
    *_LAZY_SUBPACKAGES,
]
