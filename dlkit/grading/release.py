"""`release`: the student version of a lab's source notebook (nbgrader's `generate_assignment`, simplified)."""

import os

from dlkit.atomic_write import write_atomic
from dlkit.grading.lab_format import (
    BEGIN_SOLUTION,
    CODE_STUB,
    END_SOLUTION,
    MARKDOWN_STUB,
    cell_name,
    is_solution_cell,
    strip_hidden_tests,
    strip_solutions,
)
from dlkit.lab_files import lab_name


def _drop_hidden_metadata(cell):
    """Removes what names hidden tests from a cell's metadata (partial credit's per-key weights)."""
    settings = cell.get("metadata", {}).get("dlkit")
    if isinstance(settings, dict):
        settings.pop("partial_credit", None)
        if not settings:
            del cell.metadata["dlkit"]


def release_notebook(notebook, name=None):
    """Turns a lab's source notebook (an `nbformat` node, changed in place) into the student version.

    In solution cells each `### BEGIN SOLUTION` ... `### END SOLUTION` region becomes `# YOUR CODE HERE` and
    `raise NotImplementedError()` (markdown: `YOUR ANSWER HERE`) at the marker's indentation; every
    `### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS` region is removed; outputs and execution counts are
    cleared; metadata (nbgrader's included) is kept, except partial credit's per-key weights (they name the
    hidden tests). The notebook is left unchanged if it is refused.

    Args:
        notebook: An `nbformat` notebook node: the lab's source, with solutions and hidden tests.
        name: String or None. The lab's name, for error messages.

    Returns:
        `notebook`.

    Raises:
        ValueError: on a code solution cell without markers, markers in a cell that is not a solution cell,
            unbalanced markers, or a check cell whose hidden tests record only obviously guessable values
            (`dlkit.grading.record_audit.audit_source`: a forged `record` could score it); the message names
            the lab and the cell's grade_id.
    """
    from dlkit.grading.record_audit import audit_source

    lab = f"Lab {name}" if name else "Lab"
    sources = []
    for index, cell in enumerate(notebook.cells):
        where = f"{lab}, cell {cell_name(cell, index)}" if name else f"Lab cell {cell_name(cell, index)}"
        stub = MARKDOWN_STUB if cell.cell_type == "markdown" else CODE_STUB
        source, solutions = strip_solutions(cell.source, where, stub)
        source, _ = strip_hidden_tests(source, where)
        if is_solution_cell(cell):
            if solutions == 0 and cell.cell_type == "code":
                raise ValueError(
                    f"{where} is a solution cell without `{BEGIN_SOLUTION}` / `{END_SOLUTION}` markers."
                )
        elif solutions:
            raise ValueError(
                f"{where} holds `{BEGIN_SOLUTION}` markers but is not a solution cell "
                '(set "solution": true in its nbgrader metadata).'
            )
        sources.append(source)
    problems = audit_source(notebook)
    if problems:
        raise ValueError(f"{lab}: {'; '.join(problems)}.")
    for cell, source in zip(notebook.cells, sources, strict=True):
        cell.source = source
        _drop_hidden_metadata(cell)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def release(source_path, out_dir):
    """Writes the student version of the lab `source_path` into `out_dir` under the same file name.

    Deterministic: rerunning on the same source gives a byte-identical file.

    Example:

    >>> release("labs/01_initialization.ipynb", "build/release")
    'build/release/01_initialization.ipynb'

    Args:
        source_path: String. A lab source notebook (with solutions).
        out_dir: String. Output folder (created if needed); must not be the source's folder.

    Returns:
        The path written.

    Raises:
        ValueError: if `source_path` is not a file, `out_dir` is the source's folder, or the notebook breaks
            the lab format or records only guessable values in a check cell (see `release_notebook`); then
            nothing is written.
    """
    import nbformat

    if not isinstance(source_path, str | os.PathLike) or not os.path.isfile(source_path):
        raise ValueError(
            f"Argument `source_path` must be a notebook file. Received: source_path={source_path!r}"
        )
    if not isinstance(out_dir, str | os.PathLike) or not str(out_dir):
        raise ValueError(f"Argument `out_dir` must be a folder path. Received: out_dir={out_dir!r}")
    if os.path.abspath(os.path.dirname(source_path)) == os.path.abspath(out_dir):
        raise ValueError(
            f"Argument `out_dir` must differ from the source's folder (it would overwrite the solutions). "
            f"Received: out_dir={out_dir!r}"
        )
    notebook = nbformat.read(source_path, as_version=4)
    release_notebook(notebook, name=lab_name(source_path))
    path = os.path.join(out_dir, os.path.basename(source_path))
    write_atomic(path, nbformat.writes(notebook) + "\n")
    return path
