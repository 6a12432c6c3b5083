"""`dlkit labs run` (what `make run` calls): executes labs, writes notebooks + HTML, prints the table."""

import io
import re
import subprocess
import sys

import nbformat
import pytest

from dlkit.cli import build_parser
from dlkit.lab_files import find_labs
from dlkit.lab_runner import LabRun, format_table, run_lab, run_labs
from dlkit.progress import Progress
from dlkit.results_table import ResultsTable

# The measured value saved in a lab's stored ResultsTable output. No cell of the test labs computes it, so
# seeing it anywhere after a run means a stale output leaked through.
STALE = "0.777"
TABLE_CELL = "table = dlkit.ResultsTable('lab')\ntable.add('answer', 6 * 7, 42, headline=True)\ntable"


def _lab(path, cells):
    """Writes a notebook; each cell is a source string or a (source, stored outputs) pair."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for cell in cells:
        source, outputs = cell if isinstance(cell, tuple) else (cell, [])
        code = nbformat.v4.new_code_cell(source)
        code.outputs = outputs
        code.execution_count = 7 if outputs else None
        nb.cells.append(code)
    nbformat.write(nb, str(path))


def _stale_table():
    table = ResultsTable("stored in the repository")
    table.add("answer", STALE, 42, headline=True)
    return nbformat.v4.new_output("execute_result", data=table._repr_mimebundle_(), execution_count=7)


def _stale_stdout():
    return nbformat.v4.new_output("stream", name="stdout", text=f"stale {STALE}\n")


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


def _row(table, name):
    return next(line for line in table.splitlines() if line.startswith(name)).split()


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
    assert executed.metadata["dlkit_run"]["status"] == "ok"
    assert "<html" in (out / "01_good.html").read_text().lower()
    assert (out / "01_good.kernel.log").is_file(), "the kernel's own stderr goes to a log, not the terminal"


def test_labs_run_full_size_failures_and_progress(labs_dir, tmp_path):
    out = tmp_path / "out"
    result = _run(["--labs-dir", str(labs_dir), "--out", str(out), "--full"], tmp_path)
    assert result.returncode == 1  # lab 02 fails
    lines = result.stdout.splitlines()
    assert next(line for line in lines if line.startswith("01_good")).split()[-2:] == ["43", "42"]
    assert next(line for line in lines if line.startswith("02_broken")).split()[2:] == [
        "failed",
        "—",
        "—",
        "—",
    ]
    assert "02_broken: failed at cell 1 of 1: RuntimeError: boom in lab 2" in lines
    # Not a terminal: one plain line as each lab starts and ends, on stderr, no carriage returns.
    progress = result.stderr.splitlines()
    assert "lab 1 of 2: 01_good ..." in progress
    assert any(line.startswith("lab 1 of 2: 01_good ok in ") for line in progress)
    assert "lab 2 of 2: 02_broken ..." in progress
    assert any(
        line.startswith("lab 2 of 2: 02_broken failed in ")
        and line.endswith(" at cell 1/1: RuntimeError: boom in lab 2")
        for line in progress
    )
    assert "\r" not in result.stderr
    # The kernels talk over local sockets, so ipykernel has no unencrypted-TCP warning to print.
    assert "without encryption" not in result.stderr + result.stdout


def test_labs_run_quiet_prints_only_the_table(labs_dir, tmp_path):
    out = tmp_path / "out"
    result = _run(["01", "-q", "--labs-dir", str(labs_dir), "--out", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "lab 1 of 1" not in result.stderr and "without encryption" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["lab", "seconds", "status"] and len(lines) == 3
    assert _row(result.stdout, "01_good")[-2:] == ["42", "42"]
    assert build_parser().parse_args(["labs", "run", "--quiet"]).quiet


def test_labs_run_unknown_lab_is_a_usage_error(labs_dir, tmp_path):
    result = _run(["99", "--labs-dir", str(labs_dir)], tmp_path)
    assert result.returncode == 2 and "matches no lab" in result.stderr


def test_failed_lab_shows_no_stored_result(tmp_path, capfd):
    path = tmp_path / "05_fails.ipynb"
    _lab(
        path,
        [
            ("import dlkit", [_stale_stdout()]),
            "x = 1\nraise RuntimeError('boom mid-lab')",
            (TABLE_CELL, [_stale_table()]),
        ],
    )
    out = tmp_path / "out"
    stream = io.StringIO()
    runs = run_labs([str(path)], str(out), timeout=120, progress=Progress(stream, live=True, interval=None))

    run = runs[0]
    assert (run.status, run.error, run.stopped_at, run.cells) == (
        "failed",
        "RuntimeError: boom mid-lab",
        2,
        3,
    )
    assert (run.headline, run.measured, run.reference) == ("", "", "")
    table = format_table(runs)
    assert _row(table, "05_fails")[2:] == ["failed", "—", "—", "—"]
    assert "05_fails: failed at cell 2 of 3: RuntimeError: boom mid-lab" in table.splitlines()
    assert STALE not in table

    executed = nbformat.read(str(out / "05_fails.ipynb"), as_version=4)
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert code[0].outputs == [] and code[0].execution_count == 1  # ran; its stored stdout is gone
    assert [(o.output_type, o.ename, o.evalue) for o in code[1].outputs] == [
        ("error", "RuntimeError", "boom mid-lab")
    ]
    assert code[2].outputs == [] and code[2].execution_count is None  # never ran
    after_failure = executed.cells[executed.cells.index(code[1]) + 1]
    assert after_failure.cell_type == "markdown" and "stopped here" in after_failure.source
    assert (
        executed.cells[0].cell_type == "markdown" and "failed at code cell 2 of 3" in executed.cells[0].source
    )
    assert executed.metadata["dlkit_run"]["status"] == "failed"
    assert executed.metadata["dlkit_run"]["stopped_at_code_cell"] == 2
    assert [cell.metadata.get("dlkit_run") for cell in code] == [None, {"stopped_here": True}, None]
    html = (out / "05_fails.html").read_text()
    assert STALE not in html and "stopped here" in html

    shown = stream.getvalue()
    assert "\r" in shown and "lab 1 of 1  05_fails" in shown
    assert "cell 1/3: import dlkit" in shown and "cell 2/3: x = 1" in shown and "cell 3/3" not in shown
    assert "lab 1 of 1: 05_fails failed in " in shown
    assert "without encryption" not in capfd.readouterr().err  # the kernel shares this process's stderr


def test_timed_out_lab_shows_no_stored_result(tmp_path):
    path = tmp_path / "06_slow.ipynb"
    _lab(path, ["import dlkit, time", "time.sleep(120)", (TABLE_CELL, [_stale_table()])])
    out = tmp_path / "out"
    run = run_lab(str(path), str(out), timeout=2)

    assert (run.status, run.stopped_at, run.cells, run.measured) == ("timeout", 2, 3, "")
    assert "timed out" in run.error
    table = format_table([run])
    assert _row(table, "06_slow")[2:] == ["timeout", "—", "—", "—"]
    assert STALE not in table
    executed = nbformat.read(str(out / "06_slow.ipynb"), as_version=4)
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert [(o.output_type, o.ename) for o in code[1].outputs] == [("error", "CellTimeoutError")]
    assert "timed out" in code[1].outputs[0].evalue
    assert code[2].outputs == [] and code[2].execution_count is None
    assert executed.metadata["dlkit_run"]["status"] == "timeout"
    assert STALE not in (out / "06_slow.html").read_text()


def test_progress_lines():
    plain = io.StringIO()
    progress = Progress(plain, live=False)
    progress.lab_started(1, 2, "01_a")
    progress.cell_started(1, 3, "\n  model.fit(x)\nmore")
    progress.lab_finished(LabRun("01_a", 1.54, "ok"))
    progress.lab_started(2, 2, "02_b")
    progress.lab_finished(LabRun("02_b", 0.5, "failed", error="ValueError: x", stopped_at=1, cells=3))
    progress.close()
    assert plain.getvalue().splitlines() == [
        "lab 1 of 2: 01_a ...",
        "lab 1 of 2: 01_a ok in 1.5 s",
        "lab 2 of 2: 02_b ...",
        "lab 2 of 2: 02_b failed in 0.5 s at cell 1/3: ValueError: x",
    ]

    live = io.StringIO()
    progress = Progress(live, live=True, interval=None)
    progress.lab_started(1, 2, "01_a")
    progress.cell_started(1, 3, "\n  model.fit(x)\nmore")
    progress.lab_finished(LabRun("01_a", 1.54, "ok"))
    progress.close()
    text = live.getvalue()
    # Each redraw starts with a carriage return; the finished lab's line ends with a newline.
    assert re.match(r"\rlab 1 of 2  01_a  \d+ s \(total \d+ s\)", text)
    assert "starting kernel" in text and "cell 1/3: model.fit(x) " in text
    assert text.endswith("\rlab 1 of 2: 01_a ok in 1.5 s\n")

    with pytest.raises(ValueError, match="Argument `interval` must be a positive number"):
        Progress(io.StringIO(), interval=0)


def test_run_lab_argument_errors(labs_dir):
    lab = str(labs_dir / "01_good.ipynb")
    with pytest.raises(ValueError, match="Argument `timeout` must be a positive number"):
        run_lab(lab, str(labs_dir.parent / "out"), timeout=0)
    with pytest.raises(ValueError, match="Argument `timeout` must be a positive number"):
        run_labs([lab], str(labs_dir.parent / "out"), timeout=-1)
    with pytest.raises(ValueError, match="Argument `out_dir` must not be the folder of the lab"):
        run_lab(lab, str(labs_dir))
    with pytest.raises(ValueError, match="Argument `out_dir` must not be the folder of the lab"):
        run_labs([lab], str(labs_dir))
