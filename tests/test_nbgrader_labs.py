"""The real-nbgrader round trip on every lab (`dlkit export nbgrader`, `nbgrader generate_assignment`,
`nbgrader autograde`): the solution gets full marks, the release 0, and a wrong answer loses that exercise's
points and only those."""

import pytest
from export_labs import GRADED, last_mistake
from lab_references import lab_references
from nbgrader_course import autograde_course

from dlkit.lab_files import lab_name


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    mistakes = {lab_name(lab): last_mistake(lab) for lab in GRADED}
    references = lab_references(tmp_path_factory, GRADED)
    return autograde_course(str(course), GRADED, mistakes, references=references)


@pytest.mark.parametrize("lab", GRADED, ids=[lab_name(p) for p in GRADED])
def test_nbgrader_round_trip(lab, results):
    graded = results[lab_name(lab)]
    score, maximum, cells = graded["solution"]
    assert score == maximum > 0, cells
    assert graded["release"][0] == 0, graded["release"][2]
    grade_id = last_mistake(lab)[0]
    assert graded["wrong"][2] == {**cells, f"{grade_id}_check": 0}
