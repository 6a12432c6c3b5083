"""Release/grade round trip over every lab in labs/ (nbgrader's `validate` and `validate --invert`).

For each graded lab: its source (the solution) grades full marks with every check cell earning its points, and
its student release grades zero with every check cell failing — so no check can pass on a blank notebook. The
solution is a submission like any other: it runs in its own sandbox, never reusing the reference run.
The labs without graded exercises are named in UNGRADED (a graded lab that lost its nbgrader metadata fails).

All labs are graded in one batch (two sandboxed runs at a time), then each lab's rows are asserted on its own.
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


UNGRADED = {"00_setup.ipynb"}
GRADED = [lab for lab in LABS if os.path.basename(lab) not in UNGRADED]


@pytest.fixture(scope="module")
def graded_rows(tmp_path_factory):
    """{lab file name: (solution row, release row)} from one `grade` call over every graded lab."""
    folder = tmp_path_factory.mktemp("roundtrip")
    submissions = []
    for lab in GRADED:
        name = os.path.basename(lab)
        submissions.append(str(shutil.copy(lab, folder / ("solution-" + name))))
        student = release(lab, str(folder / "release"))
        submissions.append(str(shutil.copy(student, folder / ("student-" + name))))
    rows = grade(submissions, source=LABS_DIR, jobs=2, timeout=900)
    return {os.path.basename(lab): (rows[2 * i], rows[2 * i + 1]) for i, lab in enumerate(GRADED)}


@pytest.mark.parametrize("lab", LABS, ids=[os.path.basename(p).removesuffix(".ipynb") for p in LABS])
def test_solution_grades_full_marks_and_release_grades_zero(lab, graded_rows):
    name = os.path.basename(lab)
    if name in UNGRADED:
        assert not _is_graded(lab), f"{name} has graded exercises: remove it from UNGRADED"
        return
    assert _is_graded(lab), f"{name} has no nbgrader solution cells"
    solved, blank = graded_rows[name]

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
