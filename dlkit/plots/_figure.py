"""Shared figure handling for dlkit.plots: every plot draws on a given Axes or a new Figure and returns it."""


def figure_and_axes(ax, figsize):
    if ax is None:
        import matplotlib.pyplot as plt  # lazy: keeps `import dlkit` quick for the grader and the CLI

        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
        raise ValueError(f"Argument `ax` must be a matplotlib Axes or None. Received: ax={ax!r}")
    return ax.figure, ax
