"""dlkit.callbacks: learning rates recorded in real fit calls against NumPy references, resume, snapshots, range test."""

import math
import os
import warnings

import keras
import matplotlib.figure
import numpy as np
import pytest
from lr_probe import X_PROBE, fit_probe, lr_probe_model

import dlkit
from dlkit import callbacks as C
from dlkit import schedules as S


class StopAfterEpochs(keras.callbacks.Callback):
    def __init__(self, num_epochs):
        super().__init__()
        self.num_epochs = num_epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.num_epochs:
            self.model.stop_training = True


# ---------------------------------------------------------------- NumPy references (Smith 2017, Huang et al. 2017)


def cyclic_reference(step, base_lr, max_lr, step_size, mode="triangular", gamma=1.0):
    cycle = math.floor(1 + step / (2 * step_size))
    x = abs(step / step_size - 2 * cycle + 1)
    scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma**step}[mode]
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x) * scale


def snapshot_reference(t, initial_lr, total, m):
    length = math.ceil(total / m)
    return initial_lr / 2 * (math.cos(math.pi * ((t - 1) % length) / length) + 1)


# name: (callback factory (directory) -> callback, reference(step), schedule equivalent or None)
CASES = {
    "cyclic": (
        lambda d: C.CyclicLRCallback(0.01, 0.1, 3),
        lambda s: cyclic_reference(s, 0.01, 0.1, 3),
        lambda: S.CyclicLR(0.01, 0.1, 3),
    ),
    "cyclic_exp_range": (
        lambda d: C.CyclicLRCallback(0.01, 0.1, 4, mode="exp_range", gamma=0.97),
        lambda s: cyclic_reference(s, 0.01, 0.1, 4, "exp_range", 0.97),
        lambda: S.CyclicLR(0.01, 0.1, 4, mode="exp_range", gamma=0.97),
    ),
    # Optimizer rate 0.1 is the target; W = 20 > 15, so the resumed run restarts mid-warmup.
    "warmup_linear": (
        lambda d: C.LearningRateWarmup(20, start_lr=0.01),
        lambda s: 0.01 + (0.1 - 0.01) * s / 20 if s < 20 else 0.1,
        # The callback's target is the optimizer's float32 rate.
        lambda: S.LinearWarmup(20, float(np.float32(0.1)), start_lr=0.01),
    ),
    "warmup_constant": (
        lambda d: C.LearningRateWarmup(8, target_lr=0.2, start_lr=0.02, mode="constant"),
        lambda s: 0.02 if s < 8 else 0.2,
        lambda: S.LinearWarmup(8, 0.2, start_lr=0.02, mode="constant"),
    ),
    # T = 5 epochs * 5 steps = 25 from fit, M = 3.
    "snapshot": (
        lambda d: C.SnapshotEnsemble(3, 0.1, d),
        lambda t0: snapshot_reference(t0 + 1, 0.1, 25, 3),
        lambda: S.SnapshotCosineDecay(0.1, 25, 3),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_recorded_rates_match_reference_schedule_and_resume(name, tmp_path):
    """5 epochs straight == the formula == the schedule form; 3 epochs, .keras save, load into a fresh model
    with a fresh callback, 2 more epochs == the same sequence."""
    make, reference, make_schedule = CASES[name]
    expected = np.array([reference(s) for s in range(25)], dtype=np.float32)
    dlkit.set_seed(0)
    straight, history = fit_probe(lr_probe_model(), 5, callbacks=[make(str(tmp_path / "a"))])
    np.testing.assert_allclose(straight, expected, rtol=1e-6, atol=1e-9)
    # logs["learning_rate"] holds each epoch's last rate.
    np.testing.assert_allclose(history.history["learning_rate"], expected[4::5], rtol=1e-6)
    with_schedule, _ = fit_probe(lr_probe_model(make_schedule()), 5)
    np.testing.assert_array_equal(straight, with_schedule)  # same code, same float32 numbers

    # A run of 5 epochs that dies after 3 (so SnapshotEnsemble infers T = 25 from fit, as in the full run).
    model = lr_probe_model()
    first, _ = fit_probe(model, 5, callbacks=[make(str(tmp_path / "b")), StopAfterEpochs(3)])
    assert len(first) == 15
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    second, _ = fit_probe(loaded, 5, initial_epoch=3, callbacks=[make(str(tmp_path / "b"))])
    np.testing.assert_array_equal(np.concatenate([first, second]), straight)


def test_warmup_hands_back_to_an_epoch_scheduler():
    """Warmup for 7 steps, then the rate a per-epoch LearningRateScheduler set (0.1 * 0.5 ** epoch)."""
    scheduler = keras.callbacks.LearningRateScheduler(lambda epoch: 0.1 * 0.5**epoch)
    rates, _ = fit_probe(lr_probe_model(), 3, callbacks=[scheduler, C.LearningRateWarmup(7, target_lr=0.1)])
    expected = [0.1 * s / 7 for s in range(7)] + [0.05] * 3 + [0.025] * 5
    np.testing.assert_allclose(rates, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "callback",
    [
        lambda: C.CyclicLRCallback(0.01, 0.1, 3),
        lambda: C.LearningRateWarmup(5),
        lambda: C.SnapshotEnsemble(2, 0.1, "unused"),
        lambda: C.LRFinder(),
    ],
    ids=["cyclic", "warmup", "snapshot", "lr_finder"],
)
def test_callbacks_refuse_a_schedule_optimizer(callback):
    model = lr_probe_model(S.OneCycleLR(0.1, 20))
    with pytest.raises(ValueError, match=r"was built with the schedule OneCycleLR, whose rate cannot be set"):
        model.fit(X_PROBE, X_PROBE, batch_size=8, epochs=1, callbacks=[callback()], verbose=0)


# ---------------------------------------------------------------- LearningRateLogger


@pytest.mark.parametrize(
    "setup",
    [
        lambda: (0.05, []),
        lambda: (keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5), []),
        lambda: (keras.optimizers.schedules.CosineDecay(0.0, 20, warmup_target=0.1, warmup_steps=6), []),
        lambda: (0.1, [keras.callbacks.LearningRateScheduler(lambda epoch: 0.1 / (1 + epoch))]),
        lambda: (0.1, [C.CyclicLRCallback(0.01, 0.1, 3)]),
        lambda: (0.1, [keras.callbacks.LearningRateScheduler(lambda e: 0.3), C.LearningRateWarmup(6)]),
    ],
    ids=["float", "exp_decay", "cosine_warmup", "keras_scheduler", "cyclic_callback", "warmup_and_scheduler"],
)
def test_logger_records_every_step_for_any_optimizer(setup):
    learning_rate, callbacks = setup()
    logger = C.LearningRateLogger()
    rates, history = fit_probe(lr_probe_model(learning_rate), 3, callbacks=[*callbacks, logger])
    assert logger.steps == list(range(15))
    np.testing.assert_allclose(logger.learning_rates, rates, rtol=1e-6, atol=1e-9)
    assert len(history.history["learning_rate"]) == 3
    np.testing.assert_allclose(history.history["learning_rate"], rates[4::5], rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- SnapshotEnsemble


def digits_mlp(compile=True):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    if compile:
        model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy")
    return model


def accuracy_of(model, x, y):
    return float(np.mean(keras.ops.convert_to_numpy(model(x)).argmax(1) == y))


def test_snapshot_ensemble_files_and_accuracy(tmp_path):
    dlkit.set_seed(3)
    data = dlkit.datasets.load_digits(flatten=True, seed=0)
    model = digits_mlp()
    snapshots = C.SnapshotEnsemble(num_snapshots=3, initial_lr=0.2, directory=tmp_path / "all")
    newest = C.SnapshotEnsemble(num_snapshots=3, initial_lr=0.2, directory=tmp_path / "newest", keep=1)
    model.fit(data.x_train, data.y_train, batch_size=64, epochs=6, callbacks=[snapshots, newest], verbose=0)

    assert sorted(os.listdir(tmp_path / "all")) == [f"snapshot-00{k}.weights.h5" for k in (1, 2, 3)]
    assert os.listdir(tmp_path / "newest") == ["snapshot-003.weights.h5"]  # and no temporary files
    members = []
    for path in snapshots.snapshot_paths:
        members.append(digits_mlp(compile=False))
        members[-1].load_weights(path)
    member_accuracies = [accuracy_of(member, data.x_test, data.y_test) for member in members]
    # The last snapshot is the final model (training ends at the end of cycle 3).
    np.testing.assert_array_equal(members[-1].get_weights()[0], model.get_weights()[0])
    ensemble = snapshots.ensemble()
    probabilities = keras.ops.convert_to_numpy(ensemble(data.x_test))
    members_mean = np.mean([keras.ops.convert_to_numpy(m(data.x_test)) for m in members], axis=0)
    np.testing.assert_allclose(probabilities, members_mean, rtol=1e-5, atol=1e-6)
    accuracy = accuracy_of(ensemble, data.x_test, data.y_test)
    assert accuracy >= np.mean(member_accuracies), (accuracy, member_accuracies)
    assert member_accuracies[-1] > 0.8
    # ensemble(m=2) averages the newest two only.
    newest_two = [keras.ops.convert_to_numpy(m(data.x_test[:20])) for m in members[1:]]
    pair = keras.ops.convert_to_numpy(snapshots.ensemble(m=2)(data.x_test[:20]))
    np.testing.assert_allclose(pair, np.mean(newest_two, axis=0), rtol=1e-5, atol=1e-6)


def test_snapshot_short_last_cycle_and_too_few_steps(tmp_path):
    # T = 9, M = 4: cycle length ceil(9/4) = 3 fits only 3 cycles -> warning, 3 snapshots at t = 3, 6, 9.
    callback = C.SnapshotEnsemble(4, 0.1, tmp_path / "a", total_steps=9)
    with pytest.warns(UserWarning, match="3 cycles"):
        fit_probe(lr_probe_model(), 2, callbacks=[callback])
    assert len(callback.snapshot_paths) == 3
    # T = 10, M = 4: cycles end at 3, 6, 9 and the short last one at T = 10 -> exactly 4 files.
    callback = C.SnapshotEnsemble(4, 0.1, tmp_path / "b")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fit_probe(lr_probe_model(), 2, callbacks=[callback])
    assert len(callback.snapshot_paths) == 4
    # M = 6 > T = 5 steps of a 1-epoch fit.
    with pytest.raises(
        ValueError, match=r"`num_snapshots` must be <= `total_steps`.*num_snapshots=6, total_steps=5"
    ):
        fit_probe(lr_probe_model(), 1, callbacks=[C.SnapshotEnsemble(6, 0.1, tmp_path / "c")])


# ---------------------------------------------------------------- LRFinder


class BatchLossBefore(keras.callbacks.Callback):
    """Independent batch losses: MSE of the (unshuffled) batch with the weights before the update."""

    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size, self.losses = x, y, batch_size, []

    def on_train_batch_begin(self, batch, logs=None):
        rows = slice(batch * self.batch_size, (batch + 1) * self.batch_size)
        prediction = keras.ops.convert_to_numpy(self.model(self.x[rows]))
        self.losses.append(float(np.mean((prediction - self.y[rows]) ** 2)))


def regression_model():
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "mse")
    return model


def test_lr_finder_records_batch_losses_and_restores_state():
    dlkit.set_seed(5)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(37, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.1).astype("float32")
    model = regression_model()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # non-trivial momentum slots and iterations
    weights = [w.copy() for w in model.get_weights()]
    optimizer_state = [np.array(v.numpy()) for v in model.optimizer.variables]

    finder = C.LRFinder(start_lr=1e-4, end_lr=1e-2, num_steps=12)
    probe = BatchLossBefore(x, y, 8)
    model.fit(x, y, batch_size=8, epochs=3, shuffle=False, callbacks=[probe, finder], verbose=0)

    assert len(finder.losses) == 12  # stops at num_steps, mid-epoch
    np.testing.assert_allclose(finder.losses, probe.losses[:12], rtol=1e-4)
    np.testing.assert_allclose(finder.learning_rates, 1e-4 * 100 ** (np.arange(12) / 11), rtol=1e-6)
    average, smoothed = 0.0, []
    for k, loss in enumerate(finder.losses):
        average = 0.98 * average + 0.02 * loss
        smoothed.append(average / (1 - 0.98 ** (k + 1)))
    np.testing.assert_allclose(finder.smoothed_losses, smoothed, rtol=1e-10)
    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    for before, variable in zip(optimizer_state, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(before, variable.numpy())


def test_lr_finder_stops_on_divergence_and_suggests():
    dlkit.set_seed(6)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]])).astype("float32")
    model = regression_model()
    finder = C.LRFinder(start_lr=1e-5, end_lr=100.0, num_steps=100)
    model.fit(x, y, batch_size=8, epochs=13, callbacks=[finder], verbose=0)
    assert len(finder.losses) < 100
    last = finder.smoothed_losses[-1]
    assert not np.isfinite(last) or last > 4.0 * min(finder.smoothed_losses[:-1])
    # The two rules, written here from their definitions over the curve the finder recorded (first 10 and last
    # 5 points skipped): the rate of the steepest descent of the smoothed loss against log10(lr), and the rate
    # of the lowest smoothed loss divided by 10.
    rates = np.asarray(finder.learning_rates[10:-5])
    smoothed = np.asarray(finder.smoothed_losses[10:-5])
    slopes = [
        (smoothed[i + 1] - smoothed[i - 1]) / np.log10(rates[i + 1] / rates[i - 1])
        for i in range(1, len(rates) - 1)
    ]
    assert finder.suggestion("steepest") == pytest.approx(rates[1 + int(np.argmin(slopes))])
    assert finder.suggestion("minimum/10") == pytest.approx(rates[int(np.argmin(smoothed))] / 10)
    # On this problem the loss falls before it diverges: the steepest descent comes before the minimum.
    assert finder.suggestion("steepest") < rates[int(np.argmin(smoothed))]
    figure = finder.plot()
    assert isinstance(figure, matplotlib.figure.Figure)
    ax = figure.axes[0]
    assert ax.get_xscale() == "log"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), rates)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), smoothed)


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: C.CyclicLRCallback(0.001, 0.006, 0),
            r"`step_size` must be > 0\.0\. Received: step_size=0\.0",
        ),
        (
            lambda: C.CyclicLRCallback(0.01, 0.006, 10),
            r"`max_lr` must be >= `base_lr`\. Received: max_lr=0\.006, base_lr=0\.01",
        ),
        (
            lambda: C.CyclicLRCallback(0.001, 0.006, 10, mode="cosine"),
            r"`mode` must be one of 'triangular', 'triangular2', 'exp_range'\. Received: mode='cosine'",
        ),
        (lambda: C.LearningRateWarmup(0), r"`warmup_steps` must be >= 1\. Received: warmup_steps=0"),
        (
            lambda: C.LearningRateWarmup(10, target_lr=-1.0),
            r"`target_lr` must be >= 0\.0\. Received: target_lr=-1\.0",
        ),
        (
            lambda: C.LearningRateWarmup(10, mode="gradual"),
            r"`mode` must be one of 'linear', 'constant'\. Received: mode='gradual'",
        ),
        (
            lambda: C.SnapshotEnsemble(11, 0.1, "d", total_steps=10),
            r"`num_snapshots` must be <= `total_steps` \(each snapshot needs a cycle .*\)\. "
            r"Received: num_snapshots=11, total_steps=10",
        ),
        (
            lambda: C.SnapshotEnsemble(0, 0.1, "d"),
            r"`num_snapshots` must be >= 1\. Received: num_snapshots=0",
        ),
        (lambda: C.SnapshotEnsemble(3, 0.0, "d"), r"`initial_lr` must be > 0\.0\. Received: initial_lr=0\.0"),
        (lambda: C.SnapshotEnsemble(3, 0.1, "d", keep=0), r"`keep` must be >= 1\. Received: keep=0"),
        (
            lambda: C.SnapshotEnsemble(3, 0.1, None),
            r"`directory` must be a string or path-like\. Received: directory=None",
        ),
        (lambda: C.LRFinder(start_lr=1.0, end_lr=0.1), r"`end_lr` must be > 1\.0\. Received: end_lr=0\.1"),
        (lambda: C.LRFinder(num_steps=1), r"`num_steps` must be >= 2\. Received: num_steps=1"),
        (lambda: C.LRFinder(stop_factor=1.0), r"`stop_factor` must be > 1\.0\. Received: stop_factor=1\.0"),
        (
            lambda: C.LRFinder().suggestion(),
            r"The range test recorded 0 points; fewer than 3 remain after skipping 10 \+ 5\. "
            r"Run more steps or lower `skip_begin`/`skip_end`\.",
        ),
        (
            lambda: C.LRFinder().suggestion(method="valley"),
            r"`method` must be one of 'steepest', 'minimum/10'\. Received: method='valley'",
        ),
    ],
)
def test_bad_arguments_raise_value_error(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_old_callback_name_warns_and_gives_the_renamed_class():
    with pytest.warns(
        DeprecationWarning, match=r"`dlkit.callbacks.CyclicLR` is deprecated.*CyclicLRCallback"
    ):
        old = C.CyclicLR
    assert old is C.CyclicLRCallback
    assert old is not S.CyclicLR
    assert "CyclicLR" not in C.__all__


def test_unknown_callback_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchCallback'"):
        C.NoSuchCallback  # noqa: B018
