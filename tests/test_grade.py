"""`dlkit grade`: scoring, the sandbox, malformed input and the adversarial submissions of the threat model.

One batch (`dlkit grade` with --jobs) grades every fixture submission; the tests read its gradebook and feedback.
The fixture lab (tests/data/grading/labs/01_fixture.ipynb) has two exercises: `ex1_scale` (check worth 2 points,
key `scale_hidden`) and `ex2_softmax` (check worth 3, keys `softmax_hidden` and `softmax_rows_sum_to_one`).
"""

import csv
import json
import os
import shutil

import nbformat
import numpy as np
import pytest

from dlkit.cli import main
from dlkit.grading import GradingError, grade, release, write_gradebook
from dlkit.grading.assemble import SubmissionError, load_source, load_submission, match_lab
from dlkit.grading.compare import values_match
from dlkit.grading.records import to_plain

DATA = os.path.join(os.path.dirname(__file__), "data", "grading")
LABS = os.path.join(DATA, "labs")
FIXTURE = os.path.join(LABS, "01_fixture.ipynb")
CHECKS = ["ex1_scale_check", "ex2_softmax_check"]

# Visible check passes (right on [1, 2] * 3), hidden values wrong.
SCALE_VISIBLE_ONLY = (
    "def scale(x, factor):\n"
    "    x = np.asarray(x, dtype=float)\n"
    "    return x * factor if x.shape == (2,) else x * 0\n"
)
SOLVED_SCALE = "def scale(x, factor):\n    return np.asarray(x, dtype=float) * factor\n"
FORGED_VALUE = (
    "import json, os\n"
    "with open(os.environ['DLKIT_GRADING_RECORD'], 'a') as f:\n"
    "    f.write(json.dumps({'key': KEY, 'value': VALUE, 'rtol': 1e9, 'atol': 1e9}) + '\\n')\n"
)


def _forge(key, value):
    return FORGED_VALUE.replace("KEY", repr(key)).replace("VALUE", repr(to_plain(value)))


# name -> (ex1 cell source or None for the solution, ex2 cell source or None).
ATTACKS = {
    # ex1: prints fake pass lines; ex2: patches NumPy so that the visible check (np.allclose) passes.
    "cheat_print_and_numpy": (
        "def scale(x, factor):\n    print('\\N{CHECK MARK} scale: all tests passed.')\n    return x\n"
        "print('\\N{CHECK MARK} scale: all tests passed.')\nprint('Score: 5/5')",
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), bool)\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "def softmax(z):\n    return np.exp(z)\n",
    ),
    # ex1: patches dlkit.lab_checks; ex2: patches the assert machinery (AssertionError, the checks' fail).
    "cheat_checks_and_assert": (
        "import dlkit.lab_checks, dlkit.lab_checks.expect as expect\n"
        "for name in ('expect_close', 'expect_shape', 'expect_dtype', 'expect_true'):\n"
        "    setattr(expect, name, lambda *args, **kwargs: None)\n"
        "    setattr(dlkit.lab_checks, name, lambda *args, **kwargs: None)\n"
        "expect_close = lambda *args, **kwargs: None\n"
        "def scale(x, factor):\n    return np.asarray(x, dtype=float)\n",
        "import builtins, dlkit.lab_checks.expect as expect\n"
        "class Swallowed(BaseException):\n    pass\n"
        "builtins.AssertionError = Swallowed\n"
        "expect.ExerciseCheckError = Swallowed\n"
        "expect.fail = lambda where, message: None\n"
        "def softmax(z):\n    return np.ones_like(z) / 4\n",
    ),
    "redefine_check_functions": (
        "def check_scale(fn):\n    print('\\N{CHECK MARK} scale: all tests passed.')\n"
        "def check_softmax(fn):\n    print('\\N{CHECK MARK} softmax: all tests passed.')\n"
        "def scale(x, factor):\n    return x\n",
        "def softmax(z):\n    return z\n",
    ),
    "patch_record": (
        # Claims a huge tolerance, and turns every boolean into True: the grader ignores a student's
        # tolerances, and a check cell needs ALL its keys right.
        "import sys, dlkit.grading\n"
        "_original = sys.modules['dlkit.grading.records'].record\n"
        "def fake_record(key, value, **kwargs):\n"
        "    value = True if isinstance(value, bool) else value\n"
        "    return _original(key, value, rtol=1e9, atol=1e9)\n"
        "dlkit.grading.record = fake_record\n" + SCALE_VISIBLE_ONLY,
        "def softmax(z):\n    z = np.asarray(z, dtype=float)\n    return np.full(z.shape, 1.0 / z.shape[1])\n",
    ),
    "forged_records": (
        # A guessed value written straight into the record file, then a function that raises...
        _forge("scale_hidden", np.zeros((2, 3))) + "def scale(x, factor):\n    raise NotImplementedError()\n",
        # ... and a forged (wrong) value ahead of a correct solution: recorded twice, two values.
        _forge("softmax_hidden", np.full((2, 3), 1 / 3))
        + "def softmax(z):\n    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
        "    return e / e.sum(axis=1, keepdims=True)\n",
    ),
    "sys_exit": ("import sys\nsys.exit(0)\n" + SOLVED_SCALE, None),
    "hang": (None, "import time\nwhile True:\n    time.sleep(0.2)\n"),
    "os_exit": (None, "import os\nos._exit(0)\n"),
    "memory_bomb": (None, "blocks = [bytearray(3 * 1024**3)]  # 3 GB: fine without the limit\n"),
}


def _write(notebook, path):
    nbformat.write(notebook, str(path))
    return str(path)


def _with_cells(notebook, ex1=None, ex2=None):
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "ex1_scale" and ex1 is not None:
            cell.source = ex1
        if grade_id == "ex2_softmax" and ex2 is not None:
            cell.source = ex2
    return notebook


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grades every fixture submission in one `dlkit grade` call; returns (csv rows by name, feedback, paths)."""
    tmp = tmp_path_factory.mktemp("grade")
    subs = tmp / "submissions"
    subs.mkdir()
    source = nbformat.read(FIXTURE, as_version=4)
    gradebook = tmp / "out" / "gradebook.csv"
    paths = [
        _write(source, subs / "solution.ipynb"),
        _write(source, subs / "solution_again.ipynb"),
        shutil.copy(release(FIXTURE, str(tmp / "release")), subs / "blank.ipynb"),
    ]
    for name, (ex1, ex2) in ATTACKS.items():
        paths.append(_write(_with_cells(source, ex1, ex2), subs / f"{name}.ipynb"))
    # Check cells edited or deleted in the submission; a new "check" cell worth 100 points.
    edited = _with_cells(source)
    for cell in edited.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex1_scale_check":
            cell.source = "print('all tests passed')"
            cell.metadata.nbgrader["points"] = 100
    edited.cells = [
        c for c in edited.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "ex2_softmax_check"
    ]
    extra = nbformat.v4.new_code_cell("import dlkit.grading\ndlkit.grading.record('bonus', 1)")
    extra.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus_check", "points": 100, "solution": False}
    edited.cells.append(extra)
    # It also writes a forged gradebook and feedback file while it runs.
    forged = f"import os\nos.makedirs({str(gradebook.parent)!r}, exist_ok=True)\n"
    forged += f"open({str(gradebook)!r}, 'w').write('submission,total\\nedited_checks_solved.ipynb,999\\n')\n"
    forged += f"os.makedirs({str(tmp / 'out' / 'feedback')!r}, exist_ok=True)\n"
    json_path = str(tmp / "out" / "feedback" / "edited_checks_solved.json")
    forged += f"open({json_path!r}, 'w').write('{{\"total\": 999}}')\n"
    edited.cells[3].source = forged + edited.cells[3].source
    paths.append(_write(edited, subs / "edited_checks_solved.ipynb"))
    blank = nbformat.read(paths[2], as_version=4)
    for cell in blank.cells:
        if cell.metadata.get("nbgrader", {}).get("grade", False):
            cell.source = "print('\\N{CHECK MARK} all tests passed.')"
    paths.append(_write(blank, subs / "edited_checks_blank.ipynb"))
    for name in sorted(os.listdir(os.path.join(DATA, "submissions"))):
        paths.append(shutil.copy(os.path.join(DATA, "submissions", name), subs / name))

    args = ["grade", *map(str, paths), "--source", LABS, "--out", str(gradebook), "--jobs", "3"]
    assert main([*args, "--timeout", "45", "--memory-mb", "1536"]) == 0
    with open(gradebook, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    rows = {row["submission"]: row for row in table}
    feedback = {}
    for name in rows:
        with open(tmp / "out" / "feedback" / (name.removesuffix(".ipynb") + ".json"), encoding="utf-8") as f:
            feedback[name] = json.load(f)
    return {"rows": rows, "order": [row["submission"] for row in table], "feedback": feedback, "tmp": tmp}


def _reasons(batch, name):
    """The instructor's reason per failed check cell, from the gradebook's `reasons` column."""
    reasons = {}
    for part in batch["rows"][name]["reasons"].split("; "):
        grade_id, _, reason = part.partition(": ")
        if grade_id in CHECKS:
            reasons[grade_id] = reason
    return reasons


def _student_view(batch, name):
    """(status, message) per exercise, from the student's JSON feedback."""
    return {e["grade_id"]: (e["status"], e["message"]) for e in batch["feedback"][name]["exercises"]}


HIDDEN_KEYS = ("scale_hidden", "softmax_hidden", "softmax_rows_sum_to_one")


def _points(batch, name):
    row = batch["rows"][name]
    return [row[c] for c in CHECKS] + [row["total"], row["max_total"]]


def test_gradebook_has_one_row_per_submission_in_order(batch):
    header = list(batch["rows"]["solution.ipynb"])
    assert header == ["submission", "lab", *CHECKS, "total", "max_total", "status", "sandbox", "reasons"]
    assert {row["sandbox"] for row in batch["rows"].values()} == {"bwrap"}
    assert batch["order"][:3] == ["solution.ipynb", "solution_again.ipynb", "blank.ipynb"]
    assert len(batch["order"]) == 3 + len(ATTACKS) + 2 + 4
    assert os.path.isfile(batch["tmp"] / "out" / "feedback" / "solution.html")


def test_solution_gets_full_marks_deterministically(batch):
    assert _points(batch, "solution.ipynb") == ["2", "3", "5", "5"]
    assert batch["rows"]["solution.ipynb"]["status"] == "graded"
    assert batch["rows"]["solution.ipynb"]["reasons"] == ""
    same = {k: v for k, v in batch["rows"]["solution_again.ipynb"].items() if k != "submission"}
    assert same == {k: v for k, v in batch["rows"]["solution.ipynb"].items() if k != "submission"}


def test_released_notebook_scores_zero_with_every_check_failing(batch):
    assert _points(batch, "blank.ipynb") == ["0", "0", "0", "5"]
    reasons = _reasons(batch, "blank.ipynb")
    assert reasons["ex1_scale_check"] == "missing record scale_hidden (cell raised NotImplementedError)"
    assert reasons["ex2_softmax_check"] == "missing record softmax_hidden (cell raised NotImplementedError)"
    assert _student_view(batch, "blank.ipynb") == {
        gid: ("not attempted", "not attempted yet: the exercise still raises NotImplementedError")
        for gid in CHECKS
    }
    html = open(batch["tmp"] / "out" / "feedback" / "blank.html", encoding="utf-8").read()
    assert "0 / 5" in html and "not attempted yet" in html


def test_student_feedback_names_the_visible_mistake_and_never_a_hidden_key(batch):
    # cheat_print_and_numpy: ex1 returns x unscaled, which the visible check diagnoses; ex2's patched NumPy
    # passes the visible check, so only the count of failed hidden tests is shown.
    view = _student_view(batch, "cheat_print_and_numpy.ipynb")
    assert view["ex1_scale_check"][0] == "wrong"
    assert view["ex1_scale_check"][1].startswith("scale:")
    # The patched np.allclose also makes its rows-sum-to-one flag come out True: 1 of the 2 hidden tests fails.
    assert view["ex2_softmax_check"] == ("wrong", "passes the visible check but fails 1 of 2 hidden tests")
    for name in batch["feedback"]:
        stem = name.removesuffix(".ipynb")
        texts = [
            json.dumps(batch["feedback"][name]),
            open(batch["tmp"] / "out" / "feedback" / (stem + ".html"), encoding="utf-8").read(),
        ]
        for text in texts:
            assert not any(key in text for key in HIDDEN_KEYS), (name, text)


def test_fake_pass_lines_and_patched_numpy_earn_nothing(batch):
    assert _points(batch, "cheat_print_and_numpy.ipynb") == ["0", "0", "0", "5"]
    assert _reasons(batch, "cheat_print_and_numpy.ipynb") == {
        "ex1_scale_check": "missing record scale_hidden (cell raised ExerciseCheckError)",
        # The patched np.allclose let the visible check pass; the hidden values are still wrong.
        "ex2_softmax_check": "value mismatch for softmax_hidden",
    }


def test_patched_lab_checks_and_assert_machinery_earn_nothing(batch):
    assert _points(batch, "cheat_checks_and_assert.ipynb") == ["0", "0", "0", "5"]
    assert _reasons(batch, "cheat_checks_and_assert.ipynb") == {
        "ex1_scale_check": "value mismatch for scale_hidden",
        "ex2_softmax_check": "value mismatch for softmax_hidden",
    }


def test_redefined_check_functions_earn_nothing(batch):
    assert _points(batch, "redefine_check_functions.ipynb") == ["0", "0", "0", "5"]
    reasons = _reasons(batch, "redefine_check_functions.ipynb")
    assert reasons == {
        "ex1_scale_check": "value mismatch for scale_hidden",
        "ex2_softmax_check": "value mismatch for softmax_hidden",
    }


def test_patched_record_cannot_widen_tolerance_or_force_booleans(batch):
    assert _points(batch, "patch_record.ipynb") == ["0", "0", "0", "5"]
    reasons = _reasons(batch, "patch_record.ipynb")
    assert reasons["ex1_scale_check"] == "value mismatch for scale_hidden"
    assert reasons["ex2_softmax_check"] == "value mismatch for softmax_hidden"


def test_forged_records_earn_nothing(batch):
    assert _points(batch, "forged_records.ipynb") == ["0", "0", "0", "5"]
    reasons = _reasons(batch, "forged_records.ipynb")
    # The forged line is in the record file, but the exercise itself still raises.
    assert reasons["ex1_scale_check"] == "value mismatch for scale_hidden (cell raised NotImplementedError)"
    assert _student_view(batch, "forged_records.ipynb")["ex1_scale_check"][0] == "not attempted"
    assert reasons["ex2_softmax_check"] == "softmax_hidden recorded 2 times with different values"


def test_sys_exit_only_ends_its_cell(batch):
    assert _points(batch, "sys_exit.ipynb") == ["0", "3", "3", "5"]
    assert _reasons(batch, "sys_exit.ipynb")["ex1_scale_check"] == (
        "missing record scale_hidden (cell raised NameError)"
    )


@pytest.mark.parametrize(
    "name, status", [("hang", "timeout"), ("os_exit", "kernel died"), ("memory_bomb", "memory limit")]
)
def test_a_run_that_ends_early_keeps_what_it_earned(batch, name, status):
    assert _points(batch, name + ".ipynb") == ["2", "0", "2", "5"]
    assert batch["rows"][name + ".ipynb"]["status"] == status
    assert _reasons(batch, name + ".ipynb")["ex2_softmax_check"] == status
    student = "timed out" if status == "timeout" else "error"
    assert _student_view(batch, name + ".ipynb")["ex2_softmax_check"] == (
        student,
        f"the run stopped before this check ({status})",
    )


def test_edited_or_deleted_check_cells_change_nothing(batch):
    assert _points(batch, "edited_checks_solved.ipynb") == ["2", "3", "5", "5"]
    assert "bonus_check" not in batch["rows"]["edited_checks_solved.ipynb"]
    assert _points(batch, "edited_checks_blank.ipynb") == ["0", "0", "0", "5"]


def test_submission_cannot_write_the_gradebook(batch):
    assert _points(batch, "edited_checks_solved.ipynb") == ["2", "3", "5", "5"]
    text = open(batch["tmp"] / "out" / "gradebook.csv", encoding="utf-8").read()
    assert "999" not in text
    assert batch["feedback"]["edited_checks_solved.ipynb"]["total"] == 5


@pytest.mark.parametrize(
    "name, message",
    [
        ("not_json.ipynb", "not a notebook: the file is not JSON"),
        ("not_a_notebook.ipynb", "not a notebook: JSON without the notebook fields"),
        ("wrong_lab.ipynb", "no matching lab"),
    ],
)
def test_malformed_submissions_score_zero_with_a_message(batch, name, message):
    row = batch["rows"][name]
    assert row["status"] == "invalid" and row["total"] == "0"
    assert message in row["reasons"]
    assert message in " ".join(batch["feedback"][name]["notes"])


def test_missing_exercise_cell_scores_zero_for_that_exercise_only(batch):
    assert _points(batch, "missing_cells.ipynb") == ["2", "0", "2", "5"]
    assert _reasons(batch, "missing_cells.ipynb")["ex2_softmax_check"].startswith("missing")
    assert _student_view(batch, "missing_cells.ipynb")["ex2_softmax_check"][0] == "not attempted"


# Fast unit tests (no runs).


def test_values_match_follows_allclose_and_structure():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = to_plain({"w": a, "n": 3, "ok": True, "name": "relu"})
    assert values_match(expected, to_plain({"w": a + 1e-9, "n": 3.0, "ok": True, "name": "relu"}), 1e-5, 1e-6)
    assert values_match(
        expected, to_plain({"w": a.astype(np.int64), "n": 3, "ok": True, "name": "relu"}), 0, 0
    )
    for wrong in (
        {"w": a + 1e-3, "n": 3, "ok": True, "name": "relu"},
        {"w": a.T.reshape(4), "n": 3, "ok": True, "name": "relu"},
        {"w": a, "n": 3, "ok": 1, "name": "relu"},
        {"w": a, "n": 3, "ok": True, "name": "tanh"},
        {"w": a, "n": 3, "ok": True},
        {"w": a > 2, "n": 3, "ok": True, "name": "relu"},
    ):
        assert not values_match(expected, to_plain(wrong), 1e-5, 1e-6)
    assert np.allclose(4.0, 4.00005, rtol=1e-5, atol=1e-6) == values_match(4.0, 4.00005, 1e-5, 1e-6)
    assert values_match(float("nan"), float("nan"), 0, 0) and not values_match(1.0, float("nan"), 1, 1)


def test_source_keys_must_be_literal(tmp_path):
    notebook = nbformat.read(FIXTURE, as_version=4)
    notebook.cells[4].source = "key = 'scale_hidden'\ndlkit.grading.record(key, scale([1.0], 2.0))"
    path = _write(notebook, tmp_path / "01_bad.ipynb")
    with pytest.raises(ValueError, match="ex1_scale_check.*literal string key"):
        load_source(path)
    lab = load_source(FIXTURE)
    assert [(c.grade_id, c.points, c.keys, c.exercises) for c in lab.checks] == [
        ("ex1_scale_check", 2, ["scale_hidden"], ["ex1_scale"]),
        ("ex2_softmax_check", 3, ["softmax_hidden", "softmax_rows_sum_to_one"], ["ex2_softmax"]),
    ]


def test_match_lab_uses_grade_ids_then_the_file_name():
    cells = load_submission(FIXTURE)
    ids = {"01_fixture": {"ex1_scale", "ex2_softmax"}, "02_other": {"ex1_scale"}}
    assert match_lab("anything.ipynb", cells, ids) == "01_fixture"
    ids = {"01_fixture": {"ex1_scale"}, "02_other": {"ex1_scale"}}
    assert match_lab("02_other-alice.ipynb", cells, ids) == "02_other"
    with pytest.raises(SubmissionError, match="no matching lab"):
        match_lab("x.ipynb", {"ex9": ["pass"]}, ids)


def test_cli_grade_rejects_duplicate_names_and_missing_source(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    paths = [str(shutil.copy(FIXTURE, a / "x.ipynb")), str(shutil.copy(FIXTURE, b / "x.ipynb"))]
    assert main(["grade", *paths, "--source", LABS, "--out", str(tmp_path / "g.csv")]) == 2
    assert "unique file names" in capsys.readouterr().err
    assert (
        main(["grade", paths[0], "--source", str(tmp_path / "nope"), "--out", str(tmp_path / "g.csv")]) == 2
    )
    assert not os.path.exists(tmp_path / "g.csv")


def test_a_broken_source_stops_grading_with_a_clear_error(tmp_path):
    labs = tmp_path / "labs"
    labs.mkdir()
    notebook = nbformat.read(FIXTURE, as_version=4)
    notebook.cells[1].source = "raise RuntimeError('broken setup')"  # fails fast: no imports
    _write(notebook, labs / "01_fixture.ipynb")
    submission = shutil.copy(FIXTURE, tmp_path / "alice.ipynb")
    with pytest.raises(GradingError, match="first error: cell 1 raised RuntimeError: broken setup"):
        grade([str(submission)], source=str(labs), timeout=60, memory_mb=None)


def test_a_source_whose_check_cell_records_only_guessable_values_is_refused(tmp_path):
    # ex1's hidden test records a flag instead of the scaled array: a patched `record` could forge it.
    labs = tmp_path / "labs"
    labs.mkdir()
    notebook = nbformat.read(FIXTURE, as_version=4)
    check = next(c for c in notebook.cells if "scale_hidden" in c.source)
    check.source = check.source.replace(
        'dlkit.grading.record("scale_hidden", scale(np.arange(6.0).reshape(2, 3), -1.5))',
        'dlkit.grading.record("scale_hidden", bool(scale(np.ones(2), 2.0)[0] == 2.0))',
    )
    assert "bool(scale" in check.source
    _write(notebook, labs / "01_fixture.ipynb")
    submission = shutil.copy(FIXTURE, tmp_path / "alice.ipynb")
    with pytest.raises(
        GradingError, match=r"check cell 'ex1_scale_check' records only guessable values \(scale_hidden\)"
    ):
        grade([str(submission)], source=str(labs), timeout=120, memory_mb=None)


def _row(name, exercises, lab="01_fixture"):
    from dlkit.grading.grader import ExerciseGrade, SubmissionGrade

    grades = [ExerciseGrade(*e) for e in exercises]
    return SubmissionGrade(name, name, lab, "graded", grades, sum(e.max_points for e in grades), seconds=12.4)


def test_class_summary_shows_mean_share_passed_and_the_commonest_visible_message():
    from dlkit.grading.gradebook import class_summary

    lambd = "l2 cost: you used lambd / m; the cost term is lambd / (2 m) times the sum of squares"
    rows = [
        _row("a", [("ex1", 2, 2, "passed", ""), ("ex2", 0, 3, "wrong", lambd)]),
        _row("b", [("ex1", 0, 2, "wrong", "scale: off by a factor"), ("ex2", 0, 3, "wrong", lambd)]),
        _row("c", [("ex1", 0, 2, "not attempted", "n/a"), ("ex2", 3, 3, "passed", "")]),
        _row(
            "d",
            [
                ("ex1", 2, 2, "passed", ""),
                ("ex2", 0, 3, "wrong", "passes the visible check but fails 1 of 2 hidden tests"),
            ],
        ),
    ]
    lines = class_summary(rows).splitlines()
    assert lines[0].split()[:4] == ["lab", "exercise", "mean", "score"]
    ex1 = next(line for line in lines if " ex1 " in line)
    ex2 = next(line for line in lines if " ex2 " in line)
    assert "1.00 / 2" in ex1 and "50%" in ex1 and ex1.endswith("scale: off by a factor (1x)")
    # (0 + 0 + 3 + 0) / 4 = 0.75; the hidden-count message is not a visible-check message.
    assert "0.75 / 3" in ex2 and "25%" in ex2 and ex2.endswith(f"{lambd} (2x)")
    assert class_summary([]) == ""


def test_feedback_page_is_one_row_per_exercise_with_status_and_fits_a_phone():
    from dlkit.grading.gradebook import feedback_html

    page = feedback_html(
        _row(
            "alice.ipynb",
            [
                ("ex1_scale_check", 2, 2, "passed", ""),
                ("ex2_softmax_check", 0, 3, "wrong", "softmax: rows must sum to 1 <b>"),
            ],
        )
    )
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@media (max-width:600px)" in page
    assert "Score: <b>2 / 5</b>" in page and "run time 12 s" in page
    assert page.count("<tr><td>") == 2
    assert '<td class="ok">passed</td><td>all tests passed</td>' in page
    assert '<td class="ko">wrong</td><td>softmax: rows must sum to 1 &lt;b&gt;</td>' in page


def _lab_with_partial_credit(tmp_path, weights, strong_flag=True):
    """The fixture lab with partial credit on ex2; with `strong_flag`, its rows-sum flag is replaced by a strong
    value (softmax of logits shifted by +1000, which a naive softmax gets wrong)."""
    labs = tmp_path / "labs"
    labs.mkdir()
    notebook = nbformat.read(FIXTURE, as_version=4)
    check = next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex2_softmax_check"
    )
    if strong_flag:
        flag = (
            'dlkit.grading.record("softmax_rows_sum_to_one", bool(np.allclose(softmax(z).sum(axis=1), 1.0)))'
        )
        assert flag in check.source
        check.source = check.source.replace(
            flag, 'dlkit.grading.record("softmax_shifted", softmax(z + 1000.0))'
        )
    check.metadata["dlkit"] = {"partial_credit": weights}
    _write(notebook, labs / "01_fixture.ipynb")
    return notebook, str(labs)


def test_partial_credit_gives_the_share_of_the_weight_whose_hidden_tests_pass(tmp_path):
    # ex2 (3 points) weighs its two hidden tests 2 : 1. A naive softmax passes the visible check and the plain
    # logits but overflows on the shifted ones (nan), so it earns 3 * 2/3 = 2 points; a blank earns 0, the
    # solution 3. ex1 stays all-or-nothing.
    notebook, labs = _lab_with_partial_credit(tmp_path, {"softmax_hidden": 2, "softmax_shifted": 1})
    naive = "def softmax(z):\n    e = np.exp(np.asarray(z, dtype=float))\n    return e / e.sum(axis=1, keepdims=True)\n"
    partial = _write(_with_cells(notebook, SOLVED_SCALE, naive), tmp_path / "partial.ipynb")
    solved = _write(notebook, tmp_path / "solved.ipynb")
    blank = release(FIXTURE, str(tmp_path / "release"))
    rows = grade([partial, solved, blank], source=labs, timeout=120, memory_mb=None)
    points = {row.submission: [e.points for e in row.exercises] for row in rows}
    assert points == {"partial.ipynb": [2, 2.0], "solved.ipynb": [2, 3], "01_fixture.ipynb": [0, 0.0]}
    status = {e.grade_id: (e.status, e.message) for e in rows[0].exercises}
    assert status["ex2_softmax_check"] == ("wrong", "passes the visible check but fails 1 of 2 hidden tests")
    gradebook = tmp_path / "gradebook.csv"
    write_gradebook(rows, str(gradebook))
    with open(gradebook, newline="", encoding="utf-8") as f:
        table = {row["submission"]: row for row in csv.DictReader(f)}
    assert (table["partial.ipynb"]["ex2_softmax_check"], table["partial.ipynb"]["total"]) == ("2", "4")


@pytest.mark.parametrize(
    "weights, match",
    [
        (
            {"softmax_hidden": 1},
            r"must map each key the cell records \(softmax_hidden, softmax_rows_sum_to_one\)",
        ),
        (
            {"softmax_hidden": 1, "softmax_rows_sum_to_one": 0},
            r"weights must be numbers > 0\. Received: softmax_rows_sum_to_one=0",
        ),
    ],
)
def test_partial_credit_weights_must_cover_the_keys_and_be_positive(tmp_path, weights, match):
    notebook, labs = _lab_with_partial_credit(tmp_path, weights, strong_flag=False)
    with pytest.raises(ValueError, match=match):
        load_source(os.path.join(labs, "01_fixture.ipynb"))


def test_partial_credit_on_a_guessable_key_is_refused(tmp_path):
    # softmax_rows_sum_to_one is a boolean: with its own share of the points, a forged True would earn it.
    _, labs = _lab_with_partial_credit(
        tmp_path, {"softmax_hidden": 1, "softmax_rows_sum_to_one": 1}, strong_flag=False
    )
    submission = shutil.copy(FIXTURE, tmp_path / "alice.ipynb")
    with pytest.raises(
        GradingError, match="gives partial credit to the guessable key 'softmax_rows_sum_to_one'"
    ):
        grade([str(submission)], source=labs, timeout=120, memory_mb=None)


def test_precomputed_references_are_used_and_checked_against_the_source(tmp_path):
    from dlkit.grading.grader import reference_values

    reference = reference_values(load_source(FIXTURE), timeout=120, memory_mb=None)
    value, rtol, atol = reference["scale_hidden"]
    doubled = {**value, "__ndarray__": (2 * np.asarray(value["__ndarray__"])).tolist()}
    submission = str(shutil.copy(FIXTURE, tmp_path / "alice.ipynb"))
    # The given values, not a fresh reference run, are what the solution is scored against: ex1 loses its points.
    (row,) = grade(
        [submission],
        source=LABS,
        timeout=120,
        memory_mb=None,
        references={"01_fixture": {**reference, "scale_hidden": (doubled, rtol, atol)}},
    )
    assert {e.grade_id: e.points for e in row.exercises} == {"ex1_scale_check": 0, "ex2_softmax_check": 3}
    assert "scale_hidden" in row.exercises[0].reason
    stale = {k: v for k, v in reference.items() if k != "softmax_hidden"}
    with pytest.raises(
        ValueError, match=r"Missing keys: \['softmax_hidden'\]; keys the lab does not record: none"
    ):
        grade([submission], source=LABS, references={"01_fixture": stale})
    with pytest.raises(ValueError, match=r"keys the lab does not record: \['old_key'\]"):
        grade([submission], source=LABS, references={"01_fixture": {**reference, "old_key": (1.0, 0, 0)}})
    with pytest.raises(ValueError, match=r"no source in the source folder: \['02_other'\]"):
        grade([submission], source=LABS, references={"02_other": reference})
    with pytest.raises(ValueError, match=r"entry of key 'scale_hidden' must be \(value, rtol, atol\)"):
        grade([submission], source=LABS, references={"01_fixture": {**reference, "scale_hidden": value}})
    with pytest.raises(ValueError, match="must be a dict mapping lab names to reference values"):
        grade([submission], source=LABS, references=[reference])
