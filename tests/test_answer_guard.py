"""`dlkit.grading.answer_guard`: a graded run cannot call the functions that answer an exercise.

Each test runs notebook cells through `run_sandboxed` (the grader's runner) with a check cell whose metadata
forbids a function of a small module written here, then reads what the run recorded: the values a cell got,
and the refused calls (`read_violations`). A control run of the same cells without the `forbidden` metadata
shows each attack would otherwise have worked. The sandbox is off here (`sandbox=False`) only so that the
run can import the module from a temporary folder; the guard does not depend on it. The same attacks on the
real labs, through `grade()` in the sandbox, are in tests/test_answer_keys.py.
"""

import os
import textwrap

import nbformat
import pytest

from dlkit.grading.records import read_records, read_violations
from dlkit.grading.sandbox import run_sandboxed

FIXTURE = """
def answer(x):
    return 2 * x + 1


class Machine:
    def __init__(self, k):
        self.k = k

    def run(self, x):
        return self.k * x + 1


class Faster(Machine):
    pass
"""

SETUP = "import guardfix\nfrom dlkit.grading import record\nfrom dlkit.grading.answer_guard import ForbiddenFunctionError\n"


def _cell(source, kind=None, grade_id=None, forbidden=None):
    cell = nbformat.v4.new_code_cell(textwrap.dedent(source))
    if kind == "solution":
        cell.metadata["nbgrader"] = {
            "solution": True,
            "grade": False,
            "grade_id": grade_id,
            "schema_version": 3,
        }
    elif kind == "check":
        cell.metadata["nbgrader"] = {
            "solution": False,
            "grade": True,
            "grade_id": grade_id,
            "points": 1,
            "schema_version": 3,
        }
        if forbidden is not None:
            cell.metadata["dlkit"] = {"forbidden": forbidden}
    return cell


def _run(cells, tmp_path, guarded=True):
    """Runs SETUP then `cells`; returns ({key: value}, {exercise: [function]}, {cell index: error})."""
    (tmp_path / "guardfix.py").write_text(FIXTURE)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [_cell(SETUP)] + cells
    if not guarded:
        for cell in notebook.cells:
            cell.metadata.pop("dlkit", None)
    run = run_sandboxed(
        notebook, timeout=180, memory_mb=None, sandbox=False, extra_env={"PYTHONPATH": str(tmp_path)}
    )
    try:
        assert run.status == "ok", run.detail
        values = {key: entries[0]["value"] for key, entries in read_records(run.record_path).items()}
        return values, read_violations(run.record_path), run.errors
    finally:
        run.cleanup()


def _exercise(solution, check="record('a', solve(3))", forbidden=("guardfix.answer",)):
    return [
        _cell(solution, "solution", "ex_a"),
        _cell(check, "check", "ex_a_check", list(forbidden)),
    ]


ATTACKS = {
    "wrapper": "def solve(x):\n    return guardfix.answer(x)\n",
    "alias": "solve = guardfix.answer\n",
    "kept reference in a default": "def solve(x, f=guardfix.answer):\n    return f(x)\n",
    "lambda": "solve = lambda x: guardfix.answer(x)\n",
    "compiled under a library's file name": (
        "import json\n"
        "exec(compile('def solve(x):\\n    return guardfix.answer(x)\\n', json.__file__, 'exec'))\n"
    ),
    "thread pool": (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "def solve(x):\n    return ThreadPoolExecutor(1).submit(guardfix.answer, x).result()\n"
    ),
    "borrowed __code__": "def solve(x):\n    pass\nsolve.__code__ = guardfix.answer.__code__\n",
    "class": "def solve(x):\n    return guardfix.Machine(2).run(x)\n",
    "subclass": "def solve(x):\n    return guardfix.Faster(2).run(x)\n",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_call_that_answers_the_exercise_is_refused_and_recorded(attack, tmp_path):
    forbidden = ["guardfix.Machine"] if "class" in attack else ["guardfix.answer"]
    cells = _exercise(ATTACKS[attack], forbidden=forbidden)
    values, violations, errors = _run(cells, tmp_path)
    assert "a" not in values
    assert violations == {"ex_a_check": [forbidden[0]]}
    assert errors[2].startswith("ForbiddenFunctionError: ex_a_check: uses `guardfix.")
    # Control: without the metadata the same cells score the value 2 * 3 + 1 = 7.
    values, violations, _ = _run(cells, tmp_path, guarded=False)
    assert values == {"a": 7} and violations == {}


def test_forbidden_until_its_check_has_run_then_allowed(tmp_path):
    cells = [
        _cell("def solve(x):\n    return 2 * x + 1\n", "solution", "ex_a"),
        _cell("record('a', solve(3))", "check", "ex_a_check", ["guardfix.answer"]),
        _cell("record('later', guardfix.answer(5))"),  # a demo after the check: the library feature is fine
        _cell("def solve_b(x):\n    return guardfix.answer(x)\n", "solution", "ex_b"),
        _cell("record('b', solve_b(4))", "check", "ex_b_check", []),
    ]
    values, violations, errors = _run(cells, tmp_path)
    assert values == {"a": 7, "later": 11, "b": 9}
    assert violations == {} and errors == {}


def test_an_instructor_demo_before_the_check_may_use_it_but_not_the_check_itself(tmp_path):
    # An introduction may plot the library's version of what the exercise asks for; the check cell of that
    # exercise calling it directly is the alias attack (see ATTACKS) and is refused.
    cells = [_cell("record('early', guardfix.answer(1))")] + _exercise(
        "def solve(x):\n    return 2 * x + 1\n"
    )
    cells.append(_cell("record('check_b', guardfix.answer(2))", "check", "ex_b_check", ["guardfix.answer"]))
    values, violations, errors = _run(cells, tmp_path)
    assert values == {"early": 3, "a": 7}
    assert violations == {"ex_b_check": ["guardfix.answer"]}
    assert list(errors) == [4] and errors[4].startswith("ForbiddenFunctionError: ex_b_check: uses")


def test_probing_every_private_function_of_lab_checks_gets_nothing(tmp_path):
    # The attack of the issue: try every callable of dlkit.lab_checks and keep the one that answers. Each call
    # is refused before it runs (no TypeError about the junk arguments), and charged to the current exercise.
    probe = """
        import importlib, pkgutil, types
        import dlkit.lab_checks as package
        refused, other = 0, []
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"dlkit.lab_checks.{info.name}")
            for name, value in vars(module).items():
                if name.startswith("_") and isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
                    try:
                        value(1, 2, 3)
                    except ForbiddenFunctionError:
                        refused += 1
                    except Exception as error:
                        other.append(f"{module.__name__}.{name}: {type(error).__name__}")
        def solve(x):
            return 2 * x + 1
    """
    cells = _exercise(probe, check="record('a', solve(3)); record('probe', [refused, other])", forbidden=[])
    cells[1].metadata["dlkit"] = {"forbidden": ["guardfix.answer"]}
    values, violations, _ = _run(cells, tmp_path)
    refused, other = values["probe"]
    assert other == [] and refused > 20
    assert list(violations) == ["ex_a_check"] and len(violations["ex_a_check"]) == refused
    assert all(name.startswith("dlkit.lab_checks.") for name in violations["ex_a_check"])


def test_lab_checks_calls_its_own_references_freely(tmp_path):
    # A visible check runs its private references through the guard: allowed, no violation.
    check = """
        import numpy as np
        from dlkit.lab_checks import optimization as checks
        def ewma(theta, beta, bias_correction=True):
            v, out = 0.0, []
            for t, value in enumerate(theta, start=1):
                v = beta * v + (1 - beta) * value
                out.append(v / (1 - beta**t) if bias_correction else v)
            return np.array(out)
        checks.check_ewma(ewma)
        record('a', solve(3))
    """
    cells = _exercise("def solve(x):\n    return 2 * x + 1\n", check=check)
    values, violations, errors = _run(cells, tmp_path)
    assert values == {"a": 7} and violations == {} and errors == {}


def test_a_name_that_does_not_resolve_stops_the_run(tmp_path):
    cells = _exercise("def solve(x):\n    return 1\n", forbidden=["guardfix.no_such_function"])
    (tmp_path / "guardfix.py").write_text(FIXTURE)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [_cell(SETUP)] + cells
    run = run_sandboxed(
        notebook, timeout=180, memory_mb=None, sandbox=False, extra_env={"PYTHONPATH": str(tmp_path)}
    )
    run.cleanup()
    assert run.status == "kernel died"
    assert "guardfix.no_such_function" in run.detail and "does not resolve" in run.detail


def test_bad_forbidden_metadata_is_refused_before_running(tmp_path):
    cells = _exercise("def solve(x):\n    return 1\n", forbidden=["not a name"])
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    with pytest.raises(
        ValueError, match=r"'ex_a_check': metadata `dlkit.forbidden` must be a list of dotted"
    ):
        run_sandboxed(notebook, timeout=60, memory_mb=None, sandbox=False)
    assert set(os.listdir(os.environ.get("TMPDIR", "/tmp"))) - before == set()
