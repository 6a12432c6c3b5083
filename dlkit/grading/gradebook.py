"""`write_gradebook`: the gradebook CSV and one JSON + HTML feedback file per submission."""

import csv
import html
import io
import json
import os
import re

from dlkit.atomic_write import write_atomic
from dlkit.grading.grader import HIDDEN_TESTS_FAILED

_HIDDEN_COUNT_PREFIX = HIDDEN_TESTS_FAILED.split("{", 1)[0]


def format_points(value):
    """Points as the gradebooks write them: an integer without a decimal point, otherwise at most two decimals
    (Canvas's precision), e.g. 9 -> "9", 10.556 -> "10.56", 0.5 -> "0.5"."""
    value = round(float(value), 2)
    return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0")


def _columns(rows):
    columns = []
    for row in rows:
        for exercise in row.exercises:
            if exercise.grade_id not in columns:
                columns.append(exercise.grade_id)
    return columns


def gradebook_csv(rows):
    """The gradebook as CSV text: submission, lab, one column per check cell (points), total, max_total,
    status, sandbox ("bwrap", or "none" for a run without isolation), reasons."""
    columns = _columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", "lab", *columns, "total", "max_total", "status", "sandbox", "reasons"])
    for row in rows:
        earned = {exercise.grade_id: format_points(exercise.points) for exercise in row.exercises}
        writer.writerow(
            [
                row.submission,
                row.lab,
                *(earned.get(column, "") for column in columns),
                format_points(row.total),
                format_points(row.max_total),
                row.status,
                row.sandbox,
                row.reasons,
            ]
        )
    return buffer.getvalue()


_STATUS_CSS = {"passed": "ok", "not attempted": "todo"}


def feedback_html(row):
    """The student's feedback page: the lab, the total, one row per exercise with its status and message.

    Standalone (no scripts, no external files) and readable on a phone: the table turns into one block per
    exercise on narrow screens. Hidden tests appear only as counts, never by name.
    """
    esc = html.escape
    seconds = f", run time {row.seconds:.0f} s" if row.seconds else ""
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Feedback: {esc(row.lab or 'unknown lab')}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:1em auto;max-width:50em;padding:0 1em;"
        "line-height:1.4}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
        "padding:.5em;text-align:left;vertical-align:top}.ok{color:#1a7f37}.ko{color:#cf222e}"
        ".todo{color:#6e7781}.total{font-size:1.3em}"
        "@media (max-width:600px){table,tr,td{display:block}th{display:none}tr{border-bottom:1px solid #ddd;"
        "padding:.5em 0}td{border:none;padding:.1em 0}}</style>",
        "</head><body>",
        f"<h1>{esc(row.lab or 'unknown lab')}</h1>",
        f"<p>{esc(row.submission)}{esc(seconds)}</p>",
        f'<p class="total">Score: <b>{format_points(row.total)} / {format_points(row.max_total)}</b></p>',
    ]
    if row.status != "graded":
        lines.append(f"<p>Status of the run: {esc(row.status)}</p>")
    lines += [f"<p>{esc(note)}</p>" for note in row.notes]
    if row.exercises:
        lines.append("<table><tr><th>exercise</th><th>points</th><th>status</th><th>feedback</th></tr>")
        for e in row.exercises:
            css = _STATUS_CSS.get(e.status, "ko")
            message = e.message or ("all tests passed" if e.status == "passed" else "")
            lines.append(
                f"<tr><td>{esc(e.grade_id)}</td><td>{format_points(e.points)} / {format_points(e.max_points)}</td>"
                f'<td class="{css}">{esc(e.status)}</td><td>{esc(message)}</td></tr>'
            )
        lines.append("</table>")
    lines.append("</body></html>")
    return "\n".join(lines) + "\n"


def class_summary(rows):
    """What the instructor reads after a batch: per exercise, the mean score, the share passed, and the visible
    check's most common message (the mistake the class made most).

    Args:
        rows: List of `SubmissionGrade`.

    Returns:
        The summary as text (a table, one line per exercise), "" if no row has exercises.
    """
    stats = {}
    for row in rows:
        for e in row.exercises:
            entry = stats.setdefault(
                (row.lab, e.grade_id), {"max": e.max_points, "points": [], "messages": []}
            )
            entry["points"].append(e.points)
            # Only the visible check's own diagnoses name a mistake; the hidden-test count does not.
            if e.status == "wrong" and e.message and not e.message.startswith(_HIDDEN_COUNT_PREFIX):
                entry["messages"].append(e.message)
    if not stats:
        return ""
    table = [("lab", "exercise", "mean score", "passed", "most common visible-check message")]
    for (lab, grade_id), entry in stats.items():
        mean = sum(entry["points"]) / len(entry["points"])
        passed = sum(points == entry["max"] for points in entry["points"]) / len(entry["points"])
        common = "-"
        if entry["messages"]:
            message = max(set(entry["messages"]), key=lambda m: (entry["messages"].count(m), m))
            common = f"{message} ({entry['messages'].count(message)}x)"
        table.append((lab, grade_id, f"{mean:.2f} / {format_points(entry['max'])}", f"{passed:.0%}", common))
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(line[:4], widths, strict=True)), line[4]]) for line in table
    ]
    return "\n".join(lines)


def feedback_name(submission):
    """The feedback files' stem for a submission's file name (safe characters only)."""
    stem = submission.removesuffix(".ipynb")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip(".") or "submission"


def write_gradebook(rows, out, feedback_dir=None, table=None):
    """Writes the gradebook CSV to `out` and `<stem>.json` / `<stem>.html` per submission to `feedback_dir`
    (default: `feedback/` next to `out`). Every file is written atomically, after all runs: a submission's code
    never runs while these files exist in their final form.

    Args:
        rows: List of `SubmissionGrade` (from `grade`).
        out: String. Path of the CSV.
        feedback_dir: String or None.
        table: String or None. The CSV text to write at `out`, e.g. `canvas_gradebook_csv`'s; default
            `gradebook_csv(rows)`.

    Returns:
        The feedback folder.

    Raises:
        ValueError: if `out` is not a path or two submissions map to the same feedback file.
    """
    if not isinstance(out, str | os.PathLike) or not str(out):
        raise ValueError(f"Argument `out` must be a file path. Received: out={out!r}")
    if feedback_dir is None:
        feedback_dir = os.path.join(os.path.dirname(os.path.abspath(out)), "feedback")
    stems = [feedback_name(row.submission) for row in rows]
    if len(set(stems)) != len(stems):
        raise ValueError("Two submissions map to the same feedback file name; rename them.")
    write_atomic(out, gradebook_csv(rows) if table is None else table)
    for row, stem in zip(rows, stems, strict=True):
        text = json.dumps(row.to_dict(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        write_atomic(os.path.join(feedback_dir, stem + ".json"), text)
        write_atomic(os.path.join(feedback_dir, stem + ".html"), feedback_html(row))
    return feedback_dir
