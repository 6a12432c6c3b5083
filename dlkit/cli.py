"""The `dlkit` command line (also `python -m dlkit`).

dlkit labs run [LAB ...] [--full] [-q] execute labs headless, write build/labs/, print the results table
dlkit labs student [LAB ...]          the student versions into workspace/ (self-study), keeping your edits
dlkit release [LAB ...] --out DIR     student notebooks: solutions blanked, hidden tests removed
dlkit grade SUBMISSION ... --out CSV  sandboxed autograding: gradebook CSV + per-student feedback
dlkit export gradescope LAB --out DIR Gradescope's autograder zip for a lab
dlkit export nbgrader LAB --out COURSE nbgrader source notebooks whose hidden tests assert
"""

import argparse
import sys
import time


def _labs_run(args):
    from dlkit.lab_files import find_labs
    from dlkit.lab_runner import format_table, run_labs
    from dlkit.progress import Progress

    try:
        labs = find_labs(args.labs_dir, args.labs)
        if not labs:
            raise ValueError(f"no labs (NN_name.ipynb) in {args.labs_dir}")
        # Progress goes to stderr so that stdout carries only the table (`dlkit labs run > results.txt`).
        progress = None if args.quiet else Progress(sys.stderr)
        runs = run_labs(labs, args.out, timeout=args.timeout, full=args.full, progress=progress)
    except ValueError as error:
        print(f"dlkit labs run: {error}", file=sys.stderr)
        return 2
    if not args.quiet:
        print()
    print(format_table(runs))
    if not args.quiet:
        print(f"\nexecuted notebooks and HTML: {args.out}/")
    return 0 if all(run.status == "ok" for run in runs) else 1


def _labs_student(args):
    from dlkit.lab_files import find_labs
    from dlkit.learner_workspace import write_workspace

    try:
        labs = find_labs(args.labs_dir, args.labs)
        if not labs:
            raise ValueError(f"no labs (NN_name.ipynb) in {args.labs_dir}")
        results = write_workspace(labs, args.out)
    except ValueError as error:
        print(f"dlkit labs student: {error}", file=sys.stderr)
        return 2
    for path, action in results:
        print(f"{path}: {action}")
    return 0


def _release(args):
    from dlkit.grading.release import release
    from dlkit.lab_files import find_labs

    try:
        labs = find_labs(args.labs_dir, args.labs)
        if not labs:
            raise ValueError(f"no labs (NN_name.ipynb) in {args.labs_dir}")
        paths = [release(lab, args.out) for lab in labs]
    except ValueError as error:
        print(f"dlkit release: {error}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    return 0


def _clock(seconds):
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def _grade(args):
    from dlkit.grading.canvas import canvas_gradebook_csv, match_submissions, read_canvas_roster
    from dlkit.grading.gradebook import class_summary, write_gradebook
    from dlkit.grading.grader import GradingError, grade

    if args.format != "canvas" and (args.roster or args.assignment):
        print("dlkit grade: --roster and --assignment belong to --format canvas", file=sys.stderr)
        return 2
    students = None
    if args.format == "canvas":
        # Matched before anything runs: a roster problem must not cost a batch of graded runs.
        try:
            if not args.roster:
                raise ValueError("--format canvas needs --roster, the gradebook CSV exported from Canvas")
            students = match_submissions(args.submissions, read_canvas_roster(args.roster))
        except ValueError as error:
            print(f"dlkit grade: {error}", file=sys.stderr)
            return 2

    memory_mb = None if args.memory_mb == 0 else args.memory_mb
    if args.no_sandbox:
        print(
            "dlkit grade: warning: --no-sandbox: submissions run as you, with your files, environment and "
            "network (only for trusted submissions); every gradebook row is marked sandbox=none",
            file=sys.stderr,
        )
    start = time.perf_counter()

    def progress(row, done, total):
        # A line per finished submission on stderr (stdout keeps the table): done/total, elapsed, ETA.
        elapsed = time.perf_counter() - start
        eta = elapsed / done * (total - done)
        print(
            f"graded {done}/{total}: {row.submission} {row.total:g}/{row.max_total:g} {row.status} · "
            f"{_clock(elapsed)} elapsed · ETA {_clock(eta)}",
            file=sys.stderr,
        )

    try:
        rows = grade(
            args.submissions,
            source=args.source,
            jobs=args.jobs,
            timeout=args.timeout,
            memory_mb=memory_mb,
            sandbox=not args.no_sandbox,
            on_graded=None if args.quiet else progress,
        )
        table, warnings = None, []
        if students is not None:
            table, warnings = canvas_gradebook_csv(rows, students, args.assignment)
        feedback = write_gradebook(rows, args.out, args.feedback, table=table)
    except (ValueError, GradingError) as error:
        print(f"dlkit grade: {error}", file=sys.stderr)
        return 2
    for warning in warnings:
        print(f"dlkit grade: warning: {warning}", file=sys.stderr)
    width = max(len(row.submission) for row in rows)
    for row in rows:
        total = f"{row.total:g}/{row.max_total:g}"
        print(f"{row.submission.ljust(width)}  {row.lab or '-':<20}  {total:>9}  {row.status}")
    summary = class_summary(rows)
    if summary:
        print(f"\n{summary}")
    print(f"\ngradebook: {args.out}\nfeedback:  {feedback}/")
    return 0


def _export(args):
    """`dlkit export gradescope|nbgrader LAB ...`: one file per lab, from one reference run each."""
    from dlkit.grading.grader import GradingError
    from dlkit.grading.gradescope import export_gradescope
    from dlkit.grading.nbgrader_export import export_nbgrader
    from dlkit.lab_files import find_labs

    export = {"gradescope": export_gradescope, "nbgrader": export_nbgrader}[args.engine]
    try:
        labs = find_labs(args.labs_dir, args.labs)
        if not labs:
            raise ValueError(f"no labs (NN_name.ipynb) in {args.labs_dir}")
        memory_mb = None if args.memory_mb == 0 else args.memory_mb
        paths = [
            export(lab, args.out, timeout=args.timeout, memory_mb=memory_mb, sandbox=not args.no_sandbox)
            for lab in labs
        ]
    except (ValueError, GradingError) as error:
        print(f"dlkit export {args.engine}: {error}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="dlkit", description="dlkit labs: run, release and grade the course labs."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    labs = commands.add_parser("labs", help="work with the lab notebooks")
    labs_commands = labs.add_subparsers(dest="labs_command", required=True)
    run = labs_commands.add_parser(
        "run",
        help="execute labs headless and print their results",
        description=(
            "Execute each lab with a fresh kernel, write the executed notebook and an HTML page to --out, and "
            "print one row per lab: seconds, status, headline result, measured, reference. Outputs stored in "
            "the lab are cleared first, so every number comes from this run; a lab that fails or times out "
            "shows '—' and the cell where it stopped. While it runs, progress (lab i of n, the current cell, "
            "elapsed seconds) goes to stderr: one updating line on a terminal, a line per lab start and end "
            "otherwise. Exit status: 0 if every lab ran, 1 if one failed, 2 on a usage error."
        ),
    )
    run.add_argument("labs", nargs="*", metavar="LAB", help="lab numbers or names, e.g. 01 (default: all)")
    run.add_argument("--labs-dir", default="labs", help="folder of lab notebooks (default: labs)")
    run.add_argument("--out", default="build/labs", help="where executed notebooks and HTML go")
    run.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell (default: 900)")
    run.add_argument("--full", action="store_true", help="full-size run (sets DLKIT_FULL_SIZE=1)")
    run.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress: print only the final table and errors (for CI logs)",
    )
    run.set_defaults(handler=_labs_run)
    student = labs_commands.add_parser(
        "student",
        help="write the student versions of the labs into a work folder, for self-study",
        description=(
            "Write each lab's student version (solutions blanked, hidden tests removed; the visible checks "
            "work) into --out. A notebook you have changed there is never overwritten: it is reported as "
            "'kept: you changed it'; unchanged ones are updated when the lab changes. The solutions stay in "
            "--labs-dir."
        ),
    )
    student.add_argument(
        "labs", nargs="*", metavar="LAB", help="lab numbers or names, e.g. 01 (default: all)"
    )
    student.add_argument("--labs-dir", default="labs", help="folder of the lab sources (default: labs)")
    student.add_argument("--out", default="workspace", help="the work folder (default: workspace)")
    student.set_defaults(handler=_labs_student)

    release = commands.add_parser(
        "release", help="write the student versions of labs (no solutions, no hidden tests)"
    )
    release.add_argument("labs", nargs="*", metavar="LAB", help="lab numbers, names or paths (default: all)")
    release.add_argument("--out", required=True, help="folder for the student notebooks")
    release.add_argument("--labs-dir", default="labs", help="folder of the lab sources (default: labs)")
    release.set_defaults(handler=_release)

    grade = commands.add_parser("grade", help="grade submitted notebooks in a sandbox; write a gradebook")
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSION", help="submitted .ipynb files")
    grade.add_argument(
        "--source", default="labs", help="folder of the instructor's lab sources (default: labs)"
    )
    grade.add_argument("--out", required=True, help="gradebook CSV to write")
    grade.add_argument(
        "--format",
        choices=("dlkit", "canvas"),
        default="dlkit",
        help="dlkit: one column per check cell, status and reasons (default); canvas: Canvas's gradebook import",
    )
    grade.add_argument(
        "--roster",
        default=None,
        help="--format canvas: the gradebook CSV exported from Canvas (Grades > Export)",
    )
    grade.add_argument(
        "--assignment",
        default=None,
        help='--format canvas: the column title, e.g. "Lab 2 (4711)" for assignment id 4711 (default: lab name)',
    )
    grade.add_argument(
        "--feedback", default=None, help="folder for per-student JSON/HTML (default: feedback/ next to --out)"
    )
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default: 1)")
    grade.add_argument(
        "--timeout", type=float, default=600, help="wall-clock seconds per notebook run (default: 600)"
    )
    grade.add_argument(
        "--memory-mb",
        type=int,
        default=8192,
        help="address-space limit per run in MB, 0 for none (default: 8192)",
    )
    grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run submissions without the bubblewrap sandbox (trusted submissions only; rows marked 'none')",
    )
    grade.add_argument(
        "-q", "--quiet", action="store_true", help="no progress lines on stderr (one per finished submission)"
    )
    grade.set_defaults(handler=_grade)

    export = commands.add_parser("export", help="package labs for other grading engines")
    engines = export.add_subparsers(dest="engine", required=True)
    gradescope = engines.add_parser(
        "gradescope",
        help="write <lab>-autograder.zip for Gradescope",
        description=(
            "Write OUT/<lab>-autograder.zip per lab: setup.sh, run_autograder, the lab without solutions and "
            "the reference values of one sandboxed run of its source (made now). Upload it as the assignment's "
            "autograder; each submission is graded in Gradescope's container and gets a results.json with one "
            "test per check cell and the student's feedback."
        ),
    )
    gradescope.add_argument("labs", nargs="+", metavar="LAB", help="lab numbers, names or paths")
    gradescope.add_argument("--out", default="build/gradescope", help="folder for the zips")
    gradescope.add_argument("--labs-dir", default="labs", help="folder of the lab sources (default: labs)")
    gradescope.add_argument(
        "--timeout", type=float, default=600, help="wall-clock seconds per run (default: 600)"
    )
    gradescope.add_argument(
        "--memory-mb", type=int, default=8192, help="address-space limit per run in MB, 0 for none"
    )
    gradescope.add_argument(
        "--no-sandbox", action="store_true", help="make the reference run without bubblewrap"
    )
    gradescope.set_defaults(handler=_export)
    nbgrader = engines.add_parser(
        "nbgrader",
        help="write nbgrader source notebooks whose hidden tests assert",
        description=(
            "Write OUT/source/<lab>/<lab>.ipynb per lab for an nbgrader course folder: each check cell's hidden "
            "tests start with the values one sandboxed run of the source recorded (made now), so under nbgrader "
            "a wrong answer fails its hidden test; partial credit becomes nbgrader's partial credit. Then run "
            "nbgrader generate_assignment / autograde in OUT."
        ),
    )
    nbgrader.add_argument("labs", nargs="+", metavar="LAB", help="lab numbers, names or paths")
    nbgrader.add_argument("--out", default="course", help="the nbgrader course folder (default: course)")
    nbgrader.add_argument("--labs-dir", default="labs", help="folder of the lab sources (default: labs)")
    nbgrader.add_argument(
        "--timeout", type=float, default=600, help="wall-clock seconds for the reference run"
    )
    nbgrader.add_argument("--memory-mb", type=int, default=8192, help="address-space limit in MB, 0 for none")
    nbgrader.add_argument(
        "--no-sandbox", action="store_true", help="make the reference run without bubblewrap"
    )
    nbgrader.set_defaults(handler=_export)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
