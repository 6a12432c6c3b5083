"""The record wire format: how a lab's hidden tests hand values to the autograder.

- `RECORD_ENV`: the environment variable naming the run's record file (set by the grader for a sandboxed run).
- `record` (writer, in the student's run): appends one JSON line `{"key", "value", "rtol", "atol"}` per call;
  `to_plain` turns arrays and tensors into tagged nested lists (`{"__ndarray__", "dtype", "shape"}`).
- `violation_line` (writer, `dlkit.grading.answer_guard` in the student's run): a refused call to a function
  that answers an exercise, `{"violation": {"exercise", "function"}}`.
- `read_records`, `read_violations` (readers, in the grader): read that file back defensively (the run may have
  written anything).
"""

import json
import numbers
import os
import stat

import numpy as np

RECORD_ENV = "DLKIT_GRADING_RECORD"


def to_plain(value):
    """Converts a value to JSON-ready data: NumPy arrays and tensors become tagged nested lists.

    Raises:
        ValueError: for a value that is not numbers, strings, booleans, None, arrays, tensors, or
            lists/tuples/dicts of those.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if hasattr(value, "numpy") and callable(value.numpy):  # tf.Tensor, tf.Variable, KerasVariable
        value = value.numpy()
    if isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            return {
                "__ndarray__": array.astype(float).tolist(),
                "dtype": str(array.dtype),
                "shape": list(array.shape),
            }
        if array.dtype.kind in "U":
            return {"__ndarray__": array.tolist(), "dtype": str(array.dtype), "shape": list(array.shape)}
    raise ValueError(
        "dlkit.grading.record accepts numbers, strings, booleans, None, NumPy arrays, tensors and "
        f"lists/tuples/dicts of those. Received: {type(value).__name__}"
    )


def record(key, value, *, rtol=1e-5, atol=1e-6):
    """Records one value for the autograder.

    Hidden tests in a lab's check cells call `record` on what a student's code computes for inputs the student
    never saw. `dlkit grade` collects these values from the sandboxed run of the submission and compares them,
    in its own process, with the values the instructor's solution records for the same keys (within
    `rtol`/`atol`, as `np.allclose`). Outside `dlkit grade` the call only validates the value, so the source
    notebook runs unchanged under Jupyter and nbval; in a notebook made by `dlkit export nbgrader` it also
    asserts the value against the one baked into the hidden tests (`dlkit.grading.expectations`). It returns
    None, so a check cell ending on it shows nothing (nbgrader would read a number there as partial credit).

    Example:

    >>> ### BEGIN HIDDEN TESTS
    >>> dlkit.grading.record("zeros_shapes", {k: v.shape for k, v in initialize_zeros([5, 4, 1]).items()})
    >>> ### END HIDDEN TESTS

    Args:
        key: String. Unique within the lab.
        value: Numbers, strings, booleans, None, NumPy arrays, tensors, or lists/tuples/dicts of those.
        rtol: Float >= 0. Relative tolerance for numbers.
        atol: Float >= 0. Absolute tolerance for numbers.

    Raises:
        ValueError: on an empty key, negative tolerances, or a value of another type.
        AssertionError: in an exported nbgrader notebook, when the value differs from the expected one.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"Argument `key` must be a non-empty string. Received: key={key!r}")
    for name, tolerance in (("rtol", rtol), ("atol", atol)):
        if not isinstance(tolerance, numbers.Real) or tolerance < 0:
            raise ValueError(f"Argument `{name}` must be a number >= 0. Received: {name}={tolerance!r}")
    plain = to_plain(value)
    path = os.environ.get(RECORD_ENV)
    if path:
        line = json.dumps({"key": key, "value": plain, "rtol": float(rtol), "atol": float(atol)})
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    from dlkit.grading import expectations  # here: records stays importable on its own

    expectations.check(key, json.loads(json.dumps(plain)))


def violation_line(exercise, function):
    """The record-file line of a refused call: `exercise` (grade_id or None) called `function` (dotted name)."""
    return json.dumps({"violation": {"exercise": exercise, "function": function}}) + "\n"


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


def _lines(path):
    """The JSON objects of a run's record file, skipping what cannot be one (see `read_records`)."""
    for line in read_run_file(path, MAX_RECORD_BYTES).splitlines():
        if len(line) > MAX_RECORD_LINE:
            continue
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):  # the parser raises RecursionError on deep nesting
            continue
        if isinstance(entry, dict) and _depth_ok(entry):
            yield entry


def read_violations(path):
    """Returns {exercise grade_id: [function, ...]} of the refused calls in a record file (see `violation_line`).

    A run writes these about itself, so a forged line only costs the run points; a missing one is no loss of
    safety (the guard also refused the call).
    """
    violations = {}
    for entry in _lines(path):
        found = entry.get("violation")
        if isinstance(found, dict) and isinstance(found.get("exercise"), str):
            function = found.get("function")
            violations.setdefault(found["exercise"], []).append(str(function)[:200])
    return violations


def read_records(path):
    """Returns {key: [record, ...]} from a JSON-lines record file, in file order.

    A submission may write anything into the file: only the first `MAX_RECORD_BYTES` are read, and lines that
    are malformed, longer than `MAX_RECORD_LINE`, nested deeper than `MAX_DEPTH` or not a record are skipped
    (a bad line costs at most the points of the key it claims). Each record is a dict with "key", "value", and
    "rtol"/"atol" (read only from the instructor's run).
    """
    records = {}
    for entry in _lines(path):
        if isinstance(entry.get("key"), str) and "value" in entry:
            records.setdefault(entry["key"], []).append(entry)
    return records
