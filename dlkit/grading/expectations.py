"""Hidden tests that assert on their own: expected values baked into a lab for engines that only run notebooks.

`dlkit grade` compares what the hidden tests record with a reference run in its own process. nbgrader only runs
the notebook and counts a check cell as failed if it raises. So `dlkit export nbgrader` writes, at the top of
each check cell's hidden tests, `dlkit.grading.expect('<JSON>')`: the values the source's own run recorded for
that cell's keys, with their tolerances. While expectations are set, `dlkit.grading.record(key, value)` compares
`value` with the expected one exactly as the grader does (`dlkit.grading.compare.values_match`) and

```
all-or-nothing cell:  raises AssertionError at the first mismatch (nbgrader: 0 points)
partial-credit cell:  remembers which keys matched; the cell ends with `dlkit.grading.earned()`, whose value
                      (points * matched weight / total weight) nbgrader reads as the cell's score
```

The messages never name a key or show a value (docs/grading.md: hidden tests are never named to students).
"""

import json
import numbers
import sys
import warnings

from dlkit.grading.compare import values_match

_state = {"values": {}, "weights": None, "points": None, "matched": {}}


def expect(spec):
    """Sets the expected values for the check cell that follows; replaces any earlier ones.

    Example:

    >>> dlkit.grading.expect('{"values": {"ex1_scale": [[3.0, 6.0], 1e-05, 1e-06]}}')

    Args:
        spec: JSON string (or dict) `{"values": {key: [value, rtol, atol]}}`, plus `"weights": {key: weight}`
            and `"points"` for a partial-credit cell. Values are as `record` writes them.

    Raises:
        ValueError: if `spec` is not of that form.
    """
    data = json.loads(spec) if isinstance(spec, str) else spec
    values = data.get("values") if isinstance(data, dict) else None
    valid = isinstance(values, dict) and all(
        isinstance(entry, list)
        and len(entry) == 3
        and all(isinstance(t, numbers.Real) and t >= 0 for t in entry[1:])
        for entry in values.values()
    )
    weights, points = (data.get("weights"), data.get("points")) if isinstance(data, dict) else (None, None)
    if weights is not None:
        valid = valid and isinstance(weights, dict) and set(weights) == set(values)
        valid = valid and isinstance(points, numbers.Real) and points >= 0
    if not valid:
        raise ValueError(
            "Argument `spec` must be {'values': {key: [value, rtol, atol]}} (plus 'weights' and 'points' for "
            f"partial credit). Received: {str(spec)[:120]}"
        )
    _state.update(values=values, weights=weights, points=points, matched={})


def check(key, plain):
    """Called by `record` with a value as it would be written: compares it if `key` is expected."""
    expected = _state["values"].get(key)
    if expected is None:
        return
    value, rtol, atol = expected
    matched = values_match(value, plain, rtol, atol)
    if _state["weights"] is not None:
        _state["matched"][key] = matched
    elif not matched:
        raise AssertionError(
            "a hidden test failed: your result differs from the solution's on inputs you did not see"
        )


def earned():
    """The points a partial-credit check cell has earned so far (its last expression, read by nbgrader).

    Returns:
        A float, or None when no partial-credit expectations are set (then the cell shows nothing).
    """
    weights = _state["weights"]
    if weights is None:
        return None
    share = sum(w for key, w in weights.items() if _state["matched"].get(key)) / sum(weights.values())
    return round(_state["points"] * share, 2)


def stderr_to_stdout():
    """Sends Python's stderr and warnings to stdout for the rest of the session.

    nbgrader scores a check cell 0 if it writes anything to stderr (nbgrader.utils.determine_grade), so a
    harmless NumPy or Keras warning would cost a correct answer its points; the exported notebook calls this in
    its setup cell. Errors still fail their cell.
    """
    sys.stderr = sys.stdout

    def show(message, category, filename, lineno, file=None, line=None):
        print(warnings.formatwarning(message, category, filename, lineno, line), end="", file=sys.stdout)

    warnings.showwarning = show
