"""One reference run per lab for the whole test session, shared by every test module and pytest-xdist worker.

Five modules grade every lab (tests/test_labs_roundtrip.py, test_feedback_mistakes.py, test_gradescope_labs.py,
test_nbgrader_labs.py, test_forgery.py); each used to make its own reference run of each lab's source, the same
sandboxed run four or five times over. Here the first module to need a lab's reference makes it
(`dlkit.grading.grader.reference_values`, as `dlkit grade` does) and stores it in the session's shared temporary
folder; the others read it back. Submissions still run on their own: only the instructor's run is shared.

Workers take the labs nobody is computing first (a non-blocking lock per lab) and wait only when every lab left
is being computed by the other worker, so neither sits idle while the other works through the list.
"""

import fcntl
import hashlib
import os
import pickle

from dlkit.grading.assemble import load_source
from dlkit.grading.grader import reference_values
from dlkit.lab_files import lab_name


def _folder(tmp_path_factory):
    """The session's folder every xdist worker sees (a worker's own base temp sits inside the session's)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "lab-references"
    folder.mkdir(exist_ok=True)
    return folder


def _try(folder, lab, blocking):
    """The lab's reference, computed here if nobody has yet; None if another worker holds its lock (and not
    `blocking`)."""
    with open(lab, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    stem = folder / f"{lab_name(lab)}-{digest}"
    with open(f"{stem}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        try:
            if os.path.exists(f"{stem}.pickle"):
                with open(f"{stem}.pickle", "rb") as f:
                    return pickle.load(f)
            reference = reference_values(load_source(lab), timeout=900, memory_mb=8192)
            with open(f"{stem}.tmp", "wb") as f:
                pickle.dump(reference, f)
            os.replace(f"{stem}.tmp", f"{stem}.pickle")
            return reference
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def lab_references(tmp_path_factory, labs):
    """{lab name: reference values} of the given lab sources, each computed once per test session."""
    folder = _folder(tmp_path_factory)
    pending, done = list(labs), {}
    while pending:
        progressed = False
        for lab in list(pending):
            reference = _try(folder, lab, blocking=False)
            if reference is not None:
                done[lab_name(lab)] = reference
                pending.remove(lab)
                progressed = True
        if not progressed:  # every lab left is being computed elsewhere: wait for the first
            done[lab_name(pending[0])] = _try(folder, pending[0], blocking=True)
            pending.pop(0)
    return done
