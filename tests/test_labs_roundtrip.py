"""Release/grade round trip over every lab in labs/ (nbgrader's `validate` and `validate --invert`).

For each graded lab: its source (the solution) grades full marks with every check cell earning its points, and
its student release grades zero with every check cell failing — so no check can pass on a blank notebook.
Labs without graded exercises (no nbgrader solution cells, e.g. a setup lab) are skipped.
"""

import glob
import json
import os
import shutil

import pytest

from dlkit.grading import grade, release

LABS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "labs")
LABS = sorted(glob.glob(os.path.join(LABS_DIR, "[0-9][0-9]_*.ipynb")))


def _is_graded(path):
    with open(path, encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    return any(cell.get("metadata", {}).get("nbgrader", {}).get("solution") for cell in cells)


@pytest.mark.parametrize("lab", LABS, ids=[os.path.basename(p).removesuffix(".ipynb") for p in LABS])
def test_solution_grades_full_marks_and_release_grades_zero(lab, tmp_path):
    if not _is_graded(lab):
        pytest.skip("no graded exercises in this lab")
    name = os.path.basename(lab)
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    solution = str(shutil.copy(lab, submissions / ("solution-" + name)))
    student = str(shutil.copy(release(lab, str(tmp_path / "release")), submissions / ("student-" + name)))

    solved, blank = grade([solution, student], source=LABS_DIR, jobs=2, timeout=900)

    lab_name = name.removesuffix(".ipynb")
    assert solved.lab == blank.lab == lab_name
    assert solved.status == "graded", solved.reasons
    assert solved.exercises, "the lab has no check cells"
    for exercise in solved.exercises:
        assert exercise.points == exercise.max_points and not exercise.reason, (
            exercise.grade_id,
            exercise.reason,
        )
    assert solved.total == solved.max_total > 0
    assert blank.status == "graded", blank.reasons
    for exercise in blank.exercises:
        assert exercise.points == 0 and exercise.reason, f"{exercise.grade_id} passes on the blank release"
    assert blank.total == 0
