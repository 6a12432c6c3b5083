"""`run_sandboxed`: executes a notebook's code cells in a separate process, isolated by bubblewrap, with a
wall-clock timeout and limits on memory, CPU time and file size.

The grader (parent) starts this file as a script, the *runner*, in a new session with its output discarded;
by default inside a bubblewrap sandbox (`dlkit.grading.bwrap`: its own file system view, user, PID and
network namespaces, an allow-listed environment; everything it starts dies with it). The runner reads its
cells from stdin (they never touch the disk it can see), sets its own limits (`RLIMIT_AS`, `RLIMIT_CPU`,
`RLIMIT_FSIZE`), then runs the cells one by one in an IPython shell (magics work; an error in a cell does not
stop the next one, like nbclient's `allow_errors`) and reports each cell's error name to a progress file. The
parent kills the whole session at the wall-clock limit. Hidden tests append their values to the record file
named by `DLKIT_GRADING_RECORD` as they run, so whatever ends the run (timeout, `os._exit`, a crash,
`MemoryError`), the values recorded so far stay on disk. Those two files are the run's only way out.

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

MAX_ERROR_TEXT = 1000  # a cell's error as the progress file reports it (the student's message is cut to 600)
MAX_PROGRESS_BYTES = 4 * 1024 * 1024
FILE_MB = 256  # RLIMIT_FSIZE: the largest file a run may write (the record file included)
CPU_PER_WALL_SECOND = 2  # RLIMIT_CPU per process = this x the wall-clock timeout (TensorFlow runs 2+ threads)
SIGNAL_STATUS = {signal.SIGXCPU: "cpu limit"} if hasattr(signal, "SIGXCPU") else {}


@dataclasses.dataclass
class SandboxRun:
    """What one sandboxed run left behind.

    status: "ok" (every cell ran), "timeout", "memory limit" (a cell raised MemoryError), "cpu limit" (killed
    by RLIMIT_CPU) or "kernel died".
    record_path: the JSON-lines record file (read it before `cleanup`).
    errors: {cell index: "Name: message"} for each cell whose output holds an error.
    executed: the indices of cells that finished.
    sandbox: "bwrap" (isolated) or "none" (`sandbox=False`: the grader's user, files and network).
    """

    status: str
    record_path: str
    errors: dict
    executed: set
    seconds: float
    workdir: str
    detail: str = ""
    sandbox: str = "bwrap"

    def cleanup(self):
        import shutil

        shutil.rmtree(self.workdir, ignore_errors=True)


def _kill(process):
    """Kills the runner's session (bwrap or the runner if still there, and what it started); POSIX, else the
    runner."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except OSError:  # already gone
        pass


def _command(workdir, sandbox, extra_env):
    """(argv, cwd, env, progress file as the runner sees it) of a run, sandboxed or not."""
    from dlkit.grading.records import RECORD_ENV  # here, not at the top: the runner imports only the stdlib

    runner = [sys.executable, os.path.abspath(__file__)]
    env = {**(extra_env or {}), "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
    if sandbox:
        from dlkit.grading import bwrap

        env.update({RECORD_ENV: bwrap.INSIDE_RECORD, "IPYTHONDIR": "/tmp/ipython"})
        argv = bwrap.build_command(bwrap.check_sandbox(), workdir, runner)
        return argv, workdir, bwrap.sandbox_env(env), bwrap.INSIDE_PROGRESS
    # --no-sandbox: the old way, with the grader's whole environment.
    env.update(
        {RECORD_ENV: os.path.join(workdir, "record.jsonl"), "IPYTHONDIR": os.path.join(workdir, "ipython")}
    )
    os.makedirs(os.path.join(workdir, "run"))
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", **os.environ, **env}
    return runner, os.path.join(workdir, "run"), env, os.path.join(workdir, "progress.jsonl")


def run_sandboxed(
    notebook, *, timeout, memory_mb, extra_env=None, sandbox=True, cpu_seconds=None, file_mb=FILE_MB
):
    """Runs the code cells of `notebook` (an nbformat node; not changed) in a fresh runner process.

    Sandboxed (the default), the run sees only what `dlkit.grading.bwrap` binds and a private `/tmp/run` as its
    working folder and HOME; `DLKIT_GRADING_RECORD` names its record file. With `sandbox=False` it runs as
    before: the grader's user, environment, files and network, in a new temporary working folder.

    Args:
        notebook: nbformat v4 node.
        timeout: Float > 0. Wall-clock seconds for the whole run, interpreter start included.
        memory_mb: Integer > 0 or None. Address-space limit of the run (POSIX `RLIMIT_AS`).
        extra_env: dict or None. More environment variables for the run.
        sandbox: Boolean. Run inside bubblewrap.
        cpu_seconds: Number > 0 or None. CPU-time limit per process (`RLIMIT_CPU`); None: 2 x `timeout`.
        file_mb: Integer > 0 or None. Largest file the run may write (`RLIMIT_FSIZE`).

    Returns:
        A `SandboxRun`; call its `cleanup()` when done with the record file.

    Raises:
        dlkit.grading.bwrap.SandboxUnavailableError: if `sandbox` and bubblewrap cannot start here.
    """
    from dlkit.grading.records import RECORD_ENV

    cells, guard = _cells_and_guard(
        notebook
    )  # before the folder: a bad `dlkit.forbidden` leaves nothing behind
    workdir = tempfile.mkdtemp(prefix="dlkit-grade-")
    try:
        record_path = os.path.join(workdir, "record.jsonl")
        progress_path = os.path.join(workdir, "progress.jsonl")
        for path in (record_path, progress_path):
            open(path, "w").close()
        argv, cwd, env, progress_inside = _command(workdir, sandbox, extra_env)
    except BaseException:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
        raise
    cpu_seconds = CPU_PER_WALL_SECOND * float(timeout) if cpu_seconds is None else cpu_seconds
    limits = {"memory_mb": memory_mb, "cpu_seconds": cpu_seconds, "file_mb": file_mb}
    spec = {"cells": cells, "progress": progress_inside, "record": env[RECORD_ENV], "guard": guard, **limits}
    spec = json.dumps(spec).encode("utf-8")
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        process.communicate(spec, timeout=float(timeout))
        killed = False
    except subprocess.TimeoutExpired:
        killed = True
    finally:
        # Kills bwrap's session; its --die-with-parent then ends the PID namespace, with every process in it.
        _kill(process)
        process.wait()
        if process.stdin:
            process.stdin.close()
    seconds = time.perf_counter() - start
    status, detail, errors, executed = _read_progress(progress_path)
    code = process.returncode
    signum = -code if code < 0 else code - 128 if sandbox and code > 128 else 0  # bwrap exits 128 + signal
    if killed:
        status, detail = "timeout", f"still running after {timeout:g} s"
    elif signum in SIGNAL_STATUS:
        status, detail = SIGNAL_STATUS[signum], f"more than {cpu_seconds:g} s of CPU time in one process"
    elif status is None:
        status, detail = "kernel died", f"the process ended early (exit code {code})"
    mode = "bwrap" if sandbox else "none"
    return SandboxRun(status, record_path, errors, executed, seconds, workdir, detail, mode)


def _cells_and_guard(notebook):
    """The runner's cells, [index, source, trusted] (trusted: not a student's solution cell), and the answer
    guard's settings (`dlkit.grading.answer_guard`), or None when no check cell forbids a function."""
    from dlkit.grading.lab_format import forbidden_names, is_check_cell, is_solution_cell, nbgrader_meta

    cells, checks, forbidden = [], {}, {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        cells.append([index, cell.source, not is_solution_cell(cell)])
        if is_check_cell(cell):
            grade_id = str(nbgrader_meta(cell).get("grade_id") or f"cell {index}")
            checks[index] = grade_id
            names = forbidden_names(cell, index)
            if names:
                forbidden[grade_id] = names
    return cells, ({"check_cells": checks, "forbidden": forbidden} if forbidden else None)


def _read_progress(path):
    from dlkit.grading.records import read_run_file

    status, detail, errors, executed = None, "", {}, set()
    for line in read_run_file(path, MAX_PROGRESS_BYTES).splitlines():
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):  # deeply nested JSON raises RecursionError
            continue
        if not isinstance(event, dict):
            continue
        if isinstance(event.get("cell"), int):
            executed.add(event["cell"])
            if event.get("error"):
                errors[event["cell"]] = str(event["error"])[:MAX_ERROR_TEXT]
        elif isinstance(event.get("status"), str):
            status, detail = event["status"][:40], str(event.get("detail", ""))[:MAX_ERROR_TEXT]
    return status, detail, errors, executed


def _set_limits(spec):
    """The run's limits, set in the runner itself before any cell (its children inherit them)."""
    if sys.platform == "win32":
        return
    import resource

    def limit(which, soft, hard):
        ceiling = resource.getrlimit(which)[1]  # a limit can only be lowered: stay under the grader's own
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(which, (soft, hard))

    if spec["memory_mb"]:
        size = int(spec["memory_mb"]) * 1024 * 1024
        limit(resource.RLIMIT_AS, size, size)
    if spec["cpu_seconds"]:
        # Soft limit: SIGXCPU ends the process; the hard one (SIGKILL) a few seconds later if it is caught.
        seconds = max(1, int(spec["cpu_seconds"]))
        limit(resource.RLIMIT_CPU, seconds, seconds + 5)
    if spec["file_mb"]:
        size = int(spec["file_mb"]) * 1024 * 1024
        limit(resource.RLIMIT_FSIZE, size, size)
    limit(resource.RLIMIT_CORE, 0, 0)  # a crash (or SIGXCPU) leaves no core file


def _runner():
    """The runner process: reads its spec from stdin, executes the cells in an IPython shell and reports to the
    progress file."""
    spec = json.loads(sys.stdin.buffer.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # a cell reading stdin gets end-of-file, as before
    os.close(devnull)
    _set_limits(spec)
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
    guard = None
    if spec.get("guard"):
        try:
            from dlkit.grading.answer_guard import AnswerGuard, tracking_compiler

            checks = {int(index): grade_id for index, grade_id in spec["guard"]["check_cells"].items()}
            guard = AnswerGuard(spec["record"], checks, spec["guard"]["forbidden"]).install()
            shell.compile = tracking_compiler(guard)()
        except BaseException as error:
            report(status="kernel died", detail=f"the answer guard failed: {type(error).__name__}: {error}")
            os._exit(1)
    status, detail = "ok", ""
    for index, source, trusted in spec["cells"]:
        if guard:
            guard.begin_cell(index, trusted)
        result = shell.run_cell(source, store_history=False)
        if guard:
            guard.end_cell(index)
        error = result.error_before_exec or result.error_in_exec
        report(cell=index, error=f"{type(error).__name__}: {error}"[:MAX_ERROR_TEXT] if error else None)
        if isinstance(error, MemoryError):
            status, detail = "memory limit", f"cell {index} raised MemoryError"
            break
    report(status=status, detail=detail)
    progress.close()
    os._exit(0)  # skip atexit hooks and thread joins a cell may have left behind


if __name__ == "__main__":
    _runner()
