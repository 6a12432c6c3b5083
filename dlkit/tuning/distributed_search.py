"""Runs one keras-tuner search as a chief process plus worker processes on this machine ("caviar" tuning)."""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from dlkit._checks import check_float, check_int

_POLL_SECONDS = 0.1
# Started as a file: a bare Python process starts in well under a second, so failures and time-outs show up fast.
_ENTRY_POINT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_search_process.py")


def _free_port(host):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _tail(path, num_chars=1500):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()[-num_chars:]
    except OSError:
        return ""


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


class DistributedSearch:
    """Runs one keras-tuner search as a chief (the oracle) plus `num_workers` workers (the trials) on loopback.

    keras-tuner's distributed mode: every process runs the same search script; the environment tells it its role.

        KERASTUNER_ORACLE_IP=127.0.0.1  KERASTUNER_ORACLE_PORT=<free port>
        KERASTUNER_TUNER_ID=chief    -> serves the oracle over gRPC, hands out trials, records results
        KERASTUNER_TUNER_ID=tuner<i> -> asks the chief for a trial, trains it, reports the score, repeats

    On a cluster the same variables go to one process per machine (the chief's IP instead of 127.0.0.1). Here each
    process gets its own subdirectory of a temporary directory (like a machine's own disk); the chief's holds the
    oracle's `trial_*/trial.json` files, which `run` reads back.

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
        port: Integer in [1, 65535] or None (None: a free port).

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
                f"Argument `target_kwargs` must be JSON-serializable. Received: {target_kwargs!r}"
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

    def _launch(self, tuner_id, root, port):
        env = dict(os.environ)
        env.update(
            KERASTUNER_TUNER_ID=tuner_id,
            KERASTUNER_ORACLE_IP=self.host,
            KERASTUNER_ORACLE_PORT=str(port),
            PYTHONUNBUFFERED="1",
            TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        )
        threads = self.threads_per_worker
        command = [
            sys.executable,
            _ENTRY_POINT,
            self.target,
            os.path.join(root, tuner_id),
            self._kwargs_json,
            str(threads),
        ]
        log = open(os.path.join(root, tuner_id + ".log"), "w", encoding="utf-8")  # noqa: SIM115 - closed in run
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        return process, log

    def run(self):
        """Runs the search and returns its trials.

        Returns:
            Dict with `trials` (list of dicts with `trial_id`, `status`, `score`, `hyperparameters` and `worker`,
            the worker that saved files for the trial or None, sorted by id), `wall_seconds` (launch to last worker done, Python and TensorFlow start-up included),
            `search_seconds` (first trial created to last worker done: the trials without start-up), `num_workers`
            and `directory` (None if the temporary directory was removed).

        Raises:
            RuntimeError: if a process fails or `timeout` passes; every process is stopped first and the message
                holds the end of each process's log.
        """
        temporary = self.directory is None
        root = tempfile.mkdtemp(prefix="dlkit_tuning_") if temporary else self.directory
        os.makedirs(root, exist_ok=True)
        port = self.port or _free_port(self.host)
        processes, logs, names = [], [], ["chief"] + [f"tuner{i}" for i in range(self.num_workers)]
        start = time.perf_counter()
        try:
            for name in names:
                process, log = self._launch(name, root, port)
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
        first_trial = None
        trial_pattern = os.path.join(root, "chief", "*", "trial_*")
        while True:
            if first_trial is None and glob.glob(trial_pattern):
                first_trial = time.perf_counter()
            failed = [
                (n, p.returncode) for n, p in zip(names, processes, strict=True) if p.poll() not in (None, 0)
            ]
            if failed:
                self._fail(processes, names, root, f"process failed: {failed}")
            if all(w.poll() == 0 for w in workers):
                end = time.perf_counter()
                wall_seconds = end - start
                search_seconds = end - (first_trial if first_trial is not None else start)
                break
            if time.monotonic() > deadline:
                self._fail(processes, names, root, f"timed out after {self.timeout:g} s")
            time.sleep(_POLL_SECONDS)
        # The chief may exit (rc 0) while workers are still shutting down; a chief that stopped early shows up as
        # workers that never finish, i.e. the timeout. Once every worker is done, each trial has ended (the worker's
        # last end_trial call returned), so the chief's files are complete.
        # keras-tuner's chief re-checks for exit only every 20 s, so stop it instead of waiting.
        try:
            chief.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            _stop([chief])
        return wall_seconds, search_seconds

    def _fail(self, processes, names, root, reason):
        _stop(processes)
        logs = "\n".join(f"--- {n}.log ---\n{_tail(os.path.join(root, n + '.log'))}" for n in names)
        raise RuntimeError(f"Distributed search {reason} (files kept in {root}).\n{logs}")

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
                    "worker": worker_of.get(state["trial_id"]),
                }
            )
        return sorted(trials, key=lambda t: (len(t["trial_id"]), t["trial_id"]))
