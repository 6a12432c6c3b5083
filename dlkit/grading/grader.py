"""`grade`: scores submitted lab notebooks against the instructor's source, one sandboxed run each."""

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor, as_completed

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
from dlkit.grading.record_audit import audit_reference, weak_value
from dlkit.grading.records import read_records, read_violations
from dlkit.grading.sandbox import run_sandboxed

MAX_REASON = 160  # the gradebook's reasons column, per exercise
MAX_MESSAGE = 600  # what the student reads: room for a visible check's call description and its diagnosis


class GradingError(RuntimeError):
    """The instructor's side is broken (a lab source whose own run fails or records the wrong keys)."""


# The message of an exercise whose visible check passed but some hidden tests did not (a count, never keys).
HIDDEN_TESTS_FAILED = "passes the visible check but fails {failed} of {total} hidden tests"

# What a student reads about one exercise, in the order a stuck student would ask about it.
STATUSES = ("passed", "not attempted", "wrong", "forbidden function", "error", "timed out")

# The message of an exercise whose run called a function that answers it (`dlkit.grading.answer_guard`).
FORBIDDEN_USED = "uses `{function}`, which this exercise asks you to write"


@dataclasses.dataclass
class ExerciseGrade:
    """One check cell's result.

    Attributes:
        grade_id: String. The check cell's grade_id.
        points: Float. Points earned: 0 or `max_points`, or in between for a check cell with partial credit.
        max_points: Float.
        status: String, one of `STATUSES`: "passed"; "not attempted" (the exercise still raises
            `NotImplementedError`, or its cell is missing); "wrong" (the visible check names the mistake, or the
            code passes it but not every hidden test); "forbidden function" (the run called a function that
            answers the exercise: 0 points); "error" (the check cell raised another exception, or the run ended
            early); "timed out".
        message: String. For the student: the visible check's own message, the exception (type and message,
            trimmed), or "passes the visible check but fails k of n hidden tests". Never a hidden test's key.
        reason: String. For the instructor (the gradebook's `reasons` column): the key that failed and why; ""
            when the exercise passed.
    """

    grade_id: str
    points: float
    max_points: float
    status: str = "passed"
    message: str = ""
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
            "seconds": round(self.seconds, 1),
            # The student's view: status and message, never the instructor's `reason` (it names hidden keys).
            "exercises": [
                {k: v for k, v in dataclasses.asdict(e).items() if k != "reason"} for e in self.exercises
            ],
        }


def _short(text, limit=MAX_REASON):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_and_read(notebook, timeout, memory_mb, sandbox):
    """One graded run (default size), its records and refused calls read back, its private folder removed:
    (run, records, violations)."""
    run = run_sandboxed(
        notebook, timeout=timeout, memory_mb=memory_mb, extra_env={"DLKIT_FULL_SIZE": "0"}, sandbox=sandbox
    )
    try:
        return run, read_records(run.record_path), read_violations(run.record_path)
    finally:
        run.cleanup()


def reference_values(lab, *, timeout, memory_mb, sandbox=True):
    """Runs the lab's source in the sandbox; returns a dict mapping every check cell's key to (value, rtol, atol).

    Raises:
        GradingError: if the source's run fails, a check cell raises, or a key is missing or recorded with
            two different values (a non-deterministic hidden test).
    """
    notebook, _, _ = assemble(lab, {gid: [lab.notebook.cells[i].source] for gid, i in lab.solutions.items()})
    run, records, violations = run_and_read(notebook, timeout, memory_mb, sandbox)
    where = f"The reference run of lab {lab.name} (its source, with solutions)"
    if violations:
        grade_id, functions = next(iter(violations.items()))
        raise GradingError(
            f"{where}: exercise {grade_id!r} called `{functions[0]}`, which a check cell forbids (metadata "
            f"`dlkit.forbidden`); only dlkit.lab_checks may call it before that check"
        )
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
    # With partial credit each key earns on its own, so each weighted key must be strong.
    weak += [
        f"check cell {check.grade_id!r} gives partial credit to the guessable key {key!r}"
        for check in lab.checks
        for key in check.weights or {}
        if weak_value(reference[key][0])
    ]
    if weak:
        raise GradingError(f"{where}: {'; '.join(weak)}")
    return reference


def check_reference(lab, reference, where="Argument `reference`"):
    """Validates reference values computed elsewhere (`reference_values`) against the lab's check cells.

    A reference from an older version of the source (a key added, renamed or removed since) would grade every
    submission against the wrong values; it is refused instead.

    Returns:
        The reference as a new dict mapping key to (value, rtol, atol).

    Raises:
        ValueError: if `reference` is not a dict, lacks one of the lab's keys, has a key the lab does not
            record, or an entry is not (value, rtol, atol).
    """
    if not isinstance(reference, dict):
        raise ValueError(
            f"{where} must be a dict mapping each hidden-test key of lab {lab.name} to (value, rtol, atol), "
            f"as `reference_values` returns. Received: {type(reference).__name__}"
        )
    keys = {key for check in lab.checks for key in check.keys}
    missing, extra = sorted(keys - set(reference)), sorted(set(reference) - keys)
    if missing or extra:
        raise ValueError(
            f"{where} does not match lab {lab.name}'s check cells (computed from another version of its "
            f"source?). Missing keys: {missing or 'none'}; keys the lab does not record: {extra or 'none'}"
        )
    checked = {}
    for key in sorted(keys):
        entry = reference[key]
        if not isinstance(entry, list | tuple) or len(entry) != 3:
            raise ValueError(
                f"{where}: the entry of key {key!r} must be (value, rtol, atol). Received: {entry!r}"
            )
        checked[key] = (entry[0], float(entry[1]), float(entry[2]))
    return checked


def _key_failure(key, entries, reference):
    """Why one hidden test's key fails ("" if it matches the reference)."""
    if not entries:
        return f"missing record {key}"
    if len({canonical(e["value"]) for e in entries}) > 1:
        return f"{key} recorded {len(entries)} times with different values"
    value, rtol, atol = reference[key]
    return "" if values_match(value, entries[0]["value"], rtol, atol) else f"value mismatch for {key}"


def _cell_error(error):
    """(status, student message) for a check cell that raised `error` ("Name: message" from the run)."""
    name, _, text = error.partition(":")
    text = _short(text.strip(), MAX_MESSAGE)
    if name == "NotImplementedError":
        return "not attempted", "not attempted yet: the exercise still raises NotImplementedError"
    if name == "ExerciseCheckError":  # the visible check's own diagnosis, on public inputs
        return "wrong", text
    return "error", _short(f"{name}: {text}" if text else name, MAX_MESSAGE)


def score(lab, reference, run, records, missing=(), violations=None):
    """Scores a student run: a check cell earns its points iff every key it records in the reference run was
    recorded in the student run exactly once-valued and matches the reference (its rtol/atol; the student's
    own tolerances are ignored). A check cell with partial credit (`CheckCell.weights`) earns the share of its
    points whose keys match instead.

    Each result also says, for the student, what happened (`ExerciseGrade.status` and `message`): the check
    cell's error when it raised (the visible check's message for a wrong answer), else how many of the cell's
    hidden tests failed — a count, never their keys or inputs.

    Returns:
        A list of `ExerciseGrade`, one per check cell.
    """
    grades = []
    for check in lab.checks:
        absent = [grade_id for grade_id in check.exercises if grade_id in missing]
        # {key: why it fails} for the hidden tests that fail (all of them count as failed if the cell is missing).
        failed = {} if absent else {k: _key_failure(k, records.get(k, []), reference) for k in check.keys}
        failed = {key: why for key, why in failed.items() if why}
        failures = list(failed.values())
        error = run.errors.get(check.index)
        used = (violations or {}).get(check.grade_id)
        if used:
            status = "forbidden function"
            message = reason = FORBIDDEN_USED.format(function=used[0])
        elif absent:
            status, message = (
                "not attempted",
                "not attempted: the exercise's cell is missing from your notebook",
            )
            reason = f"missing (no exercise cell {', '.join(absent)} in the submission)"
        elif not failures:
            status, message, reason = "passed", "", ""
        elif error:
            status, message = _cell_error(error)
            reason = f"{failures[0]} (cell raised {error.split(':', 1)[0]})"
        elif check.index not in run.executed:
            status = "timed out" if run.status == "timeout" else "error"
            message = f"the run stopped before this check ({run.status})"
            reason = run.status if run.status != "ok" else f"{failures[0]} (cell did not run)"
        else:
            status = "wrong"
            message = HIDDEN_TESTS_FAILED.format(failed=len(failures), total=len(check.keys))
            reason = failures[0]
        points = check.points if status == "passed" else 0
        if check.weights and not absent and not used and status != "passed":
            # Partial credit, asked for in the cell's metadata: the share of the weight whose keys match.
            earned = sum(w for key, w in check.weights.items() if key not in failed)
            points = round(check.points * earned / sum(check.weights.values()), 2)
        grades.append(ExerciseGrade(check.grade_id, points, check.points, status, message, _short(reason)))
    return grades


def _given_references(references, sources, labs):
    """The precomputed references of the labs this batch grades, each checked against its source."""
    if references is None:
        return {}
    if not isinstance(references, dict):
        raise ValueError(
            "Argument `references` must be a dict mapping lab names to reference values, or None. "
            f"Received: {type(references).__name__}"
        )
    unknown = sorted(set(references) - set(sources))
    if unknown:
        raise ValueError(
            f"Argument `references` names labs with no source in the source folder: {unknown}. "
            f"Allowed: {sorted(sources)}"
        )
    return {
        name: check_reference(labs[name], value, f"Argument `references[{name!r}]`")
        for name, value in references.items()
        if name in labs
    }


def _grade_one(path, lab, cells, reference, timeout, memory_mb, sandbox):
    name = os.path.basename(path)
    notebook, missing, duplicated = assemble(lab, cells)
    # Always a run of its own, even for a submission whose solutions are the instructor's own character for
    # character: reusing the reference run would make the round trip compare that run with itself.
    run, records, violations = run_and_read(notebook, timeout, memory_mb, sandbox)
    exercises = score(lab, reference, run, records, missing, violations)
    status = "graded" if run.status == "ok" else run.status
    notes = []
    if run.status != "ok":
        notes.append(_short(f"{run.status}: {run.detail}"))
    if duplicated:
        notes.append(f"cells with the same grade_id ({', '.join(duplicated)}): graded the first")
    return SubmissionGrade(
        name, path, lab.name, status, exercises, lab.max_total, notes, run.seconds, run.sandbox
    )


def grade(
    submissions,
    *,
    source="labs",
    jobs=1,
    timeout=600,
    memory_mb=8192,
    sandbox=True,
    on_graded=None,
    references=None,
):
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
        on_graded: Callable or None. Called as `on_graded(row, done, total)` as each submission finishes, in
            the order they finish (a progress display); the returned list keeps the given order.
        references: Dict or None. Lab name (e.g. "04_optimization") -> that lab's reference values, when already
            computed by `reference_values` on the same source (a second batch of the same lab, or the values an
            export shipped); the labs not in it get their reference run here. Checked against the source's
            check cells (`check_reference`).

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
    given = _given_references(references, sources, labs)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            name: pool.submit(reference_values, lab, timeout=timeout, memory_mb=memory_mb, sandbox=sandbox)
            for name, lab in labs.items()
            if name not in given
        }
        references = {**given, **{name: future.result() for name, future in futures.items()}}
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
        rows = [None] * len(plans)

        def finish(position):
            path, lab, cells = plans[position]
            name = os.path.basename(path)
            future = futures[position]
            if future is None:
                row = SubmissionGrade(name, path, "", "invalid", [], 0, [_short(cells)], sandbox=mode)
            else:
                try:
                    row = future.result()
                except Exception as error:  # never lose the batch to one submission
                    note = _short(f"grader error: {type(error).__name__}: {error}")
                    row = SubmissionGrade(name, path, lab, "error", [], 0, [note], sandbox=mode)
            rows[position] = row
            if on_graded is not None:
                on_graded(row, sum(r is not None for r in rows), len(rows))

        for position, future in enumerate(futures):
            if future is None:
                finish(position)
        positions = {future: position for position, future in enumerate(futures) if future is not None}
        for future in as_completed(positions):
            finish(positions[future])
    return rows
