"""`dlkit labs student` / `write_workspace`: the student versions for self-study, never overwriting an edit."""

import json
import os
import shutil

import nbformat
import pytest

from dlkit.cli import main
from dlkit.grading.lab_format import BEGIN_HIDDEN, BEGIN_SOLUTION
from dlkit.learner_workspace import MANIFEST, write_workspace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "data", "grading", "labs", "01_fixture.ipynb")


@pytest.fixture
def labs(tmp_path):
    folder = tmp_path / "labs"
    folder.mkdir()
    return [shutil.copy(FIXTURE, folder / "01_fixture.ipynb")]


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_writes_the_release_without_solutions_or_hidden_tests(labs, tmp_path):
    out = tmp_path / "workspace"
    ((path, action),) = write_workspace(labs, str(out))
    assert (path, action) == (str(out / "01_fixture.ipynb"), "created")
    source = nbformat.read(labs[0], as_version=4)
    student = nbformat.read(path, as_version=4)
    assert len(student.cells) == len(source.cells)
    text = _read(path)
    assert BEGIN_SOLUTION not in text and BEGIN_HIDDEN not in text
    assert "raise NotImplementedError()" in text
    assert any(BEGIN_SOLUTION in cell.source for cell in source.cells)  # the source had solutions to remove


def test_a_second_call_leaves_everything_as_it_was(labs, tmp_path):
    out = tmp_path / "workspace"
    write_workspace(labs, str(out))
    before = os.stat(out / "01_fixture.ipynb").st_mtime_ns
    assert write_workspace(labs, str(out)) == [(str(out / "01_fixture.ipynb"), "unchanged")]
    assert os.stat(out / "01_fixture.ipynb").st_mtime_ns == before


def test_an_edited_notebook_is_never_overwritten(labs, tmp_path):
    out = tmp_path / "workspace"
    write_workspace(labs, str(out))
    edited = _read(out / "01_fixture.ipynb").replace("raise NotImplementedError()", "return 42", 1)
    (out / "01_fixture.ipynb").write_text(edited, encoding="utf-8")
    # Even after the lab itself changed: the learner's work wins.
    notebook = nbformat.read(labs[0], as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("A new note from the instructor."))
    nbformat.write(notebook, labs[0])
    assert write_workspace(labs, str(out)) == [(str(out / "01_fixture.ipynb"), "kept: you changed it")]
    assert _read(out / "01_fixture.ipynb") == edited


def test_an_unedited_notebook_follows_the_updated_lab(labs, tmp_path):
    out = tmp_path / "workspace"
    write_workspace(labs, str(out))
    notebook = nbformat.read(labs[0], as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("A new note from the instructor."))
    nbformat.write(notebook, labs[0])
    assert write_workspace(labs, str(out)) == [(str(out / "01_fixture.ipynb"), "updated")]
    assert "A new note from the instructor." in _read(out / "01_fixture.ipynb")


@pytest.mark.parametrize("manifest", [None, "not json", json.dumps(["a list"])])
def test_without_a_trustworthy_manifest_existing_notebooks_are_kept(labs, tmp_path, manifest):
    out = tmp_path / "workspace"
    write_workspace(labs, str(out))
    if manifest is None:
        os.remove(out / MANIFEST)
    else:
        (out / MANIFEST).write_text(manifest)
    before = _read(out / "01_fixture.ipynb")
    assert write_workspace(labs, str(out)) == [(str(out / "01_fixture.ipynb"), "kept: you changed it")]
    assert _read(out / "01_fixture.ipynb") == before


def test_refuses_the_labs_own_folder_and_writes_nothing_for_a_broken_lab(labs, tmp_path):
    with pytest.raises(ValueError, match=r"Argument `out_dir` must differ from the labs' folder"):
        write_workspace(labs, os.path.dirname(labs[0]))
    with pytest.raises(ValueError, match=r"Argument `labs` must name at least one lab notebook"):
        write_workspace([], str(tmp_path / "workspace"))
    broken = nbformat.read(labs[0], as_version=4)
    solution = next(c for c in broken.cells if c.metadata.get("nbgrader", {}).get("solution"))
    solution.source = solution.source.replace("### END SOLUTION", "")
    second = os.path.join(os.path.dirname(labs[0]), "02_broken.ipynb")
    nbformat.write(broken, second)
    with pytest.raises(ValueError, match=r"without a matching"):
        write_workspace([labs[0], second], str(tmp_path / "workspace"))
    assert not os.path.exists(tmp_path / "workspace")


def test_cli_prints_one_line_per_lab(labs, tmp_path, capsys):
    out = tmp_path / "workspace"
    assert main(["labs", "student", "--labs-dir", os.path.dirname(labs[0]), "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"{out / '01_fixture.ipynb'}: created\n"
    assert main(["labs", "student", "99", "--labs-dir", os.path.dirname(labs[0]), "--out", str(out)]) == 2
    assert "dlkit labs student: Argument `LAB` matches no lab" in capsys.readouterr().err
