"""README's "Using dlkit with JAX or PyTorch" example, run as written on each Keras backend, and gradcheck's message
under a backend it cannot differentiate.

The example's Python block is read from README.md (so the README cannot drift from what is tested) and run in a
fresh process under `KERAS_BACKEND=<backend>`; a few lines appended after it report what the callbacks did. The
references are the papers' formulas written here: Smith's exponential LR ramp and triangular policy (WACV 2017)
and Huang et al.'s cyclic cosine annealing (ICLR 2017), read at the optimizer's final step.
"""

import math
import os
import re
import textwrap

import numpy as np
import pytest
from backend_script import run_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKENDS = ["tensorflow", "jax", "torch"]

REPORT = textwrap.dedent(
    """
    import json as _json
    _lr = lambda optimizer: float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    print("RESULT " + _json.dumps({
        "backend": keras.backend.backend(),
        "steps_per_epoch": steps_per_epoch,
        "finder_rates": [float(r) for r in finder.learning_rates],
        "max_lr": float(max_lr),
        "snapshot_files": [os.path.basename(p) for p in snapshots.snapshot_paths],
        "snapshot_final_lr": _lr(model.optimizer),
        "snapshot_iterations": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
        "ensemble_accuracy": float((probabilities.argmax(axis=1) == data.y_test).mean()),
    }))
    """
)

GRADCHECK = textwrap.dedent(
    """
    import json, numpy as np, keras, tensorflow as tf
    from dlkit.gradcheck import gradcheck, gradcheck_model
    out = {"tf_ops": gradcheck(lambda w: tf.reduce_sum(w ** 3), [np.array([0.5, -1.0])]).passed}
    try:
        gradcheck(lambda w: keras.ops.sum(w ** 3), [np.array([0.5, -1.0])])
    except ValueError as error:
        out["keras_ops"] = str(error)
    try:
        gradcheck_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), np.ones((3, 2)), np.ones((3, 1)), loss="mse")
    except NotImplementedError as error:
        out["model"] = str(error)
    print("RESULT " + json.dumps(out))
    """
)


def readme_example():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme.split("## Using dlkit with JAX or PyTorch", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README's backend section has no python block"
    return match.group(1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_readme_backend_example_runs_and_each_callback_sets_the_papers_rates(backend, tmp_path):
    stdout, result = run_script(backend, "import os\n" + readme_example() + REPORT, tmp_path)
    assert result["backend"] == backend
    assert "LR range test: steepest descent at" in stdout and "snapshot ensemble, test accuracy:" in stdout
    # Smith's range test: lr_k = start * (end / start) ** (k / (n - 1)), one step per batch.
    n = 2 * result["steps_per_epoch"]
    ramp = [1e-4 * (1.0 / 1e-4) ** (k / (n - 1)) for k in range(n)]
    rates = result["finder_rates"]
    assert 10 <= len(rates) <= n  # it may stop early once the loss diverges
    np.testing.assert_allclose(rates, ramp[: len(rates)], rtol=1e-5)
    assert 1e-4 < result["max_lr"] < 1.0
    # Huang et al.: M = 4 cycles over T = 12 epochs, one snapshot per cycle, and the last step's rate is the
    # cosine at the end of a cycle: initial_lr / 2 * (cos(pi * (T - 1 mod c) / c) + 1).
    total = 12 * result["steps_per_epoch"]
    cycle = math.ceil(total / 4)
    assert result["snapshot_files"] == [f"snapshot-{k:03d}.weights.h5" for k in range(1, 5)]
    assert result["snapshot_iterations"] == total
    expected = 0.1 / 2 * (math.cos(math.pi * ((total - 1) % cycle) / cycle) + 1)
    np.testing.assert_allclose(result["snapshot_final_lr"], expected, rtol=1e-5)
    assert expected < 0.01  # the end of a cycle, far from the constant 0.1 the callback replaces
    assert result["ensemble_accuracy"] > 0.9


def test_gradcheck_says_why_it_cannot_differentiate_keras_ops_under_jax(tmp_path):
    _, result = run_script("jax", GRADCHECK, tmp_path)
    assert result["tf_ops"] is True  # TensorFlow ops in fn are still checked under another Keras backend
    assert "float64" in result["keras_ops"] and "backend is 'jax'" in result["keras_ops"]
    assert "needs the model built on Keras's TensorFlow backend" in result["model"]
    assert "KERAS_BACKEND=tensorflow" in result["model"]
