"""What grading one submission costs next to running the lab: a graded run vs `dlkit labs run`, per lab.

Run: .venv/bin/python benchmarks/bench_grading_speed.py [--quick] [--repeats N] [--labs 01 06]

Per lab, side by side (`_timing.compare`: one untimed warm-up each, then `--repeats` rounds alternating the
order):

- "labs run": `dlkit.lab_runner.run_lab` of the source, every cell (what `dlkit labs run` does);
- "graded run": one sandboxed run of the source as a submission (`dlkit.grading.grader.run_and_read` of the
  assembled notebook), which leaves the demonstrations marked `dlkit.grading: skip` empty and runs the answer
  guard, as `dlkit grade` does for each submission (the reference run, once per lab and batch, is not counted).

Goal (issue 18): the graded runs, summed over the labs, take at most 1/3 of the labs' runs.
`--quick`: no warm-up, one timed round.
"""

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _timing import compare  # noqa: E402

from dlkit.grading.assemble import assemble, load_source  # noqa: E402
from dlkit.grading.grader import run_and_read  # noqa: E402
from dlkit.lab_files import find_labs, lab_name  # noqa: E402
from dlkit.lab_runner import run_lab  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOAL = 1 / 3


def _sides(path, out_dir):
    lab = load_source(path)
    cells = {grade_id: [lab.notebook.cells[index].source] for grade_id, index in lab.solutions.items()}

    def labs_run():
        run = run_lab(path, out_dir, timeout=900)
        if run.status != "ok":
            raise RuntimeError(f"{lab.name}: {run.status}")

    def graded_run():
        notebook, _, _ = assemble(lab, cells)
        run, records, _ = run_and_read(notebook, 900, 8192, True)
        if run.status != "ok" or not records:
            raise RuntimeError(f"{lab.name}: graded run {run.status}")

    return {"labs run": labs_run, "graded run": graded_run}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="no warm-up, one timed round")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (default: 3)")
    parser.add_argument("--labs", nargs="*", default=[], help="labs (default: every graded lab)")
    args = parser.parse_args()
    repeats, warmup = (1, 0) if args.quick else (args.repeats, 1)
    labs = [p for p in find_labs(os.path.join(ROOT, "labs"), args.labs) if lab_name(p) != "00_setup"]
    totals = {"labs run": 0.0, "graded run": 0.0}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-speed-") as out_dir:
        for path in labs:
            title = f"\n{lab_name(path)}: every cell vs one graded submission"
            timings = compare(_sides(path, out_dir), repeats, warmup, title=title, label="x labs run")
            medians = {name: timing.median for name, timing in timings.items()}
            rows.append((lab_name(path), medians))
            for name in totals:
                totals[name] += medians[name]
    print()
    for name, medians in rows:
        print(f"{name}: graded / labs run {medians['graded run'] / medians['labs run']:.2f}")
    ratio = totals["graded run"] / totals["labs run"]
    print(
        f"summed: graded {totals['graded run']:.1f} s / labs run {totals['labs run']:.1f} s = {ratio:.2f}; "
        f"goal <= {GOAL:.2f}: {'met' if ratio <= GOAL else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
