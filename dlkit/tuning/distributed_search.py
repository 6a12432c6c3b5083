"""Runs one keras-tuner search as a chief process plus worker processes on this machine ("caviar" tuning)."""

import contextlib
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from dlkit._checks import check_float, check_int

_POLL_SECONDS = 0.1
# Started as a file: a bare Python process starts in well under a second, so failures and time-outs show up fast.
_ENTRY_POINT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_search_process.py")
# The chief writes the port it listens on here (in the search's directory); see `_search_process`.
_PORT_FILE = "chief.port"
# Characters of log shown in an error: more for the processes at fault than for the others.
_LONG_TAIL, _SHORT_TAIL = 3000, 800


def _tail(path, num_chars):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()[-num_chars:]
    except OSError:
        return ""


def _read_port(path):
    # The chief writes the file by renaming a complete one into place, so it is absent or whole.
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def _close_stdin(process):
    try:
        process.stdin.close()
    except OSError:  # the process is gone and the pipe broken: nothing left to close
        pass


def _stop(processes):
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 5.0
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        _close_stdin(process)


class DistributedSearch:
    """Runs one keras-tuner search as a chief (the oracle) plus `num_workers` workers (the trials) on loopback.

    keras-tuner's distributed mode: every process runs the same search script; the environment tells it its role.

        KERASTUNER_ORACLE_IP=127.0.0.1  KERASTUNER_ORACLE_PORT=<port>
        KERASTUNER_TUNER_ID=chief    -> serves the oracle over gRPC, hands out trials, records results
        KERASTUNER_TUNER_ID=tuner<i> -> asks the chief for a trial, trains it, reports the score, repeats

    On a cluster the same variables go to one process per machine (the chief's IP instead of 127.0.0.1). Here each
    process gets its own subdirectory of a temporary directory (like a machine's own disk); the chief's holds the
    oracle's `trial_*/trial.json` files, which `run` reads back.

    Unlike keras-tuner's own chief, which stops serving once no worker it has heard from holds a trial (a worker
    still starting up then finds no chief), the chief here listens before any worker asks (workers get its port
    once it listens) and keeps serving until every worker has exited; a worker that arrives after the last trial
    is told the search is over and ends normally. Any process that fails ends the search at once.

    `target` names a module-level function `search(directory, **target_kwargs)` that builds a tuner with
    `directory=directory` and calls `tuner.search(...)`. It must be importable by a fresh Python process:
    `"package.module:function"` or `"/path/to/file.py:function"`.

    Example:

    >>> search = DistributedSearch("dlkit.tuning.examples:moons_search", num_workers=2,
    ...                            target_kwargs={"max_trials": 8})
    >>> result = search.run()
    >>> [t["status"] for t in result["trials"]], result["wall_seconds"]

    Reference: O'Malley et al., KerasTuner (2019), "Distributed tuning" guide.

    Args:
        target: String. `"module:function"` or `"file.py:function"`.
        num_workers: Integer >= 1. Worker processes (trials run in parallel).
        target_kwargs: Dict of JSON-serializable keyword arguments for `target` (e.g. `max_trials`, `seed`).
        directory: String or None. Where the processes write; None: a new `tempfile.mkdtemp()`, removed after a
            successful run unless `keep_directory`.
        keep_directory: Boolean. Keep the temporary directory after a successful run.
        threads_per_worker: Integer >= 0. TensorFlow threads per process (0: TensorFlow's default).
        timeout: Float > 0. Seconds before every process is stopped and `run` raises.
        host: String. The chief's address.
        port: Integer in [1, 65535] or None (None: the chief binds a free port chosen by the system).

    Raises:
        ValueError: on an argument of the wrong type or out of range.
    """

    def __init__(
        self,
        target,
        num_workers=2,
        *,
        target_kwargs=None,
        directory=None,
        keep_directory=False,
        threads_per_worker=0,
        timeout=300.0,
        host="127.0.0.1",
        port=None,
    ):
        if not isinstance(target, str) or ":" not in target or target.endswith(":"):
            raise ValueError(
                f"Argument `target` must be 'module:function' or 'file.py:function'. Received: target={target!r}"
            )
        self.target = target
        self.num_workers = check_int("num_workers", num_workers, minimum=1)
        self.target_kwargs = dict(target_kwargs or {})
        try:
            self._kwargs_json = json.dumps(self.target_kwargs)
        except TypeError as error:
            raise ValueError(
                f"Argument `target_kwargs` must be JSON-serializable. Received: target_kwargs={target_kwargs!r}"
            ) from error
        if directory is not None and not isinstance(directory, str | os.PathLike):
            raise ValueError(
                f"Argument `directory` must be a path or None. Received: directory={directory!r}"
            )
        self.directory = None if directory is None else os.fspath(directory)
        self.keep_directory = bool(keep_directory)
        self.threads_per_worker = check_int("threads_per_worker", threads_per_worker, minimum=0)
        self.timeout = check_float("timeout", timeout, minimum=0.0, min_inclusive=False)
        if not isinstance(host, str) or not host:
            raise ValueError(f"Argument `host` must be a non-empty string. Received: host={host!r}")
        self.host = host
        self.port = None if port is None else check_int("port", port, minimum=1, maximum=65535)

    def _launch(self, tuner_id, root):
        env = dict(os.environ)
        env.update(
            KERASTUNER_TUNER_ID=tuner_id,
            KERASTUNER_ORACLE_IP=self.host,
            PYTHONUNBUFFERED="1",
            TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        )
        # A worker learns the port on its stdin once the chief listens; a stale value must not leak to it.
        env.pop("KERASTUNER_ORACLE_PORT", None)
        if tuner_id == "chief":
            env["KERASTUNER_ORACLE_PORT"] = str(self.port or 0)
        command = [
            sys.executable,
            _ENTRY_POINT,
            self.target,
            os.path.join(root, tuner_id),
            self._kwargs_json,
            str(self.threads_per_worker),
            os.path.join(root, _PORT_FILE),
        ]
        log = open(os.path.join(root, tuner_id + ".log"), "w", encoding="utf-8")  # noqa: SIM115 - closed in run
        # stdin is a pipe that stays open while this process lives: it carries the port to the workers, its
        # closing releases the chief, and if this process dies every child sees end of file and ends too.
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.PIPE
        )
        return process, log

    def run(self):
        """Runs the search and returns its trials.

        Returns:
            Dict with `trials` (list of dicts with `trial_id`, `status`, `score`, `hyperparameters`, `message`
            (keras-tuner's error message for a failed trial, else None) and `worker`, the worker that saved files
            for the trial or None, sorted by id), `wall_seconds` (launch to last worker done, Python and
            TensorFlow start-up included), `search_seconds` (first trial created to last worker done: the trials
            without start-up), `num_workers` and `directory` (None if the temporary directory was removed).

        Raises:
            RuntimeError: if a process fails (a worker exits with a non-zero code, the chief exits before every
                worker is done or reports an unfinished search) or `timeout` passes; every process is stopped
                first and the message names the process and holds the end of its log (and of the others').
        """
        temporary = self.directory is None
        root = tempfile.mkdtemp(prefix="dlkit_tuning_") if temporary else self.directory
        os.makedirs(root, exist_ok=True)
        # A port file left by an earlier search in the same directory would send the workers to a dead chief.
        for stale in (_PORT_FILE, _PORT_FILE + ".partial"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(root, stale))
        processes, logs, names = [], [], ["chief"] + [f"tuner{i}" for i in range(self.num_workers)]
        start = time.perf_counter()
        try:
            for name in names:
                process, log = self._launch(name, root)
                processes.append(process)
                logs.append(log)
            wall_seconds, search_seconds = self._wait(processes, names, root, start)
        except BaseException:
            _stop(processes)
            raise
        finally:
            for log in logs:
                log.close()
        trials = self._read_trials(root, names[1:])
        if temporary and not self.keep_directory:
            shutil.rmtree(root, ignore_errors=True)
            root = None
        return {
            "trials": trials,
            "wall_seconds": wall_seconds,
            "search_seconds": search_seconds,
            "num_workers": self.num_workers,
            "directory": root,
        }

    def _wait(self, processes, names, root, start):
        chief, workers = processes[0], processes[1:]
        deadline = time.monotonic() + self.timeout
        port_file = os.path.join(root, _PORT_FILE)
        port = None
        first_trial = None
        trial_pattern = os.path.join(root, "chief", "*", "trial_*")
        while True:
            if port is None:
                port = _read_port(port_file)
                if port is not None:
                    for worker in workers:
                        # A worker that already died shows up below through its exit code.
                        with contextlib.suppress(OSError):
                            worker.stdin.write(f"{port}\n".encode("ascii"))
                            worker.stdin.flush()
            # Only once the chief listens: by then its tuner has replaced any trials an earlier search left in
            # a reused directory (overwrite=True), so the first trial folder is this search's.
            if port is not None and first_trial is None and glob.glob(trial_pattern):
                first_trial = time.perf_counter()
            failed = [n for n, w in zip(names[1:], workers, strict=True) if w.poll() not in (None, 0)]
            # The chief serves until released below, so its exit before that is a failure whatever its code.
            if chief.poll() is not None:
                failed.insert(0, "chief")
            if failed:
                self._fail(processes, names, root, failed, "before every worker was done")
            if all(w.poll() == 0 for w in workers):
                end = time.perf_counter()
                break
            if time.monotonic() > deadline:
                self._timeout(processes, names, root)
            time.sleep(_POLL_SECONDS)
        wall_seconds = end - start
        search_seconds = end - (first_trial if first_trial is not None else start)
        # Every worker has ended, so no one will ask the chief for anything: release it; it checks that the search
        # finished (no trial left running) and exits.
        _close_stdin(chief)
        try:
            chief.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._timeout(processes, names, root)
        if chief.returncode != 0:
            self._fail(processes, names, root, ["chief"], "after its workers were done")
        return wall_seconds, search_seconds

    def _timeout(self, processes, names, root):
        running = [n for n, p in zip(names, processes, strict=True) if p.poll() is None]
        _stop(processes)
        raise RuntimeError(
            f"Distributed search timed out after {self.timeout:g} s; still running: {', '.join(running)} "
            f"(files kept in {root}).\n{self._logs(root, names, running)}"
        )

    def _fail(self, processes, names, root, failed, when):
        codes = {n: p.returncode for n, p in zip(names, processes, strict=True)}
        _stop(processes)
        what = "; ".join(f"{n} exited with code {codes[n]}" for n in failed)
        raise RuntimeError(
            f"Distributed search failed: {what} {when} (files kept in {root}).\n{self._logs(root, names, failed)}"
        )

    @staticmethod
    def _logs(root, names, first):
        # The processes at fault first and at more length: their traceback is what the reader needs.
        order = list(first) + [n for n in names if n not in first]
        return "\n".join(
            f"--- {n}.log (last {_LONG_TAIL if n in first else _SHORT_TAIL} characters) ---\n"
            f"{_tail(os.path.join(root, n + '.log'), _LONG_TAIL if n in first else _SHORT_TAIL)}"
            for n in order
        )

    @staticmethod
    def _read_trials(root, worker_names):
        # A worker that saves anything for a trial (e.g. Keras checkpoints) does so in its own trial_<id> folder.
        worker_of = {}
        for name in worker_names:
            for path in glob.glob(os.path.join(root, name, "*", "trial_*")):
                worker_of[os.path.basename(path).removeprefix("trial_")] = name
        trials = []
        for path in glob.glob(os.path.join(root, "chief", "*", "trial_*", "trial.json")):
            with open(path, encoding="utf-8") as f:
                state = json.load(f)
            trials.append(
                {
                    "trial_id": state["trial_id"],
                    "status": state["status"],
                    "score": state.get("score"),
                    "hyperparameters": dict(state["hyperparameters"]["values"]),
                    "message": state.get("message"),
                    "worker": worker_of.get(state["trial_id"]),
                }
            )
        return sorted(trials, key=lambda t: (len(t["trial_id"]), t["trial_id"]))
