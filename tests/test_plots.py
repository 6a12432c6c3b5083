"""dlkit.plots: each function draws what it says, headless, and returns the Figure."""

import keras
import matplotlib
import numpy as np
import pytest

from dlkit import datasets, plots


def test_decision_boundary_colors_the_regions_of_the_classifier():
    data = datasets.load_circles(seed=0)

    def inside_unit_circle(points):  # a known classifier: class 1 inside radius 0.9
        return (np.linalg.norm(points, axis=1) < 0.9).astype(float)

    fig = plots.plot_decision_boundary(inside_unit_circle, data.x_test, data.y_test, resolution=50, title="t")
    assert isinstance(fig, matplotlib.figure.Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "t"
    assert len(ax.collections) >= 2  # filled regions + scattered points
    scattered = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(scattered, data.x_test)


def test_decision_boundary_accepts_keras_models_and_softmax_outputs():
    data = datasets.load_blobs(num_classes=3, seed=0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    fig = plots.plot_decision_boundary(model, data.x_test, data.y_test, resolution=20)
    assert isinstance(fig, matplotlib.figure.Figure)


@pytest.mark.parametrize(
    "x, y, match",
    [
        (np.zeros((5, 3)), np.zeros(5), "shape \\(m, 2\\)"),
        (np.zeros((5, 2)), np.zeros(4), "one label per row"),
        (np.zeros(5), np.zeros(5), "rank 2"),
    ],
)
def test_decision_boundary_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_decision_boundary(lambda p: p[:, 0], x, y)


def test_learning_curves_draw_train_and_dev_and_the_marked_epoch():
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.8]}
    fig = plots.plot_learning_curves(history, "loss", mark_epoch=1)
    lines = fig.axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), history["loss"])
    np.testing.assert_allclose(lines[1].get_ydata(), history["val_loss"])
    assert lines[2].get_xdata()[0] == 2  # epoch index 1 drawn at x = 2 (epochs count from 1)
    with pytest.raises(ValueError, match="`metric`"):
        plots.plot_learning_curves(history, "accuracy")
    with pytest.raises(ValueError, match="`history`"):
        plots.plot_learning_curves([1, 2], "loss")


def test_learning_rate_plot_draws_each_policy():
    fig = plots.plot_learning_rate({"a": [0.1, 0.2, 0.3], "b": [1.0, 0.5]}, log_scale=True)
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    np.testing.assert_allclose(lines[1].get_ydata(), [1.0, 0.5])
    assert fig.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="non-empty 1-D"):
        plots.plot_learning_rate([])


def test_activation_histograms_one_panel_per_layer_with_statistics():
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(6, activation="tanh"),
            keras.layers.Dense(3, activation="tanh"),
        ]
    )
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    activations = plots.layer_activations(model, x)
    assert list(activations) == [layer.name for layer in model.layers]
    np.testing.assert_allclose(activations[model.layers[-1].name], model.predict(x, verbose=0), rtol=1e-5)
    fig = plots.plot_activation_histograms(activations, title="tanh")
    assert len(fig.axes) == 2
    first = activations[model.layers[0].name]
    assert f"std {first.std():.2g}" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="`activations`"):
        plots.plot_activation_histograms({})


def test_cost_contours_with_trajectories():
    path = np.array([[1.0, 1.0], [0.5, 0.2], [0.0, 0.0]])
    fig = plots.plot_cost_contours(
        lambda a, b: a**2 + 10 * b**2 + 1, (-2, 2), (-2, 2), trajectories={"GD": path}
    )
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_xydata(), path)
    assert "2 steps" in line.get_label()
    with pytest.raises(ValueError, match="`xlim`"):
        plots.plot_cost_contours(lambda a, b: a, (2, -2), (-2, 2))
    with pytest.raises(ValueError, match="`trajectories`"):
        plots.plot_cost_contours(lambda a, b: a + b, (-1, 1), (-1, 1), trajectories={"x": np.zeros(3)})
