"""`dlkit release`: student notebooks without solutions, hidden tests or outputs; deterministic; loud on bad
sources."""

import copy
import json
import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from dlkit.cli import main
from dlkit.grading import release, release_notebook

FIXTURE = os.path.join(os.path.dirname(__file__), "data", "grading", "labs", "01_fixture.ipynb")


def _meta(grade_id, *, solution=False, grade=False, points=None):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def test_release_blanks_solutions_and_drops_hidden_tests(tmp_path):
    path = release(FIXTURE, str(tmp_path))
    assert path == os.path.join(str(tmp_path), "01_fixture.ipynb")
    text = open(path, encoding="utf-8").read()
    for secret in (
        "BEGIN SOLUTION",
        "END SOLUTION",
        "HIDDEN TESTS",
        "record(",
        "np.exp",
        "dtype=float) * factor",
    ):
        assert secret not in text
    source = nbformat.read(FIXTURE, as_version=4)
    student = nbformat.read(path, as_version=4)
    assert len(student.cells) == len(source.cells)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in student.cells}
    # Written out by hand: the stub sits at the markers' indentation, signature and docstring stay.
    assert by_id["ex1_scale"].source == (
        'def scale(x, factor):\n    """Returns x multiplied by factor."""\n'
        "    # YOUR CODE HERE\n    raise NotImplementedError()"
    )
    assert by_id["ex1_scale_check"].source == "check_scale(scale)"
    assert by_id["ex2_softmax_check"].source == "check_softmax(softmax)"
    assert by_id["setup"].source == source.cells[1].source
    for before, after in zip(source.cells, student.cells, strict=True):
        assert after.metadata == before.metadata  # nbgrader metadata kept
        assert after.cell_type == before.cell_type
        if after.cell_type == "code":
            assert after.outputs == [] and after.execution_count is None
    assert student.metadata == source.metadata


def test_release_clears_outputs_and_is_byte_identical_on_rerun(tmp_path):
    notebook = nbformat.read(FIXTURE, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [new_output("stream", name="stdout", text="secret output 42\n")]
            cell.execution_count = 7
    source = tmp_path / "src" / "01_fixture.ipynb"
    source.parent.mkdir()
    nbformat.write(notebook, str(source))
    first = open(release(str(source), str(tmp_path / "a")), "rb").read()
    second = open(release(str(source), str(tmp_path / "b")), "rb").read()
    third = open(release(str(source), str(tmp_path / "a")), "rb").read()  # overwrite in place
    assert first == second == third
    data = json.loads(first)
    assert "secret output" not in first.decode()
    assert all(c.get("execution_count") is None for c in data["cells"] if c["cell_type"] == "code")
    assert not [p for p in os.listdir(tmp_path / "a") if p != "01_fixture.ipynb"]  # no temp files left


def test_release_keeps_indentation_of_nested_markers():
    cell = new_code_cell(
        "def f(x):\n    if x:\n        ### BEGIN SOLUTION\n        y = 1\n        ### END SOLUTION\n    return y",
        metadata=_meta("ex1", solution=True),
    )
    notebook = release_notebook(new_notebook(cells=[cell]))
    assert notebook.cells[0].source == (
        "def f(x):\n    if x:\n        # YOUR CODE HERE\n        raise NotImplementedError()\n    return y"
    )


@pytest.mark.parametrize(
    "source, grade_id, message",
    [
        ("def f():\n    return 1", "ex1_nomarkers", "without `### BEGIN SOLUTION`"),
        ("### BEGIN SOLUTION\nx = 1", "ex1_unclosed", "without a matching `### END SOLUTION`"),
        ("x = 1\n### END SOLUTION", "ex1_unopened", "without a matching `### BEGIN SOLUTION`"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "ex1_nested", "nested"),
    ],
)
def test_release_rejects_bad_solution_cells(source, grade_id, message):
    notebook = new_notebook(cells=[new_code_cell(source, metadata=_meta(grade_id, solution=True))])
    with pytest.raises(ValueError, match=message) as info:
        release_notebook(notebook)
    assert grade_id in str(info.value)


def test_release_rejects_unbalanced_hidden_tests_and_stray_solution_markers():
    hidden = new_code_cell(
        "check()\n### BEGIN HIDDEN TESTS\nrecord('k', 1)", metadata=_meta("c1", grade=True)
    )
    with pytest.raises(ValueError, match="c1.*END HIDDEN TESTS"):
        release_notebook(new_notebook(cells=[hidden]))
    stray = new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", metadata=_meta("setup"))
    with pytest.raises(ValueError, match="'setup'.*not a solution cell"):
        release_notebook(new_notebook(cells=[stray]))


def test_release_refuses_check_cells_that_record_only_guessable_values():
    solution = new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION",
        metadata=_meta("ex1", solution=True),
    )
    weak = new_code_cell(
        "check(f)\n### BEGIN HIDDEN TESTS\nrecord('ex1_ok', bool(f(1) == 1))\n### END HIDDEN TESTS",
        metadata=_meta("ex1_check", grade=True, points=1),
    )
    notebook = new_notebook(cells=[solution, weak])
    before = copy.deepcopy(notebook)
    with pytest.raises(
        ValueError, match=r"^Lab 05_weak: check cell 'ex1_check' records only obviously guessable"
    ):
        release_notebook(notebook, name="05_weak")
    assert notebook == before  # refused before any cell was changed


def test_release_refuses_to_overwrite_the_source_and_checks_arguments(tmp_path):
    with pytest.raises(ValueError, match="out_dir"):
        release(FIXTURE, os.path.dirname(FIXTURE))
    with pytest.raises(ValueError, match="source_path"):
        release(str(tmp_path / "missing.ipynb"), str(tmp_path))


def test_cli_release(tmp_path, capsys):
    labs = tmp_path / "labs"
    labs.mkdir()
    notebook = nbformat.read(FIXTURE, as_version=4)
    nbformat.write(notebook, str(labs / "01_fixture.ipynb"))
    broken = copy.deepcopy(notebook)
    broken.cells[3].source = "def scale(x, factor):\n    return x"  # ex1_scale without markers
    nbformat.write(broken, str(labs / "02_broken.ipynb"))
    out = tmp_path / "release"
    assert main(["release", "01", "--labs-dir", str(labs), "--out", str(out)]) == 0
    assert os.listdir(out) == ["01_fixture.ipynb"]
    assert "wrote" in capsys.readouterr().out
    assert main(["release", "--labs-dir", str(labs), "--out", str(tmp_path / "all")]) == 2
    assert "'ex1_scale'" in capsys.readouterr().err
    assert main(["release", "07", "--labs-dir", str(labs), "--out", str(out)]) == 2
    # A check cell whose hidden tests record only a shape: refused, with the lab and the cell named.
    weak = copy.deepcopy(notebook)
    weak.cells[4].source = (
        "check_scale(scale)\n### BEGIN HIDDEN TESTS\n"
        "dlkit.grading.record('scale_hidden', list(scale(np.ones(3), 2.0).shape))\n### END HIDDEN TESTS"
    )
    nbformat.write(weak, str(labs / "03_weak.ipynb"))
    capsys.readouterr()
    assert main(["release", "03", "--labs-dir", str(labs), "--out", str(tmp_path / "weak")]) == 2
    error = capsys.readouterr().err
    assert "Lab 03_weak: check cell 'ex1_scale_check' records only obviously guessable values" in error
    assert not os.path.exists(tmp_path / "weak" / "03_weak.ipynb")


def test_release_drops_partial_credit_weights_which_name_the_hidden_tests(tmp_path):
    source = new_notebook(
        cells=[
            new_code_cell(
                "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                metadata=_meta("ex1", solution=True),
            ),
            new_code_cell(
                "check(f)\n### BEGIN HIDDEN TESTS\nrecord('ex1_secret_case', f() * 1.5)\n### END HIDDEN TESTS",
                metadata={
                    **_meta("ex1_check", grade=True, points=1),
                    "dlkit": {
                        "partial_credit": {"ex1_secret_case": 1},
                        "forbidden": ["keras.optimizers.Adam"],
                    },
                },
            ),
        ]
    )
    release_notebook(source, name="01_x")
    assert "ex1_secret_case" not in nbformat.writes(source)
    assert source.cells[1].metadata["dlkit"] == {"forbidden": ["keras.optimizers.Adam"]}
