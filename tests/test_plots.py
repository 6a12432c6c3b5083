"""dlkit.plots: what each figure shows (axes, labels, the data drawn, scales and limits), checked against the
inputs and NumPy, headless (the Agg backend, set in conftest.py; figures are closed after each test).

The contour checks read the ContourSet from `ax.collections`, where matplotlib >= 3.8 puts it."""

import keras
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.contour import ContourSet

from dlkit import plots

assert matplotlib.get_backend().lower() == "agg"


def _contour_set(ax):
    sets = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert len(sets) == 1, ax.collections
    return sets[0]


def _legend_texts(ax):
    legend = ax.get_legend()
    return None if legend is None else [text.get_text() for text in legend.get_texts()]


# ---------------------------------------------------------------------------------------- decision boundary


def _points(low, high, m=120, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, size=(m, 2))


def _check_decision_plot(fig, x, y, boundaries, padding, resolution):
    """The filled regions of classes 0, 1, ... are the strips of x0 split at `boundaries` (ascending)."""
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")

    # The view is the data's bounding box plus the padding.
    low, high = x.min(axis=0) - padding, x.max(axis=0) + padding
    np.testing.assert_allclose(ax.get_xlim(), (low[0], high[0]))
    np.testing.assert_allclose(ax.get_ylim(), (low[1], high[1]))

    # Scatter: the points themselves, coloured by their labels.
    scatter = ax.collections[-1]
    np.testing.assert_allclose(scatter.get_offsets(), x)
    np.testing.assert_array_equal(scatter.get_array(), y)

    # Filled contour: one band per class (levels at the half-integers), and together they cover the view.
    regions = _contour_set(ax)
    num_classes = len(boundaries) + 1
    np.testing.assert_allclose(regions.levels, np.arange(num_classes + 1) - 0.5)
    bands = regions.get_paths()
    assert len(bands) == num_classes
    extents = [band.get_extents() for band in bands]
    np.testing.assert_allclose(min(e.x0 for e in extents), low[0])
    np.testing.assert_allclose(max(e.x1 for e in extents), high[0])
    for e in extents:  # each strip spans the full height
        np.testing.assert_allclose((e.y0, e.y1), (low[1], high[1]))

    # Each strip ends at its class boundary, to within one grid cell.
    cell = (high[0] - low[0]) / (resolution - 1)
    edges = [low[0], *boundaries, high[0]]
    for k, e in enumerate(extents):
        assert abs(e.x0 - edges[k]) <= cell and abs(e.x1 - edges[k + 1]) <= cell, (k, e, edges)

    # Points more than a grid cell away from every boundary lie in the band of their true class, and only there.
    clear = np.all(np.abs(x[:, :1] - np.asarray(boundaries)[None, :]) > 1.5 * cell, axis=1)
    truth = np.searchsorted(boundaries, x[:, 0])
    for k, band in enumerate(bands):
        inside = band.contains_points(x[clear])
        np.testing.assert_array_equal(inside, truth[clear] == k, err_msg=f"class {k}")
    assert set(truth[clear]) == set(range(num_classes))  # every class was actually probed


def _sigmoid_model():
    """A Keras model whose boundary is x0 = 0: sigmoid(4 x0) > 0.5 exactly when x0 > 0."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.layers[0].set_weights([np.array([[4.0], [0.0]], "float32"), np.zeros(1, "float32")])
    return model


@pytest.mark.parametrize(
    "make_model",
    [
        lambda: lambda p: (p[:, 0] > 0).astype(float),  # hard labels pass through
        lambda: lambda p: 1.0 / (1.0 + np.exp(-3.0 * p[:, :1])),  # probabilities split at 0.5
        _sigmoid_model,
    ],
    ids=["callable-labels", "callable-probabilities", "keras-sigmoid"],
)
def test_decision_boundary_binary_regions_follow_the_model(make_model):
    x = _points((-2.0, -1.0), (3.0, 2.0))
    y = (x[:, 0] > 0).astype(int)
    fig = plots.plot_decision_boundary(make_model(), x, y, resolution=60, padding=0.25, title="x0 = 0")
    assert fig.axes[0].get_title() == "x0 = 0"
    _check_decision_plot(fig, x, y, boundaries=[0.0], padding=0.25, resolution=60)


def test_decision_boundary_keras_softmax_takes_the_argmax():
    # logits (-x0 - 1, 0, x0 - 1): class 0 left of x0 = -1, class 2 right of x0 = 1, class 1 in between.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    kernel = np.array([[-1.0, 0.0, 1.0], [0.0, 0.0, 0.0]], "float32")
    model.layers[0].set_weights([kernel, np.array([-1.0, 0.0, -1.0], "float32")])
    x = _points((-3.0, -1.0), (3.0, 1.0), m=200, seed=1)
    y = np.searchsorted([-1.0, 1.0], x[:, 0])
    fig = plots.plot_decision_boundary(model, x, y, resolution=80, padding=0.5)
    assert fig.axes[0].get_title() == ""
    _check_decision_plot(fig, x, y, boundaries=[-1.0, 1.0], padding=0.5, resolution=80)


@pytest.mark.parametrize("predicted_classes", [2, 1])
def test_decision_boundary_regions_and_points_share_colours(predicted_classes):
    # Class k's region and class k's points must be drawn in the same colour of the Spectral map, also when the
    # model predicts fewer classes (here: only class 1 on the right half, or class 1 everywhere).
    x = _points(-1, 1)
    y = (x[:, 0] > 0).astype(int)

    def model(points):
        return (points[:, 0] > 0).astype(int) if predicted_classes == 2 else np.ones(len(points), int)

    fig = plots.plot_decision_boundary(model, x, y)
    fig.canvas.draw()  # colours are mapped at draw time
    ax = fig.axes[0]
    cmap = matplotlib.colormaps["Spectral"]
    point_colours = ax.collections[-1].get_facecolors()[:, :3]
    np.testing.assert_allclose(point_colours[y == 0], np.tile(cmap(0.0)[:3], (np.sum(y == 0), 1)))
    np.testing.assert_allclose(point_colours[y == 1], np.tile(cmap(1.0)[:3], (np.sum(y == 1), 1)))
    band_colours = np.asarray(_contour_set(ax).get_facecolor())[:, :3]
    np.testing.assert_allclose(band_colours, [cmap(0.0)[:3], cmap(1.0)[:3]])


def test_decision_boundary_draws_on_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    x = _points((-1.0, -1.0), (1.0, 1.0), m=20)
    returned = plots.plot_decision_boundary(lambda p: p[:, 0] > 0, x, x[:, 0] > 0, ax=right, resolution=10)
    assert returned is fig
    assert len(left.collections) == 0 and len(right.collections) == 2
    np.testing.assert_allclose(right.collections[-1].get_offsets(), x)


@pytest.mark.parametrize(
    ("model", "x", "y", "kwargs", "match"),
    [
        (
            None,
            np.zeros((5, 3)),
            np.zeros(5),
            {},
            r"`x` must have shape \(m, 2\)\. Received: x with shape \(5, 3\)",
        ),
        (
            None,
            np.zeros((5, 2)),
            np.zeros(4),
            {},
            r"`y` must hold one label per row of `x` \(5\)\. Received 4 labels",
        ),
        (None, np.zeros(5), np.zeros(5), {}, r"`x` must have rank 2\. Received: x with shape \(5,\)"),
        (
            "model",
            np.zeros((5, 2)),
            np.zeros(5),
            {},
            r"`model` must be a Keras model or a callable\. Received: str",
        ),
        (
            None,
            np.zeros((5, 2)),
            np.zeros(5),
            {"resolution": 5},
            r"`resolution` must be >= 10\. Received: resolution=5",
        ),
        (
            None,
            np.zeros((5, 2)),
            np.zeros(5),
            {"ax": "ax"},
            r"`ax` must be a matplotlib Axes or None\. Received: ax='ax'",
        ),
    ],
)
def test_decision_boundary_bad_input(model, x, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_decision_boundary(model or (lambda p: p[:, 0]), x, y, **kwargs)


# ------------------------------------------------------------------------------------------ learning curves


def test_learning_curves_draw_train_and_dev_and_the_marked_epoch():
    history = keras.callbacks.History()
    history.history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.8], "accuracy": [0.5, 0.7, 0.9]}
    fig = plots.plot_learning_curves(history, "loss", mark_epoch=1, title="run 1")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    train, dev, marker = ax.get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])  # epochs count from 1
    np.testing.assert_allclose(train.get_ydata(), [1.0, 0.5, 0.3])
    np.testing.assert_array_equal(dev.get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(dev.get_ydata(), [1.1, 0.7, 0.8])
    np.testing.assert_array_equal(marker.get_xdata(), [2, 2])  # epoch index 1 is the 2nd epoch
    assert _legend_texts(ax) == ["train loss", "dev loss", "epoch 2"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "loss", "run 1")
    assert ax.get_yscale() == "linear"


def test_learning_curves_without_dev_and_on_a_log_scale():
    fig = plots.plot_learning_curves({"accuracy": [0.5, 0.7, 0.9, 0.95]}, "accuracy", log_scale=True)
    ax = fig.axes[0]
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_allclose(line.get_ydata(), [0.5, 0.7, 0.9, 0.95])
    assert _legend_texts(ax) == ["train accuracy"]
    assert (ax.get_ylabel(), ax.get_title(), ax.get_yscale()) == ("accuracy", "", "log")


def test_learning_curves_bad_input():
    with pytest.raises(ValueError, match=r"`metric` must be one of \['loss'\]\. Received: metric='accuracy'"):
        plots.plot_learning_curves({"loss": [1.0]}, "accuracy")
    with pytest.raises(ValueError, match=r"`history` must be a keras History or a dict\. Received: list"):
        plots.plot_learning_curves([1, 2], "loss")


# ------------------------------------------------------------------------------------------- learning rate


def test_learning_rate_plot_draws_each_policy():
    policies = {
        "exp decay": [0.1 * 0.5 ** (step / 10) for step in range(30)],
        "constant": [0.01] * 12,
    }
    fig = plots.plot_learning_rate(policies, log_scale=True, title="schedules")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == list(policies)
    assert _legend_texts(ax) == list(policies)
    for line, values in zip(lines, policies.values(), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(len(values)))
        np.testing.assert_allclose(line.get_ydata(), values)
    assert ax.get_xlabel() == "step (optimizer iteration)"
    assert ax.get_ylabel() == "learning rate"
    assert ax.get_title() == "schedules"
    assert ax.get_yscale() == "log"
    assert ax.get_xscale() == "linear"
    # The view holds every point drawn.
    low, high = ax.get_ylim()
    assert low <= min(min(v) for v in policies.values()) and high >= max(max(v) for v in policies.values())
    assert ax.get_xlim()[0] <= 0 and ax.get_xlim()[1] >= 29


def test_learning_rate_plot_single_sequence_with_and_without_a_label():
    values = np.geomspace(1e-4, 1e-1, 7)
    ax = plots.plot_learning_rate(values, label="warmup").axes[0]
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), values)
    assert _legend_texts(ax) == ["warmup"]
    assert ax.get_yscale() == "linear"

    ax = plots.plot_learning_rate(list(values)).axes[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), values)
    assert ax.get_legend() is None  # nothing to name


def test_learning_rate_plot_draws_on_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert plots.plot_learning_rate([0.3, 0.2, 0.1], ax=left) is fig
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), [0.3, 0.2, 0.1])
    assert right.get_lines() == []


@pytest.mark.parametrize(
    ("learning_rates", "match"),
    [
        ([], r"non-empty 1-D sequences\. Received shape \(0,\)"),
        ({"a": [[0.1, 0.2]]}, r"non-empty 1-D sequences\. Received shape \(1, 2\)"),
        ({"a": ["fast"]}, r"`learning_rates` must hold sequences of numbers\. Received: list"),
    ],
)
def test_learning_rate_plot_bad_input(learning_rates, match):
    figures_before = plt.get_fignums()
    with pytest.raises(ValueError, match=match):
        plots.plot_learning_rate(learning_rates)
    assert plt.get_fignums() == figures_before, "bad input must not leave an empty figure behind"


# ------------------------------------------------------------------------------------ activation histograms


def _tanh_model():
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(6, activation="tanh", name="hidden"),
            keras.layers.Dense(3, activation="tanh", name="output"),
        ]
    )
    rng = np.random.default_rng(2)
    weights = [rng.normal(size=(4, 6)), rng.normal(size=6), rng.normal(size=(6, 3)), rng.normal(size=3)]
    model.set_weights([w.astype("float32") for w in weights])
    return model, weights


def test_layer_activations_are_the_forward_pass_of_each_layer():
    model, (w1, b1, w2, b2) = _tanh_model()
    x = np.random.default_rng(0).normal(size=(32, 4))
    activations = plots.layer_activations(model, x)
    assert list(activations) == ["hidden", "output"]
    hidden = np.tanh(x @ w1 + b1)
    np.testing.assert_allclose(activations["hidden"], hidden, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(activations["output"], np.tanh(hidden @ w2 + b2), rtol=1e-5, atol=1e-6)


def test_activation_histograms_one_panel_per_layer_with_statistics():
    rng = np.random.default_rng(3)
    activations = {"hidden": np.tanh(rng.normal(size=(32, 6))), "output": rng.normal(scale=0.1, size=(32, 3))}
    fig = plots.plot_activation_histograms(activations, bins=12, title="tanh, Xavier")
    assert fig.get_suptitle() == "tanh, Xavier"
    assert len(fig.axes) == 2
    for ax, (name, values) in zip(fig.axes, activations.items(), strict=True):
        flat = values.ravel()
        assert ax.get_title() == f"{name}\nmean {flat.mean():.2g} std {flat.std():.2g}"
        heights = np.array([bar.get_height() for bar in ax.patches])
        assert heights.sum() == flat.size  # every activation counted once
        counts, edges = np.histogram(flat, bins=12)
        np.testing.assert_array_equal(heights, counts)
        np.testing.assert_allclose([bar.get_x() for bar in ax.patches], edges[:-1])
        assert ax.patches[-1].get_x() + ax.patches[-1].get_width() == pytest.approx(flat.max())


def test_activation_histograms_share_a_value_range():
    activations = {"a": np.array([-7.0, -0.6, -0.1, 0.2, 0.9, 5.0]), "b": np.linspace(-3.0, 3.0, 50)}
    fig = plots.plot_activation_histograms(activations, bins=4, value_range=(-1.0, 1.0))
    assert fig.get_suptitle() == ""
    for ax, values in zip(fig.axes, activations.values(), strict=True):
        bars = ax.patches
        assert bars[0].get_x() == pytest.approx(-1.0)
        assert bars[-1].get_x() + bars[-1].get_width() == pytest.approx(1.0)
        counts, _ = np.histogram(values, bins=4, range=(-1.0, 1.0))  # values outside the range are dropped
        np.testing.assert_array_equal([bar.get_height() for bar in bars], counts)
    assert [bar.get_height() for bar in fig.axes[0].patches] == [1, 1, 1, 1]  # -7 and 5 fall outside


@pytest.mark.parametrize(
    ("activations", "bins", "match"),
    [
        ({}, 50, r"`activations` must be a non-empty dict of layer name -> array\. Received: dict"),
        ([np.ones(3)], 50, r"`activations` must be a non-empty dict of layer name -> array\. Received: list"),
        ({"a": np.ones(3)}, 1, r"`bins` must be an integer >= 2\. Received: bins=1"),
    ],
)
def test_activation_histograms_bad_input(activations, bins, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_activation_histograms(activations, bins=bins)


# ------------------------------------------------------------------------------------------- cost contours


def test_cost_contours_draw_the_cost_and_each_trajectory():
    def bowl(w1, w2):
        return w1**2 + 10 * w2**2 + 1

    paths = {
        "GD": np.array([[1.5, 1.0], [0.9, -0.8], [0.5, 0.6], [0.0, 0.0]]),
        "Adam": np.array([[-1.0, 2.0], [-0.5, 1.0], [0.0, 0.1]]),
    }
    fig = plots.plot_cost_contours(bowl, (-2, 2), (-1, 3), trajectories=paths, levels=12, title="bowl")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("$w_1$", "$w_2$", "bowl")

    lines = ax.get_lines()
    assert len(lines) == 2
    for line, path in zip(lines, paths.values(), strict=True):
        np.testing.assert_allclose(line.get_xydata(), path)
    assert _legend_texts(ax) == ["GD (3 steps)", "Adam (2 steps)"]

    # The contours span the requested window, with 12 log-spaced levels between the cost's extremes there.
    np.testing.assert_allclose(ax.get_xlim(), (-2, 2))
    np.testing.assert_allclose(ax.get_ylim(), (-1, 3))
    contours = _contour_set(ax)
    assert len(contours.levels) == 12
    assert 1.0 <= contours.levels[0] < 1.01  # the minimum, 1 at (0, 0), up to the grid spacing
    assert contours.levels[-1] == pytest.approx(bowl(2.0, 3.0))  # the corner farthest from the minimum
    ratios = contours.levels[1:] / contours.levels[:-1]
    np.testing.assert_allclose(ratios, ratios[0])


def test_cost_contours_linear_levels_when_the_cost_reaches_zero():
    fig = plots.plot_cost_contours(lambda a, b: a + b, (-1, 1), (0, 2), levels=5, resolution=11)
    ax = fig.axes[0]
    np.testing.assert_allclose(_contour_set(ax).levels, [-1.0, 0.0, 1.0, 2.0, 3.0])
    assert ax.get_lines() == [] and ax.get_legend() is None
    assert ax.get_title() == ""


@pytest.mark.parametrize(
    ("cost", "xlim", "ylim", "kwargs", "match"),
    [
        (None, (2, -2), (-2, 2), {}, r"`xlim` must satisfy low < high\. Received: xlim=\(2, -2\)"),
        (None, (-2, 2), "y", {}, r"`ylim` must be a pair \(low, high\)\. Received: ylim='y'"),
        ("cost", (-2, 2), (-2, 2), {}, r"`cost` must be callable\. Received: str"),
        (None, (-2, 2), (-2, 2), {"levels": 1}, r"`levels` must be >= 2\. Received: levels=1"),
        (
            None,
            (-1, 1),
            (-1, 1),
            {"trajectories": {"x": np.zeros(3)}},
            r"`trajectories` must map labels to \(steps, 2\) arrays\. Received 'x': \(3,\)",
        ),
    ],
)
def test_cost_contours_bad_input(cost, xlim, ylim, kwargs, match):
    figures_before = plt.get_fignums()
    with pytest.raises(ValueError, match=match):
        plots.plot_cost_contours(cost or (lambda a, b: a + b), xlim, ylim, **kwargs)
    assert plt.get_fignums() == figures_before, "bad input must not leave an empty figure behind"


def test_learning_curves_name_the_validation_set_as_the_experiment_uses_it():
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    labels = [line.get_label() for line in plots.plot_learning_curves(history).axes[0].lines]
    assert labels == ["train loss", "dev loss"]
    fig = plots.plot_learning_curves(history, validation_label="test")
    assert [line.get_label() for line in fig.axes[0].lines] == ["train loss", "test loss"]
    with pytest.raises(
        ValueError,
        match=r"Argument `validation_label` must be a non-empty string. Received: validation_label=''",
    ):
        plots.plot_learning_curves(history, validation_label="")


def test_activation_histograms_label_their_axes():
    fig = plots.plot_activation_histograms({"dense": np.linspace(-1, 1, 50), "dense_1": np.zeros(10)}, bins=5)
    assert [ax.get_xlabel() for ax in fig.axes] == ["activation", "activation"]
    assert fig.axes[0].get_ylabel() == "count"
