"""The `dlkit` command line (also `python -m dlkit`).

    dlkit labs run [LAB ...] [--full]     execute labs headless, write build/labs/, print the results table
"""

import argparse
import sys


def _labs_run(args):
    from dlkit.lab_runner import find_labs, format_table, run_lab

    try:
        labs = find_labs(args.labs_dir, args.labs)
    except ValueError as error:
        print(f"dlkit labs run: {error}", file=sys.stderr)
        return 2
    if not labs:
        print(f"dlkit labs run: no labs (NN_name.ipynb) in {args.labs_dir}", file=sys.stderr)
        return 2
    runs = []
    for path in labs:
        print(f"running {path} ...", flush=True)
        run = run_lab(path, args.out, timeout=args.timeout, full=args.full)
        print(f"  {run.status} in {run.seconds:.1f} s", flush=True)
        runs.append(run)
    print()
    print(format_table(runs))
    print(f"\nexecuted notebooks and HTML: {args.out}/")
    return 0 if all(run.status == "ok" for run in runs) else 1


def build_parser():
    parser = argparse.ArgumentParser(prog="dlkit", description="dlkit labs: run, release and grade the course labs.")
    commands = parser.add_subparsers(dest="command", required=True)

    labs = commands.add_parser("labs", help="work with the lab notebooks")
    labs_commands = labs.add_subparsers(dest="labs_command", required=True)
    run = labs_commands.add_parser("run", help="execute labs headless and print their results")
    run.add_argument("labs", nargs="*", metavar="LAB", help="lab numbers or names, e.g. 01 (default: all)")
    run.add_argument("--labs-dir", default="labs", help="folder of lab notebooks (default: labs)")
    run.add_argument("--out", default="build/labs", help="where executed notebooks and HTML go")
    run.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell (default: 900)")
    run.add_argument("--full", action="store_true", help="full-size run (sets DLKIT_FULL_SIZE=1)")
    run.set_defaults(handler=_labs_run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
