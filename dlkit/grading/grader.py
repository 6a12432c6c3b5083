"""`grade`: scores submitted lab notebooks against the instructor's source, one sandboxed run each."""

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor

from dlkit.grading.assemble import (
    SubmissionError,
    assemble,
    find_sources,
    load_source,
    load_submission,
    match_lab,
    solution_ids_of,
)
from dlkit.grading.compare import canonical, values_match
from dlkit.grading.record_audit import audit_reference
from dlkit.grading.records import read_records
from dlkit.grading.sandbox import run_sandboxed

MAX_REASON = 160


class GradingError(RuntimeError):
    """The instructor's side is broken (a lab source whose own run fails or records the wrong keys)."""


@dataclasses.dataclass
class ExerciseGrade:
    """One check cell's result: `points` of `max_points`, and why it failed ("" when it passed)."""

    grade_id: str
    points: float
    max_points: float
    reason: str = ""


@dataclasses.dataclass
class SubmissionGrade:
    """One submission's row of the gradebook.

    status: "graded" (the run finished), "timeout", "memory limit", "cpu limit", "kernel died", "invalid" (the
    file could not be graded: not JSON, not a notebook, no matching lab) or "error" (a grader failure).
    sandbox: "bwrap" (the runs were isolated by bubblewrap) or "none" (graded with `sandbox=False`).
    """

    submission: str
    path: str
    lab: str
    status: str
    exercises: list
    max_total: float
    notes: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    sandbox: str = "bwrap"

    @property
    def total(self):
        return sum(exercise.points for exercise in self.exercises)

    @property
    def reasons(self):
        failed = [f"{e.grade_id}: {e.reason}" for e in self.exercises if e.reason]
        return "; ".join(self.notes + failed)

    def to_dict(self):
        return {
            "submission": self.submission,
            "lab": self.lab,
            "status": self.status,
            "sandbox": self.sandbox,
            "total": self.total,
            "max_total": self.max_total,
            "notes": list(self.notes),
            "exercises": [dataclasses.asdict(e) for e in self.exercises],
        }


def _short(text):
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def _run_and_read(notebook, timeout, memory_mb, sandbox):
    """One graded run (default size), its records read back, its private folder removed: (run, records)."""
    run = run_sandboxed(
        notebook, timeout=timeout, memory_mb=memory_mb, extra_env={"DLKIT_FULL_SIZE": "0"}, sandbox=sandbox
    )
    try:
        return run, read_records(run.record_path)
    finally:
        run.cleanup()


def reference_values(lab, *, timeout, memory_mb, sandbox=True):
    """Runs the lab's source in the sandbox; returns a dict mapping every check cell's key to (value, rtol, atol).

    Raises:
        GradingError: if the source's run fails, a check cell raises, or a key is missing or recorded with
            two different values (a non-deterministic hidden test).
    """
    notebook, _, _ = assemble(lab, {gid: [lab.notebook.cells[i].source] for gid, i in lab.solutions.items()})
    run, records = _run_and_read(notebook, timeout, memory_mb, sandbox)
    where = f"The reference run of lab {lab.name} (its source, with solutions)"
    first_error = ""
    if run.errors:
        index = min(run.errors)
        first_error = f" (first error: cell {index} raised {run.errors[index]})"
    if run.status != "ok":
        raise GradingError(f"{where} ended with {run.status}: {run.detail}{first_error}")
    reference = {}
    for check in lab.checks:
        if check.index in run.errors:
            raise GradingError(f"{where}: check cell {check.grade_id!r} failed{first_error}")
        for key in check.keys:
            entries = records.get(key)
            if not entries:
                raise GradingError(f"{where}: check cell {check.grade_id!r} did not record key {key!r}")
            if len({canonical(e["value"]) for e in entries}) > 1:
                raise GradingError(f"{where}: key {key!r} was recorded with different values (seed it)")
            entry = entries[0]
            reference[key] = (entry["value"], float(entry.get("rtol", 1e-5)), float(entry.get("atol", 1e-6)))
    # A check cell whose values a student could guess (flags, shapes, small configs) could be forged by a
    # patched `record`: refuse the source rather than hand out points for it.
    weak = audit_reference({check.grade_id: {k: reference[k][0] for k in check.keys} for check in lab.checks})
    if weak:
        raise GradingError(f"{where}: {'; '.join(weak)}")
    return reference


def score(lab, reference, run, records, missing=()):
    """Scores a student run: a check cell earns its points iff every key it records in the reference run was
    recorded in the student run exactly once-valued and matches the reference (its rtol/atol; the student's
    own tolerances are ignored).

    Returns:
        A list of `ExerciseGrade`, one per check cell.
    """
    grades = []
    for check in lab.checks:
        reason = ""
        absent = [grade_id for grade_id in check.exercises if grade_id in missing]
        if absent:
            reason = f"missing (no exercise cell {', '.join(absent)} in the submission)"
        for key in [] if reason else check.keys:
            entries = records.get(key, [])
            if not entries:
                if check.index in run.errors:
                    cause = f"cell raised {run.errors[check.index].split(':', 1)[0]}"
                elif check.index not in run.executed:
                    reason = run.status if run.status != "ok" else f"missing record {key} (cell did not run)"
                    break
                else:
                    cause = "the cell ran without recording it"
                reason = f"missing record {key} ({cause})"
            elif len({canonical(e["value"]) for e in entries}) > 1:
                reason = f"{key} recorded {len(entries)} times with different values"
            else:
                value, rtol, atol = reference[key]
                if not values_match(value, entries[0]["value"], rtol, atol):
                    reason = f"value mismatch for {key}"
            if reason:
                break
        points = 0 if reason else check.points
        grades.append(ExerciseGrade(check.grade_id, points, check.points, _short(reason)))
    return grades


def _grade_one(path, lab, cells, reference, timeout, memory_mb, sandbox):
    name = os.path.basename(path)
    notebook, missing, duplicated = assemble(lab, cells)
    # Always a run of its own, even for a submission whose solutions are the instructor's own character for
    # character: reusing the reference run would make the round trip compare that run with itself.
    run, records = _run_and_read(notebook, timeout, memory_mb, sandbox)
    exercises = score(lab, reference, run, records, missing)
    status = "graded" if run.status == "ok" else run.status
    notes = []
    if run.status != "ok":
        notes.append(_short(f"{run.status}: {run.detail}"))
    if duplicated:
        notes.append(f"cells with the same grade_id ({', '.join(duplicated)}): graded the first")
    return SubmissionGrade(
        name, path, lab.name, status, exercises, lab.max_total, notes, run.seconds, run.sandbox
    )


def grade(submissions, *, source="labs", jobs=1, timeout=600, memory_mb=8192, sandbox=True):
    """Grades submitted notebooks; returns one `SubmissionGrade` per submission, in the given order.

    Per submission: find its lab (solution grade_ids), assemble the instructor's source with the submission's
    solution cells only, run it in the bubblewrap sandbox (`dlkit.grading.bwrap`), and score its recorded values
    against the lab source's own sandboxed run (once per lab). Bad submissions get status "invalid" and zero;
    the batch always goes on.

    Example:

    >>> rows = grade(["alice.ipynb", "bob.ipynb"], source="labs", jobs=2)
    >>> [(row.submission, row.total, row.max_total) for row in rows]

    Args:
        submissions: List of notebook paths; their file names must be unique (they key the gradebook).
        source: String. Folder of the instructor's lab sources (NN_name.ipynb).
        jobs: Integer >= 1. Submissions graded in parallel.
        timeout: Number > 0. Wall-clock seconds per run (kernel start included).
        memory_mb: Integer >= 64 or None. Address-space limit per run (POSIX only).
        sandbox: Boolean. False runs every notebook (the reference included) without isolation, as the grader's
            user with its files, environment and network; every row is then marked `sandbox="none"`. Only for
            trusted submissions.

    Returns:
        A list of `SubmissionGrade`.

    Raises:
        ValueError: on bad arguments, duplicate file names, or a lab source that breaks the lab format.
        GradingError: if a lab's source fails its own reference run, or `sandbox` and bubblewrap cannot start
            here (the message says how to install it).
    """
    from dlkit._checks import check_float, check_int

    if isinstance(submissions, str | os.PathLike) or not submissions:
        raise ValueError(
            f"Argument `submissions` must be a non-empty list of paths. Received: {submissions!r}"
        )
    submissions = [os.fspath(path) for path in submissions]
    jobs = check_int("jobs", jobs, minimum=1)
    timeout = check_float("timeout", timeout, minimum=0, min_inclusive=False)
    if memory_mb is not None:
        memory_mb = check_int("memory_mb", memory_mb, minimum=64)
    names = [os.path.basename(path) for path in submissions]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f"Argument `submissions` must have unique file names. Repeated: {', '.join(repeated)}"
        )
    if not isinstance(sandbox, bool):
        raise ValueError(f"Argument `sandbox` must be True or False. Received: sandbox={sandbox!r}")
    if sandbox:
        from dlkit.grading.bwrap import SandboxUnavailableError, check_sandbox

        try:
            check_sandbox()  # before anything runs: refuse rather than grade unprotected
        except SandboxUnavailableError as error:
            raise GradingError(str(error)) from None
    mode = "bwrap" if sandbox else "none"
    sources = find_sources(source)
    ids = {lab: solution_ids_of(path) for lab, path in sources.items()}

    plans = []  # (path, lab name or None, cells or error message)
    for path in submissions:
        try:
            cells = load_submission(path)
            plans.append((path, match_lab(path, cells, ids), cells))
        except SubmissionError as error:
            plans.append((path, None, str(error)))
    labs = {lab: load_source(sources[lab]) for lab in sorted({lab for _, lab, _ in plans if lab})}

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            name: pool.submit(reference_values, lab, timeout=timeout, memory_mb=memory_mb, sandbox=sandbox)
            for name, lab in labs.items()
        }
        references = {name: future.result() for name, future in futures.items()}
        futures = []
        for path, lab, cells in plans:
            if lab is None:
                futures.append(None)
            else:
                futures.append(
                    pool.submit(
                        _grade_one, path, labs[lab], cells, references[lab], timeout, memory_mb, sandbox
                    )
                )
        rows = []
        for (path, lab, cells), future in zip(plans, futures, strict=True):
            if future is None:
                name = os.path.basename(path)
                rows.append(SubmissionGrade(name, path, "", "invalid", [], 0, [_short(cells)], sandbox=mode))
            else:
                try:
                    rows.append(future.result())
                except Exception as error:  # never lose the batch to one submission
                    note = _short(f"grader error: {type(error).__name__}: {error}")
                    name = os.path.basename(path)
                    rows.append(SubmissionGrade(name, path, lab, "error", [], 0, [note], sandbox=mode))
    return rows
