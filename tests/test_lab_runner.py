"""`dlkit labs run` (what `make run` calls): executes labs, writes notebooks + HTML, prints the table."""

import subprocess
import sys

import nbformat
import pytest

from dlkit.lab_runner import find_labs


def _lab(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, str(path))


@pytest.fixture
def labs_dir(tmp_path):
    folder = tmp_path / "labs"
    folder.mkdir()
    _lab(
        folder / "01_good.ipynb",
        [
            "import dlkit\nFULL = dlkit.full_size()",
            "table = dlkit.ResultsTable('good')\ntable.add('answer', 42 if not FULL else 43, 42, headline=True)\ntable",
        ],
    )
    _lab(folder / "02_broken.ipynb", ["raise RuntimeError('boom in lab 2')"])
    (folder / "notes.txt").write_text("not a lab")
    return folder


def test_find_labs_selectors(labs_dir):
    names = [p.rsplit("/", 1)[-1] for p in find_labs(str(labs_dir))]
    assert names == ["01_good.ipynb", "02_broken.ipynb"]
    assert [p.rsplit("/", 1)[-1] for p in find_labs(str(labs_dir), ["02"])] == ["02_broken.ipynb"]
    with pytest.raises(ValueError, match="matches no lab"):
        find_labs(str(labs_dir), ["07"])
    with pytest.raises(ValueError, match="`labs_dir`"):
        find_labs(str(labs_dir / "missing"))


def _run(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "dlkit", "labs", "run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_labs_run_prints_the_table_and_writes_outputs(labs_dir, tmp_path):
    out = tmp_path / "out"
    result = _run(["01", "--labs-dir", str(labs_dir), "--out", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("01_good"))
    assert row.split()[2] == "ok" and "answer" in row and row.split()[-2:] == ["42", "42"]
    executed = nbformat.read(str(out / "01_good.ipynb"), as_version=4)
    assert executed.cells[1].outputs, "executed notebook keeps its outputs"
    assert "<html" in (out / "01_good.html").read_text().lower()


def test_labs_run_full_size_and_failures(labs_dir, tmp_path):
    out = tmp_path / "out"
    result = _run(["--labs-dir", str(labs_dir), "--out", str(out), "--full"], tmp_path)
    assert result.returncode == 1  # lab 02 fails
    lines = result.stdout.splitlines()
    assert next(line for line in lines if line.startswith("01_good")).split()[-2:] == ["43", "42"]
    assert next(line for line in lines if line.startswith("02_broken")).split()[2] == "failed"
    assert any("boom in lab 2" in line for line in lines)


def test_labs_run_unknown_lab_is_a_usage_error(labs_dir, tmp_path):
    result = _run(["99", "--labs-dir", str(labs_dir)], tmp_path)
    assert result.returncode == 2 and "matches no lab" in result.stderr
