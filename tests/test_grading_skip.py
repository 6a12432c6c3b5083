"""Demonstrations marked `dlkit.grading: skip` do not run when grading; the batch reports its progress."""

import os
import shutil

import nbformat
import pytest

from dlkit.cli import main
from dlkit.grading import grade, release

LABS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "grading", "labs")
FIXTURE = os.path.join(LABS, "01_fixture.ipynb")


def _lab_with_demo(folder, mark):
    """The fixture lab with a "demo" between exercise 1 and its check that would break the check if it ran."""
    notebook = nbformat.read(FIXTURE, as_version=4)
    position = next(
        i
        for i, c in enumerate(notebook.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == "ex1_scale"
    )
    demo = nbformat.v4.new_code_cell("scale = None  # a demo that clobbers the student's function")
    if mark is not None:
        demo.metadata["dlkit"] = {"grading": mark}
    notebook.cells.insert(position + 1, demo)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "01_fixture.ipynb")
    nbformat.write(notebook, path)
    return path


@pytest.mark.parametrize("mark", ["skip", None])
def test_a_skipped_demo_does_not_run_in_the_reference_or_the_submission(mark, tmp_path):
    source = _lab_with_demo(str(tmp_path / "labs"), mark)
    submission = shutil.copy(source, tmp_path / "01_fixture-alice.ipynb")
    if mark == "skip":
        (row,) = grade([str(submission)], source=str(tmp_path / "labs"), timeout=120, memory_mb=1536)
        assert row.total == row.max_total > 0
    else:  # control: run, the demo breaks exercise 1's check in the reference run itself
        with pytest.raises(Exception, match=r"check cell 'ex1_scale_check' failed"):
            grade([str(submission)], source=str(tmp_path / "labs"), timeout=120, memory_mb=1536)


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("demo", "sometimes", r"metadata `dlkit.grading` must be 'skip'. Received: 'sometimes'"),
        (
            "ex1_scale_check",
            "skip",
            r"'ex1_scale_check': a solution or check cell cannot be skipped in grading",
        ),
        ("ex1_scale", "skip", r"'ex1_scale': a solution or check cell cannot be skipped in grading"),
    ],
)
def test_bad_skip_marks_are_refused(where, value, message, tmp_path):
    source = _lab_with_demo(str(tmp_path / "labs"), "skip")
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        is_demo = where == "demo" and cell.source.startswith("scale = None")
        if is_demo or cell.metadata.get("nbgrader", {}).get("grade_id") == where:
            cell.metadata["dlkit"] = {"grading": value}
    nbformat.write(notebook, source)
    submission = shutil.copy(FIXTURE, tmp_path / "01_fixture-bob.ipynb")
    with pytest.raises(ValueError, match=message):
        grade([str(submission)], source=str(tmp_path / "labs"), timeout=120, memory_mb=1536)


def test_progress_is_reported_once_per_submission_and_rows_keep_their_order(tmp_path, capsys):
    paths = [
        str(shutil.copy(FIXTURE, tmp_path / "a-solution.ipynb")),
        str(shutil.copy(release(FIXTURE, str(tmp_path / "release")), tmp_path / "b-blank.ipynb")),
        str(tmp_path / "c-garbage.ipynb"),
    ]
    (tmp_path / "c-garbage.ipynb").write_text("not json")
    seen = []
    rows = grade(
        paths,
        source=LABS,
        jobs=2,
        timeout=120,
        memory_mb=1536,
        on_graded=lambda r, d, t: seen.append((r.submission, d, t)),
    )
    assert [row.submission for row in rows] == ["a-solution.ipynb", "b-blank.ipynb", "c-garbage.ipynb"]
    assert sorted(name for name, _, _ in seen) == sorted(row.submission for row in rows)
    assert [(done, total) for _, done, total in seen] == [(1, 3), (2, 3), (3, 3)]
    assert (
        main(["grade", *paths, "--source", LABS, "--out", str(tmp_path / "g.csv"), "--memory-mb", "1536"])
        == 0
    )
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("graded ")]
    assert len(lines) == 3 and lines[-1].startswith("graded 3/3: ") and all("ETA" in line for line in lines)
    assert (
        main(
            ["grade", *paths, "--source", LABS, "--out", str(tmp_path / "g.csv"), "-q", "--memory-mb", "1536"]
        )
        == 0
    )
    assert not [line for line in capsys.readouterr().err.splitlines() if line.startswith("graded ")]
