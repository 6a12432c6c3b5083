"""A computational graph drawn the cs231n way: nodes left to right, forward values and gradients on the wires."""

import numbers

from dlkit.plots._figure import figure_and_axes

_VALUE_COLOUR = "tab:green"
_GRADIENT_COLOUR = "tab:red"


def _check_edges(edges):
    if isinstance(edges, (str, bytes)) or not hasattr(edges, "__iter__"):
        raise ValueError(
            f"Argument `edges` must be a list of (input, output) pairs. Received: edges={edges!r}"
        )
    edges = list(edges)
    if not edges:
        raise ValueError("Argument `edges` must hold at least one (input, output) pair. Received: edges=[]")
    for edge in edges:
        if not isinstance(edge, (tuple, list)) or len(edge) != 2:
            raise ValueError(f"Argument `edges` must hold (input, output) pairs. Received the item {edge!r}")
        if edge[0] == edge[1]:
            raise ValueError(f"Argument `edges` must not hold a self-loop. Received the edge {tuple(edge)!r}")
    return [tuple(edge) for edge in edges]


def _depths(nodes, edges):
    """Longest path from a source to each node (sources at 0); a cycle raises ValueError."""
    inputs = {node: [source for source, target in edges if target == node] for node in nodes}
    depths, visiting = {}, set()

    def depth(node):
        if node in depths:
            return depths[node]
        if node in visiting:
            raise ValueError(
                f"Argument `edges` must describe an acyclic graph. Received a cycle through {node!r}"
            )
        visiting.add(node)
        depths[node] = 1 + max((depth(source) for source in inputs[node]), default=-1)
        visiting.discard(node)
        return depths[node]

    for node in nodes:
        depth(node)
    return depths


def _layered_positions(nodes, depths):
    layers = {}
    for node in nodes:
        layers.setdefault(depths[node], []).append(node)
    positions = {}
    for column, members in layers.items():
        for row, node in enumerate(members):
            positions[node] = (float(column), (len(members) - 1) / 2.0 - row)
    return positions


def _check_mapping(name, mapping, nodes, numeric):
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise ValueError(
            f"Argument `{name}` must be a dict keyed by node, or None. Received: {name}={mapping!r}"
        )
    unknown = [key for key in mapping if key not in nodes]
    if unknown:
        raise ValueError(f"Argument `{name}` must name nodes of `edges`. Received unknown nodes {unknown}")
    if numeric:
        for key, value in mapping.items():
            if not isinstance(value, numbers.Real):
                raise ValueError(
                    f"Argument `{name}` must map nodes to numbers. Received: {name}[{key!r}]={value!r}"
                )
    return dict(mapping)


def _value_and_gradient(ax, node, values, gradients, xy, dx, ha):
    """Writes `node`'s forward value just above `xy` and its gradient just below (cs231n's green and red)."""
    for table, dy, va, colour in (
        (values, 4, "bottom", _VALUE_COLOUR),
        (gradients, -4, "top", _GRADIENT_COLOUR),
    ):
        if node in table:
            ax.annotate(
                f"{table[node]:.4g}",
                xy,
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                color=colour,
                fontsize=10,
            )


def plot_graph(edges, *, labels=None, values=None, gradients=None, positions=None, ax=None, title=None):
    """Draws a computational graph with forward values (green) and gradients (red) on its wires.

    The layout of the cs231n / EECS 498 backpropagation slides: inputs on the left, the output on the right.
    Each node sits in the column of its longest path from an input (unless `positions` says otherwise); each
    wire `u -> v` carries u's forward value above it and, written below it, the gradient of the output with
    respect to u (dOut/du, the sum over all of u's outgoing wires). The output's own value and gradient (1) are
    written to its right.

    ```
    column(node) = 0 for an input, 1 + max(column(input) for its inputs) otherwise
    wire u -> v:  above: values[u]   below: gradients[u]
    ```

    Example:

    >>> edges = [("x", "+"), ("y", "+"), ("+", "*"), ("z", "*")]
    >>> fig = plot_graph(edges, values={"x": -2, "y": 5, "z": -4, "+": 3, "*": -12},
    ...                  gradients={"x": -4, "y": -4, "z": 3, "+": -4, "*": 1}, title="f = (x + y) z")

    Args:
        edges: List of (input, output) pairs of hashable node ids: `input` feeds `output`.
        labels: Dict node -> string written in the node, or None (the node id itself).
        values: Dict node -> number (the forward value), or None. Nodes missing from it get no value.
        gradients: Dict node -> number (dOut/dnode), or None. Nodes missing from it get no gradient.
        positions: Dict node -> (x, y) for every node, or None for the layered layout.
        ax: Matplotlib Axes to draw on, or None for a new figure.
        title: String or None.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: if `edges` is empty, holds something other than pairs, a self-loop or a cycle; if
            `labels`, `values`, `gradients` or `positions` name a node that is not in `edges`, or `values` /
            `gradients` hold something other than numbers; if `positions` misses a node.
    """
    edges = _check_edges(edges)
    nodes = list(dict.fromkeys(node for edge in edges for node in edge))
    depths = _depths(nodes, edges)
    labels = _check_mapping("labels", labels, nodes, numeric=False)
    values = _check_mapping("values", values, nodes, numeric=True)
    gradients = _check_mapping("gradients", gradients, nodes, numeric=True)
    if positions is None:
        positions = _layered_positions(nodes, depths)
    else:
        positions = _check_mapping("positions", positions, nodes, numeric=False)
        missing = [node for node in nodes if node not in positions]
        if missing:
            raise ValueError(
                f"Argument `positions` must give every node a place. Received none for {missing}"
            )
        positions = {node: (float(xy[0]), float(xy[1])) for node, xy in positions.items()}

    width = max(x for x, _ in positions.values()) - min(x for x, _ in positions.values())
    height = max(y for _, y in positions.values()) - min(y for _, y in positions.values())
    fig, ax = figure_and_axes(ax, (2.0 + 1.8 * width, 1.6 + 1.2 * height))
    for node in nodes:
        x, y = positions[node]
        ax.text(
            x,
            y,
            str(labels.get(node, node)),
            ha="center",
            va="center",
            fontsize=11,
            zorder=3,
            bbox={"boxstyle": "circle,pad=0.4", "facecolor": "white", "edgecolor": "0.3"},
        )
    for source, target in edges:
        (x0, y0), (x1, y1) = positions[source], positions[target]
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            zorder=1,
            arrowprops={"arrowstyle": "-|>", "color": "0.4", "shrinkA": 15, "shrinkB": 15},
        )
        middle = ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
        _value_and_gradient(ax, source, values, gradients, middle, 0, "center")
    for node in nodes:
        if any(source == node for source, _ in edges):
            continue  # an output: its value and gradient go to its right
        _value_and_gradient(ax, node, values, gradients, positions[node], 22, "left")
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    ax.set_xlim(min(xs) - 0.5, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_axis_off()
    legend = "green: forward value, red: gradient"
    ax.set_title(f"{title}\n{legend}" if title else legend, fontsize=10)
    return fig
