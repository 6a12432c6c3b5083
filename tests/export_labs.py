"""What the every-lab export tests share: the graded labs and their submissions (solution, release, a wrong one)."""

import glob
import os

import nbformat
from test_feedback_mistakes import MISTAKES

from dlkit.grading.release import release
from dlkit.lab_files import lab_name

LABS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "labs")
GRADED = [
    path
    for path in sorted(glob.glob(os.path.join(LABS_DIR, "[0-9][0-9]_*.ipynb")))
    if lab_name(path) in MISTAKES
]


def last_mistake(lab):
    """(grade_id, old, new) of the lab's last exercise in MISTAKES: nothing graded after it uses its function."""
    grade_id, (old, new, _) = list(MISTAKES[lab_name(lab)].items())[-1]
    return grade_id, old, new


def submissions(lab, folder):
    """{"solution", "release", "wrong"}: paths of three submissions of `lab` written into `folder`."""
    name = lab_name(lab)
    os.makedirs(folder, exist_ok=True)
    grade_id, old, new = last_mistake(lab)
    wrong = nbformat.read(lab, as_version=4)
    cell = next(c for c in wrong.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    assert old in cell.source, (name, grade_id, old)
    cell.source = cell.source.replace(old, new, 1)
    paths = {"wrong": os.path.join(folder, f"{name}.ipynb")}
    nbformat.write(wrong, paths["wrong"])
    paths["release"] = release(lab, os.path.join(folder, "release"))
    paths["solution"] = lab
    return paths
