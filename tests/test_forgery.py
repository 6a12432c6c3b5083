"""Forged `record`: a submission that patches `dlkit.grading.record` (every False becomes True, also inside lists
and dicts), disables the visible checks and returns trivial stubs scores 0 on the exercises it forges.

Against the earlier hidden tests, which recorded only booleans, shapes and small integers there, this very
submission earned lab 02's ex3, ex5 and ex6 and lab 08's ex5 (9 points). Now each check cell also records a
value that takes a solution to compute, and a check cell earns its points only if all its keys match. Two real
labs are graded (02: four forged exercises; 08: one, a training run); every lab's check cells are audited
statically by tests/test_record_audit.py.
"""

import os

import nbformat
import pytest
from lab_references import lab_references

from dlkit.grading import grade

LABS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "labs")


def _forger(checks_module):
    """The start of the first forged cell: the patched `record` and visible checks that never fail."""
    return f"""import sys

import dlkit.grading
from dlkit.lab_checks import {checks_module} as forged_checks


def always_true(value):
    if value is False:
        return True
    if isinstance(value, list | tuple):
        return [always_true(item) for item in value]
    if isinstance(value, dict):
        return {{key: always_true(item) for key, item in value.items()}}
    return value


def forged_record(key, value, **kwargs):
    return real_record(key, always_true(value), **kwargs)


real_record = dlkit.grading.record
dlkit.grading.record = sys.modules["dlkit.grading.records"].record = forged_record
for name in dir(forged_checks):
    if name.startswith("check_"):
        setattr(forged_checks, name, lambda *args, **kwargs: None)
"""


# Lab 02: dropout that scales but never drops; a rule that never stops; EarlyStopping that keeps the last
# weights; an augmentation with the wrong factors and fill.
FORGED_02 = {
    "ex3_inverted_dropout": _forger("regularization")
    + """

class InvertedDropoutLayer(keras.layers.Layer):
    def __init__(self, keep_prob, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.keep_prob = keep_prob

    def call(self, inputs, training=None):
        return inputs / self.keep_prob if training else inputs
""",
    "ex4_patience_rule": "def early_stopping_epoch(dev_losses, patience):\n    return len(dev_losses) - 1, 0\n",
    "ex5_early_stopping_callback": (
        "def make_early_stopping(patience):\n"
        "    return keras.callbacks.EarlyStopping(monitor='val_loss', patience=patience)\n"
    ),
    "ex6_augmentation": (
        "def build_augmentation(seed=None):\n"
        "    return keras.Sequential([keras.layers.RandomTranslation(0.3, 0.3, seed=seed),\n"
        "                             keras.layers.RandomRotation(0.2, seed=seed)])\n"
    ),
}
# Lab 08: training that returns W = 0, b = 0 and a falling cost curve of the right length.
FORGED_08 = {
    "ex5_softmax_regression": _forger("softmax")
    + """

def train_softmax_regression(x, labels, num_classes, num_epochs, learning_rate, batch_size=32, seed=0):
    costs = [float(np.log(num_classes)) / (epoch + 1) for epoch in range(num_epochs)]
    return np.zeros((x.shape[1], num_classes)), np.zeros(num_classes), costs


def predict(W, b, x):
    return np.argmax(x @ W + b, axis=1)
""",
}
# check cell -> the key that catches the forgery (the first to differ; the old keys all match once forged).
CAUGHT_BY = {
    "02_regularization": {
        "ex3_inverted_dropout_check": "ex3_dropout_kept_fraction",
        "ex4_patience_rule_check": "ex4_patience_2",
        "ex5_early_stopping_callback_check": "ex5_callback_runs",
        "ex6_augmentation_check": "ex6_aug_translation_rotation",
    },
    "08_softmax": {"ex5_softmax_regression_check": "ex5_full_batch_parameters"},
}


def _forged_submission(lab, cells, folder):
    notebook = nbformat.read(os.path.join(LABS_DIR, lab + ".ipynb"), as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in cells:
            cell.source = cells.pop(grade_id)
    assert not cells, f"no solution cells {sorted(cells)} in {lab}"
    path = os.path.join(folder, lab + "-forger.ipynb")
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def forged_rows(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("forgery"))
    paths = [
        _forged_submission("02_regularization", dict(FORGED_02), folder),
        _forged_submission("08_softmax", dict(FORGED_08), folder),
    ]
    labs = [os.path.join(LABS_DIR, f"{lab}.ipynb") for lab in ("02_regularization", "08_softmax")]
    rows = grade(
        paths, source=LABS_DIR, jobs=2, timeout=900, references=lab_references(tmp_path_factory, labs)
    )
    return {row.lab: row for row in rows}


@pytest.mark.parametrize("lab", sorted(CAUGHT_BY))
def test_forged_record_scores_zero_on_forged_exercises(lab, forged_rows):
    row = forged_rows[lab]
    assert row.status == "graded", row.reasons
    by_cell = {exercise.grade_id: exercise for exercise in row.exercises}
    for grade_id, key in CAUGHT_BY[lab].items():
        assert by_cell[grade_id].points == 0, (grade_id, by_cell[grade_id].reason)
        assert key in by_cell[grade_id].reason, (grade_id, by_cell[grade_id].reason)
    # The solved exercises keep their points: the patched `record` passes their (true) values through.
    for grade_id, exercise in by_cell.items():
        if grade_id not in CAUGHT_BY[lab]:
            assert exercise.points == exercise.max_points and not exercise.reason, (grade_id, exercise.reason)
