"""The Gradescope round trip on every lab: `dlkit export gradescope`, then `run_autograder` as Gradescope runs it,
on the lab's solution (full marks), its student release (0) and a wrong answer (that exercise loses its points,
the others keep theirs), each results.json valid against Gradescope's schema (tests/test_gradescope.py)."""

import os
import zipfile

import pytest
from export_labs import GRADED, last_mistake, submissions
from lab_references import lab_references
from test_gradescope import _run

from dlkit.grading.gradescope import export_gradescope
from dlkit.lab_files import lab_name


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradescope")
    references = lab_references(tmp_path_factory, GRADED)
    return {
        lab_name(lab): export_gradescope(lab, str(out), reference=references[lab_name(lab)]) for lab in GRADED
    }


@pytest.mark.parametrize("lab", GRADED, ids=[lab_name(p) for p in GRADED])
def test_gradescope_round_trip(lab, zips, tmp_path):
    name = lab_name(lab)
    with zipfile.ZipFile(zips[name]) as archive:
        assert f"lab/{name}.ipynb" in archive.namelist()
    paths = submissions(lab, str(tmp_path / "submissions"))
    results = {kind: _run(zips[name], path, tmp_path / kind) for kind, path in paths.items()}
    maximum = sum(test["max_score"] for test in results["solution"]["tests"])
    assert results["solution"]["score"] == maximum > 0
    assert all(test["status"] == "passed" for test in results["solution"]["tests"])
    assert results["release"]["score"] == 0
    grade_id = last_mistake(lab)[0]
    scores = {test["name"]: test["score"] for test in results["wrong"]["tests"]}
    full = {test["name"]: test["score"] for test in results["solution"]["tests"]}
    assert scores == {**full, f"{grade_id}_check": 0}, os.path.basename(lab)
