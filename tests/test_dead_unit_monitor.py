"""dlkit.callbacks.DeadUnitMonitor in real `fit` calls, against a NumPy count of the silent units."""

import keras
import numpy as np
import pytest

from dlkit.callbacks import DeadUnitMonitor


def _numpy_dead(model, x):
    """Dead fraction of each hidden ReLU Dense layer, by NumPy on the model's weights."""
    fractions, h = [], x.astype(np.float64)
    for layer in model.layers[:-1]:
        kernel, bias = layer.get_weights()
        h = np.maximum(h @ kernel + bias, 0.0)
        fractions.append(float(np.mean(np.all(h == 0.0, axis=0))))
    return fractions


def _model(bias):
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(
                16, activation="relu", bias_initializer=keras.initializers.Constant(bias), name="h1"
            ),
            keras.layers.Dense(8, activation="relu", name="h2"),
            keras.layers.Dense(1, name="out"),
        ]
    )


def test_logs_per_layer_per_epoch_and_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 5)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = _model(bias=-1.0)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    monitor = DeadUnitMonitor(x[:64])

    class Check(keras.callbacks.Callback):  # after the monitor: compares its value with NumPy's each epoch
        seen = []

        def on_epoch_end(self, epoch, logs=None):
            self.seen.append([logs["dead_fraction_h1"], logs["dead_fraction_h2"]])
            assert self.seen[-1] == pytest.approx(_numpy_dead(self.model, x[:64]))

    history = model.fit(x, y, epochs=4, batch_size=32, callbacks=[monitor, Check()], verbose=0)
    assert monitor.layer_names == ["h1", "h2"]
    assert history.history["dead_fraction_h1"] == monitor.dead_fractions["h1"]
    assert len(monitor.dead_fractions["h2"]) == 4
    assert [monitor.dead_fractions["h1"][-1], monitor.dead_fractions["h2"][-1]] == pytest.approx(
        _numpy_dead(model, x[:64])
    )
    assert set(monitor.initial) == {"h1", "h2"}


def test_a_large_negative_bias_kills_every_unit_and_they_stay_dead():
    x = np.random.default_rng(1).normal(size=(64, 5)).astype("float32")
    model = _model(bias=-50.0)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    monitor = DeadUnitMonitor(x)
    model.fit(x, x[:, :1], epochs=2, verbose=0, callbacks=[monitor])
    assert monitor.initial["h1"] == 1.0
    assert monitor.dead_fractions["h1"] == [1.0, 1.0]  # no gradient reaches a dead unit's weights


def test_validation():
    with pytest.raises(ValueError, match="Argument `x_probe` must be a non-empty batch"):
        DeadUnitMonitor(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"Argument `threshold` must be >= 0.0"):
        DeadUnitMonitor(np.zeros((2, 3)), threshold=-0.1)
    linear = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    linear.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="must have a hidden layer with a nonlinear activation"):
        linear.fit(
            np.zeros((4, 3)),
            np.zeros((4, 1)),
            epochs=1,
            verbose=0,
            callbacks=[DeadUnitMonitor(np.zeros((2, 3)))],
        )
