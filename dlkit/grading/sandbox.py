"""`run_sandboxed`: executes a notebook's code cells in a separate process with a wall-clock timeout and a
memory limit.

The grader (parent) starts this file as a script, the *runner*, in a new session with its output discarded. The
runner limits its own address space (POSIX `RLIMIT_AS`), then runs the code cells one by one in an IPython
shell (magics work; an error in a cell does not stop the next one, like nbclient's `allow_errors`) and reports
each cell's error name to a progress file. The parent kills the whole session at the wall-clock limit. Hidden
tests append their values to the record file named by `DLKIT_GRADING_RECORD` as they run, so whatever ends
the run (timeout, `os._exit`, a crash, `MemoryError`), the values recorded so far stay on disk.

The runner is the student's process, so the progress file is advisory (it only words the feedback); points
come from the recorded values alone, compared in the parent (see docs/grading.md).

This module must stay importable without the `dlkit` package (the runner runs it by path, which keeps its
start-up light): standard library only at the top.
"""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

RECORD_ENV = "DLKIT_GRADING_RECORD"
MAX_ERROR_TEXT = 300


@dataclasses.dataclass
class SandboxRun:
    """What one sandboxed run left behind.

    status: "ok" (every cell ran), "timeout", "memory limit" (a cell raised MemoryError) or "kernel died".
    record_path: the JSON-lines record file (read it before `cleanup`).
    errors: {cell index: "Name: message"} for each cell whose output holds an error.
    executed: the indices of cells that finished.
    """

    status: str
    record_path: str
    errors: dict
    executed: set
    seconds: float
    workdir: str
    detail: str = ""

    def cleanup(self):
        import shutil

        shutil.rmtree(self.workdir, ignore_errors=True)


def _kill(process):
    """Kills the runner's session (the runner if still there, and what it started); POSIX, else the runner."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except OSError:  # already gone
        pass


def run_sandboxed(notebook, *, timeout, memory_mb, extra_env=None):
    """Runs the code cells of `notebook` (an nbformat node; not changed) in a fresh runner process.

    The run happens in a new temporary folder (the working directory; IPython's folder too), with
    `DLKIT_GRADING_RECORD` pointing to a fresh file there.

    Args:
        notebook: nbformat v4 node.
        timeout: Float > 0. Wall-clock seconds for the whole run, interpreter start included.
        memory_mb: Integer > 0 or None. Address-space limit of the run (POSIX `RLIMIT_AS`).
        extra_env: dict or None. More environment variables for the run.

    Returns:
        A `SandboxRun`; call its `cleanup()` when done with the record file.
    """
    workdir = tempfile.mkdtemp(prefix="dlkit-grade-")
    run_dir = os.path.join(workdir, "run")
    os.makedirs(run_dir)
    progress_path = os.path.join(workdir, "progress.jsonl")
    record_path = os.path.join(workdir, "record.jsonl")
    spec_path = os.path.join(workdir, "spec.json")
    open(record_path, "w").close()
    cells = [[index, cell.source] for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    with open(spec_path, "w", encoding="utf-8") as f:
        json.dump({"cells": cells, "progress": progress_path, "memory_mb": memory_mb}, f)
    env = dict(os.environ)
    env.update(extra_env or {})
    env.update(
        {
            RECORD_ENV: record_path,
            "IPYTHONDIR": os.path.join(workdir, "ipython"),
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), spec_path],
        cwd=run_dir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        process.wait(timeout=float(timeout))
        killed = False
    except subprocess.TimeoutExpired:
        killed = True
    _kill(process)
    process.wait()
    seconds = time.perf_counter() - start
    status, detail, errors, executed = _read_progress(progress_path)
    if killed:
        status, detail = "timeout", f"still running after {timeout:g} s"
    elif status is None:
        status, detail = "kernel died", f"the process ended early (exit code {process.returncode})"
    return SandboxRun(status, record_path, errors, executed, seconds, workdir, detail)


def _read_progress(path):
    status, detail, errors, executed = None, "", {}, set()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read(16 * 1024 * 1024).splitlines()
    except OSError:
        return status, detail, errors, executed
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if isinstance(event.get("cell"), int):
            executed.add(event["cell"])
            if event.get("error"):
                errors[event["cell"]] = str(event["error"])[:MAX_ERROR_TEXT]
        elif isinstance(event.get("status"), str):
            status, detail = event["status"], str(event.get("detail", ""))[:MAX_ERROR_TEXT]
    return status, detail, errors, executed


def _runner(spec_path):
    """The runner process: executes the spec's cells in an IPython shell and reports to the progress file."""
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    os.remove(spec_path)  # the cells (hidden tests included) are not left on disk for the run to read
    if spec["memory_mb"] and sys.platform != "win32":
        import resource

        limit = int(spec["memory_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    progress = open(spec["progress"], "a", encoding="utf-8", buffering=1)

    def report(**event):
        progress.write(json.dumps(event) + "\n")
        progress.flush()

    try:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        shell = InteractiveShell.instance(config=config)
    except BaseException as error:  # e.g. MemoryError under too small a limit
        report(status="kernel died", detail=f"the shell failed to start: {type(error).__name__}: {error}")
        os._exit(1)
    status, detail = "ok", ""
    for index, source in spec["cells"]:
        result = shell.run_cell(source, store_history=False)
        error = result.error_before_exec or result.error_in_exec
        report(cell=index, error=f"{type(error).__name__}: {error}"[:MAX_ERROR_TEXT] if error else None)
        if isinstance(error, MemoryError):
            status, detail = "memory limit", f"cell {index} raised MemoryError"
            break
    report(status=status, detail=detail)
    progress.close()
    os._exit(0)  # skip atexit hooks and thread joins a cell may have left behind


if __name__ == "__main__":
    _runner(sys.argv[1])
