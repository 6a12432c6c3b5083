"""The bubblewrap sandbox of `dlkit grade`: one test per attack class of a hostile submission.

Each attack runs as notebook cells through `run_sandboxed` and records (with `dlkit.grading.record`) what it
managed to see or do; the test asserts on those records and on the host itself (files hashed before and after,
/proc scanned for leftover processes). Where cheap, the same cells also run with `sandbox=False` as a control:
there the attack works, which shows that each test probes something real. One attack (stealing the
instructor's solutions) goes through the whole `grade()` path on lab 03.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import uuid

import nbformat
import pytest

import dlkit.grading.grader
from dlkit.cli import main
from dlkit.grading import GradingError, bwrap, grade, release
from dlkit.grading.records import read_records
from dlkit.grading.sandbox import run_sandboxed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB03 = os.path.join(ROOT, "labs", "03_gradient_checking.ipynb")
LAB_NAMES = sorted(name for name in os.listdir(os.path.dirname(LAB03)) if name.endswith(".ipynb"))
FIXTURE_LABS = os.path.join(ROOT, "tests", "data", "grading", "labs")
FIXTURE = os.path.join(FIXTURE_LABS, "01_fixture.ipynb")
PRELUDE = "import os, sys, json, glob\nfrom dlkit.grading import record\n"
BOTH = pytest.mark.parametrize("sandbox", [True, False], ids=["bwrap", "none"])


def _run(*sources, sandbox=True, timeout=60, **limits):
    """Runs the cells (after PRELUDE); returns (the run, {key: first recorded value})."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in (PRELUDE, *sources)]
    run = run_sandboxed(notebook, timeout=timeout, memory_mb=4096, sandbox=sandbox, **limits)
    try:
        records = {key: entries[0]["value"] for key, entries in read_records(run.record_path).items()}
    finally:
        run.cleanup()
    return run, records


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


FIND_SOURCES = f"""
found = []
try:
    open({LAB03!r}).read()
    found.append({LAB03!r})
except OSError as error:
    record("open_error", type(error).__name__)
import dlkit
for start in (os.getcwd(), os.path.dirname(dlkit.__file__)):
    folder = start
    while True:
        if os.path.isdir(os.path.join(folder, "labs")):
            found.append(os.path.join(folder, "labs"))
        if os.path.dirname(folder) == folder:
            break
        folder = os.path.dirname(folder)
"""
# Inside the sandbox only (on the host it would walk the whole disk): a lab's file name anywhere in the visible
# file system, /usr and /proc aside (no lab there, and slow).
WALK = f"""
for top in sorted(set(os.listdir("/")) - {{"usr", "proc", "sys", "dev"}}):
    for folder, _, files in os.walk("/" + top):
        found += [os.path.join(folder, name) for name in files if name in {LAB_NAMES!r}]
"""


@BOTH
def test_a_run_cannot_read_the_instructor_sources(sandbox):
    _, records = _run(FIND_SOURCES + (WALK if sandbox else "") + 'record("found", found)', sandbox=sandbox)
    if sandbox:
        assert records == {"open_error": "FileNotFoundError", "found": []}
    else:  # the control: unsandboxed, the solutions are one open() away
        assert "open_error" not in records and LAB03 in records["found"]
        assert os.path.join(ROOT, "labs") in records["found"]


def test_a_run_cannot_write_outside_its_private_folder(tmp_path):
    victim = tmp_path / "grader_temp_file.txt"
    victim.write_text("the grader's own temporary file\n")
    home_file = os.path.join(os.path.expanduser("~"), f"dlkit-sandbox-test-{uuid.uuid4().hex}")
    grader_py = os.path.abspath(dlkit.grading.grader.__file__)
    targets = [grader_py, LAB03, str(victim), home_file]
    before = {path: _sha256(path) for path in targets[:3]}
    attack = f"""
written = []
for path in {targets!r}:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as f:
            f.write("# owned\\n")
        written.append(path)
    except OSError:
        pass
record("written", written)
try:
    open({grader_py!r}, "a")
    record("grader_py_error", None)
except OSError as error:
    record("grader_py_error", type(error).__name__)
"""
    _, records = _run(attack)
    assert {path: _sha256(path) for path in targets[:3]} == before
    assert not os.path.exists(home_file)
    # Inside, the package folder is a read-only bind; writes elsewhere land, if anywhere, on the private /tmp.
    assert grader_py not in records["written"]
    assert records["grader_py_error"] == "OSError"  # EROFS: read-only file system


def _processes_with(marker):
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    pids.append(int(pid))
        except OSError:  # ended meanwhile
            pass
    return pids


def _survivors(marker):
    """The processes whose command line holds `marker`, after giving killed ones a moment to be reaped."""
    for _ in range(50):
        pids = _processes_with(marker)
        if not pids:
            return []
        time.sleep(0.1)
    return pids


SPAWN = """
import subprocess
sleeper = [sys.executable, "-c", "import time; time.sleep(300)", MARKER]
subprocess.Popen(sleeper + ["new-session"], start_new_session=True)
if os.fork() == 0:  # double fork: the grandchild is orphaned, in a session of its own
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, sleeper + ["double-fork"])
    os._exit(0)
os.wait()
record("spawned", True)
"""


@pytest.mark.parametrize("ending", ["finished", "timeout"])
@BOTH
def test_processes_a_run_starts_die_with_it(sandbox, ending):
    marker = f"dlkit-sandbox-marker-{uuid.uuid4().hex}"
    hang = "import time\ntime.sleep(300)" if ending == "timeout" else "pass"
    run, records = _run(SPAWN.replace("MARKER", repr(marker)), hang, sandbox=sandbox, timeout=10)
    assert records == {"spawned": True}
    assert run.status == ("timeout" if ending == "timeout" else "ok")
    if sandbox:
        assert _survivors(marker) == []
    else:  # the control: outside the sandbox both escape the kill of the runner's session
        survivors = _processes_with(marker)
        try:
            assert len(survivors) == 2
        finally:
            for pid in survivors:
                os.kill(pid, 9)


@BOTH
def test_a_run_cannot_see_other_runs_temporary_folders(sandbox):
    other = tempfile.mkdtemp(prefix="dlkit-grade-")  # another run's folder: its record file is a secret
    try:
        with open(os.path.join(other, "record.jsonl"), "w") as f:
            f.write('{"key": "reference_answer", "value": 42}\n')
        attack = f"""
record("visible", sorted(glob.glob("/tmp/dlkit-grade-*")))
try:
    record("stolen", open({os.path.join(other, "record.jsonl")!r}).read())
except OSError as error:
    record("stolen", type(error).__name__)
record("tmp", sorted(os.listdir("/tmp")))
"""
        _, records = _run(attack, sandbox=sandbox)
    finally:
        shutil.rmtree(other)
    if sandbox:
        # Its /tmp is its own: the working folder, IPython's, and the folders that hold binds under /tmp
        # (a checkout under /tmp, as in CI); no other run's.
        binds = {dest.split("/")[2] for _, dest in bwrap.readonly_paths() if dest.startswith("/tmp/")}
        assert records == {
            "visible": [],
            "stolen": "FileNotFoundError",
            "tmp": sorted({"ipython", "run"} | binds),
        }
    else:
        assert other in records["visible"] and "reference_answer" in records["stolen"]


@BOTH
def test_a_run_has_no_network(sandbox):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0)
    port = server.getsockname()[1]
    attack = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=5).close()
    record("connected", True)
except OSError as error:
    record("connected", type(error).__name__)
"""
    try:
        _, records = _run(attack, sandbox=sandbox)
        try:
            server.accept()[0].close()
            accepted = True
        except BlockingIOError:
            accepted = False
    finally:
        server.close()
    if sandbox:  # its own network namespace: a loopback with nothing listening
        assert records == {"connected": "ConnectionRefusedError"} and not accepted
    else:
        assert records == {"connected": True} and accepted


@BOTH
def test_a_run_does_not_inherit_the_grader_environment(sandbox, monkeypatch):
    monkeypatch.setenv("DLKIT_SECRET_TEST", "xyz")
    _, records = _run(
        'record("secret", os.environ.get("DLKIT_SECRET_TEST"))\nrecord("env", sorted(os.environ))',
        sandbox=sandbox,
    )
    if sandbox:
        assert records["secret"] is None
        allowed = {"DLKIT_GRADING_RECORD", "HOME", "IPYTHONDIR", "LOGNAME", "MPLBACKEND", "PATH", "PWD"}
        allowed |= {"PYTHONDONTWRITEBYTECODE", "TMPDIR", "USER", *bwrap.PASSED_ENV}
        assert set(records["env"]) <= allowed
    else:
        assert records["secret"] == "xyz"


def test_limits_on_cpu_time_and_file_size():
    big = 'try:\n    open("big", "wb").write(b"x" * 3 * 1024 * 1024)\n    record("big", "written")\n'
    big += 'except OSError as error:\n    record("big", error.strerror)\n'
    run, records = _run(big, "while True:\n    pass", cpu_seconds=2, file_mb=1, timeout=60)
    assert records == {"big": "File too large"}
    assert run.status == "cpu limit"


def test_bad_record_lines_cost_only_their_own_key(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    lines = [
        deep,
        '{"key": "deep", "value": ' + deep + "}",
        "not json",
        "[1, 2]",
        '{"key": "ok", "value": 1}',
    ]
    lines.append('{"key": "too_deep", "value": ' + "[" * 100 + "]" * 100 + "}")
    path = tmp_path / "record.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert read_records(str(path)) == {"ok": [{"key": "ok", "value": 1}]}
    os.symlink(path, tmp_path / "link.jsonl")  # a run may swap its file for a link (to a secret) or a FIFO
    os.mkfifo(tmp_path / "fifo.jsonl")
    assert read_records(str(tmp_path / "link.jsonl")) == {} == read_records(str(tmp_path / "fifo.jsonl"))
    # The same lines written by a run, around a real record.
    write = f"with open(os.environ['DLKIT_GRADING_RECORD'], 'a') as f:\n    f.write({deep!r} + '\\n')\n"
    _, records = _run(write + "record('after', 2)")
    assert records == {"after": 2}


STEAL = """import json, os
def _steal(grade_id):
    paths = [LAB03]
    for start in (os.getcwd(), os.path.dirname(__import__("dlkit").__file__)):
        folder = start
        while os.path.dirname(folder) != folder:
            paths.append(os.path.join(folder, "labs", os.path.basename(LAB03)))
            folder = os.path.dirname(folder)
    for path in paths:
        try:
            cells = json.load(open(path))["cells"]
        except OSError:
            continue
        for cell in cells:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
                return "".join(cell["source"])
    raise FileNotFoundError("no instructor source found")
exec(_steal(GRADE_ID))
"""


@pytest.fixture(scope="module")
def stolen_lab03(tmp_path_factory):
    """Lab 03's release with every solution cell replaced by code that execs the instructor's solution."""
    folder = tmp_path_factory.mktemp("steal")
    notebook = nbformat.read(release(LAB03, str(folder / "release")), as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            cell.source = STEAL.replace("LAB03", repr(LAB03)).replace("GRADE_ID", repr(meta["grade_id"]))
    path = folder / "03_gradient_checking-mallory.ipynb"
    nbformat.write(notebook, str(path))
    return str(path)


def test_stealing_the_solutions_through_grade_earns_nothing(stolen_lab03):
    # Unsandboxed, this submission earns full marks (the sources are readable: see the control of
    # test_a_run_cannot_read_the_instructor_sources); it is not graded that way here, to save a lab's runs.
    (row,) = grade([stolen_lab03], source=os.path.join(ROOT, "labs"), timeout=300)
    assert row.status == "graded" and row.sandbox == "bwrap" and row.max_total > 0
    assert row.total == 0
    # The stealing cells raised (nothing found), so the functions the checks call were never defined.
    assert [
        e.reason
        for e in row.exercises
        if not re.fullmatch(r"missing record \w+ \(cell raised NameError\)", e.reason)
    ] == []


def test_grade_refuses_without_bubblewrap(tmp_path, monkeypatch, capsys):
    submission = shutil.copy(FIXTURE, tmp_path / "alice.ipynb")
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    with pytest.raises(GradingError, match="`bwrap` is not on PATH.*apt-get install bubblewrap"):
        grade([str(submission)], source=FIXTURE_LABS)
    monkeypatch.undo()
    monkeypatch.setattr(bwrap, "_probe", lambda path: "no user namespaces (test)")
    with pytest.raises(
        GradingError, match="cannot start here: no user namespaces.*unprivileged_userns_clone"
    ):
        grade([str(submission)], source=FIXTURE_LABS)
    out = tmp_path / "gradebook.csv"
    assert main(["grade", str(submission), "--source", FIXTURE_LABS, "--out", str(out)]) == 2
    assert "no user namespaces (test)" in capsys.readouterr().err
    assert not out.exists()


def test_no_sandbox_marks_every_row(tmp_path, capsys):
    solution = shutil.copy(FIXTURE, tmp_path / "alice.ipynb")
    invalid = tmp_path / "bob.ipynb"
    invalid.write_text("not json")
    out = tmp_path / "gradebook.csv"
    args = ["grade", str(solution), str(invalid), "--source", FIXTURE_LABS, "--out", str(out), "--no-sandbox"]
    assert main([*args, "--timeout", "60", "--memory-mb", "1536"]) == 0
    assert "warning: --no-sandbox" in capsys.readouterr().err
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["submission"], r["total"], r["status"], r["sandbox"]) for r in rows] == [
        ("alice.ipynb", "5", "graded", "none"),
        ("bob.ipynb", "0", "invalid", "none"),
    ]
    with open(tmp_path / "feedback" / "alice.json", encoding="utf-8") as f:
        assert json.load(f)["sandbox"] == "none"


def test_the_sandbox_binds_the_package_but_not_the_checkout():
    dests = [dest for _, dest in bwrap.readonly_paths()]
    package = os.path.dirname(os.path.abspath(dlkit.grading.grader.__file__))
    assert os.path.dirname(package) in dests  # the dlkit folder, for an editable install too
    for private in (ROOT, os.path.join(ROOT, "labs"), os.path.join(ROOT, "tests"), os.path.expanduser("~")):
        assert private not in dests
    assert sys.prefix in dests or any(sys.prefix.startswith(d + "/") for d in dests)
