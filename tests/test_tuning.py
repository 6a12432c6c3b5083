"""dlkit.tuning: samplers against their formulas, coarse-to-fine narrowing, and a real distributed search."""

import os

import keras_tuner
import numpy as np
import pytest

from dlkit.tuning import DistributedSearch, narrow_log_range, sample_beta, sample_log_uniform


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
    "kwargs",
    [
        {"low": 0.0, "high": 1.0, "num_samples": 3},
        {"low": 1e-2, "high": 1e-3, "num_samples": 3},
        {"low": 1e-4, "high": 1.0, "num_samples": 0},
        {"low": 1e-4, "high": 1.0, "num_samples": 3, "seed": -1},
    ],
)
def test_sample_log_uniform_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
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


class _QuadraticTuner(keras_tuner.RandomSearch):
    """A search without training: the score is a known function of the learning rate."""

    def run_trial(self, trial, *args, **kwargs):
        learning_rate = trial.hyperparameters.Float("learning_rate", 1e-4, 1.0, sampling="log")
        return {"score": -((np.log10(learning_rate) + 2.0) ** 2)}


def quadratic_search(directory, max_trials=6):
    """The script every process of the distributed test runs (imported by file path)."""
    tuner = _QuadraticTuner(
        objective=keras_tuner.Objective("score", "max"),
        max_trials=max_trials,
        seed=3,
        directory=directory,
        project_name="quadratic",
        overwrite=True,
    )
    tuner.search(verbose=0)


def test_distributed_search_chief_and_two_workers_complete_every_trial(tmp_path):
    search = DistributedSearch(
        f"{os.path.abspath(__file__)}:quadratic_search",
        num_workers=2,
        target_kwargs={"max_trials": 6},
        directory=str(tmp_path / "search"),
        threads_per_worker=1,
        timeout=300,
    )
    result = search.run()
    trials = result["trials"]
    assert [t["trial_id"] for t in trials] == ["0", "1", "2", "3", "4", "5"]
    assert all(t["status"] == "COMPLETED" for t in trials)
    for t in trials:
        learning_rate = t["hyperparameters"]["learning_rate"]
        assert 1e-4 <= learning_rate <= 1.0
        assert t["score"] == pytest.approx(-((np.log10(learning_rate) + 2.0) ** 2), rel=1e-9)
    # Each worker process wrote its own tuner state next to the chief's oracle.
    for name in ("chief", "tuner0", "tuner1"):
        assert os.path.isdir(tmp_path / "search" / name)
    assert result["wall_seconds"] >= result["search_seconds"] > 0


def test_distributed_search_reports_a_failing_target_and_stops(tmp_path):
    target = tmp_path / "broken.py"
    target.write_text("def search(directory):\n    raise RuntimeError('boom')\n")
    search = DistributedSearch(f"{target}:search", num_workers=1, directory=str(tmp_path / "run"), timeout=60)
    with pytest.raises(RuntimeError, match="boom"):
        search.run()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target": "no_colon"},
        {"target": "m:f", "num_workers": 0},
        {"target": "m:f", "timeout": 0},
        {"target": "m:f", "target_kwargs": {"x": object()}},
        {"target": "m:f", "port": 70000},
    ],
)
def test_distributed_search_validates(kwargs):
    with pytest.raises(ValueError):
        DistributedSearch(**kwargs)


def test_distributed_search_timeout_stops_every_process(tmp_path):
    target = tmp_path / "hang.py"
    target.write_text(
        "import os, time\n"
        "def search(directory):\n"
        "    with open(os.path.join(directory, 'pid'), 'w') as f:\n"
        "        f.write(str(os.getpid()))\n"
        "    time.sleep(600)\n"
    )
    root = tmp_path / "run"
    search = DistributedSearch(f"{target}:search", num_workers=2, directory=str(root), timeout=8)
    with pytest.raises(RuntimeError, match="timed out"):
        search.run()
    pid_files = sorted(root.glob("*/pid"))
    assert [p.parent.name for p in pid_files] == ["chief", "tuner0", "tuner1"]
    for pid_file in pid_files:
        pid = int(pid_file.read_text())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
