"""`record_audit`: guessable recorded values are found, by value (reference run) and by source (`dlkit release`)."""

import glob
import hashlib
import json
import os

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from dlkit.grading import release
from dlkit.grading.record_audit import audit_reference, audit_source, weak_value
from dlkit.grading.records import to_plain

LABS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "labs")
LABS = sorted(glob.glob(os.path.join(LABS_DIR, "[0-9][0-9]_*.ipynb")))

# (value, weak?, why): the verdicts follow the rule by hand, not the implementation.
VALUES = [
    (True, True, "a flag"),
    (False, True, "a flag"),
    (None, True, "nothing"),
    ("val_loss", True, "a short name"),
    ("x" * 31, True, "31 characters"),
    ("x" * 32, False, "32 characters"),
    (hashlib.sha256(b"weights").hexdigest(), False, "a digest"),
    (7, True, "a small integer"),
    (-999, True, "|x| < 1000"),
    (1000, False, "|x| >= 1000"),
    (-6090, False, "a parameter count"),
    (10**400, False, "an integer too big for a float"),
    (0.5, False, "a non-integer float"),
    (3.0, True, "an integral float"),
    (1000.0, False, "an integral float with |x| >= 1000"),
    (float("nan"), True, "nan"),
    (float("-inf"), True, "inf"),
    ([400, 250], True, "a shape"),
    ([[16, 8, 8, 1], "float32"], True, "a shape and a dtype"),
    (list(range(7)), True, "7 numbers"),
    (list(range(8)), False, "8 numbers"),
    ([[6, 5], [24, 22], [5, 4], [7, 4]], False, "8 small integers in pairs"),
    ([True] * 20, True, "flags are not numbers"),
    ([1, 2, 0.25], False, "one non-integer float"),
    ({"monitor": "val_loss", "patience": 7, "restore": True, "minimizes": True}, True, "a small config"),
    ({"a": [1, 2, 3], "b": [4, 5, 6, 7]}, True, "7 numbers in a dict"),
    ({"a": [1, 2, 3, 4], "b": [5, 6, 7, 8]}, False, "8 numbers in a dict"),
    (np.array([0.25, 0.75]), False, "a float array"),
    (np.float64(0.1), False, "a NumPy float"),
    (np.int64(12), True, "a NumPy integer"),
    (np.zeros(3), True, "3 integral floats"),
    (np.zeros((3, 4)), False, "12 numbers"),
    (np.arange(8), False, "8 integers"),
    (np.ones((4, 5), dtype=bool), True, "a boolean array"),
    (np.array(["relu", "tanh"]), True, "short strings"),
    ({"w": np.array([1.5]), "ok": True}, False, "a float array in a dict"),
]


@pytest.mark.parametrize("value, weak, why", VALUES, ids=[why for _, _, why in VALUES])
def test_weak_value_table(value, weak, why):
    assert weak_value(value) is weak
    # The grader hands the audit what it read from the record file: JSON of `to_plain`.
    assert weak_value(json.loads(json.dumps(to_plain(value)))) is weak


def test_weak_value_reads_tagged_arrays_by_their_elements():
    shape_only = {"__ndarray__": [1.0, 0.0], "dtype": "float64", "shape": [2000, 3000]}
    assert weak_value(shape_only)  # the big shape is metadata, the 2 elements are all there is
    flags = {"__ndarray__": [1.0, 0.0] * 10, "dtype": "bool", "shape": [20]}
    assert weak_value(flags)
    labels = {"__ndarray__": [6.0, 1.0, 4.0, 8.0, 6.0, 1.0, 3.0, 2.0], "dtype": "int64", "shape": [8]}
    assert not weak_value(labels)


def test_weak_value_rejects_what_record_rejects():
    with pytest.raises(ValueError, match="dlkit.grading.record accepts .* Received: object"):
        weak_value(object())


def test_audit_reference_names_cells_whose_values_are_all_weak():
    problems = audit_reference(
        {
            "ex1_check": {"shape": [400, 250], "ok": True},
            "ex2_check": {"ok": True, "out": np.array([0.1, 0.2])},
            "ex3_check": {"config": {"monitor": "val_loss", "patience": 7}},
            "ex4_check": {},
        }
    )
    assert len(problems) == 3
    assert problems[0].startswith("check cell 'ex1_check' records only guessable values (shape, ok)")
    assert problems[1].startswith("check cell 'ex3_check' records only guessable values (config)")
    assert problems[2].startswith("check cell 'ex4_check' records only guessable values (no keys)")
    assert audit_reference({"ex2_check": {"out": 0.5}}) == []


@pytest.mark.parametrize("bad", [[("ex1_check", {})], {"ex1_check": 0.5}])
def test_audit_reference_checks_its_argument(bad):
    with pytest.raises(ValueError, match="`values_by_cell` must map each check cell's grade_id"):
        audit_reference(bad)


def _check_cell(grade_id, source):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
    }
    return cell


def _hidden(body, visible="check(f)"):
    return f"{visible}\n### BEGIN HIDDEN TESTS\n{body}\n### END HIDDEN TESTS"


WEAK_SOURCES = {
    "bool": "dlkit.grading.record('k', bool(f(x) > 0))",
    "comparison": "record('k', f(x).sum() == 3)",
    "not": "record('k', not f(x))",
    "isinstance": "record('k', isinstance(f(x), list))",
    "allclose": "record('k', np.allclose(f(x), x))",
    "method all": "record('k', (f(x) > 0).all())",
    "len": "record('k', len(f(x)))",
    "shape": "record('k', f(x).shape)",
    "list of shape": "record('k', list(f(x).shape))",
    "shape item": "record('k', f(x).shape[0])",
    "shape and dtype": "y = f(x)\nrecord('k', [list(y.shape), str(y.dtype)])",
    "constant": "record('k', 3)",
    "negative constant": "record('k', -1)",
    "keyword value": "record('k', value=True)",
    "dict of weak": "record('k', {'n': len(f(x)), 'ok': True, 'name': type(f(x)).__name__})",
    "comprehension of shapes": "record('k', {k: list(np.shape(v)) for k, v in f(x).items()})",
    "and of comparisons": "record('k', f(x) > 0 and f(x) < 1)",
    "name bound to a flag": "ok = bool(f(x))\n_ = dlkit.grading.record('k', ok)",
    "several weak keys": "record('a', True)\nrecord('b', len(x))\n_ = record('c', f(x).ndim)",
}
STRONG_SOURCES = {
    "call": "record('k', f(x))",
    "array": "_ = dlkit.grading.record('k', np.asarray(f(x)))",
    "name bound to a result": "out = f(x)\nrecord('k', out)",
    "name rebound to a result": "out = bool(f(x))\nout = f(x)\nrecord('k', out)",
    "one strong among weak": "record('a', bool(f(x)))\nrecord('b', f(x) * 2)",
    "list with a result": "record('k', [f(x), True])",
    "comprehension of results": "record('k', [float(f(v)) for v in xs])",
    "int of a result": "record('k', [int(v) for v in f(x)])",
}


@pytest.mark.parametrize("body", WEAK_SOURCES.values(), ids=WEAK_SOURCES)
def test_audit_source_flags_obviously_weak_hidden_tests(body):
    notebook = new_notebook(cells=[_check_cell("ex1_f_check", _hidden(body))])
    problems = audit_source(notebook)
    assert len(problems) == 1
    assert problems[0].startswith("check cell 'ex1_f_check' records only obviously guessable values")


@pytest.mark.parametrize("body", STRONG_SOURCES.values(), ids=STRONG_SOURCES)
def test_audit_source_passes_values_it_cannot_judge(body):
    assert audit_source(new_notebook(cells=[_check_cell("ex1_f_check", _hidden(body))])) == []


def test_audit_source_reads_only_hidden_tests_of_check_cells():
    # A strong record in the visible part does not count: the students see its inputs.
    visible_strong = _hidden("record('k2', True)", visible="check(f)\nrecord('k1', f(x))")
    no_hidden = "check(f)"
    magic = _hidden("record('k', True)", visible="%time check(f)")
    solution = new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    record('k', True)\n    ### END SOLUTION")
    solution.metadata["nbgrader"] = {"grade": False, "grade_id": "ex1_f", "solution": True, "locked": False}
    notebook = new_notebook(
        cells=[
            new_markdown_cell("record('k', True)"),
            solution,
            new_code_cell("record('k', True)"),  # not a check cell
            _check_cell("ex1_f_check", visible_strong),
            _check_cell("ex2_g_check", no_hidden),
            _check_cell("ex3_h_check", magic),
            _check_cell("ex4_ok_check", _hidden("record('k4', f(x))")),
        ]
    )
    problems = audit_source(notebook)
    assert [p.split(" records ")[0] for p in problems] == [
        "check cell 'ex1_f_check'",
        "check cell 'ex2_g_check'",
        "check cell 'ex3_h_check'",
    ]
    assert "records no value in its hidden tests" in problems[1]


def test_audit_source_reports_a_cell_it_cannot_parse():
    notebook = new_notebook(cells=[_check_cell("ex1_f_check", _hidden("record('k', f(x)"))])
    (problem,) = audit_source(notebook)
    assert problem.startswith("check cell 'ex1_f_check': cannot parse the cell")


@pytest.mark.parametrize("lab", LABS, ids=[os.path.basename(p).removesuffix(".ipynb") for p in LABS])
def test_every_lab_passes_the_static_audit(lab):
    assert audit_source(nbformat.read(lab, as_version=4)) == []


def test_release_refuses_a_source_with_a_weak_check_cell(tmp_path):
    solution = new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION")
    solution.metadata["nbgrader"] = {"grade": False, "grade_id": "ex1_f", "solution": True, "locked": False}
    weak = _check_cell(
        "ex1_f_check", _hidden("y = f(np.ones(3))\ndlkit.grading.record('ex1_shape', list(y.shape))")
    )
    source = tmp_path / "labs" / "03_weak.ipynb"
    source.parent.mkdir()
    nbformat.write(new_notebook(cells=[solution, weak]), str(source))
    out = tmp_path / "release"
    with pytest.raises(
        ValueError, match=r"Lab 03_weak: check cell 'ex1_f_check' records only obviously guessable"
    ):
        release(str(source), str(out))
    assert not out.exists() or os.listdir(out) == []
