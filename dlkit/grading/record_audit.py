"""`record_audit`: whether a check cell's recorded values could be guessed without solving the exercise.

A submission can patch `dlkit.grading.record` and replace what its code computed with any value it can guess:
every `False` becomes `True`, a shape becomes the shape the prompt states. A check cell earns its points only
if *all* its keys match the solution's values, so a cell is safe from such forgery as long as one of its values
takes the solution to compute. Two audits enforce that:

- `audit_source` (static, at `dlkit release`): reads the hidden tests with `ast` and flags a check cell all of
  whose `record(key, value)` value expressions are obviously guessable (`bool(...)`, a comparison, `len(...)`,
  `.shape`, a constant, ...). It cannot see what an arbitrary expression evaluates to: it is a first line only.
- `audit_reference` (at grade time, on the values the instructor's reference run recorded): applies the
  precise rule of `weak_value` to every value. It is the authoritative check.
"""

import ast
import math
import numbers

from dlkit.grading.lab_format import BEGIN_HIDDEN, END_HIDDEN, cell_name, is_check_cell
from dlkit.grading.records import to_plain

MIN_STRONG_COUNT = 8  # this many numbers (a small array, a curve) are too many to guess
MAX_WEAK_INTEGER = 1000  # integers below this are counts, shapes, epochs, configs: guessable
MIN_STRONG_STRING = 32  # a digest (hex SHA-256: 64); shorter strings are names and settings

# Calls whose result is a boolean, a size or a name: what a prompt or a predicate already tells.
_WEAK_CALLS = frozenset(
    {"bool", "isinstance", "issubclass", "callable", "hasattr", "len", "shape", "ndim", "allclose", "isclose"}
    | {"array_equal", "array_equiv", "all", "any", "isfinite", "isnan", "isinf"}
)
# Conversions that keep their argument's weakness: list(x.shape), int(len(x)), tuple(...).
_PASS_THROUGH_CALLS = frozenset({"list", "tuple", "int", "sorted", "set", "frozenset", "str"})
_WEAK_ATTRIBUTES = frozenset({"shape", "ndim", "dtype", "size", "__name__"})


def _scan(value, state):
    """Walks a plain value; sets state["strong"] on a strong atom, counts numbers in state["numbers"]."""
    if state["strong"] or value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        state["strong"] = len(value) >= MIN_STRONG_STRING
    elif isinstance(value, numbers.Integral):  # not through float: a huge int would overflow it
        state["numbers"] += 1
        state["strong"] = abs(int(value)) >= MAX_WEAK_INTEGER
    elif isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):  # nan and inf: nothing a guesser lacks
            return
        state["numbers"] += 1
        state["strong"] = not number.is_integer() or abs(number) >= MAX_WEAK_INTEGER
    elif isinstance(value, dict) and "__ndarray__" in value:
        # A tagged array (`to_plain`): its elements count, its "shape" and "dtype" are metadata. Boolean
        # arrays arrive as 0.0/1.0 but are predicates.
        if not str(value.get("dtype", "")).startswith("bool"):
            _scan(value["__ndarray__"], state)
    elif isinstance(value, dict):
        for item in value.values():  # keys are structure, chosen by the hidden test
            _scan(item, state)
    elif isinstance(value, list):
        for item in value:
            _scan(item, state)


def weak_value(value):
    """Whether a recorded value holds no information a guesser lacks.

    The rule. Booleans and None are weak; a string is weak if shorter than 32 characters; a number is weak if
    it is an integer (or an integral float) with |x| < 1000, or not finite. Lists, dicts and arrays are
    weak if every item in them is weak and they hold fewer than 8 numbers in total (dict keys and an array's
    shape and dtype are not counted; boolean arrays count as booleans). Everything else is strong: a value
    holding a non-integer float, an integer with |x| >= 1000, a string of 32 characters or more (a digest),
    or at least 8 numbers (a float array, a curve, a list of epochs). So shapes, counts, small configs and
    pass/fail flags are weak; an array computed from hidden inputs is strong.

    Example:

    >>> weak_value({"monitor": "val_loss", "patience": 7, "restore": True})
    True
    >>> weak_value(np.array([0.25, 0.75]))
    False

    Args:
        value: A recorded value: JSON-plain (as the grader reads it) or anything `dlkit.grading.record`
            accepts (NumPy arrays, tensors), which is converted first.

    Returns:
        Bool.

    Raises:
        ValueError: for a value `dlkit.grading.record` would refuse.
    """
    state = {"strong": False, "numbers": 0}
    _scan(to_plain(value), state)
    return not state["strong"] and state["numbers"] < MIN_STRONG_COUNT


def audit_reference(values_by_cell):
    """The check cells whose recorded values are all weak (see `weak_value`), from the reference run.

    Args:
        values_by_cell: Mapping from a check cell's grade_id to {key: value}, the values the instructor's
            source recorded for that cell's keys.

    Returns:
        List of strings, one per weak check cell (in the mapping's order), naming the cell and its keys;
        empty if every cell records at least one strong value.

    Raises:
        ValueError: if `values_by_cell` is not a mapping of mappings.
    """
    if not isinstance(values_by_cell, dict) or not all(isinstance(v, dict) for v in values_by_cell.values()):
        raise ValueError(
            "Argument `values_by_cell` must map each check cell's grade_id to {key: value}. "
            f"Received: {type(values_by_cell).__name__}"
        )
    problems = []
    for grade_id, values in values_by_cell.items():
        if all(weak_value(value) for value in values.values()):
            keys = ", ".join(values) or "no keys"
            problems.append(
                f"check cell {grade_id!r} records only guessable values ({keys}): record at least one value "
                "that takes the solution to compute, e.g. an array computed from hidden inputs (see "
                "docs/lab_format.md)"
            )
    return problems


def _hidden_lines(source):
    """The 1-based line numbers inside `### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS` regions."""
    lines, inside = set(), False
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith(BEGIN_HIDDEN):
            inside = True
        elif stripped.startswith(END_HIDDEN):
            inside = False
        elif inside:
            lines.add(number)
    return lines


def _call_name(node):
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _obviously_weak(node, assigned):
    """Whether an expression is guessable whatever the student's code computes (see `audit_source`)."""
    if isinstance(node, ast.Constant | ast.Compare):
        return True
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.Not) or _obviously_weak(node.operand, assigned)
    if isinstance(node, ast.BoolOp):
        return all(_obviously_weak(value, assigned) for value in node.values)
    if isinstance(node, ast.Attribute):
        return node.attr in _WEAK_ATTRIBUTES
    if isinstance(node, ast.Subscript):  # x.shape[0]
        return _obviously_weak(node.value, assigned)
    if isinstance(node, ast.Call):
        name = _call_name(node)
        if name in _WEAK_CALLS:
            return True
        return name in _PASS_THROUGH_CALLS and all(_obviously_weak(arg, assigned) for arg in node.args)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(_obviously_weak(item, assigned) for item in node.elts)
    if isinstance(node, ast.Dict):
        return all(_obviously_weak(value, assigned) for value in node.values)
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp):
        return _obviously_weak(node.elt, assigned)
    if isinstance(node, ast.DictComp):
        return _obviously_weak(node.value, assigned)
    if isinstance(node, ast.IfExp):
        return _obviously_weak(node.body, assigned) and _obviously_weak(node.orelse, assigned)
    if isinstance(node, ast.Name):
        return assigned.get(node.id, False)
    return False


def _parse(source):
    try:
        return ast.parse(source)
    except SyntaxError:
        from IPython.core.inputtransformer2 import TransformerManager  # magics -> Python, lines kept

        return ast.parse(TransformerManager().transform_cell(source))


def _cell_problem(source, name):
    """The problem with one check cell's hidden tests, or None."""
    try:
        tree = _parse(source)
    except SyntaxError as exc:
        return f"check cell {name}: cannot parse the cell ({exc.msg}, line {exc.lineno})"
    hidden = _hidden_lines(source)
    assigned, verdicts = {}, []  # name -> whether its latest top-level assignment is obviously weak
    for statement in tree.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and _call_name(node) == "record" and node.lineno in hidden:
                value = node.args[1] if len(node.args) > 1 else None
                value = next((k.value for k in node.keywords if k.arg == "value"), value)
                key = ast.unparse(node.args[0]) if node.args else "?"
                verdicts.append((key, value is None or _obviously_weak(value, assigned)))
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                assigned[target.id] = _obviously_weak(statement.value, assigned)
    if not verdicts:
        return f"check cell {name} records no value in its hidden tests ({BEGIN_HIDDEN} ... {END_HIDDEN})"
    if all(weak for _, weak in verdicts):
        keys = ", ".join(key for key, _ in verdicts)
        return (
            f"check cell {name} records only obviously guessable values in its hidden tests ({keys}: "
            "booleans, comparisons, lengths, shapes, dtypes or constants); record at least one value that takes "
            "the solution to compute, e.g. an array computed from hidden inputs (see docs/lab_format.md)"
        )
    return None


def audit_source(notebook):
    """Statically flags check cells whose hidden tests record only obviously guessable values.

    For each check cell (nbgrader `grade: true`, not a solution cell), the `record(key, value)` calls inside
    its `### BEGIN HIDDEN TESTS` regions are read with `ast`. A value expression is obviously weak if it is a
    constant; a comparison, `not ...`, or `and`/`or` of weak ones; a call to `bool`, `isinstance`, `len`,
    `hasattr`, `callable`, `np.allclose`, `np.array_equal`, `np.shape`, `.all()`, `.any()` and the like; an
    attribute `.shape`, `.ndim`, `.dtype`, `.size` or `.__name__` (or an item of one); `list`/`tuple`/`int`/
    `str`/`sorted` of a weak expression (`list(x.shape)`, `str(x.dtype)`); a list, tuple, dict or
    comprehension of weak items; or a name the cell last assigned (at top level) to a weak expression. A
    cell is flagged if every value it records is obviously weak, or if it records nothing in hidden tests.

    This is a first line: an expression it cannot judge passes, and `audit_reference` on the values the
    reference run records at grade time is authoritative.

    Args:
        notebook: An `nbformat` notebook node (a lab's source, with hidden tests).

    Returns:
        List of strings, one per flagged check cell, in notebook order, each naming the cell's grade_id.
    """
    problems = []
    for index, cell in enumerate(notebook.cells):
        if not is_check_cell(cell):
            continue
        problem = _cell_problem(cell.source, cell_name(cell, index))
        if problem:
            problems.append(problem)
    return problems
