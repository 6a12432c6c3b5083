"""`write_gradebook`: the gradebook CSV and one JSON + HTML feedback file per submission."""

import csv
import html
import io
import json
import os
import re

from dlkit.atomic_write import write_atomic


def _points(value):
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.3g}"


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
        earned = {exercise.grade_id: _points(exercise.points) for exercise in row.exercises}
        writer.writerow(
            [
                row.submission,
                row.lab,
                *(earned.get(column, "") for column in columns),
                _points(row.total),
                _points(row.max_total),
                row.status,
                row.sandbox,
                row.reasons,
            ]
        )
    return buffer.getvalue()


def feedback_html(row):
    """A small standalone HTML page telling a student their points per exercise and why they lost any."""
    esc = html.escape
    lines = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>Feedback: {esc(row.submission)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.ok{color:#1a7f37}.ko{color:#cf222e}</style>",
        "</head><body>",
        f"<h1>{esc(row.lab or 'unknown lab')}: {esc(row.submission)}</h1>",
        f"<p>Score: <b>{_points(row.total)} / {_points(row.max_total)}</b> (status: {esc(row.status)})</p>",
    ]
    lines += [f"<p>{esc(note)}</p>" for note in row.notes]
    if row.exercises:
        lines.append("<table><tr><th>exercise</th><th>points</th><th>feedback</th></tr>")
        for e in row.exercises:
            css, text = ("ko", e.reason) if e.reason else ("ok", "all hidden tests passed")
            lines.append(
                f"<tr><td>{esc(e.grade_id)}</td><td>{_points(e.points)} / {_points(e.max_points)}</td>"
                f'<td class="{css}">{esc(text)}</td></tr>'
            )
        lines.append("</table>")
    lines.append("</body></html>")
    return "\n".join(lines) + "\n"


def feedback_name(submission):
    """The feedback files' stem for a submission's file name (safe characters only)."""
    stem = submission.removesuffix(".ipynb")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip(".") or "submission"


def write_gradebook(rows, out, feedback_dir=None):
    """Writes the gradebook CSV to `out` and `<stem>.json` / `<stem>.html` per submission to `feedback_dir`
    (default: `feedback/` next to `out`). Every file is written atomically, after all runs: a submission's code
    never runs while these files exist in their final form.

    Args:
        rows: List of `SubmissionGrade` (from `grade`).
        out: String. Path of the CSV.
        feedback_dir: String or None.

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
    write_atomic(out, gradebook_csv(rows))
    for row, stem in zip(rows, stems, strict=True):
        text = json.dumps(row.to_dict(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        write_atomic(os.path.join(feedback_dir, stem + ".json"), text)
        write_atomic(os.path.join(feedback_dir, stem + ".html"), feedback_html(row))
    return feedback_dir
