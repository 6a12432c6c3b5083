"""dlkit.plots.plot_graph: nodes in the columns of their longest path, one arrow per edge, forward values and
gradients written on the wires as given (checked against the inputs), headless (Agg, see conftest.py)."""

import matplotlib
import matplotlib.pyplot as plt
import pytest

from dlkit import plots

assert matplotlib.get_backend().lower() == "agg"

# The cs231n example f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4.
EDGES = [("x", "q"), ("y", "q"), ("q", "f"), ("z", "f")]
VALUES = {"x": -2.0, "y": 5.0, "z": -4.0, "q": 3.0, "f": -12.0}
GRADIENTS = {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}


def _node_texts(ax):
    """{text: (x, y)} of the node circles (Text artists with a bbox)."""
    return {t.get_text(): t.get_position() for t in ax.texts if t.get_bbox_patch() is not None}


def _arrows(ax):
    return [a for a in ax.texts if isinstance(a, matplotlib.text.Annotation) and a.arrow_patch is not None]


def _wire_texts(ax, colour):
    rgba = matplotlib.colors.to_rgba(colour)
    return sorted(
        t.get_text()
        for t in ax.texts
        if isinstance(t, matplotlib.text.Annotation)
        and t.arrow_patch is None
        and matplotlib.colors.to_rgba(t.get_color()) == rgba
    )


def test_layered_layout_one_column_per_longest_path_and_one_arrow_per_edge():
    fig = plots.plot_graph(EDGES, labels={"q": "+", "f": "*"})
    ax = fig.axes[0]
    nodes = _node_texts(ax)
    assert set(nodes) == {"x", "y", "z", "+", "*"}
    # x, y, z are inputs (column 0); q = x + y is column 1; f = q z is column 2 (its longest path is via q).
    assert [nodes[name][0] for name in ("x", "y", "z", "+", "*")] == [0, 0, 0, 1, 2]
    assert sorted(nodes[name][1] for name in ("x", "y", "z")) == [-1, 0, 1]
    arrows = _arrows(ax)
    assert len(arrows) == len(EDGES)
    starts_ends = sorted((a.xyann, a.xy) for a in arrows)
    expected = sorted(
        (
            tuple(map(float, nodes[{"q": "+", "f": "*"}.get(u, u)])),
            tuple(map(float, nodes[{"q": "+", "f": "*"}.get(v, v)])),
        )
        for u, v in EDGES
    )
    assert starts_ends == expected
    assert not ax.axison


def test_values_and_gradients_are_written_on_the_wires_and_beside_the_output():
    fig = plots.plot_graph(EDGES, values=VALUES, gradients=GRADIENTS, title="f = (x + y) z")
    ax = fig.axes[0]
    # One value and one gradient per wire (out of x, y, q, z), plus the output's own pair.
    assert _wire_texts(ax, "tab:green") == sorted(["-2", "5", "3", "-4", "-12"])
    assert _wire_texts(ax, "tab:red") == sorted(["-4", "-4", "-4", "3", "1"])
    assert ax.get_title().startswith("f = (x + y) z\n")


def test_missing_values_are_left_out_and_positions_are_used_as_given():
    positions = {"x": (0, 2), "y": (0, 0), "z": (1, -1), "q": (1, 1), "f": (2, 0)}
    fig = plots.plot_graph(EDGES, values={"x": 0.5}, positions=positions)
    ax = fig.axes[0]
    assert {k: tuple(map(float, v)) for k, v in _node_texts(ax).items()} == {
        k: tuple(map(float, v)) for k, v in positions.items()
    }
    assert _wire_texts(ax, "tab:green") == ["0.5"]
    assert _wire_texts(ax, "tab:red") == []


def test_draws_on_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    returned = plots.plot_graph(EDGES, ax=right)
    assert returned is fig
    assert len(_arrows(right)) == len(EDGES) and not _arrows(left)


@pytest.mark.parametrize(
    "edges, kwargs, match",
    [
        ([], {}, "at least one"),
        ("xy", {}, "list of"),
        ([("x", "y", "z")], {}, "pairs"),
        ([("x", "x")], {}, "self-loop"),
        ([("a", "b"), ("b", "a")], {}, "acyclic"),
        (EDGES, {"values": {"w": 1.0}}, "unknown nodes"),
        (EDGES, {"gradients": {"x": "big"}}, "numbers"),
        (EDGES, {"labels": ["x"]}, "dict"),
        (EDGES, {"positions": {"x": (0, 0)}}, "every node"),
        (EDGES, {"ax": "not an axes"}, "Axes"),
    ],
)
def test_bad_input(edges, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_graph(edges, **kwargs)
