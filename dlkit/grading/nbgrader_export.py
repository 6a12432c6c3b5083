"""`export_nbgrader`: a lab's source as an nbgrader source notebook whose hidden tests assert on their own.

nbgrader (jupyter/nbgrader) grades a check cell by running it: an error scores 0, a number as the cell's
value is partial credit, anything else full marks. Our hidden tests only *record* values, which `dlkit grade`
compares with a reference run; under nbgrader they would assert nothing. The export bakes the reference into
the notebook:

```
for each check cell:  after `### BEGIN HIDDEN TESTS` insert  dlkit.grading.expect('<the values its own run
                      recorded, with tolerances>')   -> `record` then raises on a mismatch (dlkit.grading.expectations)
                      partial credit: the cell ends with  dlkit.grading.earned()   -> nbgrader's partial credit
demonstrations marked `dlkit.grading: skip`: emptied (nbgrader runs every cell)
the setup cell: ends by sending stderr and warnings to stdout (nbgrader scores a cell that writes to stderr 0)
```

The reference values come from one sandboxed run of the source, here, as `dlkit grade` makes them. nbgrader's
`generate_assignment` removes the hidden tests (and so the expected values) from the student version, and
`autograde` puts them back from the source.
"""

import json
import os

from dlkit.atomic_write import write_atomic
from dlkit.grading.lab_format import BEGIN_HIDDEN, skipped_in_grading
from dlkit.lab_files import lab_name

# nbgrader scores a check cell 0 if it writes to stderr: warnings go to stdout instead (in the setup cell).
STDERR_LINE = (
    "import dlkit.grading.expectations; dlkit.grading.expectations.stderr_to_stdout()  # for nbgrader"
)


def _with_expectations(source, spec, partial, where):
    """`source` with `dlkit.grading.expect(spec)` as the first line of its hidden tests (and `earned()` last)."""
    lines = source.split("\n")
    begin = next((i for i, line in enumerate(lines) if line.strip().startswith(BEGIN_HIDDEN)), None)
    if begin is None:
        # The expected values would be in the student's version: refuse rather than leak them.
        raise ValueError(
            f"{where}: a check cell needs a `{BEGIN_HIDDEN}` region to hold its expected values."
        )
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    lines.insert(begin + 1, f"{indent}dlkit.grading.expect({json.dumps(spec, sort_keys=True)!r})")
    if partial:
        lines.append("dlkit.grading.earned()")
    return "\n".join(lines)


def export_nbgrader(source_path, course_dir, *, timeout=600, memory_mb=8192, sandbox=True, reference=None):
    """Writes `course_dir/source/<lab>/<lab>.ipynb`: the lab for nbgrader, with self-asserting hidden tests.

    Example:

    >>> export_nbgrader("labs/02_regularization.ipynb", "course")
    'course/source/02_regularization/02_regularization.ipynb'

    Then, in `course/`: `nbgrader generate_assignment 02_regularization`, collect submissions into
    `submitted/<student>/02_regularization/`, `nbgrader autograde 02_regularization`.

    Args:
        source_path: String. The lab's source notebook (with solutions).
        course_dir: String. The nbgrader course folder (created if needed).
        timeout, memory_mb, sandbox: For the reference run, as `dlkit.grading.grade`.
        reference: Dict or None. The lab's reference values (`reference_values`), when already computed; None
            runs the source here.

    Returns:
        The path written.

    Raises:
        ValueError: if the source breaks the lab format, a check cell has no hidden-tests region, or
            `reference` does not match its check cells.
        dlkit.grading.GradingError: if the source's own run fails.
    """
    import nbformat

    from dlkit.grading.assemble import load_source
    from dlkit.grading.grader import check_reference, reference_values

    if not isinstance(source_path, str | os.PathLike) or not os.path.isfile(source_path):
        raise ValueError(
            f"Argument `source_path` must be a notebook file. Received: source_path={source_path!r}"
        )
    if not isinstance(course_dir, str | os.PathLike) or not str(course_dir):
        raise ValueError(f"Argument `course_dir` must be a folder path. Received: course_dir={course_dir!r}")
    lab = load_source(source_path)
    name = lab_name(source_path)
    notebook = nbformat.read(source_path, as_version=4)
    for check in lab.checks:  # validated before the (long) reference run
        _with_expectations(notebook.cells[check.index].source, {}, False, f"Lab {name}, {check.grade_id!r}")
    if not any(c.cell_type == "code" and "import dlkit" in c.source for c in notebook.cells):
        raise ValueError(f"Lab {name}: no setup cell imports dlkit (`import dlkit.grading`).")
    if reference is None:
        reference = reference_values(lab, timeout=timeout, memory_mb=memory_mb, sandbox=sandbox)
    else:
        reference = check_reference(lab, reference)
    for check in lab.checks:
        spec = {"values": {key: list(reference[key]) for key in check.keys}}
        if check.weights:
            spec.update(weights=check.weights, points=check.points)
        cell = notebook.cells[check.index]
        cell.source = _with_expectations(cell.source, spec, bool(check.weights), check.grade_id)
        cell.metadata.get("dlkit", {}).pop("partial_credit", None)  # in `spec` now; it names hidden tests
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if skipped_in_grading(cell):
                cell.source = ""
    setup = next(c for c in notebook.cells if c.cell_type == "code" and "import dlkit" in c.source)
    setup.source = setup.source.rstrip("\n") + "\n" + STDERR_LINE
    path = os.path.join(course_dir, "source", name, f"{name}.ipynb")
    write_atomic(path, nbformat.writes(notebook) + "\n")
    return path
