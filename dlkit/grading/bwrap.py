"""The bubblewrap (`bwrap`) sandbox of a graded run: which paths it shows, which environment it passes, and a
probe that refuses early when bubblewrap cannot start.

A run sees a new root holding only read-only copies (bind mounts) of what the interpreter needs: the system's
`/usr` (and the `/lib*`, `/bin`, `/sbin` links into it), the loader cache and the time zone from `/etc`, the
interpreter's prefix, the virtual environment and its site-packages, and the `dlkit` package folder itself
(for an editable install, that folder only: not the checkout around it, whose `labs/` hold the solutions).
Its `/tmp` (working folder and `HOME`), `/dev/shm` are private size-capped tmpfs that vanish with the run; the
record and progress files are the only host files it can write, each bound on its own (a bound file cannot be
renamed, deleted or swapped for a link or a FIFO). It runs as uid/gid 65534 in new user, PID, IPC, UTS,
network (loopback only) and, where possible, cgroup namespaces, in a new session; everything it starts dies
with it (see docs/grading.md, threat model).

Standard library only: `sandbox.py` imports it in the grader process.
"""

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

SANDBOX_ID = 65534  # "nobody": owns nothing on the host
INSIDE_HOME = "/tmp/run"  # the run's working folder and HOME, on its private /tmp
INSIDE_RECORD = "/grading/record.jsonl"
INSIDE_PROGRESS = "/grading/progress.jsonl"
TMP_MB = 512  # size of the private /tmp and of /dev/shm: RAM-backed, so capped
# Passed through from the grader's environment when set: locale and thread or log settings that change how a
# lab runs but reveal nothing. Everything else (tokens, paths, proxies, PYTHONPATH) stays out.
PASSED_ENV = (
    "LANG",
    "LC_ALL",
    "KERAS_BACKEND",
    "TF_CPP_MIN_LOG_LEVEL",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)
# /etc pieces a Python run needs: the dynamic loader's cache (libraries outside its default folders) and the
# time zone. Not passwd/hosts/ssl/...: the run gets a one-line passwd instead, and has no network.
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime")
PASSWD = f"sandbox:x:{SANDBOX_ID}:{SANDBOX_ID}:dlkit grading sandbox:{INSIDE_HOME}:/usr/sbin/nologin\n"
GROUP = f"sandbox:x:{SANDBOX_ID}:\n"

INSTALL_HINT = (
    "Install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora/RHEL: `dnf install bubblewrap`) "
    "and allow unprivileged user namespaces where they are off (`sysctl kernel.unprivileged_userns_clone=1`; "
    "on Ubuntu 24.04+ also an AppArmor profile for bwrap, or `sysctl "
    "kernel.apparmor_restrict_unprivileged_userns=0`). Or grade with --no-sandbox (unsafe with hostile "
    "submissions)."
)


class SandboxUnavailableError(RuntimeError):
    """Raised when the bubblewrap sandbox cannot start on this machine."""


def _within(path, folders):
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)


@functools.lru_cache(maxsize=1)
def readonly_paths():
    """The host paths a run sees, read-only, at the same place: (real path, path as used) pairs.

    Computed from this interpreter at run time (a fresh clone may live anywhere, even under /tmp).
    """
    import dlkit  # the package folder: an editable install's checkout must not come with it

    wanted = ["/usr", *ETC_FILES, sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix]
    wanted += [sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")]
    wanted += [os.path.dirname(os.path.abspath(dlkit.__file__)), os.path.dirname(sys.executable)]
    pairs, covered = [], []
    for path in sorted({os.path.abspath(p) for p in wanted}, key=lambda p: (p.count("/"), p)):
        real = os.path.realpath(path)
        if not os.path.exists(real):
            continue
        for dest in dict.fromkeys([path, real]):  # a symlinked venv is reached by both names
            if not _within(dest, covered):
                pairs.append((real, dest))
                covered.append(dest)
    return pairs


def _root_links():
    """`/lib`, `/lib64`, `/bin`, `/sbin`: a symlink into /usr on merged-/usr systems, else a folder to bind."""
    args = []
    for path in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def build_command(bwrap, workdir, argv):
    """The bwrap command line that runs `argv` in the sandbox.

    Args:
        bwrap: String. Path of the bwrap executable.
        workdir: String. The grader's private folder of this run: holds record.jsonl and progress.jsonl (bound
            writable), passwd and group (bound read-only; written here if absent).
        argv: List of strings. The command to run inside (paths as seen inside).

    Returns:
        A list of strings for `subprocess.Popen`.
    """
    for name, text in (("passwd", PASSWD), ("group", GROUP)):
        if not os.path.exists(os.path.join(workdir, name)):
            with open(os.path.join(workdir, name), "w", encoding="utf-8") as f:
                f.write(text)
    size = str(TMP_MB * 1024 * 1024)
    command = [bwrap, "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net"]
    command += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    command += ["--uid", str(SANDBOX_ID), "--gid", str(SANDBOX_ID), "--hostname", "sandbox"]
    command += ["--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/dev/shm"]
    # /tmp comes before the binds, which may lie under /tmp (a checkout cloned there, as in CI).
    command += ["--size", size, "--tmpfs", "/tmp", "--dir", INSIDE_HOME]
    command += _root_links()
    for real, dest in readonly_paths():
        command += ["--ro-bind", real, dest]
    command += ["--ro-bind", os.path.join(workdir, "passwd"), "/etc/passwd"]
    command += ["--ro-bind", os.path.join(workdir, "group"), "/etc/group"]
    command += ["--bind", os.path.join(workdir, "record.jsonl"), INSIDE_RECORD]
    command += ["--bind", os.path.join(workdir, "progress.jsonl"), INSIDE_PROGRESS]
    # Last: the root and /dev themselves read-only (their tmpfs is unbounded); /tmp and /dev/shm stay writable.
    command += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", INSIDE_HOME, "--", *argv]
    return command


def sandbox_env(extra=None):
    """The whole environment of a sandboxed run: an allow-list, not the grader's environment."""
    path = os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"])
    env = {"PATH": path, "HOME": INSIDE_HOME, "TMPDIR": "/tmp", "USER": "sandbox", "LOGNAME": "sandbox"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"  # unless the grader sets its own
    env.update({name: os.environ[name] for name in PASSED_ENV if name in os.environ})
    env.update(extra or {})
    return env


@functools.lru_cache(maxsize=4)
def _probe(bwrap):
    with tempfile.TemporaryDirectory(prefix="dlkit-probe-") as workdir:
        for name in ("record.jsonl", "progress.jsonl"):
            open(os.path.join(workdir, name), "w").close()
        # The interpreter with its site-packages, IPython (the runner's shell) and dlkit, as a run needs them.
        check = (
            "import importlib.util as u, sys; sys.exit(not (u.find_spec('IPython') and u.find_spec('dlkit')))"
        )
        command = build_command(bwrap, workdir, [sys.executable, "-c", check])
        try:
            result = subprocess.run(
                command,
                env=sandbox_env(),
                capture_output=True,
                text=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{type(error).__name__}: {error}"
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[-300:] or "no message"
        return f"the probe `bwrap ... python` exited with code {result.returncode} ({detail})"
    return ""


def check_sandbox():
    """Checks that bubblewrap is installed and can start a sandboxed Python here; returns the bwrap path.

    Raises:
        SandboxUnavailableError: naming the problem and how to fix it.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailableError(
            f"The grading sandbox needs bubblewrap, and `bwrap` is not on PATH. {INSTALL_HINT}"
        )
    problem = _probe(bwrap)
    if problem:
        raise SandboxUnavailableError(
            f"The grading sandbox (bubblewrap, {bwrap}) cannot start here: {problem}. {INSTALL_HINT}"
        )
    return bwrap
