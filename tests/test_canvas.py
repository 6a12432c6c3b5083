"""`dlkit grade --format canvas`: the roster, matching submissions to students, and the import file.

The import file is read back by `canvas_import`, a port of the rules of Canvas's own importer
(instructure/canvas-lms, app/models/gradebook_importer.rb: `row_has_student_headers?`, `update_column_count`,
`strip_non_assignment_columns`, `check_for_non_student_row`, `process_pp`, `process_student`), so a file it
reads wrongly fails here.
"""

import csv
import io
import os
import re
import shutil

import pytest

from dlkit.cli import main
from dlkit.grading import release
from dlkit.grading.canvas import canvas_gradebook_csv, match_submissions, read_canvas_roster
from dlkit.grading.grader import ExerciseGrade, SubmissionGrade

DATA = os.path.join(os.path.dirname(__file__), "data", "grading")
LABS = os.path.join(DATA, "labs")
FIXTURE = os.path.join(LABS, "01_fixture.ipynb")

# As Canvas exports it (Grades > Export): a BOM, read-only total columns, the points row with leading spaces, a
# manual-posting row, a student without SIS ids, a name with a comma.
EXPORT = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Lab 1 (4710),Current Score,Final Score\n"
    "    Points Possible,,,,,5,(read only),(read only)\n"
    ",,,,,Manual Posting,,\n"
    '"Doe, Jane",101,S-0001,jdoe,DL 2026 A,5,100,100\n'
    '"Smith, John",102,S-0002,jsmith,DL 2026 B,,0,0\n'
    "Test Student,999,,,DL 2026 A,,,\n"
)

_NON_ASSIGNMENT = re.compile(
    "Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|Override Score|"
    "Override Grade|Override Status"
)


def canvas_import(text):
    """What Canvas's importer reads from `text`: (assignment titles, points possible, {student id: grades})."""
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1], header
    student_columns = 3
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        student_columns += 1
    elif re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        student_columns += 2 + bool(re.search(r"Integration\s+ID", header[4]))
    assert "Section" in header[student_columns - 1], header
    assignments = [
        (index, title)
        for index, title in enumerate(header)
        if index >= student_columns and not _NON_ASSIGNMENT.search(title)
    ]
    points, grades = {}, {}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            points = {title: row[index] for index, title in assignments if row[index]}
        elif all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", cell, re.IGNORECASE) for cell in row):
            continue
        else:
            grades[row[1]] = {title: row[index].strip() for index, title in assignments}
    return [title for _, title in assignments], points, grades


def _row(submission, lab, points, status="graded"):
    exercises = [ExerciseGrade(f"ex{i}_check", p, m) for i, (p, m) in enumerate(points)]
    return SubmissionGrade(submission, submission, lab, status, exercises, sum(m for _, m in points))


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(EXPORT, encoding="utf-8")
    return read_canvas_roster(str(path))


def test_roster_reads_the_students_and_skips_points_and_posting_rows(roster):
    assert [(s.name, s.user_id, s.sis_user_id, s.sis_login_id, s.section) for s in roster] == [
        ("Doe, Jane", "101", "S-0001", "jdoe", "DL 2026 A"),
        ("Smith, John", "102", "S-0002", "jsmith", "DL 2026 B"),
        ("Test Student", "999", "", "", "DL 2026 A"),
    ]


@pytest.mark.parametrize(
    "text, match",
    [
        (
            "submission,lab,total\na,01,3\n",
            r"not a Canvas gradebook export.*Received: 'submission,lab,total'",
        ),
        ("Student,ID,Lab 1\nJane,101,5\n", r"name a `Section` column"),
        ("", r"not a Canvas gradebook export"),
        ("Student,ID,Section\nJane,,A\n", r"the row of 'Jane' has no Canvas ID"),
        ("Student,ID,Section\nJane,101,A\nJim,101,B\n", r"two rows have the Canvas ID 101"),
    ],
)
def test_a_file_that_is_not_a_canvas_export_is_refused(tmp_path, text, match):
    path = tmp_path / "grades.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        read_canvas_roster(str(path))


def test_a_missing_roster_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"Argument `roster` must be a Canvas gradebook export.*nope.csv"):
        read_canvas_roster(str(tmp_path / "nope.csv"))


def test_submissions_match_by_the_download_name_or_by_an_id(roster):
    paths = [
        "in/doejane_101_88001_01_regularization.ipynb",  # Canvas's Download Submissions
        "in/smithjohn_LATE_102_88002_lab-1.ipynb",  # ... when late
        "in/jdoe.ipynb",  # SIS Login ID, any case below
        "in/s-0002.ipynb",  # SIS User ID
        "in/999.ipynb",  # Canvas ID
    ]
    # One student per path; two paths of one student are refused below, so match them one at a time.
    found = [match_submissions([path], roster)[0].user_id for path in paths]
    assert found == ["101", "102", "101", "102", "999"]


@pytest.mark.parametrize(
    "names, match",
    [
        (["alice.ipynb"], r"alice.ipynb: matches no student of the roster"),
        (["doejane_555_88001_lab.ipynb"], r"doejane_555_88001_lab.ipynb: matches no student"),
        ([".ipynb"], r"\.ipynb: matches no student"),
        (["jdoe.ipynb", "doejane_101_1_x.ipynb"], r"doejane_101_1_x.ipynb and jdoe.ipynb are both Doe, Jane"),
    ],
)
def test_unmatched_or_twice_matched_submissions_are_refused_by_name(roster, names, match):
    with pytest.raises(ValueError, match=match):
        match_submissions(names, roster)


def test_a_roster_where_one_name_is_two_students_ids_is_ambiguous(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Student,ID,SIS User ID,SIS Login ID,Section\nA,7,,x7,S\nB,8,,7,S\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"7.ipynb: matches 2 students \(A, B\)"):
        match_submissions(["7.ipynb"], read_canvas_roster(str(path)))


def test_the_import_file_is_read_by_canvas_as_one_column_with_its_points(roster):
    rows = [
        _row("a.ipynb", "02_regularization", [(2, 2), (0.5, 3)]),
        _row("b.ipynb", "02_regularization", [(0, 2), (0, 3)]),
    ]
    text, warnings = canvas_gradebook_csv(rows, roster[:2])
    assert warnings == []
    titles, points, grades = canvas_import(text)
    assert titles == ["02_regularization"]
    assert points == {"02_regularization": "5"}
    assert grades == {"101": {"02_regularization": "2.5"}, "102": {"02_regularization": "0"}}
    # The identity columns are the roster's, so Canvas finds the student by ID, then SIS ids.
    assert next(csv.reader(io.StringIO(text.splitlines()[2]))) == [
        "Doe, Jane",
        "101",
        "S-0001",
        "jdoe",
        "DL 2026 A",
        "2.5",
    ]


def test_assignment_names_an_existing_canvas_assignment(roster):
    rows = [_row("a.ipynb", "01_initialization", [(1 / 3, 1), (10.556, 11)])]
    text, warnings = canvas_gradebook_csv(rows, roster[:1], assignment="Lab 1 (4710)")
    titles, points, grades = canvas_import(text)
    assert (titles, points, warnings) == (["Lab 1 (4710)"], {"Lab 1 (4710)": "12"}, [])
    assert grades == {"101": {"Lab 1 (4710)": "10.89"}}  # 1/3 + 10.556 at Canvas's two decimals


def test_a_batch_of_several_labs_gets_a_column_each_and_unknown_labs_stay_blank(roster):
    rows = [
        _row("a.ipynb", "02_regularization", [(3, 3)]),
        _row("b.ipynb", "03_gradient_checking", [(1, 4)]),
        _row("c.ipynb", "", [], status="invalid"),
    ]
    text, warnings = canvas_gradebook_csv(rows, roster, assignment="Lab 2")
    titles, points, grades = canvas_import(text)
    assert titles == ["02_regularization", "03_gradient_checking"]
    assert points == {"02_regularization": "3", "03_gradient_checking": "4"}
    assert grades == {
        "101": {"02_regularization": "3", "03_gradient_checking": ""},
        "102": {"02_regularization": "", "03_gradient_checking": "1"},
        "999": {"02_regularization": "", "03_gradient_checking": ""},
    }
    assert warnings == [
        "`assignment` not applied: the submissions are of 2 labs; columns use lab names",
        "c.ipynb (Test Student): invalid, lab unknown; left blank",
    ]


def test_an_ungradable_submission_scores_zero_in_a_one_lab_batch(roster):
    rows = [_row("a.ipynb", "02_regularization", [(3, 3)]), _row("c.ipynb", "", [], status="invalid")]
    _, _, grades = canvas_import(canvas_gradebook_csv(rows, roster[:2])[0])
    assert grades == {"101": {"02_regularization": "3"}, "102": {"02_regularization": "0"}}


@pytest.mark.parametrize(
    "students, assignment, match",
    [
        (1, None, r"`rows` and `students` must pair up. Received: 2 rows, 1 students"),
        (2, "  ", r"`assignment` must be a non-empty string or None. Received: '  '"),
    ],
)
def test_bad_arguments_are_refused(roster, students, assignment, match):
    rows = [_row("a.ipynb", "02_regularization", [(3, 3)])] * 2
    with pytest.raises(ValueError, match=match):
        canvas_gradebook_csv(rows, roster[:students], assignment)


def test_cli_grade_format_canvas_end_to_end(tmp_path, capsys):
    export = tmp_path / "export.csv"
    export.write_text(EXPORT, encoding="utf-8")
    solved = shutil.copy(FIXTURE, tmp_path / "doejane_101_88001_01_fixture.ipynb")
    blank = shutil.copy(release(FIXTURE, str(tmp_path / "release")), tmp_path / "jsmith.ipynb")
    out = tmp_path / "canvas.csv"
    argv = ["grade", str(solved), str(blank), "--source", LABS, "--out", str(out), "--format", "canvas"]
    assert main([*argv, "--roster", str(export), "--assignment", "Lab 1 (4710)", "-q"]) == 0
    titles, points, grades = canvas_import(out.read_text(encoding="utf-8"))
    # The fixture lab's checks are worth 2 + 3 points; the source scores them all, its release none.
    assert (titles, points) == (["Lab 1 (4710)"], {"Lab 1 (4710)": "5"})
    assert grades == {"101": {"Lab 1 (4710)": "5"}, "102": {"Lab 1 (4710)": "0"}}
    assert sorted(os.listdir(tmp_path / "feedback"))[0].startswith("doejane_101")


def test_cli_grade_checks_the_roster_before_running_anything(tmp_path, capsys):
    export = tmp_path / "export.csv"
    export.write_text(EXPORT, encoding="utf-8")
    stray = shutil.copy(FIXTURE, tmp_path / "alice.ipynb")
    out = tmp_path / "canvas.csv"
    base = ["grade", str(stray), "--source", LABS, "--out", str(out)]
    assert main([*base, "--format", "canvas", "--roster", str(export)]) == 2
    assert "alice.ipynb: matches no student of the roster" in capsys.readouterr().err
    assert main([*base, "--format", "canvas"]) == 2
    assert "--format canvas needs --roster" in capsys.readouterr().err
    assert main([*base, "--roster", str(export)]) == 2
    assert "--roster and --assignment belong to --format canvas" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "feedback").exists()
