"""The result of a gradient check: one overall difference, a verdict, and one row per checked input.

Two numbers, from two places in the course ("Gradient Checking", Deep Learning Specialization, course 2):

- The pass/fail **threshold** is 2e-7 by default: the programming assignment's `if difference > 2e-7:` "There is
  a mistake in the backward propagation!" check. A check (or a row) passes when `difference < threshold`, or
  when its disagreement is only floating-point round-off (see `roundoff_tolerance`).
- The **verdict** is the lecture's rule of thumb at epsilon = 1e-7: about 1e-7 or less is great, around 1e-5
  means double-check the components, 1e-3 or more is almost certainly a bug (`verdict_for`). It describes the
  difference; it does not decide pass/fail.
"""

import dataclasses
import html

import numpy as np

# The pass/fail threshold: the DLS assignment's `difference > 2e-7` check.
DEFAULT_THRESHOLD = 2e-7
# The lecture's rule of thumb (verdict bands): difference < 1e-7 is great; [1e-7, 1e-3) -- around 1e-5 -- means
# double-check the components; >= 1e-3 is almost certainly a bug.
GREAT_BELOW = 1e-7
BUG_FROM = 1e-3
VERDICTS = ("great", "double-check", "almost certainly a bug")
# Allowance for rounding in evaluating J, in units of float64 machine epsilon times |J| (see `roundoff_tolerance`).
ROUNDOFF_ULPS = 100.0


def roundoff_tolerance(cost, epsilon):
    """The largest |grad - gradapprox| that float64 two-sided differences cannot tell from round-off.

    A float64 evaluation of J is off by a few units of its last place, k * eps * |J| (eps = 2.2e-16, machine
    epsilon), so J(theta + epsilon) - J(theta - epsilon) is off by up to 2 k eps |J| and the two-sided difference
    (J+ - J-) / (2 epsilon) by

    ```
    roundoff = k * eps * |J| / epsilon          (1e-9 * k for |J| = 0.5 at epsilon = 1e-7)
    ```

    whatever the true gradient. k = `ROUNDOFF_ULPS` = 100 allows for the rounding that a network's cost
    accumulates (sums over examples, log(1 - a) near a = 1): on the course's 3-layer test case the errors of a
    correct backward pass reach about 30 eps |J| / epsilon. An element whose gradient is below this bound (e.g.
    a bias gradient of 1e-12) is compared with pure noise, so its row's relative difference can be anything up
    to 1; its max abs error, though, stays within the bound. A real bug shows up as an error of order of the
    gradient itself (a factor 1.05 or a missing term on a gradient of 0.1 errs by 5e-3 or 0.1, far above the
    ~5e-7 allowed on the course's network), so it still fails. The bound assumes J is computed in float64 and
    is not a small difference of large terms (that loses more digits than |J| shows).

    Args:
        cost: Float. J at the unperturbed inputs.
        epsilon: Float. The perturbation size of the two-sided differences.

    Returns:
        A float >= 0 (0 for a non-finite cost).
    """
    bound = ROUNDOFF_ULPS * np.finfo(np.float64).eps * abs(float(cost)) / float(epsilon)
    return float(bound) if np.isfinite(bound) else 0.0


def passes(difference, max_abs_error, threshold, tolerance):
    """The pass rule of rows and reports: `difference < threshold`, or `max_abs_error <= tolerance` (round-off)."""
    return bool(difference < threshold or max_abs_error <= tolerance)


def verdict_for(difference):
    """The lecture's rule of thumb: "great" (< 1e-7), "double-check" ([1e-7, 1e-3)) or "almost certainly a bug".

    It describes a difference; whether a check passes is decided by its threshold (2e-7 by default) and the
    round-off allowance, not by these bands.
    """
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
        passed: Boolean. `difference < threshold`, or `max_abs_error <= roundoff` (the disagreement is only the
            round-off of float64 two-sided differences, see `roundoff_tolerance`). Shown as "ok" or "FAIL".
        mode: String. "full" (every element) or "fast" (random directions only).
        grad: Float64 array of `shape`. The analytic (GradientTape) gradient.
        gradapprox: Float64 array of `shape`, or None for a row checked only in fast mode.
        roundoff: Float. The round-off allowance on `max_abs_error` used for `passed`.
        threshold: Float. The threshold on `difference` used for `passed`.
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
    roundoff: float = 0.0
    threshold: float = DEFAULT_THRESHOLD

    @property
    def verdict(self):
        """This row's verdict: the lecture's rule of thumb on its difference (as the report's)."""
        return verdict_for(self.difference)

    @property
    def passed_by_roundoff(self):
        """True when the row passes only because its errors are within round-off (`difference >= threshold`)."""
        return self.passed and not self.difference < self.threshold

    @property
    def num_elements(self):
        return int(np.prod(self.shape, dtype=np.int64))


class GradcheckReport:
    """What `gradcheck` and `gradcheck_model` return: the overall verdict and where a gradient is wrong.

    `str(report)` is a text table and Jupyter renders the report as HTML. Read `report.worst` (the failing row
    with the largest difference) first when a check fails: "look at components to identify the bug".

    The check passes when `difference < threshold` (2e-7 by default, the DLS assignment's check), or when every
    error is within the round-off of float64 two-sided differences (`max_abs_error <= roundoff`, see
    `roundoff_tolerance`); each row applies the same rule to its own input. A row or check that passes only by
    the round-off rule is explained in `notes`. The verdict is the lecture's rule of thumb on `difference`.

    Attributes:
        difference: Float. ||grad - gradapprox||_2 / (||grad||_2 + ||gradapprox||_2) over all inputs
            concatenated (fast mode: over the directional derivatives g.u and their numerical estimates).
        passed: Boolean. `difference < threshold`, or `max_abs_error <= roundoff`.
        verdict: String. The lecture's rule of thumb: "great" (< 1e-7), "double-check" ([1e-7, 1e-3)) or
            "almost certainly a bug" (>= 1e-3).
        threshold, epsilon: Floats. The settings used.
        roundoff: Float. The round-off allowance on absolute errors: `roundoff_tolerance(cost, epsilon)`.
        max_abs_error: Float. The largest absolute error over all rows.
        mode: String. "full" or "fast".
        rows: List of `GradcheckRow`, one per input, in input order.
        grad: Float64 vector. The analytic gradients of all inputs, flattened and concatenated.
        gradapprox: Float64 vector like `grad`, or None in fast mode (see `rows` for the localized inputs).
        directional_grad, directional_gradapprox: Float64 vectors (fast mode) or None.
        localized: Boolean. Fast mode failed and the failing inputs were re-checked in full mode.
        cost: Float. J at the unperturbed inputs.
        num_evaluations: Integer. Perturbed cost evaluations made.
        evaluation: String. "vectorized", "loop" or "eager" (see `numerical_gradient`).
        notes: List of strings. Remarks (round-off passes, localization, float64 clone, evaluation fallback).
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
        roundoff=None,
    ):
        self.difference = float(difference)
        self.threshold = float(threshold)
        self.epsilon = float(epsilon)
        self.cost = float(cost)
        self.roundoff = roundoff_tolerance(self.cost, self.epsilon) if roundoff is None else float(roundoff)
        self.rows = list(rows)
        self.max_abs_error = max((row.max_abs_error for row in self.rows), default=0.0)
        self.passed = passes(self.difference, self.max_abs_error, self.threshold, self.roundoff)
        self.verdict = verdict_for(self.difference)
        self.mode = mode
        self.grad = grad
        self.gradapprox = gradapprox
        self.directional_grad = directional_grad
        self.directional_gradapprox = directional_gradapprox
        self.localized = bool(localized)
        self.num_evaluations = int(num_evaluations)
        self.evaluation = evaluation
        self.notes = self._roundoff_notes() + list(notes)

    def _roundoff_notes(self):
        names = [row.name for row in self.rows if row.passed_by_roundoff]
        if self.passed and not self.difference < self.threshold:
            names.insert(0, "the overall check")
        if not names:
            return []
        return [
            f"{', '.join(names)}: difference >= threshold {self.threshold:g}, but max abs error <= "
            f"{self.roundoff:.1e}, the round-off of float64 two-sided differences here ({ROUNDOFF_ULPS:g} * "
            f"machine eps * |J| / epsilon, |J| = {abs(self.cost):.3g}): round-off, not a bug, so ok."
        ]

    @property
    def worst(self):
        """The failing row with the largest difference (the first place to look for a bug); if none fails, the row
        with the largest difference."""
        return max(self.rows, key=lambda row: (not row.passed, row.difference))

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
