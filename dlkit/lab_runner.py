"""Runs the labs headless, the way `make run` does, and reports each lab's headline result."""

import dataclasses
import os
import sys
import tempfile
import time

from dlkit.atomic_write import write_atomic
from dlkit.lab_files import lab_name
from dlkit.results_table import RESULTS_MIME

# What the table shows where there is no value: a lab without a headline row, or one that did not finish.
MISSING = "—"

# Metadata key under which `run_lab` records how the run went: in the notebook's metadata (status, error, the
# code cell it stopped at), in the cell that stopped, and in the markdown notes it adds.
RUN_METADATA_KEY = "dlkit_run"


@dataclasses.dataclass
class LabRun:
    """What one executed lab produced.

    Attributes:
        name: String. The lab's file name without `.ipynb`.
        seconds: Float. Wall-clock seconds the run took.
        status: String. `"ok"`, `"failed"` or `"timeout"`.
        headline: String. The headline row's quantity; empty unless the lab finished.
        measured: String. The headline value this run measured; empty unless the lab finished.
        reference: String. The headline row's reference value; empty unless the lab finished.
        error: String. A one-line description of what went wrong; empty when `status` is `"ok"`.
        stopped_at: Integer or None. 1-based number of the code cell the run stopped at (None when it
            finished, or when no cell had started).
        cells: Integer. Number of code cells in the lab.
    """

    name: str
    seconds: float
    status: str
    headline: str = ""
    measured: str = ""
    reference: str = ""
    error: str = ""
    stopped_at: int | None = None
    cells: int = 0


def headline_of(notebook):
    """The headline row that a lab's `dlkit.ResultsTable` left in the executed notebook, or None."""
    for cell in reversed(notebook.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RESULTS_MIME in data:
                rows = data[RESULTS_MIME].get("rows", [])
                return next((row for row in rows if row.get("headline")), rows[0] if rows else None)
    return None


def _kernel_config(ipc_dir):
    """nbclient config for a kernel that talks over local sockets instead of TCP.

    ipykernel warns "Kernel is running over TCP without encryption" for every TCP kernel. Unix-domain sockets
    are private to this user and need no encryption, so the warning goes away at its source. They live in a
    fresh folder per kernel: the socket names are `<ip>-<n>` with small `n`, so two kernels (two labs, or two
    `dlkit labs run` at once) must not share a prefix, and the path is absolute because the kernel runs in the
    lab's folder while this process may not. Windows has no IPC transport, so it keeps TCP.
    """
    from traitlets.config import Config

    if sys.platform == "win32":
        return Config()
    return Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(ipc_dir, "kernel")}})


def _code_cells(notebook):
    """Indices (into `notebook.cells`) of the code cells that nbclient will execute."""
    return [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code" and cell.source.strip()]


def _clear_outputs(notebook):
    """Removes every output the notebook was saved with, so what the run writes shows only this run."""
    # Notes from an earlier run, in case an executed notebook was saved over a lab.
    notebook.cells = [
        cell
        for cell in notebook.cells
        if not (cell.cell_type == "markdown" and cell.metadata.get(RUN_METADATA_KEY, {}).get("note"))
    ]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
            cell.metadata.pop(RUN_METADATA_KEY, None)
    notebook.metadata.pop("widgets", None)
    notebook.metadata.pop(RUN_METADATA_KEY, None)


def _mark_stop(notebook, run, stopped_index):
    """Adds markdown notes to a failed run's notebook: one at the top, one right after the cell that stopped."""
    import nbformat

    what = {"failed": "failed", "timeout": "timed out"}.get(run.status, run.status)
    where = f"at code cell {run.stopped_at} of {run.cells}" if run.stopped_at else "before any cell ran"
    error = f": `{run.error}`" if run.error else ""
    metadata = {RUN_METADATA_KEY: {"note": True}}
    if stopped_index is not None:
        note = nbformat.v4.new_markdown_cell(
            f"**`dlkit labs run` stopped here.** This cell {what}{error}. The cells below did not run, so "
            "they have no outputs."
        )
        note.metadata.update(metadata)
        notebook.cells.insert(stopped_index + 1, note)
    banner = nbformat.v4.new_markdown_cell(
        f"**This run of `{run.name}` {what} {where}**{error}. Outputs are from this run only; cells after "
        "the one that stopped have none."
    )
    banner.metadata.update(metadata)
    notebook.cells.insert(0, banner)


def _check_timeout(timeout):
    if timeout is not None and not timeout > 0:
        raise ValueError(
            f"Argument `timeout` must be a positive number of seconds or None. Received: timeout={timeout!r}"
        )


def _check_out_dir(path, out_dir):
    # Writing the executed notebook into the lab's own folder would replace the lab with this run's copy.
    if os.path.isdir(out_dir) and os.path.samefile(os.path.dirname(os.path.abspath(path)), out_dir):
        raise ValueError(
            f"Argument `out_dir` must not be the folder of the lab it runs. Received: out_dir={out_dir!r} "
            f"for lab {path!r}"
        )


def run_lab(path, out_dir, *, timeout=900, full=False, on_cell=None):
    """Executes one lab with nbclient; writes the executed notebook and an HTML rendering into `out_dir`.

    Every output stored in the lab is cleared first, so the written notebook, its HTML and the returned
    headline come from this run only. If a cell fails or times out, the run stops there: that cell shows the
    error and carries the metadata `{"dlkit_run": {"stopped_here": true}}`, the cells after it have no outputs,
    markdown notes (at the top and after that cell) say so, and the returned `LabRun` has no headline. The
    notebook's metadata `dlkit_run` records the status, the error and the code cell it stopped at.

    Args:
        path: String. The lab notebook.
        out_dir: String. Folder for `<lab>.ipynb`, `<lab>.html` and `<lab>.kernel.log` (the kernel process's
            own stdout/stderr; created if missing).
        timeout: Integer or None. Seconds allowed per cell; None for no limit.
        full: Boolean. Full-size run (sets `DLKIT_FULL_SIZE=1` for the kernel).
        on_cell: Callable or None. Called as `on_cell(number, total, source)` when a code cell starts.

    Returns:
        A `LabRun`.

    Raises:
        ValueError: on a non-positive `timeout`, or an `out_dir` that is the lab's own folder.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    _check_timeout(timeout)
    _check_out_dir(path, out_dir)
    name = lab_name(path)
    notebook = nbformat.read(path, as_version=4)
    _clear_outputs(notebook)
    code_cells = _code_cells(notebook)
    number_of = {index: number for number, index in enumerate(code_cells, 1)}
    current = {"index": None}

    def on_cell_execute(cell, cell_index):
        current["index"] = cell_index
        if on_cell is not None:
            on_cell(number_of.get(cell_index, 0), len(code_cells), cell.source)

    env_before = os.environ.get("DLKIT_FULL_SIZE")
    os.environ["DLKIT_FULL_SIZE"] = "1" if full else "0"
    os.makedirs(out_dir, exist_ok=True)
    start = time.perf_counter()
    status, error, error_name = "ok", "", ""
    try:
        # The kernel process's own stderr (TensorFlow's C++ start-up lines, written before ipykernel captures
        # output) goes to a log beside the executed notebook rather than through the progress line.
        with (
            tempfile.TemporaryDirectory(prefix="dlkit-kernel-") as ipc_dir,
            open(os.path.join(out_dir, name + ".kernel.log"), "wb") as kernel_log,
        ):
            client = NotebookClient(
                notebook,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
                config=_kernel_config(ipc_dir),
                # By the time the kernel is shut down every output is in the notebook. A graceful shutdown
                # first interrupts a cell that timed out, which then records a KeyboardInterrupt from the
                # kernel instead of the timeout, and waits up to 5 s more; killing the kernel does neither.
                shutdown_kernel="immediate",
                on_cell_execute=on_cell_execute,
            )
            client.execute(stdout=kernel_log, stderr=kernel_log)
    except CellTimeoutError as exc:
        status, error_name, error = "timeout", type(exc).__name__, str(exc).strip().splitlines()[0]
    except CellExecutionError as exc:
        status, error_name = "failed", exc.ename
        error = f"{exc.ename}: {exc.evalue}" if exc.evalue else exc.ename
    except (DeadKernelError, RuntimeError) as exc:
        # A dead kernel, or one that never started (nbclient raises RuntimeError when it does not answer).
        status, error_name = "failed", type(exc).__name__
        error = f"{error_name}: {exc}" if str(exc) else error_name
    finally:
        if env_before is None:
            os.environ.pop("DLKIT_FULL_SIZE", None)
        else:
            os.environ["DLKIT_FULL_SIZE"] = env_before
    seconds = time.perf_counter() - start
    run = LabRun(name=name, seconds=seconds, status=status, error=error, cells=len(code_cells))
    stopped_index = current["index"] if status != "ok" else None
    if stopped_index is not None:
        run.stopped_at = number_of.get(stopped_index)
        cell = notebook.cells[stopped_index]
        cell.metadata[RUN_METADATA_KEY] = {"stopped_here": True}
        # nbclient records the error output of a failing cell, but not of a timeout or a kernel death.
        if not any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            cell.outputs.append(
                nbformat.v4.new_output("error", ename=error_name, evalue=error, traceback=[error])
            )
    notebook.metadata[RUN_METADATA_KEY] = {
        "status": status,
        "error": error,
        # Counted like the table and the progress line (code cells, from 1), which the notes inserted below
        # do not shift; the cell itself carries `{"stopped_here": true}`.
        "stopped_at_code_cell": run.stopped_at,
        "full_size": bool(full),
    }
    if status == "ok":
        row = headline_of(notebook)
        if row:
            run.headline, run.measured, run.reference = row["quantity"], row["measured"], row["reference"]
    else:
        _mark_stop(notebook, run, stopped_index)
    write_atomic(os.path.join(out_dir, name + ".ipynb"), nbformat.writes(notebook) + "\n")
    _write_html(notebook, os.path.join(out_dir, name + ".html"))
    return run


def run_labs(paths, out_dir, *, timeout=900, full=False, progress=None):
    """Runs each lab in `paths` with `run_lab`, reporting to `progress` (a `Progress`, or None for silence).

    Returns:
        A list of `LabRun`, one per lab, in order.

    Raises:
        ValueError: on a non-positive `timeout`, or an `out_dir` that is one of the labs' folders (both
            checked before any lab runs).
    """
    _check_timeout(timeout)
    for path in paths:
        _check_out_dir(path, out_dir)
    runs = []
    try:
        for index, path in enumerate(paths, 1):
            name = lab_name(path)
            if progress is not None:
                progress.lab_started(index, len(paths), name)
            run = run_lab(
                path,
                out_dir,
                timeout=timeout,
                full=full,
                on_cell=progress.cell_started if progress is not None else None,
            )
            if progress is not None:
                progress.lab_finished(run)
            runs.append(run)
    finally:
        if progress is not None:
            progress.close()
    return runs


def _write_html(notebook, path):
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(notebook)
    write_atomic(path, body)


def format_table(runs):
    """The table `dlkit labs run` prints: lab, seconds, status, headline result vs reference.

    A lab that failed or timed out shows `—` for its result (never a number from an earlier run); the lines
    under the table say where and why it stopped.
    """
    header = ("lab", "seconds", "status", "headline result", "measured", "reference")
    rows = [
        (
            r.name,
            f"{r.seconds:.1f}",
            r.status,
            r.headline or MISSING,
            r.measured or MISSING,
            r.reference or MISSING,
        )
        for r in runs
    ]
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(header)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    for r in runs:
        if r.status != "ok" or r.error:
            where = f" at cell {r.stopped_at} of {r.cells}" if r.stopped_at else ""
            lines.append(f"{r.name}: {r.status}{where}: {r.error or 'no error message'}")
    return "\n".join(lines)
