"""The Gradescope autograder of a lab: `export_gradescope` writes its zip, `run_autograder` grades in the container.

Gradescope's layout (gradescope/autograder_samples, docs/specs.md): the zip's root holds `setup.sh` (run once,
when Gradescope builds the image, from `/autograder/source`, where the zip is unpacked) and an executable
`run_autograder`; for each submission Gradescope starts a fresh container, puts the student's files in
`/autograder/submission/` and reads `/autograder/results/results.json`:

```
{"score", "execution_time", "output", "output_format",
 "tests": [{"name", "score", "max_score", "status": "passed" | "failed", "output", "output_format", "visibility"}]}
```

The zip holds `lab/<lab>.ipynb` (the source with every solution region blanked, hidden tests kept),
`lab/reference.json` (the values the source's own sandboxed run records, computed once here at export), the
dlkit package (`dlkit-src/`, installed by `setup.sh`) and a README. A submission is graded by one run:
`run_autograder` reads the lab and the reference into memory and deletes them from disk before any student code
runs, then runs the submission like `dlkit grade` does (bubblewrap when the container allows it, else the
container is the sandbox) and scores it in its own process. Whatever happens, it writes a results.json.
"""

import glob
import json
import os
import shutil
import tempfile
import time
import zipfile

from dlkit.atomic_write import write_atomic
from dlkit.lab_files import lab_name

REFERENCE = "reference.json"
ROOT_ENV = "AUTOGRADER_ROOT"  # the container's /autograder; a test points it at a temporary folder

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, from /autograder/source, when it builds the autograder image (Ubuntu).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install ./dlkit-src
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission; it always writes $ROOT/results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${DLKIT_AUTOGRADER_PYTHON:-/autograder/venv/bin/python}"
exec "$PYTHON" -m dlkit.grading.gradescope "$ROOT"
"""

README = """# dlkit autograder for {lab}

Made by `dlkit export gradescope {lab}`. Upload this zip as the assignment's autograder (Ubuntu base image).
Students submit their `{lab}.ipynb` (any file name ending in .ipynb).

- `setup.sh` installs Python, bubblewrap and the bundled dlkit (`dlkit-src/`) into /autograder/venv.
- `run_autograder` grades one submission: only the source text of its exercise cells is used; setup, checks and
  hidden tests come from `lab/{lab}.ipynb` (no solutions in it). Points come from comparing the values the hidden
  tests record with `lab/reference.json`, computed when this zip was made.
- Isolation: before any student code runs, the lab and the reference values are read into memory and deleted
  from the container's disk. The student's notebook then runs in a bubblewrap sandbox (no network, read-only
  system, no view of /autograder) when the container allows user namespaces; otherwise the container Gradescope
  starts for each submission is the only sandbox (results.json says which).
- Per-test `output` is the student's feedback from `dlkit grade` (status and the visible check's message; hidden
  tests are never named).
"""


def _grading_notebook(source_path):
    """The lab's source with every solution region blanked (hidden tests kept): what the container runs."""
    import nbformat

    from dlkit.grading.lab_format import CODE_STUB, MARKDOWN_STUB, cell_name, strip_solutions

    notebook = nbformat.read(source_path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        stub = MARKDOWN_STUB if cell.cell_type == "markdown" else CODE_STUB
        cell.source = strip_solutions(cell.source, cell_name(cell, index), stub)[0]
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.writes(notebook) + "\n"


def _package_files():
    """(path on disk, path in the zip) of the dlkit package and its build files, without caches."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    project = os.path.dirname(package)
    files = []
    for folder, dirs, names in os.walk(package):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        files += [(os.path.join(folder, n), None) for n in names if not n.endswith((".pyc", ".pyo"))]
    files = [(path, os.path.join("dlkit-src", os.path.relpath(path, project))) for path, _ in files]
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if os.path.isfile(os.path.join(project, name)):
            files.append((os.path.join(project, name), os.path.join("dlkit-src", name)))
    return files


def export_gradescope(source_path, out_dir, *, timeout=600, memory_mb=8192, sandbox=True, reference=None):
    """Writes `out_dir/<lab>-autograder.zip`, Gradescope's autograder for the lab `source_path`.

    The reference values come from one sandboxed run of the source, here (`reference_values`).

    Example:

    >>> export_gradescope("labs/04_optimization.ipynb", "build/gradescope")
    'build/gradescope/04_optimization-autograder.zip'

    Args:
        source_path: String. The lab's source notebook (with solutions).
        out_dir: String. Folder for the zip (created if needed).
        timeout, memory_mb, sandbox: For the reference run, as `dlkit.grading.grade`.
        reference: Dict or None. The lab's reference values (`reference_values`), when already computed (one run
            for several exports); None runs the source here.

    Returns:
        The zip's path.

    Raises:
        ValueError: if the source breaks the lab format, or `reference` does not match its check cells.
        dlkit.grading.GradingError: if the source's own run fails.
    """
    from dlkit.grading.assemble import load_source
    from dlkit.grading.grader import check_reference, reference_values

    if not isinstance(source_path, str | os.PathLike) or not os.path.isfile(source_path):
        raise ValueError(
            f"Argument `source_path` must be a notebook file. Received: source_path={source_path!r}"
        )
    lab = load_source(source_path)
    if reference is None:
        reference = reference_values(lab, timeout=timeout, memory_mb=memory_mb, sandbox=sandbox)
    else:
        reference = check_reference(lab, reference)
    name = lab_name(source_path)
    path = os.path.join(out_dir, f"{name}-autograder.zip")
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".zip", dir=out_dir)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, text, mode in (
                ("setup.sh", SETUP_SH, 0o755),
                ("run_autograder", RUN_AUTOGRADER, 0o755),
                ("README.md", README.format(lab=name), 0o644),
                (f"lab/{name}.ipynb", _grading_notebook(source_path), 0o644),
                (
                    f"lab/{REFERENCE}",
                    json.dumps(
                        {"lab": name, "timeout": timeout, "memory_mb": memory_mb, "values": reference},
                        sort_keys=True,
                    ),
                    0o644,
                ),
            ):
                info = zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, text)
            for disk, member in sorted(_package_files(), key=lambda item: item[1]):
                archive.write(disk, member)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def results_json(row, seconds):
    """Gradescope's results.json (a dict) for one graded submission (a `SubmissionGrade`)."""
    tests = []
    for exercise in row.exercises:
        message = exercise.message or ("all tests passed" if exercise.status == "passed" else "")
        tests.append(
            {
                "name": exercise.grade_id,
                "score": exercise.points,
                "max_score": exercise.max_points,
                "status": "passed" if exercise.status == "passed" else "failed",
                "output": f"{exercise.status}: {message}" if message else exercise.status,
                "output_format": "text",
                "visibility": "visible",
            }
        )
    lines = [f"{row.lab}: {row.total:g} / {row.max_total:g} points ({row.status})."]
    lines += [f"Note: {note}" for note in row.notes]
    if row.sandbox == "none":
        lines.append("Isolation: the container (bubblewrap was not available in it).")
    return {
        "score": row.total,
        "execution_time": round(seconds, 1),
        "output": "\n".join(lines),
        "output_format": "text",
        "tests": tests,
    }


def failure_json(message, seconds):
    """results.json for a submission that could not be graded: score 0 and why."""
    return {
        "score": 0.0,
        "execution_time": round(seconds, 1),
        "output": f"Not graded: {message}",
        "output_format": "text",
        "tests": [],
    }


def _grade_in_container(root):
    """Grades the submission under `root` (Gradescope's /autograder); returns (results dict)."""
    from dlkit.grading.assemble import SubmissionError, assemble, load_source, load_submission
    from dlkit.grading.bwrap import SandboxUnavailableError, check_sandbox
    from dlkit.grading.grader import SubmissionGrade, run_and_read, score

    start = time.perf_counter()
    lab_dir = os.path.join(root, "source", "lab")
    with open(os.path.join(lab_dir, REFERENCE), encoding="utf-8") as f:
        shipped = json.load(f)
    name = shipped["lab"]
    reference = {key: tuple(entry) for key, entry in shipped["values"].items()}
    lab = load_source(os.path.join(lab_dir, f"{name}.ipynb"))
    # In memory now: nothing of the lab is left on disk for the student's code to read.
    shutil.rmtree(lab_dir, ignore_errors=True)
    notebooks = sorted(glob.glob(os.path.join(root, "submission", "**", "*.ipynb"), recursive=True))
    notebooks = [p for p in notebooks if ".ipynb_checkpoints" not in p]
    if not notebooks:
        return failure_json("no .ipynb file in the submission", time.perf_counter() - start)
    preferred = [p for p in notebooks if os.path.basename(p).startswith(name)]
    path = (preferred or notebooks)[0]
    try:
        cells = load_submission(path)
    except SubmissionError as error:
        return failure_json(f"{os.path.basename(path)}: {error}", time.perf_counter() - start)
    if not set(cells) & set(lab.solutions):
        return failure_json(
            f"{os.path.basename(path)} has none of the exercise cells of {name}", time.perf_counter() - start
        )
    try:
        check_sandbox()
        sandbox = True
    except SandboxUnavailableError:
        sandbox = False
    notebook, missing, duplicated = assemble(lab, cells)
    run, records, violations = run_and_read(notebook, shipped["timeout"], shipped["memory_mb"], sandbox)
    exercises = score(lab, reference, run, records, missing, violations)
    notes = [f"{run.status}: {run.detail}"] if run.status != "ok" else []
    notes += (
        [f"cells with the same grade_id ({', '.join(duplicated)}): graded the first"] if duplicated else []
    )
    status = "graded" if run.status == "ok" else run.status
    row = SubmissionGrade(
        os.path.basename(path), path, name, status, exercises, lab.max_total, notes, run.seconds, run.sandbox
    )
    return results_json(row, time.perf_counter() - start)


def run_autograder(root=None):
    """Grades the submission in `root` (default: `$AUTOGRADER_ROOT`, else /autograder) and writes
    `root/results/results.json`, also when grading fails (score 0, the error in `output`)."""
    root = root or os.environ.get(ROOT_ENV, "/autograder")
    start = time.perf_counter()
    try:
        results = _grade_in_container(root)
    except Exception as error:  # the student must get a results.json, never a crashed autograder
        results = failure_json(
            f"the autograder failed ({type(error).__name__}: {error})", time.perf_counter() - start
        )
    write_atomic(os.path.join(root, "results", "results.json"), json.dumps(results, indent=1) + "\n")
    return results


if __name__ == "__main__":
    import sys

    run_autograder(sys.argv[1] if len(sys.argv) > 1 else None)
