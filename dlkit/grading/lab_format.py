"""The lab format (docs/lab_format.md): nbgrader cell metadata, solution and hidden-test markers, and regions.

One home for what every grading step reads the same way: `release` (blanks solutions, removes hidden tests),
`assemble` (finds solution and check cells), `record_audit` (reads hidden tests) and the gradebook.
"""

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)


def nbgrader_meta(cell):
    """The cell's `nbgrader` metadata, or an empty dict."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def cell_name(cell, index):
    """How error messages name a cell: its grade_id, else its position."""
    grade_id = nbgrader_meta(cell).get("grade_id")
    return repr(grade_id) if grade_id else f"cell {index}"


def is_solution_cell(cell):
    """Whether the cell is a solution cell (nbgrader `"solution": true`): students write it."""
    return bool(nbgrader_meta(cell).get("solution"))


def is_check_cell(cell):
    """Whether the cell is a graded check cell (nbgrader `"grade": true`, not a solution): it earns points."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def forbidden_names(cell, index=None):
    """The check cell's forbidden functions (`{"dlkit": {"forbidden": [dotted name, ...]}}` in its metadata):
    the library features that answer its exercise, refused during a graded run (`dlkit.grading.answer_guard`).

    Raises:
        ValueError: if the entry is not a list of dotted names.
    """
    names = cell.get("metadata", {}).get("dlkit", {}).get("forbidden", [])
    valid = isinstance(names, list) and all(
        isinstance(n, str) and n and all(part.isidentifier() for part in n.split(".")) for n in names
    )
    if not valid:
        raise ValueError(
            f"{cell_name(cell, index)}: metadata `dlkit.forbidden` must be a list of dotted names such as "
            f"'keras.optimizers.Adam'. Received: {names!r}"
        )
    return list(names)


def skipped_in_grading(cell, index=None):
    """Whether the cell is a demonstration the graded runs skip (`{"dlkit": {"grading": "skip"}}` in its
    metadata): a training comparison or a plot that no check cell needs. `dlkit grade`, the reference run and
    the exports run it as an empty cell.

    Raises:
        ValueError: on another value, or on a solution or check cell marked to skip (its points would go).
    """
    settings = cell.get("metadata", {}).get("dlkit", {})
    value = settings.get("grading") if isinstance(settings, dict) else None
    if value is None:
        return False
    if value != "skip":
        raise ValueError(
            f"{cell_name(cell, index)}: metadata `dlkit.grading` must be 'skip'. Received: {value!r}"
        )
    if is_solution_cell(cell) or is_check_cell(cell):
        raise ValueError(
            f"{cell_name(cell, index)}: a solution or check cell cannot be skipped in grading "
            "(metadata `dlkit.grading: skip`)."
        )
    return True


def _marker(line):
    stripped = line.strip()
    for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
        if stripped.startswith(marker):
            return marker
    return None


def _replace_regions(source, begin, end, stub, where):
    """Replaces each `begin`...`end` region (markers included) with `stub` lines at the marker's indentation.

    Returns:
        (new source, number of regions).

    Raises:
        ValueError: on a nested, unclosed or unopened region.
    """
    out, regions, inside = [], 0, False
    for line in source.split("\n"):
        marker = _marker(line)
        if marker == begin:
            if inside:
                raise ValueError(f"{where}: nested `{begin}` (a region opened twice without `{end}`).")
            inside, regions = True, regions + 1
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in stub)
        elif marker == end:
            if not inside:
                raise ValueError(f"{where}: `{end}` without a matching `{begin}`.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: `{begin}` without a matching `{end}`.")
    return "\n".join(out), regions


def strip_solutions(source, where="cell", stub=CODE_STUB):
    """Replaces each solution region of `source` with `stub`; returns (source, number of regions)."""
    return _replace_regions(source, BEGIN_SOLUTION, END_SOLUTION, stub, where)


def strip_hidden_tests(source, where="cell"):
    """Removes each hidden-tests region of `source` (markers included); returns (source, number of regions)."""
    return _replace_regions(source, BEGIN_HIDDEN, END_HIDDEN, (), where)
