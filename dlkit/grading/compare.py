"""Comparing a student's recorded values with the instructor's (values as `dlkit.grading.records` writes them)."""

import json
import math


def canonical(value):
    """A string that is equal for equal recorded values (for spotting a key recorded with different values)."""
    return json.dumps(value, sort_keys=True, allow_nan=True)


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _close(a, b, rtol, atol):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * abs(b)


def _is_array(value):
    return isinstance(value, dict) and "__ndarray__" in value


def _flat(nested):
    if isinstance(nested, list):
        for item in nested:
            yield from _flat(item)
    else:
        yield nested


def values_match(expected, actual, rtol, atol):
    """Whether `actual` equals `expected` (both as `record` wrote them): same structure and types, numbers
    within `abs(actual - expected) <= atol + rtol * abs(expected)` (`np.allclose`), NaN only where expected.

    Arrays must have the same shape; numeric arrays compare numerically whatever their dtype (int vs float),
    but booleans and strings must match exactly.
    """
    if _is_array(expected):
        # Plain comparison, no conversion: a forged "shape" of another type must not raise.
        if not _is_array(actual) or actual.get("shape") != expected.get("shape"):
            return False
        exp_kind, act_kind = str(expected.get("dtype", ""))[:1], str(actual.get("dtype", ""))[:1]
        if (exp_kind == "b") != (act_kind == "b"):
            return False
        exp_items, act_items = list(_flat(expected["__ndarray__"])), list(_flat(actual["__ndarray__"]))
        return len(exp_items) == len(act_items) and all(
            values_match(e, a, rtol, atol) for e, a in zip(exp_items, act_items, strict=True)
        )
    if _is_number(expected):
        return _is_number(actual) and _close(float(actual), float(expected), rtol, atol)
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or _is_array(actual) or set(actual) != set(expected):
            return False
        return all(values_match(expected[k], actual[k], rtol, atol) for k in expected)
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return False
        return all(values_match(e, a, rtol, atol) for e, a in zip(expected, actual, strict=True))
    # None, bool, str: exactly (True is not 1 here).
    return type(actual) is type(expected) and actual == expected
