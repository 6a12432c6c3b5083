"""The notebook the grader runs: the instructor's source with only the submission's solution cells put in."""

import ast
import copy
import dataclasses
import json
import os

from dlkit.grading.lab_format import (
    CODE_STUB,
    cell_name,
    is_check_cell,
    is_solution_cell,
    nbgrader_meta,
    skipped_in_grading,
    strip_solutions,
)
from dlkit.lab_files import find_labs, lab_name

MAX_SUBMISSION_BYTES = 50 * 1024 * 1024


class SubmissionError(ValueError):
    """A submission the grader cannot use (not JSON, not a notebook, no matching lab); scores zero."""


@dataclasses.dataclass
class CheckCell:
    """A graded check cell: its points, the record keys its tests write, and the solution cells it follows.

    `weights` is None (all or nothing: the points need every key to match) or {key: weight > 0} over exactly
    the cell's keys (partial credit: points * sum of the matching keys' weights / sum of all weights), from the
    cell's metadata `{"dlkit": {"partial_credit": {key: weight, ...}}}` (docs/lab_format.md).
    """

    grade_id: str
    index: int
    points: float
    keys: list
    exercises: list
    weights: dict = None


def _partial_credit(cell, keys, where):
    """The check cell's per-key weights, or None for all-or-nothing; validated against the keys it records."""
    settings = cell.get("metadata", {}).get("dlkit", {})
    weights = settings.get("partial_credit") if isinstance(settings, dict) else None
    if weights is None:
        return None
    if not isinstance(weights, dict) or set(weights) != set(keys):
        raise ValueError(
            f"{where}: `partial_credit` must map each key the cell records ({', '.join(keys)}) to a weight. "
            f"Received: {weights!r}"
        )
    for key, weight in weights.items():
        if not isinstance(weight, int | float) or isinstance(weight, bool) or not weight > 0:
            raise ValueError(
                f"{where}: `partial_credit` weights must be numbers > 0. Received: {key}={weight!r}"
            )
    return {key: float(weights[key]) for key in keys}


@dataclasses.dataclass
class LabSource:
    """A lab's source notebook, parsed for grading."""

    name: str
    path: str
    notebook: object
    solutions: dict  # grade_id -> cell index
    checks: list  # of CheckCell, in notebook order

    @property
    def max_total(self):
        return sum(check.points for check in self.checks)


def _record_keys(source, where):
    """The literal keys of the `record(...)` / `dlkit.grading.record(...)` calls in a cell's source."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        from IPython.core.inputtransformer2 import TransformerManager  # magics -> Python

        try:
            tree = ast.parse(TransformerManager().transform_cell(source))
        except SyntaxError as exc:
            raise ValueError(f"{where}: cannot parse the cell ({exc.msg}, line {exc.lineno}).") from None
    keys = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (
            func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        )
        if name != "record":
            continue
        key = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "key"), None)
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value):
            raise ValueError(
                f"{where}: every record(...) call needs a literal string key (the grader attributes keys "
                f"to check cells by reading the source). Received: {ast.unparse(node)[:80]}"
            )
        keys.append((node.lineno, node.col_offset, key.value))
    return [key for _, _, key in sorted(keys)]


def load_source(path):
    """Parses the lab source `path` for grading.

    Raises:
        ValueError: if the lab breaks the format: no check cells, a check cell without points or without
            literal record keys, a key recorded by two check cells, duplicate grade_ids.
    """
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    name = lab_name(path)
    solutions, checks, seen_ids, seen_keys, pending = {}, [], set(), {}, []
    for index, cell in enumerate(notebook.cells):
        grade_id = nbgrader_meta(cell).get("grade_id")
        where = f"Lab {name}, cell {cell_name(cell, index)}"
        try:
            skipped_in_grading(cell, index)
        except ValueError as error:
            raise ValueError(f"Lab {name}: {error}") from None
        if grade_id:
            if grade_id in seen_ids:
                raise ValueError(f"{where}: grade_id used twice.")
            seen_ids.add(grade_id)
        if is_solution_cell(cell) and cell.cell_type == "code":
            if not grade_id:
                raise ValueError(f"{where}: a solution cell needs a grade_id.")
            solutions[grade_id] = index
            pending.append(grade_id)
        elif is_check_cell(cell):
            points = nbgrader_meta(cell).get("points")
            if not grade_id or not isinstance(points, int | float) or isinstance(points, bool) or points < 0:
                raise ValueError(
                    f"{where}: a check cell needs a grade_id and points >= 0. Received: {points!r}"
                )
            keys = _record_keys(cell.source, where)
            if not keys:
                raise ValueError(
                    f"{where}: a check cell must record at least one key (dlkit.grading.record)."
                )
            for key in keys:
                if seen_keys.get(key, grade_id) != grade_id:
                    raise ValueError(f"{where}: key {key!r} is also recorded by {seen_keys[key]!r}.")
                seen_keys[key] = grade_id
            keys = list(dict.fromkeys(keys))
            checks.append(
                CheckCell(grade_id, index, points, keys, pending, _partial_credit(cell, keys, where))
            )
            pending = []
    if not checks:
        raise ValueError(f"Lab {name} has no check cells (nbgrader grade: true with points).")
    return LabSource(name, path, notebook, solutions, checks)


def solution_ids_of(path):
    """The grade_ids of a lab's solution cells (cheap: for matching submissions to labs)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return {
        nbgrader_meta(cell)["grade_id"]
        for cell in data.get("cells", [])
        if is_solution_cell(cell) and nbgrader_meta(cell).get("grade_id")
    }


def find_sources(source_dir):
    """Lab sources in `source_dir`: {lab name: path}.

    Raises:
        ValueError: if `source_dir` is not a folder or holds no lab.
    """
    if not isinstance(source_dir, str | os.PathLike) or not os.path.isdir(source_dir):
        raise ValueError(
            f"Argument `source` must be a folder of lab notebooks. Received: source={source_dir!r}"
        )
    paths = find_labs(source_dir)
    if not paths:
        raise ValueError(
            f"Argument `source` holds no lab notebooks (NN_name.ipynb). Received: source={source_dir!r}"
        )
    return {lab_name(p): p for p in paths}


def load_submission(path):
    """Reads a submitted notebook; returns {grade_id: [source, ...]} of its code cells that carry a grade_id.

    Raises:
        SubmissionError: if the file is unreadable, too large, not JSON, or not a Jupyter notebook.
    """
    try:
        if os.path.getsize(path) > MAX_SUBMISSION_BYTES:
            raise SubmissionError(f"file larger than {MAX_SUBMISSION_BYTES // 2**20} MB")
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise SubmissionError(f"cannot read the file ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SubmissionError(f"not a notebook: the file is not JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list) or "nbformat" not in data:
        raise SubmissionError("not a notebook: JSON without the notebook fields (nbformat, cells)")
    if data.get("nbformat") != 4:
        raise SubmissionError(f"not a notebook in format 4 (nbformat={data.get('nbformat')!r})")
    cells = {}
    for cell in data["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        grade_id = nbgrader_meta(cell).get("grade_id")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if isinstance(grade_id, str) and isinstance(source, str):
            cells.setdefault(grade_id, []).append(source)
    return cells


def match_lab(submission_name, cells, sources_ids):
    """The lab a submission belongs to: the most solution grade_ids in common; ties go to the lab whose name
    starts the submission's file name (e.g. `01_initialization-alice.ipynb`), then to the first lab.

    Args:
        submission_name: String. The submission's file name.
        cells: dict from `load_submission`.
        sources_ids: {lab name: set of solution grade_ids}.

    Raises:
        SubmissionError: if no lab shares a solution grade_id with the submission.
    """
    base = os.path.basename(submission_name)
    scored = []
    for lab, ids in sorted(sources_ids.items()):
        common = len(ids & set(cells))
        hint = base.startswith(lab) or base.startswith(lab[:3])
        scored.append((common, hint, lab))
    best = min(scored, key=lambda item: (-item[0], not item[1], item[2]))
    if best[0] == 0:
        raise SubmissionError(
            "no matching lab: the notebook has none of the exercise cells (grade_ids) of "
            + ", ".join(sorted(sources_ids))
        )
    return best[2]


def assemble(lab, cells):
    """The notebook to run: `lab`'s source with each solution cell's source taken from the submission.

    Only the source text of the submission's solution cells (matched by grade_id) is used; outputs and
    metadata never are. A solution cell missing from the submission gets the blank student stub, so the
    exercises after it still run. Demonstrations marked `dlkit.grading: skip` become empty cells.

    Returns:
        (notebook, missing grade_ids, duplicated grade_ids).
    """
    notebook = copy.deepcopy(lab.notebook)
    missing, duplicated = [], []
    for grade_id, index in lab.solutions.items():
        cell = notebook.cells[index]
        sources = cells.get(grade_id)
        if not sources:
            missing.append(grade_id)
            cell.source = strip_solutions(cell.source, grade_id, CODE_STUB)[0]
        else:
            if len(sources) > 1:
                duplicated.append(grade_id)
            cell.source = sources[0]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            if skipped_in_grading(cell):
                cell.source = ""
    return notebook, missing, duplicated
