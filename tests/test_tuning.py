"""dlkit.tuning: samplers against their formulas, coarse-to-fine narrowing, and a real distributed search."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import keras_tuner
import numpy as np
import pytest
from keras_tuner.src.distribute import oracle_chief

from dlkit.tuning import DistributedSearch, _search_process, narrow_log_range, sample_beta, sample_log_uniform


def test_sample_log_uniform_matches_course_formula():
    np.random.seed(3)
    expected = 10.0 ** (-4.0 + 4.0 * np.random.rand(50))  # r in [-4, 0], alpha = 10**r
    np.testing.assert_allclose(sample_log_uniform(1e-4, 1.0, 50, seed=3), expected, rtol=1e-12)
    np.random.seed(3)
    np.testing.assert_allclose(sample_log_uniform(1e-4, 1.0, 50), expected, rtol=1e-12)


def test_sample_log_uniform_spreads_over_decades():
    values = sample_log_uniform(1e-4, 1.0, 20000, seed=0)
    assert values.min() >= 1e-4 and values.max() <= 1.0
    shares = np.histogram(np.log10(values), bins=[-4, -3, -2, -1, 0])[0] / len(values)
    np.testing.assert_allclose(shares, 0.25, atol=0.015)


def test_sample_beta_matches_one_minus_beta_formula():
    np.random.seed(3)
    r = -3.0 + 2.0 * np.random.rand(40)  # r in [-3, -1]
    np.testing.assert_allclose(sample_beta(0.9, 0.999, 40, seed=3), 1.0 - 10.0**r, rtol=1e-12)
    betas = sample_beta(0.9, 0.999, 20000, seed=1)
    assert betas.min() >= 0.9 and betas.max() <= 0.999
    assert abs(np.mean(betas > 0.99) - 0.5) < 0.02  # uniform beta would give 0.09 / 0.099 ~ 9%


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"low": 0.0, "high": 1.0, "num_samples": 3}, "Argument `low` must be > 0"),
        ({"low": 1e-2, "high": 1e-3, "num_samples": 3}, "Argument `high` must be > 0.01"),
        ({"low": 1e-4, "high": 1.0, "num_samples": 0}, "Argument `num_samples` must be >= 1"),
        ({"low": 1e-4, "high": 1.0, "num_samples": 3, "seed": -1}, "Argument `seed`"),
    ],
)
def test_sample_log_uniform_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sample_log_uniform(**kwargs)


def test_sample_beta_rejects_bad_range():
    with pytest.raises(ValueError, match="high"):
        sample_beta(0.9, 1.0, 3)
    with pytest.raises(ValueError, match="high"):
        sample_beta(0.99, 0.9, 3)


def test_narrow_log_range_around_best_trials():
    values = np.array([1e-4, 3e-3, 1e-2, 5e-2, 0.3, 1.0])
    scores = np.array([0.50, 0.90, 0.97, 0.95, 0.93, 0.60])
    low, high = narrow_log_range(values, scores, top_k=3, margin=0.5)
    # best three: 1e-2, 5e-2, 0.3 -> log10 in [-2, -0.523]; padded by half a decade each side
    assert low == pytest.approx(10 ** (-2.0 - 0.5), rel=1e-12)
    assert high == pytest.approx(10 ** (np.log10(0.3) + 0.5), rel=1e-12)
    assert narrow_log_range(values, scores, top_k=1, margin=0.0) == pytest.approx((1e-2, 1e-2))


def test_narrow_log_range_validates():
    with pytest.raises(ValueError, match="same length"):
        narrow_log_range([1e-3, 1e-2], [0.5])
    with pytest.raises(ValueError, match="values"):
        narrow_log_range([0.0, 1e-2], [0.5, 0.6])
    with pytest.raises(ValueError, match="top_k"):
        narrow_log_range([1e-3, 1e-2], [0.5, 0.6], top_k=3)


# --- Distributed search. Every process of a search imports this file by path and calls one of the functions below;
# the process's role is in KERASTUNER_TUNER_ID ("chief", "tuner0", "tuner1", ...).

_THIS_FILE = os.path.abspath(__file__)
_OBJECTIVE = keras_tuner.Objective("score", "max")


def _tuner_id():
    return os.environ["KERASTUNER_TUNER_ID"]


class _QuadraticTuner(keras_tuner.Tuner):
    """A search without training: the score is a known function of the learning rate.

    Each trial leaves an empty `trial_<id>` folder in the worker's own directory, so a test can tell which worker
    ran which trial, and whether any trial ran twice.
    """

    def __init__(self, *args, crash_in_trial=None, raise_in_trials=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.crash_in_trial = crash_in_trial
        self.raise_in_trials = raise_in_trials

    def run_trial(self, trial, *args, **kwargs):
        learning_rate = trial.hyperparameters.Float("learning_rate", 1e-4, 1.0, sampling="log")
        os.makedirs(self.get_trial_dir(trial.trial_id), exist_ok=True)
        if trial.trial_id == self.crash_in_trial:
            print(f"{_tuner_id()}: crashing in trial {trial.trial_id}", flush=True)
            os._exit(5)  # dies like a killed machine: no exception, no end_trial
        if self.raise_in_trials:
            raise ValueError(f"bad trial {trial.trial_id}")
        return {"score": -((np.log10(learning_rate) + 2.0) ** 2)}


class _ChiefCrashingOracle(keras_tuner.oracles.RandomSearchOracle):
    """Runs in the chief only (workers talk to it over gRPC); the chief dies while creating trial 3."""

    def populate_space(self, trial_id):
        if trial_id == "3":
            print("chief: crashing while creating trial 3", flush=True)
            os._exit(4)
        return super().populate_space(trial_id)


def _quadratic_tuner(directory, max_trials, oracle_class=keras_tuner.oracles.RandomSearchOracle, **kwargs):
    return _QuadraticTuner(
        oracle=oracle_class(objective=_OBJECTIVE, max_trials=max_trials, seed=3),
        directory=directory,
        project_name="quadratic",
        overwrite=True,
        **kwargs,
    )


def quadratic_search(directory, max_trials=6):
    _quadratic_tuner(directory, max_trials).search(verbose=0)
    print(f"{_tuner_id()}: search returned", flush=True)


def late_worker_search(directory, max_trials=6):
    """tuner1 asks for its first trial only after tuner0 has finished the whole search (and some time after)."""
    tuner = _quadratic_tuner(directory, max_trials)
    done_marker = os.path.join(os.path.dirname(directory), "tuner0", "search_done")
    if _tuner_id() == "tuner1":
        while not os.path.exists(done_marker):
            time.sleep(0.05)
        # keras-tuner's own chief checks once a second whether to stop: past that, it would be gone.
        time.sleep(2.5)
    tuner.search(verbose=0)
    if _tuner_id() == "tuner0":
        with open(done_marker, "w") as f:
            f.write("done")
    print(f"{_tuner_id()}: search returned", flush=True)


def worker_crash_search(directory, max_trials=6):
    _quadratic_tuner(directory, max_trials, crash_in_trial="2").search(verbose=0)


def failing_trials_search(directory, max_trials=6):
    _quadratic_tuner(directory, max_trials, raise_in_trials=True).search(verbose=0)


def chief_crash_search(directory, max_trials=6):
    _quadratic_tuner(directory, max_trials, oracle_class=_ChiefCrashingOracle).search(verbose=0)


def _search(tmp_path, function, num_workers=2, **kwargs):
    kwargs.setdefault("target_kwargs", {"max_trials": 6})
    return DistributedSearch(
        f"{_THIS_FILE}:{function}",
        num_workers=num_workers,
        directory=str(tmp_path / "search"),
        threads_per_worker=1,
        timeout=300,
        **kwargs,
    )


def _check_complete(result, root, max_trials, workers):
    """Every trial COMPLETED exactly once, by one of `workers`, with the right score; returns trials per worker."""
    trials = result["trials"]
    ids = [t["trial_id"] for t in trials]
    assert ids == [str(i) for i in range(max_trials)]
    assert [t["status"] for t in trials] == ["COMPLETED"] * max_trials
    learning_rates = [t["hyperparameters"]["learning_rate"] for t in trials]
    assert len(set(learning_rates)) == max_trials
    for t, learning_rate in zip(trials, learning_rates, strict=True):
        assert 1e-4 <= learning_rate <= 1.0
        assert t["score"] == pytest.approx(-((np.log10(learning_rate) + 2.0) ** 2), rel=1e-9)
        assert t["message"] is None
    # The oracle's own record: each trial ended once and ran once.
    with open(root / "chief" / "quadratic" / "oracle.json") as f:
        oracle = json.load(f)
    assert sorted(oracle["end_order"], key=int) == ids
    assert oracle["run_times"] == {i: 1 for i in ids}
    # The workers' record: each trial ran in exactly one worker.
    ran = sorted(
        (p.name.removeprefix("trial_"), p.parent.parent.name) for p in root.glob("tuner*/quadratic/trial_*")
    )
    assert sorted(i for i, _ in ran) == sorted(ids)
    assert {w for _, w in ran} <= set(workers)
    assert {t["trial_id"]: t["worker"] for t in trials} == dict(ran)
    return {w: sum(1 for _, x in ran if x == w) for w in workers}


def test_distributed_search_chief_and_two_workers_complete_every_trial(tmp_path):
    result = _search(tmp_path, "quadratic_search").run()
    root = tmp_path / "search"
    _check_complete(result, root, 6, ["tuner0", "tuner1"])
    for name in ("chief", "tuner0", "tuner1"):
        assert os.path.isdir(root / name)
    assert "search finished, 6 trial(s)" in (root / "chief.log").read_text()
    for name in ("tuner0", "tuner1"):
        assert f"{name}: search returned" in (root / f"{name}.log").read_text()
    assert result["wall_seconds"] >= result["search_seconds"] > 0
    assert result["num_workers"] == 2


def test_distributed_search_worker_arriving_after_the_last_trial_ends_cleanly(tmp_path):
    # The race behind issue 23: keras-tuner's chief stopped serving once tuner0 had done every trial, and tuner1's
    # first `create_trial` died with gRPC UNAVAILABLE. The chief now serves until both workers have exited.
    result = _search(tmp_path, "late_worker_search").run()
    root = tmp_path / "search"
    per_worker = _check_complete(result, root, 6, ["tuner0", "tuner1"])
    assert per_worker == {"tuner0": 6, "tuner1": 0}
    assert "tuner1: search returned" in (root / "tuner1.log").read_text()


def test_distributed_search_worker_crash_raises_with_its_log(tmp_path):
    search = _search(tmp_path, "worker_crash_search", num_workers=1)
    with pytest.raises(
        RuntimeError, match=r"failed: tuner0 exited with code 5 before every worker was done"
    ) as info:
        search.run()
    message = str(info.value)
    assert "--- tuner0.log" in message
    assert "tuner0: crashing in trial 2" in message


def test_distributed_search_failing_trials_raise_with_the_reason(tmp_path):
    # keras-tuner records a trial whose function raises as FAILED and goes on; after 3 in a row the chief's oracle
    # raises, the worker's end_trial call fails with that message, and the worker exits 1.
    search = _search(tmp_path, "failing_trials_search", num_workers=1)
    with pytest.raises(RuntimeError, match=r"failed: tuner0 exited with code 1") as info:
        search.run()
    assert "Number of consecutive failures exceeded the limit of 3" in str(info.value)


def test_distributed_search_chief_crash_raises_with_its_log(tmp_path):
    search = _search(tmp_path, "chief_crash_search", num_workers=1)
    with pytest.raises(RuntimeError, match=r"failed: chief exited with code 4") as info:
        search.run()
    message = str(info.value)
    assert message.index("--- chief.log") < message.index("--- tuner0.log")
    assert "chief: crashing while creating trial 3" in message


def _serve(tmp_path, monkeypatch, port, release):
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    oracle = keras_tuner.oracles.RandomSearchOracle(objective=_OBJECTIVE, max_trials=2, seed=3)
    served = []
    _search_process.serve_oracle(
        oracle,
        oracle_chief=oracle_chief,
        port_file=str(tmp_path / "chief.port"),
        release=release,
        served=served,
    )


def test_chief_released_before_the_search_finished_raises(tmp_path, monkeypatch):
    release = threading.Event()
    release.set()  # every worker "ended" before asking for a single trial
    with pytest.raises(RuntimeError, match=r"The workers ended before the search did: 0 trial\(s\) created"):
        _serve(tmp_path, monkeypatch, 0, release)
    # It did listen first, on a port the system chose, and published it.
    assert 0 < int((tmp_path / "chief.port").read_text()) <= 65535


def test_chief_refuses_a_port_another_server_holds(tmp_path, monkeypatch):
    # gRPC servers bind with SO_REUSEPORT by default, so two searches on one port would both "listen" and the kernel
    # would share their workers between them; the chief binds without it and fails instead.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"The chief cannot listen on 127.0.0.1:{port}"):
            _serve(tmp_path, monkeypatch, port, threading.Event())
    assert not (tmp_path / "chief.port").exists()


def test_distributed_search_reports_a_chief_failing_after_its_workers(tmp_path):
    # Plays the chief's side of the protocol without keras-tuner (no TensorFlow, so fast): publish a port, then
    # wait. Both workers end at once; releasing this chief, which never served an oracle, ends it with code 3.
    target = tmp_path / "unfinished.py"
    target.write_text(
        textwrap.dedent(
            """
            import os, sys, time
            def search(directory):
                if os.environ["KERASTUNER_TUNER_ID"] == "chief":
                    with open(sys.argv[5], "w") as f:
                        f.write("1\\n")
                    print("chief: waiting to be released", flush=True)
                    time.sleep(600)
            """
        )
    )
    search = DistributedSearch(f"{target}:search", num_workers=2, directory=str(tmp_path / "run"), timeout=60)
    with pytest.raises(
        RuntimeError, match=r"failed: chief exited with code 3 after its workers were done"
    ) as info:
        search.run()
    assert "chief: waiting to be released" in str(info.value)


def test_distributed_search_reports_a_failing_target_and_stops(tmp_path):
    target = tmp_path / "broken.py"
    target.write_text("def search(directory):\n    raise RuntimeError('boom')\n")
    search = DistributedSearch(f"{target}:search", num_workers=1, directory=str(tmp_path / "run"), timeout=60)
    with pytest.raises(
        RuntimeError, match=r"failed: chief exited with code 1 before every worker was done"
    ) as info:
        search.run()
    assert "RuntimeError: boom" in str(info.value)


def test_distributed_search_reports_a_chief_that_never_serves(tmp_path):
    target = tmp_path / "idle.py"
    target.write_text("def search(directory):\n    pass\n")
    search = DistributedSearch(f"{target}:search", num_workers=1, directory=str(tmp_path / "run"), timeout=60)
    with pytest.raises(RuntimeError, match=r"failed: chief exited with code 1") as info:
        search.run()
    assert "returned without serving the oracle" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target": "no_colon"}, "Argument `target` must be 'module:function'"),
        ({"target": "m:f", "num_workers": 0}, "Argument `num_workers` must be >= 1"),
        ({"target": "m:f", "timeout": 0}, "Argument `timeout` must be > 0"),
        (
            {"target": "m:f", "target_kwargs": {"x": object()}},
            "Argument `target_kwargs` must be JSON-serializable",
        ),
        ({"target": "m:f", "port": 70000}, "Argument `port` must be <= 65535"),
    ],
)
def test_distributed_search_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DistributedSearch(**kwargs)


# Each process writes its pid when it imports the target, before the workers wait for the chief's port.
_HANG_TARGET = textwrap.dedent(
    """
    import os, sys, time
    with open(os.path.join(os.path.dirname(sys.argv[2]), os.environ["KERASTUNER_TUNER_ID"] + ".pid"), "w") as f:
        f.write(str(os.getpid()))
    def search(directory):
        time.sleep(600)
    """
)


def _pids(root):
    return {p.stem: int(p.read_text()) for p in root.glob("*.pid") if p.read_text()}


def _is_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # Orphans are reaped by whoever adopted them, maybe not at once: a zombie has ended too (Linux).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_distributed_search_timeout_stops_every_process(tmp_path):
    target = tmp_path / "hang.py"
    target.write_text(_HANG_TARGET)
    root = tmp_path / "run"
    search = DistributedSearch(f"{target}:search", num_workers=2, directory=str(root), timeout=8)
    with pytest.raises(RuntimeError, match=r"timed out after 8 s; still running: chief, tuner0, tuner1"):
        search.run()
    pids = _pids(root)
    assert sorted(pids) == ["chief", "tuner0", "tuner1"]
    for pid in pids.values():
        with pytest.raises(ProcessLookupError, match="No such process"):
            os.kill(pid, 0)


def test_distributed_search_processes_end_when_the_parent_is_killed(tmp_path):
    target = tmp_path / "hang.py"
    target.write_text(_HANG_TARGET)
    root = tmp_path / "run"
    script = (
        "from dlkit.tuning import DistributedSearch\n"
        f"DistributedSearch({str(target) + ':search'!r}, num_workers=2, directory={str(root)!r}, timeout=600).run()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        # Bounded waits only so that a broken build fails instead of hanging; nothing here is timed.
        for _ in range(1200):
            if len(_pids(root)) == 3 or parent.poll() is not None:
                break
            time.sleep(0.1)
        assert parent.poll() is None, "the search ended before every process had started"
        pids = _pids(root)
        assert sorted(pids) == ["chief", "tuner0", "tuner1"]
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    for _ in range(600):
        if all(_is_gone(pid) for pid in pids.values()):
            break
        time.sleep(0.1)
    alive = [name for name, pid in pids.items() if not _is_gone(pid)]
    for name in alive:
        os.kill(pids[name], signal.SIGKILL)
    assert alive == []
