"""`Progress`: how far `dlkit labs run` has got, on one updating terminal line or as plain log lines."""

import shutil
import sys
import threading
import time


class Progress:
    """Shows how far `run_labs` has got: which lab of how many, which cell, and the elapsed seconds.

    Live mode (the default on a terminal) keeps one line up to date with carriage returns, refreshed every
    `interval` seconds so the clock moves during a long training cell, and leaves one line per finished lab.
    Otherwise (a CI log, a file) it writes one plain line when each lab starts and one when it ends.

    Example:

    >>> runs = run_labs(dlkit.lab_files.find_labs("labs"), "build/labs", progress=Progress())

    Args:
        stream: File object to write to. Defaults to `sys.stderr`, so the table on stdout stays clean.
        live: Boolean or None. Whether to keep one updating line; None means "if `stream` is a terminal".
        interval: Float or None. Seconds between refreshes of the live line; None refreshes only when a cell
            starts.
    """

    def __init__(self, stream=None, live=None, interval=1.0):
        self.stream = sys.stderr if stream is None else stream
        if live is None:
            isatty = getattr(self.stream, "isatty", None)
            live = bool(isatty and isatty())
        if interval is not None and not interval > 0:
            raise ValueError(
                f"Argument `interval` must be a positive number of seconds or None. Received: interval={interval!r}"
            )
        self.live = live
        self.interval = interval
        # The ticker thread and the hooks called from nbclient both write the live line.
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = None
        self._run_start = None
        self._lab = None

    def lab_started(self, index, total, name):
        """Called before lab `index` (1-based) of `total` starts its kernel."""
        now = time.perf_counter()
        if self._run_start is None:
            self._run_start = now
        with self._lock:
            # Until the first cell runs, the seconds go to starting Python and TensorFlow in the kernel.
            self._lab = {
                "index": index,
                "total": total,
                "name": name,
                "start": now,
                "cell": "starting kernel",
            }
            if self.live:
                self._draw()
            else:
                self._write_line(f"lab {index} of {total}: {name} ...")
        if self.live and self.interval is not None and self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="dlkit-progress", daemon=True)
            self._ticker.start()

    def cell_started(self, number, total, source):
        """Called as code cell `number` (1-based) of `total` starts executing; `source` is its code."""
        first_line = next((line.strip() for line in source.splitlines() if line.strip()), "")
        with self._lock:
            if self._lab is None:
                return
            self._lab["cell"] = f"cell {number}/{total}: {first_line}"
            if self.live:
                self._draw()

    def lab_finished(self, run):
        """Called with the `LabRun` of the lab that just ended."""
        with self._lock:
            lab = self._lab or {"index": "?", "total": "?"}
            self._lab = None
            outcome = f"{run.status} in {run.seconds:.1f} s"
            if run.status != "ok":
                where = f" at cell {run.stopped_at}/{run.cells}" if run.stopped_at else ""
                outcome += f"{where}: {run.error}" if run.error else where
            line = f"lab {lab['index']} of {lab['total']}: {run.name} {outcome}"
            if self.live:
                self._clear()
            self._write_line(line)

    def close(self):
        """Stops the live line's clock. Safe to call more than once."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with self._lock:
            if self.live and self._lab is not None:
                self._clear()
            self._lab = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _tick(self):
        while not self._stop.wait(self.interval):
            with self._lock:
                if self._lab is not None:
                    self._draw()

    def _draw(self):
        lab = self._lab
        now = time.perf_counter()
        text = f"lab {lab['index']} of {lab['total']}  {lab['name']}  {now - lab['start']:.0f} s"
        if lab["total"] > 1:
            text += f" (total {now - self._run_start:.0f} s)"
        if lab["cell"]:
            text += f"  {lab['cell']}"
        # One character short of the terminal's width: writing into the last column wraps on some terminals,
        # and a wrapped line can no longer be overwritten with a carriage return.
        width = max(shutil.get_terminal_size((100, 24)).columns - 1, 20)
        self.stream.write("\r" + text[:width].ljust(width))
        self.stream.flush()

    def _clear(self):
        width = max(shutil.get_terminal_size((100, 24)).columns - 1, 20)
        self.stream.write("\r" + " " * width + "\r")

    def _write_line(self, line):
        self.stream.write(line + "\n")
        self.stream.flush()
