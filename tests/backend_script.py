"""What the per-backend tests share: run a script in a fresh Python under `KERAS_BACKEND=<backend>`, read its result.

The script prints one line `RESULT <json>`; the backend is skipped (not failed) when it is not installed.
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest


def run_script(backend, script, cwd=None, timeout=600):
    """(stdout, the decoded RESULT) of `script` run under `backend`; skips when `backend` is not installed."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (pip install 'dlkit[{backend}]')")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu")
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return done.stdout, json.loads(lines[-1].removeprefix("RESULT "))
