"""The backend-neutral test modules, run again under Keras's JAX and PyTorch backends (issue 22).

`make test` runs every module on TensorFlow. The modules named in SUITES test dlkit's practitioner classes through
Keras only (NumPy references written in the test, Keras built-ins, `.keras` round trips), so they are run here a
second and third time, in a fresh `pytest` process with `KERAS_BACKEND` set: the same references, another
backend. (The callbacks, schedules, layers and losses have their own per-backend scripts in
tests/test_backends.py and tests/test_backends_layers.py; their TensorFlow test modules use `tf.*` directly.)
"""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITES = [
    "tests/test_optimizers.py",
    "tests/test_initializers.py",
    "tests/test_regularization_layers.py",
    "tests/test_dead_unit_monitor.py",
    "tests/test_activation_statistics.py",
    "tests/test_preprocessing.py",
]


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_backend_neutral_suites_pass_on_each_backend(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (pip install -e '.[{backend}]')")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu")
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *SUITES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 60, summary  # the modules really ran (not collected away or all skipped)
    print(f"{backend}: {summary}")
