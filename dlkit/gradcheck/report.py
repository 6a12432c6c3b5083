"""The result of a gradient check: one overall difference, a verdict, and one row per checked input."""

import dataclasses
import html

import numpy as np

# Verdict bands ("Gradient Checking", Deep Learning Specialization, course 2): difference < 1e-7 is great;
# [1e-7, 1e-3) -- around 1e-5 -- means double-check the components; >= 1e-3 is almost certainly a bug.
GREAT_BELOW = 1e-7
BUG_FROM = 1e-3
VERDICTS = ("great", "double-check", "almost certainly a bug")


def verdict_for(difference):
    """Maps a relative difference to "great" (< 1e-7), "double-check" ([1e-7, 1e-3)) or "almost certainly a bug"."""
    if difference < GREAT_BELOW:
        return VERDICTS[0]
    if difference < BUG_FROM:
        return VERDICTS[1]
    return VERDICTS[2]


def relative_difference(grad, gradapprox):
    """The course's ||grad - gradapprox||_2 / (||grad||_2 + ||gradapprox||_2); 0 when both norms are 0."""
    grad = np.ravel(np.asarray(grad, dtype=np.float64))
    gradapprox = np.ravel(np.asarray(gradapprox, dtype=np.float64))
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    return float(numerator / denominator) if denominator > 0 else 0.0


@dataclasses.dataclass
class GradcheckRow:
    """One checked input (or model variable).

    Attributes:
        name: String. The input's name (a model variable's path, e.g. `dense_1/kernel`).
        shape: Tuple. The input's shape.
        difference: Float. The course's relative difference restricted to this input.
        max_abs_error: Float. max |grad - gradapprox| over the elements (over the directions in fast mode).
        worst_index: Tuple or None. Index (in `shape`) of the element with the largest absolute error; None for
            a row checked only along random directions.
        passed: Boolean. `difference < threshold`.
        mode: String. "full" (every element) or "fast" (random directions only).
        grad: Float64 array of `shape`. The analytic (GradientTape) gradient.
        gradapprox: Float64 array of `shape`, or None for a row checked only in fast mode.
    """

    name: str
    shape: tuple
    difference: float
    max_abs_error: float
    worst_index: object
    passed: bool
    mode: str
    grad: np.ndarray
    gradapprox: object = None

    @property
    def verdict(self):
        """This row's verdict, with the same bands as the report's."""
        return verdict_for(self.difference)

    @property
    def num_elements(self):
        return int(np.prod(self.shape, dtype=np.int64))


class GradcheckReport:
    """What `gradcheck` and `gradcheck_model` return: the overall verdict and where a gradient is wrong.

    `str(report)` is a text table and Jupyter renders the report as HTML. Read `report.worst` (the row with
    the largest difference) first when a check fails: "look at components to identify the bug".

    Attributes:
        difference: Float. ||grad - gradapprox||_2 / (||grad||_2 + ||gradapprox||_2) over all inputs
            concatenated (fast mode: over the directional derivatives g.u and their numerical estimates).
        passed: Boolean. `difference < threshold`.
        verdict: String. "great" (< 1e-7), "double-check" ([1e-7, 1e-3)) or "almost certainly a bug" (>= 1e-3).
        threshold, epsilon: Floats. The settings used.
        mode: String. "full" or "fast".
        rows: List of `GradcheckRow`, one per input, in input order.
        grad: Float64 vector. The analytic gradients of all inputs, flattened and concatenated.
        gradapprox: Float64 vector like `grad`, or None in fast mode (see `rows` for the localized inputs).
        directional_grad, directional_gradapprox: Float64 vectors (fast mode) or None.
        localized: Boolean. Fast mode failed and the failing inputs were re-checked in full mode.
        cost: Float. J at the unperturbed inputs.
        num_evaluations: Integer. Perturbed cost evaluations made.
        evaluation: String. "vectorized", "loop" or "eager" (see `numerical_gradient`).
        notes: List of strings. Remarks (localization, float64 clone, evaluation fallback).
    """

    def __init__(
        self,
        *,
        difference,
        threshold,
        epsilon,
        mode,
        rows,
        grad,
        gradapprox=None,
        directional_grad=None,
        directional_gradapprox=None,
        localized=False,
        cost=float("nan"),
        num_evaluations=0,
        evaluation="vectorized",
        notes=(),
    ):
        self.difference = float(difference)
        self.threshold = float(threshold)
        self.passed = bool(self.difference < self.threshold)
        self.verdict = verdict_for(self.difference)
        self.epsilon = float(epsilon)
        self.mode = mode
        self.rows = list(rows)
        self.grad = grad
        self.gradapprox = gradapprox
        self.directional_grad = directional_grad
        self.directional_gradapprox = directional_gradapprox
        self.localized = bool(localized)
        self.cost = float(cost)
        self.num_evaluations = int(num_evaluations)
        self.evaluation = evaluation
        self.notes = list(notes)

    @property
    def worst(self):
        """The row with the largest difference (the first place to look for a bug)."""
        return max(self.rows, key=lambda row: row.difference)

    @property
    def note(self):
        """All notes as one string."""
        return " ".join(self.notes)

    def __getitem__(self, name):
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"No row named {name!r}. Rows: {[row.name for row in self.rows]}")

    def _summary(self):
        status = "PASSED" if self.passed else "FAILED"
        return (
            f"Gradient check ({self.mode} mode, epsilon={self.epsilon:g}, threshold={self.threshold:g}): {status}; "
            f"difference = {self.difference:.3e} ({self.verdict})"
        )

    def _cells(self):
        worst = self.worst.name if not self.passed else None
        for row in self.rows:
            index = "-" if row.worst_index is None else str(tuple(int(i) for i in row.worst_index))
            mark = "<- worst" if row.name == worst else ""
            yield (
                row.name,
                str(row.shape),
                f"{row.difference:.3e}",
                f"{row.max_abs_error:.3e}",
                index,
                row.mode,
                "ok" if row.passed else "FAIL",
                mark,
            )

    _HEADER = ("name", "shape", "difference", "max abs error", "worst index", "checked", "", "")

    def __str__(self):
        cells = list(self._cells())
        widths = [max(len(self._HEADER[i]), *(len(c[i]) for c in cells)) for i in range(len(self._HEADER))]
        lines = [
            self._summary(),
            "  ".join(h.ljust(w) for h, w in zip(self._HEADER, widths, strict=True)).rstrip(),
        ]
        lines.append("  ".join("-" * w for w in widths[:6]))
        lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip() for cell in cells]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __repr__(self):
        return (
            f"<GradcheckReport mode={self.mode!r} difference={self.difference:.3e} passed={self.passed} "
            f"verdict={self.verdict!r} worst={self.worst.name!r}>"
        )

    def _repr_html_(self):
        color = "#1a7f37" if self.passed else "#cf222e"
        rows = "".join(
            "<tr{}>{}</tr>".format(
                "" if cell[6] == "ok" else ' style="background:#ffebe9"',
                "".join(f"<td>{html.escape(text)}</td>" for text in cell),
            )
            for cell in self._cells()
        )
        header = "".join(f"<th>{html.escape(text)}</th>" for text in self._HEADER)
        notes = "".join(f"<p><i>note:</i> {html.escape(note)}</p>" for note in self.notes)
        return (
            f'<p style="color:{color};font-weight:bold">{html.escape(self._summary())}</p>'
            f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>{notes}"
        )
