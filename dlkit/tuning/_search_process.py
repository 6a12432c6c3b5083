"""Entry point of one process of a `DistributedSearch`, run as a script (not `-m`, which would import dlkit first).

    python .../dlkit/tuning/_search_process.py TARGET DIRECTORY KWARGS_JSON THREADS PORT_FILE

keras-tuner reads the process's role from `KERASTUNER_TUNER_ID` ("chief" serves the oracle, any other id runs
trials), so every process runs the same TARGET, exactly as the same script would run on each machine of a cluster.

keras-tuner's own chief stops serving as soon as the oracle has handed out its last trial and no worker *it has
heard from* holds one; a worker that was still starting (importing TensorFlow) then finds no chief and dies with
gRPC UNAVAILABLE, or waits an hour for it. So the lifetime of every process is tied to the parent instead:

- chief: serves the oracle on `KERASTUNER_ORACLE_IP:KERASTUNER_ORACLE_PORT` (port 0: any free port, chosen by the
  kernel when it binds, so no other process can take it in between), writes the port it listens on to PORT_FILE,
  and keeps serving until its stdin closes: the parent closes it once every worker has exited 0, or the parent
  died. It then checks that the search really finished and exits 1 if it did not.
  If its stdin closes before it serves, the parent died: it exits with code 3 at once.
- worker: imports the target's module (the slow part: TensorFlow), then reads the chief's port from the first
  line of stdin (sent once the chief listens) and runs the target. It exits with code 3 if stdin closes, i.e. the
  parent died, so no worker outlives its search.
"""

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import threading

if __name__ == "__main__":
    # Run as a file, Python puts this folder first on sys.path, where `examples.py` & co. could shadow other
    # modules; put the working directory there instead, as `python -m` would.
    sys.path[0] = os.getcwd()

# Where `BaseTuner.search` imports `start_server` from, on the chief only (keras-tuner 1.4).
_ORACLE_CHIEF = "keras_tuner.src.distribute.oracle_chief"
# Exit code of a process whose parent went away (its stdin closed) while the process still had work to do.
PARENT_GONE = 3
_STDIN = 0


def load_target(target):
    """Imports a search function.

    Args:
        target: String. `"package.module:function"` or `"path/to/file.py:function"`.

    Returns:
        The function.
    """
    module_name, _, function_name = target.rpartition(":")
    if module_name.endswith(".py"):
        spec = importlib.util.spec_from_file_location("_dlkit_tuning_target", module_name)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    function = module
    for part in function_name.split("."):
        function = getattr(function, part)
    return function


class _PatchingLoader(importlib.abc.Loader):
    """Runs a module's own loader, then `patch(module)`."""

    def __init__(self, loader, patch):
        self._loader = loader
        self._patch = patch

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._patch(module)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Calls `patch(module)` right after the module `name` is first imported, whoever imports it.

    keras-tuner imports its chief server lazily inside `BaseTuner.search`; patching it at import keeps TensorFlow
    out of processes whose target never imports keras-tuner.
    """

    def __init__(self, name, patch):
        self._name = name
        self._patch = patch

    def find_spec(self, fullname, path, target=None):
        if fullname != self._name:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader, self._patch)
        return spec


def _on_stdin_closed(callback):
    """Calls `callback()` from a daemon thread once stdin reaches end of file (the parent closed it or died)."""

    def watch():
        # `os.read`, not `sys.stdin`: a daemon thread blocked inside a buffered reader holds its lock, and the
        # interpreter aborts at exit when it cannot take that lock to close stdin.
        while os.read(_STDIN, 4096):
            pass
        callback()

    threading.Thread(target=watch, name="dlkit-stdin-watch", daemon=True).start()


def _read_line(fd):
    """Reads up to a newline or end of file from a file descriptor, one byte at a time (see `_on_stdin_closed`)."""
    data = b""
    while not data.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            break
        data += byte
    return data.decode("ascii", errors="replace")


def _write_port(port_file, port):
    # Write then rename: the parent polls for the file and must never read a half-written port.
    partial = port_file + ".partial"
    with open(partial, "w", encoding="utf-8") as f:
        f.write(f"{port}\n")
    os.replace(partial, port_file)


def serve_oracle(oracle, *, oracle_chief, port_file, release, served):
    """Serves `oracle` over gRPC until `release` is set, then checks that the search finished.

    Replaces `keras_tuner.src.distribute.oracle_chief.start_server` in the chief.

    Args:
        oracle: The chief's `keras_tuner.Oracle`.
        oracle_chief: The module `keras_tuner.src.distribute.oracle_chief` (its servicer and `exit_chief`).
        port_file: String. Where to write the port the server listens on.
        release: `threading.Event`, set when the server may stop (every worker has ended).
        served: List; `True` is appended once the server listens (tells `main` the target did serve).

    Raises:
        RuntimeError: if the server cannot listen on the port, or, once released, if the search did not finish
            (no worker was told to stop, or a trial is still running: a worker ended without finishing it).
    """
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos

    host = os.environ["KERASTUNER_ORACLE_IP"]
    requested = int(os.environ["KERASTUNER_ORACLE_PORT"])
    # gRPC sets SO_REUSEPORT by default: a second server on a taken port would then bind as well and the kernel
    # would split connections between two searches. Without it, binding a taken port fails here, loudly.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1), options=[("grpc.so_reuseport", 0)])
    servicer = oracle_chief.OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    try:
        port = server.add_insecure_port(f"{host}:{requested}")
    except RuntimeError as error:  # newer gRPC raises instead of returning 0
        raise RuntimeError(f"The chief cannot listen on {host}:{requested}: {error}") from error
    if not port:
        raise RuntimeError(f"The chief cannot listen on {host}:{requested} (is the port in use?).")
    server.start()
    try:
        # Marked before the port is published: the parent can only release the chief after that.
        served.append(True)
        _write_port(port_file, port)
        print(f"chief: serving the oracle on {host}:{port}", flush=True)
        release.wait()
    finally:
        server.stop(grace=None)
    ongoing = sorted(trial.trial_id for trial in oracle.ongoing_trials.values())
    if not servicer.stop_triggered or not oracle_chief.exit_chief(oracle):
        raise RuntimeError(
            "The workers ended before the search did: "
            f"{len(oracle.trials)} trial(s) created (max_trials={oracle.max_trials}), trials still running: "
            f"{ongoing}, a worker was told the search is over: {servicer.stop_triggered}."
        )
    print(f"chief: search finished, {len(oracle.trials)} trial(s)", flush=True)


def main(argv):
    """Runs one process of a distributed search.

    Args:
        argv: List of strings: TARGET, DIRECTORY, KWARGS_JSON, THREADS, PORT_FILE.

    Returns:
        0 on success.

    Raises:
        ValueError: on a wrong number of arguments.
        RuntimeError: if the chief's target returns without serving the oracle, or a worker's parent ended
            before the chief listened.
    """
    if len(argv) != 5:
        raise ValueError(f"Expected TARGET DIRECTORY KWARGS_JSON THREADS PORT_FILE. Received: argv={argv!r}")
    target, directory, kwargs_json, threads, port_file = argv
    threads = int(threads)
    is_chief = "chief" in os.environ.get("KERASTUNER_TUNER_ID", "")
    served = []
    if is_chief:
        release = threading.Event()

        def on_stdin_closed():
            release.set()
            # Closed before the chief served: the parent died (it releases the chief only after the workers,
            # which cannot end before it served). Nothing will ever ask this chief for anything: end now.
            if not served:
                os._exit(PARENT_GONE)

        _on_stdin_closed(on_stdin_closed)

        def patch(module):
            module.start_server = functools.partial(
                serve_oracle, oracle_chief=module, port_file=port_file, release=release, served=served
            )

        sys.meta_path.insert(0, _PatchOnImport(_ORACLE_CHIEF, patch))
    if threads:
        import tensorflow as tf

        # One worker = one "machine": pin its threads so workers do not fight over the same cores.
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    function = load_target(target)
    if not is_chief:
        # Block until the chief listens: a worker never asks a chief that is not there (yet).
        port = _read_line(_STDIN).strip()
        if not port:
            raise RuntimeError("The parent ended before the chief was listening; nothing to do.")
        os.environ["KERASTUNER_ORACLE_PORT"] = port
        _on_stdin_closed(lambda: os._exit(PARENT_GONE))
    os.makedirs(directory, exist_ok=True)
    function(directory, **json.loads(kwargs_json))
    if is_chief and not served:
        raise RuntimeError(
            f"The chief's target {target!r} returned without serving the oracle: it must build a keras-tuner "
            "tuner and call `tuner.search(...)` (keras-tuner 1.4 serves the oracle from there)."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
