"""Shared pytest setup: headless matplotlib, quiet TensorFlow, and a seeded fixture."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib  # noqa: E402

# Agg for this process only. Not through MPLBACKEND: nbval's lab kernels inherit the environment and would then
# draw nothing, since their figures are shown by the inline backend.
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def seeded():
    """Seeds everything with 1234 (dlkit.set_seed) and returns the seed."""
    import dlkit

    return dlkit.set_seed(1234)
