"""`dlkit export nbgrader`, checked with the real nbgrader: the hidden tests assert, so a solution earns full
marks, the release 0, a wrong answer loses that exercise's points, and partial credit gives the same points as
`dlkit grade` (and Gradescope's results, tests/test_gradescope.py).

The fixture labs run in seconds; every real lab goes through the same round trip in
tests/test_nbgrader_labs.py.
"""

import json
import os
import shutil

import nbformat
import pytest
from nbgrader_course import autograde_course

from dlkit.cli import main
from dlkit.grading import expect, grade, record, release
from dlkit.grading import expectations as expectations_module
from dlkit.grading.lab_format import BEGIN_HIDDEN, END_HIDDEN

LABS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "grading", "labs")
FIXTURE = os.path.join(LABS, "01_fixture.ipynb")
STABLE_SOFTMAX = "e = np.exp(z - z.max(axis=1, keepdims=True))"
NAIVE_SOFTMAX = "e = np.exp(z)"  # right on the plain logits, nan on logits shifted by +1000


def _partial_credit_lab(folder):
    """02_partial: the fixture with ex2's hidden tests weighted 2 : 1 (plain logits : shifted by +1000)."""
    notebook = nbformat.read(FIXTURE, as_version=4)
    check = next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex2_softmax_check"
    )
    flag = 'dlkit.grading.record("softmax_rows_sum_to_one", bool(np.allclose(softmax(z).sum(axis=1), 1.0)))'
    assert flag in check.source
    check.source = check.source.replace(flag, 'dlkit.grading.record("softmax_shifted", softmax(z + 1000.0))')
    check.metadata["dlkit"] = {"partial_credit": {"softmax_hidden": 2, "softmax_shifted": 1}}
    path = os.path.join(folder, "02_partial.ipynb")
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    labs = tmp_path_factory.mktemp("labs")
    sources = [str(shutil.copy(FIXTURE, labs / "01_fixture.ipynb")), _partial_credit_lab(str(labs))]
    mistakes = {
        "01_fixture": ("ex1_scale", "* factor", "* factor * 2"),
        "02_partial": ("ex2_softmax", STABLE_SOFTMAX, NAIVE_SOFTMAX),
    }
    folder = tmp_path_factory.mktemp("course")
    results = autograde_course(str(folder), sources, mistakes, memory_mb=1536, timeout=300)
    return {"labs": str(labs), "folder": str(folder), "results": results, "mistakes": mistakes}


def test_solution_full_marks_release_zero(course):
    for lab in ("01_fixture", "02_partial"):
        results = course["results"][lab]
        score, maximum, _ = results["solution"]
        assert score == maximum == 5
        assert results["release"][0] == 0


def test_a_wrong_answer_loses_that_exercise_only(course):
    assert course["results"]["01_fixture"]["wrong"][2] == {"ex1_scale_check": 0, "ex2_softmax_check": 3}
    # Partial credit: the naive softmax passes the plain logits (weight 2 of 3) of ex2's 3 points.
    assert course["results"]["02_partial"]["wrong"][2] == {"ex1_scale_check": 2, "ex2_softmax_check": 2}


def test_nbgrader_and_dlkit_grade_agree_on_every_cell(course, tmp_path):
    for lab in ("01_fixture", "02_partial"):
        for student in ("solution", "release", "wrong"):
            path = os.path.join(course["folder"], "submitted", student, lab, f"{lab}.ipynb")
            submission = shutil.copy(path, tmp_path / f"{lab}-{student}.ipynb")
            (row,) = grade([str(submission)], source=course["labs"], timeout=300, memory_mb=1536)
            assert row.lab == lab
            assert {e.grade_id: e.points for e in row.exercises} == course["results"][lab][student][2]


def test_expected_values_sit_only_in_the_hidden_tests(course):
    source = nbformat.read(
        os.path.join(course["folder"], "source", "01_fixture", "01_fixture.ipynb"), as_version=4
    )
    checks = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    for cell in checks:
        hidden = cell.source.split(BEGIN_HIDDEN, 1)[1].split(END_HIDDEN, 1)[0]
        assert hidden.lstrip("\n").startswith("dlkit.grading.expect(")
        assert "dlkit.grading.expect(" not in cell.source.replace(hidden, "")
    student = nbformat.read(
        os.path.join(course["folder"], "release", "01_fixture", "01_fixture.ipynb"), as_version=4
    )
    assert not any("dlkit.grading.expect(" in cell.source for cell in student.cells)


def test_record_asserts_against_the_expected_values_without_naming_them():
    try:
        expect(json.dumps({"values": {"k": [[1.0, 2.0], 1e-5, 1e-6]}}))
        assert record("k", [1.0, 2.0]) is None
        with pytest.raises(AssertionError, match=r"^a hidden test failed: your result differs") as error:
            record("k", [1.0, 2.5])
        assert "k" not in str(error.value).split(":")[0] and "2.5" not in str(error.value)
        expect({"values": {"a": [1.0, 0, 0], "b": [2.0, 0, 0]}, "weights": {"a": 2, "b": 1}, "points": 3})
        record("a", 1.0)
        record("b", 7.0)  # wrong: no error, it just does not count
        assert expectations_module.earned() == 2.0
    finally:
        expectations_module._state.update(values={}, weights=None, points=None, matched={})
    assert expectations_module.earned() is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("[1, 2]", r"Argument `spec` must be \{'values'"),
        ({"values": {"k": [1.0, -1, 0]}}, r"Received: \{'values'"),
        ({"values": {"k": [1.0, 0, 0]}, "weights": {"j": 1}, "points": 1}, r"Received:"),
    ],
)
def test_expect_refuses_a_malformed_spec(spec, message):
    with pytest.raises(ValueError, match=message):
        expect(spec)


def test_a_check_cell_without_hidden_tests_is_refused_before_running(tmp_path, capsys):
    labs = tmp_path / "labs"
    labs.mkdir()
    notebook = nbformat.read(FIXTURE, as_version=4)
    for cell in notebook.cells:
        cell.source = cell.source.replace(BEGIN_HIDDEN + "\n", "").replace(END_HIDDEN, "")
    nbformat.write(notebook, str(labs / "01_fixture.ipynb"))
    assert main(["export", "nbgrader", "01", "--labs-dir", str(labs), "--out", str(tmp_path / "course")]) == 2
    assert "needs a `### BEGIN HIDDEN TESTS` region to hold its expected values" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "course")


def test_our_release_of_the_export_has_no_expected_values(course, tmp_path):
    exported = os.path.join(course["folder"], "source", "02_partial", "02_partial.ipynb")
    student = release(exported, str(tmp_path / "release"))
    with open(student, encoding="utf-8") as f:
        text = f.read()
    assert "dlkit.grading.expect(" not in text and "softmax_shifted" not in text
