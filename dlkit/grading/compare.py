"""Reading record files and comparing a student's recorded values with the instructor's."""

import json
import math
import os
import stat

# What a run may write is bounded when read: a submission could fill its record file with gigabytes, one
# enormous line, or JSON nested deeper than the parser's recursion limit.
MAX_RECORD_BYTES = 64 * 1024 * 1024
MAX_RECORD_LINE = 16 * 1024 * 1024
MAX_DEPTH = 64  # nesting of a recorded value; arrays of any sensible rank in dicts stay far below


def read_run_file(path, limit):
    """Reads at most `limit` bytes of a file a run wrote, as text; "" if it is not a regular file.

    Never follows a symlink and never blocks (a run could swap its file for a link to a secret or a FIFO).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return f.read(limit).decode("utf-8", errors="replace")


def _depth_ok(value, limit=MAX_DEPTH):
    """Whether `value` nests at most `limit` deep (iterative: a deep value must not exhaust the stack)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def read_records(path):
    """Returns {key: [record, ...]} from a JSON-lines record file, in file order.

    A submission may write anything into the file: only the first `MAX_RECORD_BYTES` are read, and lines that
    are malformed, longer than `MAX_RECORD_LINE`, nested deeper than `MAX_DEPTH` or not a record are skipped
    (a bad line costs at most the points of the key it claims). Each record is a dict with "key", "value", and
    "rtol"/"atol" (read only from the instructor's run).
    """
    records = {}
    for line in read_run_file(path, MAX_RECORD_BYTES).splitlines():
        if len(line) > MAX_RECORD_LINE:
            continue
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):  # the parser raises RecursionError on deep nesting
            continue
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("key"), str)
            and "value" in entry
            and _depth_ok(entry)
        ):
            records.setdefault(entry["key"], []).append(entry)
    return records


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
