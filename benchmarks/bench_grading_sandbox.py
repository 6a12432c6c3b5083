"""What grading's protections cost: the bubblewrap sandbox and the answer guard vs the grader before them.

Run: .venv/bin/python benchmarks/bench_grading_sandbox.py [--quick] [--repeats N] [--labs 01 06]

Per lab, one `grade()` call on the lab's own solution submitted as a student file (two runs: the reference run
and the submission's; each starts a Python with TensorFlow, as every graded run does), three ways:

- "sandbox + guard": today's grader (`sandbox=True`, the lab's `dlkit.forbidden` lists: the answer guard on);
- "sandbox": the same without the answer guard (a copy of the lab without its `dlkit.forbidden` lists);
- "before": neither (`sandbox=False`, no lists): the grader before issue 17.

The sides are timed by `_timing.compare`: one untimed warm-up call each, then `--repeats` (default 3) rounds
alternating the order; the goal is judged on the ratio of the medians: "sandbox + guard" <= 1.15x "before".
The table's CPU column is the grader process's own CPU time, which excludes the runs (they are other
processes), so only the wall-clock ratio counts here.

`--quick`: no warm-up, one timed round (a smoke run).
"""

import argparse
import json
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _timing import compare  # noqa: E402

from dlkit.grading import grade  # noqa: E402
from dlkit.lab_files import find_labs  # noqa: E402

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


def _without_guard(lab, folder):
    """A copy of `lab` in `folder` without the check cells' `dlkit.forbidden` lists (so no answer guard)."""
    with open(lab, encoding="utf-8") as f:
        notebook = json.load(f)
    for cell in notebook["cells"]:
        cell.get("metadata", {}).get("dlkit", {}).pop("forbidden", None)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, os.path.basename(lab))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(notebook, f, indent=1, ensure_ascii=False)
    return path


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
            unguarded = os.path.dirname(_without_guard(lab, os.path.join(folder, "unguarded")))
            sides = {
                "sandbox + guard": _side(submission, labs_dir, True),
                "sandbox": _side(submission, unguarded, True),
                "before": _side(submission, unguarded, False),
            }
            title = f"\n{os.path.basename(lab)}: one grade() call of the solution (two lab runs)"
            timings = compare(sides, repeats, warmup, reference="before", title=title, label="x before")
            medians = {name: timing.median for name, timing in timings.items()}
            verdicts.append((os.path.basename(lab), medians))
    print()
    for name, medians in verdicts:
        ratio = medians["sandbox + guard"] / medians["before"]
        print(
            f"{name}: sandbox + guard / before {ratio:.3f}x (sandbox alone {medians['sandbox'] / medians['before']:.3f}x,"
            f" guard alone {medians['sandbox + guard'] / medians['sandbox']:.3f}x); goal <= {GOAL}x: "
            f"{'met' if ratio <= GOAL else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
