"""Canvas gradebook CSV: read the roster Canvas exports, match submissions to students, write an import file.

The format follows Canvas's own importer (`app/models/gradebook_importer.rb` in instructure/canvas-lms): a header
row `Student, ID, SIS User ID, SIS Login ID, Section, <assignment>...`; an optional `Points Possible` row, which
sets the points of an assignment the import creates; then one row per student. Canvas finds the student by `ID`
(its user id), then `SIS User ID`, then `SIS Login ID`, then the name; it finds the assignment by a header
`Title (assignment id)`, then by title, and otherwise creates a new assignment with that title. A blank grade
changes nothing.

Workflow: Grades → Export → "Export Entire Gradebook" gives the roster; Assignment → "Download Submissions" gives
files named `<name>_<user id>_<file id>_<original name>` (`<name>_LATE_<user id>_...` when late), which match
their student by the user id; any other file matches a student whose SIS Login ID, SIS User ID or ID is its name
without `.ipynb`. Then Grades → Import.
"""

import csv
import dataclasses
import io
import os
import re

from dlkit.grading.gradebook import format_points

IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
_DOWNLOAD_NAME = re.compile(r"^[^_]+_(?:late_)?(?P<user_id>\d+)_\d+_", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class CanvasStudent:
    """One row of a Canvas roster: what the import file needs to find the student again."""

    name: str
    user_id: str
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""

    def identity(self):
        return [self.name, self.user_id, self.sis_user_id, self.sis_login_id, self.section]


def read_canvas_roster(path):
    """The students of a gradebook CSV exported from Canvas (Grades → Export).

    Only the identity columns are read; the `Points Possible` row and the muted / manual-posting rows that Canvas
    writes under the header are skipped, as Canvas's importer skips them.

    Args:
        path: String. The exported CSV.

    Returns:
        List of `CanvasStudent`, in the file's order.

    Raises:
        ValueError: if the file is missing, is not a Canvas gradebook export (its header must begin with
            `Student, ID` and name a `Section` column), or two rows share a user id.
    """
    if not isinstance(path, str | os.PathLike) or not os.path.isfile(path):
        raise ValueError(
            f"Argument `roster` must be a Canvas gradebook export (a CSV file). Received: {path!r}"
        )
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = [column.strip() for column in rows[0]] if rows else []
    if len(header) < 3 or header[0] != "Student" or header[1] != "ID" or "Section" not in header:
        raise ValueError(
            f"{path} is not a Canvas gradebook export: its first row must begin with `Student,ID` and name a "
            f"`Section` column (Canvas: Grades → Export). Received: {','.join(header[:6])!r}"
        )
    where = {column: header.index(column) for column in IDENTITY_COLUMNS if column in header}
    students, seen = [], set()
    for row in rows[1:]:
        if not row or not any(cell.strip() for cell in row) or "Points Possible" in row[0]:
            continue
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", cell, re.IGNORECASE) for cell in row):
            continue
        cells = {column: row[index].strip() if index < len(row) else "" for column, index in where.items()}
        student = CanvasStudent(
            cells["Student"],
            cells["ID"],
            cells.get("SIS User ID", ""),
            cells.get("SIS Login ID", ""),
            cells.get("Section", ""),
        )
        if not student.user_id:
            raise ValueError(f"{path}: the row of {student.name!r} has no Canvas ID.")
        if student.user_id in seen:
            raise ValueError(f"{path}: two rows have the Canvas ID {student.user_id}.")
        seen.add(student.user_id)
        students.append(student)
    return students


def _candidates(path, roster):
    name = os.path.basename(str(path))
    download = _DOWNLOAD_NAME.match(name)
    if download:
        return [s for s in roster if s.user_id == download["user_id"]]
    stem = name.removesuffix(".ipynb").strip().casefold()
    return [
        s
        for s in roster
        if stem and stem in {i.casefold() for i in (s.sis_login_id, s.sis_user_id, s.user_id) if i}
    ]


def match_submissions(paths, roster):
    """The roster's student for each submission file, checked before anything runs.

    A file named as Canvas's "Download Submissions" names it matches by the Canvas user id in its name; any other
    file matches the one student whose SIS Login ID, SIS User ID or Canvas ID equals its name without `.ipynb`
    (case-insensitive).

    Args:
        paths: List of submission paths.
        roster: List of `CanvasStudent` (from `read_canvas_roster`).

    Returns:
        List of `CanvasStudent`, one per path.

    Raises:
        ValueError: naming every file that matches no student or several, and any student matched twice (a
            Canvas gradebook column holds one score per student: grade each lab's submissions in its own run).
    """
    problems, students, owner = [], [], {}
    for path in paths:
        name = os.path.basename(str(path))
        found = _candidates(path, roster)
        if len(found) != 1:
            who = "no student" if not found else f"{len(found)} students ({', '.join(s.name for s in found)})"
            problems.append(f"{name}: matches {who} of the roster")
            continue
        student = found[0]
        if student.user_id in owner:
            problems.append(
                f"{name} and {owner[student.user_id]} are both {student.name} (ID {student.user_id})"
            )
        owner.setdefault(student.user_id, name)
        students.append(student)
    if problems:
        raise ValueError(
            "Canvas gradebook: every submission must match exactly one student of the roster, once. Name files "
            "as Canvas's Download Submissions does (<name>_<user id>_<file id>_<file>) or by SIS Login ID, SIS "
            "User ID or Canvas ID. " + "; ".join(problems)
        )
    return students


def canvas_gradebook_csv(rows, students, assignment=None):
    """The gradebook in Canvas's import format: one assignment column per lab, a `Points Possible` row, then one
    row per student with the submission's total.

    A submission that could not be graded for any lab (status "invalid": not a notebook, no matching lab) scores 0
    in the batch's one lab column, and is left blank (no change in Canvas) when the batch spans several labs.

    Args:
        rows: List of `SubmissionGrade` (from `grade`).
        students: List of `CanvasStudent`, one per row (from `match_submissions`).
        assignment: String or None. The column's title when the batch is one lab, e.g. "Lab 2 (4711)" to fill
            the Canvas assignment with id 4711; default: the lab's name, which Canvas matches by title or creates.

    Returns:
        A pair `(text, warnings)`: the CSV text and a list of strings for the instructor (submissions left
        blank, an `assignment` that could not apply).

    Raises:
        ValueError: if `rows` and `students` differ in length, or `assignment` is not a non-empty string.
    """
    if len(rows) != len(students):
        raise ValueError(
            f"Arguments `rows` and `students` must pair up. Received: {len(rows)} rows, {len(students)} students"
        )
    if assignment is not None and (not isinstance(assignment, str) or not assignment.strip()):
        raise ValueError(
            f"Argument `assignment` must be a non-empty string or None. Received: {assignment!r}"
        )
    labs = list(dict.fromkeys(row.lab for row in rows if row.lab))
    max_points = {row.lab: row.max_total for row in rows if row.lab}
    warnings = []
    titles = {lab: lab for lab in labs}
    if assignment is not None:
        if len(labs) == 1:
            titles[labs[0]] = assignment.strip()
        else:
            warnings.append(
                f"`assignment` not applied: the submissions are of {len(labs)} labs; columns use lab names"
            )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*IDENTITY_COLUMNS, *(titles[lab] for lab in labs)])
    writer.writerow(["Points Possible", "", "", "", "", *(format_points(max_points[lab]) for lab in labs)])
    for row, student in zip(rows, students, strict=True):
        lab = row.lab or (labs[0] if len(labs) == 1 else None)
        if lab is None:
            warnings.append(f"{row.submission} ({student.name}): {row.status}, lab unknown; left blank")
        scores = [format_points(row.total) if column == lab else "" for column in labs]
        writer.writerow([*student.identity(), *scores])
    return buffer.getvalue(), warnings
