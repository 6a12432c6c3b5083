"""dlkit: the library behind the dlkit labs for "Improving Deep Neural Networks" (Keras 3 / TensorFlow)."""

import os

# Quiet TensorFlow's C++ start-up banner in labs and tests; a user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dlkit import datasets, plots  # noqa: E402
from dlkit.full_size import full_size  # noqa: E402
from dlkit.results_table import ResultsTable  # noqa: E402
from dlkit.seed import set_seed  # noqa: E402

__version__ = "0.1.0"

__all__ = ["ResultsTable", "datasets", "full_size", "plots", "set_seed", "__version__"]
