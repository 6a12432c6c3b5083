"""What the bubblewrap sandbox costs a graded run: `grade(..., sandbox=True)` vs `grade(..., sandbox=False)`.

Run: .venv/bin/python benchmarks/bench_grading_sandbox.py [--quick] [--repeats N] [--labs 01 06]

Per lab, one `grade()` call on the lab's own solution submitted as a student file (the call runs the lab once,
as the reference run, and reuses that run for the identical submission; each run starts a Python with
TensorFlow, as every graded run does). The two sides are timed by `_timing.compare`: one untimed warm-up call
each, then `--repeats` (default 3) rounds alternating the order (A B, B A, ...); the goal is judged on the
ratio of the medians: sandboxed <= 1.15x unsandboxed. The table's CPU column is the grader process's own CPU
time, which excludes the runs (they are other processes), so only the wall-clock ratio counts here.

`--quick`: no warm-up, one timed round (a smoke run).
"""

import argparse
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _timing import compare  # noqa: E402

from dlkit.grading import grade  # noqa: E402
from dlkit.lab_runner import find_labs  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOAL = 1.15


def _side(submission, labs_dir, sandbox):
    """A zero-argument call grading `submission` once (full marks expected)."""

    def call():
        (row,) = grade([submission], source=labs_dir, timeout=900, sandbox=sandbox)
        if row.status != "graded" or row.total != row.max_total:
            raise RuntimeError(f"{row.submission}: {row.status}, {row.total}/{row.max_total}: {row.reasons}")
        return row

    return call


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="no warm-up, one timed round")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (default: 3)")
    parser.add_argument("--labs", nargs="+", default=["01", "06"], help="labs to grade (default: 01 06)")
    args = parser.parse_args()
    repeats, warmup = (1, 0) if args.quick else (args.repeats, 1)
    labs_dir = os.path.join(ROOT, "labs")
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        for lab in find_labs(labs_dir, args.labs):
            submission = shutil.copy(lab, os.path.join(folder, "solution-" + os.path.basename(lab)))
            sides = {
                "sandbox (bwrap)": _side(submission, labs_dir, True),
                "no sandbox": _side(submission, labs_dir, False),
            }
            title = f"\n{os.path.basename(lab)}: one grade() call of the solution (one lab run)"
            timings = compare(sides, repeats, warmup, reference="no sandbox", title=title, label="bwrap/none")
            ratio = timings["sandbox (bwrap)"].median / timings["no sandbox"].median
            verdicts.append((os.path.basename(lab), ratio))
    print()
    for name, ratio in verdicts:
        verdict = "met" if ratio <= GOAL else "NOT met"
        print(
            f"{name}: sandboxed / unsandboxed wall clock (medians) {ratio:.3f}x; goal <= {GOAL}x: {verdict}"
        )


if __name__ == "__main__":
    main()
