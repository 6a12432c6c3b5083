"""Runs the labs headless, the way `make run` does, and reports each lab's headline result."""

import dataclasses
import glob
import os
import time

from dlkit.results_table import RESULTS_MIME


@dataclasses.dataclass
class LabRun:
    """What one executed lab produced."""

    name: str
    seconds: float
    status: str
    headline: str = ""
    measured: str = ""
    reference: str = ""
    error: str = ""


def find_labs(labs_dir, selectors=()):
    """Returns the lab notebooks in `labs_dir` matching `selectors` ("01", "01_initialization", or a path).

    Raises:
        ValueError: if `labs_dir` is missing or a selector matches no lab.
    """
    if not os.path.isdir(labs_dir):
        raise ValueError(f"Argument `labs_dir` must be a folder. Received: labs_dir={labs_dir!r}")
    labs = sorted(glob.glob(os.path.join(labs_dir, "[0-9][0-9]_*.ipynb")))
    if not selectors:
        return labs
    chosen = []
    for selector in selectors:
        if os.path.isfile(selector) and selector.endswith(".ipynb"):
            matches = [selector]
        else:
            stem = os.path.basename(selector).removesuffix(".ipynb")
            matches = [lab for lab in labs if os.path.basename(lab).removesuffix(".ipynb").startswith(stem)]
        if not matches:
            names = ", ".join(os.path.basename(lab) for lab in labs) or "none"
            raise ValueError(
                f"Argument `LAB` matches no lab in {labs_dir}. Received: {selector!r}. Labs: {names}"
            )
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def headline_of(notebook):
    """The headline row that a lab's `dlkit.ResultsTable` left in the executed notebook, or None."""
    for cell in reversed(notebook.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RESULTS_MIME in data:
                rows = data[RESULTS_MIME].get("rows", [])
                return next((row for row in rows if row.get("headline")), rows[0] if rows else None)
    return None


def run_lab(path, out_dir, *, timeout=900, full=False):
    """Executes one lab with nbclient; writes the executed notebook and an HTML rendering into `out_dir`.

    Returns:
        A `LabRun`.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    name = os.path.basename(path).removesuffix(".ipynb")
    notebook = nbformat.read(path, as_version=4)
    env_before = os.environ.get("DLKIT_FULL_SIZE")
    os.environ["DLKIT_FULL_SIZE"] = "1" if full else "0"
    start = time.perf_counter()
    status, error = "ok", ""
    try:
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        )
        client.execute()
    except CellTimeoutError as exc:
        status, error = "timeout", str(exc).strip().splitlines()[0]
    except (CellExecutionError, DeadKernelError) as exc:
        status = "failed"
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        error = lines[-1] if lines else type(exc).__name__
    finally:
        if env_before is None:
            os.environ.pop("DLKIT_FULL_SIZE", None)
        else:
            os.environ["DLKIT_FULL_SIZE"] = env_before
    seconds = time.perf_counter() - start
    os.makedirs(out_dir, exist_ok=True)
    nbformat.write(notebook, os.path.join(out_dir, name + ".ipynb"))
    _write_html(notebook, os.path.join(out_dir, name + ".html"))
    run = LabRun(name=name, seconds=seconds, status=status, error=error)
    row = headline_of(notebook)
    if row:
        run.headline, run.measured, run.reference = row["quantity"], row["measured"], row["reference"]
    return run


def _write_html(notebook, path):
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(notebook)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(body)
    os.replace(tmp, path)


def format_table(runs):
    """The table `dlkit labs run` prints: lab, seconds, status, headline result vs reference."""
    header = ("lab", "seconds", "status", "headline result", "measured", "reference")
    rows = [
        (r.name, f"{r.seconds:.1f}", r.status, r.headline or "-", r.measured or "-", r.reference or "-")
        for r in runs
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    for r in runs:
        if r.error:
            lines.append(f"{r.name}: {r.error}")
    return "\n".join(lines)
