"""`dlkit export gradescope`: the autograder zip, run as Gradescope runs it, writes a valid results.json.

The zip is unpacked into a temporary folder standing in for the container's /autograder (`AUTOGRADER_ROOT`),
and `run_autograder` (the script itself, through bash) grades a submission placed in `submission/`, with this
machine's Python in place of the venv `setup.sh` would build. Each results.json is validated against a JSON
Schema written from Gradescope's spec (tests/data/gradescope_results.schema.json) and its points are compared
with `dlkit grade`'s for the same submission. The fixture lab runs in seconds; the real labs go through the same
code in `dlkit grade`'s round trip.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile

import jsonschema
import nbformat
import pytest

from dlkit.cli import main
from dlkit.grading import grade, release
from dlkit.grading.lab_format import BEGIN_HIDDEN, BEGIN_SOLUTION

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABS = os.path.join(ROOT, "tests", "data", "grading", "labs")
FIXTURE = os.path.join(LABS, "01_fixture.ipynb")
with open(os.path.join(ROOT, "tests", "data", "gradescope_results.schema.json"), encoding="utf-8") as f:
    SCHEMA = json.load(f)


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    assert (
        main(["export", "gradescope", "01", "--labs-dir", LABS, "--out", str(out), "--memory-mb", "1536"])
        == 0
    )
    return str(out / "01_fixture-autograder.zip")


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    wrong = nbformat.read(FIXTURE, as_version=4)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex1_scale":
            cell.source = cell.source.replace("* factor", "* factor * 2")
    nbformat.write(wrong, str(folder / "01_fixture-wrong.ipynb"))
    (folder / "garbage.ipynb").write_text("this is not JSON")
    return {
        "solution": shutil.copy(FIXTURE, folder / "01_fixture-solution.ipynb"),
        "release": shutil.copy(
            release(FIXTURE, str(folder / "release")), folder / "01_fixture-release.ipynb"
        ),
        "wrong": str(folder / "01_fixture-wrong.ipynb"),
        "garbage": str(folder / "garbage.ipynb"),
    }


def _run(autograder_zip, submission, tmp_path):
    """Unpacks the zip as Gradescope does, runs run_autograder on `submission`; returns results.json."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    if submission:
        shutil.copy(submission, root / "submission" / os.path.basename(submission))
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "DLKIT_AUTOGRADER_PYTHON": sys.executable}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, check=True, timeout=600)
    assert not (root / "source" / "lab").exists()  # read into memory, then gone before student code ran
    with open(root / "results" / "results.json", encoding="utf-8") as f:
        results = json.load(f)
    jsonschema.validate(results, SCHEMA)
    return results


def test_the_zip_has_gradescopes_layout_and_no_solutions(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        for script in ("setup.sh", "run_autograder"):
            assert script in names  # at the root of the archive, as the spec requires
            info = archive.getinfo(script)
            assert (info.external_attr >> 16) & stat.S_IXUSR
            assert archive.read(script).startswith(b"#!")
        lab = archive.read("lab/01_fixture.ipynb").decode()
        reference = json.loads(archive.read("lab/reference.json"))
    assert BEGIN_SOLUTION not in lab and "np.exp(z - z.max" not in lab and BEGIN_HIDDEN in lab
    assert "dlkit-src/pyproject.toml" in names and "dlkit-src/dlkit/grading/gradescope.py" in names
    assert not any("__pycache__" in name for name in names)
    assert set(reference["values"]) == {"scale_hidden", "softmax_hidden", "softmax_rows_sum_to_one"}
    value = reference["values"]["scale_hidden"][0]["__ndarray__"]
    assert value == [[-0.0, -1.5, -3.0], [-4.5, -6.0, -7.5]]  # np.arange(6).reshape(2, 3) * -1.5


@pytest.mark.parametrize("name", ["solution", "release", "wrong"])
def test_results_agree_with_dlkit_grade(name, autograder_zip, submissions, tmp_path):
    results = _run(autograder_zip, submissions[name], tmp_path)
    (row,) = grade([submissions[name]], source=LABS, timeout=300, memory_mb=1536)
    assert results["score"] == row.total
    assert [(t["name"], t["score"], t["max_score"]) for t in results["tests"]] == [
        (e.grade_id, e.points, e.max_points) for e in row.exercises
    ]
    assert [t["status"] for t in results["tests"]] == [
        "passed" if e.status == "passed" else "failed" for e in row.exercises
    ]
    expected = {"solution": (row.max_total, ["passed", "passed"]), "release": (0, ["failed", "failed"])}
    if name in expected:
        assert (results["score"], [t["status"] for t in results["tests"]]) == expected[name]
    if name == "wrong":  # ex1 wrong, named by the visible check; ex2 right
        assert [t["score"] for t in results["tests"]] == [0, row.exercises[1].max_points]
        assert results["tests"][0]["output"].startswith("wrong: scale: values differ")
    for test in results["tests"]:
        assert "hidden" not in test["output"] or "hidden tests" in test["output"]
        assert "scale_hidden" not in test["output"] and "softmax_hidden" not in test["output"]


@pytest.mark.parametrize("name", ["garbage", None])
def test_an_ungradable_submission_still_gets_results(name, autograder_zip, submissions, tmp_path):
    results = _run(autograder_zip, submissions[name] if name else None, tmp_path)
    assert results["score"] == 0 and results["tests"] == []
    expected = "not a notebook: the file is not JSON" if name else "no .ipynb file in the submission"
    assert results["output"].startswith("Not graded: ") and expected in results["output"]


def test_export_refuses_a_missing_lab(tmp_path, capsys):
    assert main(["export", "gradescope", "99", "--labs-dir", LABS, "--out", str(tmp_path)]) == 2
    assert "dlkit export gradescope: Argument `LAB` matches no lab" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_partial_credit_gives_the_same_points_as_dlkit_grade(tmp_path):
    # 02_partial weighs ex2's hidden tests 2 : 1; a naive softmax passes the first only: 2 of ex2's 3 points.
    from test_nbgrader_export import NAIVE_SOFTMAX, STABLE_SOFTMAX, _partial_credit_lab

    labs = tmp_path / "labs"
    labs.mkdir()
    source = _partial_credit_lab(str(labs))
    assert (
        main(
            [
                "export",
                "gradescope",
                "02",
                "--labs-dir",
                str(labs),
                "--out",
                str(tmp_path),
                "--memory-mb",
                "1536",
            ]
        )
        == 0
    )
    naive = nbformat.read(source, as_version=4)
    for cell in naive.cells:
        cell.source = cell.source.replace(STABLE_SOFTMAX, NAIVE_SOFTMAX)
    submission = tmp_path / "02_partial-naive.ipynb"
    nbformat.write(naive, str(submission))
    results = _run(str(tmp_path / "02_partial-autograder.zip"), str(submission), tmp_path / "run")
    (row,) = grade([str(submission)], source=str(labs), timeout=300, memory_mb=1536)
    assert [t["score"] for t in results["tests"]] == [e.points for e in row.exercises] == [2, 2.0]
    assert results["score"] == row.total == 4
    assert results["tests"][1]["status"] == "failed"
